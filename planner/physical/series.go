package physical

// Series emits, for every input row, the rows of one or more series
// (generate_series in a select list or beside other FROM items): each
// input row followed by the values of each series, as many rows as the
// longest series has values, shorter ones padded with NULL (PostgreSQL's
// rule for several set-returning functions in one select list). An input
// row whose series are all empty yields no row, or one with NULL values
// when Outer (LEFT JOIN LATERAL … ON true). The output is the input
// columns followed by one column per series.
type Series struct {
	Base
	Input  Node
	Series []SeriesSpec
	Outer  bool
}

// SeriesSpec is one series: Start, Start+Step, … up to Stop (inclusive
// unless Exclusive, DuckDB's range). Integer series have integer
// arguments; a timestamp series has timestamp Start and Stop and an
// interval Step. A NULL argument gives an empty series; a zero Step is an
// error.
type SeriesSpec struct {
	Start, Stop, Step Expr
	Exclusive         bool
}

func (n *Series) Children() []Node { return []Node{n.Input} }
