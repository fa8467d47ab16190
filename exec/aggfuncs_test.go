package exec

import (
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
)

// TestDecSumExactAndOverflow checks per-group decimal sums against big.Int
// with and without NULLs, and that wrapping past 128 bits is an error.
func TestDecSumExactAndOverflow(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dt := &arrow.Decimal128Type{Precision: 38, Scale: 2}
	r := rand.New(rand.NewPCG(5, 6))
	for _, withNulls := range []bool{false, true} {
		s := &decSum{scale: 2}
		s.grow(3)
		want := []*big.Int{new(big.Int), new(big.Int), new(big.Int)}
		for batch := 0; batch < 5; batch++ {
			b := array.NewDecimal128Builder(mem, dt)
			gids := make([]uint32, 100)
			for i := range gids {
				gids[i] = uint32(r.IntN(3))
				if withNulls && r.IntN(4) == 0 {
					b.AppendNull()
					continue
				}
				v := decimal128.New(r.Int64N(1<<40)-1<<39, r.Uint64())
				b.Append(v)
				want[gids[i]].Add(want[gids[i]], v.BigInt())
			}
			arr := b.NewArray()
			b.Release()
			err := s.add(gids, arr)
			arr.Release()
			if err != nil {
				t.Fatal(err)
			}
		}
		for g, w := range want {
			if got := s.sums[g].BigInt(); got.Cmp(w) != 0 {
				t.Errorf("nulls=%v group %d: sum %s, want %s", withNulls, g, got, w)
			}
		}
	}

	for _, sign := range []int64{1, -1} {
		s := &decSum{scale: 2}
		s.grow(1)
		b := array.NewDecimal128Builder(mem, dt)
		big := decimal128.New(1<<62, 0) // 2^126; three of them leave 128 bits
		if sign < 0 {
			big = big.Negate()
		}
		b.Append(big)
		b.AppendNull()
		b.Append(big)
		b.Append(big)
		arr := b.NewArray()
		b.Release()
		err := s.add([]uint32{0, 0, 0, 0}, arr)
		arr.Release()
		if err == nil || sqlerr.Code(err) != sqlerr.NumericOutOfRange {
			t.Errorf("sign %d: 3 × 2^126: got %v, want numeric overflow", sign, err)
		}
	}
}
