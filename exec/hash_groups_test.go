package exec

import (
	"math"
	"math/rand"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestGroupTableInts assigns integer keys with runs, NULLs and extremes
// over several batches, enough to grow the table many times, in dense and
// hash mode and across the switch: equal keys get one group, groups are
// numbered in order of first appearance, and the kept key values are those
// groups' keys.
func TestGroupTableInts(t *testing.T) {
	for _, c := range []struct {
		name string
		// spread: keys are multiples of it; wideFrom: the batch from
		// which extremes and spread keys appear.
		narrow, wideFrom int
		dense            bool
	}{
		{"dense", 20_000, 99, true},
		{"dense-then-hash", 20_000, 3, false},
		{"hash", 5000, 0, false},
		{"negative-dense", -30_000, 99, true},
	} {
		t.Run(c.name, func(t *testing.T) { groupIntsCase(t, c.narrow, c.wideFrom, c.dense) })
	}
}

func groupIntsCase(t *testing.T, narrow, wideFrom int, dense bool) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewSource(5))
	gt := newGroupTable(mem, []arrow.DataType{arrow.PrimitiveTypes.Int64})
	defer gt.release()
	want := map[any]uint32{}
	var order []any
	for batch := 0; batch < 5; batch++ {
		b := array.NewInt64Builder(mem)
		var keys []any
		for i := 0; i < 3000; i++ {
			var k any
			switch r := rng.Intn(20); {
			case r == 0:
				k = nil
			case r == 1 && batch >= wideFrom:
				k = int64(math.MinInt64)
			case r == 2 && batch >= wideFrom:
				k = int64(math.MaxInt64)
			case r < 6 && len(keys) > 0:
				k = keys[len(keys)-1] // a run
			case batch >= wideFrom:
				k = int64(rng.Intn(5000)-2500) * 7919
			default:
				// Growing both ways from where the first key lands.
				k = int64(narrow + (rng.Intn(2*batch+2)-batch-1)*rng.Intn(1500))
			}
			keys = append(keys, k)
			if k == nil {
				b.AppendNull()
			} else {
				b.Append(k.(int64))
			}
		}
		arr := b.NewArray()
		b.Release()
		gids, err := gt.assign([]arrow.Array{arr}, arr.Len())
		if err != nil {
			t.Fatal(err)
		}
		for i, k := range keys {
			id, ok := want[k]
			if !ok {
				id = uint32(len(order))
				want[k] = id
				order = append(order, k)
			}
			if gids[i] != id {
				t.Fatalf("batch %d row %d key %v: group %d, want %d", batch, i, k, gids[i], id)
			}
		}
		arr.Release()
	}
	if (gt.ints.dense != nil) != dense {
		t.Errorf("dense: %v", gt.ints.dense != nil)
	}
	kept := gt.keyArrays()
	defer releaseAll(kept)
	if kept[0].Len() != len(order) {
		t.Fatalf("%d groups kept, want %d", kept[0].Len(), len(order))
	}
	for i, k := range order {
		a := kept[0].(*array.Int64)
		if (k == nil) != a.IsNull(i) || (k != nil && a.Value(i) != k.(int64)) {
			t.Fatalf("group %d: key %v, want %v", i, a.ValueStr(i), k)
		}
	}
}
