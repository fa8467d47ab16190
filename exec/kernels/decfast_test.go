package kernels

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// junkAllocator hands out uninitialized memory full of junk, as a
// recycling allocator may.
type junkAllocator struct{ memory.Allocator }

func (j junkAllocator) AllocateUninit(size int) []byte {
	b := j.Allocate(size)
	for i := range b {
		b[i] = 0xA5
	}
	return b
}

// randDecimals returns n decimals of at most mag, NULL with probability
// pNull, with junk (possibly huge) values under the NULLs.
func randDecimals(mem memory.Allocator, r *rand.Rand, t arrow.DataType, n int, mag *big.Int, pNull float64) arrow.Array {
	vbuf := memory.NewResizableBuffer(mem)
	vbuf.Resize(16 * n)
	vals := arrow.Decimal128Traits.CastFromBytes(vbuf.Bytes())
	nbuf := memory.NewResizableBuffer(mem)
	nbuf.Resize(int(bitutil.BytesForBits(int64(n))))
	clear(nbuf.Bytes())
	nulls := 0
	for i := range vals {
		if r.Float64() < pNull {
			vals[i] = decimal128.New(r.Int64(), r.Uint64())
			nulls++
			continue
		}
		bitutil.SetBit(nbuf.Bytes(), i)
		v := randBelow(r, new(big.Int).Add(mag, big.NewInt(1)))
		if r.IntN(2) == 0 {
			v.Neg(v)
		}
		if r.IntN(8) == 0 { // the extremes
			v.Set(mag)
			if r.IntN(2) == 0 {
				v.Neg(v)
			}
		}
		vals[i] = decimal128.FromBigInt(v)
	}
	if nulls == 0 {
		nbuf.Release()
		nbuf = nil
	}
	d := array.NewData(t, n, []*memory.Buffer{nbuf, vbuf}, nil, nulls, 0)
	defer d.Release()
	vbuf.Release()
	if nbuf != nil {
		nbuf.Release()
	}
	return array.MakeFromData(d)
}

// randBelow returns a uniform value in [0, lim) (lim below 2^128).
func randBelow(r *rand.Rand, lim *big.Int) *big.Int {
	v := new(big.Int).SetUint64(r.Uint64())
	v.Lsh(v, 64).Or(v, new(big.Int).SetUint64(r.Uint64()))
	return v.Mod(v, lim)
}

func pow10(k int32) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(k)), nil) }

// TestDecimalArithFastPath checks add, sub and mul of decimals against exact
// big.Int arithmetic across magnitudes on both sides of the 64-bit fast
// path, with NULLs hiding junk, array and scalar operands, and sliced input.
func TestDecimalArithFastPath(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	mags := []*big.Int{
		big.NewInt(100), big.NewInt(10_000_000), big.NewInt(3_037_000_499), // products below 2^63
		big.NewInt(math.MaxInt64), new(big.Int).Lsh(big.NewInt(1), 70), pow10(37),
	}
	type shape struct {
		fn             string
		s1, s2, ts, tp int32
	}
	shapes := []shape{
		{"mul", 2, 2, 4, 31}, {"mul", 2, 2, 4, 18}, {"mul", 2, 2, 4, 9}, {"mul", 0, 2, 2, 38},
		{"add", 2, 2, 2, 16}, {"add", 0, 2, 2, 38}, {"add", 2, 0, 4, 12}, {"sub", 2, 2, 2, 15},
		{"sub", 0, 2, 2, 16}, {"sub", 2, 2, 2, 5}, {"add", 2, 2, 2, 19},
	}
	const n = 203
	for _, sh := range shapes {
		for ai, ma := range mags {
			for bi, mb := range mags {
				for _, form := range []string{"arrays", "scalar", "sliced"} {
					name := fmt.Sprintf("%s_s%d_%d_to_%d_%d/%d_%d/%s", sh.fn, sh.s1, sh.s2, sh.ts, sh.tp, ai, bi, form)
					t.Run(name, func(t *testing.T) {
						checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
						defer checked.AssertSize(t, 0)
						mem := junkAllocator{checked}
						ta := &arrow.Decimal128Type{Precision: 38, Scale: sh.s1}
						tb := &arrow.Decimal128Type{Precision: 38, Scale: sh.s2}
						tt := &arrow.Decimal128Type{Precision: sh.tp, Scale: sh.ts}
						pNull := 0.0
						if form != "scalar" {
							pNull = 0.1
						}
						a := randDecimals(mem, r, ta, n, ma, pNull)
						b := randDecimals(mem, r, tb, n, mb, pNull)
						if form == "sliced" {
							sa, sb := array.NewSlice(a, 3, n-5), array.NewSlice(b, 3, n-5)
							a.Release()
							b.Release()
							a, b = sa, sb
						}
						defer a.Release()
						defer b.Release()
						var rhs physical.Expr = col(1, tb)
						if form == "scalar" {
							rhs = lit(b.(*array.Decimal128).Value(0), tb)
						}
						rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "a", Type: ta, Nullable: true}, {Name: "b", Type: tb, Nullable: true}}, nil), []arrow.Array{a, b}, int64(a.Len()))
						defer rec.Release()

						// The exact answer.
						bound := pow10(sh.tp)
						over := false
						want := make([]*big.Int, a.Len())
						for i := range want {
							bj := 0
							if form != "scalar" {
								bj = i
							}
							if a.IsNull(i) || b.IsNull(bj) {
								continue
							}
							x := a.(*array.Decimal128).Value(i).BigInt()
							y := b.(*array.Decimal128).Value(bj).BigInt()
							var v *big.Int
							switch sh.fn {
							case "mul":
								v = new(big.Int).Mul(x, y)
								if sh.ts != sh.s1+sh.s2 {
									t.Skip("rescaling products take the exact path")
								}
							case "add", "sub":
								x.Mul(x, pow10(sh.ts-sh.s1))
								y.Mul(y, pow10(sh.ts-sh.s2))
								if sh.fn == "add" {
									v = x.Add(x, y)
								} else {
									v = x.Sub(x, y)
								}
							}
							if new(big.Int).Abs(v).Cmp(bound) >= 0 {
								over = true
							}
							want[i] = v
						}

						got, err := Eval(mem, call(sh.fn, tt, col(0, ta), rhs), rec)
						if over {
							if err == nil {
								got.Release()
								t.Fatalf("want a numeric overflow error, got none")
							}
							if sqlerr.Code(err) != sqlerr.NumericOutOfRange {
								t.Fatalf("want numeric overflow, got %v", err)
							}
							return
						}
						if err != nil {
							t.Fatal(err)
						}
						defer got.Release()
						g := got.(*array.Decimal128)
						for i, w := range want {
							if w == nil {
								if g.IsValid(i) {
									t.Fatalf("row %d: got %s, want NULL", i, g.Value(i).BigInt())
								}
								continue
							}
							if g.IsNull(i) || g.Value(i).BigInt().Cmp(w) != 0 {
								t.Fatalf("row %d: got %v, want %s", i, g.Value(i).BigInt(), w)
							}
						}
					})
				}
			}
		}
	}
}

// TestDecimalArithFastPathBounds pins the precision test of the 64-bit path
// at exactly 10^precision.
func TestDecimalArithFastPathBounds(t *testing.T) {
	d := func(v int64, _ int32) decimal128.Num { return decimal128.FromI64(v) } // unscaled; the scale is for the reader
	t52, t92 := physical.Decimal(5, 2), physical.Decimal(9, 2)
	t94 := physical.Decimal(9, 4)
	runCases(t, []evalCase{
		{name: "add reaches 10^p", cols: []colSpec{cs(t52, d(50000, 2)), cs(t52, d(50000, 2))},
			e: call("add", t52, col(0, t52), col(1, t52)), code: sqlerr.NumericOutOfRange},
		{name: "add just below 10^p", cols: []colSpec{cs(t52, d(50000, 2), d(-50000, 2)), cs(t52, d(49999, 2), d(-49999, 2))},
			e: call("add", t52, col(0, t52), col(1, t52)), want: []any{d(99999, 2), d(-99999, 2)}},
		{name: "sub reaches -10^p", cols: []colSpec{cs(t52, d(-50000, 2)), cs(t52, d(50000, 2))},
			e: call("sub", t52, col(0, t52), col(1, t52)), code: sqlerr.NumericOutOfRange},
		{name: "mul reaches 10^p", cols: []colSpec{cs(t92, d(10000, 2)), cs(t92, d(-100000, 2))},
			e: call("mul", t94, col(0, t92), col(1, t92)), code: sqlerr.NumericOutOfRange},
		{name: "mul just below 10^p", cols: []colSpec{cs(t92, d(9999, 2)), cs(t92, d(-100000, 2))},
			e: call("mul", t94, col(0, t92), col(1, t92)), want: []any{d(-999900000, 4)}},
		{name: "overflow under NULL is ignored", cols: []colSpec{cs(t52, d(50000, 2), d(1, 2)), cs(t52, nil, d(2, 2))},
			e: call("add", t52, col(0, t52), col(1, t52)), want: []any{nil, d(3, 2)}},
	})
}

// TestCmpDecimalWide checks the branch-free decimal comparison against
// Num.Cmp on values that differ only in the high word, only in the low
// word (with the low word's top bit set), or not at all.
func TestCmpDecimalWide(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	his := []int64{-2, -1, 0, 1, math.MaxInt64, math.MinInt64}
	los := []uint64{0, 1, 1 << 63, math.MaxUint64}
	var vals []decimal128.Num
	for _, h := range his {
		for _, l := range los {
			vals = append(vals, decimal128.New(h, l))
		}
	}
	vals = append(vals, decimal128.New(r.Int64(), r.Uint64()))
	mem := memory.NewGoAllocator()
	b := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: 38, Scale: 0})
	b.AppendValues(vals, nil)
	arr := b.NewArray()
	b.Release()
	defer arr.Release()
	a := datum{arr: arr, t: arr.DataType()}
	for op := opEq; op <= opGe; op++ {
		for _, w := range vals {
			out := make([]byte, (len(vals)+7)/8)
			cmpDecimal(op, a, scalar(w, arr.DataType()), out)
			for i, v := range vals {
				want := op.holds(v.Cmp(w))
				if got := out[i>>3]>>(i&7)&1 == 1; got != want {
					t.Fatalf("op %d: %v vs %v: got %v, want %v", op, v.BigInt(), w.BigInt(), got, want)
				}
			}
		}
	}
}
