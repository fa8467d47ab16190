package planpb_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog"
	"github.com/quarrydb/quarry/exec"
	"github.com/quarrydb/quarry/exec/kernels"
	"github.com/quarrydb/quarry/planner"
	"github.com/quarrydb/quarry/planner/physical"
	"github.com/quarrydb/quarry/planner/physical/planpb"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// ---- hand-built plans ----

func field(name string, t arrow.DataType) arrow.Field {
	return arrow.Field{Name: name, Type: t, Nullable: true}
}

func schema(fs ...arrow.Field) *arrow.Schema { return arrow.NewSchema(fs, nil) }

func col(i int, t arrow.DataType, name string) *physical.ColRef {
	return &physical.ColRef{Index: i, T: t, Name: name}
}

func lit(v any, t arrow.DataType) *physical.Literal { return &physical.Literal{Value: v, T: t} }

func call(fn string, t arrow.DataType, args ...physical.Expr) *physical.Call {
	return &physical.Call{Fn: fn, Args: args, T: t}
}

var (
	dec12_2 = physical.Decimal(12, 2)
	tsNanoZ = &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "Europe/Berlin"}
	// valuesSchema is the schema of the test batches: every SQL type, field
	// metadata, a non-nullable column and schema metadata.
	valuesSchema = arrow.NewSchema([]arrow.Field{
		{Name: "k", Type: physical.Int32, Nullable: false},
		{Name: "s", Type: physical.String, Nullable: true,
			Metadata: arrow.NewMetadata([]string{physical.MetaTableName}, []string{"t"})},
		field("d", dec12_2), field("f", physical.Float64), field("dt", physical.Date),
		field("ts", physical.Timestamp), field("iv", physical.Interval), field("b", physical.Boolean),
		field("n", physical.Int64),
	}, ptr(arrow.NewMetadata([]string{"origin"}, []string{"test"})))
)

func ptr[T any](v T) *T { return &v }

// batch builds a two-row batch of valuesSchema, the second row NULL where
// nullable.
func batch(mem memory.Allocator, k int32) arrow.Record {
	b := array.NewRecordBuilder(mem, valuesSchema)
	defer b.Release()
	b.Field(0).(*array.Int32Builder).AppendValues([]int32{k, k + 1}, nil)
	b.Field(1).(*array.StringBuilder).AppendValues([]string{"a'b", "\xff"}, []bool{true, false})
	b.Field(2).(*array.Decimal128Builder).AppendValues([]decimal128.Num{decimal128.FromI64(-12345), {}}, []bool{true, false})
	b.Field(3).(*array.Float64Builder).AppendValues([]float64{math.NaN(), 0}, []bool{true, false})
	b.Field(4).(*array.Date32Builder).AppendValues([]arrow.Date32{19000, 0}, []bool{true, false})
	b.Field(5).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{-1, 0}, []bool{true, false})
	b.Field(6).(*array.MonthDayNanoIntervalBuilder).AppendValues([]arrow.MonthDayNanoInterval{{Months: -1, Days: 2, Nanoseconds: -3}, {}}, []bool{true, false})
	b.Field(7).(*array.BooleanBuilder).AppendValues([]bool{true, false}, []bool{true, false})
	b.Field(8).(*array.Int64Builder).AppendValues([]int64{math.MinInt64, 0}, []bool{true, false})
	return b.NewRecordBatch()
}

func values(mem memory.Allocator, id int, name string, n int) *physical.Values {
	v := &physical.Values{Base: physical.Base{ID: id, Out: valuesSchema}, Name: name}
	for i := range n {
		v.Batches = append(v.Batches, batch(mem, int32(10*i)))
	}
	return v
}

// literals are one of every Literal.Value form, and the edge cases a lossy
// encoding would break.
func literals() []physical.Expr {
	maxDec, _ := new(big.Int).SetString("-99999999999999999999999999999999999999", 10)
	return []physical.Expr{
		lit(nil, physical.Int32), lit(nil, physical.String), lit(nil, dec12_2), lit(nil, physical.Null),
		lit(true, physical.Boolean), lit(false, physical.Boolean),
		lit(int32(math.MinInt32), physical.Int32), lit(int32(7), physical.Int32),
		lit(int64(math.MaxInt64), physical.Int64), lit(int64(-1), physical.Int64),
		lit(math.NaN(), physical.Float64), lit(math.Float64frombits(0x7ff8000000000abc), physical.Float64),
		lit(math.Copysign(0, -1), physical.Float64), lit(math.Inf(-1), physical.Float64),
		lit(5e-324, physical.Float64), lit(0.1, physical.Float64),
		lit(decimal128.FromI64(-12345), dec12_2), lit(decimal128.FromBigInt(maxDec), physical.Decimal(38, 0)),
		lit(decimal128.New(-1<<62, 42), physical.Decimal(38, 10)),
		lit("", physical.String), lit("it's ünïcode", physical.String), lit("\xff\xfe not UTF-8", physical.String),
		lit(arrow.Date32(-1), physical.Date), lit(arrow.Date32(19000), physical.Date),
		lit(arrow.Timestamp(-1), physical.Timestamp), lit(arrow.Timestamp(1700000000123456789), tsNanoZ),
		lit(arrow.MonthDayNanoInterval{Months: -1, Days: -2, Nanoseconds: -3}, physical.Interval),
		lit(arrow.MonthDayNanoInterval{Months: 14, Days: 3, Nanoseconds: 4_000_000_000}, physical.Interval),
		&physical.Case{
			Whens: []physical.Expr{call(physical.FnIsNull, physical.Boolean, col(1, physical.String, "s")), lit(nil, physical.Boolean)},
			Thens: []physical.Expr{lit("none", physical.String), call(physical.FnUpper, physical.String, col(1, physical.String, ""))},
			Else:  call(physical.FnConcatOp, physical.String, col(1, physical.String, "s"), lit("!", physical.String)),
			T:     physical.String,
		},
		&physical.Case{Whens: []physical.Expr{lit(true, physical.Boolean)}, Thens: []physical.Expr{col(0, physical.Int32, "k")}, T: physical.Int32},
	}
}

func literalPlan(mem memory.Allocator) *physical.Plan {
	exprs := literals()
	fs := make([]arrow.Field, len(exprs))
	for i, e := range exprs {
		fs[i] = field(fmt.Sprintf("c%d", i), e.Type())
	}
	return &physical.Plan{Fragments: []*physical.Fragment{{
		ID: 0, Parallelism: 1, Consumer: -1,
		Root: &physical.Project{Base: physical.Base{ID: 2, Out: schema(fs...)}, Input: values(mem, 1, "lits", 1), Exprs: exprs},
	}}}
}

// aggregatePlan scans, filters and aggregates in two phases, then sorts.
func aggregatePlan(memory.Allocator) *physical.Plan {
	scanOut := arrow.NewSchema([]arrow.Field{
		{Name: "region", Type: physical.String, Nullable: false},
		field("amount", dec12_2), field("part", physical.Int64), field("day", physical.Date),
	}, nil)
	scan := &physical.ParquetScan{
		Base: physical.Base{ID: 1, Out: scanOut}, Table: "tpch.sales",
		Files: []physical.ScanFile{
			{Path: "/data/part=1/day=2024-01-01/a.parquet", RowGroups: []int{0, 2}, PartitionValues: []any{int64(1), arrow.Date32(19723)}, Rows: 1000, Size: 4096, ModTime: 1764030000123456789},
			{Path: "/data/part=__HIVE_DEFAULT_PARTITION__/day=\xff/b.parquet", RowGroups: []int{1}, PartitionValues: []any{nil, nil}, Rows: 7},
		},
		Columns: []physical.ScanColumn{
			{Name: "region", FileColumn: 3, T: physical.String},
			{Name: "amount", FileColumn: 1, T: dec12_2},
			{Name: "part", FileColumn: -1, Partition: 0, T: physical.Int64},
			{Name: "day", FileColumn: -1, Partition: 1, T: physical.Date},
		},
		Filter: call(physical.FnIsNotNull, physical.Boolean, col(1, dec12_2, "amount")),
		Limit:  500, Pruned: 3,
	}
	filter := &physical.Filter{Base: physical.Base{ID: 2, Out: scanOut}, Input: scan,
		Pred: call(physical.FnGt, physical.Boolean, col(1, dec12_2, "amount"), lit(decimal128.FromI64(-5), dec12_2))}
	amount := col(1, dec12_2, "amount")
	aggs := []physical.AggCall{
		{Fn: physical.AggCountStar, T: physical.Int64},
		{Fn: physical.AggSum, Arg: amount, T: physical.Decimal(38, 2)},
		{Fn: physical.AggAvg, Arg: amount, T: physical.Float64},
		{Fn: physical.AggCount, Arg: col(0, physical.String, "region"), Distinct: true, T: physical.Int64},
		// A two-argument aggregate: both arguments in one pair call.
		{Fn: physical.AggCorr, T: physical.Float64, Arg: call(physical.AggArgPair, physical.Float64,
			call(physical.FnCast, physical.Float64, amount), lit(float64(2.5), physical.Float64))},
	}
	var partial []arrow.Field
	partial = append(partial, field("region", physical.String))
	for i := range aggs {
		partial = append(partial, aggs[i].StateFields()...)
	}
	final := schema(field("region", physical.String), field("n", physical.Int64), field("sum", physical.Decimal(38, 2)),
		field("avg", physical.Float64), field("cnt", physical.Int64), field("corr", physical.Float64))
	return &physical.Plan{
		Fragments: []*physical.Fragment{
			{ID: 0, Consumer: 1, Output: physical.HashPartition, OutputKeys: []int{0},
				Root: &physical.HashAggregate{Base: physical.Base{ID: 3, Out: schema(partial...)}, Input: filter,
					Mode: physical.AggPartial, GroupBy: []physical.Expr{col(0, physical.String, "region")}, Aggs: aggs}},
			{ID: 1, Parallelism: 1, Consumer: -1,
				Root: &physical.Limit{Base: physical.Base{ID: 8, Out: final}, Offset: 1, N: 10,
					Input: &physical.TopN{Base: physical.Base{ID: 7, Out: final}, Keys: []physical.SortKey{{Col: 2, Desc: true, NullsFirst: true}}, Offset: 2, N: 20,
						Input: &physical.Sort{Base: physical.Base{ID: 6, Out: final}, Keys: []physical.SortKey{{Col: 0, NullsFirst: true}, {Col: 1, Desc: true}},
							Input: &physical.HashAggregate{Base: physical.Base{ID: 5, Out: final}, Mode: physical.AggFinal,
								GroupBy: []physical.Expr{col(0, physical.String, "region")}, Aggs: aggs,
								Input: &physical.ExchangeSource{Base: physical.Base{ID: 4, Out: schema(partial...)}, Fragment: 0}}}}}},
		},
		Names:   []string{"Region", "N", "Sum", "Avg", "Cnt", "Corr"},
		Origins: []physical.ColumnOrigin{{Schema: "tpch", Table: "sales", Column: 1}, {}},
	}
}

// singlePhasePlan has the aggregates that carry a separator or fraction.
func singlePhasePlan(mem memory.Allocator) *physical.Plan {
	in := values(mem, 1, "v", 2)
	return &physical.Plan{Fragments: []*physical.Fragment{{ID: 0, Consumer: -1, Parallelism: 1,
		Root: &physical.HashAggregate{
			Base:  physical.Base{ID: 2, Out: schema(field("k", physical.Int32), field("sa", physical.String), field("p", physical.Float64))},
			Input: in, Mode: physical.AggSingle, GroupBy: []physical.Expr{col(0, physical.Int32, "k")},
			Aggs: []physical.AggCall{
				{Fn: physical.AggStringAgg, Arg: col(1, physical.String, "s"), T: physical.String, Separator: ", \xff"},
				{Fn: physical.AggPercentileCont, Arg: col(3, physical.Float64, "f"), T: physical.Float64, Fraction: 0.25},
			},
		}}}}
}

// joinPlan joins two Values under a union in a producer fragment sending
// its output by dist.
func joinPlan(jt physical.JoinType, dist physical.Distribution) func(memory.Allocator) *physical.Plan {
	return func(mem memory.Allocator) *physical.Plan {
		w := valuesSchema.NumFields()
		out := valuesSchema
		if jt == physical.MarkJoin {
			out = schema(append(valuesSchema.Fields(), field("mark", physical.Boolean))...)
		}
		join := &physical.HashJoin{
			Base: physical.Base{ID: 3, Out: out}, Type: jt,
			Left: values(mem, 1, "l", 2), Right: values(mem, 2, "r", 1),
			LeftKeys:   []physical.Expr{col(0, physical.Int32, "k"), col(1, physical.String, "s")},
			RightKeys:  []physical.Expr{col(0, physical.Int32, "k"), col(1, physical.String, "s")},
			Residual:   call(physical.FnLt, physical.Boolean, col(3, physical.Float64, "f"), col(w+3, physical.Float64, "f")),
			NullsEqual: jt%2 == 0, MarkNullAware: jt == physical.MarkJoin,
		}
		union := &physical.UnionAll{Base: physical.Base{ID: 5, Out: out},
			Inputs: []physical.Node{join, &physical.EnforceSingleRow{Base: physical.Base{ID: 4, Out: out}, Input: values(mem, 6, "one", 1)}}}
		return &physical.Plan{Fragments: []*physical.Fragment{
			// Shared: two ports, both read by fragment 9.
			{ID: 3, Consumer: 9, Ports: []int{9, 9}, Output: dist, OutputKeys: []int{0, 2}, Parallelism: 4, Root: union},
			{ID: 9, Consumer: -1, Parallelism: 1, Root: &physical.UnionAll{Base: physical.Base{ID: 8, Out: out}, Inputs: []physical.Node{
				&physical.ExchangeSource{Base: physical.Base{ID: 7, Out: out}, Fragment: 3},
				&physical.ExchangeSource{Base: physical.Base{ID: 10, Out: out}, Fragment: 3, Port: 1}}}},
		}}
	}
}

func bound(k physical.BoundKind, off any) physical.FrameBound {
	return physical.FrameBound{Kind: k, Offset: off}
}

// windowPlan has every frame unit and bound kind, with offsets of each
// type RANGE takes.
func windowPlan(mem memory.Allocator) *physical.Plan {
	k, f, d := col(0, physical.Int32, "k"), col(3, physical.Float64, "f"), col(2, dec12_2, "d")
	funcs := []physical.WindowFunc{
		{Fn: physical.WinRowNumber, T: physical.Int64,
			Frame: physical.Frame{Unit: physical.FrameRows, Start: bound(physical.UnboundedPreceding, nil), End: bound(physical.UnboundedFollowing, nil)}},
		{Fn: physical.AggSum, Args: []physical.Expr{k}, T: physical.Int64,
			Frame: physical.Frame{Unit: physical.FrameRows, Start: bound(physical.Preceding, int64(3)), End: bound(physical.Following, int64(0))}},
		{Fn: physical.AggCount, Args: []physical.Expr{k}, Distinct: true, T: physical.Int64,
			Frame: physical.Frame{Unit: physical.FrameGroups, Start: bound(physical.Preceding, int64(1)), End: bound(physical.CurrentRow, nil)}},
		{Fn: physical.AggAvg, Args: []physical.Expr{d}, T: physical.Float64,
			Frame: physical.Frame{Unit: physical.FrameRange, Start: bound(physical.Preceding, decimal128.FromI64(150)), End: bound(physical.Following, decimal128.FromI64(0))}},
		{Fn: physical.AggMin, Args: []physical.Expr{f}, T: physical.Float64,
			Frame: physical.Frame{Unit: physical.FrameRange, Start: bound(physical.Preceding, 1.5), End: bound(physical.Following, math.Inf(1))}},
		{Fn: physical.AggMax, Args: []physical.Expr{f}, T: physical.Float64,
			Frame: physical.Frame{Unit: physical.FrameRange, Start: bound(physical.Preceding, int64(7)), End: bound(physical.UnboundedFollowing, nil)}},
		{Fn: physical.WinFirstValue, Args: []physical.Expr{col(5, physical.Timestamp, "ts")}, T: physical.Timestamp,
			Frame: physical.Frame{Unit: physical.FrameRange, Start: bound(physical.Preceding, arrow.MonthDayNanoInterval{Months: 1, Days: 2, Nanoseconds: 3}), End: bound(physical.CurrentRow, nil)}},
		{Fn: physical.WinLag, Args: []physical.Expr{k, lit(int64(2), physical.Int64), lit(nil, physical.Int32)}, T: physical.Int32,
			Frame: physical.Frame{Unit: physical.FrameRows, Start: bound(physical.UnboundedPreceding, int64(0)), End: bound(physical.UnboundedFollowing, int64(0))}},
	}
	fs := valuesSchema.Fields()
	for _, fn := range funcs {
		fs = append(fs, field(fn.Fn, fn.T))
	}
	return &physical.Plan{Fragments: []*physical.Fragment{{ID: 0, Consumer: -1, Parallelism: 1,
		Root: &physical.Window{Base: physical.Base{ID: 2, Out: schema(fs...)}, Input: values(mem, 1, "w", 2),
			PartitionBy: []int{1, 0}, OrderBy: []physical.SortKey{{Col: 3, Desc: true, NullsFirst: true}}, Funcs: funcs}}}}
}

func expandPlan(mem memory.Allocator) *physical.Plan {
	out := schema(field("k", physical.Int32), field("s", physical.String), field("gid", physical.Int64))
	return &physical.Plan{Fragments: []*physical.Fragment{{ID: 0, Consumer: -1, Parallelism: 1,
		Root: &physical.Expand{Base: physical.Base{ID: 2, Out: out}, Input: values(mem, 1, "e", 1),
			Projections: [][]physical.Expr{
				{col(0, physical.Int32, "k"), col(1, physical.String, "s"), lit(int64(0), physical.Int64)},
				{col(0, physical.Int32, "k"), lit(nil, physical.String), lit(int64(1), physical.Int64)},
				{lit(nil, physical.Int32), lit(nil, physical.String), lit(int64(3), physical.Int64)},
			}}}}}
}

func seriesPlan(mem memory.Allocator) *physical.Plan {
	out := schema(append(valuesSchema.Fields(), field("g", physical.Int64), field("t", physical.Timestamp))...)
	return &physical.Plan{Fragments: []*physical.Fragment{{ID: 0, Consumer: -1, Parallelism: 1,
		Root: &physical.Series{Base: physical.Base{ID: 2, Out: out}, Input: values(mem, 1, "e", 1), Outer: true,
			Series: []physical.SeriesSpec{
				{Start: lit(int64(1), physical.Int64), Stop: call(physical.FnCast, physical.Int64, col(0, physical.Int32, "k")),
					Step: lit(int64(2), physical.Int64), Exclusive: true},
				{Start: lit(arrow.Timestamp(0), physical.Timestamp), Stop: lit(arrow.Timestamp(86400e6), physical.Timestamp),
					Step: lit(arrow.MonthDayNanoInterval{Days: 1}, physical.Interval)},
			}}}}}
}

func recursivePlan(mem memory.Allocator) *physical.Plan {
	return &physical.Plan{Fragments: []*physical.Fragment{{ID: 0, Consumer: -1, Parallelism: 1,
		Root: &physical.RecursiveUnion{Base: physical.Base{ID: 3, Out: valuesSchema}, Anchor: values(mem, 1, "a", 1),
			Step: &physical.WorkTableScan{Base: physical.Base{ID: 2, Out: valuesSchema}, WorkTable: 9}, WorkTable: 9, Distinct: true}}}}
}

func handBuilt() map[string]func(memory.Allocator) *physical.Plan {
	cases := map[string]func(memory.Allocator) *physical.Plan{
		"literals":     literalPlan,
		"aggregate":    aggregatePlan,
		"single-phase": singlePhasePlan,
		"window":       windowPlan,
		"expand":       expandPlan,
		"series":       seriesPlan,
		"recursive":    recursivePlan,
	}
	for jt := physical.InnerJoin; jt <= physical.MarkJoin; jt++ {
		dist := physical.Distribution(int(jt) % 4)
		cases[fmt.Sprintf("join-%s-%s", jt, dist)] = joinPlan(jt, dist)
	}
	return cases
}

func TestRoundTrip(t *testing.T) {
	for name, build := range handBuilt() {
		t.Run(name, func(t *testing.T) {
			origMem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			decMem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer origMem.AssertSize(t, 0)
			defer decMem.AssertSize(t, 0)

			orig := build(origMem)
			defer orig.Release()
			data, err := planpb.Marshal(orig)
			if err != nil {
				t.Fatal(err)
			}
			got, err := planpb.Unmarshal(data, decMem)
			if err != nil {
				t.Fatal(err)
			}
			defer got.Release()
			if d := diff("plan", reflect.ValueOf(orig), reflect.ValueOf(got)); d != "" {
				t.Fatal(d)
			}
			if w, g := explain(orig), explain(got); w != g {
				t.Fatalf("EXPLAIN differs:\n%s\nwant:\n%s", g, w)
			}
			// Encoding is deterministic: the decoded plan encodes the same.
			again, err := planpb.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(data, again) {
				t.Fatal("re-encoding the decoded plan gives other bytes")
			}
		})
	}
}

// TestEnumNumbers guards the wire enums against renumbering of the
// physical constants they equal.
func TestEnumNumbers(t *testing.T) {
	for i, c := range []struct {
		g int
		p int32
	}{
		{int(physical.Gather), int32(planpb.Distribution_DISTRIBUTION_GATHER)},
		{int(physical.HashPartition), int32(planpb.Distribution_DISTRIBUTION_HASH_PARTITION)},
		{int(physical.Broadcast), int32(planpb.Distribution_DISTRIBUTION_BROADCAST)},
		{int(physical.RoundRobin), int32(planpb.Distribution_DISTRIBUTION_ROUND_ROBIN)},
		{int(physical.AggSingle), int32(planpb.AggMode_AGG_MODE_SINGLE)},
		{int(physical.AggPartial), int32(planpb.AggMode_AGG_MODE_PARTIAL)},
		{int(physical.AggFinal), int32(planpb.AggMode_AGG_MODE_FINAL)},
		{int(physical.InnerJoin), int32(planpb.JoinType_JOIN_TYPE_INNER)},
		{int(physical.LeftJoin), int32(planpb.JoinType_JOIN_TYPE_LEFT)},
		{int(physical.RightJoin), int32(planpb.JoinType_JOIN_TYPE_RIGHT)},
		{int(physical.FullJoin), int32(planpb.JoinType_JOIN_TYPE_FULL)},
		{int(physical.SemiJoin), int32(planpb.JoinType_JOIN_TYPE_SEMI)},
		{int(physical.AntiJoin), int32(planpb.JoinType_JOIN_TYPE_ANTI)},
		{int(physical.NullAwareAntiJoin), int32(planpb.JoinType_JOIN_TYPE_NULL_AWARE_ANTI)},
		{int(physical.MarkJoin), int32(planpb.JoinType_JOIN_TYPE_MARK)},
		{int(physical.FrameRows), int32(planpb.FrameUnit_FRAME_UNIT_ROWS)},
		{int(physical.FrameRange), int32(planpb.FrameUnit_FRAME_UNIT_RANGE)},
		{int(physical.FrameGroups), int32(planpb.FrameUnit_FRAME_UNIT_GROUPS)},
		{int(physical.UnboundedPreceding), int32(planpb.BoundKind_BOUND_KIND_UNBOUNDED_PRECEDING)},
		{int(physical.Preceding), int32(planpb.BoundKind_BOUND_KIND_PRECEDING)},
		{int(physical.CurrentRow), int32(planpb.BoundKind_BOUND_KIND_CURRENT_ROW)},
		{int(physical.Following), int32(planpb.BoundKind_BOUND_KIND_FOLLOWING)},
		{int(physical.UnboundedFollowing), int32(planpb.BoundKind_BOUND_KIND_UNBOUNDED_FOLLOWING)},
	} {
		if c.g != int(c.p) {
			t.Errorf("pair %d: physical %d, wire %d", i, c.g, c.p)
		}
	}
}

// TestHandBuiltCoverage makes the hand-built plans set every field of
// every physical type, so that a field the codec forgets fails the round
// trip.
func TestHandBuiltCoverage(t *testing.T) {
	set := map[string]bool{}
	mem := memory.NewGoAllocator()
	for _, build := range handBuilt() {
		p := build(mem)
		markSet(reflect.ValueOf(p), set)
		p.Release()
	}
	for _, v := range []any{
		physical.Plan{}, physical.Fragment{}, physical.ColumnOrigin{}, physical.Base{},
		physical.ParquetScan{}, physical.ScanFile{}, physical.ScanColumn{}, physical.Values{},
		physical.Filter{}, physical.Project{}, physical.HashAggregate{}, physical.AggCall{},
		physical.Sort{}, physical.SortKey{}, physical.TopN{}, physical.Limit{}, physical.ExchangeSource{},
		physical.HashJoin{}, physical.EnforceSingleRow{}, physical.UnionAll{},
		physical.Window{}, physical.WindowFunc{}, physical.Frame{}, physical.FrameBound{}, physical.Expand{},
		physical.Series{}, physical.SeriesSpec{}, physical.RecursiveUnion{}, physical.WorkTableScan{},
		physical.ColRef{}, physical.Literal{}, physical.Call{}, physical.Case{},
	} {
		typ := reflect.TypeOf(v)
		for i := range typ.NumField() {
			if f := typ.Field(i); !f.Anonymous && !set[typ.Name()+"."+f.Name] {
				t.Errorf("no hand-built plan sets %s.%s", typ.Name(), f.Name)
			}
		}
	}
}

// markSet records "Type.Field" for every non-zero field of a struct of
// package physical reachable from v.
func markSet(v reflect.Value, set map[string]bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			markSet(v.Elem(), set)
		}
	case reflect.Slice:
		for i := range v.Len() {
			markSet(v.Index(i), set)
		}
	case reflect.Struct:
		if v.Type().PkgPath() != reflect.TypeOf(physical.Plan{}).PkgPath() {
			return
		}
		for i := range v.NumField() {
			if !v.Field(i).IsZero() {
				set[v.Type().Name()+"."+v.Type().Field(i).Name] = true
			}
			markSet(v.Field(i), set)
		}
	}
}

// diff says where a and b differ, or "". Schemas, types and batches
// compare with arrow's equality including metadata, floats bit for bit.
// A nil slice equals an empty one: the wire form cannot tell them apart.
func diff(path string, a, b reflect.Value) string {
	if a.IsValid() != b.IsValid() {
		return path + ": one side missing"
	}
	if !a.IsValid() {
		return ""
	}
	if a.CanInterface() && b.CanInterface() {
		switch x := a.Interface().(type) {
		case *arrow.Schema:
			y, _ := b.Interface().(*arrow.Schema)
			if !schemaEqual(x, y) {
				return fmt.Sprintf("%s: schema\n%v\nvs\n%v", path, x, y)
			}
			return ""
		case arrow.DataType:
			y, _ := b.Interface().(arrow.DataType)
			if !arrow.TypeEqual(x, y, arrow.CheckMetadata()) {
				return fmt.Sprintf("%s: type %v vs %v", path, x, y)
			}
			return ""
		case arrow.RecordBatch:
			y, _ := b.Interface().(arrow.RecordBatch)
			// Bit-exact values, but NaN equals NaN.
			if y == nil || !schemaEqual(x.Schema(), y.Schema()) ||
				!array.RecordApproxEqual(x, y, array.WithNaNsEqual(true), array.WithAbsTolerance(0)) {
				return fmt.Sprintf("%s: batch\n%v\nvs\n%v", path, x, y)
			}
			return ""
		}
	}
	if a.Type() != b.Type() {
		return fmt.Sprintf("%s: %s vs %s", path, a.Type(), b.Type())
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return fmt.Sprintf("%s: nil vs non-nil", path)
			}
			return ""
		}
		return diff(path, a.Elem(), b.Elem())
	case reflect.Slice:
		if a.Len() != b.Len() {
			return fmt.Sprintf("%s: length %d vs %d", path, a.Len(), b.Len())
		}
		for i := range a.Len() {
			if d := diff(fmt.Sprintf("%s[%d]", path, i), a.Index(i), b.Index(i)); d != "" {
				return d
			}
		}
	case reflect.Struct:
		for i := range a.NumField() {
			if d := diff(path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i)); d != "" {
				return d
			}
		}
	case reflect.Float32, reflect.Float64:
		if math.Float64bits(a.Float()) != math.Float64bits(b.Float()) {
			return fmt.Sprintf("%s: %v vs %v", path, a.Float(), b.Float())
		}
	case reflect.Bool:
		if a.Bool() != b.Bool() {
			return fmt.Sprintf("%s: %v vs %v", path, a.Bool(), b.Bool())
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if a.Int() != b.Int() {
			return fmt.Sprintf("%s: %d vs %d", path, a.Int(), b.Int())
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if a.Uint() != b.Uint() {
			return fmt.Sprintf("%s: %d vs %d", path, a.Uint(), b.Uint())
		}
	case reflect.String:
		if a.String() != b.String() {
			return fmt.Sprintf("%s: %q vs %q", path, a.String(), b.String())
		}
	default:
		return fmt.Sprintf("%s: cannot compare %s", path, a.Kind())
	}
	return ""
}

func schemaEqual(a, b *arrow.Schema) bool {
	return a.Equal(b) && a.Metadata().Equal(b.Metadata())
}

func explain(p *physical.Plan) string { return planner.Explain(&planner.Statement{Plan: p}, nil) }

// ---- malformed input ----

type fakeNode struct{ physical.Base }

func (*fakeNode) Children() []physical.Node { return nil }

type fakeExpr struct{}

func (fakeExpr) Type() arrow.DataType { return physical.Int32 }
func (fakeExpr) String() string       { return "fake" }

func TestMarshalErrors(t *testing.T) {
	one := schema(field("x", physical.Int32))
	leaf := func() physical.Node {
		return &physical.ExchangeSource{Base: physical.Base{ID: 1, Out: one}}
	}
	project := func(e physical.Expr) physical.Node {
		return &physical.Project{Base: physical.Base{ID: 2, Out: one}, Input: leaf(), Exprs: []physical.Expr{e}}
	}
	window := func(off any) physical.Node {
		return &physical.Window{Base: physical.Base{ID: 2, Out: one}, Input: leaf(), Funcs: []physical.WindowFunc{{
			Fn: physical.WinRowNumber, T: physical.Int64,
			Frame: physical.Frame{Start: bound(physical.Preceding, off), End: bound(physical.CurrentRow, nil)}}}}
	}
	tests := []struct {
		name string
		root physical.Node
		want string
	}{
		{"unknown node", &fakeNode{physical.Base{ID: 1, Out: one}}, "unknown node type"},
		{"unknown expr", project(fakeExpr{}), "unknown expression type"},
		{"int literal", project(lit(7, physical.Int32)), "unsupported value 7 of type int"},
		{"literal offset", window(lit(int64(1), physical.Int64)), "unsupported value"},
		{"nil node", nil, "missing node"},
		{"typed nil node", (*physical.Filter)(nil), "missing node"},
		{"nil input", &physical.Filter{Base: physical.Base{ID: 2, Out: one}, Pred: lit(true, physical.Boolean)}, "missing node"},
		{"nil pred", &physical.Filter{Base: physical.Base{ID: 2, Out: one}, Input: leaf()}, "missing expression"},
		{"typed nil expr", project((*physical.Call)(nil)), "missing expression"},
		{"nil type", project(lit(nil, nil)), "missing type"},
		{"nil schema", &physical.ExchangeSource{Base: physical.Base{ID: 1}}, "missing schema"},
		{"unknown join type", &physical.HashJoin{Base: physical.Base{ID: 3, Out: one}, Left: leaf(), Right: leaf(), Type: 99}, "unknown physical.JoinType 99"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := planpb.Marshal(&physical.Plan{Fragments: []*physical.Fragment{{Root: tc.root, Consumer: -1}}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestUnmarshalErrors(t *testing.T) {
	mem := memory.NewGoAllocator()
	encode := func(build func(memory.Allocator) *physical.Plan) *planpb.Plan {
		p := build(mem)
		defer p.Release()
		data, err := planpb.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var m planpb.Plan
		if err := proto.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		return &m
	}
	root := func(m *planpb.Plan) *planpb.Node { return m.Fragments[len(m.Fragments)-1].Root }
	tests := []struct {
		name   string
		build  func(memory.Allocator) *physical.Plan
		mangle func(*planpb.Plan)
		want   string
	}{
		{"no fragments", literalPlan, func(m *planpb.Plan) { m.Fragments = nil }, "no fragments"},
		{"no root", literalPlan, func(m *planpb.Plan) { m.Fragments[0].Root = nil }, "missing node"},
		{"no input", literalPlan, func(m *planpb.Plan) { root(m).GetProject().Input = nil }, "missing node"},
		{"no kind", literalPlan, func(m *planpb.Plan) { root(m).Kind = nil }, "unknown node kind"},
		{"no expr kind", literalPlan, func(m *planpb.Plan) { root(m).GetProject().Exprs[0].Kind = nil }, "unknown expression kind"},
		{"column out of range", literalPlan, func(m *planpb.Plan) {
			root(m).GetProject().Exprs[len(literals())-1].GetCase().Thens[0].GetColRef().Index = 99
		}, "out of range"},
		{"width", literalPlan, func(m *planpb.Plan) { root(m).GetProject().Exprs = root(m).GetProject().Exprs[1:] }, "expressions for"},
		{"value kind", literalPlan, func(m *planpb.Plan) { root(m).GetProject().Exprs[5].GetLiteral().Value.Kind = nil }, "unknown kind"},
		{"no schema", literalPlan, func(m *planpb.Plan) { root(m).Schema = nil }, "missing schema"},
		{"corrupt schema", literalPlan, func(m *planpb.Plan) { root(m).Schema = []byte("\xff\xff\xff\xff\x10\x00\x00\x00garbage!garbage!") }, "schema"},
		{"corrupt type", literalPlan, func(m *planpb.Plan) { root(m).GetProject().Exprs[0].GetLiteral().Type = []byte{1, 2, 3} }, "schema"},
		{"type of two fields", literalPlan, func(m *planpb.Plan) { root(m).GetProject().Exprs[0].GetLiteral().Type = root(m).Schema }, "fields"},
		{"corrupt batch", literalPlan, func(m *planpb.Plan) { root(m).GetProject().Input.GetValues().Batches[0] = []byte("nope") }, "batch"},
		{"two batches in one", literalPlan, func(m *planpb.Plan) {
			root(m).GetProject().Input.GetValues().Batches[0] = twoBatches(t)
		}, "more than one batch"},
		{"names", aggregatePlan, func(m *planpb.Plan) { m.Names = m.Names[1:] }, "names for"},
		{"enum", aggregatePlan, func(m *planpb.Plan) {
			root(m).GetLimit().Input.GetTopN().Input.GetSort().Input.GetHashAggregate().Mode = 7
		}, "unknown planpb.AggMode 7"},
		{"sort key", aggregatePlan, func(m *planpb.Plan) { root(m).GetLimit().Input.GetTopN().Keys[0].Col = -1 }, "out of range"},
		{"exchange", aggregatePlan, func(m *planpb.Plan) {
			root(m).GetLimit().Input.GetTopN().Input.GetSort().Input.GetHashAggregate().Input.GetExchangeSource().Fragment = 5
		}, "unknown fragment 5"},
		{"output keys", aggregatePlan, func(m *planpb.Plan) { m.Fragments[0].OutputKeys = []int64{99} }, "output keys"},
		{"partition column", aggregatePlan, func(m *planpb.Plan) {
			m.Fragments[0].Root.GetHashAggregate().Input.GetFilter().Input.GetParquetScan().Columns[2].Partition = 2
		}, "partition 2 out of range"},
		{"missing arg", aggregatePlan, func(m *planpb.Plan) { m.Fragments[0].Root.GetHashAggregate().Aggs[1].Arg = nil }, "missing argument"},
		{"join keys", joinPlan(physical.InnerJoin, physical.Gather), func(m *planpb.Plan) {
			j := m.Fragments[0].Root.GetUnionAll().Inputs[0].GetHashJoin()
			j.RightKeys = j.RightKeys[1:]
		}, "2 left keys, 1 right keys"},
		{"residual width", joinPlan(physical.InnerJoin, physical.Gather), func(m *planpb.Plan) {
			m.Fragments[0].Root.GetUnionAll().Inputs[0].GetHashJoin().Residual.GetCall().Args[1].GetColRef().Index = 18
		}, "out of range"},
		{"union input", joinPlan(physical.InnerJoin, physical.Gather), func(m *planpb.Plan) {
			m.Fragments[0].Root.GetUnionAll().Inputs[1].Kind = nil
		}, "unknown node kind"},
		{"frame", windowPlan, func(m *planpb.Plan) { root(m).GetWindow().Funcs[0].Frame = nil }, "missing frame"},
		{"bound", windowPlan, func(m *planpb.Plan) { root(m).GetWindow().Funcs[0].Frame.Start.Kind = 5 }, "unknown planpb.BoundKind 5"},
		{"partition by", windowPlan, func(m *planpb.Plan) { root(m).GetWindow().PartitionBy[0] = 100 }, "out of range"},
		{"projection width", expandPlan, func(m *planpb.Plan) {
			p := root(m).GetExpand().Projections[1]
			p.Exprs = p.Exprs[:2]
		}, "projection of 2 expressions for 3 columns"},
		{"case", literalPlan, func(m *planpb.Plan) {
			c := root(m).GetProject().Exprs[len(literals())-2].GetCase()
			c.Thens = c.Thens[:1]
		}, "2 WHENs and 1 THENs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := encode(tc.build)
			tc.mangle(m)
			data, err := proto.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer checked.AssertSize(t, 0) // batches decoded before the error are released
			p, err := planpb.Unmarshal(data, checked)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				if p != nil {
					p.Release()
				}
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// twoBatches is an IPC stream of two batches, which no Values batch is.
func twoBatches(t *testing.T) []byte {
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(valuesSchema))
	for i := range 2 {
		b := batch(memory.DefaultAllocator, int32(i))
		if err := w.Write(b); err != nil {
			t.Fatal(err)
		}
		b.Release()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestUnmarshalMangled clears, one at a time, every field set in the
// encodings of the hand-built plans, and sets every integer to -1: Unmarshal
// must fail or return a plan that EXPLAIN can render, never panic. The
// Arrow IPC bytes are only cleared, not corrupted: arrow-go does not verify
// them and can exhaust memory on a corrupt one.
func TestUnmarshalMangled(t *testing.T) {
	clear := func(m protoreflect.Message, fd protoreflect.FieldDescriptor) { m.Clear(fd) }
	negate := func(m protoreflect.Message, fd protoreflect.FieldDescriptor) {
		switch {
		case fd.IsList() && fd.Kind() == protoreflect.Int64Kind:
			l := m.Mutable(fd).List()
			for i := range l.Len() {
				l.Set(i, protoreflect.ValueOfInt64(-1))
			}
		case fd.IsList():
		case fd.Kind() == protoreflect.Int64Kind:
			m.Set(fd, protoreflect.ValueOfInt64(-1))
		case fd.Kind() == protoreflect.Int32Kind:
			m.Set(fd, protoreflect.ValueOfInt32(-1))
		case fd.Kind() == protoreflect.EnumKind:
			m.Set(fd, protoreflect.ValueOfEnum(-1))
		}
	}
	mem := memory.NewGoAllocator()
	for name, build := range handBuilt() {
		t.Run(name, func(t *testing.T) {
			p := build(mem)
			data, err := planpb.Marshal(p)
			p.Release()
			if err != nil {
				t.Fatal(err)
			}
			var m planpb.Plan
			if err := proto.Unmarshal(data, &m); err != nil {
				t.Fatal(err)
			}
			checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer checked.AssertSize(t, 0)
			tries, fails := 0, 0
			for _, op := range []func(protoreflect.Message, protoreflect.FieldDescriptor){clear, negate} {
				for n := 0; ; n++ {
					mangled := proto.Clone(&m)
					if k := n; !mangleNth(mangled.ProtoReflect(), &k, op) {
						break
					}
					data, err := proto.Marshal(mangled)
					if err != nil {
						t.Fatal(err)
					}
					tries++
					p, err := planpb.Unmarshal(data, checked)
					if err != nil {
						fails++
						continue
					}
					explain(p)
					p.Schema()
					p.Release()
				}
			}
			t.Logf("%d mangled plans, %d refused", tries, fails)
		})
	}
}

// mangleNth applies op to the n-th populated field of the tree under m,
// parents before children, and reports whether there was one.
func mangleNth(m protoreflect.Message, n *int, op func(protoreflect.Message, protoreflect.FieldDescriptor)) bool {
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if !m.Has(fd) {
			continue
		}
		if *n == 0 {
			op(m, fd)
			return true
		}
		*n--
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := m.Get(fd).List()
			for j := range l.Len() {
				if mangleNth(l.Get(j).Message(), n, op) {
					return true
				}
			}
		case fd.Message() != nil:
			if mangleNth(m.Get(fd).Message(), n, op) {
				return true
			}
		}
	}
	return false
}

// ---- real plans ----

// sharedDir is the project's shared folder ($QUARRY_SHARED, else shared/
// beside the repository), or "" when absent outside CI.
func sharedDir(t *testing.T) string {
	dir := os.Getenv("QUARRY_SHARED")
	if dir == "" {
		dir = "../../../../shared"
	}
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("shared folder %s: %v", dir, err)
		}
		return ""
	}
	return dir
}

// extraQueries reach what neither TPC-H nor the golden plans do: Values
// batches, Expand, single-phase aggregates, frame offsets, literal types.
var extraQueries = map[string]string{
	"fromless": `SELECT 1 AS one, 'it''s' AS s, NULL AS n, DATE '1998-12-01' - INTERVAL '90' DAY AS d,
		TIMESTAMP '1995-03-15 12:34:56.5' AS ts, CAST('NaN' AS DOUBLE) AS nan, -12.50 AS dm`,
	"values": `WITH t AS (SELECT 1 AS a, 'a' AS b UNION ALL SELECT 2, NULL UNION ALL SELECT -3, 'c')
		SELECT a, b, a * 2.5 FROM t WHERE a <> 2 OR b IS NULL`,
	"rollup":     `SELECT n_regionkey, n_nationkey % 2 AS odd, count(*) FROM nation GROUP BY ROLLUP (n_regionkey, n_nationkey % 2)`,
	"string_agg": `SELECT r_name, string_agg(n_name, ', ' ORDER BY n_name) FROM nation JOIN region ON n_regionkey = r_regionkey GROUP BY r_name`,
	"percentile": `SELECT l_returnflag, percentile_cont(0.25) WITHIN GROUP (ORDER BY l_discount), percentile_disc(0.5) WITHIN GROUP (ORDER BY l_tax)
		FROM lineitem GROUP BY l_returnflag`,
	"frames": `SELECT o_orderkey, o_orderdate + INTERVAL '1' MONTH,
		sum(o_totalprice) OVER (PARTITION BY o_orderstatus ORDER BY o_orderkey ROWS BETWEEN 2 PRECEDING AND 1 FOLLOWING),
		count(*) OVER (ORDER BY o_custkey RANGE BETWEEN 10 PRECEDING AND UNBOUNDED FOLLOWING),
		max(o_orderkey) OVER (ORDER BY o_orderdate GROUPS BETWEEN 1 PRECEDING AND CURRENT ROW),
		min(o_orderkey) OVER (ORDER BY o_totalprice RANGE BETWEEN 100.5 PRECEDING AND 0.25 FOLLOWING),
		lag(o_orderkey, 2, -1) OVER (ORDER BY o_orderkey), rank() OVER (ORDER BY o_orderdate DESC)
		FROM orders WHERE o_orderkey < 200`,
	"setops": `SELECT n_regionkey FROM nation INTERSECT SELECT r_regionkey FROM region EXCEPT SELECT 4`,
	"not_in": `SELECT count(*) FROM part WHERE p_size NOT IN (SELECT ps_availqty FROM partsupp WHERE ps_supplycost < 10)
		AND (p_partkey IN (SELECT l_partkey FROM lineitem WHERE l_quantity > 49) OR p_size = 1)`,
}

// TestRealPlans round-trips the plans of the TPC-H queries, of the
// planner's golden plan inputs and of extraQueries: the decoded plan must
// be identical, explain the same and return the same rows.
func TestRealPlans(t *testing.T) {
	queries := map[string]string{}
	for name, sql := range extraQueries {
		queries["extra/"+name] = sql
	}
	golden, _ := filepath.Glob("../../../testdata/plans/*.sql")
	for _, f := range golden {
		queries["golden/"+strings.TrimSuffix(filepath.Base(f), ".sql")] = readFile(t, f)
	}
	if shared := sharedDir(t); shared != "" {
		for q := 1; q <= 22; q++ {
			queries[fmt.Sprintf("tpch/q%02d", q)] = readFile(t, filepath.Join(shared, "tpch", "queries", fmt.Sprintf("q%02d.sql", q)))
		}
	} else {
		t.Log("shared folder not found: TPC-H queries skipped (set QUARRY_SHARED)")
	}
	if len(golden) == 0 {
		t.Fatal("no golden plan inputs")
	}

	cat, err := catalog.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	if err := cat.AddSource("tpch", "../../../testdata/tpch/sf0.01"); err != nil {
		t.Fatal(err)
	}
	pl := &planner.Planner{Catalog: cat, Eval: kernels.EvalConst, Parallelism: 2}

	for name, sql := range queries {
		t.Run(name, func(t *testing.T) {
			parsed, err := planner.ParseAll(sql)
			if err != nil {
				t.Fatal(err)
			}
			if len(parsed) != 1 {
				t.Fatalf("%d statements", len(parsed))
			}
			st, err := pl.Plan(context.Background(), &planner.Session{DefaultSchema: "tpch"}, parsed[0])
			if err != nil {
				t.Fatal(err)
			}
			orig := st.Plan
			defer orig.Release()

			data, err := planpb.Marshal(orig)
			if err != nil {
				t.Fatal(err)
			}
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			got, err := planpb.Unmarshal(data, mem)
			if err != nil {
				t.Fatal(err)
			}
			defer got.Release()
			t.Logf("%d bytes", len(data))

			if d := diff("plan", reflect.ValueOf(orig), reflect.ValueOf(got)); d != "" {
				t.Fatal(d)
			}
			if w, g := planner.Explain(st, nil), planner.Explain(&planner.Statement{Plan: got, Rules: st.Rules}, nil); w != g {
				t.Fatalf("EXPLAIN differs:\n%s\nwant:\n%s", g, w)
			}
			want := run(t, orig)
			if rows := run(t, got); !slices.Equal(rows, want) {
				t.Fatalf("decoded plan returned %d rows, want %d:\n%s\nwant:\n%s",
					len(rows), len(want), strings.Join(rows, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// run executes p and returns its rows as sorted text. Doubles are rounded
// to 12 digits, as parallel aggregation may add in another order.
func run(t *testing.T, p *physical.Plan) []string {
	t.Helper()
	ctx := context.Background()
	x, err := exec.Run(ctx, p, exec.Options{Parallelism: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	var rows []string
	for {
		b, err := x.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := range int(b.NumRows()) {
			cells := make([]string, b.NumCols())
			for c := range cells {
				col := b.Column(c)
				if f, ok := col.(*array.Float64); ok && f.IsValid(i) {
					cells[c] = strconv.FormatFloat(f.Value(i), 'g', 12, 64)
				} else {
					cells[c] = col.ValueStr(i)
				}
			}
			rows = append(rows, strings.Join(cells, "|"))
		}
		b.Release()
	}
	slices.Sort(rows)
	return rows
}
