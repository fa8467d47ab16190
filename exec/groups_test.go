package exec

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestGroupTableTinyStrings feeds batches of two string keys, some all
// single-byte (the direct-mapped path) and some not (the generic path),
// with NULLs and sliced arrays, and checks every row gets the group id of
// its key in order of first appearance, and the key columns at the end.
func TestGroupTableTinyStrings(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r := rand.New(rand.NewPCG(3, 4))
	tbl := newGroupTable(mem, []arrow.DataType{arrow.BinaryTypes.String, arrow.BinaryTypes.String})
	defer tbl.release()
	ref := map[string]uint32{}
	var order []string
	pick := func(long bool) *string {
		vals := []string{"A", "N", "R", "", "\x00", "\xff"}
		if long {
			vals = append(vals, "AB", "A\x00")
		}
		if r.IntN(10) == 0 {
			return nil
		}
		s := vals[r.IntN(len(vals))]
		return &s
	}
	for batch := 0; batch < 30; batch++ {
		long := batch%3 == 2
		n := 50 + r.IntN(100)
		var cols [2]arrow.Array
		var rows [][2]*string
		for c := range cols {
			b := array.NewStringBuilder(mem)
			for i := 0; i < n+4; i++ {
				v := pick(long && c == batch%2)
				if len(rows) <= i {
					rows = append(rows, [2]*string{})
				}
				rows[i][c] = v
				if v == nil {
					b.AppendNull()
				} else {
					b.Append(*v)
				}
			}
			full := b.NewArray()
			b.Release()
			cols[c] = array.NewSlice(full, 4, int64(n+4)) // a sliced batch
			full.Release()
		}
		rows = rows[4:]
		gids, err := tbl.assign(cols[:], n)
		if err != nil {
			t.Fatal(err)
		}
		for i, row := range rows {
			key := fmt.Sprintf("%v", render(row[0])) + "|" + render(row[1])
			id, ok := ref[key]
			if !ok {
				id = uint32(len(order))
				ref[key] = id
				order = append(order, key)
			}
			if gids[i] != id {
				t.Fatalf("batch %d row %d key %q: group %d, want %d", batch, i, key, gids[i], id)
			}
		}
		releaseAll(cols[:])
	}
	if tbl.n != len(order) {
		t.Fatalf("%d groups, want %d", tbl.n, len(order))
	}
	keys := tbl.keyArrays()
	defer releaseAll(keys)
	for g, want := range order {
		got := cellOrNull(keys[0], g) + "|" + cellOrNull(keys[1], g)
		if got != want {
			t.Errorf("group %d has key %q, want %q", g, got, want)
		}
	}
}

func render(s *string) string {
	if s == nil {
		return "NULL"
	}
	return fmt.Sprintf("%q", *s)
}

func cellOrNull(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return "NULL"
	}
	return fmt.Sprintf("%q", a.(*array.String).Value(i))
}
