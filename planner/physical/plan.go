package physical

import (
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
)

// Node is a physical plan node. Every node has an ID unique within its Plan
// (used to report EXPLAIN ANALYZE figures) and an output schema.
type Node interface {
	NodeID() int
	Schema() *arrow.Schema
	Children() []Node
}

// Base carries what every node has.
type Base struct {
	ID  int
	Out *arrow.Schema
}

func (b *Base) NodeID() int           { return b.ID }
func (b *Base) Schema() *arrow.Schema { return b.Out }

// ScanFile is one Parquet file of a scan and the row groups to read from it
// (after pruning; nil means none are read, so the planner never emits it).
type ScanFile struct {
	Path      string
	RowGroups []int
	// PartitionValues holds, for each Hive partition column of the dataset,
	// the value of this file's folder (Literal.Value form, nil for NULL).
	PartitionValues []any
	// Rows is the number of rows in the chosen row groups (for estimates).
	Rows int64
	// Size and ModTime (Unix nanoseconds) are the version of the file the
	// plan was made for, when known (0: unknown). A scan serves cached row
	// groups of that version without looking at the file.
	Size, ModTime int64
}

// ScanColumn is one output column of a scan.
type ScanColumn struct {
	Name string
	// FileColumn is the leaf column index in the Parquet file schema, or -1
	// for a partition column.
	FileColumn int
	// Partition is the index into ScanFile.PartitionValues when FileColumn is
	// -1.
	Partition int
	T         arrow.DataType
}

// ParquetScan reads columns of row groups of Parquet files. Executors hand
// out (file, row group) pairs as morsels to their workers, so instances of the
// scan's fragment on one executor share one queue of splits.
type ParquetScan struct {
	Base
	Table   string // qualified name for EXPLAIN
	Files   []ScanFile
	Columns []ScanColumn
	// Filter, if not nil, is applied to each decoded batch (over Columns);
	// rows for which it is not true are dropped. Row groups it cannot match
	// were already pruned by the planner.
	Filter Expr
	// Limit, if ≥ 0, lets the scan stop once it produced that many rows in
	// total (across all instances of this scan on an executor).
	Limit int64
	// Pruned counts row groups the planner skipped by statistics (EXPLAIN).
	Pruned int
}

// Values produces literal batches: the rows of an in-memory table or the one
// row of a FROM-less SELECT. Batches belong to the plan; executors retain them
// while they emit them.
type Values struct {
	Base
	Name    string
	Batches []arrow.Record
}

// Filter keeps rows whose Pred is true.
type Filter struct {
	Base
	Input Node
	Pred  Expr
}

// Project computes Exprs over each input batch; output column i is Exprs[i].
type Project struct {
	Base
	Input Node
	Exprs []Expr
}

// AggMode says which phase a hash aggregate runs.
type AggMode int

const (
	// AggSingle consumes raw rows and produces final values.
	AggSingle AggMode = iota
	// AggPartial consumes raw rows and produces group keys followed by each
	// aggregate's StateFields.
	AggPartial
	// AggFinal consumes the output of AggPartial (keys, then states) and
	// produces final values. Its GroupBy are ColRefs to the key columns.
	AggFinal
)

func (m AggMode) String() string {
	return [...]string{"single", "partial", "final"}[m]
}

// Aggregate function names.
const (
	AggCountStar = "count_star"
	AggCount     = "count"
	AggSum       = "sum"
	AggAvg       = "avg"
	AggMin       = "min"
	AggMax       = "max"
	// Sample and population variance and standard deviation of a numeric
	// argument, as float64 (NULL for fewer than 2 rows, resp. no rows).
	AggVarSamp    = "var_samp"
	AggVarPop     = "var_pop"
	AggStddevSamp = "stddev_samp"
	AggStddevPop  = "stddev_pop"
	// AggApproxCountDistinct estimates the number of distinct non-NULL
	// values with a HyperLogLog sketch (int64).
	AggApproxCountDistinct = "approx_count_distinct"
	// AggStringAgg concatenates the non-NULL text values of a group in
	// arrival order with Separator between them (NULL for none). It is
	// never split into partial and final; the planner sorts its input when
	// the query asks for an order.
	AggStringAgg = "string_agg"
	// AggPercentileCont and AggPercentileDisc are the exact quantiles of
	// the non-NULL DOUBLE values of a group at Fraction: interpolated, or
	// the first value whose cumulative share reaches it. Single phase only.
	AggPercentileCont = "percentile_cont"
	AggPercentileDisc = "percentile_disc"
	// AggMostFrequent is mode(): the most frequent non-NULL value of a
	// group (the least of equally frequent ones), of the argument's type.
	// Single phase.
	AggMostFrequent = "mode"
	// Two-argument statistics of the rows where both the dependent y and
	// the independent x are non-NULL, as in PostgreSQL: regr_count is
	// int64 (0 for no rows), the others float64, NULL for no rows.
	// covar_samp is NULL below 2 rows; corr is NULL when x or y is
	// constant, regr_slope, regr_intercept and regr_r2 when x is (regr_r2
	// is 1 when only y is). Their argument is a pair (see AggArgPair).
	AggCorr          = "corr"
	AggCovarPop      = "covar_pop"
	AggCovarSamp     = "covar_samp"
	AggRegrSlope     = "regr_slope"
	AggRegrIntercept = "regr_intercept"
	AggRegrR2        = "regr_r2"
	AggRegrCount     = "regr_count"
	AggRegrAvgX      = "regr_avgx"
	AggRegrAvgY      = "regr_avgy"
	AggRegrSXX       = "regr_sxx"
	AggRegrSYY       = "regr_syy"
	AggRegrSXY       = "regr_sxy"
	// AggArgPair is the function of the Call that is the Arg of a
	// two-argument aggregate: Call{Fn: AggArgPair, Args: [y, x], T:
	// float64}, both arguments float64. It is never evaluated as a
	// scalar; the aggregate evaluates each argument (see AggCall.Args).
	AggArgPair = "agg_args"
)

// TwoArg reports whether fn is an aggregate of two arguments (y, x).
func TwoArg(fn string) bool {
	switch fn {
	case AggCorr, AggCovarPop, AggCovarSamp, AggRegrSlope, AggRegrIntercept, AggRegrR2,
		AggRegrCount, AggRegrAvgX, AggRegrAvgY, AggRegrSXX, AggRegrSYY, AggRegrSXY:
		return true
	}
	return false
}

// SinglePhase reports whether aggregate fn cannot be split into partial
// and final phases.
func SinglePhase(fn string) bool {
	return fn == AggStringAgg || fn == AggPercentileCont || fn == AggPercentileDisc || fn == AggMostFrequent
}

// AggCall is one aggregate. Arg is nil for count_star. T is the final result
// type: count → int64; sum(int32|int64) → int64, sum(decimal(p,s)) →
// decimal(38,s), sum(float64) → float64; avg → float64; min/max → arg type.
// In AggFinal mode Arg is unused: states are read from the input columns
// that follow the keys, in order. A two-argument aggregate (TwoArg) carries
// both arguments in Arg as an AggArgPair call, so that every pass over
// aggregate arguments (column pruning, conversion to physical, parameter
// binding, the plan codec) covers both without knowing of a second one.
type AggCall struct {
	Fn        string
	Arg       Expr
	Distinct  bool // never split into partial/final
	T         arrow.DataType
	Separator string  // string_agg
	Fraction  float64 // percentile_cont, percentile_disc
}

// Args lists the expressions a evaluates per row: none for count_star,
// y and x for a two-argument aggregate, else Arg.
func (a *AggCall) Args() []Expr {
	if a.Arg == nil {
		return nil
	}
	if c, ok := a.Arg.(*Call); ok && c.Fn == AggArgPair {
		return c.Args
	}
	return []Expr{a.Arg}
}

// StateFields is the partial state of a: the columns AggPartial emits for
// it and AggFinal consumes.
func (a *AggCall) StateFields() []arrow.Field {
	if TwoArg(a.Fn) {
		// Welford's running means, sums of squared deviations and
		// co-moment of the (y, x) pairs; partial states merge with Chan's
		// formula.
		return []arrow.Field{
			{Name: "regr_count", Type: arrow.PrimitiveTypes.Int64, Nullable: false},
			{Name: "regr_mean_x", Type: arrow.PrimitiveTypes.Float64, Nullable: false},
			{Name: "regr_mean_y", Type: arrow.PrimitiveTypes.Float64, Nullable: false},
			{Name: "regr_m2_x", Type: arrow.PrimitiveTypes.Float64, Nullable: false},
			{Name: "regr_m2_y", Type: arrow.PrimitiveTypes.Float64, Nullable: false},
			{Name: "regr_c_xy", Type: arrow.PrimitiveTypes.Float64, Nullable: false},
		}
	}
	switch a.Fn {
	case AggCountStar, AggCount:
		return []arrow.Field{{Name: a.Fn + "_count", Type: arrow.PrimitiveTypes.Int64, Nullable: false}}
	case AggAvg:
		return []arrow.Field{
			{Name: "avg_sum", Type: AvgSumType(a.Arg.Type()), Nullable: true},
			{Name: "avg_count", Type: arrow.PrimitiveTypes.Int64, Nullable: false},
		}
	case AggVarSamp, AggVarPop, AggStddevSamp, AggStddevPop:
		// Welford's running moments; partial states merge with Chan's
		// formula.
		return []arrow.Field{
			{Name: "var_count", Type: arrow.PrimitiveTypes.Int64, Nullable: false},
			{Name: "var_mean", Type: arrow.PrimitiveTypes.Float64, Nullable: false},
			{Name: "var_m2", Type: arrow.PrimitiveTypes.Float64, Nullable: false},
		}
	case AggApproxCountDistinct:
		// The HyperLogLog registers (2^12 bytes) of the group.
		return []arrow.Field{{Name: "hll", Type: arrow.BinaryTypes.Binary, Nullable: false}}
	default: // sum, min, max
		return []arrow.Field{{Name: a.Fn + "_state", Type: a.T, Nullable: true}}
	}
}

// AvgSumType is the type avg accumulates its sum in for an argument type:
// decimal(38,s) for decimals, int64 for integers, float64 otherwise.
func AvgSumType(arg arrow.DataType) arrow.DataType {
	switch t := arg.(type) {
	case *arrow.Decimal128Type:
		return &arrow.Decimal128Type{Precision: 38, Scale: t.Scale}
	case *arrow.Int32Type, *arrow.Int64Type:
		return arrow.PrimitiveTypes.Int64
	}
	return arrow.PrimitiveTypes.Float64
}

// HashAggregate groups by GroupBy and computes Aggs. Output: the group keys
// in order, then one column per aggregate (or its state columns in
// AggPartial mode). With no GroupBy and AggSingle/AggFinal mode it produces
// exactly one row, even for empty input. With no Aggs it is DISTINCT.
type HashAggregate struct {
	Base
	Input   Node
	Mode    AggMode
	GroupBy []Expr
	Aggs    []AggCall
}

// SortKey orders by an input column.
type SortKey struct {
	Col        int
	Desc       bool
	NullsFirst bool
}

// Sort orders all input rows by Keys (stable for equal keys).
type Sort struct {
	Base
	Input Node
	Keys  []SortKey
}

// TopN is Sort followed by Limit N (after skipping Offset rows), computed
// with bounded memory.
type TopN struct {
	Base
	Input  Node
	Keys   []SortKey
	Offset int64
	N      int64
}

// Limit skips Offset rows and then passes at most N rows (N < 0: no limit).
type Limit struct {
	Base
	Input  Node
	Offset int64
	N      int64
}

// Distribution is how a fragment's instances send their output to the
// consumer fragment.
type Distribution int

const (
	// Gather sends every instance's output to the single consumer instance.
	Gather Distribution = iota
	// HashPartition sends each row to consumer instance hash(Keys) mod n.
	HashPartition
	// Broadcast sends every row to every consumer instance.
	Broadcast
	// RoundRobin spreads batches evenly over consumer instances.
	RoundRobin
)

func (d Distribution) String() string {
	return [...]string{"gather", "hash", "broadcast", "round-robin"}[d]
}

// ExchangeSource is the leaf of a consumer fragment that receives the
// output of fragment Fragment (its schema is that fragment's root schema).
// Port says which of a shared fragment's outputs it reads (0 otherwise).
type ExchangeSource struct {
	Base
	Fragment int
	Port     int
}

// Fragment is a unit of scheduling: a plan tree whose leaves are scans,
// values or exchange sources, run as Parallelism instances (0: one per core
// of each executor it is placed on), sending its output to the fragment
// Consumer (-1 for the root, whose output goes to the client) by Output.
//
// A shared fragment (a WITH query read more than once) has several
// outputs, ports, each read by one exchange source: Ports[i] is the
// fragment holding the source of port i (Consumer is Ports[0]; two ports
// may feed the same fragment). Every port receives every row, spread over
// its consumer's instances by Output. A shared fragment's output is
// buffered without bound (within the query's memory limit) so that no
// consumer waits on another: one may need another's complete result
// before it reads.
type Fragment struct {
	ID          int
	Root        Node
	Parallelism int
	Consumer    int
	Ports       []int
	Output      Distribution
	OutputKeys  []int // columns hashed when Output is HashPartition
}

// Consumers are the fragments reading f's output, one per port.
func (f *Fragment) Consumers() []int {
	if len(f.Ports) > 0 {
		return f.Ports
	}
	return []int{f.Consumer}
}

// Plan is a physical plan cut into fragments. Fragments are ordered so that
// producers come before their consumers; the root fragment is last and runs
// as one instance.
type Plan struct {
	Fragments []*Fragment
	// Names are the output column names shown to the client (the root
	// schema's field names may be internal).
	Names []string
	// Origins, when set, name the table column each output column is a
	// plain copy of (clients show it: PostgreSQL's RowDescription, Flight
	// SQL's column metadata).
	Origins []ColumnOrigin
}

// ColumnOrigin is a dataset column: Schema and Table as the catalog's
// system tables name them, Column its 1-based position (0: none).
type ColumnOrigin struct {
	Schema, Table string
	Column        int
}

// Field metadata keys carrying a result column's origin; the first two
// are Flight SQL's.
const (
	MetaSchemaName = "ARROW:FLIGHT:SQL:SCHEMA_NAME"
	MetaTableName  = "ARROW:FLIGHT:SQL:TABLE_NAME"
	MetaColumnNum  = "quarry:column_number"
)

// Root returns the root fragment.
func (p *Plan) Root() *Fragment { return p.Fragments[len(p.Fragments)-1] }

// Schema is the result schema with client-facing names.
func (p *Plan) Schema() *arrow.Schema {
	s := p.Root().Root.Schema()
	if len(p.Names) == 0 {
		return s
	}
	fields := make([]arrow.Field, s.NumFields())
	for i := range fields {
		fields[i] = s.Field(i)
		fields[i].Name = p.Names[i]
		if i < len(p.Origins) && p.Origins[i].Table != "" {
			o := p.Origins[i]
			fields[i].Metadata = arrow.NewMetadata(
				[]string{MetaSchemaName, MetaTableName, MetaColumnNum},
				[]string{o.Schema, o.Table, strconv.Itoa(o.Column)})
		}
	}
	return arrow.NewSchema(fields, nil)
}

// Walk calls fn for n and every node below it, parents first, stopping at
// exchange sources.
func Walk(n Node, fn func(Node)) {
	fn(n)
	for _, c := range n.Children() {
		Walk(c, fn)
	}
}

func (*ParquetScan) Children() []Node    { return nil }
func (*Values) Children() []Node         { return nil }
func (*ExchangeSource) Children() []Node { return nil }
func (n *Filter) Children() []Node       { return []Node{n.Input} }
func (n *Project) Children() []Node      { return []Node{n.Input} }
func (n *HashAggregate) Children() []Node {
	return []Node{n.Input}
}
func (n *Sort) Children() []Node  { return []Node{n.Input} }
func (n *TopN) Children() []Node  { return []Node{n.Input} }
func (n *Limit) Children() []Node { return []Node{n.Input} }

// OperatorStats are what executors measure per node for EXPLAIN ANALYZE:
// the sums over all instances, and each instance's own figures.
type OperatorStats struct {
	Rows    int64
	Batches int64
	// Bytes estimates the size of the rows produced.
	Bytes int64
	// Nanos is wall time spent inside the operator's Next, children
	// excluded, summed over instances.
	Nanos     int64
	Instances []InstanceStats
}

// InstanceStats are one instance's figures and the node it ran on.
type InstanceStats struct {
	Node                        string
	Instance                    int
	Rows, Batches, Bytes, Nanos int64
}

// Add adds an instance's figures.
func (s *OperatorStats) Add(is InstanceStats) {
	s.Rows += is.Rows
	s.Batches += is.Batches
	s.Bytes += is.Bytes
	s.Nanos += is.Nanos
	s.Instances = append(s.Instances, is)
}

// Release releases the batches the plan holds (Values nodes). Call it once
// the plan is no longer needed; executors retain what they still use.
func (p *Plan) Release() {
	for _, f := range p.Fragments {
		Walk(f.Root, func(n Node) {
			if v, ok := n.(*Values); ok {
				for _, b := range v.Batches {
					b.Release()
				}
				v.Batches = nil
			}
		})
	}
}
