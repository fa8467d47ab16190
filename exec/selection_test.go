package exec

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/planner/physical"
)

// TestScanSelectionMatchesFilter runs aggregates over a filtering scan,
// where batches keeping most rows reach the aggregate as a selection
// (through a projection), and over a separate Filter node, which always
// copies the kept rows, and wants the same answer. The data has NULL keys
// and arguments; the projection divides by zero on rows only the filter
// drops, which must not be an error; predicates on both sides of the
// selection threshold are tried.
func TestScanSelectionMatchesFilter(t *testing.T) {
	dir := t.TempDir()
	path := writeTestParquet(t, dir, 30000, 7000)
	cols := []physical.ScanColumn{scId, scGrp, scAmt, scQty, scFlag}
	ex := func(fn string, tp arrow.DataType, args ...physical.Expr) physical.Expr {
		return &physical.Call{Fn: fn, Args: args, T: tp}
	}
	lit := func(v int64) physical.Expr { return &physical.Literal{Value: v, T: i64} }
	preds := map[string]physical.Expr{
		"most":     ex(physical.FnNe, bln, ex(physical.FnMod, i64, col(0, i64), lit(3)), lit(0)), // keeps 2/3
		"nearly":   ex(physical.FnNe, bln, ex(physical.FnMod, i64, col(0, i64), lit(50)), lit(0)),
		"few":      ex(physical.FnEq, bln, ex(physical.FnMod, i64, col(0, i64), lit(3)), lit(1)),
		"nullable": ex(physical.FnGt, bln, col(3, i64), lit(5)), // NULL qty: dropped
	}
	for name, pred := range preds {
		t.Run(name, func(t *testing.T) {
			checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer checked.AssertSize(t, 0)
			run := func(inScan bool) [][]string {
				scan := scanNode(path, allRowGroups(30000, 7000), cols)
				var in physical.Node = scan
				if inScan {
					scan.Filter = pred
				} else {
					in = &physical.Filter{Base: base(scan.Schema()), Input: scan, Pred: pred}
				}
				// 300 / (id % 3): zero divisor exactly where "most" drops.
				q := ex(physical.FnDiv, i64, lit(300), ex(physical.FnMod, i64, col(0, i64), lit(3)))
				if name != "most" {
					q = ex(physical.FnAdd, i64, col(0, i64), lit(1))
				}
				proj := &physical.Project{
					Base:  base(fields(f("grp", str), f("amt", dec(12, 2)), f("qty", i64), f("q", i64), f("flag", bln))),
					Input: in,
					Exprs: []physical.Expr{col(1, str), col(2, dec(12, 2)), col(3, i64), q, col(4, bln)},
				}
				agg := aggNode(proj, physical.AggSingle, []physical.Expr{col(0, str), col(4, bln)},
					call(physical.AggSum, col(1, dec(12, 2)), dec(38, 2)),
					call(physical.AggAvg, col(1, dec(12, 2)), f64),
					call(physical.AggCountStar, nil, i64),
					call(physical.AggCount, col(2, i64), i64),
					call(physical.AggSum, col(2, i64), i64),
					call(physical.AggSum, col(3, i64), i64),
					call(physical.AggMin, col(1, dec(12, 2)), dec(12, 2)),
				)
				srt := &physical.Sort{Base: base(agg.Schema()), Input: agg, Keys: []physical.SortKey{{Col: 0}, {Col: 1}}}
				rows, _, err := runPlan(t, onePlan(srt), Options{Alloc: checked, Parallelism: 2})
				if err != nil {
					t.Fatal(err)
				}
				return rows
			}
			got, want := run(true), run(false)
			if len(want) < 2 {
				t.Fatalf("only %d groups", len(want))
			}
			equalRows(t, got, want)
		})
	}
}
