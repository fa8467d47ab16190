package planner

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// LJoin joins two inputs. Cond is the whole join condition (nil: cross);
// physical planning splits it into hash keys and a residual.
type LJoin struct {
	Left, Right LNode
	Type        physical.JoinType
	Cond        Expr
	// Mark is the output column of a mark join.
	Mark Column
	// NullAware makes a mark join three-valued as IN is (and an anti join
	// NOT IN's null-aware variant).
	NullAware bool
	// NullsEqual makes key equality treat NULL = NULL (set operations,
	// decorrelated subqueries joining on their domain).
	NullsEqual bool
	// ordered marks the joins the join_order rule built, which it does not
	// visit again.
	ordered bool
}

// LUnion concatenates inputs; input i's column j becomes output column j.
type LUnion struct {
	Ins  []LNode
	Cols []Column
}

// LSingleRow passes at most one row (scalar subqueries).
type LSingleRow struct {
	Input LNode
}

func (n *LJoin) Columns() []Column {
	switch n.Type {
	case physical.SemiJoin, physical.AntiJoin, physical.NullAwareAntiJoin:
		return n.Left.Columns()
	case physical.MarkJoin:
		return append(append([]Column{}, n.Left.Columns()...), n.Mark)
	}
	return append(append([]Column{}, n.Left.Columns()...), n.Right.Columns()...)
}
func (n *LUnion) Columns() []Column               { return n.Cols }
func (n *LSingleRow) Columns() []Column           { return n.Input.Columns() }
func (n *LJoin) Inputs() []LNode                  { return []LNode{n.Left, n.Right} }
func (n *LUnion) Inputs() []LNode                 { return n.Ins }
func (n *LSingleRow) Inputs() []LNode             { return []LNode{n.Input} }
func (n *LSingleRow) WithInputs(in []LNode) LNode { return &LSingleRow{Input: in[0]} }
func (n *LJoin) WithInputs(in []LNode) LNode {
	c := *n
	c.Left, c.Right = in[0], in[1]
	return &c
}
func (n *LUnion) WithInputs(in []LNode) LNode {
	c := *n
	c.Ins = in
	return &c
}
func (n *LJoin) describe() string {
	s := "Join " + n.Type.String()
	if n.Cond != nil {
		s += " on " + n.Cond.String()
	}
	if n.NullAware {
		s += " null-aware"
	}
	if n.NullsEqual {
		s += " nulls-equal"
	}
	return s
}
func (n *LUnion) describe() string     { return fmt.Sprintf("UnionAll inputs=%d", len(n.Ins)) }
func (n *LSingleRow) describe() string { return "SingleRow" }

// ---- binding ----

func (b *binder) bindJoin(n *ast.Join) (LNode, *scope, error) {
	left, ls, err := b.bindFrom(n.Left)
	if err != nil {
		return nil, nil, err
	}
	if n.Right == nil {
		return left, ls, nil
	}
	savedLateral, savedPreds, savedExprs, savedAgg := b.lateral, b.lateralPreds, b.lateralExprs, b.lateralAgg
	b.lateral, b.lateralPreds, b.lateralExprs, b.lateralAgg = ls, nil, nil, nil
	right, rs, err := b.bindFrom(n.Right)
	lateralPreds, lifted, lagg := b.lateralPreds, b.lateralExprs, b.lateralAgg
	b.lateral, b.lateralPreds, b.lateralExprs, b.lateralAgg = savedLateral, savedPreds, savedExprs, savedAgg
	if err != nil {
		return nil, nil, err
	}
	if lagg != nil {
		return b.lateralAggregate(n, left, ls, lagg, rs)
	}
	if s, ok := right.(*LSeries); ok && s.Input == nil {
		return b.lateralSeries(n, left, ls, s, rs)
	}
	j := &LJoin{Left: left, Right: right, Type: physical.InnerJoin}
	switch {
	case n.StraightJoin: // the pre-parse layer spells FULL [OUTER] JOIN this way
		j.Type = physical.FullJoin
	case n.Tp == ast.LeftJoin:
		j.Type = physical.LeftJoin
	case n.Tp == ast.RightJoin:
		j.Type = physical.RightJoin
	}
	sc := &scope{cols: append(append([]Column{}, ls.cols...), rs.cols...)}
	using := n.Using
	if n.NaturalJoin {
		for _, lc := range ls.cols {
			for _, rc := range rs.cols {
				if strings.EqualFold(lc.Name, rc.Name) {
					using = append(using, &ast.ColumnName{Name: ast.NewCIStr(lc.Name)})
				}
			}
		}
	}
	if len(using) > 0 && len(lifted) > 0 {
		return nil, nil, sqlerr.New(sqlerr.FeatureNotSupported, "USING or NATURAL with a LATERAL subquery whose select list reads other FROM items is not supported")
	}
	if len(using) > 0 {
		// USING (a): l.a = r.a, and one output column a (the left one, or
		// COALESCE(l.a, r.a) for FULL joins, the right one for RIGHT joins).
		var conds []Expr
		hidden := map[ColumnID]bool{}
		for _, u := range using {
			l, err := b.resolve(u, ls, b.findName(n, u.Name.O))
			if err != nil {
				return nil, nil, err
			}
			r, err := b.resolve(u, rs, b.findName(n, u.Name.O))
			if err != nil {
				return nil, nil, err
			}
			eq, err := b.binary(opcode.EQ, l, r, b.findName(n, u.Name.O))
			if err != nil {
				return nil, nil, err
			}
			conds = append(conds, eq)
			if j.Type == physical.RightJoin {
				hidden[l.ID] = true
			} else {
				hidden[r.ID] = true
			}
		}
		j.Cond = andAll(conds)
		var node LNode = j
		if j.Type == physical.FullJoin {
			// The merged column is COALESCE(l.a, r.a).
			proj := &LProject{Input: j}
			out := &scope{}
			for _, c := range sc.cols {
				if hidden[c.ID] {
					continue
				}
				var e Expr = &ColRef{ID: c.ID, Name: c.Name, T: c.T}
				col := c
				for _, u := range using {
					if strings.EqualFold(c.Name, u.Name.O) {
						r, _ := b.resolve(u, rs, 0)
						args, t, err := unify("COALESCE", 0, e, r)
						if err != nil {
							return nil, nil, err
						}
						e = &Func{Fn: physical.FnCoalesce, Arg: args, T: t}
						col = b.newColumn(c.Name, "", t)
					}
				}
				proj.Exprs = append(proj.Exprs, e)
				proj.Cols = append(proj.Cols, col)
				out.cols = append(out.cols, col)
			}
			return proj, out, nil
		}
		out := &scope{}
		for _, c := range sc.cols {
			// The merged-away side stays reachable qualified (r.a), but
			// not by the bare name nor through *.
			c.hidden = hidden[c.ID]
			out.cols = append(out.cols, c)
		}
		return node, out, nil
	}
	if n.On != nil {
		cond, err := b.bindExpr(n.On.Expr, sc, false)
		if err != nil {
			return nil, nil, err
		}
		if cond, err = b.boolean(cond, "JOIN/ON", pos(n.On.Expr)); err != nil {
			return nil, nil, err
		}
		j.Cond = cond
	}
	if len(lateralPreds) > 0 {
		if j.Type == physical.RightJoin || j.Type == physical.FullJoin {
			return nil, nil, sqlerr.New(sqlerr.InvalidColumnReference, "the combining JOIN type must be INNER or LEFT for a LATERAL reference")
		}
		j.Cond = andAll(append(append([]Expr{}, conjunctsOrNil(j.Cond)...), lateralPreds...))
	}
	if len(lifted) > 0 {
		return liftLateral(j, left, rs, lifted), sc, nil
	}
	return j, sc, nil
}

// bindOn binds the ON condition of join n over sc: nil for none or ON
// true.
func (b *binder) bindOn(n *ast.Join, sc *scope) (Expr, error) {
	if n.On == nil {
		return nil, nil
	}
	c, err := b.bindExpr(n.On.Expr, sc, false)
	if err != nil {
		return nil, err
	}
	if c, err = b.boolean(c, "JOIN/ON", pos(n.On.Expr)); err != nil {
		return nil, err
	}
	if k, ok := c.(*Const); ok && k.Value == true {
		return nil, nil
	}
	return c, nil
}

// lateralAgg is a LATERAL subquery that aggregates without GROUP BY over
// rows correlated with the left side.
type lateralAgg struct {
	sub  LNode
	agg  scalarAgg
	corr map[ColumnID]bool
}

// lateralAggregate finishes `left JOIN LATERAL (SELECT aggregates …) ON …`:
// exactly one row per left row, computed as for a correlated scalar
// subquery (COUNT 0 and other aggregates NULL over no rows).
func (b *binder) lateralAggregate(n *ast.Join, left LNode, ls *scope, l *lateralAgg, rs *scope) (LNode, *scope, error) {
	if n.Using != nil || n.NaturalJoin || n.Tp == ast.RightJoin || n.StraightJoin {
		return nil, nil, sqlerr.New(sqlerr.FeatureNotSupported, "LATERAL: this join with a correlated aggregate is not supported yet")
	}
	sc := &scope{cols: append(append([]Column{}, ls.cols...), rs.cols...)}
	cond, err := b.bindOn(n, sc)
	if err != nil {
		return nil, nil, err
	}
	if cond != nil && n.Tp == ast.LeftJoin {
		return nil, nil, sqlerr.New(sqlerr.FeatureNotSupported, "LEFT JOIN LATERAL with a correlated aggregate needs ON true")
	}
	node, err := b.decorrelateAggregate(left, l.sub, l.agg, l.corr)
	if err != nil {
		return nil, nil, sqlerr.New(sqlerr.FeatureNotSupported, "LATERAL: %s", sqlerr.As(err).Msg)
	}
	if cond != nil {
		node = &LFilter{Input: node, Pred: cond}
	}
	return node, sc, nil
}

// lateralExprs are the select items of a LATERAL subquery that read
// columns on its left, by output column, and its marker column (true on
// the rows it produced).
type lateralExprs struct {
	exprs  map[ColumnID]Expr
	marker Column
}

// liftLateral computes the lifted select items of LATERAL subqueries over
// join j (of left and a subquery whose columns are rs): the output is
// left's columns and rs's. Rows a LEFT join made up get NULL.
func liftLateral(j *LJoin, left LNode, rs *scope, lifted []lateralExprs) LNode {
	p := &LProject{Input: j}
	for _, c := range left.Columns() {
		p.Exprs = append(p.Exprs, &ColRef{ID: c.ID, Name: c.Name, T: c.T})
		p.Cols = append(p.Cols, c)
	}
	for _, c := range rs.cols {
		var e Expr = &ColRef{ID: c.ID, Name: c.Name, T: c.T}
		for _, l := range lifted {
			x, ok := l.exprs[c.ID]
			if !ok {
				continue
			}
			e = x
			if j.Type == physical.LeftJoin {
				m := l.marker
				e = &CaseExpr{Whens: []Expr{&Func{Fn: physical.FnIsNotNull, Arg: []Expr{&ColRef{ID: m.ID, Name: m.Name, T: m.T}}, T: physical.Boolean}},
					Thens: []Expr{x}, Else: &Const{T: x.Type()}, T: x.Type()}
			}
		}
		p.Exprs = append(p.Exprs, e)
		p.Cols = append(p.Cols, c)
	}
	return p
}

// ---- physical ----

// splitJoinCond separates equality conjuncts between the two sides (hash
// keys) from the rest (residual).
func splitJoinCond(cond Expr, left, right []Column) (lk, rk []Expr, residual []Expr) {
	if cond == nil {
		return nil, nil, nil
	}
	lset, rset := idSet(left), idSet(right)
	for _, c := range conjuncts(cond) {
		f, ok := c.(*Func)
		if ok && f.Fn == physical.FnEq && arrow.TypeEqual(f.Arg[0].Type(), f.Arg[1].Type()) {
			a, b := f.Arg[0], f.Arg[1]
			if refsWithin(a, lset) && refsWithin(b, rset) && !isConst(a) && !isConst(b) {
				lk, rk = append(lk, a), append(rk, b)
				continue
			}
			if refsWithin(b, lset) && refsWithin(a, rset) && !isConst(a) && !isConst(b) {
				lk, rk = append(lk, b), append(rk, a)
				continue
			}
		}
		residual = append(residual, c)
	}
	return lk, rk, residual
}

func idSet(cols []Column) map[ColumnID]bool {
	s := make(map[ColumnID]bool, len(cols))
	for _, c := range cols {
		s[c.ID] = true
	}
	return s
}

// refsWithin reports whether every column e references is in set.
func refsWithin(e Expr, set map[ColumnID]bool) bool {
	used := map[ColumnID]bool{}
	columnsUsed(e, used)
	for id := range used {
		if !set[id] {
			return false
		}
	}
	return true
}

// broadcastLimit caps the estimated rows a join broadcasts to every
// instance, whatever the probe side's size (memory).
const broadcastLimit = 20_000_000

// broadcastCheaper reports whether sending the build side to every
// instance moves fewer rows than hash partitioning both sides.
func (pb *physBuilder) broadcastCheaper(x *LJoin) bool {
	build, probe := estimateRows(x.Right), estimateRows(x.Left)
	p := float64(pb.instances())
	return build <= broadcastLimit && build*p <= build+probe
}

// instances is how many instances a parallel fragment runs with.
func (pb *physBuilder) instances() int {
	p := pb.p.Parallelism
	if pb.p.Instances != nil {
		p = pb.p.Instances()
	}
	if p <= 0 {
		p = runtime.GOMAXPROCS(0)
	}
	return p
}

func (pb *physBuilder) buildJoin(x *LJoin) (physical.Node, bool, error) {
	left, lpar, err := pb.build(x.Left)
	if err != nil {
		return nil, false, err
	}
	right, rpar, err := pb.build(x.Right)
	if err != nil {
		return nil, false, err
	}
	lcols, rcols := x.Left.Columns(), x.Right.Columns()
	lk, rk, residual := splitJoinCond(x.Cond, lcols, rcols)
	j := &physical.HashJoin{Type: x.Type, NullsEqual: x.NullsEqual, MarkNullAware: x.NullAware}
	for i := range lk {
		l, err := toPhysicalExpr(lk[i], lcols)
		if err != nil {
			return nil, false, err
		}
		r, err := toPhysicalExpr(rk[i], rcols)
		if err != nil {
			return nil, false, err
		}
		j.LeftKeys, j.RightKeys = append(j.LeftKeys, l), append(j.RightKeys, r)
	}
	if len(residual) > 0 {
		both := append(append([]Column{}, lcols...), rcols...)
		if j.Residual, err = toPhysicalExpr(andAll(residual), both); err != nil {
			return nil, false, err
		}
	}
	j.Base = pb.base(x.Columns())
	// Distribution: a parallel probe side keeps its instances; the build
	// side is broadcast to them when small, else both sides are hash
	// partitioned on the keys. Joins that must see every unmatched build
	// row, or without keys to partition on, run where the build side is
	// whole.
	// Right and full joins emit unmatched build rows, so every instance must
	// own a disjoint share of the build side; null-aware joins look at the
	// whole build side (empty? any NULL key?), so theirs must be complete.
	unmatchedBuild := x.Type == physical.RightJoin || x.Type == physical.FullJoin
	nullAware := x.Type == physical.NullAwareAntiJoin || (x.Type == physical.MarkJoin && x.NullAware)
	switch {
	case !lpar && !rpar:
		j.Left, j.Right = left, right
		return j, false, nil
	case len(lk) > 0 && !nullAware && (unmatchedBuild || !pb.broadcastCheaper(x)):
		j.Left = pb.cutPartitioned(left, j.LeftKeys)
		j.Right = pb.cutPartitioned(right, j.RightKeys)
		return j, true, nil
	case lpar && !unmatchedBuild:
		j.Left = left
		j.Right = pb.cutTo(right, physical.Broadcast, nil)
		return j, true, nil
	default:
		if lpar {
			left = pb.cut(left)
		}
		if rpar {
			right = pb.cut(right)
		}
		j.Left, j.Right = left, right
		return j, false, nil
	}
}

// cutPartitioned ends a subtree as a fragment whose rows are hash
// partitioned on keys (which must be column references after a projection).
func (pb *physBuilder) cutPartitioned(n physical.Node, keys []physical.Expr) physical.Node {
	cols := make([]int, len(keys))
	var extra []physical.Expr
	width := n.Schema().NumFields()
	for i, k := range keys {
		if c, ok := k.(*physical.ColRef); ok {
			cols[i] = c.Index
			continue
		}
		extra = append(extra, k)
		cols[i] = width + len(extra) - 1
	}
	if len(extra) > 0 {
		// Compute key expressions as extra columns; the join still
		// evaluates its own key expressions over the original columns.
		exprs := make([]physical.Expr, 0, width+len(extra))
		fields := append([]arrow.Field{}, n.Schema().Fields()...)
		for i := 0; i < width; i++ {
			exprs = append(exprs, &physical.ColRef{Index: i, T: n.Schema().Field(i).Type, Name: n.Schema().Field(i).Name})
		}
		for _, e := range extra {
			exprs = append(exprs, e)
			fields = append(fields, arrow.Field{Name: "key", Type: e.Type(), Nullable: true})
		}
		pb.nextID++
		n = &physical.Project{Base: physical.Base{ID: pb.nextID, Out: arrow.NewSchema(fields, nil)}, Input: n, Exprs: exprs}
	}
	src := pb.cutTo(n, physical.HashPartition, cols)
	if len(extra) > 0 {
		// Drop the extra key columns again.
		exprs := make([]physical.Expr, width)
		fields := n.Schema().Fields()[:width]
		for i := 0; i < width; i++ {
			exprs[i] = &physical.ColRef{Index: i, T: fields[i].Type, Name: fields[i].Name}
		}
		pb.nextID++
		return &physical.Project{Base: physical.Base{ID: pb.nextID, Out: arrow.NewSchema(fields, nil)}, Input: src, Exprs: exprs}
	}
	return src
}

// cutTo is cut with a given distribution.
func (pb *physBuilder) cutTo(n physical.Node, d physical.Distribution, keys []int) physical.Node {
	src := pb.cut(n)
	f := pb.frags[len(pb.frags)-1]
	f.Output, f.OutputKeys = d, keys
	return src
}

// estimateRows is a rough output cardinality used to choose build sides
// and distributions.
func estimateRows(n LNode) float64 {
	switch x := n.(type) {
	case *LScan:
		rows := float64(x.Dataset.Rows)
		if x.Dataset.Memory != nil {
			rows = float64(x.Dataset.Memory.Rows())
		}
		for _, f := range x.Filters {
			rows *= selectivity(f, x)
		}
		if x.Limit >= 0 && float64(x.Limit) < rows {
			rows = float64(x.Limit)
		}
		return max(rows, 1)
	case *LValues:
		return float64(len(x.Rows))
	case *LSharedRef:
		return estimateRows(x.Shared.plan)
	case *LSeries:
		return estimateRows(x.Input) * 10
	case *LRecursive:
		return estimateRows(x.Anchor) * 10
	case *LWorkTable:
		return 100
	case *LFilter:
		rows := estimateRows(x.Input)
		for _, c := range conjuncts(x.Pred) {
			rows *= selectivity(c, x.Input)
		}
		return max(rows, 1)
	case *LAggregate:
		if len(x.GroupBy) == 0 {
			return 1
		}
		return max(estimateRows(x.Input)*0.1, 1)
	case *LLimit:
		if x.N >= 0 {
			return min(float64(x.N), estimateRows(x.Input))
		}
	case *LSingleRow:
		return 1
	case *LJoin:
		l, r := estimateRows(x.Left), estimateRows(x.Right)
		switch x.Type {
		case physical.SemiJoin:
			// The share of left keys that appear on the right.
			lk, rk, _ := splitJoinCond(x.Cond, x.Left.Columns(), x.Right.Columns())
			frac := 1.0
			for i := range lk {
				lndv := exprNDV(lk[i], []LNode{x.Left}, l)
				rndv := exprNDV(rk[i], []LNode{x.Right}, r)
				frac = min(frac, rndv/max(lndv, 1))
			}
			return max(l*frac, 1)
		case physical.AntiJoin, physical.NullAwareAntiJoin, physical.MarkJoin:
			return l
		}
		if x.Cond == nil {
			return l * r
		}
		// |L|·|R| / max(ndv) over the most selective equality.
		out := max(l, r)
		lk, rk, _ := splitJoinCond(x.Cond, x.Left.Columns(), x.Right.Columns())
		for i := range lk {
			ndv := max(exprNDV(lk[i], []LNode{x.Left}, l), exprNDV(rk[i], []LNode{x.Right}, r), 1)
			out = min(out, l*r/ndv)
		}
		if x.Type == physical.LeftJoin {
			out = max(out, l)
		}
		return max(out, 1)
	case *LUnion:
		s := 0.0
		for _, in := range x.Ins {
			s += estimateRows(in)
		}
		return s
	}
	ins := n.Inputs()
	if len(ins) == 1 {
		return estimateRows(ins[0])
	}
	return 1000
}

// selectivity is the estimated share of rows of n a predicate keeps
// (System R's defaults, with distinct values from statistics for
// equalities).
func selectivity(e Expr, n LNode) float64 {
	f, ok := e.(*Func)
	if !ok {
		return 0.5
	}
	switch f.Fn {
	case physical.FnEq:
		// Distinct values only where statistics bound them (integer and
		// date ranges); a string column is not assumed to be a key.
		for _, a := range f.Arg {
			if c, ok := a.(*ColRef); ok {
				if ndv, ok := rangeNDV(n, c.ID); ok {
					return 1 / max(ndv, 1)
				}
			}
		}
		return 0.1
	case physical.FnLt, physical.FnLe, physical.FnGt, physical.FnGe:
		if sel, ok := rangeSelectivity(f, n); ok {
			return sel
		}
		return 1.0 / 3
	case physical.FnLike, physical.FnILike, physical.FnRegexpLike:
		return 0.1
	case physical.FnIn:
		return min(0.5, 0.1*float64(len(f.Arg)-1))
	case physical.FnIsNull:
		return 0.1
	case physical.FnAnd:
		return selectivity(f.Arg[0], n) * selectivity(f.Arg[1], n)
	case physical.FnOr:
		a, b := selectivity(f.Arg[0], n), selectivity(f.Arg[1], n)
		return a + b - a*b
	case physical.FnNot:
		return 1 - selectivity(f.Arg[0], n)
	}
	return 0.5
}

// rangeSelectivity estimates column <op> constant from the column's
// min/max statistics, assuming values spread evenly between them.
func rangeSelectivity(f *Func, n LNode) (float64, bool) {
	c, cok := f.Arg[0].(*ColRef)
	k, kok := f.Arg[1].(*Const)
	op := f.Fn
	if !cok || !kok {
		c, cok = f.Arg[1].(*ColRef)
		k, kok = f.Arg[0].(*Const)
		op = flipCmp(op)
	}
	if !cok || !kok || k.Value == nil {
		return 0, false
	}
	v, ok := asInt(k.Value)
	if !ok {
		return 0, false
	}
	s, ord, ok := findScanColumn(n, c.ID)
	if !ok {
		return 0, false
	}
	lo, hi, ok := scanColumnRange(s, ord)
	if !ok || hi <= lo {
		return 0, false
	}
	below := (float64(v) - float64(lo)) / float64(hi-lo) // share of values < v
	below = min(max(below, 0), 1)
	sel := below
	if op == physical.FnGt || op == physical.FnGe {
		sel = 1 - below
	}
	return max(sel, 0.001), true
}
