package physical

// RecursiveUnion is a recursive query (WITH RECURSIVE): Anchor's rows,
// then Step's, run again and again over the rows of the previous pass
// (the working table, which WorkTableScan nodes with ID WorkTable read in
// Step) until a pass yields none. Distinct (UNION) drops rows already
// produced. Step is a single-instance tree without exchanges, rebuilt for
// every pass; it runs in the union's instance.
type RecursiveUnion struct {
	Base
	Anchor, Step Node
	WorkTable    int
	Distinct     bool
}

// WorkTableScan reads the working table of the enclosing RecursiveUnion.
type WorkTableScan struct {
	Base
	WorkTable int
}

func (n *RecursiveUnion) Children() []Node { return []Node{n.Anchor, n.Step} }
func (*WorkTableScan) Children() []Node    { return nil }
