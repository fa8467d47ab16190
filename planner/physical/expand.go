package physical

// Expand emits every input row once per projection: output batch k of an
// input batch holds Projections[k] evaluated over it. It implements
// GROUPING SETS, ROLLUP and CUBE: each projection keeps the keys of one
// grouping set, NULLs the others and tags the rows with the set's number,
// so that one hash aggregate computes every set.
type Expand struct {
	Base
	Input       Node
	Projections [][]Expr
}

func (n *Expand) Children() []Node { return []Node{n.Input} }
