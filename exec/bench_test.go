package exec

import (
	"context"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/quarrydb/quarry/planner/physical"
)

const lineitemPath = "/work/shared/tpch/data/sf0.1/lineitem.parquet"

// lineitemScan scans l_quantity, l_extendedprice, l_discount, l_tax,
// l_returnflag, l_linestatus, l_shipdate of all 5 row groups.
func lineitemScan(b *testing.B) *physical.ParquetScan {
	if _, err := os.Stat(lineitemPath); err != nil {
		b.Skipf("%s: %v", lineitemPath, err)
	}
	d := dec(15, 2)
	cols := []physical.ScanColumn{
		{Name: "l_quantity", FileColumn: 4, T: d},
		{Name: "l_extendedprice", FileColumn: 5, T: d},
		{Name: "l_discount", FileColumn: 6, T: d},
		{Name: "l_tax", FileColumn: 7, T: d},
		{Name: "l_returnflag", FileColumn: 8, T: str},
		{Name: "l_linestatus", FileColumn: 9, T: str},
		{Name: "l_shipdate", FileColumn: 10, T: date},
	}
	s := scanNode(lineitemPath, []int{0, 1, 2, 3, 4}, cols)
	s.Files[0].PartitionValues = nil
	return s
}

func runBench(b *testing.B, plan *physical.Plan, wantRows int64) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		e, err := Run(context.Background(), plan, Options{})
		if err != nil {
			b.Fatal(err)
		}
		var rows int64
		for {
			rec, err := e.Next(context.Background())
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			rows += rec.NumRows()
			rec.Release()
		}
		e.Close()
		if wantRows >= 0 && rows != wantRows {
			b.Fatalf("got %d rows, want %d", rows, wantRows)
		}
	}
}

func BenchmarkScanLineitem(b *testing.B) {
	scan := lineitemScan(b)
	plan := gatherPlan(scan, 0, func(src physical.Node) physical.Node { return src })
	runBench(b, plan, 600572)
}

// BenchmarkQ1Lineitem is TPC-H Q1 without its filter and computed columns:
// scan → partial aggregate → gather → final aggregate → sort.
func BenchmarkQ1Lineitem(b *testing.B) {
	scan := lineitemScan(b)
	d := dec(15, 2)
	aggs := []physical.AggCall{
		call(physical.AggSum, col(0, d), dec(38, 2)),
		call(physical.AggSum, col(1, d), dec(38, 2)),
		call(physical.AggAvg, col(0, d), f64),
		call(physical.AggAvg, col(2, d), f64),
		call(physical.AggMax, col(6, date), date),
		call(physical.AggCountStar, nil, i64),
	}
	keys := []physical.Expr{col(4, str), col(5, str)}
	partial := aggNode(scan, physical.AggPartial, keys, aggs...)
	plan := gatherPlan(partial, 0, func(src physical.Node) physical.Node {
		final := aggNode(src, physical.AggFinal, []physical.Expr{col(0, str), col(1, str)}, aggs...)
		return &physical.Sort{Base: base(final.Schema()), Input: final, Keys: []physical.SortKey{{Col: 0}, {Col: 1}}}
	})
	runBench(b, plan, 4)
}
