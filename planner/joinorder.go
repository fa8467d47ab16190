package planner

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quarrydb/quarry/planner/physical"
)

// RuleJoinOrder reorders trees of inner joins.
const RuleJoinOrder = "join_order"

// reorderJoins rewrites a maximal tree of inner (and cross) joins into a
// left-deep tree: the largest input (by estimate) is probed, and each next
// input is the smallest one connected to what is joined so far by an
// equality (a cross product only when nothing is connected). Every build
// side is thus as small as the estimates allow. A projection restores the
// original column order.
func reorderJoins(o *optimizer, n LNode) (LNode, bool) {
	j, ok := n.(*LJoin)
	if !ok || j.Type != physical.InnerJoin {
		return n, false
	}
	var rels []LNode
	var conds []Expr
	var flatten func(x LNode)
	flatten = func(x LNode) {
		if jj, ok := x.(*LJoin); ok && jj.Type == physical.InnerJoin {
			flatten(jj.Left)
			flatten(jj.Right)
			if jj.Cond != nil {
				conds = append(conds, conjuncts(jj.Cond)...)
			}
			return
		}
		rels = append(rels, x)
	}
	flatten(j)
	if len(rels) < 2 {
		return n, false
	}
	est := make([]float64, len(rels))
	sets := make([]map[ColumnID]bool, len(rels))
	for i, r := range rels {
		est[i] = estimateRows(r)
		sets[i] = idSet(r.Columns())
	}
	order := []int{}
	used := make([]bool, len(rels))
	// Start with the largest input.
	first := 0
	for i := range rels {
		if est[i] > est[first] {
			first = i
		}
	}
	order = append(order, first)
	used[first] = true
	have := copyIDs(sets[first])
	cur := est[first]
	var curRels []LNode
	curRels = append(curRels, rels[first])
	for len(order) < len(rels) {
		best, bestConnected, bestOut := -1, false, 0.0
		for i := range rels {
			if used[i] {
				continue
			}
			out, connected := joinOutput(conds, have, curRels, cur, sets[i], rels[i], est[i])
			switch {
			case best < 0,
				connected && !bestConnected,
				connected == bestConnected && (out < bestOut || out == bestOut && est[i] < est[best]):
				best, bestConnected, bestOut = i, connected, out
			}
		}
		order = append(order, best)
		used[best] = true
		curRels = append(curRels, rels[best])
		cur = bestOut
		for id := range sets[best] {
			have[id] = true
		}
	}
	// Same order as before: nothing to do (keeps the rule from looping).
	same := true
	for i, k := range order {
		if i != k {
			same = false
		}
	}
	if same {
		return n, false
	}
	// Build the left-deep tree, placing each condition at the first join
	// where all its columns are available.
	placed := make([]bool, len(conds))
	var tree LNode = rels[order[0]]
	have = copyIDs(sets[order[0]])
	for _, k := range order[1:] {
		for id := range sets[k] {
			have[id] = true
		}
		var cs []Expr
		for ci, c := range conds {
			if !placed[ci] && refsWithin(c, have) {
				cs = append(cs, c)
				placed[ci] = true
			}
		}
		tree = &LJoin{Left: tree, Right: rels[k], Type: physical.InnerJoin, Cond: andAll(cs)}
	}
	var rest []Expr
	for ci, c := range conds {
		if !placed[ci] {
			rest = append(rest, c)
		}
	}
	if len(rest) > 0 {
		tree = &LFilter{Input: tree, Pred: andAll(rest)}
	}
	proj := &LProject{Input: tree}
	for _, c := range j.Columns() {
		proj.Exprs = append(proj.Exprs, &ColRef{ID: c.ID, Name: c.Name, T: c.T})
		proj.Cols = append(proj.Cols, c)
	}
	return proj, true
}

// joinOutput estimates the rows of joining the current tree (cur rows, the
// relations curRels, columns have) with relation r (rows est, columns set):
// |cur|·|r| / max(ndv) for the most selective equality between them, or a
// cross product when nothing connects them.
func joinOutput(conds []Expr, have map[ColumnID]bool, curRels []LNode, cur float64, set map[ColumnID]bool, r LNode, est float64) (float64, bool) {
	best, connected := cur*est, false
	for _, c := range conds {
		f, ok := c.(*Func)
		if !ok || f.Fn != physical.FnEq || isConst(f.Arg[0]) || isConst(f.Arg[1]) {
			continue
		}
		a, b := f.Arg[0], f.Arg[1]
		if refsWithin(b, have) && refsWithin(a, set) {
			a, b = b, a
		}
		if !(refsWithin(a, have) && refsWithin(b, set)) {
			continue
		}
		ndv := max(exprNDV(a, curRels, cur), exprNDV(b, []LNode{r}, est), 1)
		out := cur * est / ndv
		if !connected || out < best {
			best, connected = out, true
		}
	}
	return best, connected
}

// exprNDV estimates the distinct values of e over relations of rows rows:
// from the scan statistics' min/max for integer and date columns, else
// rows (as if e were a key).
func exprNDV(e Expr, rels []LNode, rows float64) float64 {
	c, ok := e.(*ColRef)
	if !ok {
		return rows
	}
	for _, r := range rels {
		if ndv, ok := columnNDV(r, c.ID); ok {
			return min(ndv, rows)
		}
	}
	return rows
}

// columnNDV estimates the distinct values of the scan column id under n
// from the dataset's statistics: its min/max span for integer and date
// columns, else its row count (as if it were a key).
func columnNDV(n LNode, id ColumnID) (float64, bool) {
	s, ord, ok := findScanColumn(n, id)
	if !ok {
		return 0, false
	}
	rows := float64(max(s.Dataset.Rows, 1))
	if lo, hi, ok := scanColumnRange(s, ord); ok {
		return min(rows, float64(hi-lo+1)), true
	}
	return rows, true
}

// findScanColumn finds the scan under n that produces column id and the
// column's position in the dataset.
func findScanColumn(n LNode, id ColumnID) (*LScan, int, bool) {
	if s, ok := n.(*LScan); ok {
		for i, c := range s.Cols {
			if c.ID == id {
				return s, s.Ordinals[i], true
			}
		}
		return nil, 0, false
	}
	for _, in := range n.Inputs() {
		if s, ord, ok := findScanColumn(in, id); ok {
			return s, ord, true
		}
	}
	return nil, 0, false
}

// scanColumnRange is the dataset-wide min and max of an integer or date
// column, from its row-group statistics.
func scanColumnRange(s *LScan, ord int) (lo, hi int64, ok bool) {
	for _, f := range s.Dataset.Files {
		for _, rg := range f.RowGroups {
			if ord >= len(rg.Columns) || !rg.Columns[ord].HasMinMax {
				return 0, 0, false
			}
			mn, ok1 := asInt(rg.Columns[ord].Min)
			mx, ok2 := asInt(rg.Columns[ord].Max)
			if !ok1 || !ok2 {
				return 0, 0, false
			}
			if !ok || mn < lo {
				lo = mn
			}
			if !ok || mx > hi {
				hi = mx
			}
			ok = true
		}
	}
	return lo, hi, ok
}

func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case arrow.Date32:
		return int64(x), true
	}
	return 0, false
}

func copyIDs(s map[ColumnID]bool) map[ColumnID]bool {
	out := make(map[ColumnID]bool, len(s))
	for k := range s {
		out[k] = true
	}
	return out
}
