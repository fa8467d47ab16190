package exec

import (
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/planner/physical"
)

// TestSeries expands rows into series longer than a batch, zips two
// series (NULL-padding the shorter), keeps empty rows when Outer, and
// releases everything.
func TestSeries(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	in := fields(f("k", i64), f("n", i64))
	batch := record(t, mem, in, []any{1, 2, 3}, []any{2, nil, batchRows + 5})
	lit := func(v int64) physical.Expr { return &physical.Literal{Value: v, T: i64} }
	out := fields(f("k", i64), f("n", i64), f("a", i64), f("b", i64))
	for _, outer := range []bool{false, true} {
		n := &physical.Series{Base: base(out), Input: valuesNode(in, batch), Outer: outer, Series: []physical.SeriesSpec{
			{Start: lit(1), Stop: col(1, i64), Step: lit(1)},
			{Start: lit(10), Stop: lit(0), Step: lit(-5)},
		}}
		got, _, err := runPlan(t, onePlan(n), Options{Alloc: mem})
		if err != nil {
			t.Fatal(err)
		}
		var want [][]string
		add := func(k string, n string, a, b string) { want = append(want, []string{k, n, a, b}) }
		add("1", "2", "1", "10")
		add("1", "2", "2", "5")
		add("1", "2", "NULL", "0")
		// Row 2's first series is empty (NULL stop), its second is not.
		add("2", "NULL", "NULL", "10")
		add("2", "NULL", "NULL", "5")
		add("2", "NULL", "NULL", "0")
		for v := 1; v <= batchRows+5; v++ {
			b := "NULL"
			if v <= 3 {
				b = strconv.Itoa(15 - 5*v)
			}
			add("3", strconv.Itoa(batchRows+5), strconv.Itoa(v), b)
		}
		equalRows(t, got, want)
	}
	batch.Release()
	mem.AssertSize(t, 0)
}
