package exec

import (
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// TestAggregateChargesGoMemory: the Go maps and per-group states of a hash
// aggregate count toward the query's memory, so a GROUP BY with many
// groups fails cleanly at the limit instead of growing the heap unseen.
func TestAggregateChargesGoMemory(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	schema := fields(f("k", arrow.BinaryTypes.String))
	const groups = 100_000
	var rows [][]any
	for i := 0; i < groups; i++ {
		rows = append(rows, []any{fmt.Sprintf("key-%d", i)})
	}
	batches := rowsToRecords(t, mem, schema, rows, 10_000)
	plan := func() *physical.Plan {
		return onePlan(aggNode(valuesNode(schema, batches...), physical.AggSingle,
			[]physical.Expr{col(0, arrow.BinaryTypes.String)},
			physical.AggCall{Fn: physical.AggCountStar, T: arrow.PrimitiveTypes.Int64}))
	}
	got, e, err := runPlan(t, plan(), Options{Alloc: mem})
	if err != nil || len(got) != groups {
		t.Fatalf("%d groups, %v", len(got), err)
	}
	if min := int64(groups * (mapEntryBytes + aggStateBytes)); e.MemoryPeak() < min {
		t.Errorf("peak %d bytes does not include the Go maps (≥ %d)", e.MemoryPeak(), min)
	}
	// A limit the Arrow buffers alone would fit, but not with the maps.
	_, _, err = runPlan(t, plan(), Options{Alloc: mem, MemoryLimit: e.MemoryPeak() - groups*mapEntryBytes/2})
	wantCode(t, err, sqlerr.OutOfMemory)
	releaseAll(batches)
	mem.AssertSize(t, 0)
}
