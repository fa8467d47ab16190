package physical

import "github.com/apache/arrow-go/v18/arrow"

// Window function names. Ranking: row_number, rank, dense_rank (→ int64),
// ntile(n) (→ int64; Args[0] an int64 literal), percent_rank, cume_dist
// (→ float64). Offset: lag and lead (Args: value[, offset int64 literal
// [, default of the value's type]]; → value type), first_value,
// last_value, nth_value(value, n) (→ value type, over the frame).
// Aggregates over the frame, with the result types of AggCall: the Agg*
// names count_star, count, sum, avg, min, max (over booleans also
// bool_and and bool_or), var_samp, var_pop, stddev_samp, stddev_pop (of a
// numeric argument); the two-argument ones (TwoArg) with Args [y, x],
// both float64; string_agg with Args [value, separator], both text, the
// separator constant (NULL: none).
const (
	WinRowNumber   = "row_number"
	WinRank        = "rank"
	WinDenseRank   = "dense_rank"
	WinNtile       = "ntile"
	WinPercentRank = "percent_rank"
	WinCumeDist    = "cume_dist"
	WinLag         = "lag"
	WinLead        = "lead"
	WinFirstValue  = "first_value"
	WinLastValue   = "last_value"
	WinNthValue    = "nth_value"
)

// FrameUnit says how frame offsets count: ROWS or RANGE.
type FrameUnit int

const (
	FrameRows FrameUnit = iota
	// FrameRange offsets are in units of the single ORDER BY key (numeric
	// or date: days); with UnboundedPreceding/CurrentRow/UnboundedFollowing
	// bounds, peers (rows with equal ORDER BY keys) share a frame.
	FrameRange
	// FrameGroups offsets count peer groups (rows with equal ORDER BY
	// keys): 1 PRECEDING starts at the previous group's first row.
	FrameGroups
)

// BoundKind is one end of a frame.
type BoundKind int

const (
	UnboundedPreceding BoundKind = iota
	Preceding                    // Offset rows / range units before
	CurrentRow
	Following // Offset rows / range units after
	UnboundedFollowing
)

// FrameBound is one end of a frame. Offset is a non-negative integer for
// ROWS and GROUPS; for RANGE it is a Literal.Value of the ORDER BY key's type (for
// decimals at the key's scale) or int64 days for a DATE key.
type FrameBound struct {
	Kind   BoundKind
	Offset any
}

// Frame is a window frame. The default, when ORDER BY is present, is
// RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW; without ORDER BY the
// whole partition.
type Frame struct {
	Unit       FrameUnit
	Start, End FrameBound
}

// WindowFunc is one window function over the Window's partitions.
type WindowFunc struct {
	Fn       string
	Args     []Expr // over the input's columns
	Distinct bool   // count(DISTINCT …) etc.: one argument, only with the whole-partition frame
	Frame    Frame
	T        arrow.DataType
}

// Window computes Funcs over partitions of its input (rows with equal
// PartitionBy columns, NULLs equal) ordered by OrderBy. Output: the input
// columns, then one column per function. Output row order is unspecified
// (the executor may emit partition by partition); the planner sorts after
// if the query orders. In several instances the input must be hash
// partitioned on PartitionBy (or gathered to one instance when there is
// no PARTITION BY).
type Window struct {
	Base
	Input       Node
	PartitionBy []int
	OrderBy     []SortKey
	Funcs       []WindowFunc
}

func (n *Window) Children() []Node { return []Node{n.Input} }
