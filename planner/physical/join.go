package physical

// JoinType is the kind of a join.
type JoinType int

const (
	// InnerJoin emits left ++ right for every matching pair.
	InnerJoin JoinType = iota
	// LeftJoin also emits unmatched left rows padded with NULLs.
	LeftJoin
	// RightJoin also emits unmatched right rows padded with NULLs.
	RightJoin
	// FullJoin emits unmatched rows of both sides padded with NULLs.
	FullJoin
	// SemiJoin emits each left row (left columns only) that has a match.
	SemiJoin
	// AntiJoin emits each left row (left columns only) that has no match.
	AntiJoin
	// NullAwareAntiJoin is NOT IN: like AntiJoin, except that when the right
	// side has at least one row it emits nothing if some right key is NULL,
	// and never emits a left row whose key is NULL. With an empty right
	// side every left row is emitted. (Single-key only.)
	NullAwareAntiJoin
	// MarkJoin emits every left row once followed by one BOOLEAN column: TRUE
	// if the row has a match; otherwise, when MarkNullAware is set, NULL if
	// the left key is NULL or some right key is NULL (and the right side is
	// non-empty) — the three-valued result of IN; otherwise FALSE.
	MarkJoin
)

func (t JoinType) String() string {
	return [...]string{"inner", "left", "right", "full", "semi", "anti", "null-aware anti", "mark"}[t]
}

// HashJoin joins Left (probe side) with Right (build side). Rows match when
// LeftKeys[i] = RightKeys[i] for all i (expressions over each side's own
// columns, with equal types) and Residual, if not nil, is true over the
// concatenated row (left columns, then right columns). NULL keys never
// match unless NullsEqual (used for INTERSECT / EXCEPT, where NULL = NULL).
// A join without keys (cross or pure non-equi join) has empty key lists:
// every pair is a candidate and Residual decides.
//
// Output: left columns then right columns for inner/left/right/full; left
// columns only for semi/anti; left columns plus the mark for MarkJoin.
// Right columns of unmatched left rows (and left columns of unmatched right
// rows) are NULL.
//
// The build side is consumed completely before probing. When the join runs
// in several instances, each instance builds from what its Right input
// delivers to it (a broadcast gives every instance the whole build side; a
// hash partition on the keys gives each its share, with Left partitioned
// the same way). RightJoin and FullJoin need the unmatched build rows of
// every instance, so the planner only runs them where each instance has a
// disjoint share of the build side (hash-partitioned) or as one instance.
type HashJoin struct {
	Base
	Left, Right   Node
	Type          JoinType
	LeftKeys      []Expr
	RightKeys     []Expr
	Residual      Expr
	NullsEqual    bool
	MarkNullAware bool
}

// EnforceSingleRow passes through at most one row: zero input rows produce
// one row of NULLs, two or more fail with error 21000 "more than one row
// returned by a subquery used as an expression".
type EnforceSingleRow struct {
	Base
	Input Node
}

// UnionAll emits the rows of all Inputs (same column types, in order).
type UnionAll struct {
	Base
	Inputs []Node
}

func (n *HashJoin) Children() []Node         { return []Node{n.Left, n.Right} }
func (n *EnforceSingleRow) Children() []Node { return []Node{n.Input} }
func (n *UnionAll) Children() []Node         { return n.Inputs }
