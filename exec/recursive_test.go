package exec

import (
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/planner/physical"
)

// TestRecursiveUnion counts to 300 by passes over the working table (two
// rows per pass, equal under Distinct), and releases every pass's rows.
func TestRecursiveUnion(t *testing.T) {
	if !kernelsReady() {
		t.Skip("kernels.Eval does not evaluate calls yet")
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	schema := fields(f("n", i64))
	lit := func(v int64) physical.Expr { return &physical.Literal{Value: v, T: i64} }
	for _, distinct := range []bool{false, true} {
		anchor := record(t, mem, schema, []any{1, 1})
		work := &physical.WorkTableScan{Base: base(schema), WorkTable: 7}
		keep := &physical.Filter{Base: base(schema), Input: work,
			Pred: &physical.Call{Fn: physical.FnLt, Args: []physical.Expr{col(0, i64), lit(300)}, T: bln}}
		step := &physical.Project{Base: base(schema), Input: keep,
			Exprs: []physical.Expr{&physical.Call{Fn: physical.FnAdd, Args: []physical.Expr{col(0, i64), lit(1)}, T: i64}}}
		root := &physical.RecursiveUnion{Base: base(schema), Anchor: valuesNode(schema, anchor), Step: step, WorkTable: 7, Distinct: distinct}
		got, _, err := runPlan(t, onePlan(root), Options{Alloc: mem})
		if err != nil {
			t.Fatal(err)
		}
		var want [][]string
		for n := 1; n <= 300; n++ {
			want = append(want, []string{strconv.Itoa(n)})
			if !distinct {
				want = append(want, []string{strconv.Itoa(n)})
			}
		}
		equalRows(t, got, want)
		anchor.Release()
	}
	mem.AssertSize(t, 0)
}
