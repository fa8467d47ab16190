package planner

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quarrydb/quarry/planner/physical"
)

// RuleJoinOrder reorders trees of inner joins.
const RuleJoinOrder = "join_order"

// reorderJoins rewrites a maximal tree of inner (and cross) joins into the
// cheapest tree the estimates find: up to maxDPRelations inputs by dynamic
// programming over bushy trees (each join builds its smaller side, cross
// products only where no equality connects), beyond that greedily. A
// projection restores the original column order.
func reorderJoins(o *optimizer, n LNode) (LNode, bool) {
	j, ok := n.(*LJoin)
	if !ok || j.Type != physical.InnerJoin || j.ordered {
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
	var tree *joinTree
	if len(rels) <= maxDPRelations {
		tree = bestJoinTree(rels, est, sets, conds)
	} else {
		tree = greedyJoinTree(rels, est, sets, conds)
	}
	if tree.shape() == originalShape(j) {
		markOrdered(j) // its sub-trees are settled too
		return n, false
	}
	// Build the tree, placing each condition at the lowest join where all
	// its columns are available.
	placed := make([]bool, len(conds))
	var build func(t *joinTree) (LNode, map[ColumnID]bool)
	build = func(t *joinTree) (LNode, map[ColumnID]bool) {
		if t.left == nil {
			return rels[t.leaf], copyIDs(sets[t.leaf])
		}
		l, lc := build(t.left)
		r, rc := build(t.right)
		for id := range rc {
			lc[id] = true
		}
		var cs []Expr
		for ci, c := range conds {
			if !placed[ci] && refsWithin(c, lc) {
				cs = append(cs, c)
				placed[ci] = true
			}
		}
		return &LJoin{Left: l, Right: r, Type: physical.InnerJoin, Cond: andAll(cs), ordered: true}, lc
	}
	root, _ := build(tree)
	var rest []Expr
	for ci, c := range conds {
		if !placed[ci] {
			rest = append(rest, c)
		}
	}
	if len(rest) > 0 {
		root = &LFilter{Input: root, Pred: andAll(rest)}
	}
	proj := &LProject{Input: root}
	for _, c := range j.Columns() {
		proj.Exprs = append(proj.Exprs, &ColRef{ID: c.ID, Name: c.Name, T: c.T})
		proj.Cols = append(proj.Cols, c)
	}
	return proj, true
}

// maxDPRelations bounds the exhaustive search (3^n splits); larger join
// graphs are ordered greedily.
const maxDPRelations = 10

// joinTree is a join order: a leaf (an input relation) or a join whose
// right side is the build side.
type joinTree struct {
	leaf        int
	left, right *joinTree
	card, cost  float64
}

func (t *joinTree) shape() string {
	if t.left == nil {
		return fmt.Sprint(t.leaf)
	}
	return "(" + t.left.shape() + " " + t.right.shape() + ")"
}

// originalShape is the shape of the inner-join tree j as written, with its
// inputs numbered as reorderJoins flattens them.
func originalShape(j *LJoin) string {
	next := 0
	var walk func(x LNode) string
	walk = func(x LNode) string {
		if jj, ok := x.(*LJoin); ok && jj.Type == physical.InnerJoin {
			l := walk(jj.Left)
			return "(" + l + " " + walk(jj.Right) + ")"
		}
		next++
		return fmt.Sprint(next - 1)
	}
	return walk(j)
}

// Cost model: a join reads its probe side once, builds a hash table of its
// build side (dearer per row) and produces its output.
const buildRowCost = 2

// joinGraph holds what the enumerators need about the inputs and the
// equalities between them.
type joinGraph struct {
	rels  []LNode
	est   []float64
	edges []joinEdge
}

// joinEdge is an equality between expressions over two disjoint sets of
// inputs (bit masks).
type joinEdge struct {
	a, b         Expr
	maskA, maskB uint
}

func newJoinGraph(rels []LNode, est []float64, sets []map[ColumnID]bool, conds []Expr) *joinGraph {
	g := &joinGraph{rels: rels, est: est}
	mask := func(e Expr) uint {
		used := map[ColumnID]bool{}
		columnsUsed(e, used)
		var m uint
		for id := range used {
			for i, s := range sets {
				if s[id] {
					m |= 1 << i
				}
			}
		}
		return m
	}
	for _, c := range conds {
		f, ok := c.(*Func)
		if !ok || f.Fn != physical.FnEq || isConst(f.Arg[0]) || isConst(f.Arg[1]) {
			continue
		}
		ma, mb := mask(f.Arg[0]), mask(f.Arg[1])
		if ma == 0 || mb == 0 || ma&mb != 0 {
			continue
		}
		g.edges = append(g.edges, joinEdge{a: f.Arg[0], b: f.Arg[1], maskA: ma, maskB: mb})
	}
	return g
}

func (g *joinGraph) relsOf(m uint) []LNode {
	var out []LNode
	for i, r := range g.rels {
		if m&(1<<i) != 0 {
			out = append(out, r)
		}
	}
	return out
}

// joinCard estimates |A ⋈ B| from the most selective equality between
// them: |A|·|B| / max(ndv). It reports false when nothing connects them.
func (g *joinGraph) joinCard(a, b uint, ca, cb float64) (float64, bool) {
	best, connected := ca*cb, false
	for _, e := range g.edges {
		x, y := e.a, e.b
		switch {
		case e.maskA&^a == 0 && e.maskB&^b == 0:
		case e.maskA&^b == 0 && e.maskB&^a == 0:
			x, y = y, x
		default:
			continue
		}
		ndv := max(exprNDV(x, g.relsOf(a), ca), exprNDV(y, g.relsOf(b), cb), 1)
		if out := ca * cb / ndv; !connected || out < best {
			best, connected = out, true
		}
	}
	return max(best, 1), connected
}

// join combines two trees, the smaller one as the build side.
func (g *joinGraph) join(l, r *joinTree, lm, rm uint) (*joinTree, bool) {
	card, connected := g.joinCard(lm, rm, l.card, r.card)
	if r.card > l.card {
		l, r = r, l
	}
	return &joinTree{left: l, right: r, card: card,
		cost: l.cost + r.cost + l.card + buildRowCost*r.card + card}, connected
}

// bestJoinTree finds the cheapest join tree, bushy trees included, by
// dynamic programming over subsets of the inputs; cross products are
// considered only for subsets no equality connects.
func bestJoinTree(rels []LNode, est []float64, sets []map[ColumnID]bool, conds []Expr) *joinTree {
	g := newJoinGraph(rels, est, sets, conds)
	n := len(rels)
	best := make([]*joinTree, 1<<n)
	for i := range rels {
		best[1<<i] = &joinTree{leaf: i, card: est[i], cost: est[i]}
	}
	for s := uint(1); s < 1<<n; s++ {
		if best[s] != nil {
			continue
		}
		var bestConn, bestCross *joinTree
		// Each split once: the part holding the lowest input is the left.
		low := s & -s
		for a := (s - 1) & s; a > 0; a = (a - 1) & s {
			if a&low == 0 {
				continue
			}
			b := s &^ a
			t, connected := g.join(best[a], best[b], a, b)
			if connected {
				if bestConn == nil || t.cost < bestConn.cost {
					bestConn = t
				}
			} else if bestCross == nil || t.cost < bestCross.cost {
				bestCross = t
			}
		}
		if bestConn != nil {
			best[s] = bestConn
		} else {
			best[s] = bestCross
		}
	}
	return best[1<<n-1]
}

// greedyJoinTree builds a left-deep tree: the largest input is probed,
// and each next input is the one connected to what is joined so far with
// the smallest estimated output.
func greedyJoinTree(rels []LNode, est []float64, sets []map[ColumnID]bool, conds []Expr) *joinTree {
	used := make([]bool, len(rels))
	first := 0
	for i := range rels {
		if est[i] > est[first] {
			first = i
		}
	}
	used[first] = true
	have := copyIDs(sets[first])
	tree := &joinTree{leaf: first, card: est[first]}
	curRels := []LNode{rels[first]}
	for k := 1; k < len(rels); k++ {
		best, bestConnected, bestOut := -1, false, 0.0
		for i := range rels {
			if used[i] {
				continue
			}
			out, connected := joinOutput(conds, have, curRels, tree.card, sets[i], rels[i], est[i])
			switch {
			case best < 0,
				connected && !bestConnected,
				connected == bestConnected && (out < bestOut || out == bestOut && est[i] < est[best]):
				best, bestConnected, bestOut = i, connected, out
			}
		}
		used[best] = true
		curRels = append(curRels, rels[best])
		tree = &joinTree{left: tree, right: &joinTree{leaf: best, card: est[best]}, card: bestOut}
		for id := range sets[best] {
			have[id] = true
		}
	}
	return tree
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
	if ndv, ok := rangeNDV(n, id); ok {
		return ndv, true
	}
	s, _, ok := findScanColumn(n, id)
	if !ok {
		return 0, false
	}
	return float64(max(s.Dataset.Rows, 1)), true
}

// rangeNDV is the distinct values of the scan column id under n where its
// min/max statistics bound them (integer and date columns), at most its
// row count.
func rangeNDV(n LNode, id ColumnID) (float64, bool) {
	s, ord, ok := findScanColumn(n, id)
	if !ok {
		return 0, false
	}
	lo, hi, ok := scanColumnRange(s, ord)
	if !ok {
		return 0, false
	}
	return min(float64(max(s.Dataset.Rows, 1)), float64(hi-lo+1)), true
}

// findScanColumn finds the scan under n that produces column id and the
// column's position in the dataset.
func findScanColumn(n LNode, id ColumnID) (*LScan, int, bool) {
	if r, ok := n.(*LSharedRef); ok {
		for i, c := range r.Cols {
			if c.ID == id {
				return findScanColumn(r.Shared.plan, r.Source[i])
			}
		}
		return nil, 0, false
	}
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

// markOrdered flags the inner joins of the tree j, whose order the rule
// found best, so that it does not reorder their sub-trees on its way down
// (a flag on immutable nodes: it only saves work).
func markOrdered(j *LJoin) {
	j.ordered = true
	for _, in := range []LNode{j.Left, j.Right} {
		if jj, ok := in.(*LJoin); ok && jj.Type == physical.InnerJoin {
			markOrdered(jj)
		}
	}
}
