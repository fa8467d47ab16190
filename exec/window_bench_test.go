package exec

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/planner/physical"
)

// BenchmarkWindow runs rank and sliding aggregates over 1M rows in 100
// partitions.
func BenchmarkWindow(b *testing.B) {
	rows := rowsFrame(physical.Preceding, 10, physical.Following, 10)
	benchWindow(b, []physical.WindowFunc{
		{Fn: physical.WinRank, T: i64},
		{Fn: physical.AggSum, Args: []physical.Expr{col(2, i64)}, Frame: fRun, T: i64},
		{Fn: physical.AggSum, Args: []physical.Expr{col(3, f64)}, Frame: rows, T: f64},
		{Fn: physical.AggMax, Args: []physical.Expr{col(2, i64)}, Frame: rows, T: i64},
		{Fn: physical.AggAvg, Args: []physical.Expr{col(2, i64)}, Frame: rangeFrame(physical.Preceding, int64(50), physical.CurrentRow, nil), T: f64},
	})
}

// BenchmarkWindowStats runs the variance family and the two-argument
// statistics over running, sliding and RANGE frames of the same rows;
// row_number shows the cost of sorting and emitting them.
func BenchmarkWindowStats(b *testing.B) {
	rows := rowsFrame(physical.Preceding, 10, physical.Following, 10)
	v, x := col(2, i64), col(3, f64)
	for _, bc := range []struct {
		name string
		fn   physical.WindowFunc
	}{
		{"baseline-row-number", physical.WindowFunc{Fn: physical.WinRowNumber, T: i64}},
		{"stddev-running", physical.WindowFunc{Fn: physical.AggStddevSamp, Args: []physical.Expr{x}, Frame: fRun, T: f64}},
		{"var-rows", physical.WindowFunc{Fn: physical.AggVarSamp, Args: []physical.Expr{x}, Frame: rows, T: f64}},
		{"var-range", physical.WindowFunc{Fn: physical.AggVarPop, Args: []physical.Expr{v},
			Frame: rangeFrame(physical.Preceding, int64(50), physical.CurrentRow, nil), T: f64}},
		{"corr-rows", physical.WindowFunc{Fn: physical.AggCorr, Args: []physical.Expr{x, v}, Frame: rows, T: f64}},
		{"regr-slope-whole", physical.WindowFunc{Fn: physical.AggRegrSlope, Args: []physical.Expr{x, v}, Frame: fWhole, T: f64}},
		{"sum-rows", physical.WindowFunc{Fn: physical.AggSum, Args: []physical.Expr{x}, Frame: rows, T: f64}},
	} {
		b.Run(bc.name, func(b *testing.B) { benchWindow(b, []physical.WindowFunc{bc.fn}) })
	}
}

// benchWindow runs funcs over 1M rows (g, o, v int64, x float64) in 100
// partitions ordered by o.
func benchWindow(b *testing.B, funcs []physical.WindowFunc) {
	const n, per = 1 << 20, 1 << 16
	mem := memory.NewGoAllocator()
	schema := fields(f("g", i64), f("o", i64), f("v", i64), f("x", f64))
	var batches []arrow.Record
	for start := 0; start < n; start += per {
		bl := array.NewRecordBuilder(mem, schema)
		for i := start; i < start+per; i++ {
			bl.Field(0).(*array.Int64Builder).Append(int64(i*7919) % 100)
			bl.Field(1).(*array.Int64Builder).Append(int64(i*104729) % 5000)
			bl.Field(2).(*array.Int64Builder).Append(int64(i % 1000))
			bl.Field(3).(*array.Float64Builder).Append(float64(i%1000) / 3)
		}
		batches = append(batches, bl.NewRecordBatch())
		bl.Release()
	}
	defer releaseAll(batches)
	out := append([]arrow.Field(nil), schema.Fields()...)
	for _, fn := range funcs {
		out = append(out, f("w", fn.T))
	}
	b.ResetTimer()
	for range b.N {
		w := &physical.Window{Base: base(arrow.NewSchema(out, nil)), Input: valuesNode(schema, batches...),
			PartitionBy: []int{0}, OrderBy: []physical.SortKey{asc(1)}, Funcs: funcs}
		op, err := Build(w, &Env{Alloc: mem})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		op.Open(ctx)
		for {
			r, err := op.Next(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			r.Release()
		}
		op.Close()
	}
}
