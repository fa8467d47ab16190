package planner

import (
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// Subqueries in expressions are decorrelated into joins, never run per row.
// Binding a subquery yields a column (the scalar value, or the mark of a
// mark join) and a pendingSub that attaches the join to the input of the
// clause the subquery appears in. Rules later turn a filter on a mark into
// a semi, anti or null-aware anti join.

// pendingSub attaches one subquery's join to a clause's input.
type pendingSub struct {
	attach func(host LNode) (LNode, error)
	// outer are the columns of enclosing queries the subquery references.
	outer map[ColumnID]bool
}

func attachSubqueries(subs []pendingSub, node LNode) (LNode, error) {
	for _, s := range subs {
		var err error
		if node, err = s.attach(node); err != nil {
			return nil, err
		}
	}
	return node, nil
}

// bindSubquery binds q with sc as its outer scope and returns its plan and
// the outer columns it references.
func (b *binder) bindSubquery(q ast.ResultSetNode, sc *scope) (LNode, []string, map[ColumnID]bool, error) {
	b.outerStack = append(b.outerStack, sc)
	node, names, err := b.bindQuery(q)
	b.outerStack = b.outerStack[:len(b.outerStack)-1]
	if err != nil {
		return nil, nil, nil, err
	}
	return node, names, outerRefs(node), nil
}

// outerRefs returns the columns n's expressions reference that n does not
// produce: the correlation of a subquery plan.
func outerRefs(n LNode) map[ColumnID]bool {
	produced, used := map[ColumnID]bool{}, map[ColumnID]bool{}
	var walk func(n LNode)
	walk = func(n LNode) {
		for _, c := range n.Columns() {
			produced[c.ID] = true
		}
		if s, ok := n.(*LScan); ok {
			for _, c := range s.Cols {
				produced[c.ID] = true
			}
		}
		if es, _ := nodeExprs(n); es != nil {
			for _, e := range es {
				columnsUsed(e, used)
			}
		}
		for _, in := range n.Inputs() {
			walk(in)
		}
	}
	walk(n)
	out := map[ColumnID]bool{}
	for id := range used {
		if !produced[id] {
			out[id] = true
		}
	}
	return out
}

func (b *binder) addPending(p pendingSub, at ast.Node) error {
	if b.pending == nil {
		return sqlerr.At(sqlerr.FeatureNotSupported, pos(at), "subqueries are not allowed here")
	}
	*b.pending = append(*b.pending, p)
	return nil
}

func (b *binder) markSubCol(c Column) *ColRef {
	if b.subCols == nil {
		b.subCols = map[ColumnID]bool{}
	}
	b.subCols[c.ID] = true
	return &ColRef{ID: c.ID, Name: c.Name, T: c.T}
}

// bindScalarSubquery: (SELECT …) as a value.
func (b *binder) bindScalarSubquery(e *ast.SubqueryExpr, sc *scope) (Expr, error) {
	sub, _, corr, err := b.bindSubquery(e.Query, sc)
	if err != nil {
		return nil, err
	}
	if len(sub.Columns()) != 1 {
		return nil, sqlerr.At(sqlerr.SyntaxError, pos(e), "subquery must return only one column")
	}
	if len(corr) == 0 {
		val := sub.Columns()[0]
		err := b.addPending(pendingSub{attach: func(host LNode) (LNode, error) {
			return &LJoin{Left: host, Right: &LSingleRow{Input: sub}, Type: physical.InnerJoin}, nil
		}}, e)
		return b.markSubCol(val), err
	}
	// Correlated: an aggregate over a domain of the outer values, or a
	// plain lookup joined on the correlated predicates.
	if agg, ok := findScalarAggregate(sub); ok {
		val := sub.Columns()[0]
		err := b.addPending(pendingSub{outer: corr, attach: func(host LNode) (LNode, error) {
			return b.decorrelateAggregate(host, sub, agg, corr)
		}}, e)
		return b.markSubCol(val), err
	}
	pulled, preds, exprs, err := b.pullCorrelated(sub, corr)
	if err != nil {
		return nil, sqlerr.At(sqlerr.FeatureNotSupported, pos(e), "%s", sqlerr.As(err).Msg)
	}
	val := sub.Columns()[0]
	err = b.addPending(pendingSub{outer: corr, attach: func(host LNode) (LNode, error) {
		expr, lifted := exprs[val.ID]
		if !lifted {
			return &LJoin{Left: host, Right: pulled, Type: physical.LeftJoin, Cond: andAll(preds)}, nil
		}
		// The value refers to outer columns: compute it after the join.
		right, marker := b.withMarker(pulled)
		join := &LJoin{Left: host, Right: right, Type: physical.LeftJoin, Cond: andAll(preds)}
		return liftValues(join, host, []Column{val}, marker, []Expr{expr}, []Expr{&Const{T: val.T}}), nil
	}}, e)
	return b.markSubCol(val), err
}

// bindExists: [NOT] EXISTS (SELECT …) as a mark join.
func (b *binder) bindExists(e *ast.ExistsSubqueryExpr, sc *scope) (Expr, error) {
	sq, ok := e.Sel.(*ast.SubqueryExpr)
	if !ok {
		return nil, sqlerr.At(sqlerr.FeatureNotSupported, pos(e), "unsupported EXISTS")
	}
	sub, _, corr, err := b.bindSubquery(sq.Query, sc)
	if err != nil {
		return nil, err
	}
	// EXISTS ignores its select list, correlated or not.
	pulled, preds, _, err := b.pullCorrelated(sub, corr)
	if err != nil {
		return nil, sqlerr.At(sqlerr.FeatureNotSupported, pos(e), "%s", sqlerr.As(err).Msg)
	}
	mark := b.newColumn("exists", "", physical.Boolean)
	err = b.addPending(pendingSub{outer: corr, attach: func(host LNode) (LNode, error) {
		return &LJoin{Left: host, Right: pulled, Type: physical.MarkJoin, Cond: andAll(preds), Mark: mark}, nil
	}}, e)
	var out Expr = b.markSubCol(mark)
	if e.Not {
		out = &Func{Fn: physical.FnNot, Arg: []Expr{out}, T: physical.Boolean}
	}
	return out, err
}

// bindInSubquery: v [NOT] IN (SELECT …) as a null-aware mark join.
func (b *binder) bindInSubquery(e *ast.PatternInExpr, v Expr, sc *scope) (Expr, error) {
	sq, ok := e.Sel.(*ast.SubqueryExpr)
	if !ok {
		return nil, sqlerr.At(sqlerr.FeatureNotSupported, pos(e), "unsupported IN")
	}
	return b.markSubquery(sq.Query, sc, []Expr{v}, opcode.EQ, e.Not, true, e)
}

// bindCompareSubquery: v op ANY|ALL (SELECT …). op ANY is a mark join on v
// op column; op ALL is NOT (v NOT op ANY).
func (b *binder) bindCompareSubquery(e *ast.CompareSubqueryExpr, sc *scope, allowAgg bool) (Expr, error) {
	var v []Expr
	var err error
	if fields := rowFields(e.L); fields != nil {
		v, err = b.bindRow(fields, sc, allowAgg)
	} else {
		var x Expr
		x, err = b.bindExpr(e.L, sc, allowAgg)
		v = []Expr{x}
	}
	if err != nil {
		return nil, err
	}
	sq, ok := e.R.(*ast.SubqueryExpr)
	if !ok {
		return nil, sqlerr.At(sqlerr.FeatureNotSupported, pos(e), "unsupported subquery comparison")
	}
	if e.All {
		neg := map[opcode.Op]opcode.Op{opcode.EQ: opcode.NE, opcode.NE: opcode.EQ, opcode.LT: opcode.GE,
			opcode.LE: opcode.GT, opcode.GT: opcode.LE, opcode.GE: opcode.LT}[e.Op]
		return b.markSubquery(sq.Query, sc, v, neg, true, e.Op == opcode.NE, e)
	}
	return b.markSubquery(sq.Query, sc, v, e.Op, false, e.Op == opcode.EQ, e)
}

// markSubquery binds v op ANY (q) — v one value or the fields of a row —
// as mark joins (NOT when not).
func (b *binder) markSubquery(q ast.ResultSetNode, sc *scope, v []Expr, op opcode.Op, not, nullAware bool, at ast.Node) (Expr, error) {
	sub, _, corr, err := b.bindSubquery(q, sc)
	if err != nil {
		return nil, err
	}
	if n := len(sub.Columns()); n > len(v) {
		return nil, sqlerr.At(sqlerr.SyntaxError, pos(at), "subquery has too many columns")
	} else if n < len(v) {
		return nil, sqlerr.At(sqlerr.SyntaxError, pos(at), "subquery has too few columns")
	}
	pulled, preds, exprs, err := b.pullCorrelated(sub, corr)
	if err != nil {
		return nil, sqlerr.At(sqlerr.FeatureNotSupported, pos(at), "%s", sqlerr.As(err).Msg)
	}
	rhs := make([]Expr, len(v))
	for i, col := range sub.Columns() {
		rhs[i] = &ColRef{ID: col.ID, Name: col.Name, T: col.T}
		if e, ok := exprs[col.ID]; ok {
			rhs[i] = e // refers to outer columns: part of the join condition
		}
	}
	var cmp Expr
	if len(v) == 1 {
		cmp, err = b.binary(op, v[0], rhs[0], pos(at))
	} else {
		cmp, err = b.compareRows(op, v, rhs, pos(at))
	}
	if err != nil {
		return nil, err
	}
	mark := b.newColumn("in", "", physical.Boolean)
	// One null-aware mark join gives IN's three-valued result when the
	// NULLs that matter are those of the whole subquery: uncorrelated =.
	// Otherwise a second mark join finds the rows where the comparison is
	// unknown for some subquery row: TRUE if some comparison holds, else
	// NULL if some is unknown, else FALSE.
	oneJoin := op == opcode.EQ && len(corr) == 0 && len(v) == 1
	var unknown Column
	if !oneJoin {
		unknown = b.newColumn("in_unknown", "", physical.Boolean)
	}
	err = b.addPending(pendingSub{outer: corr, attach: func(host LNode) (LNode, error) {
		cmp := cmp
		if f, ok := cmp.(*Func); ok && isConst(f.Arg[0]) {
			// A constant probe value (1 IN (…), NULL IN (…)) becomes a
			// column so that it is a join key, as the null-aware
			// semantics need.
			proj := &LProject{Input: host}
			for _, c := range host.Columns() {
				proj.Exprs = append(proj.Exprs, &ColRef{ID: c.ID, Name: c.Name, T: c.T})
				proj.Cols = append(proj.Cols, c)
			}
			kc := b.newColumn("in_value", "", f.Arg[0].Type())
			proj.Exprs = append(proj.Exprs, f.Arg[0])
			proj.Cols = append(proj.Cols, kc)
			host = proj
			cmp = &Func{Fn: f.Fn, Arg: []Expr{&ColRef{ID: kc.ID, Name: kc.Name, T: kc.T}, f.Arg[1]}, T: f.T}
		}
		j := &LJoin{Left: host, Right: pulled, Type: physical.MarkJoin, Cond: andAll(append([]Expr{cmp}, preds...)),
			Mark: mark, NullAware: nullAware && oneJoin}
		if oneJoin {
			return j, nil
		}
		isNull := &Func{Fn: physical.FnIsNull, Arg: []Expr{cmp}, T: physical.Boolean}
		return &LJoin{Left: j, Right: pulled, Type: physical.MarkJoin, Cond: andAll(append([]Expr{isNull}, preds...)),
			Mark: unknown}, nil
	}}, at)
	var out Expr = b.markSubCol(mark)
	if !oneJoin {
		out = threeValued(out, b.markSubCol(unknown))
	}
	if not {
		out = &Func{Fn: physical.FnNot, Arg: []Expr{out}, T: physical.Boolean}
	}
	return out, err
}

// pullCorrelated removes the predicates that reference outer columns from
// the filters of a subquery plan (Project / Filter / Sort over an
// uncorrelated input) and returns them. Select-list expressions that
// reference outer columns are taken out too and returned by output column
// (exprs), to be evaluated above the join. Projections are widened to pass
// through the inner columns the predicates and expressions need.
func (b *binder) pullCorrelated(n LNode, outer map[ColumnID]bool) (LNode, []Expr, map[ColumnID]Expr, error) {
	if len(outer) == 0 {
		return n, nil, nil, nil
	}
	switch x := n.(type) {
	case *LProject:
		in, preds, exprs, err := b.pullCorrelated(x.Input, outer)
		if err != nil {
			return nil, nil, nil, err
		}
		c := &LProject{Input: in}
		var lifted []Expr
		for i, e := range x.Exprs {
			e = substitute(e, exprs)
			if refsAny(e, outer) {
				if exprs == nil {
					exprs = map[ColumnID]Expr{}
				}
				exprs[x.Cols[i].ID] = e
				lifted = append(lifted, e)
				continue
			}
			c.Exprs = append(c.Exprs, e)
			c.Cols = append(c.Cols, x.Cols[i])
		}
		have := idSet(c.Cols)
		inCols := in.Columns()
		for _, p := range append(lifted, preds...) {
			used := map[ColumnID]bool{}
			columnsUsed(p, used)
			for _, ic := range inCols {
				if used[ic.ID] && !have[ic.ID] {
					c.Exprs = append(c.Exprs, &ColRef{ID: ic.ID, Name: ic.Name, T: ic.T})
					c.Cols = append(c.Cols, ic)
					have[ic.ID] = true
				}
			}
		}
		return c, preds, exprs, nil
	case *LFilter:
		in, preds, exprs, err := b.pullCorrelated(x.Input, outer)
		if err != nil {
			return nil, nil, nil, err
		}
		var keep []Expr
		for _, c := range conjuncts(substitute(x.Pred, exprs)) {
			if refsAny(c, outer) {
				preds = append(preds, c)
			} else {
				keep = append(keep, c)
			}
		}
		if len(keep) == 0 {
			return in, preds, exprs, nil
		}
		return &LFilter{Input: in, Pred: andAll(keep)}, preds, exprs, nil
	case *LSort:
		return b.pullCorrelated(x.Input, outer)
	case *LLimit:
		return b.pullCorrelatedLimit(x, outer)
	}
	if len(outerRefs(n)) > 0 {
		return nil, nil, nil, sqlerr.New(sqlerr.FeatureNotSupported, "this correlated subquery is not supported yet")
	}
	return n, nil, nil, nil
}

// pullCorrelatedLimit decorrelates [ORDER BY …] LIMIT n [OFFSET m] over
// a subquery correlated by equalities (LATERAL's top rows per outer row):
// the rows are numbered per value of the inner sides of the equalities
// in ORDER BY order, and the limit keeps numbers m+1 … m+n of each.
func (b *binder) pullCorrelatedLimit(x *LLimit, outer map[ColumnID]bool) (LNode, []Expr, map[ColumnID]Expr, error) {
	if p, ok := x.Input.(*LProject); ok {
		// A limit commutes with a projection: below it, it sees the sort
		// (whose keys the projection may drop).
		return b.pullCorrelated(&LProject{Input: &LLimit{Input: p.Input, Offset: x.Offset, N: x.N}, Exprs: p.Exprs, Cols: p.Cols}, outer)
	}
	var order []SortItem
	input := x.Input
	if s, ok := input.(*LSort); ok {
		order, input = s.Items, s.Input
	}
	in, preds, exprs, err := b.pullCorrelated(input, outer)
	if err != nil {
		return nil, nil, nil, err
	}
	pre, asCol := b.keyColumns(in)
	win := &LWindow{Input: pre}
	for _, p := range preds {
		f, ok := p.(*Func)
		if !ok || f.Fn != physical.FnEq {
			return nil, nil, nil, sqlerr.New(sqlerr.FeatureNotSupported, "LIMIT in a subquery correlated other than by equalities is not supported yet")
		}
		inner := f.Arg[0]
		if refsAny(inner, outer) {
			inner = f.Arg[1]
		}
		if refsAny(inner, outer) {
			return nil, nil, nil, sqlerr.New(sqlerr.FeatureNotSupported, "LIMIT in a subquery correlated other than by equalities is not supported yet")
		}
		win.Partition = append(win.Partition, asCol(inner))
	}
	for _, o := range order {
		o.Expr = substitute(o.Expr, exprs)
		if refsAny(o.Expr, outer) {
			continue // constant within each outer row
		}
		o.Expr = asCol(o.Expr)
		win.Order = append(win.Order, o)
	}
	rn := b.newColumn("row_number", "", physical.Int64)
	win.Funcs = []winFunc{{fn: physical.WinRowNumber, col: rn}}
	ref := &ColRef{ID: rn.ID, Name: rn.Name, T: rn.T}
	var keep []Expr
	if x.Offset > 0 {
		keep = append(keep, &Func{Fn: physical.FnGt, Arg: []Expr{ref, &Const{Value: x.Offset, T: physical.Int64}}, T: physical.Boolean})
	}
	if x.N >= 0 {
		keep = append(keep, &Func{Fn: physical.FnLe, Arg: []Expr{ref, &Const{Value: x.Offset + x.N, T: physical.Int64}}, T: physical.Boolean})
	}
	var out LNode = win
	if len(keep) > 0 {
		out = &LFilter{Input: win, Pred: andAll(keep)}
	}
	return out, preds, exprs, nil
}

// substitute replaces references to the columns of m by their expressions.
func substitute(e Expr, m map[ColumnID]Expr) Expr {
	if len(m) == 0 {
		return e
	}
	return transformExpr(e, func(x Expr) Expr {
		if r, ok := x.(*ColRef); ok {
			if s, ok := m[r.ID]; ok {
				return s
			}
		}
		return x
	})
}

// withMarker adds a constant TRUE column to n, which tells n's rows from
// the NULL padding of an outer join.
func (b *binder) withMarker(n LNode) (LNode, Column) {
	marker := b.newColumn("__matched", "", physical.Boolean)
	p := &LProject{Input: n}
	for _, c := range n.Columns() {
		p.Exprs = append(p.Exprs, &ColRef{ID: c.ID, Name: c.Name, T: c.T})
		p.Cols = append(p.Cols, c)
	}
	p.Exprs = append(p.Exprs, &Const{Value: true, T: physical.Boolean})
	p.Cols = append(p.Cols, marker)
	return p, marker
}

// liftValues computes a subquery's value columns above the outer join that
// attached the subquery: exprs where a row matched, else empties (the
// values over no rows).
func liftValues(join LNode, host LNode, vals []Column, marker Column, exprs, empties []Expr) LNode {
	fix := &LProject{Input: join}
	for _, c := range host.Columns() {
		fix.Exprs = append(fix.Exprs, &ColRef{ID: c.ID, Name: c.Name, T: c.T})
		fix.Cols = append(fix.Cols, c)
	}
	for i, val := range vals {
		fix.Exprs = append(fix.Exprs, &CaseExpr{
			Whens: []Expr{&Func{Fn: physical.FnIsNull, Arg: []Expr{&ColRef{ID: marker.ID, Name: marker.Name, T: marker.T}}, T: physical.Boolean}},
			Thens: []Expr{castTo(empties[i], val.T)},
			Else:  castTo(exprs[i], val.T),
			T:     val.T,
		})
		fix.Cols = append(fix.Cols, val)
	}
	return fix
}

func refsAny(e Expr, set map[ColumnID]bool) bool {
	found := false
	visitExpr(e, func(x Expr) {
		if c, ok := x.(*ColRef); ok && set[c.ID] {
			found = true
		}
	})
	return found
}

// scalarAgg locates the global aggregate of a scalar subquery:
// Project [Filter] Aggregate(no GROUP BY).
type scalarAgg struct {
	proj   *LProject
	having *LFilter
	agg    *LAggregate
}

func findScalarAggregate(n LNode) (scalarAgg, bool) {
	var s scalarAgg
	p, ok := n.(*LProject)
	if !ok {
		return s, false
	}
	s.proj = p
	in := p.Input
	if f, ok := in.(*LFilter); ok {
		s.having, in = f, f.Input
	}
	a, ok := in.(*LAggregate)
	if !ok || len(a.GroupBy) > 0 {
		return s, false
	}
	s.agg = a
	return s, true
}

// decorrelateAggregate joins host with the subquery's aggregate computed
// per distinct value of the outer columns it references (its domain):
//
//	host ⟕ (D ⟕ inner GROUP BY D) ON host.c IS NOT DISTINCT FROM D.c
//
// where D = DISTINCT c FROM host. Groups with no inner rows still exist
// (the left join from D), so COUNT gives 0 and other aggregates NULL, as
// the scalar subquery would.
func (b *binder) decorrelateAggregate(host LNode, sub LNode, s scalarAgg, corr map[ColumnID]bool) (LNode, error) {
	inner, preds, exprs, err := b.pullCorrelated(s.agg.Input, corr)
	if err != nil {
		return nil, err
	}
	if len(exprs) > 0 {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "outer columns inside the aggregates of a correlated subquery are not supported yet")
	}
	if s.having != nil && refsAny(s.having.Pred, corr) {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "outer columns in the HAVING of a correlated subquery are not supported yet")
	}
	if keys, outerCols, ok := equalityCorrelation(preds, corr); ok {
		return b.decorrelateByKey(host, inner, s, keys, outerCols)
	}
	// The domain: distinct outer values, as new columns.
	var hostCols []Column
	for _, c := range host.Columns() {
		if corr[c.ID] {
			hostCols = append(hostCols, c)
		}
	}
	if len(hostCols) != len(corr) {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "correlated subquery references columns of an outer query level it cannot reach")
	}
	dproj := &LProject{Input: host}
	remap := map[ColumnID]Expr{}
	for _, c := range hostCols {
		nc := b.newColumn(c.Name, "", c.T)
		dproj.Exprs = append(dproj.Exprs, &ColRef{ID: c.ID, Name: c.Name, T: c.T})
		dproj.Cols = append(dproj.Cols, nc)
		remap[c.ID] = &ColRef{ID: nc.ID, Name: nc.Name, T: nc.T}
	}
	domain := b.distinct(dproj)
	// Map the outer references of the predicates onto the domain.
	dcols := domain.Columns()
	for i, c := range hostCols {
		remap[c.ID] = &ColRef{ID: dcols[i].ID, Name: dcols[i].Name, T: dcols[i].T}
	}
	for i, p := range preds {
		preds[i] = transformExpr(p, func(x Expr) Expr {
			if r, ok := x.(*ColRef); ok {
				if m, ok := remap[r.ID]; ok {
					return m
				}
			}
			return x
		})
	}
	// A marker column tells inner rows from the padding of the left join.
	marked, marker := b.withMarker(inner)
	join := &LJoin{Left: domain, Right: marked, Type: physical.LeftJoin, Cond: andAll(preds)}
	agg := &LAggregate{Input: join}
	for _, d := range dcols {
		agg.GroupBy = append(agg.GroupBy, &ColRef{ID: d.ID, Name: d.Name, T: d.T})
		agg.Cols = append(agg.Cols, b.newColumn(d.Name, "", d.T))
	}
	for i, a := range s.agg.Aggs {
		if a.Fn == physical.AggCountStar {
			a = AggExpr{Fn: physical.AggCount, Arg: &ColRef{ID: marker.ID, Name: marker.Name, T: marker.T}, T: a.T}
		}
		agg.Aggs = append(agg.Aggs, a)
		agg.Cols = append(agg.Cols, s.agg.Cols[len(s.agg.GroupBy)+i])
	}
	var top LNode = agg
	if s.having != nil {
		top = &LFilter{Input: top, Pred: s.having.Pred}
	}
	// The select list may refer to the outer columns: here the grouped
	// domain values.
	grouped := map[ColumnID]Expr{}
	for i, c := range hostCols {
		g := agg.Cols[i]
		grouped[c.ID] = &ColRef{ID: g.ID, Name: g.Name, T: g.T}
	}
	proj := &LProject{Input: top, Cols: append([]Column{}, s.proj.Cols...)}
	for _, e := range s.proj.Exprs {
		proj.Exprs = append(proj.Exprs, substitute(e, grouped))
	}
	var conds []Expr
	for i, c := range hostCols {
		g := agg.Cols[i]
		proj.Exprs = append(proj.Exprs, &ColRef{ID: g.ID, Name: g.Name, T: g.T})
		proj.Cols = append(proj.Cols, g)
		conds = append(conds, &Func{Fn: physical.FnEq, Arg: []Expr{
			&ColRef{ID: c.ID, Name: c.Name, T: c.T}, &ColRef{ID: g.ID, Name: g.Name, T: g.T}}, T: physical.Boolean})
	}
	return &LJoin{Left: host, Right: proj, Type: physical.LeftJoin, Cond: andAll(conds), NullsEqual: true}, nil
}

// equalityCorrelation reports whether every correlated predicate is
// inner_expr = outer_column, returning both sides.
func equalityCorrelation(preds []Expr, corr map[ColumnID]bool) (inner []Expr, outer []*ColRef, ok bool) {
	for _, p := range preds {
		f, isF := p.(*Func)
		if !isF || f.Fn != physical.FnEq {
			return nil, nil, false
		}
		a, b := f.Arg[0], f.Arg[1]
		if c, isC := a.(*ColRef); isC && corr[c.ID] && !refsAny(b, corr) {
			a, b = b, a
		}
		c, isC := b.(*ColRef)
		if !isC || !corr[c.ID] || refsAny(a, corr) {
			return nil, nil, false
		}
		inner, outer = append(inner, a), append(outer, c)
	}
	return inner, outer, len(inner) > 0
}

// decorrelateByKey handles correlation by equalities only: the aggregate is
// grouped by the inner side of the equalities and left-joined to host on
// them. A host row without inner rows gets the subquery's value over an
// empty input (COUNT 0, other aggregates NULL).
func (b *binder) decorrelateByKey(host, inner LNode, s scalarAgg, keys []Expr, outer []*ColRef) (LNode, error) {
	// When the outer side is much smaller, aggregate only the inner rows
	// some outer row can use: a semi join on the keys first.
	if estimateRows(pushedDown(host))*2 < estimateRows(pushedDown(inner)) {
		keyProj := &LProject{Input: keySource(host, outer)}
		var conds []Expr
		for i, o := range outer {
			c := b.newColumn(o.Name, "", o.T)
			keyProj.Exprs = append(keyProj.Exprs, &ColRef{ID: o.ID, Name: o.Name, T: o.T})
			keyProj.Cols = append(keyProj.Cols, c)
			conds = append(conds, &Func{Fn: physical.FnEq, Arg: []Expr{keys[i], &ColRef{ID: c.ID, Name: c.Name, T: c.T}}, T: physical.Boolean})
		}
		inner = &LJoin{Left: inner, Right: keyProj, Type: physical.SemiJoin, Cond: andAll(conds)}
	}
	agg := &LAggregate{Input: inner}
	for _, k := range keys {
		agg.GroupBy = append(agg.GroupBy, k)
		agg.Cols = append(agg.Cols, b.newColumn("key", "", k.Type()))
	}
	agg.Aggs = append(agg.Aggs, s.agg.Aggs...)
	agg.Cols = append(agg.Cols, s.agg.Cols[len(s.agg.GroupBy):]...)
	var top LNode = agg
	if s.having != nil {
		top = &LFilter{Input: top, Pred: s.having.Pred}
	}
	// The value over an empty input: count → 0, other aggregates → NULL.
	empty := map[ColumnID]Expr{}
	hasCount := false
	for i, a := range s.agg.Aggs {
		c := s.agg.Cols[len(s.agg.GroupBy)+i]
		if a.Fn == physical.AggCount || a.Fn == physical.AggCountStar {
			empty[c.ID] = &Const{Value: int64(0), T: physical.Int64}
			hasCount = true
		} else {
			empty[c.ID] = &Const{T: c.T}
		}
	}
	var conds []Expr
	for i, o := range outer {
		g := agg.Cols[i]
		conds = append(conds, &Func{Fn: physical.FnEq, Arg: []Expr{o, &ColRef{ID: g.ID, Name: g.Name, T: g.T}}, T: physical.Boolean})
	}
	// The values are computed above the join when a host row without
	// inner rows needs more than NULL (COUNT), or when they refer to host
	// columns.
	hostCols := idSet(host.Columns())
	lift := hasCount
	for _, e := range s.proj.Exprs {
		lift = lift || refsAny(e, hostCols)
	}
	if !lift {
		proj := &LProject{Input: top, Exprs: append([]Expr{}, s.proj.Exprs...), Cols: append([]Column{}, s.proj.Cols...)}
		for _, g := range agg.Cols[:len(outer)] {
			proj.Exprs = append(proj.Exprs, &ColRef{ID: g.ID, Name: g.Name, T: g.T})
			proj.Cols = append(proj.Cols, g)
		}
		return &LJoin{Left: host, Right: proj, Type: physical.LeftJoin, Cond: andAll(conds)}, nil
	}
	right, marker := b.withMarker(top)
	join := &LJoin{Left: host, Right: right, Type: physical.LeftJoin, Cond: andAll(conds)}
	empties := make([]Expr, len(s.proj.Exprs))
	for i, e := range s.proj.Exprs {
		empties[i] = substitute(e, empty)
	}
	return liftValues(join, host, s.proj.Cols, marker, s.proj.Exprs, empties), nil
}

// pushedDown is n with its predicates pushed into scans and joins, for
// estimating a plan that has not been optimized yet.
func pushedDown(n LNode) LNode {
	o := &optimizer{}
	out, _ := transformDown(n, func(x LNode) (LNode, bool) { return pushDownPredicates(o, x) })
	return out
}

// keySource returns the smallest part of host that still produces the
// outer key columns: inputs of inner joins and filters whose conditions
// cannot be evaluated there are left out. It yields a superset of host's
// key values, enough for a semi join that only reduces the inner side.
func keySource(host LNode, outer []*ColRef) LNode {
	ids := map[ColumnID]bool{}
	for _, o := range outer {
		ids[o.ID] = true
	}
	var walk func(n LNode) LNode
	walk = func(n LNode) LNode {
		switch x := n.(type) {
		case *LFilter:
			in := walk(x.Input)
			have := idSet(in.Columns())
			var keep []Expr
			for _, c := range conjuncts(x.Pred) {
				if refsWithin(c, have) {
					keep = append(keep, c)
				}
			}
			if len(keep) == 0 {
				return in
			}
			return &LFilter{Input: in, Pred: andAll(keep)}
		case *LJoin:
			if x.Type != physical.InnerJoin && x.Type != physical.SemiJoin && x.Type != physical.LeftJoin {
				return n
			}
			if refsWithinSet(ids, idSet(x.Left.Columns())) {
				return walk(x.Left)
			}
			if x.Type == physical.InnerJoin && refsWithinSet(ids, idSet(x.Right.Columns())) {
				return walk(x.Right)
			}
		}
		return n
	}
	return walk(host)
}

func refsWithinSet(ids, set map[ColumnID]bool) bool {
	for id := range ids {
		if !set[id] {
			return false
		}
	}
	return true
}

// threeValued is CASE WHEN found THEN TRUE WHEN unknown THEN NULL ELSE
// FALSE END: the result of a quantified comparison from its two marks.
func threeValued(found, unknown Expr) Expr {
	return &CaseExpr{
		Whens: []Expr{found, unknown},
		Thens: []Expr{&Const{Value: true, T: physical.Boolean}, &Const{T: physical.Boolean}},
		Else:  &Const{Value: false, T: physical.Boolean},
		T:     physical.Boolean,
	}
}

// splitThreeValued recognises threeValued's form and returns its marks.
func splitThreeValued(e Expr) (found, unknown *ColRef, ok bool) {
	c, isCase := e.(*CaseExpr)
	if !isCase || len(c.Whens) != 2 || c.Else == nil {
		return nil, nil, false
	}
	found, ok1 := c.Whens[0].(*ColRef)
	unknown, ok2 := c.Whens[1].(*ColRef)
	t, ok3 := c.Thens[0].(*Const)
	n, ok4 := c.Thens[1].(*Const)
	f, ok5 := c.Else.(*Const)
	if !(ok1 && ok2 && ok3 && ok4 && ok5) || t.Value != true || n.Value != nil || f.Value != false {
		return nil, nil, false
	}
	return found, unknown, true
}

// expandMarkConjuncts rewrites a filter's conjuncts over quantified
// comparisons, where NULL counts as false: threeValued(f, u) is f, and
// NOT threeValued(f, u) is NOT f AND NOT u. Mark joins under plain marks
// become semi and anti joins.
func expandMarkConjuncts(cs []Expr) ([]Expr, bool) {
	var out []Expr
	changed := false
	for _, c := range cs {
		if f, _, ok := splitThreeValued(c); ok {
			out, changed = append(out, f), true
			continue
		}
		if n, ok := c.(*Func); ok && n.Fn == physical.FnNot {
			if f, u, ok := splitThreeValued(n.Arg[0]); ok {
				out = append(out, &Func{Fn: physical.FnNot, Arg: []Expr{f}, T: physical.Boolean},
					&Func{Fn: physical.FnNot, Arg: []Expr{u}, T: physical.Boolean})
				changed = true
				continue
			}
		}
		out = append(out, c)
	}
	return out, changed
}
