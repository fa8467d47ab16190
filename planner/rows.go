package planner

import (
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// Row constructors — (a, b) or ROW(a, b) — in comparisons, IN lists and IN
// subqueries become comparisons of their fields, with PostgreSQL's
// semantics: rows are equal when every pair of fields is, and ordered by
// their first unequal pair; a NULL pair met before the answer is known
// makes the result NULL.

// rowFields returns the fields of a row constructor, or nil if e is not
// one.
func rowFields(e ast.ExprNode) []ast.ExprNode {
	for {
		p, ok := e.(*ast.ParenthesesExpr)
		if !ok {
			break
		}
		e = p.Expr
	}
	if r, ok := e.(*ast.RowExpr); ok {
		return r.Values
	}
	return nil
}

// bindRow binds the fields of a row constructor.
func (b *binder) bindRow(fields []ast.ExprNode, sc *scope, allowAgg bool) ([]Expr, error) {
	out := make([]Expr, len(fields))
	for i, f := range fields {
		if rowFields(f) != nil {
			return nil, sqlerr.At(sqlerr.FeatureNotSupported, pos(f), "nested row constructors are not supported")
		}
		var err error
		if out[i], err = b.bindExpr(f, sc, allowAgg); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// bindRowComparison binds l op r where one side is a row constructor.
func (b *binder) bindRowComparison(e *ast.BinaryOperationExpr, sc *scope, allowAgg bool) (Expr, error) {
	lf, rf := rowFields(e.L), rowFields(e.R)
	if lf == nil || rf == nil {
		return nil, sqlerr.At(sqlerr.FeatureNotSupported, pos(e), "a row constructor can only be compared with another row constructor")
	}
	l, err := b.bindRow(lf, sc, allowAgg)
	if err != nil {
		return nil, err
	}
	r, err := b.bindRow(rf, sc, allowAgg)
	if err != nil {
		return nil, err
	}
	return b.compareRows(e.Op, l, r, pos(e))
}

// compareRows is l op r for rows of fields.
func (b *binder) compareRows(op opcode.Op, l, r []Expr, p int) (Expr, error) {
	if len(l) != len(r) {
		return nil, sqlerr.At(sqlerr.SyntaxError, p, "unequal number of entries in row expressions")
	}
	if len(l) == 0 {
		return nil, sqlerr.At(sqlerr.FeatureNotSupported, p, "cannot compare rows of zero length")
	}
	pairs := func(op opcode.Op) ([]Expr, error) {
		out := make([]Expr, len(l))
		for i := range l {
			var err error
			if out[i], err = b.binary(op, l[i], r[i], p); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	switch op {
	case opcode.EQ, opcode.NullEQ:
		eq, err := pairs(op)
		if err != nil {
			return nil, err
		}
		return andAll(eq), nil
	case opcode.NE:
		ne, err := pairs(op)
		if err != nil {
			return nil, err
		}
		return orAll(ne), nil
	case opcode.LT, opcode.LE, opcode.GT, opcode.GE:
		strict := map[opcode.Op]opcode.Op{opcode.LT: opcode.LT, opcode.LE: opcode.LT, opcode.GT: opcode.GT, opcode.GE: opcode.GT}[op]
		less, err := pairs(strict)
		if err != nil {
			return nil, err
		}
		eq, err := pairs(opcode.EQ)
		if err != nil {
			return nil, err
		}
		// The last pair decides with op itself; each earlier one decides
		// when unequal and defers to the rest when equal.
		out, err := b.binary(op, l[len(l)-1], r[len(r)-1], p)
		if err != nil {
			return nil, err
		}
		for i := len(l) - 2; i >= 0; i-- {
			out = orAll([]Expr{less[i], andAll([]Expr{eq[i], out})})
		}
		return out, nil
	}
	return nil, sqlerr.At(sqlerr.FeatureNotSupported, p, "operator %s is not supported for rows", op)
}

// bindRowIn binds (a, b) [NOT] IN ((…), (…)) and (a, b) [NOT] IN (SELECT …).
func (b *binder) bindRowIn(e *ast.PatternInExpr, fields []ast.ExprNode, sc *scope, allowAgg bool) (Expr, error) {
	v, err := b.bindRow(fields, sc, allowAgg)
	if err != nil {
		return nil, err
	}
	if e.Sel != nil {
		sq, ok := e.Sel.(*ast.SubqueryExpr)
		if !ok {
			return nil, sqlerr.At(sqlerr.FeatureNotSupported, pos(e), "unsupported IN")
		}
		return b.markSubquery(sq.Query, sc, v, opcode.EQ, e.Not, true, e)
	}
	var alts []Expr
	for _, item := range e.List {
		rf := rowFields(item)
		if rf == nil {
			return nil, sqlerr.At(sqlerr.SyntaxError, pos(item), "IN list items must be rows of %d entries", len(v))
		}
		r, err := b.bindRow(rf, sc, allowAgg)
		if err != nil {
			return nil, err
		}
		eq, err := b.compareRows(opcode.EQ, v, r, pos(item))
		if err != nil {
			return nil, err
		}
		alts = append(alts, eq)
	}
	out := orAll(alts)
	if e.Not {
		out = &Func{Fn: physical.FnNot, Arg: []Expr{out}, T: physical.Boolean}
	}
	return out, nil
}

// orAll is the disjunction of es (which must not be empty).
func orAll(es []Expr) Expr {
	out := es[0]
	for _, e := range es[1:] {
		out = &Func{Fn: physical.FnOr, Arg: []Expr{out, e}, T: physical.Boolean}
	}
	return out
}
