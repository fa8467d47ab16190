package kernels

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/planner/physical"
)

// boundedDecimals is randDecimals with the junk under NULLs kept within
// mag too, and the largest magnitude of all slots recorded as the bound
// of the values buffer.
func boundedDecimals(mem memory.Allocator, r *rand.Rand, t arrow.DataType, n int, mag int64, pNull float64) arrow.Array {
	a := randDecimals(mem, r, t, n, big.NewInt(mag), pNull)
	vals := arrow.Decimal128Traits.CastFromBytes(a.Data().Buffers()[1].Bytes())
	var m uint64
	for i := range vals {
		if a.IsNull(i) {
			v := r.Int64N(mag + 1)
			if r.IntN(2) == 0 {
				v = -v
			}
			vals[i] = decimal128.FromI64(v)
		}
		x := int64(vals[i].LowBits())
		m = max(m, uint64(max(x, -x)))
	}
	SetDecBound(a.Data().Buffers()[1], m)
	return a
}

// TestDecimalArithBounds checks the 64-bit arithmetic on operands with a
// recorded bound (no scan for the largest value) against exact big.Int
// results, with NULLs, scalars and slices; and that the bound recorded on
// the result covers all of its slots, so that chained expressions like
// TPC-H Q1's price*(1-discount)*(1+tax) stay on the fast path correctly.
func TestDecimalArithBounds(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	d2 := &arrow.Decimal128Type{Precision: 15, Scale: 2}
	const n = 700
	for _, mag := range []int64{100, 10_000_000, 3_037_000_499, 1 << 62} {
		for _, form := range []string{"arrays", "scalar", "sliced", "nonulls"} {
			t.Run(fmt.Sprintf("%d/%s", mag, form), func(t *testing.T) {
				checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
				defer checked.AssertSize(t, 0)
				mem := junkAllocator{checked}
				pNull := 0.1
				if form == "nonulls" {
					pNull = 0
				}
				a := boundedDecimals(mem, r, d2, n, mag, pNull)
				b := boundedDecimals(mem, r, d2, n, min(mag, 1000), pNull)
				if form == "sliced" {
					sa, sb := array.NewSlice(a, 5, n-9), array.NewSlice(b, 5, n-9)
					a.Release()
					b.Release()
					a, b = sa, sb
				}
				defer a.Release()
				defer b.Release()
				schema := arrow.NewSchema([]arrow.Field{{Name: "a", Type: d2, Nullable: true}, {Name: "b", Type: d2, Nullable: true}}, nil)
				rec := array.NewRecordBatch(schema, []arrow.Array{a, b}, int64(a.Len()))
				defer rec.Release()
				var rb physical.Expr = col(1, d2)
				if form == "scalar" {
					rb = lit(decimal128.FromI64(-77), d2)
				}
				one := lit(decimal128.FromI64(100), d2)
				t4 := &arrow.Decimal128Type{Precision: 38, Scale: 4}
				t6 := &arrow.Decimal128Type{Precision: 38, Scale: 6}
				d2w := &arrow.Decimal128Type{Precision: 38, Scale: 2}
				// a * (1 - b) * (1 + b), as Q1 computes its charge.
				e := call("mul", t6, call("mul", t4, col(0, d2), call("sub", d2w, one, rb)), call("add", d2w, one, rb))
				got, err := Eval(mem, e, rec)
				if err != nil {
					t.Fatal(err)
				}
				defer got.Release()
				g := got.(*array.Decimal128)
				for i := 0; i < a.Len(); i++ {
					bv, bnull := decimal128.FromI64(-77), false
					if form != "scalar" {
						bv, bnull = b.(*array.Decimal128).Value(i), b.IsNull(i)
					}
					if a.IsNull(i) || bnull {
						if g.IsValid(i) {
							t.Fatalf("row %d: want NULL", i)
						}
						continue
					}
					x, y := a.(*array.Decimal128).Value(i).BigInt(), bv.BigInt()
					h := big.NewInt(100)
					w := new(big.Int).Mul(x, new(big.Int).Sub(h, y))
					w.Mul(w, new(big.Int).Add(h, y))
					if g.IsNull(i) || g.Value(i).BigInt().Cmp(w) != 0 {
						t.Fatalf("row %d: got %v, want %s", i, g.Value(i).BigInt(), w)
					}
				}
				if m, ok := DecBound(g); ok {
					for i, v := range arrow.Decimal128Traits.CastFromBytes(g.Data().Buffers()[1].Bytes()) {
						x := int64(v.LowBits())
						if v.HighBits() != x>>63 || uint64(max(x, -x)) > m {
							t.Fatalf("slot %d: %v exceeds the recorded bound %d", i, v.BigInt(), m)
						}
					}
				} else if mag <= 10_000_000 {
					t.Fatalf("no bound recorded for a small result")
				}
			})
		}
	}
}

// TestCmpDecimalBounded checks the 64-bit comparison of an array with a
// recorded bound against Num.Cmp, for scalars inside and outside 64 bits.
func TestCmpDecimalBounded(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	mem := memory.NewGoAllocator()
	dt := &arrow.Decimal128Type{Precision: 38, Scale: 2}
	edges := []int64{0, 1, -1, 5, -5, 1<<63 - 1, -(1<<63 - 1)}
	b := array.NewDecimal128Builder(mem, dt)
	for i := 0; i < 600; i++ {
		if i%2 == 0 {
			b.Append(decimal128.FromI64(edges[i%len(edges)]))
		} else {
			b.Append(decimal128.FromI64(r.Int64N(21) - 10))
		}
	}
	full := b.NewArray()
	b.Release()
	defer full.Release()
	SetDecBound(full.Data().Buffers()[1], 1<<63-1)
	arr := array.NewSlice(full, 3, 590)
	defer arr.Release()
	if _, ok := DecBound(arr); !ok {
		t.Fatal("slice lost the bound")
	}
	vals := arr.(*array.Decimal128).Values()
	a := datum{arr: arr, t: dt}
	scalars := []decimal128.Num{decimal128.FromI64(5), decimal128.FromI64(-5), decimal128.FromI64(0),
		decimal128.FromI64(1<<63 - 1), decimal128.FromI64(-1 << 63), decimal128.New(1, 0), decimal128.New(-2, 0)}
	for op := opEq; op <= opGe; op++ {
		for _, w := range scalars {
			out := make([]byte, (len(vals)+7)/8)
			cmpDecimal(op, a, scalar(w, dt), out)
			for i, v := range vals {
				want := op.holds(v.Cmp(w))
				if got := out[i>>3]>>(i&7)&1 == 1; got != want {
					t.Fatalf("op %d: %v vs %v: got %v, want %v", op, v.BigInt(), w.BigInt(), got, want)
				}
			}
		}
	}
}
