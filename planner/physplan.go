package planner

import (
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// toPhysicalExpr converts a logical expression over cols (ColRefs resolve to
// positions in cols) into a physical one.
func toPhysicalExpr(e Expr, cols []Column) (physical.Expr, error) {
	switch x := e.(type) {
	case *ColRef:
		for i, c := range cols {
			if c.ID == x.ID {
				return &physical.ColRef{Index: i, T: x.T, Name: x.Name}, nil
			}
		}
		return nil, fmt.Errorf("internal error: column %s#%d not found in input", x.Name, x.ID)
	case *Const:
		return &physical.Literal{Value: x.Value, T: x.T}, nil
	case *Func:
		args := make([]physical.Expr, len(x.Arg))
		for i, a := range x.Arg {
			pa, err := toPhysicalExpr(a, cols)
			if err != nil {
				return nil, err
			}
			args[i] = pa
		}
		return &physical.Call{Fn: x.Fn, Args: args, T: x.T}, nil
	case *CaseExpr:
		c := &physical.Case{T: x.T}
		for i := range x.Whens {
			w, err := toPhysicalExpr(x.Whens[i], cols)
			if err != nil {
				return nil, err
			}
			t, err := toPhysicalExpr(x.Thens[i], cols)
			if err != nil {
				return nil, err
			}
			c.Whens, c.Thens = append(c.Whens, w), append(c.Thens, t)
		}
		el, err := toPhysicalExpr(x.Else, cols)
		if err != nil {
			return nil, err
		}
		c.Else = el
		return c, nil
	}
	if _, ok := e.(*seriesCall); ok {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "set-returning functions are not allowed here: %s", e)
	}
	return nil, fmt.Errorf("internal error: cannot execute expression %s", e)
}

func schemaOf(cols []Column) *arrow.Schema {
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: c.Name, Type: c.T, Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}

// physBuilder turns an optimized logical plan into fragments.
type physBuilder struct {
	p      *Planner
	nextID int
	frags  []*physical.Fragment
	pruned map[string]int // rule statistics for EXPLAIN
	fired  map[string]int
	reuse  *reuseTracker      // planning a generic plan
	shared map[*sharedCTE]int // fragment of each shared WITH query built
	// serial > 0 while the step of a recursive query is built: it runs
	// in one instance, again for each pass, so nothing in it is cut into
	// fragments (scans say they are not parallel).
	serial int
}

func (pb *physBuilder) base(cols []Column) physical.Base {
	pb.nextID++
	return physical.Base{ID: pb.nextID, Out: schemaOf(cols)}
}

// cut ends a parallel subtree: it becomes a fragment whose instances send
// their output to one consumer, and the consumer reads an exchange.
func (pb *physBuilder) cut(n physical.Node) physical.Node {
	id := len(pb.frags)
	pb.frags = append(pb.frags, &physical.Fragment{ID: id, Root: n, Consumer: -1, Output: physical.Gather})
	pb.nextID++
	return &physical.ExchangeSource{Base: physical.Base{ID: pb.nextID, Out: n.Schema()}, Fragment: id}
}

// build returns the physical node for n and whether it runs in parallel
// instances (true) or as a single instance.
func (pb *physBuilder) build(n LNode) (physical.Node, bool, error) {
	switch x := n.(type) {
	case *LScan:
		return pb.buildScan(x)
	case *LValues:
		rec, err := valuesRecord(x)
		if err != nil {
			return nil, false, err
		}
		var batches []arrow.Record
		if rec != nil {
			batches = []arrow.Record{rec}
		}
		return &physical.Values{Base: pb.base(x.Cols), Name: "values", Batches: batches}, false, nil
	case *LFilter:
		in, par, err := pb.build(x.Input)
		if err != nil {
			return nil, false, err
		}
		pred, err := toPhysicalExpr(x.Pred, x.Input.Columns())
		if err != nil {
			return nil, false, err
		}
		return &physical.Filter{Base: pb.base(x.Columns()), Input: in, Pred: pred}, par, nil
	case *LProject:
		in, par, err := pb.build(x.Input)
		if err != nil {
			return nil, false, err
		}
		exprs := make([]physical.Expr, len(x.Exprs))
		for i, e := range x.Exprs {
			if exprs[i], err = toPhysicalExpr(e, x.Input.Columns()); err != nil {
				return nil, false, err
			}
		}
		return &physical.Project{Base: pb.base(x.Cols), Input: in, Exprs: exprs}, par, nil
	case *LExpand:
		in, par, err := pb.build(x.Input)
		if err != nil {
			return nil, false, err
		}
		ex := &physical.Expand{Base: pb.base(x.Cols), Input: in}
		for _, p := range x.Exprs {
			exprs := make([]physical.Expr, len(p))
			for i, e := range p {
				if exprs[i], err = toPhysicalExpr(e, x.Input.Columns()); err != nil {
					return nil, false, err
				}
			}
			ex.Projections = append(ex.Projections, exprs)
		}
		return ex, par, nil
	case *LAggregate:
		return pb.buildAggregate(x)
	case *LJoin:
		return pb.buildJoin(x)
	case *LWindow:
		return pb.buildWindow(x)
	case *LSharedRef:
		return pb.buildSharedRef(x)
	case *LSeries:
		return pb.buildSeries(x)
	case *LRecursive:
		return pb.buildRecursive(x)
	case *LWorkTable:
		return &physical.WorkTableScan{Base: pb.base(x.Cols), WorkTable: x.Work.id}, false, nil
	case *LSingleRow:
		in, par, err := pb.build(x.Input)
		if err != nil {
			return nil, false, err
		}
		if par {
			in = pb.cut(in)
		}
		return &physical.EnforceSingleRow{Base: pb.base(x.Columns()), Input: in}, false, nil
	case *LUnion:
		var ins []physical.Node
		for _, in := range x.Ins {
			pn, par, err := pb.build(in)
			if err != nil {
				return nil, false, err
			}
			if par {
				pn = pb.cut(pn)
			}
			ins = append(ins, pn)
		}
		return &physical.UnionAll{Base: pb.base(x.Cols), Inputs: ins}, false, nil
	case *LSort:
		in, par, err := pb.build(x.Input)
		if err != nil {
			return nil, false, err
		}
		keys, err := sortKeys(x.Items, x.Input.Columns())
		if err != nil {
			return nil, false, err
		}
		if par {
			in = pb.cut(in)
		}
		return &physical.Sort{Base: pb.base(x.Columns()), Input: in, Keys: keys}, false, nil
	case *LLimit:
		if s, ok := x.Input.(*LSort); ok && x.N >= 0 {
			in, par, err := pb.build(s.Input)
			if err != nil {
				return nil, false, err
			}
			keys, err := sortKeys(s.Items, s.Input.Columns())
			if err != nil {
				return nil, false, err
			}
			if par {
				// Each instance keeps its own top rows; the final TopN merges.
				partial := &physical.TopN{Base: pb.base(x.Columns()), Input: in, Keys: keys, N: x.Offset + x.N}
				in = pb.cut(partial)
			}
			return &physical.TopN{Base: pb.base(x.Columns()), Input: in, Keys: keys, Offset: x.Offset, N: x.N}, false, nil
		}
		in, par, err := pb.build(x.Input)
		if err != nil {
			return nil, false, err
		}
		if par {
			if x.N >= 0 {
				in = &physical.Limit{Base: pb.base(x.Columns()), Input: in, N: x.Offset + x.N}
			}
			in = pb.cut(in)
		}
		return &physical.Limit{Base: pb.base(x.Columns()), Input: in, Offset: x.Offset, N: x.N}, false, nil
	}
	return nil, false, fmt.Errorf("internal error: no physical plan for %T", n)
}

func sortKeys(items []SortItem, cols []Column) ([]physical.SortKey, error) {
	keys := make([]physical.SortKey, len(items))
	for i, it := range items {
		c, ok := it.Expr.(*ColRef)
		if !ok {
			return nil, fmt.Errorf("internal error: sort key %s is not a column", it.Expr)
		}
		idx := -1
		for j, col := range cols {
			if col.ID == c.ID {
				idx = j
			}
		}
		if idx < 0 {
			return nil, fmt.Errorf("internal error: sort column %s not found", c.Name)
		}
		keys[i] = physical.SortKey{Col: idx, Desc: it.Desc, NullsFirst: it.NullsFirst}
	}
	return keys, nil
}

func (pb *physBuilder) buildAggregate(x *LAggregate) (physical.Node, bool, error) {
	in, par, err := pb.build(x.Input)
	if err != nil {
		return nil, false, err
	}
	inCols := x.Input.Columns()
	groupBy := make([]physical.Expr, len(x.GroupBy))
	for i, g := range x.GroupBy {
		if groupBy[i], err = toPhysicalExpr(g, inCols); err != nil {
			return nil, false, err
		}
	}
	aggs := make([]physical.AggCall, len(x.Aggs))
	distinct := false
	for i, a := range x.Aggs {
		aggs[i] = physical.AggCall{Fn: a.Fn, Distinct: a.Distinct, T: a.T, Separator: a.Sep, Fraction: a.Frac}
		if a.Arg != nil {
			if aggs[i].Arg, err = toPhysicalExpr(a.Arg, inCols); err != nil {
				return nil, false, err
			}
		}
		distinct = distinct || a.Distinct || physical.SinglePhase(a.Fn)
	}
	if !par {
		return &physical.HashAggregate{Base: pb.base(x.Cols), Input: in, Mode: physical.AggSingle, GroupBy: groupBy, Aggs: aggs}, false, nil
	}
	partitioned := pb.partitionAggregate(x)
	if distinct {
		if partitioned {
			// Each instance owns the groups whose keys hash to it.
			in = pb.cutPartitioned(in, groupBy)
			pb.fired[RulePartitionedAggregate]++
		} else {
			in = pb.cut(in)
		}
		return &physical.HashAggregate{Base: pb.base(x.Cols), Input: in, Mode: physical.AggSingle, GroupBy: groupBy, Aggs: aggs}, partitioned, nil
	}
	// Partial aggregation in every scan instance, final after the gather.
	var partialFields []arrow.Field
	for i, g := range x.GroupBy {
		partialFields = append(partialFields, arrow.Field{Name: x.Cols[i].Name, Type: g.Type(), Nullable: true})
	}
	for i := range aggs {
		partialFields = append(partialFields, aggs[i].StateFields()...)
	}
	pb.nextID++
	partial := &physical.HashAggregate{
		Base:  physical.Base{ID: pb.nextID, Out: arrow.NewSchema(partialFields, nil)},
		Input: in, Mode: physical.AggPartial, GroupBy: groupBy, Aggs: aggs,
	}
	var ex physical.Node
	if partitioned {
		// Many groups: the final aggregate runs in parallel, each instance
		// owning the groups whose keys hash to it, instead of merging every
		// partial state in one.
		keys := make([]int, len(groupBy))
		for i := range keys {
			keys[i] = i
		}
		ex = pb.cutTo(partial, physical.HashPartition, keys)
		pb.fired[RulePartitionedAggregate]++
	} else {
		ex = pb.cut(partial)
	}
	finalKeys := make([]physical.Expr, len(groupBy))
	for i, g := range x.GroupBy {
		finalKeys[i] = &physical.ColRef{Index: i, T: g.Type(), Name: x.Cols[i].Name}
	}
	return &physical.HashAggregate{Base: pb.base(x.Cols), Input: ex, Mode: physical.AggFinal, GroupBy: finalKeys, Aggs: aggs}, partitioned, nil
}

// RulePartitionedAggregate runs the final phase of a grouped aggregate
// (or a DISTINCT or single-phase one) in parallel over hash partitions of
// the group keys when many groups are expected.
const RulePartitionedAggregate = "partitioned_aggregate"

// DefaultPartitionGroups is the estimated number of groups from which a
// grouped aggregate's final phase is partitioned.
const DefaultPartitionGroups = 10000

// partitionAggregate decides whether x's final phase runs partitioned: it
// has group keys, there is more than one instance to spread it over, and
// statistics promise enough groups to keep them busy.
func (pb *physBuilder) partitionAggregate(x *LAggregate) bool {
	if len(x.GroupBy) == 0 || pb.p.Disabled[RulePartitionedAggregate] || pb.instances() < 2 {
		return false
	}
	min := float64(pb.p.PartitionGroups)
	if min == 0 {
		min = DefaultPartitionGroups
	}
	return estimateGroups(x) >= min
}

// estimateGroups is the number of groups of x: the product of its keys'
// distinct counts, at most its input rows.
func estimateGroups(x *LAggregate) float64 {
	in := estimateRows(x.Input)
	g := 1.0
	for _, k := range x.GroupBy {
		g *= exprNDV(k, []LNode{x.Input}, in)
		if g >= in {
			return in
		}
	}
	return g
}

func (pb *physBuilder) buildScan(x *LScan) (physical.Node, bool, error) {
	ds := x.Dataset
	if ds.Kind == catalog.MemoryDataset {
		return pb.buildMemoryScan(x)
	}
	nFile := ds.Schema.NumFields() - len(ds.PartitionColumns)
	scan := &physical.ParquetScan{Base: pb.base(x.Cols), Table: x.Name, Limit: x.Limit}
	for i, c := range x.Cols {
		ord := x.Ordinals[i]
		sc := physical.ScanColumn{Name: c.Name, FileColumn: -1, T: c.T}
		if ord >= nFile {
			sc.Partition = ord - nFile
		} else if len(ds.Files) > 0 {
			sc.FileColumn = ds.Files[0].ColumnIndex[ord]
			for _, f := range ds.Files[1:] {
				if f.ColumnIndex[ord] != sc.FileColumn {
					return nil, false, sqlerr.New(sqlerr.FeatureNotSupported,
						"files of %s have column %s at different positions; rewrite them with one schema", x.Name, c.Name)
				}
			}
		}
		scan.Columns = append(scan.Columns, sc)
	}
	if len(x.Filters) > 0 {
		f, err := toPhysicalExpr(andAll(x.Filters), x.Cols)
		if err != nil {
			return nil, false, err
		}
		scan.Filter = f
	}
	scan.Files, scan.Pruned = pruneFiles(x, ds, nFile, !pb.p.Disabled[RuleRowGroupPruning])
	if scan.Pruned > 0 {
		pb.fired[RuleRowGroupPruning]++
	}
	if pb.reuse != nil && slices.ContainsFunc(x.Filters, readsParams) {
		pb.reuse.scans[scan.ID] = scanSource{x: x, ds: ds, nFile: nFile}
	}
	return scan, pb.serial == 0, nil
}

// pruneFiles lists the row groups of ds that x reads: those its filters
// do not exclude by statistics (all when prune is false).
func pruneFiles(x *LScan, ds *catalog.Dataset, nFile int, prune bool) (files []physical.ScanFile, pruned int) {
	for _, f := range ds.Files {
		sf := physical.ScanFile{Path: f.Path, PartitionValues: f.PartitionValues, Size: f.Size}
		if !f.ModTime.IsZero() {
			sf.ModTime = f.ModTime.UnixNano()
		}
		for rg, stats := range f.RowGroups {
			if prune && rowGroupExcluded(x, ds, f, stats, nFile) {
				pruned++
				continue
			}
			sf.RowGroups = append(sf.RowGroups, rg)
			sf.Rows += stats.Rows
		}
		if len(sf.RowGroups) > 0 {
			files = append(files, sf)
		}
	}
	return files, pruned
}

func (pb *physBuilder) buildMemoryScan(x *LScan) (physical.Node, bool, error) {
	ds := x.Dataset
	batches := ds.Memory.Snapshot()
	allCols := make([]Column, ds.Schema.NumFields())
	for i := range allCols {
		f := ds.Schema.Field(i)
		allCols[i] = Column{ID: -ColumnID(i + 1), Name: f.Name, T: f.Type}
	}
	var node physical.Node = &physical.Values{Base: pb.base(allCols), Name: x.Name, Batches: batches}
	// Map the scan's columns onto the table's.
	for i := range x.Cols {
		allCols[x.Ordinals[i]].ID = x.Cols[i].ID
	}
	if len(x.Filters) > 0 {
		pred, err := toPhysicalExpr(andAll(x.Filters), allCols)
		if err != nil {
			return nil, false, err
		}
		node = &physical.Filter{Base: pb.base(allCols), Input: node, Pred: pred}
	}
	exprs := make([]physical.Expr, len(x.Cols))
	for i, c := range x.Cols {
		exprs[i] = &physical.ColRef{Index: x.Ordinals[i], T: c.T, Name: c.Name}
	}
	node = &physical.Project{Base: pb.base(x.Cols), Input: node, Exprs: exprs}
	if x.Limit >= 0 {
		node = &physical.Limit{Base: pb.base(x.Cols), Input: node, N: x.Limit}
	}
	return node, false, nil
}

// valuesRecord builds the batch of constant rows (nil for no rows).
func valuesRecord(v *LValues) (arrow.Record, error) {
	if len(v.Rows) == 0 {
		return nil, nil
	}
	schema := schemaOf(v.Cols)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for _, row := range v.Rows {
		for i, e := range row {
			c, ok := e.(*Const)
			if !ok {
				return nil, sqlerr.New(sqlerr.FeatureNotSupported, "VALUES entries must be constants, got %s", e)
			}
			if err := physical.AppendValue(b.Field(i), c.Value); err != nil {
				return nil, err
			}
		}
	}
	rec := b.NewRecord()
	if len(v.Cols) == 0 {
		rec.Release()
		return array.NewRecord(schema, nil, int64(len(v.Rows))), nil
	}
	return rec, nil
}

// buildSharedRef reads a shared WITH query through a new port of its
// fragment, which the first reference builds. Each reference spreads the
// rows over its own instances, like a scan.
func (pb *physBuilder) buildSharedRef(x *LSharedRef) (physical.Node, bool, error) {
	if pb.serial > 0 {
		return nil, false, sqlerr.New(sqlerr.FeatureNotSupported, "a WITH query read more than once cannot be read in the recursive term of a recursive query")
	}
	id, ok := pb.shared[x.Shared]
	if !ok {
		root, par, err := pb.build(x.Shared.plan)
		if err != nil {
			return nil, false, err
		}
		id = len(pb.frags)
		f := &physical.Fragment{ID: id, Root: root, Consumer: -1, Output: physical.RoundRobin}
		if !par {
			f.Parallelism = 1
		}
		pb.frags = append(pb.frags, f)
		if pb.shared == nil {
			pb.shared = map[*sharedCTE]int{}
		}
		pb.shared[x.Shared] = id
	}
	f := pb.frags[id]
	f.Ports = append(f.Ports, -1) // its consumer is known in finish
	pb.nextID++
	var n physical.Node = &physical.ExchangeSource{Base: physical.Base{ID: pb.nextID, Out: f.Root.Schema()}, Fragment: id, Port: len(f.Ports) - 1}
	cols := x.Shared.plan.Columns()
	exprs := make([]physical.Expr, len(x.Cols))
	identity := len(x.Cols) == len(cols)
	for i, src := range x.Source {
		k := slices.IndexFunc(cols, func(c Column) bool { return c.ID == src })
		if k < 0 {
			return nil, false, fmt.Errorf("internal error: shared query %s has no column %d", x.Shared.name, src)
		}
		identity = identity && k == i
		exprs[i] = &physical.ColRef{Index: k, T: cols[k].T, Name: cols[k].Name}
	}
	if !identity {
		n = &physical.Project{Base: pb.base(x.Cols), Input: n, Exprs: exprs}
	}
	return n, true, nil
}

// finish assigns consumers and appends the root fragment.
func (pb *physBuilder) finish(root physical.Node, par bool) *physical.Plan {
	if par && !pb.singleSplit(root) {
		root = pb.cut(root)
	}
	rootID := len(pb.frags)
	pb.frags = append(pb.frags, &physical.Fragment{ID: rootID, Root: root, Parallelism: 1, Consumer: -1, Output: physical.Gather})
	for _, f := range pb.frags {
		physical.Walk(f.Root, func(n physical.Node) {
			if ex, ok := n.(*physical.ExchangeSource); ok {
				p := pb.frags[ex.Fragment]
				if len(p.Ports) > 0 {
					p.Ports[ex.Port] = f.ID
				}
				p.Consumer = f.ID
			}
		})
	}
	for _, f := range pb.frags {
		if len(f.Ports) > 0 {
			f.Consumer = f.Ports[0]
		}
		if len(f.Ports) == 1 {
			f.Ports = nil // read once after all: an ordinary exchange
		}
	}
	return &physical.Plan{Fragments: pb.frags}
}

// singleSplit reports whether parallel subtree root, the whole plan, reads
// at most one split (row group): a second instance would have nothing to
// do, so the plan runs as one fragment without an exchange (point queries
// pay no gather). Only in embedded mode: a cluster keeps scans on its
// executors.
func (pb *physBuilder) singleSplit(root physical.Node) bool {
	if pb.p.Instances != nil || len(pb.frags) > 0 {
		return false
	}
	splits := 0
	physical.Walk(root, func(n physical.Node) {
		switch n := n.(type) {
		case *physical.ParquetScan:
			for _, f := range n.Files {
				splits += len(f.RowGroups)
			}
		case *physical.ExchangeSource:
			splits += 2
		}
	})
	return splits <= 1
}

// ---- row-group pruning ----

// rowGroupExcluded reports whether statistics prove that no row of the row
// group satisfies all of the scan's filters.
func rowGroupExcluded(x *LScan, ds *catalog.Dataset, f catalog.File, rg catalog.RowGroup, nFile int) bool {
	colOrd := map[ColumnID]int{}
	for i, c := range x.Cols {
		colOrd[c.ID] = x.Ordinals[i]
	}
	// stats for a column ordinal: min, max, nullCount, known.
	stats := func(ord int) (lo, hi any, nulls int64, ok bool) {
		if ord >= nFile {
			v := f.PartitionValues[ord-nFile]
			if v == nil {
				return nil, nil, rg.Rows, false
			}
			return v, v, 0, true
		}
		if ord >= len(rg.Columns) {
			return nil, nil, -1, false
		}
		s := rg.Columns[ord]
		return s.Min, s.Max, s.NullCount, s.HasMinMax
	}
	for _, cj := range x.Filters {
		fn, ok := cj.(*Func)
		if !ok {
			continue
		}
		switch fn.Fn {
		case physical.FnIsNull:
			if c, ok := fn.Arg[0].(*ColRef); ok {
				if _, _, nulls, _ := stats(colOrd[c.ID]); nulls == 0 {
					return true
				}
			}
			continue
		case physical.FnIsNotNull:
			if c, ok := fn.Arg[0].(*ColRef); ok {
				if _, _, nulls, _ := stats(colOrd[c.ID]); nulls == rg.Rows {
					return true
				}
			}
			continue
		case physical.FnIn:
			c, ok := fn.Arg[0].(*ColRef)
			if !ok {
				continue
			}
			lo, hi, nulls, known := stats(colOrd[c.ID])
			if nulls == rg.Rows && rg.Rows > 0 {
				return true
			}
			if !known {
				continue
			}
			any := false
			for _, a := range fn.Arg[1:] {
				k, ok := a.(*Const)
				if !ok || k.Value == nil {
					any = true
					break
				}
				c1, ok1 := physical.CompareValues(k.Value, lo)
				c2, ok2 := physical.CompareValues(k.Value, hi)
				if !ok1 || !ok2 || c1 >= 0 && c2 <= 0 {
					any = true
					break
				}
			}
			if !any {
				return true
			}
			continue
		case physical.FnEq, physical.FnLt, physical.FnLe, physical.FnGt, physical.FnGe:
		default:
			continue
		}
		op := fn.Fn
		c, cok := fn.Arg[0].(*ColRef)
		k, kok := fn.Arg[1].(*Const)
		if !cok || !kok {
			c, cok = fn.Arg[1].(*ColRef)
			k, kok = fn.Arg[0].(*Const)
			op = flipCmp(op)
		}
		if !cok || !kok {
			continue
		}
		lo, hi, nulls, known := stats(colOrd[c.ID])
		if k.Value == nil || (nulls == rg.Rows && rg.Rows > 0) {
			return true // comparison with NULL, or only NULLs: never true
		}
		if !known || lo == nil || hi == nil {
			continue
		}
		// Values of another type than the statistics never prune.
		kLo, ok1 := physical.CompareValues(k.Value, lo)
		kHi, ok2 := physical.CompareValues(k.Value, hi)
		if !ok1 || !ok2 {
			continue
		}
		switch op {
		case physical.FnEq:
			if kLo < 0 || kHi > 0 {
				return true
			}
		case physical.FnLt:
			if kLo <= 0 {
				return true
			}
		case physical.FnLe:
			if kLo < 0 {
				return true
			}
		case physical.FnGt:
			if kHi >= 0 {
				return true
			}
		case physical.FnGe:
			if kHi > 0 {
				return true
			}
		}
	}
	return false
}

func flipCmp(op string) string {
	switch op {
	case physical.FnLt:
		return physical.FnGt
	case physical.FnLe:
		return physical.FnGe
	case physical.FnGt:
		return physical.FnLt
	case physical.FnGe:
		return physical.FnLe
	}
	return op
}
