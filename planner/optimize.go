package planner

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quarrydb/quarry/planner/physical"
)

// A rule rewrites one node of a logical plan; it reports whether it changed
// anything. Rules are applied bottom-up over the whole tree until none fires.
type rule struct {
	name  string
	apply func(o *optimizer, n LNode) (LNode, bool)
}

// Rule names, usable in Planner.Disabled.
const (
	RuleConstantFolding    = "constant_folding"
	RulePredicatePushdown  = "predicate_pushdown"
	RuleLimitPushdown      = "limit_pushdown"
	RuleProjectionPruning  = "projection_pruning"
	RuleRowGroupPruning    = "row_group_pruning"
	RuleMergeProjections   = "merge_projections"
	RuleRemoveTrivialNodes = "remove_trivial_nodes"
)

var normalizeRules = []rule{
	{RuleConstantFolding, foldConstants},
	{RulePredicatePushdown, pushDownPredicates},
	{RuleLimitPushdown, pushDownLimit},
	{RuleRemoveTrivialNodes, removeTrivialNodes},
}

type optimizer struct {
	p     *Planner
	b     *binder
	fired map[string]int
	err   error
}

// optimize runs the rule phases over a bound plan.
func (o *optimizer) optimize(n LNode) (LNode, error) {
	want := n.Columns()
	for iter := 0; iter < 20; iter++ {
		changed := false
		for _, r := range normalizeRules {
			if o.p.Disabled[r.name] {
				continue
			}
			next, ch := transformUp(n, func(x LNode) (LNode, bool) { return r.apply(o, x) })
			if o.err != nil {
				return nil, o.err
			}
			if ch {
				if err := checkSchema(r.name, want, next.Columns()); err != nil {
					return nil, err
				}
				o.fired[r.name]++
				n, changed = next, true
			}
		}
		if !changed {
			break
		}
	}
	if !o.p.Disabled[RuleProjectionPruning] {
		next, ch := pruneColumns(n, nil)
		if ch {
			o.fired[RuleProjectionPruning]++
		}
		if err := checkSchema(RuleProjectionPruning, want, next.Columns()); err != nil {
			return nil, err
		}
		n = next
	}
	return n, nil
}

func checkSchema(rule string, want, got []Column) error {
	if len(want) != len(got) {
		return fmt.Errorf("optimizer rule %s changed the output from %d to %d columns", rule, len(want), len(got))
	}
	for i := range want {
		if want[i].ID != got[i].ID || !arrow.TypeEqual(want[i].T, got[i].T) {
			return fmt.Errorf("optimizer rule %s changed output column %d (%s)", rule, i, want[i].Name)
		}
	}
	return nil
}

// transformUp rewrites the tree bottom-up with fn.
func transformUp(n LNode, fn func(LNode) (LNode, bool)) (LNode, bool) {
	changed := false
	ins := n.Inputs()
	if len(ins) > 0 {
		newIns := make([]LNode, len(ins))
		for i, c := range ins {
			nc, ch := transformUp(c, fn)
			newIns[i] = nc
			changed = changed || ch
		}
		if changed {
			n = n.WithInputs(newIns)
		}
	}
	out, ch := fn(n)
	return out, changed || ch
}

// nodeExprs returns the expressions a node holds and a function that builds
// the node with replacements.
func nodeExprs(n LNode) ([]Expr, func([]Expr) LNode) {
	switch n := n.(type) {
	case *LFilter:
		return []Expr{n.Pred}, func(es []Expr) LNode { c := *n; c.Pred = es[0]; return &c }
	case *LProject:
		return n.Exprs, func(es []Expr) LNode { c := *n; c.Exprs = es; return &c }
	case *LScan:
		return n.Filters, func(es []Expr) LNode { c := *n; c.Filters = es; return &c }
	case *LAggregate:
		es := append([]Expr{}, n.GroupBy...)
		for _, a := range n.Aggs {
			if a.Arg != nil {
				es = append(es, a.Arg)
			}
		}
		return es, func(es []Expr) LNode {
			c := *n
			c.GroupBy = es[:len(n.GroupBy)]
			c.Aggs = append([]AggExpr{}, n.Aggs...)
			k := len(n.GroupBy)
			for i := range c.Aggs {
				if c.Aggs[i].Arg != nil {
					c.Aggs[i].Arg = es[k]
					k++
				}
			}
			return &c
		}
	case *LSort:
		es := make([]Expr, len(n.Items))
		for i, it := range n.Items {
			es[i] = it.Expr
		}
		return es, func(es []Expr) LNode {
			c := *n
			c.Items = append([]SortItem{}, n.Items...)
			for i := range c.Items {
				c.Items[i].Expr = es[i]
			}
			return &c
		}
	}
	return nil, nil
}

// ---- constant folding ----

func foldConstants(o *optimizer, n LNode) (LNode, bool) {
	exprs, rebuild := nodeExprs(n)
	if rebuild == nil {
		return n, false
	}
	changed := false
	out := make([]Expr, len(exprs))
	for i, e := range exprs {
		out[i] = transformExpr(e, func(x Expr) Expr {
			y := o.foldExpr(x)
			if y != x {
				changed = true
			}
			return y
		})
	}
	if !changed {
		return n, false
	}
	return rebuild(out), true
}

// foldExpr simplifies one expression node whose arguments are already
// folded.
func (o *optimizer) foldExpr(e Expr) Expr {
	switch x := e.(type) {
	case *Const, *ColRef, *aggCall:
		return e
	case *Func:
		switch x.Fn {
		case physical.FnAnd, physical.FnOr:
			// x AND true = x, x AND false = false; x OR true = true, x OR false = x.
			absorbing := x.Fn == physical.FnOr
			for i, a := range x.Arg {
				if c, ok := a.(*Const); ok && c.Value != nil {
					if c.Value.(bool) == absorbing {
						return &Const{Value: absorbing, T: physical.Boolean}
					}
					return x.Arg[1-i]
				}
			}
		}
	}
	if !isConst(e) || o.p.Eval == nil {
		return e
	}
	pe, err := toPhysicalExpr(e, nil)
	if err != nil {
		return e
	}
	v, err := o.p.Eval(pe)
	if err != nil {
		// Leave it for execution, which reports the error when (and only
		// if) a row needs it.
		return e
	}
	return &Const{Value: v, T: e.Type()}
}

// ---- predicate pushdown ----

func pushDownPredicates(o *optimizer, n LNode) (LNode, bool) {
	f, ok := n.(*LFilter)
	if !ok {
		return n, false
	}
	switch in := f.Input.(type) {
	case *LFilter:
		return &LFilter{Input: in.Input, Pred: andAll([]Expr{in.Pred, f.Pred})}, true
	case *LScan:
		c := *in
		c.Filters = append(append([]Expr{}, in.Filters...), conjuncts(f.Pred)...)
		return &c, true
	case *LSort:
		return &LSort{Input: &LFilter{Input: in.Input, Pred: f.Pred}, Items: in.Items}, true
	case *LProject:
		sub := map[ColumnID]Expr{}
		for i, c := range in.Cols {
			sub[c.ID] = in.Exprs[i]
		}
		pred := transformExpr(f.Pred, func(x Expr) Expr {
			if c, ok := x.(*ColRef); ok {
				if r, ok := sub[c.ID]; ok {
					return r
				}
			}
			return x
		})
		c := *in
		c.Input = &LFilter{Input: in.Input, Pred: pred}
		return &c, true
	case *LAggregate:
		if len(in.GroupBy) == 0 {
			return n, false
		}
		sub := map[ColumnID]Expr{}
		for i, g := range in.GroupBy {
			sub[in.Cols[i].ID] = g
		}
		var below, above []Expr
		for _, cj := range conjuncts(f.Pred) {
			used := map[ColumnID]bool{}
			columnsUsed(cj, used)
			ok := true
			for id := range used {
				if _, g := sub[id]; !g {
					ok = false
				}
			}
			if !ok {
				above = append(above, cj)
				continue
			}
			below = append(below, transformExpr(cj, func(x Expr) Expr {
				if c, ok := x.(*ColRef); ok {
					if r, ok := sub[c.ID]; ok {
						return r
					}
				}
				return x
			}))
		}
		if len(below) == 0 {
			return n, false
		}
		c := *in
		c.Input = &LFilter{Input: in.Input, Pred: andAll(below)}
		if len(above) == 0 {
			return &c, true
		}
		return &LFilter{Input: &c, Pred: andAll(above)}, true
	}
	return n, false
}

// ---- limit pushdown ----

func pushDownLimit(o *optimizer, n LNode) (LNode, bool) {
	l, ok := n.(*LLimit)
	if !ok || l.N < 0 {
		return n, false
	}
	switch in := l.Input.(type) {
	case *LProject:
		c := *in
		c.Input = &LLimit{Input: in.Input, Offset: l.Offset, N: l.N}
		return &c, true
	case *LLimit:
		// Limit of a limit: combine.
		off := in.Offset + l.Offset
		nn := l.N
		if in.N >= 0 {
			nn = max(0, min(l.N, in.N-l.Offset))
		}
		return &LLimit{Input: in.Input, Offset: off, N: nn}, true
	case *LScan:
		if len(in.Filters) == 0 && (in.Limit < 0 || in.Limit > l.Offset+l.N) {
			c := *in
			c.Limit = l.Offset + l.N
			return &LLimit{Input: &c, Offset: l.Offset, N: l.N}, true
		}
	}
	return n, false
}

// ---- trivial nodes ----

func removeTrivialNodes(o *optimizer, n LNode) (LNode, bool) {
	switch x := n.(type) {
	case *LFilter:
		if c, ok := x.Pred.(*Const); ok {
			if c.Value == true {
				return x.Input, true
			}
			// Always false or NULL: no rows.
			return &LValues{Cols: x.Columns()}, true
		}
	case *LLimit:
		if x.N < 0 && x.Offset == 0 {
			return x.Input, true
		}
	case *LProject:
		// A projection that only repeats its input's columns.
		in := x.Input.Columns()
		if len(in) == len(x.Exprs) {
			for i, e := range x.Exprs {
				c, ok := e.(*ColRef)
				if !ok || c.ID != in[i].ID || x.Cols[i].ID != in[i].ID {
					return n, false
				}
			}
			return x.Input, true
		}
	}
	return n, false
}

// ---- projection pruning ----

// pruneColumns removes columns nobody above needs. required nil means all
// output columns are required (the root).
func pruneColumns(n LNode, required map[ColumnID]bool) (LNode, bool) {
	need := func(c Column) bool { return required == nil || required[c.ID] }
	switch x := n.(type) {
	case *LScan:
		var cols []Column
		var ords []int
		used := map[ColumnID]bool{}
		for _, f := range x.Filters {
			columnsUsed(f, used)
		}
		for i, c := range x.Cols {
			if need(c) || used[c.ID] {
				cols = append(cols, c)
				ords = append(ords, x.Ordinals[i])
			}
		}
		if len(cols) == 0 && len(x.Cols) > 0 {
			// Something must be read to count rows: the cheapest column.
			k := cheapestColumn(x.Cols)
			cols, ords = []Column{x.Cols[k]}, []int{x.Ordinals[k]}
		}
		if len(cols) == len(x.Cols) {
			return x, false
		}
		c := *x
		c.Cols, c.Ordinals = cols, ords
		return &c, true
	case *LValues:
		return x, false
	case *LFilter:
		req := copySet(required, x.Columns())
		columnsUsed(x.Pred, req)
		in, ch := pruneColumns(x.Input, req)
		if !ch {
			return x, false
		}
		return &LFilter{Input: in, Pred: x.Pred}, true
	case *LProject:
		c := *x
		changed := false
		if required != nil {
			c.Exprs, c.Cols = nil, nil
			for i, col := range x.Cols {
				if required[col.ID] {
					c.Exprs = append(c.Exprs, x.Exprs[i])
					c.Cols = append(c.Cols, col)
				}
			}
			changed = len(c.Cols) != len(x.Cols)
		}
		req := map[ColumnID]bool{}
		for _, e := range c.Exprs {
			columnsUsed(e, req)
		}
		in, ch := pruneColumns(x.Input, req)
		c.Input = in
		return &c, changed || ch
	case *LAggregate:
		req := map[ColumnID]bool{}
		for _, g := range x.GroupBy {
			columnsUsed(g, req)
		}
		for _, a := range x.Aggs {
			if a.Arg != nil {
				columnsUsed(a.Arg, req)
			}
		}
		in, ch := pruneColumns(x.Input, req)
		if !ch {
			return x, false
		}
		c := *x
		c.Input = in
		return &c, true
	case *LSort:
		req := copySet(required, x.Columns())
		for _, it := range x.Items {
			columnsUsed(it.Expr, req)
		}
		in, ch := pruneColumns(x.Input, req)
		if !ch {
			return x, false
		}
		return &LSort{Input: in, Items: x.Items}, true
	case *LLimit:
		in, ch := pruneColumns(x.Input, copySet(required, x.Columns()))
		if !ch {
			return x, false
		}
		c := *x
		c.Input = in
		return &c, true
	}
	return n, false
}

// copySet returns a copy of required, or all of cols when required is nil.
func copySet(required map[ColumnID]bool, cols []Column) map[ColumnID]bool {
	out := map[ColumnID]bool{}
	if required == nil {
		for _, c := range cols {
			out[c.ID] = true
		}
		return out
	}
	for k, v := range required {
		out[k] = v
	}
	return out
}

func cheapestColumn(cols []Column) int {
	best, bestW := 0, 1<<30
	for i, c := range cols {
		w := 16
		if fw, ok := c.T.(arrow.FixedWidthDataType); ok {
			w = fw.BitWidth()
		}
		if w < bestW {
			best, bestW = i, w
		}
	}
	return best
}
