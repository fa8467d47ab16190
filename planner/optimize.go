package planner

import (
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quarrydb/quarry/planner/physical"
)

// A rule rewrites one node of a logical plan; it reports whether it changed
// anything. Rules are applied bottom-up over the whole tree until none fires.
type rule struct {
	name  string
	apply func(o *optimizer, n LNode) (LNode, bool)
	// topDown rules see the nodes they create (a pushed-down filter keeps
	// sinking in the same pass); others run bottom-up.
	topDown bool
}

// Rule names, usable in Planner.Disabled.
const (
	RuleConstantFolding    = "constant_folding"
	RulePredicatePushdown  = "predicate_pushdown"
	RuleLimitPushdown      = "limit_pushdown"
	RuleProjectionPruning  = "projection_pruning"
	RuleRowGroupPruning    = "row_group_pruning"
	RuleMergeProjections   = "merge_projections"
	RuleRemoveTrivialNodes = "remove_trivial_nodes"
)

var normalizeRules = []rule{
	{RuleConstantFolding, foldConstants, false},
	{RulePredicatePushdown, pushDownPredicates, true},
	{RuleLimitPushdown, pushDownLimit, false},
	{RuleRemoveTrivialNodes, removeTrivialNodes, false},
	{RuleMergeProjections, mergeProjections, false},
}

// mergeProjections folds a projection into the projection below it.
func mergeProjections(o *optimizer, n LNode) (LNode, bool) {
	top, ok := n.(*LProject)
	if !ok {
		return n, false
	}
	below, ok := top.Input.(*LProject)
	if !ok {
		return n, false
	}
	sub := map[ColumnID]Expr{}
	for i, c := range below.Cols {
		sub[c.ID] = below.Exprs[i]
	}
	c := &LProject{Input: below.Input, Cols: top.Cols}
	for _, e := range top.Exprs {
		c.Exprs = append(c.Exprs, transformExpr(e, func(x Expr) Expr {
			if r, ok := x.(*ColRef); ok {
				if s, ok := sub[r.ID]; ok {
					return s
				}
			}
			return x
		}))
	}
	return c, true
}

type optimizer struct {
	p     *Planner
	b     *binder
	fired map[string]int
	err   error
}

// optimize runs the rule phases over a bound plan.
func (o *optimizer) optimize(n LNode) (LNode, error) {
	want := n.Columns()
	n, err := o.normalize(n, want, true)
	if err != nil {
		return nil, err
	}
	// Filters implied by disjunctions in join conditions are derived once
	// (the rule is not idempotent); join order is explored once the
	// predicates sit in the joins. Both leave predicates to push again.
	for _, r := range []rule{
		{RuleDisjunctionFilters, deriveDisjunctionFilters, false},
		{RuleJoinOrder, reorderJoins, true},
	} {
		changed := false
		if n, changed, err = o.once(r, n, want, true); err != nil {
			return nil, err
		}
		if changed {
			if n, err = o.normalize(n, want, false); err != nil {
				return nil, err
			}
		}
	}
	if n, _, err = o.once(rule{RuleCommonSubexpressions, eliminateCommonSubexpressions, false}, n, want, true); err != nil {
		return nil, err
	}
	if !o.p.Disabled[RuleProjectionPruning] {
		next, ch := pruneColumns(n, nil)
		if ch {
			o.fired[RuleProjectionPruning]++
		}
		if err := checkSchema(RuleProjectionPruning, want, next.Columns()); err != nil {
			return nil, err
		}
		n = next
	}
	return n, nil
}

// optimizeShared optimizes the shared WITH queries n reads, directly or
// through each other, each for the columns its references still read
// after they were optimized, and returns them, referencing queries first.
func (o *optimizer) optimizeShared(n LNode) ([]*sharedCTE, error) {
	var all []*sharedCTE
	seen := map[*sharedCTE]bool{}
	var collect func(n LNode)
	collect = func(n LNode) {
		eachSharedRef(n, func(r *LSharedRef) {
			if !seen[r.Shared] {
				seen[r.Shared] = true
				all = append(all, r.Shared)
				collect(r.Shared.plan)
			}
		})
	}
	collect(n)
	// A query only references queries bound before it (lower IDs).
	slices.SortFunc(all, func(a, b *sharedCTE) int { return b.id - a.id })
	for i, s := range all {
		need := map[ColumnID]bool{}
		mark := func(r *LSharedRef) {
			if r.Shared == s {
				for _, id := range r.Source {
					need[id] = true
				}
			}
		}
		eachSharedRef(n, mark)
		for _, t := range all[:i] {
			eachSharedRef(t.plan, mark)
		}
		plan := s.plan
		if cols := plan.Columns(); len(need) < len(cols) {
			p := &LProject{Input: plan}
			for _, c := range cols {
				if need[c.ID] {
					p.Cols = append(p.Cols, c)
					p.Exprs = append(p.Exprs, &ColRef{ID: c.ID, Name: c.Name, T: c.T})
				}
			}
			plan = p
		}
		var err error
		if s.plan, err = o.optimize(plan); err != nil {
			return nil, err
		}
	}
	return all, nil
}

// eachSharedRef calls fn for every shared WITH reference in n (not those
// inside the shared queries).
func eachSharedRef(n LNode, fn func(*LSharedRef)) {
	if r, ok := n.(*LSharedRef); ok {
		fn(r)
	}
	for _, in := range n.Inputs() {
		eachSharedRef(in, fn)
	}
}

// normalize applies the normalize rules until none fires. count says
// whether their firings are reported (the passes that only push down what
// a one-shot rule produced are not).
func (o *optimizer) normalize(n LNode, want []Column, count bool) (LNode, error) {
	for iter := 0; iter < 50; iter++ {
		changed := false
		for _, r := range normalizeRules {
			var ch bool
			var err error
			if n, ch, err = o.once(r, n, want, count); err != nil {
				return nil, err
			}
			changed = changed || ch
		}
		if !changed {
			break
		}
	}
	return n, nil
}

// once applies r over the whole tree one time (unless disabled), counts
// it (when count) if it fired and checks that the output schema did not
// change.
func (o *optimizer) once(r rule, n LNode, want []Column, count bool) (LNode, bool, error) {
	if o.p.Disabled[r.name] {
		return n, false, nil
	}
	next, ch := r.run(o, n)
	if o.err != nil {
		return nil, false, o.err
	}
	if !ch {
		return n, false, nil
	}
	if err := checkSchema(r.name, want, next.Columns()); err != nil {
		return nil, false, err
	}
	if count {
		o.fired[r.name]++
	}
	return next, true, nil
}

// run applies the rule over the whole tree once.
func (r rule) run(o *optimizer, n LNode) (LNode, bool) {
	fn := func(x LNode) (LNode, bool) { return r.apply(o, x) }
	if r.topDown {
		return transformDown(n, fn)
	}
	return transformUp(n, fn)
}

func checkSchema(rule string, want, got []Column) error {
	if len(want) != len(got) {
		return fmt.Errorf("optimizer rule %s changed the output from %d to %d columns", rule, len(want), len(got))
	}
	for i := range want {
		if want[i].ID != got[i].ID || !arrow.TypeEqual(want[i].T, got[i].T) {
			return fmt.Errorf("optimizer rule %s changed output column %d (%s)", rule, i, want[i].Name)
		}
	}
	return nil
}

// transformDown rewrites the tree top-down with fn: a node fn replaced is
// not visited again, its inputs are.
func transformDown(n LNode, fn func(LNode) (LNode, bool)) (LNode, bool) {
	changed := false
	for i := 0; i < 100; i++ {
		next, ch := fn(n)
		if !ch {
			break
		}
		n, changed = next, true
	}
	ins := n.Inputs()
	if len(ins) == 0 {
		return n, changed
	}
	newIns := make([]LNode, len(ins))
	ch := false
	for i, c := range ins {
		var cch bool
		newIns[i], cch = transformDown(c, fn)
		ch = ch || cch
	}
	if ch {
		n = n.WithInputs(newIns)
	}
	return n, changed || ch
}

// transformUp rewrites the tree bottom-up with fn.
func transformUp(n LNode, fn func(LNode) (LNode, bool)) (LNode, bool) {
	changed := false
	ins := n.Inputs()
	if len(ins) > 0 {
		newIns := make([]LNode, len(ins))
		for i, c := range ins {
			nc, ch := transformUp(c, fn)
			newIns[i] = nc
			changed = changed || ch
		}
		if changed {
			n = n.WithInputs(newIns)
		}
	}
	out, ch := fn(n)
	return out, changed || ch
}

// nodeExprs returns the expressions a node holds and a function that builds
// the node with replacements.
func nodeExprs(n LNode) ([]Expr, func([]Expr) LNode) {
	switch n := n.(type) {
	case *LFilter:
		return []Expr{n.Pred}, func(es []Expr) LNode { c := *n; c.Pred = es[0]; return &c }
	case *LProject:
		return n.Exprs, func(es []Expr) LNode { c := *n; c.Exprs = es; return &c }
	case *LScan:
		return n.Filters, func(es []Expr) LNode { c := *n; c.Filters = es; return &c }
	case *LJoin:
		if n.Cond == nil {
			return nil, nil
		}
		return []Expr{n.Cond}, func(es []Expr) LNode { c := *n; c.Cond = es[0]; return &c }
	case *LAggregate:
		es := append([]Expr{}, n.GroupBy...)
		for _, a := range n.Aggs {
			if a.Arg != nil {
				es = append(es, a.Arg)
			}
		}
		return es, func(es []Expr) LNode {
			c := *n
			c.GroupBy = es[:len(n.GroupBy)]
			c.Aggs = append([]AggExpr{}, n.Aggs...)
			k := len(n.GroupBy)
			for i := range c.Aggs {
				if c.Aggs[i].Arg != nil {
					c.Aggs[i].Arg = es[k]
					k++
				}
			}
			return &c
		}
	case *LExpand:
		var es []Expr
		for _, p := range n.Exprs {
			es = append(es, p...)
		}
		return es, func(es []Expr) LNode {
			c := *n
			c.Exprs = make([][]Expr, len(n.Exprs))
			for i, p := range n.Exprs {
				c.Exprs[i], es = es[:len(p)], es[len(p):]
			}
			return &c
		}
	case *LSeries:
		return n.exprs(), n.withExprs
	case *LSort:
		es := make([]Expr, len(n.Items))
		for i, it := range n.Items {
			es[i] = it.Expr
		}
		return es, func(es []Expr) LNode {
			c := *n
			c.Items = append([]SortItem{}, n.Items...)
			for i := range c.Items {
				c.Items[i].Expr = es[i]
			}
			return &c
		}
	}
	return nil, nil
}

// ---- constant folding ----

func foldConstants(o *optimizer, n LNode) (LNode, bool) {
	exprs, rebuild := nodeExprs(n)
	if rebuild == nil {
		return n, false
	}
	changed := false
	out := make([]Expr, len(exprs))
	for i, e := range exprs {
		out[i] = transformExpr(e, func(x Expr) Expr {
			y := o.foldExpr(x)
			if y != x {
				changed = true
			}
			return y
		})
	}
	if !changed {
		return n, false
	}
	return rebuild(out), true
}

// foldExpr simplifies one expression node whose arguments are already
// folded.
func (o *optimizer) foldExpr(e Expr) Expr {
	switch x := e.(type) {
	case *Const, *ColRef, *aggCall:
		return e
	case *Func:
		if x.Fn == physical.FnOr {
			if f, ok := factorDisjunction(x); ok {
				return f
			}
		}
		switch x.Fn {
		case physical.FnAnd, physical.FnOr:
			// x AND true = x, x AND false = false; x OR true = true, x OR false = x.
			absorbing := x.Fn == physical.FnOr
			for i, a := range x.Arg {
				if c, ok := a.(*Const); ok && c.Value != nil {
					if c.Value.(bool) == absorbing {
						return &Const{Value: absorbing, T: physical.Boolean}
					}
					return x.Arg[1-i]
				}
			}
		}
	}
	// An evaluation error is left for execution, which reports it when
	// (and only if) a row needs it.
	if c, err := o.p.evalConst(e); c != nil && err == nil {
		return c
	}
	return e
}

// factorDisjunction pulls conjuncts common to both sides out of an OR:
// (a AND b) OR (a AND c) → a AND (b OR c). It exposes join keys hidden in
// disjunctions (TPC-H Q19).
func factorDisjunction(or *Func) (Expr, bool) {
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
	sets := make([][]Expr, len(branches))
	for i, b := range branches {
		sets[i] = conjuncts(b)
	}
	var common []Expr
	for _, c := range sets[0] {
		inAll := true
		for _, s := range sets[1:] {
			found := false
			for _, d := range s {
				if exprEqual(c, d) {
					found = true
					break
				}
			}
			if !found {
				inAll = false
				break
			}
		}
		if inAll {
			common = append(common, c)
		}
	}
	if len(common) == 0 {
		return nil, false
	}
	var rest Expr
	for _, s := range sets {
		var left []Expr
		for _, d := range s {
			isCommon := false
			for _, c := range common {
				if exprEqual(c, d) {
					isCommon = true
					break
				}
			}
			if !isCommon {
				left = append(left, d)
			}
		}
		if len(left) == 0 {
			// One branch is just the common part: the OR is implied.
			return andAll(common), true
		}
		b := andAll(left)
		if rest == nil {
			rest = b
		} else {
			rest = &Func{Fn: physical.FnOr, Arg: []Expr{rest, b}, T: physical.Boolean}
		}
	}
	return andAll(append(common, rest)), true
}

// ---- predicate pushdown ----

func pushDownPredicates(o *optimizer, n LNode) (LNode, bool) {
	if j, ok := n.(*LJoin); ok {
		if r, ok := pushSemiJoin(j); ok {
			return r, true
		}
		return pushJoinCondition(j)
	}
	if u, ok := n.(*LFilter); ok {
		if un, ok := u.Input.(*LUnion); ok {
			return pushFilterIntoUnion(u, un), true
		}
	}
	f, ok := n.(*LFilter)
	if !ok {
		return n, false
	}
	switch in := f.Input.(type) {
	case *LFilter:
		return &LFilter{Input: in.Input, Pred: andAll([]Expr{in.Pred, f.Pred})}, true
	case *LScan:
		c := *in
		c.Filters = append(append([]Expr{}, in.Filters...), conjuncts(f.Pred)...)
		return &c, true
	case *LSort:
		return &LSort{Input: &LFilter{Input: in.Input, Pred: f.Pred}, Items: in.Items}, true
	case *LJoin:
		return pushFilterIntoJoin(f, in)
	case *LProject:
		sub := map[ColumnID]Expr{}
		for i, c := range in.Cols {
			sub[c.ID] = in.Exprs[i]
		}
		pred := transformExpr(f.Pred, func(x Expr) Expr {
			if c, ok := x.(*ColRef); ok {
				if r, ok := sub[c.ID]; ok {
					return r
				}
			}
			return x
		})
		c := *in
		c.Input = &LFilter{Input: in.Input, Pred: pred}
		return &c, true
	case *LAggregate:
		if len(in.GroupBy) == 0 {
			return n, false
		}
		sub := map[ColumnID]Expr{}
		for i, g := range in.GroupBy {
			sub[in.Cols[i].ID] = g
		}
		var below, above []Expr
		for _, cj := range conjuncts(f.Pred) {
			used := map[ColumnID]bool{}
			columnsUsed(cj, used)
			ok := true
			for id := range used {
				if _, g := sub[id]; !g {
					ok = false
				}
			}
			if !ok {
				above = append(above, cj)
				continue
			}
			below = append(below, transformExpr(cj, func(x Expr) Expr {
				if c, ok := x.(*ColRef); ok {
					if r, ok := sub[c.ID]; ok {
						return r
					}
				}
				return x
			}))
		}
		if len(below) == 0 {
			return n, false
		}
		c := *in
		c.Input = &LFilter{Input: in.Input, Pred: andAll(below)}
		if len(above) == 0 {
			return &c, true
		}
		return &LFilter{Input: &c, Pred: andAll(above)}, true
	}
	return n, false
}

// pushFilterIntoJoin moves the conjuncts of a filter above a join to where
// they can be evaluated earliest without changing the join's meaning.
func pushFilterIntoJoin(f *LFilter, j *LJoin) (LNode, bool) {
	// A filter on a mark join's mark is a semi or anti join.
	if j.Type == physical.MarkJoin {
		if r, ok := markFilterToJoin(f, j); ok {
			return r, true
		}
	}
	lset, rset := idSet(j.Left.Columns()), idSet(j.Right.Columns())
	var toLeft, toRight, toCond, keep []Expr
	for _, c := range conjuncts(f.Pred) {
		switch {
		case isConst(c):
			keep = append(keep, c)
		case refsWithin(c, lset) && j.Type != physical.RightJoin && j.Type != physical.FullJoin:
			toLeft = append(toLeft, c)
		case refsWithin(c, rset) && (j.Type == physical.InnerJoin || j.Type == physical.RightJoin):
			toRight = append(toRight, c)
		case j.Type == physical.InnerJoin && refsWithin(c, unionSet(lset, rset)):
			toCond = append(toCond, c)
		default:
			keep = append(keep, c)
		}
	}
	if len(toLeft)+len(toRight)+len(toCond) == 0 {
		return f, false
	}
	c := *j
	if len(toLeft) > 0 {
		c.Left = &LFilter{Input: j.Left, Pred: andAll(toLeft)}
	}
	if len(toRight) > 0 {
		c.Right = &LFilter{Input: j.Right, Pred: andAll(toRight)}
	}
	if len(toCond) > 0 {
		c.Cond = andAll(append(conjunctsOrNil(j.Cond), toCond...))
	}
	if len(keep) == 0 {
		return &c, true
	}
	return &LFilter{Input: &c, Pred: andAll(keep)}, true
}

// pushSemiJoin moves a semi or (plain) anti join below an inner join when
// its condition references only one input of that join: filtering rows
// before the join is the same as after it, and cheaper.
//
//	(A ⋈ B) ⋉ R  →  (A ⋉ R) ⋈ B   when the condition uses only A and R
func pushSemiJoin(j *LJoin) (LNode, bool) {
	if j.Type != physical.SemiJoin && j.Type != physical.AntiJoin {
		return nil, false
	}
	in, ok := j.Left.(*LJoin)
	if !ok || in.Type != physical.InnerJoin || j.Cond == nil {
		return nil, false
	}
	rset := idSet(j.Right.Columns())
	for side := 0; side < 2; side++ {
		child := in.Left
		if side == 1 {
			child = in.Right
		}
		if !refsWithin(j.Cond, unionSet(idSet(child.Columns()), rset)) {
			continue
		}
		pushed := *j
		pushed.Left = child
		c := *in
		if side == 0 {
			c.Left = &pushed
		} else {
			c.Right = &pushed
		}
		return &c, true
	}
	return nil, false
}

// pushJoinCondition moves conjuncts of a join condition that reference one
// side only into that side, where the join's meaning allows.
func pushJoinCondition(j *LJoin) (LNode, bool) {
	if j.Cond == nil {
		return j, false
	}
	lset, rset := idSet(j.Left.Columns()), idSet(j.Right.Columns())
	leftOK := j.Type == physical.InnerJoin || j.Type == physical.RightJoin || j.Type == physical.SemiJoin
	rightOK := j.Type != physical.RightJoin && j.Type != physical.FullJoin
	var toLeft, toRight, keep []Expr
	for _, c := range conjuncts(j.Cond) {
		switch {
		case isConst(c):
			keep = append(keep, c)
		case leftOK && refsWithin(c, lset):
			toLeft = append(toLeft, c)
		case rightOK && refsWithin(c, rset):
			toRight = append(toRight, c)
		default:
			keep = append(keep, c)
		}
	}
	if len(toLeft)+len(toRight) == 0 {
		return j, false
	}
	c := filterSides(j, toLeft, toRight)
	c.Cond = andAll(keep)
	return c, true
}

// filterSides is j with its inputs filtered by toLeft and toRight.
func filterSides(j *LJoin, toLeft, toRight []Expr) *LJoin {
	c := *j
	if len(toLeft) > 0 {
		c.Left = &LFilter{Input: j.Left, Pred: andAll(toLeft)}
	}
	if len(toRight) > 0 {
		c.Right = &LFilter{Input: j.Right, Pred: andAll(toRight)}
	}
	return &c
}

// pushFilterIntoUnion applies the filter to every input of a union.
func pushFilterIntoUnion(f *LFilter, u *LUnion) LNode {
	c := &LUnion{Cols: u.Cols}
	for _, in := range u.Ins {
		sub := map[ColumnID]Expr{}
		for i, col := range in.Columns() {
			sub[u.Cols[i].ID] = &ColRef{ID: col.ID, Name: col.Name, T: col.T}
		}
		pred := transformExpr(f.Pred, func(x Expr) Expr {
			if r, ok := x.(*ColRef); ok {
				if s, ok := sub[r.ID]; ok {
					return s
				}
			}
			return x
		})
		c.Ins = append(c.Ins, &LFilter{Input: in, Pred: pred})
	}
	return c
}

func conjunctsOrNil(e Expr) []Expr {
	if e == nil {
		return nil
	}
	return conjuncts(e)
}

func unionSet(a, b map[ColumnID]bool) map[ColumnID]bool {
	out := make(map[ColumnID]bool, len(a)+len(b))
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// markFilterToJoin turns Filter(mark) into a semi join and Filter(NOT mark)
// into an anti join (null-aware for NOT IN), re-adding the mark as a
// constant so the schema above stays the same.
func markFilterToJoin(f *LFilter, j *LJoin) (LNode, bool) {
	cs := conjuncts(f.Pred)
	if ex, changed := expandMarkConjuncts(cs); changed {
		return &LFilter{Input: f.Input, Pred: andAll(ex)}, true
	}
	for i, c := range cs {
		typ, markVal := physical.JoinType(-1), false
		if r, ok := c.(*ColRef); ok && r.ID == j.Mark.ID {
			typ, markVal = physical.SemiJoin, true
		} else if n, ok := c.(*Func); ok && n.Fn == physical.FnNot {
			if r, ok := n.Arg[0].(*ColRef); ok && r.ID == j.Mark.ID {
				typ = physical.AntiJoin
				if j.NullAware {
					typ = physical.NullAwareAntiJoin
				}
			}
		}
		if typ < 0 {
			continue
		}
		if typ == physical.NullAwareAntiJoin && !nullAwareSingleKey(j) {
			return nil, false
		}
		nj := *j
		nj.Type = typ
		proj := &LProject{Input: &nj}
		for _, col := range j.Left.Columns() {
			proj.Exprs = append(proj.Exprs, &ColRef{ID: col.ID, Name: col.Name, T: col.T})
			proj.Cols = append(proj.Cols, col)
		}
		proj.Exprs = append(proj.Exprs, &Const{Value: markVal, T: physical.Boolean})
		proj.Cols = append(proj.Cols, j.Mark)
		rest := append(append([]Expr{}, cs[:i]...), cs[i+1:]...)
		if len(rest) == 0 {
			return proj, true
		}
		return &LFilter{Input: proj, Pred: andAll(rest)}, true
	}
	return nil, false
}

// nullAwareSingleKey reports whether a null-aware join's condition is one
// equality between the sides (what NullAwareAntiJoin supports).
func nullAwareSingleKey(j *LJoin) bool {
	lk, _, res := splitJoinCond(j.Cond, j.Left.Columns(), j.Right.Columns())
	return len(lk) == 1 && len(res) == 0
}

// ---- limit pushdown ----

func pushDownLimit(o *optimizer, n LNode) (LNode, bool) {
	l, ok := n.(*LLimit)
	if !ok || l.N < 0 {
		return n, false
	}
	switch in := l.Input.(type) {
	case *LProject:
		c := *in
		c.Input = &LLimit{Input: in.Input, Offset: l.Offset, N: l.N}
		return &c, true
	case *LLimit:
		// Limit of a limit: combine.
		off := in.Offset + l.Offset
		nn := l.N
		if in.N >= 0 {
			nn = max(0, min(l.N, in.N-l.Offset))
		}
		return &LLimit{Input: in.Input, Offset: off, N: nn}, true
	case *LScan:
		if len(in.Filters) == 0 && (in.Limit < 0 || in.Limit > l.Offset+l.N) {
			c := *in
			c.Limit = l.Offset + l.N
			return &LLimit{Input: &c, Offset: l.Offset, N: l.N}, true
		}
	}
	return n, false
}

// ---- trivial nodes ----

func removeTrivialNodes(o *optimizer, n LNode) (LNode, bool) {
	switch x := n.(type) {
	case *LFilter:
		if c, ok := x.Pred.(*Const); ok {
			if c.Value == true {
				return x.Input, true
			}
			// Always false or NULL: no rows.
			return &LValues{Cols: x.Columns()}, true
		}
	case *LLimit:
		if x.N < 0 && x.Offset == 0 {
			return x.Input, true
		}
	case *LProject:
		// A projection that only repeats its input's columns.
		in := x.Input.Columns()
		if len(in) == len(x.Exprs) {
			for i, e := range x.Exprs {
				c, ok := e.(*ColRef)
				if !ok || c.ID != in[i].ID || x.Cols[i].ID != in[i].ID {
					return n, false
				}
			}
			return x.Input, true
		}
	}
	return n, false
}

// ---- projection pruning ----

// pruneColumns removes columns nobody above needs. required nil means all
// output columns are required (the root).
func pruneColumns(n LNode, required map[ColumnID]bool) (LNode, bool) {
	need := func(c Column) bool { return required == nil || required[c.ID] }
	switch x := n.(type) {
	case *LScan:
		var cols []Column
		var ords []int
		used := map[ColumnID]bool{}
		for _, f := range x.Filters {
			columnsUsed(f, used)
		}
		for i, c := range x.Cols {
			if need(c) || used[c.ID] {
				cols = append(cols, c)
				ords = append(ords, x.Ordinals[i])
			}
		}
		if len(cols) == 0 && len(x.Cols) > 0 {
			// Something must be read to count rows: the cheapest column.
			k := cheapestColumn(x.Cols)
			cols, ords = []Column{x.Cols[k]}, []int{x.Ordinals[k]}
		}
		if len(cols) == len(x.Cols) {
			return x, false
		}
		c := *x
		c.Cols, c.Ordinals = cols, ords
		return &c, true
	case *LValues:
		return x, false
	case *LRecursive:
		// Both terms keep every column: a pass feeds the next.
		anchor, ch1 := pruneColumns(x.Anchor, nil)
		step, ch2 := pruneColumns(x.Step, nil)
		if !ch1 && !ch2 {
			return x, false
		}
		c := *x
		c.Anchor, c.Step = anchor, step
		return &c, true
	case *LSeries:
		// Every series stays: it decides how many rows there are.
		req := copySet(required, x.Columns())
		for _, e := range x.exprs() {
			columnsUsed(e, req)
		}
		in, ch := pruneColumns(x.Input, req)
		if !ch {
			return x, false
		}
		c := *x
		c.Input = in
		return &c, true
	case *LSharedRef:
		c := *x
		c.Cols, c.Source = nil, nil
		for i, col := range x.Cols {
			if need(col) {
				c.Cols = append(c.Cols, col)
				c.Source = append(c.Source, x.Source[i])
			}
		}
		if len(c.Cols) == 0 && len(x.Cols) > 0 {
			k := cheapestColumn(x.Cols)
			c.Cols, c.Source = []Column{x.Cols[k]}, []ColumnID{x.Source[k]}
		}
		if len(c.Cols) == len(x.Cols) {
			return x, false
		}
		return &c, true
	case *LFilter:
		req := copySet(required, x.Columns())
		columnsUsed(x.Pred, req)
		in, ch := pruneColumns(x.Input, req)
		if !ch {
			return x, false
		}
		return &LFilter{Input: in, Pred: x.Pred}, true
	case *LProject:
		c := *x
		changed := false
		if required != nil {
			c.Exprs, c.Cols = nil, nil
			for i, col := range x.Cols {
				if required[col.ID] {
					c.Exprs = append(c.Exprs, x.Exprs[i])
					c.Cols = append(c.Cols, col)
				}
			}
			changed = len(c.Cols) != len(x.Cols)
		}
		req := map[ColumnID]bool{}
		for _, e := range c.Exprs {
			columnsUsed(e, req)
		}
		in, ch := pruneColumns(x.Input, req)
		c.Input = in
		return &c, changed || ch
	case *LAggregate:
		req := map[ColumnID]bool{}
		for _, g := range x.GroupBy {
			columnsUsed(g, req)
		}
		for _, a := range x.Aggs {
			if a.Arg != nil {
				columnsUsed(a.Arg, req)
			}
		}
		in, ch := pruneColumns(x.Input, req)
		if !ch {
			return x, false
		}
		c := *x
		c.Input = in
		return &c, true
	case *LSort:
		req := copySet(required, x.Columns())
		for _, it := range x.Items {
			columnsUsed(it.Expr, req)
		}
		in, ch := pruneColumns(x.Input, req)
		if !ch {
			return x, false
		}
		return &LSort{Input: in, Items: x.Items}, true
	case *LLimit:
		in, ch := pruneColumns(x.Input, copySet(required, x.Columns()))
		if !ch {
			return x, false
		}
		c := *x
		c.Input = in
		return &c, true
	case *LWindow:
		req := copySet(required, x.Columns())
		for _, e := range x.Partition {
			columnsUsed(e, req)
		}
		for _, o := range x.Order {
			columnsUsed(o.Expr, req)
		}
		for _, f := range x.Funcs {
			for _, a := range f.args {
				columnsUsed(a, req)
			}
		}
		in, ch := pruneColumns(x.Input, req)
		if !ch {
			return x, false
		}
		c := *x
		c.Input = in
		return &c, true
	case *LExpand:
		var keep []int
		req := map[ColumnID]bool{}
		for i, c := range x.Cols {
			if need(c) {
				keep = append(keep, i)
				for _, p := range x.Exprs {
					columnsUsed(p[i], req)
				}
			}
		}
		in, ch := pruneColumns(x.Input, req)
		if !ch && len(keep) == len(x.Cols) {
			return x, false
		}
		c := &LExpand{Input: in}
		for _, i := range keep {
			c.Cols = append(c.Cols, x.Cols[i])
		}
		for _, p := range x.Exprs {
			var es []Expr
			for _, i := range keep {
				es = append(es, p[i])
			}
			c.Exprs = append(c.Exprs, es)
		}
		return c, true
	case *LSingleRow:
		in, ch := pruneColumns(x.Input, copySet(required, x.Columns()))
		if !ch {
			return x, false
		}
		return &LSingleRow{Input: in}, true
	case *LJoin:
		req := copySet(required, x.Columns())
		if x.Cond != nil {
			columnsUsed(x.Cond, req)
		}
		l, lch := pruneColumns(x.Left, req)
		r, rch := pruneColumns(x.Right, req)
		if !lch && !rch {
			return x, false
		}
		c := *x
		c.Left, c.Right = l, r
		return &c, true
	case *LUnion:
		keep := make([]bool, len(x.Cols))
		n := 0
		for i, col := range x.Cols {
			keep[i] = required == nil || required[col.ID]
			if keep[i] {
				n++
			}
		}
		if n == 0 && len(x.Cols) > 0 {
			keep[0], n = true, 1
		}
		changed := n != len(x.Cols)
		c := &LUnion{}
		for i, col := range x.Cols {
			if keep[i] {
				c.Cols = append(c.Cols, col)
			}
		}
		for _, in := range x.Ins {
			// Each input keeps the kept positions, through a projection.
			cols := in.Columns()
			proj := &LProject{Input: in}
			req := map[ColumnID]bool{}
			for i, col := range cols {
				if keep[i] {
					proj.Exprs = append(proj.Exprs, &ColRef{ID: col.ID, Name: col.Name, T: col.T})
					proj.Cols = append(proj.Cols, col)
					req[col.ID] = true
				}
			}
			var pin LNode = proj
			if !changed {
				pin = in
			}
			pruned, ch := pruneColumns(pin, req)
			changed = changed || ch
			c.Ins = append(c.Ins, pruned)
		}
		if !changed {
			return x, false
		}
		return c, true
	}
	return n, false
}

// copySet returns a copy of required, or all of cols when required is nil.
func copySet(required map[ColumnID]bool, cols []Column) map[ColumnID]bool {
	out := map[ColumnID]bool{}
	if required == nil {
		for _, c := range cols {
			out[c.ID] = true
		}
		return out
	}
	for k, v := range required {
		out[k] = v
	}
	return out
}

func cheapestColumn(cols []Column) int {
	best, bestW := 0, 1<<30
	for i, c := range cols {
		w := 16
		if fw, ok := c.T.(arrow.FixedWidthDataType); ok {
			w = fw.BitWidth()
		}
		if w < bestW {
			best, bestW = i, w
		}
	}
	return best
}
