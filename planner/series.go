package planner

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// Series computed per row: generate_series in a select list, and
// generate_series or range beside other FROM items whose columns they
// read (LATERAL, implicit for functions in FROM). Both become an LSeries
// over the rows they expand; constant series in FROM stay VALUES.

// seriesCall is one series: its arguments (integers as BIGINT, dates as
// timestamps), whether its stop is exclusive (range), and the type of its
// values.
type seriesCall struct {
	name              string
	start, stop, step Expr
	exclusive         bool
	t                 arrow.DataType
}

func (s *seriesCall) Type() arrow.DataType { return s.t }
func (s *seriesCall) Args() []Expr         { return []Expr{s.start, s.stop, s.step} }
func (s *seriesCall) WithArgs(a []Expr) Expr {
	c := *s
	c.start, c.stop, c.step = a[0], a[1], a[2]
	return &c
}
func (s *seriesCall) String() string {
	return fmt.Sprintf("%s(%s, %s, %s)", s.name, s.start, s.stop, s.step)
}

// LSeries emits each input row once per value of the longest of its
// series, with one column per series (Cols), shorter series padded with
// NULL; Outer keeps rows whose series are empty, with NULLs.
type LSeries struct {
	Input  LNode
	Series []*seriesCall
	Cols   []Column
	Outer  bool
}

func (n *LSeries) Columns() []Column {
	return append(append([]Column{}, n.Input.Columns()...), n.Cols...)
}
func (n *LSeries) Inputs() []LNode { return []LNode{n.Input} }
func (n *LSeries) WithInputs(in []LNode) LNode {
	c := *n
	c.Input = in[0]
	return &c
}
func (n *LSeries) describe() string {
	var parts []string
	for i, s := range n.Series {
		parts = append(parts, s.String()+" AS "+n.Cols[i].Name)
	}
	out := "Series " + strings.Join(parts, ", ")
	if n.Outer {
		out += " outer"
	}
	return out
}

// exprs and withExprs let the optimizer's expression passes see the
// series' arguments.
func (n *LSeries) exprs() []Expr {
	var out []Expr
	for _, s := range n.Series {
		out = append(out, s.Args()...)
	}
	return out
}

func (n *LSeries) withExprs(es []Expr) LNode {
	c := *n
	c.Series = make([]*seriesCall, len(n.Series))
	for i, s := range n.Series {
		c.Series[i] = s.WithArgs(es[3*i : 3*i+3]).(*seriesCall)
	}
	return &c
}

// newSeriesCall checks and converts the arguments of fname (generate_series
// or range): integers (INTEGER values when all are INTEGER, else BIGINT),
// or dates / timestamps with an interval step (timestamps).
func newSeriesCall(fname string, args []Expr, p int) (*seriesCall, error) {
	s := &seriesCall{name: fname, exclusive: fname == "range"}
	for i, a := range args {
		if c, ok := a.(*Const); ok && c.untypedString {
			args[i] = c.typed()
		}
	}
	switch {
	case fname == "range" && len(args) == 1:
		args = []Expr{&Const{Value: int64(0), T: physical.Int64}, args[0]}
	case len(args) < 2 || len(args) > 3:
		return nil, sqlerr.At(sqlerr.UndefinedFunction, p, "function %s with %d arguments does not exist", fname, len(args))
	}
	temporal := func(t arrow.DataType) bool {
		return t.ID() == arrow.DATE32 || t.ID() == arrow.TIMESTAMP || isNull(t)
	}
	if len(args) == 3 && args[2].Type().ID() == arrow.INTERVAL_MONTH_DAY_NANO && temporal(args[0].Type()) && temporal(args[1].Type()) {
		s.t = physical.Timestamp
		s.start, s.stop, s.step = castTo(args[0], s.t), castTo(args[1], s.t), args[2]
		return s, nil
	}
	s.t = physical.Int32
	for _, a := range args {
		switch t := a.Type(); {
		case t.ID() == arrow.INT64 || fname == "range":
			s.t = physical.Int64
		case t.ID() == arrow.INT32 || isNull(t):
		default:
			var names []string
			for _, a := range args {
				names = append(names, physical.TypeName(a.Type()))
			}
			return nil, sqlerr.At(sqlerr.UndefinedFunction, p, "function %s(%s) does not exist", fname, strings.Join(names, ", "))
		}
	}
	if len(args) == 2 {
		args = append(args, &Const{Value: int64(1), T: physical.Int64})
	}
	s.start, s.stop, s.step = castTo(args[0], physical.Int64), castTo(args[1], physical.Int64), castTo(args[2], physical.Int64)
	return s, nil
}

// bindSeriesCall binds generate_series(…) in a select list.
func (b *binder) bindSeriesCall(e *ast.FuncCallExpr, sc *scope) (Expr, error) {
	if !b.seriesOK {
		return nil, sqlerr.At(sqlerr.FeatureNotSupported, pos(e), "set-returning functions are not allowed here")
	}
	var args []Expr
	for _, a := range e.Args {
		x, err := b.bindExpr(a, sc, true)
		if err != nil {
			return nil, err
		}
		if hasSeries(x) {
			return nil, sqlerr.At(sqlerr.FeatureNotSupported, pos(a), "set-returning functions as arguments of set-returning functions are not supported")
		}
		args = append(args, x)
	}
	return newSeriesCall(e.FnName.L, args, pos(e))
}

func hasSeries(e Expr) bool {
	found := false
	visitExpr(e, func(x Expr) {
		if _, ok := x.(*seriesCall); ok {
			found = true
		}
	})
	return found
}

// planSeries puts an LSeries computing the series calls in exprs over node
// and replaces the calls with its columns (equal calls share one).
func (b *binder) planSeries(node LNode, exprs []*Expr) LNode {
	s := &LSeries{Input: node}
	byKey := map[string]*ColRef{}
	for _, e := range exprs {
		*e = transformExpr(*e, func(x Expr) Expr {
			call, ok := x.(*seriesCall)
			if !ok {
				return x
			}
			k := exprKey(call.start) + "," + exprKey(call.stop) + "," + exprKey(call.step) + fmt.Sprint(call.exclusive)
			if r, ok := byKey[k]; ok {
				return r
			}
			col := b.newColumn(call.name, "", call.t)
			s.Series, s.Cols = append(s.Series, call), append(s.Cols, col)
			byKey[k] = &ColRef{ID: col.ID, Name: col.Name, T: col.T}
			return byKey[k]
		})
	}
	return s
}

// lateralSeries finishes `left JOIN series ON …` where the series reads
// columns of left: the series expands left's rows.
func (b *binder) lateralSeries(n *ast.Join, left LNode, ls *scope, s *LSeries, rs *scope) (LNode, *scope, error) {
	s.Input = left
	sc := &scope{cols: append(append([]Column{}, ls.cols...), rs.cols...)}
	if n.Using != nil || n.NaturalJoin {
		return nil, nil, sqlerr.New(sqlerr.FeatureNotSupported, "USING or NATURAL with a set-returning function reading other FROM items is not supported")
	}
	cond, err := b.bindOn(n, sc)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case n.Tp == ast.LeftJoin:
		if cond != nil {
			return nil, nil, sqlerr.New(sqlerr.FeatureNotSupported, "LEFT JOIN with a set-returning function reading other FROM items needs ON true")
		}
		s.Outer = true
	case n.Tp == ast.RightJoin || n.StraightJoin:
		return nil, nil, sqlerr.New(sqlerr.InvalidColumnReference, "the combining JOIN type must be INNER or LEFT for a LATERAL reference")
	}
	if cond != nil {
		return &LFilter{Input: s, Pred: cond}, sc, nil
	}
	return s, sc, nil
}

func (pb *physBuilder) buildSeries(x *LSeries) (physical.Node, bool, error) {
	in, par, err := pb.build(x.Input)
	if err != nil {
		return nil, false, err
	}
	out := &physical.Series{Base: pb.base(x.Columns()), Input: in, Outer: x.Outer}
	cols := x.Input.Columns()
	for _, s := range x.Series {
		args := make([]physical.Expr, 3)
		for i, a := range s.Args() {
			var err error
			if args[i], err = toPhysicalExpr(a, cols); err != nil {
				return nil, false, err
			}
		}
		out.Series = append(out.Series, physical.SeriesSpec{Start: args[0], Stop: args[1], Step: args[2], Exclusive: s.exclusive})
	}
	return out, par, nil
}
