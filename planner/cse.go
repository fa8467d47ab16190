package planner

import (
	"fmt"
	"strings"

	"github.com/quarrydb/quarry/planner/physical"
)

// RuleCommonSubexpressions computes expressions that several aggregate
// arguments share once, in a projection below the aggregate.
const RuleCommonSubexpressions = "common_subexpressions"

// exprKey is a structural key of e (column IDs, not names).
func exprKey(e Expr) string {
	var b strings.Builder
	var walk func(e Expr)
	walk = func(e Expr) {
		switch x := e.(type) {
		case *ColRef:
			fmt.Fprintf(&b, "#%d", x.ID)
			return
		case *Const:
			fmt.Fprintf(&b, "%s:%s", x.String(), x.T)
			return
		case *Func:
			b.WriteString(x.Fn + ":" + x.T.String())
		case *CaseExpr:
			b.WriteString("case:" + x.T.String())
		default:
			b.WriteString(e.String())
			return
		}
		b.WriteByte('(')
		for i, a := range e.Args() {
			if i > 0 {
				b.WriteByte(',')
			}
			walk(a)
		}
		b.WriteByte(')')
	}
	walk(e)
	return b.String()
}

// eliminateCommonSubexpressions rewrites an aggregate whose arguments share
// a non-trivial subexpression: the largest shared one becomes a column of a
// projection below, until nothing is shared.
func eliminateCommonSubexpressions(o *optimizer, n LNode) (LNode, bool) {
	agg, ok := n.(*LAggregate)
	if !ok || len(agg.Aggs) < 2 {
		return n, false
	}
	args := make([]Expr, len(agg.Aggs))
	for i, a := range agg.Aggs {
		args[i] = a.Arg
	}
	var newCols []Column
	var newExprs []Expr
	for {
		counts := map[string]int{}
		exprs := map[string]Expr{}
		for _, a := range args {
			if a == nil {
				continue
			}
			seen := map[string]bool{}
			visitExpr(a, func(x Expr) {
				switch x := x.(type) {
				case *Func:
					if x.Fn == physical.AggArgPair {
						return // holds two arguments; only they are values
					}
				case *CaseExpr:
				default:
					return
				}
				if !isConst(x) {
					k := exprKey(x)
					if !seen[k] {
						counts[k]++
						seen[k] = true
					}
					exprs[k] = x
				}
			})
		}
		best := ""
		for k, c := range counts {
			if c >= 2 && (len(k) > len(best) || len(k) == len(best) && k < best) {
				best = k
			}
		}
		if best == "" {
			break
		}
		e := exprs[best]
		col := o.b.newColumn("cse", "", e.Type())
		newCols, newExprs = append(newCols, col), append(newExprs, e)
		for i, a := range args {
			if a == nil {
				continue
			}
			args[i] = transformExpr(a, func(x Expr) Expr {
				if exprKey(x) == best {
					return &ColRef{ID: col.ID, Name: col.Name, T: col.T}
				}
				return x
			})
		}
	}
	if len(newCols) == 0 {
		return n, false
	}
	proj := &LProject{Input: agg.Input}
	for _, c := range agg.Input.Columns() {
		proj.Exprs = append(proj.Exprs, &ColRef{ID: c.ID, Name: c.Name, T: c.T})
		proj.Cols = append(proj.Cols, c)
	}
	proj.Exprs = append(proj.Exprs, newExprs...)
	proj.Cols = append(proj.Cols, newCols...)
	c := *agg
	c.Input = proj
	c.Aggs = append([]AggExpr{}, agg.Aggs...)
	for i := range c.Aggs {
		c.Aggs[i].Arg = args[i]
	}
	return &c, true
}
