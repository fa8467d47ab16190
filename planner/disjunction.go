package planner

import "github.com/quarrydb/quarry/planner/physical"

// RuleDisjunctionFilters derives filters for one input of a join from an
// OR in its condition.
const RuleDisjunctionFilters = "disjunction_filters"

// deriveDisjunctionFilters: for a join condition conjunct
// (a1 AND b1) OR (a2 AND b2), where the a's reference only the left input,
// (a1 OR a2) is implied for the left rows that can match, so it filters the
// left input before the join (likewise for the right of an inner join).
// The OR itself stays in the condition. TPC-H Q7 and Q19 need this to
// filter nations and parts before joining lineitem.
func deriveDisjunctionFilters(o *optimizer, n LNode) (LNode, bool) {
	j, ok := n.(*LJoin)
	if !ok || j.Cond == nil || j.Type != physical.InnerJoin {
		return n, false
	}
	lset, rset := idSet(j.Left.Columns()), idSet(j.Right.Columns())
	var toLeft, toRight []Expr
	for _, c := range conjuncts(j.Cond) {
		f, ok := c.(*Func)
		if !ok || f.Fn != physical.FnOr {
			continue
		}
		if d := impliedFor(f, lset); d != nil {
			toLeft = append(toLeft, d)
		}
		if d := impliedFor(f, rset); d != nil {
			toRight = append(toRight, d)
		}
	}
	if len(toLeft)+len(toRight) == 0 {
		return n, false
	}
	return filterSides(j, toLeft, toRight), true
}

// impliedFor returns OR over the branches of or of their conjuncts that
// reference only set, or nil when some branch has none.
func impliedFor(or *Func, set map[ColumnID]bool) Expr {
	var branches []Expr
	var flat func(e Expr)
	flat = func(e Expr) {
		if f, ok := e.(*Func); ok && f.Fn == physical.FnOr {
			flat(f.Arg[0])
			flat(f.Arg[1])
			return
		}
		branches = append(branches, e)
	}
	flat(or)
	var out Expr
	for _, b := range branches {
		var mine []Expr
		for _, c := range conjuncts(b) {
			if !isConst(c) && refsWithin(c, set) {
				mine = append(mine, c)
			}
		}
		if len(mine) == 0 {
			return nil
		}
		if out == nil {
			out = andAll(mine)
		} else {
			out = &Func{Fn: physical.FnOr, Arg: []Expr{out, andAll(mine)}, T: physical.Boolean}
		}
	}
	return out
}
