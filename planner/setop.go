package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// setInput is one operand of a set operation with the operator before it.
type setInput struct {
	node  LNode
	names []string
	op    *ast.SetOprType
}

// bindSetOpr binds UNION / INTERSECT / EXCEPT. INTERSECT binds tighter than
// UNION and EXCEPT, which associate left to right.
func (b *binder) bindSetOpr(n *ast.SetOprStmt) (LNode, []string, error) {
	if n.With != nil {
		if err := b.bindWith(n.With, n); err != nil {
			return nil, nil, err
		}
	}
	node, names, err := b.bindSetList(n.SelectList)
	if err != nil {
		return nil, nil, err
	}
	return b.orderAndLimit(node, names, n.OrderBy, n.Limit)
}

func (b *binder) bindSetList(list *ast.SetOprSelectList) (LNode, []string, error) {
	var ins []setInput
	for _, s := range list.Selects {
		var in setInput
		var err error
		switch s := s.(type) {
		case *ast.SelectStmt:
			in.op = s.AfterSetOperator
			in.node, in.names, err = b.bindSelect(s)
		case *ast.SetOprSelectList:
			in.op = s.AfterSetOperator
			in.node, in.names, err = b.bindSetList(s)
		default:
			return nil, nil, sqlerr.New(sqlerr.FeatureNotSupported, "unsupported set operand %T", s)
		}
		if err != nil {
			return nil, nil, err
		}
		ins = append(ins, in)
	}
	// INTERSECT first.
	var merged []setInput
	for _, in := range ins {
		if len(merged) > 0 && in.op != nil && (*in.op == ast.Intersect || *in.op == ast.IntersectAll) {
			last := &merged[len(merged)-1]
			node, err := b.setOp(*in.op, last.node, in.node)
			if err != nil {
				return nil, nil, err
			}
			last.node = node
			continue
		}
		merged = append(merged, in)
	}
	node, names := merged[0].node, merged[0].names
	for _, in := range merged[1:] {
		var err error
		if node, err = b.setOp(*in.op, node, in.node); err != nil {
			return nil, nil, err
		}
	}
	node, names2, err := b.orderAndLimit(node, names, list.OrderBy, list.Limit)
	return node, names2, err
}

// setOp combines two operands, unifying their column types.
func (b *binder) setOp(op ast.SetOprType, l, r LNode) (LNode, error) {
	lc, rc := l.Columns(), r.Columns()
	if len(lc) != len(rc) {
		return nil, sqlerr.New(sqlerr.SyntaxError, "each %s query must have the same number of columns", setOpName(op))
	}
	lp, rp := &LProject{Input: l}, &LProject{Input: r}
	for i := range lc {
		le := Expr(&ColRef{ID: lc[i].ID, Name: lc[i].Name, T: lc[i].T})
		re := Expr(&ColRef{ID: rc[i].ID, Name: rc[i].Name, T: rc[i].T})
		args, t, err := unify(setOpName(op), 0, le, re)
		if err != nil {
			return nil, err
		}
		if isNull(t) {
			t = physical.String
			args = []Expr{castTo(args[0], t), castTo(args[1], t)}
		}
		lp.Exprs, rp.Exprs = append(lp.Exprs, args[0]), append(rp.Exprs, args[1])
		lp.Cols = append(lp.Cols, b.newColumn(lc[i].Name, "", t))
		rp.Cols = append(rp.Cols, b.newColumn(rc[i].Name, "", t))
	}
	switch op {
	case ast.UnionAll, ast.Union:
		u := &LUnion{Ins: []LNode{lp, rp}}
		for _, c := range lp.Cols {
			u.Cols = append(u.Cols, b.newColumn(c.Name, "", c.T))
		}
		if op == ast.UnionAll {
			return u, nil
		}
		return b.distinct(u), nil
	case ast.Intersect, ast.Except:
		left := b.distinct(lp)
		lcols := left.Columns()
		var conds []Expr
		for i := range lcols {
			conds = append(conds, &Func{Fn: physical.FnEq, Arg: []Expr{
				&ColRef{ID: lcols[i].ID, Name: lcols[i].Name, T: lcols[i].T},
				&ColRef{ID: rp.Cols[i].ID, Name: rp.Cols[i].Name, T: rp.Cols[i].T}}, T: physical.Boolean})
		}
		typ := physical.SemiJoin
		if op == ast.Except {
			typ = physical.AntiJoin
		}
		return &LJoin{Left: left, Right: rp, Type: typ, Cond: andAll(conds), NullsEqual: true}, nil
	case ast.IntersectAll, ast.ExceptAll:
		// Multiset semantics: number the copies of each row on both sides
		// (row_number over a partition of all columns) and match copy n
		// with copy n — min(m, n) copies survive INTERSECT ALL, max(m-n, 0)
		// EXCEPT ALL.
		l, lrn := b.numberDuplicates(lp)
		r, rrn := b.numberDuplicates(rp)
		lcols, rcols := l.Columns(), r.Columns()
		var conds []Expr
		for i := range lp.Cols {
			conds = append(conds, &Func{Fn: physical.FnEq, Arg: []Expr{
				&ColRef{ID: lcols[i].ID, Name: lcols[i].Name, T: lcols[i].T},
				&ColRef{ID: rcols[i].ID, Name: rcols[i].Name, T: rcols[i].T}}, T: physical.Boolean})
		}
		conds = append(conds, &Func{Fn: physical.FnEq, Arg: []Expr{
			&ColRef{ID: lrn.ID, Name: lrn.Name, T: lrn.T}, &ColRef{ID: rrn.ID, Name: rrn.Name, T: rrn.T}}, T: physical.Boolean})
		typ := physical.SemiJoin
		if op == ast.ExceptAll {
			typ = physical.AntiJoin
		}
		j := &LJoin{Left: l, Right: r, Type: typ, Cond: andAll(conds), NullsEqual: true}
		out := &LProject{Input: j}
		for _, c := range lp.Cols {
			out.Exprs = append(out.Exprs, &ColRef{ID: c.ID, Name: c.Name, T: c.T})
			out.Cols = append(out.Cols, b.newColumn(c.Name, "", c.T))
		}
		return out, nil
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "%s is not supported yet", setOpName(op))
}

// numberDuplicates adds row_number() OVER (PARTITION BY every column).
func (b *binder) numberDuplicates(n *LProject) (LNode, Column) {
	rn := b.newColumn("copy", "", physical.Int64)
	w := &LWindow{Input: n}
	for _, c := range n.Cols {
		w.Partition = append(w.Partition, &ColRef{ID: c.ID, Name: c.Name, T: c.T})
	}
	w.Funcs = []winFunc{{fn: physical.WinRowNumber, col: rn, frame: physical.Frame{Unit: physical.FrameRows,
		Start: physical.FrameBound{Kind: physical.UnboundedPreceding}, End: physical.FrameBound{Kind: physical.UnboundedFollowing}}}}
	return w, rn
}

// distinct removes duplicate rows, keeping the column IDs.
func (b *binder) distinct(n LNode) LNode {
	d := &LAggregate{Input: n}
	for _, c := range n.Columns() {
		d.GroupBy = append(d.GroupBy, &ColRef{ID: c.ID, Name: c.Name, T: c.T})
		d.Cols = append(d.Cols, b.newColumn(c.Name, c.Table, c.T))
	}
	return d
}

func setOpName(op ast.SetOprType) string {
	return strings.ToUpper(op.String())
}

// orderAndLimit applies ORDER BY (output names or ordinals) and LIMIT to a
// set operation's result.
func (b *binder) orderAndLimit(node LNode, names []string, ob *ast.OrderByClause, lim *ast.Limit) (LNode, []string, error) {
	cols := node.Columns()
	var items []SortItem
	if ob != nil {
		sc := &scope{}
		for i, c := range cols {
			c.Name = names[i]
			c.Table = ""
			sc.cols = append(sc.cols, c)
		}
		var extra []Expr
		for _, oi := range ob.Items {
			var e Expr
			if pe, ok := oi.Expr.(*ast.PositionExpr); ok && pe.P == nil {
				if pe.N < 1 || pe.N > len(cols) {
					return nil, nil, sqlerr.At(sqlerr.InvalidParameterValue, pos(oi.Expr), "ORDER BY position %d is not in select list", pe.N)
				}
				c := cols[pe.N-1]
				e = &ColRef{ID: c.ID, Name: names[pe.N-1], T: c.T}
			} else {
				var err error
				if e, err = b.bindExpr(oi.Expr, sc, false); err != nil {
					return nil, nil, err
				}
			}
			if _, ok := e.(*ColRef); !ok {
				extra = append(extra, e)
			}
			items = append(items, SortItem{Expr: e, Desc: oi.Desc, NullsFirst: nullsFirst(b, oi)})
		}
		if len(extra) > 0 {
			proj := &LProject{Input: node}
			for _, c := range cols {
				proj.Exprs = append(proj.Exprs, &ColRef{ID: c.ID, Name: c.Name, T: c.T})
				proj.Cols = append(proj.Cols, c)
			}
			for i := range items {
				if _, ok := items[i].Expr.(*ColRef); ok {
					continue
				}
				c := b.newColumn("order", "", items[i].Expr.Type())
				proj.Exprs = append(proj.Exprs, items[i].Expr)
				proj.Cols = append(proj.Cols, c)
				items[i].Expr = &ColRef{ID: c.ID, Name: c.Name, T: c.T}
			}
			node = proj
		}
	}
	var spec *limitSpec
	if lim != nil {
		l, err := b.limitValues(lim)
		if err != nil {
			return nil, nil, err
		}
		spec = &l
	}
	node, err := b.applyLimit(node, items, spec, len(cols))
	if err != nil {
		return nil, nil, err
	}
	return node, names, nil
}
