package planner

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// GROUPING SETS, ROLLUP and CUBE.
//
// TiDB's grammar has none of them (only MySQL's trailing WITH ROLLUP), so
// the pre-parse layer rewrites the GROUP BY list into the plain list of
// the distinct expressions it mentions, followed by a marker item
// __grouping_sets('0,1;0;') that lists each grouping set as indices into
// that list. The binder takes the marker off and plans the query as an
// Expand (one copy of every input row per set, with the keys outside the
// set NULL and the set's number as an extra key) under one aggregate.

// groupingSetsFn is the marker item's function name.
const groupingSetsFn = "__grouping_sets"

// rewriteGroupingSets examines the GROUP BY list starting at significant
// token k (just after BY); when it holds ROLLUP, CUBE or GROUPING SETS it
// fills replace so that the list becomes plain items plus the marker.
func rewriteGroupingSets(ts *stmtTokens, k int, replace map[int]string) {
	at := ts.at
	// The list ends at a clause keyword or a closing parenthesis at its
	// own depth.
	end := k
	for depth := 0; end < len(ts.st); end++ {
		t := at(end)
		if t.text == "(" {
			depth++
		} else if t.text == ")" {
			if depth == 0 {
				break
			}
			depth--
		} else if depth == 0 && (t.text == ";" || t.is("having") || t.is("order") || t.is("limit") ||
			t.is("window") || t.is("union") || t.is("intersect") || t.is("except") || t.is("offset") || t.is("qualify")) {
			break
		}
	}
	var exprs []string
	index := map[string]int{}
	add := func(from, to int) int { // an expression [from, to)
		s := ts.text(from, to-1)
		key := strings.ToLower(strings.Join(strings.Fields(s), " "))
		if i, ok := index[key]; ok {
			return i
		}
		index[key] = len(exprs)
		exprs = append(exprs, s)
		return len(exprs) - 1
	}
	// group reads `e` or `(e1, e2)` or `()` as one group of expressions.
	group := func(from, to int) []int {
		if at(from).text == "(" && at(to-1).text == ")" && ts.closing(from) == to-1 {
			var g []int
			for _, p := range ts.splitTopLevel(from+1, to-1) {
				g = append(g, add(p[0], p[1]))
			}
			return g
		}
		return []int{add(from, to)}
	}
	special := false
	var items [][][]int // per list item, its grouping sets
	for _, p := range ts.splitTopLevel(k, end) {
		a, b := p[0], p[1]
		t := at(a)
		switch {
		case (t.is("rollup") || t.is("cube")) && at(a+1).text == "(" && ts.closing(a+1) == b-1:
			special = true
			var groups [][]int
			for _, q := range ts.splitTopLevel(a+2, b-1) {
				groups = append(groups, group(q[0], q[1]))
			}
			if t.is("rollup") {
				items = append(items, rollupSets(groups))
			} else {
				items = append(items, cubeSets(groups))
			}
		case t.is("grouping") && at(a+1).is("sets") && at(a+2).text == "(" && ts.closing(a+2) == b-1:
			special = true
			var sets [][]int
			for _, q := range ts.splitTopLevel(a+3, b-1) {
				if at(q[0]).is("rollup") || at(q[0]).is("cube") || at(q[0]).is("grouping") {
					return // nested constructs: left for the parser to reject
				}
				sets = append(sets, group(q[0], q[1]))
			}
			items = append(items, sets)
		case at(a).text == "(" && at(b-1).text == ")" && ts.closing(a) == b-1 && b-a == 2:
			special = true // () alone: the empty grouping set
			items = append(items, [][]int{{}})
		default:
			items = append(items, [][]int{{add(a, b)}})
		}
	}
	if !special {
		return
	}
	sets := [][]int{{}}
	for _, it := range items {
		var next [][]int
		for _, s := range sets {
			for _, x := range it {
				next = append(next, union(s, x))
			}
		}
		sets = next
	}
	var spec []string
	for _, s := range sets {
		var ids []string
		for _, i := range s {
			ids = append(ids, strconv.Itoa(i))
		}
		spec = append(spec, strings.Join(ids, ","))
	}
	list := strings.Join(append(exprs, groupingSetsFn+"('"+strings.Join(spec, ";")+"')"), ", ")
	first, last := ts.sig[k], ts.sig[end-1]
	replace[first] = list
	blank(replace, first+1, last)
}

func union(a, b []int) []int {
	out := append([]int{}, a...)
	for _, x := range b {
		dup := false
		for _, y := range out {
			dup = dup || x == y
		}
		if !dup {
			out = append(out, x)
		}
	}
	return out
}

// rollupSets: ROLLUP(g1, …, gn) is the sets g1…gn, g1…gn-1, …, ().
func rollupSets(groups [][]int) [][]int {
	var out [][]int
	for n := len(groups); n >= 0; n-- {
		var s []int
		for _, g := range groups[:n] {
			s = union(s, g)
		}
		out = append(out, s)
	}
	return out
}

// cubeSets: CUBE(g1, …, gn) is every subset of the groups.
func cubeSets(groups [][]int) [][]int {
	var out [][]int
	n := len(groups)
	for m := (1 << n) - 1; m >= 0; m-- {
		var s []int
		for i, g := range groups {
			if m&(1<<(n-1-i)) != 0 {
				s = union(s, g)
			}
		}
		out = append(out, s)
	}
	return out
}

// parseGroupingSets decodes the marker's argument.
func parseGroupingSets(spec string, nkeys int) ([][]int, error) {
	var sets [][]int
	for _, part := range strings.Split(spec, ";") {
		s := []int{}
		for _, f := range strings.Split(part, ",") {
			if f == "" {
				continue
			}
			i, err := strconv.Atoi(f)
			if err != nil || i < 0 || i >= nkeys {
				return nil, sqlerr.New(sqlerr.InternalError, "bad grouping sets marker %q", spec)
			}
			s = append(s, i)
		}
		sets = append(sets, s)
	}
	return sets, nil
}

// LExpand emits each input row once per projection (see physical.Expand).
type LExpand struct {
	Input LNode
	Exprs [][]Expr // per projection, one expression per output column
	Cols  []Column
}

func (n *LExpand) Columns() []Column { return n.Cols }
func (n *LExpand) Inputs() []LNode   { return []LNode{n.Input} }
func (n *LExpand) WithInputs(in []LNode) LNode {
	c := *n
	c.Input = in[0]
	return &c
}
func (n *LExpand) describe() string {
	return fmt.Sprintf("Expand sets=%d %s", len(n.Exprs), colNames(n.Cols))
}

// groupingPlan is the grouping-sets state of the SELECT being bound.
type groupingPlan struct {
	sets [][]int
	nkey int
	gid  Column // the set number (an extra group key)
}

// expandForGroupingSets puts an Expand under the aggregate: its output is
// the input's columns, then the keys (NULL outside the set), then the set
// number.
func (b *binder) expandForGroupingSets(input LNode, keys []Expr, sets [][]int) (*LExpand, []Column, Column) {
	ex := &LExpand{Input: input}
	ex.Cols = append(ex.Cols, input.Columns()...)
	var keyCols []Column
	for i, k := range keys {
		name := fmt.Sprintf("group%d", i)
		if c, ok := k.(*ColRef); ok {
			name = c.Name
		}
		keyCols = append(keyCols, b.newColumn(name, "", k.Type()))
	}
	ex.Cols = append(ex.Cols, keyCols...)
	gid := b.newColumn("grouping_set", "", physical.Int64)
	ex.Cols = append(ex.Cols, gid)
	for si, s := range sets {
		in := map[int]bool{}
		for _, i := range s {
			in[i] = true
		}
		var es []Expr
		for _, c := range input.Columns() {
			es = append(es, &ColRef{ID: c.ID, Name: c.Name, T: c.T})
		}
		for i, k := range keys {
			if in[i] {
				es = append(es, k)
			} else {
				es = append(es, &Const{T: k.Type()})
			}
		}
		es = append(es, &Const{Value: int64(si), T: physical.Int64})
		ex.Exprs = append(ex.Exprs, es)
	}
	return ex, keyCols, gid
}

// groupingValue is GROUPING(args…) for the current grouping sets: per set,
// a bit for each argument (the last argument the lowest bit), set when the
// argument is not grouped in that set.
func (b *binder) groupingValue(args []Expr, keys []Expr, gp *groupingPlan, gidRef Expr) (Expr, error) {
	idx := make([]int, len(args))
	for i, a := range args {
		idx[i] = -1
		for j, k := range keys {
			if exprEqual(a, k) {
				idx[i] = j
			}
		}
		if idx[i] < 0 {
			return nil, sqlerr.New(sqlerr.GroupingError, "arguments to GROUPING must be grouping expressions of the associated query level")
		}
	}
	value := func(set []int) int64 {
		in := map[int]bool{}
		for _, k := range set {
			in[k] = true
		}
		var v int64
		for i, j := range idx {
			if !in[j] {
				v |= 1 << (len(idx) - 1 - i)
			}
		}
		return v
	}
	if gp == nil {
		return &Const{Value: int32(0), T: physical.Int32}, nil
	}
	c := &CaseExpr{T: physical.Int32, Else: &Const{Value: int32(0), T: physical.Int32}}
	for si, s := range gp.sets {
		c.Whens = append(c.Whens, &Func{Fn: physical.FnEq, Arg: []Expr{gidRef, &Const{Value: int64(si), T: physical.Int64}}, T: physical.Boolean})
		c.Thens = append(c.Thens, &Const{Value: int32(value(s)), T: physical.Int32})
	}
	return c, nil
}

// groupingState is what GROUPING(…) needs while the SELECT list of an
// aggregate query is rewritten.
type groupingState struct {
	plan *groupingPlan // nil for a plain GROUP BY
	keys []Expr
	gid  Expr
}

// groupingCall is GROUPING(args…) as bound inside the SELECT list, HAVING
// or ORDER BY, before the GROUP BY is known; rewritePostAgg resolves it.
const groupingCallFn = "__grouping"
