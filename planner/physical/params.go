package physical

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// FnParam reads statement parameter Args[0] (an int64 Literal; $1 is 0)
// as a value of type T. It appears only in the generic plan of a prepared
// statement, which is kept and bound to each execution's values
// (BindParams) before it runs; executors never see it.
const FnParam = "__param"

// Param is the expression for parameter i (0-based) of type t.
func Param(i int, t arrow.DataType) *Call {
	return &Call{Fn: FnParam, Args: []Expr{&Literal{Value: int64(i), T: arrow.PrimitiveTypes.Int64}}, T: t}
}

// ParamIndex returns the parameter e reads, if e is a parameter.
func ParamIndex(e Expr) (int, bool) {
	c, ok := e.(*Call)
	if !ok || c.Fn != FnParam || len(c.Args) != 1 {
		return 0, false
	}
	l, ok := c.Args[0].(*Literal)
	if !ok {
		return 0, false
	}
	i, ok := l.Value.(int64)
	return int(i), ok
}

// BindParams returns a copy of plan with every parameter replaced by
// values[i] (a Literal of the parameter's type). scan, if not nil, may
// replace a ParquetScan of the copy (after its filter was bound), e.g. with
// the row groups the bound filter leaves. The copy retains the batches of
// its Values nodes, so releasing it leaves plan intact.
func BindParams(plan *Plan, values []*Literal, scan func(*ParquetScan) (*ParquetScan, error)) (*Plan, error) {
	var bindErr error
	expr := func(e Expr) Expr {
		return RewriteExpr(e, func(x Expr) Expr {
			i, ok := ParamIndex(x)
			if !ok {
				return x
			}
			if i < 0 || i >= len(values) || values[i] == nil {
				bindErr = fmt.Errorf("there is no parameter $%d", i+1)
				return x
			}
			return values[i]
		})
	}
	node := func(n Node) (Node, error) {
		s, ok := n.(*ParquetScan)
		if !ok || scan == nil {
			return n, nil
		}
		return scan(s)
	}
	out, err := rewritePlan(plan, expr, node)
	if err == nil {
		err = bindErr
	}
	if err != nil {
		if out != nil {
			out.Release()
		}
		return nil, err
	}
	return out, nil
}

// RewriteExpr returns e with fn applied bottom-up to every subexpression;
// nodes whose arguments did not change are kept.
func RewriteExpr(e Expr, fn func(Expr) Expr) Expr {
	switch x := e.(type) {
	case *Call:
		args, changed := rewriteExprs(x.Args, fn)
		if changed {
			c := *x
			c.Args = args
			return fn(&c)
		}
	case *Case:
		whens, cw := rewriteExprs(x.Whens, fn)
		thens, ct := rewriteExprs(x.Thens, fn)
		var els Expr
		if x.Else != nil {
			els = RewriteExpr(x.Else, fn)
		}
		if cw || ct || els != x.Else {
			return fn(&Case{Whens: whens, Thens: thens, Else: els, T: x.T})
		}
	}
	return fn(e)
}

func rewriteExprs(es []Expr, fn func(Expr) Expr) ([]Expr, bool) {
	var out []Expr
	for i, e := range es {
		r := RewriteExpr(e, fn)
		if r != e && out == nil {
			out = append(make([]Expr, 0, len(es)), es[:i]...)
		}
		if out != nil {
			out = append(out, r)
		}
	}
	if out == nil {
		return es, false
	}
	return out, true
}

// rewritePlan copies plan's fragments and nodes, passing every expression
// through expr and every copied node through node.
func rewritePlan(plan *Plan, expr func(Expr) Expr, node func(Node) (Node, error)) (*Plan, error) {
	out := &Plan{Names: plan.Names, Origins: plan.Origins}
	for _, f := range plan.Fragments {
		root, err := rewriteNode(f.Root, expr, node)
		if err != nil {
			out.Release()
			return nil, err
		}
		c := *f
		c.Root = root
		out.Fragments = append(out.Fragments, &c)
	}
	return out, nil
}

func rewriteNode(n Node, expr func(Expr) Expr, node func(Node) (Node, error)) (Node, error) {
	child := func(c Node) (Node, error) { return rewriteNode(c, expr, node) }
	exprs := func(es []Expr) []Expr {
		out := make([]Expr, len(es))
		for i, e := range es {
			out[i] = expr(e)
		}
		return out
	}
	var out Node
	var err error
	switch x := n.(type) {
	case *ParquetScan:
		c := *x
		if c.Filter != nil {
			c.Filter = expr(c.Filter)
		}
		out = &c
	case *Values:
		c := *x
		for _, b := range c.Batches {
			b.Retain()
		}
		out = &c
	case *ExchangeSource:
		c := *x
		out = &c
	case *Filter:
		c := *x
		c.Pred = expr(c.Pred)
		c.Input, err = child(x.Input)
		out = &c
	case *Project:
		c := *x
		c.Exprs = exprs(x.Exprs)
		c.Input, err = child(x.Input)
		out = &c
	case *Expand:
		c := *x
		c.Projections = make([][]Expr, len(x.Projections))
		for i, p := range x.Projections {
			c.Projections[i] = exprs(p)
		}
		c.Input, err = child(x.Input)
		out = &c
	case *HashAggregate:
		c := *x
		c.GroupBy = exprs(x.GroupBy)
		c.Aggs = append([]AggCall(nil), x.Aggs...)
		for i := range c.Aggs {
			if c.Aggs[i].Arg != nil {
				c.Aggs[i].Arg = expr(c.Aggs[i].Arg)
			}
		}
		c.Input, err = child(x.Input)
		out = &c
	case *Sort:
		c := *x
		c.Input, err = child(x.Input)
		out = &c
	case *TopN:
		c := *x
		c.Input, err = child(x.Input)
		out = &c
	case *Limit:
		c := *x
		c.Input, err = child(x.Input)
		out = &c
	case *HashJoin:
		c := *x
		c.LeftKeys, c.RightKeys = exprs(x.LeftKeys), exprs(x.RightKeys)
		if x.Residual != nil {
			c.Residual = expr(x.Residual)
		}
		if c.Left, err = child(x.Left); err == nil {
			c.Right, err = child(x.Right)
		}
		out = &c
	case *EnforceSingleRow:
		c := *x
		c.Input, err = child(x.Input)
		out = &c
	case *UnionAll:
		c := *x
		c.Inputs = make([]Node, len(x.Inputs))
		for i, in := range x.Inputs {
			if c.Inputs[i], err = child(in); err != nil {
				break
			}
		}
		out = &c
	case *Window:
		c := *x
		c.Funcs = append([]WindowFunc(nil), x.Funcs...)
		for i := range c.Funcs {
			c.Funcs[i].Args = exprs(x.Funcs[i].Args)
		}
		c.Input, err = child(x.Input)
		out = &c
	default:
		return nil, fmt.Errorf("internal error: cannot copy plan node %T", n)
	}
	if err != nil {
		return nil, err
	}
	return node(out)
}
