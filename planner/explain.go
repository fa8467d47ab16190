package planner

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/quarrydb/quarry/planner/physical"
)

// describeNode is the one-line EXPLAIN text of a physical node.
func describeNode(n physical.Node) string {
	switch x := n.(type) {
	case *physical.ParquetScan:
		rgs, files := 0, len(x.Files)
		var rows int64
		for _, f := range x.Files {
			rgs += len(f.RowGroups)
			rows += f.Rows
		}
		cols := make([]string, len(x.Columns))
		for i, c := range x.Columns {
			cols[i] = c.Name
		}
		s := fmt.Sprintf("ParquetScan %s columns=[%s] files=%d row_groups=%d pruned=%d est_rows=%d",
			x.Table, strings.Join(cols, ", "), files, rgs, x.Pruned, rows)
		if x.Filter != nil {
			s += " filter=" + x.Filter.String()
		}
		if x.Limit >= 0 {
			s += fmt.Sprintf(" limit=%d", x.Limit)
		}
		return s
	case *physical.Values:
		var rows int64
		for _, b := range x.Batches {
			rows += b.NumRows()
		}
		return fmt.Sprintf("Values %s rows=%d", x.Name, rows)
	case *physical.Filter:
		return "Filter " + x.Pred.String()
	case *physical.Project:
		es := make([]string, len(x.Exprs))
		for i, e := range x.Exprs {
			es[i] = e.String()
		}
		return "Project " + strings.Join(es, ", ")
	case *physical.RecursiveUnion:
		op := "UNION ALL"
		if x.Distinct {
			op = "UNION"
		}
		return fmt.Sprintf("RecursiveUnion %s worktable=%d", op, x.WorkTable)
	case *physical.WorkTableScan:
		return fmt.Sprintf("WorkTableScan worktable=%d", x.WorkTable)
	case *physical.Series:
		out := fmt.Sprintf("Series series=%d", len(x.Series))
		if x.Outer {
			out += " outer"
		}
		return out
	case *physical.Expand:
		return fmt.Sprintf("Expand sets=%d columns=%d", len(x.Projections), x.Out.NumFields())
	case *physical.HashAggregate:
		gs := make([]string, len(x.GroupBy))
		for i, g := range x.GroupBy {
			gs[i] = g.String()
		}
		as := make([]string, len(x.Aggs))
		for i, a := range x.Aggs {
			arg := "*"
			if a.Arg != nil && x.Mode != physical.AggFinal {
				arg = a.Arg.String()
			} else if x.Mode == physical.AggFinal {
				arg = "state"
			}
			d := ""
			if a.Distinct {
				d = "DISTINCT "
			}
			as[i] = fmt.Sprintf("%s(%s%s)", a.Fn, d, arg)
		}
		return fmt.Sprintf("HashAggregate(%s) group=[%s] aggs=[%s]", x.Mode, strings.Join(gs, ", "), strings.Join(as, ", "))
	case *physical.Sort:
		return "Sort " + keysText(x.Keys, x.Input)
	case *physical.TopN:
		return fmt.Sprintf("TopN n=%d offset=%d %s", x.N, x.Offset, keysText(x.Keys, x.Input))
	case *physical.Limit:
		return fmt.Sprintf("Limit n=%d offset=%d", x.N, x.Offset)
	case *physical.ExchangeSource:
		if x.Port > 0 {
			return fmt.Sprintf("ExchangeSource fragment=%d port=%d", x.Fragment, x.Port)
		}
		return fmt.Sprintf("ExchangeSource fragment=%d", x.Fragment)
	case *physical.HashJoin:
		s := "HashJoin " + x.Type.String()
		if len(x.LeftKeys) > 0 {
			ks := make([]string, len(x.LeftKeys))
			for i := range x.LeftKeys {
				ks[i] = x.LeftKeys[i].String() + " = " + x.RightKeys[i].String()
			}
			s += " keys=[" + strings.Join(ks, ", ") + "]"
		}
		if x.Residual != nil {
			s += " residual=" + x.Residual.String()
		}
		if x.NullsEqual {
			s += " nulls-equal"
		}
		if x.MarkNullAware {
			s += " null-aware"
		}
		return s
	case *physical.Window:
		fs := make([]string, len(x.Funcs))
		for i, f := range x.Funcs {
			as := make([]string, len(f.Args))
			for j, a := range f.Args {
				as[j] = a.String()
			}
			fs[i] = fmt.Sprintf("%s(%s)", f.Fn, strings.Join(as, ", "))
		}
		return fmt.Sprintf("Window partition=%v order=[%s] funcs=[%s]", x.PartitionBy, keysText(x.OrderBy, x.Input), strings.Join(fs, ", "))
	case *physical.EnforceSingleRow:
		return "EnforceSingleRow"
	case *physical.UnionAll:
		return fmt.Sprintf("UnionAll inputs=%d", len(x.Inputs))
	}
	return fmt.Sprintf("%T", n)
}

func keysText(keys []physical.SortKey, in physical.Node) string {
	s := make([]string, len(keys))
	for i, k := range keys {
		d := "ASC"
		if k.Desc {
			d = "DESC"
		}
		nf := "NULLS LAST"
		if k.NullsFirst {
			nf = "NULLS FIRST"
		}
		s[i] = fmt.Sprintf("%s#%d %s %s", in.Schema().Field(k.Col).Name, k.Col, d, nf)
	}
	return strings.Join(s, ", ")
}

// Exchanged sums the rows and bytes that moved between the fragments of
// plan, from the figures of a run.
func Exchanged(plan *physical.Plan, stats map[int]physical.OperatorStats) (rows, bytes int64) {
	for _, f := range plan.Fragments {
		physical.Walk(f.Root, func(n physical.Node) {
			if _, ok := n.(*physical.ExchangeSource); ok {
				rows += stats[n.NodeID()].Rows
				bytes += stats[n.NodeID()].Bytes
			}
		})
	}
	return rows, bytes
}

// nodeShare is what the instances on one node did.
type nodeShare struct {
	node               string
	instances          int
	rows, bytes, nanos int64
}

// byNode sums instance figures per node, in node order.
func byNode(is []physical.InstanceStats) []*nodeShare {
	m := map[string]*nodeShare{}
	var out []*nodeShare
	for _, s := range is {
		sh, ok := m[s.Node]
		if !ok {
			sh = &nodeShare{node: s.Node}
			m[s.Node] = sh
			out = append(out, sh)
		}
		sh.instances++
		sh.rows += s.Rows
		sh.bytes += s.Bytes
		sh.nanos += s.Nanos
	}
	sort.Slice(out, func(i, j int) bool { return out[i].node < out[j].node })
	return out
}

// describeInstances tells how an operator's work spread over its
// instances: the skew (the largest instance's rows over the median's) and
// each node's share.
func describeInstances(is []physical.InstanceStats) string {
	rows := make([]int64, len(is))
	for i, s := range is {
		rows[i] = s.Rows
	}
	slices.Sort(rows)
	median := rows[(len(rows)-1)/2]
	skew := "-"
	if median > 0 {
		skew = fmt.Sprintf("%.2f", float64(rows[len(rows)-1])/float64(median))
	}
	var parts []string
	for _, sh := range byNode(is) {
		parts = append(parts, fmt.Sprintf("%s: rows=%d bytes=%s time=%s", sh.node, sh.rows, formatBytes(sh.bytes), time.Duration(sh.nanos).Round(time.Microsecond)))
	}
	return fmt.Sprintf("[instances=%d skew(max/median rows)=%s; %s]", len(is), skew, strings.Join(parts, "; "))
}

// describeNodes lists the nodes instances ran on, with their counts.
func describeNodes(is []physical.InstanceStats) string {
	if len(is) == 0 {
		return "-"
	}
	var parts []string
	for _, sh := range byNode(is) {
		parts = append(parts, fmt.Sprintf("%s×%d", sh.node, sh.instances))
	}
	return strings.Join(parts, ", ")
}

// formatBytes renders n bytes with a binary unit.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f%ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// explain renders the fragments root first, each operator with its ID and,
// when stats are given, the rows, batches and time it took.
func explain(stmt *Statement, stats map[int]physical.OperatorStats) string {
	if stmt == nil || stmt.Plan == nil {
		return ""
	}
	var b strings.Builder
	frags := stmt.Plan.Fragments
	for i := len(frags) - 1; i >= 0; i-- {
		f := frags[i]
		par := "parallel"
		if f.Parallelism == 1 {
			par = "single"
		}
		dest := "client"
		if len(f.Ports) > 1 {
			dest = "shared by fragments " + strings.Trim(fmt.Sprint(f.Ports), "[]")
		} else if f.Consumer >= 0 {
			dest = fmt.Sprintf("fragment %d", f.Consumer)
		}
		fmt.Fprintf(&b, "Fragment %d [%s] → %s (%s)", f.ID, par, dest, f.Output)
		if stats != nil {
			// Where its instances ran and what it sent on, from its top
			// operator's figures.
			s := stats[f.Root.NodeID()]
			fmt.Fprintf(&b, "  (out rows=%d bytes=%s; ran on %s)", s.Rows, formatBytes(s.Bytes), describeNodes(s.Instances))
		}
		b.WriteByte('\n')
		var walk func(n physical.Node, depth int)
		walk = func(n physical.Node, depth int) {
			fmt.Fprintf(&b, "%s%s", strings.Repeat("  ", depth+1), describeNode(n))
			if stats != nil {
				s := stats[n.NodeID()]
				fmt.Fprintf(&b, "  (rows=%d batches=%d bytes=%s time=%s)", s.Rows, s.Batches, formatBytes(s.Bytes), time.Duration(s.Nanos).Round(time.Microsecond))
				if len(s.Instances) > 1 {
					fmt.Fprintf(&b, "\n%s  %s", strings.Repeat("  ", depth+1), describeInstances(s.Instances))
				}
			}
			b.WriteByte('\n')
			for _, c := range n.Children() {
				walk(c, depth+1)
			}
		}
		walk(f.Root, 0)
	}
	if stats != nil {
		rows, bytes := Exchanged(stmt.Plan, stats)
		fmt.Fprintf(&b, "Exchanged between fragments: rows=%d bytes=%s\n", rows, formatBytes(bytes))
	}
	if len(stmt.Rules) > 0 {
		names := make([]string, 0, len(stmt.Rules))
		for n := range stmt.Rules {
			names = append(names, n)
		}
		sort.Strings(names)
		b.WriteString("Rules fired: " + strings.Join(names, ", ") + "\n")
	}
	return b.String()
}
