package exec

import (
	"context"
	"math"
	"math/rand"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

var (
	i32  = arrow.PrimitiveTypes.Int32
	i64  = arrow.PrimitiveTypes.Int64
	f64  = arrow.PrimitiveTypes.Float64
	str  = arrow.BinaryTypes.String
	bln  = arrow.FixedWidthTypes.Boolean
	date = arrow.FixedWidthTypes.Date32
	dec  = func(p, s int32) arrow.DataType { return &arrow.Decimal128Type{Precision: p, Scale: s} }
)

func valuesNode(schema *arrow.Schema, batches ...arrow.Record) *physical.Values {
	return &physical.Values{Base: base(schema), Name: "v", Batches: batches}
}

func buildOp(t *testing.T, n physical.Node, mem memory.Allocator) Operator {
	t.Helper()
	op, err := Build(n, &Env{Alloc: mem})
	if err != nil {
		t.Fatal(err)
	}
	return op
}

func TestValuesFilterProjectLimit(t *testing.T) {
	schema := fields(f("a", i64), f("b", str), f("c", bln))
	cases := []struct {
		name string
		plan func(v physical.Node) physical.Node
		want [][]string
	}{
		{"values", func(v physical.Node) physical.Node { return v }, [][]string{
			{"1", "one", "true"}, {"2", "two", "false"}, {"3", "NULL", "NULL"}, {"4", "four", "true"}, {"5", "five", "true"}}},
		{"filter", func(v physical.Node) physical.Node {
			return &physical.Filter{Base: base(schema), Input: v, Pred: col(2, bln)}
		}, [][]string{{"1", "one", "true"}, {"4", "four", "true"}, {"5", "five", "true"}}},
		{"project", func(v physical.Node) physical.Node {
			return &physical.Project{Base: base(fields(f("b", str), f("a", i64))), Input: v, Exprs: []physical.Expr{col(1, str), col(0, i64)}}
		}, [][]string{{"one", "1"}, {"two", "2"}, {"NULL", "3"}, {"four", "4"}, {"five", "5"}}},
		{"limit", func(v physical.Node) physical.Node {
			return &physical.Limit{Base: base(schema), Input: v, Offset: 1, N: 3}
		}, [][]string{{"2", "two", "false"}, {"3", "NULL", "NULL"}, {"4", "four", "true"}}},
		{"limit-offset-only", func(v physical.Node) physical.Node {
			return &physical.Limit{Base: base(schema), Input: v, Offset: 4, N: -1}
		}, [][]string{{"5", "five", "true"}}},
		{"limit-zero", func(v physical.Node) physical.Node {
			return &physical.Limit{Base: base(schema), Input: v, Offset: 0, N: 0}
		}, nil},
		{"filter-limit", func(v physical.Node) physical.Node {
			fl := &physical.Filter{Base: base(schema), Input: v, Pred: col(2, bln)}
			return &physical.Limit{Base: base(schema), Input: fl, Offset: 0, N: 2}
		}, [][]string{{"1", "one", "true"}, {"4", "four", "true"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			b1 := record(t, mem, schema, []any{1, 2, 3}, []any{"one", "two", nil}, []any{true, false, nil})
			b0 := record(t, mem, schema, []any{}, []any{}, []any{})
			b2 := record(t, mem, schema, []any{4, 5}, []any{"four", "five"}, []any{true, true})
			v := valuesNode(schema, b1, b0, b2)
			got, err := runOp(t, buildOp(t, tc.plan(v), mem))
			if err != nil {
				t.Fatal(err)
			}
			equalRows(t, got, tc.want)
			b0.Release()
			b1.Release()
			b2.Release()
			mem.AssertSize(t, 0)
		})
	}
}

// aggNode builds a HashAggregate with its output schema.
func aggNode(in physical.Node, mode physical.AggMode, groupBy []physical.Expr, aggs ...physical.AggCall) *physical.HashAggregate {
	var fs []arrow.Field
	for i, g := range groupBy {
		fs = append(fs, f("k"+strconv.Itoa(i), g.Type()))
	}
	for i := range aggs {
		if mode == physical.AggPartial {
			fs = append(fs, aggs[i].StateFields()...)
		} else {
			fs = append(fs, f(aggs[i].Fn, aggs[i].T))
		}
	}
	return &physical.HashAggregate{Base: base(fields(fs...)), Input: in, Mode: mode, GroupBy: groupBy, Aggs: aggs}
}

func call(fn string, arg physical.Expr, t arrow.DataType) physical.AggCall {
	return physical.AggCall{Fn: fn, Arg: arg, T: t}
}

var aggSchema = fields(f("k", str), f("i", i64), f("d", dec(10, 2)), f("k2", i32), f("dt", date), f("fl", f64))

func aggInput(t *testing.T, mem memory.Allocator) []arrow.Record {
	return []arrow.Record{
		record(t, mem, aggSchema, []any{"x", "y", "x"}, []any{1, 2, nil}, []any{100, 250, nil}, []any{1, 1, 2}, []any{10, 20, 30}, []any{1.5, nil, 2.5}),
		record(t, mem, aggSchema, []any{nil, "y", "x"}, []any{4, 5, 6}, []any{-50, 1, 99}, []any{nil, 2, 1}, []any{40, 50, 60}, []any{-1.0, 0.0, 3.0}),
	}
}

func TestHashAggregate(t *testing.T) {
	k, i, d, k2, dt, fl := col(0, str), col(1, i64), col(2, dec(10, 2)), col(3, i32), col(4, date), col(5, f64)
	all := []physical.AggCall{
		call(physical.AggCountStar, nil, i64), call(physical.AggCount, i, i64), call(physical.AggSum, i, i64),
		call(physical.AggAvg, i, f64), call(physical.AggMin, i, i64), call(physical.AggMax, i, i64),
		call(physical.AggSum, d, dec(38, 2)), call(physical.AggAvg, d, f64),
	}
	dup := []any{1, 1, 2, nil, 2, 7}
	cases := []struct {
		name    string
		groupBy []physical.Expr
		aggs    []physical.AggCall
		input   func(t *testing.T, mem memory.Allocator) []arrow.Record
		want    [][]string
		code    string
	}{
		{name: "string key", groupBy: []physical.Expr{k}, aggs: all, want: [][]string{
			{"x", "3", "2", "7", "3.5", "1", "6", "1.99", "0.995"},
			{"y", "2", "2", "7", "3.5", "2", "5", "2.51", "1.255"},
			{"NULL", "1", "1", "4", "4", "4", "4", "-0.50", "-0.5"},
		}},
		{name: "int key", groupBy: []physical.Expr{k2}, aggs: []physical.AggCall{call(physical.AggCountStar, nil, i64), call(physical.AggMin, k, str), call(physical.AggMax, k, str)},
			want: [][]string{{"1", "3", "x", "y"}, {"2", "2", "x", "y"}, {"NULL", "1", "NULL", "NULL"}}},
		{name: "date key", groupBy: []physical.Expr{dt}, aggs: []physical.AggCall{call(physical.AggSum, fl, f64)},
			want: [][]string{{"1970-01-11", "1.5"}, {"1970-01-21", "NULL"}, {"1970-01-31", "2.5"}, {"1970-02-10", "-1"}, {"1970-02-20", "0"}, {"1970-03-02", "3"}}},
		{name: "multi key", groupBy: []physical.Expr{k, k2}, aggs: []physical.AggCall{call(physical.AggCountStar, nil, i64), call(physical.AggSum, i, i64)},
			want: [][]string{{"x", "1", "2", "7"}, {"y", "1", "1", "2"}, {"x", "2", "1", "NULL"}, {"NULL", "NULL", "1", "4"}, {"y", "2", "1", "5"}}},
		{name: "global", aggs: []physical.AggCall{call(physical.AggCountStar, nil, i64), call(physical.AggCount, i, i64), call(physical.AggSum, i, i64),
			call(physical.AggAvg, i, f64), call(physical.AggMax, dt, date), call(physical.AggMin, k, str), call(physical.AggMin, fl, f64), call(physical.AggMax, d, dec(10, 2))},
			want: [][]string{{"6", "5", "18", "3.6", "1970-03-02", "x", "-1", "2.50"}}},
		{name: "global empty", aggs: all, input: func(*testing.T, memory.Allocator) []arrow.Record { return nil },
			want: [][]string{{"0", "0", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL"}}},
		{name: "grouped empty", groupBy: []physical.Expr{k}, aggs: all, input: func(*testing.T, memory.Allocator) []arrow.Record { return nil }},
		{name: "distinct rows", groupBy: []physical.Expr{k}, want: [][]string{{"x"}, {"y"}, {"NULL"}}},
		{name: "distinct aggregates", groupBy: []physical.Expr{k2},
			aggs: []physical.AggCall{
				{Fn: physical.AggCount, Arg: i, T: i64, Distinct: true}, {Fn: physical.AggSum, Arg: i, T: i64, Distinct: true},
				{Fn: physical.AggAvg, Arg: i, T: f64, Distinct: true}, call(physical.AggCount, i, i64),
			},
			input: func(t *testing.T, mem memory.Allocator) []arrow.Record {
				return []arrow.Record{
					record(t, mem, aggSchema, []any{"a", "a", "a"}, dup[:3], []any{1, 1, 1}, []any{1, 1, 1}, []any{1, 1, 1}, []any{1.0, 1.0, 1.0}),
					record(t, mem, aggSchema, []any{"a", "a", "a"}, dup[3:], []any{1, 1, 1}, []any{1, 1, 2}, []any{1, 1, 1}, []any{1.0, 1.0, 1.0}),
				}
			},
			want: [][]string{{"1", "2", "3", "1.5", "4"}, {"2", "1", "7", "7", "1"}}},
		{name: "sum overflow", aggs: []physical.AggCall{call(physical.AggSum, i, i64)}, code: sqlerr.NumericOutOfRange,
			input: func(t *testing.T, mem memory.Allocator) []arrow.Record {
				return []arrow.Record{record(t, mem, aggSchema, []any{"a", "a"}, []any{math.MaxInt64, 1}, []any{1, 1}, []any{1, 1}, []any{1, 1}, []any{1.0, 1.0})}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			input := aggInput
			if tc.input != nil {
				input = tc.input
			}
			batches := input(t, mem)
			n := aggNode(valuesNode(aggSchema, batches...), physical.AggSingle, tc.groupBy, tc.aggs...)
			got, err := runOp(t, buildOp(t, n, mem))
			if tc.code != "" {
				wantCode(t, err, tc.code)
			} else {
				if err != nil {
					t.Fatal(err)
				}
				equalRows(t, got, tc.want)
			}
			releaseAll(batches)
			mem.AssertSize(t, 0)
		})
	}
}

func TestHashAggregateDecimalOverflow(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	schema := fields(f("d", dec(38, 0)))
	big, _ := decimal128.FromString("60000000000000000000000000000000000000", 38, 0)
	b := record(t, mem, schema, []any{big, big})
	n := aggNode(valuesNode(schema, b), physical.AggSingle, nil, call(physical.AggSum, col(0, dec(38, 0)), dec(38, 0)))
	_, err := runOp(t, buildOp(t, n, mem))
	wantCode(t, err, sqlerr.NumericOutOfRange)
	b.Release()
	mem.AssertSize(t, 0)
}

// TestPartialFinal checks that partial aggregates of two halves merged by
// a final aggregate equal the single-phase result.
func TestPartialFinal(t *testing.T) {
	k, i, d := col(0, str), col(1, i64), col(2, dec(10, 2))
	aggs := []physical.AggCall{
		call(physical.AggCountStar, nil, i64), call(physical.AggCount, i, i64), call(physical.AggSum, i, i64),
		call(physical.AggAvg, i, f64), call(physical.AggMin, k, str), call(physical.AggMax, i, i64),
		call(physical.AggSum, d, dec(38, 2)), call(physical.AggAvg, d, f64),
	}
	for _, grouped := range []bool{true, false} {
		t.Run(strconv.FormatBool(grouped), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			batches := aggInput(t, mem)
			var gb []physical.Expr
			if grouped {
				gb = []physical.Expr{col(1, i64)}
			}
			single := aggNode(valuesNode(aggSchema, batches...), physical.AggSingle, gb, aggs...)
			want, err := runOp(t, buildOp(t, single, mem))
			if err != nil {
				t.Fatal(err)
			}
			var partials []arrow.Record
			for _, b := range batches {
				p := aggNode(valuesNode(aggSchema, b), physical.AggPartial, gb, aggs...)
				op := buildOp(t, p, mem)
				op.Open(context.Background())
				for {
					r, err := op.Next(context.Background())
					if err != nil {
						break
					}
					partials = append(partials, r)
				}
				op.Close()
			}
			pschema := partials[0].Schema()
			var fgb []physical.Expr
			if grouped {
				fgb = []physical.Expr{col(0, i64)}
			}
			final := aggNode(valuesNode(pschema, partials...), physical.AggFinal, fgb, aggs...)
			got, err := runOp(t, buildOp(t, final, mem))
			if err != nil {
				t.Fatal(err)
			}
			equalRows(t, got, want)
			releaseAll(partials)
			releaseAll(batches)
			mem.AssertSize(t, 0)
		})
	}
}

func TestSortTopN(t *testing.T) {
	schema := fields(f("a", i32), f("b", str), f("id", i64))
	mk := func(t *testing.T, mem memory.Allocator) []arrow.Record {
		return []arrow.Record{
			record(t, mem, schema, []any{3, nil, 1, 2}, []any{"c", "n1", "a", "b"}, []any{0, 1, 2, 3}),
			record(t, mem, schema, []any{1, 2, nil, 1}, []any{"z", "b", "n2", "a"}, []any{4, 5, 6, 7}),
		}
	}
	asc := []physical.SortKey{{Col: 0}, {Col: 1}}
	cases := []struct {
		name string
		node func(in physical.Node) physical.Node
		want []string // ids
	}{
		{"asc nulls last stable", func(in physical.Node) physical.Node {
			return &physical.Sort{Base: base(schema), Input: in, Keys: []physical.SortKey{{Col: 0}}}
		}, []string{"2", "4", "7", "3", "5", "0", "1", "6"}},
		{"desc nulls first", func(in physical.Node) physical.Node {
			return &physical.Sort{Base: base(schema), Input: in, Keys: []physical.SortKey{{Col: 0, Desc: true, NullsFirst: true}}}
		}, []string{"1", "6", "0", "3", "5", "2", "4", "7"}},
		{"two keys", func(in physical.Node) physical.Node {
			return &physical.Sort{Base: base(schema), Input: in, Keys: []physical.SortKey{{Col: 0, NullsFirst: true}, {Col: 1, Desc: true}}}
		}, []string{"6", "1", "4", "2", "7", "3", "5", "0"}},
		{"topn", func(in physical.Node) physical.Node {
			return &physical.TopN{Base: base(schema), Input: in, Keys: asc, Offset: 1, N: 3}
		}, []string{"7", "4", "3"}},
		{"topn past end", func(in physical.Node) physical.Node {
			return &physical.TopN{Base: base(schema), Input: in, Keys: asc, Offset: 6, N: 10}
		}, []string{"1", "6"}},
		{"topn zero", func(in physical.Node) physical.Node {
			return &physical.TopN{Base: base(schema), Input: in, Keys: asc, Offset: 0, N: 0}
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			batches := mk(t, mem)
			rows, err := runOp(t, buildOp(t, tc.node(valuesNode(schema, batches...)), mem))
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range rows {
				ids = append(ids, r[2])
			}
			if len(ids) != len(tc.want) || strconv.Quote(join(ids)) != strconv.Quote(join(tc.want)) {
				t.Fatalf("got %v, want %v", ids, tc.want)
			}
			releaseAll(batches)
			mem.AssertSize(t, 0)
		})
	}
}

func join(s []string) string {
	out := ""
	for _, x := range s {
		out += x + ","
	}
	return out
}

// TestTopNLarge compares TopN (which compacts its buffer) with Sort+Limit.
func TestTopNLarge(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	schema := fields(f("v", i64), f("id", i64))
	rng := rand.New(rand.NewSource(1))
	var batches []arrow.Record
	for b := 0; b < 10; b++ {
		var vs, ids []any
		for i := 0; i < 30000; i++ {
			vs = append(vs, rng.Intn(5000))
			ids = append(ids, b*30000+i)
		}
		batches = append(batches, record(t, mem, schema, vs, ids))
	}
	keys := []physical.SortKey{{Col: 0, Desc: true}}
	top := &physical.TopN{Base: base(schema), Input: valuesNode(schema, batches...), Keys: keys, Offset: 5, N: 100}
	got, err := runOp(t, buildOp(t, top, mem))
	if err != nil {
		t.Fatal(err)
	}
	srt := &physical.Sort{Base: base(schema), Input: valuesNode(schema, batches...), Keys: keys}
	lim := &physical.Limit{Base: base(schema), Input: srt, Offset: 5, N: 100}
	want, err := runOp(t, buildOp(t, lim, mem))
	if err != nil {
		t.Fatal(err)
	}
	equalRows(t, got, want)
	releaseAll(batches)
	mem.AssertSize(t, 0)
}
