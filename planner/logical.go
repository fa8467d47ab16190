package planner

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quarrydb/quarry/catalog"
	"github.com/quarrydb/quarry/planner/physical"
)

// ColumnID identifies a column produced somewhere in a logical plan. Bound
// expressions reference columns by ID, never by name or position, so rules
// can reorder and prune freely.
type ColumnID int

// Column is one output column of a logical node.
type Column struct {
	ID    ColumnID
	Name  string
	Table string // qualifier the column is visible under (alias or table name)
	T     arrow.DataType
	// hidden columns resolve only qualified (the right side of JOIN USING).
	hidden bool
}

// LNode is a logical plan node. Nodes are immutable: rules build new ones.
type LNode interface {
	Columns() []Column
	Inputs() []LNode
	WithInputs(in []LNode) LNode
	// describe is the one-line EXPLAIN text of the node.
	describe() string
}

// LScan reads a dataset. Cols are the dataset columns it produces (pruned by
// the projection rule); Filters are conjuncts pushed into the scan.
type LScan struct {
	Dataset *catalog.Dataset
	Name    string
	Cols    []Column
	// Ordinals[i] is the dataset schema position of Cols[i].
	Ordinals []int
	Filters  []Expr
	Limit    int64 // -1: none
}

// LValues produces constant rows (FROM-less SELECT: one row, no columns).
type LValues struct {
	Cols []Column
	Rows [][]Expr // constant expressions
}

// LFilter keeps rows where Pred is true.
type LFilter struct {
	Input LNode
	Pred  Expr
}

// LProject computes Exprs; output column i has ID Cols[i].ID.
type LProject struct {
	Input LNode
	Exprs []Expr
	Cols  []Column
}

// AggExpr is one aggregate call in an LAggregate.
type AggExpr struct {
	Fn       string // physical.Agg* names
	Arg      Expr   // nil for count_star
	Distinct bool
	T        arrow.DataType
	// Sep and Order are string_agg's separator and ORDER BY.
	Sep   string
	Order []SortItem
	// Frac is the fraction of percentile_cont / percentile_disc.
	Frac float64
}

// LAggregate groups by GroupBy (output columns Cols[:len(GroupBy)]) and
// computes Aggs (the remaining Cols).
type LAggregate struct {
	Input   LNode
	GroupBy []Expr
	Aggs    []AggExpr
	Cols    []Column
}

// SortItem orders by an expression over the input.
type SortItem struct {
	Expr       Expr
	Desc       bool
	NullsFirst bool
}

// LSort orders its input.
type LSort struct {
	Input LNode
	Items []SortItem
}

// LLimit skips Offset rows and keeps N (N < 0: all).
type LLimit struct {
	Input  LNode
	Offset int64
	N      int64
}

func (n *LScan) Columns() []Column      { return n.Cols }
func (n *LValues) Columns() []Column    { return n.Cols }
func (n *LFilter) Columns() []Column    { return n.Input.Columns() }
func (n *LProject) Columns() []Column   { return n.Cols }
func (n *LAggregate) Columns() []Column { return n.Cols }
func (n *LSort) Columns() []Column      { return n.Input.Columns() }
func (n *LLimit) Columns() []Column     { return n.Input.Columns() }

func (n *LScan) Inputs() []LNode      { return nil }
func (n *LValues) Inputs() []LNode    { return nil }
func (n *LFilter) Inputs() []LNode    { return []LNode{n.Input} }
func (n *LProject) Inputs() []LNode   { return []LNode{n.Input} }
func (n *LAggregate) Inputs() []LNode { return []LNode{n.Input} }
func (n *LSort) Inputs() []LNode      { return []LNode{n.Input} }
func (n *LLimit) Inputs() []LNode     { return []LNode{n.Input} }

func (n *LScan) WithInputs([]LNode) LNode   { return n }
func (n *LValues) WithInputs([]LNode) LNode { return n }
func (n *LFilter) WithInputs(in []LNode) LNode {
	c := *n
	c.Input = in[0]
	return &c
}
func (n *LProject) WithInputs(in []LNode) LNode {
	c := *n
	c.Input = in[0]
	return &c
}
func (n *LAggregate) WithInputs(in []LNode) LNode {
	c := *n
	c.Input = in[0]
	return &c
}
func (n *LSort) WithInputs(in []LNode) LNode {
	c := *n
	c.Input = in[0]
	return &c
}
func (n *LLimit) WithInputs(in []LNode) LNode {
	c := *n
	c.Input = in[0]
	return &c
}

func colNames(cols []Column) string {
	s := make([]string, len(cols))
	for i, c := range cols {
		s[i] = c.Name
	}
	return strings.Join(s, ", ")
}

func exprList(es []Expr) string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.String()
	}
	return strings.Join(s, ", ")
}

func (n *LScan) describe() string {
	s := fmt.Sprintf("Scan %s [%s]", n.Name, colNames(n.Cols))
	if len(n.Filters) > 0 {
		s += " filters=[" + exprList(n.Filters) + "]"
	}
	if n.Limit >= 0 {
		s += fmt.Sprintf(" limit=%d", n.Limit)
	}
	return s
}
func (n *LValues) describe() string  { return fmt.Sprintf("Values rows=%d", len(n.Rows)) }
func (n *LFilter) describe() string  { return "Filter " + n.Pred.String() }
func (n *LProject) describe() string { return "Project " + exprList(n.Exprs) }
func (n *LAggregate) describe() string {
	aggs := make([]string, len(n.Aggs))
	for i, a := range n.Aggs {
		aggs[i] = a.String()
	}
	return fmt.Sprintf("Aggregate group=[%s] aggs=[%s]", exprList(n.GroupBy), strings.Join(aggs, ", "))
}
func (n *LSort) describe() string {
	items := make([]string, len(n.Items))
	for i, it := range n.Items {
		items[i] = it.String()
	}
	return "Sort " + strings.Join(items, ", ")
}
func (n *LLimit) describe() string { return fmt.Sprintf("Limit offset=%d n=%d", n.Offset, n.N) }

func (a AggExpr) String() string {
	if a.Arg == nil {
		return "count(*)"
	}
	d := ""
	if a.Distinct {
		d = "DISTINCT "
	}
	if a.Fn == physical.AggPercentileCont || a.Fn == physical.AggPercentileDisc {
		return fmt.Sprintf("%s(%s, %g)", a.Fn, a.Arg, a.Frac)
	}
	if a.Fn == physical.AggStringAgg {
		var o []string
		for _, it := range a.Order {
			o = append(o, it.String())
		}
		return fmt.Sprintf("%s(%s%s, %q order=[%s])", a.Fn, d, a.Arg, a.Sep, strings.Join(o, ", "))
	}
	return fmt.Sprintf("%s(%s%s)", a.Fn, d, a.Arg)
}

func (s SortItem) String() string {
	d := "ASC"
	if s.Desc {
		d = "DESC"
	}
	n := "NULLS LAST"
	if s.NullsFirst {
		n = "NULLS FIRST"
	}
	return fmt.Sprintf("%s %s %s", s.Expr, d, n)
}

// formatLogical renders a logical plan as an indented tree.
func formatLogical(n LNode) string {
	var b strings.Builder
	var walk func(n LNode, depth int)
	walk = func(n LNode, depth int) {
		b.WriteString(strings.Repeat("  ", depth))
		b.WriteString(n.describe())
		b.WriteByte('\n')
		for _, c := range n.Inputs() {
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	return b.String()
}
