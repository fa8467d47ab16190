package kernels

import (
	"math"
	"math/big"
	"math/bits"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

func errDivZero() error { return sqlerr.New(sqlerr.DivisionByZero, "division by zero") }

func errIntRange(k kind) error {
	if k == kInt64 {
		return sqlerr.New(sqlerr.NumericOutOfRange, "bigint out of range")
	}
	return sqlerr.New(sqlerr.NumericOutOfRange, "integer out of range")
}

func errNumericOverflow() error {
	return sqlerr.New(sqlerr.NumericOutOfRange, "numeric field overflow")
}

// operand returns the values of d as a slice and an index mask: a scalar is
// a one-element slice with mask 0, so loops read vals[i&mask] without
// materializing a broadcast array.
func operand[T any](d datum, conv func(any) T) ([]T, int) {
	if d.arr == nil {
		return []T{conv(d.val)}, 0
	}
	return rawValues[T](d.arr), -1
}

func convI32(v any) int32 { return toI32(v) }
func convI64(v any) int64 { return toI64(v) }
func convF64(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int32:
		return float64(x)
	case int64:
		return float64(x)
	}
	return 0
}
func convDec(v any) decimal128.Num { x, _ := v.(decimal128.Num); return x }

// firstValidBad returns the first row in bad that is valid (not NULL).
func firstValidBad(validity *memory.Buffer, bad []int32) (int32, bool) {
	for _, i := range bad {
		if validity == nil || bitIsSet(validity.Bytes(), int(i)) {
			return i, true
		}
	}
	return 0, false
}

func arithKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	if len(args) != 2 {
		return datum{}, sqlerr.New(sqlerr.InternalError, "%s takes 2 arguments", c.Fn)
	}
	a, b := args[0], args[1]
	ka, kb := kindOf(a.t), kindOf(b.t)
	if a.isScalar() && b.isScalar() {
		arr, err := ev.materialize(a)
		if err != nil {
			return datum{}, err
		}
		defer arr.Release()
		a = datum{arr: arr, t: a.t}
	}
	switch {
	case isIntervalArith(c.Fn, ka, kb):
		return intervalArith(ev, c, a, b)
	case ka == kDate || ka == kTimestamp || ka == kInterval || kb == kInterval:
		return dateArith(ev, c, a, b)
	case ka != kb && !(ka == kDecimal && kb == kDecimal):
		return datum{}, sqlerr.New(sqlerr.FeatureNotSupported, "%s(%s, %s) is not supported", c.Fn, physical.TypeName(a.t), physical.TypeName(b.t))
	case ka == kInt32:
		return intArith[int32](ev, c.Fn, a, b, c.T, convI32, kInt32)
	case ka == kInt64:
		return intArith[int64](ev, c.Fn, a, b, c.T, convI64, kInt64)
	case ka == kFloat64:
		return floatArith(ev, c.Fn, a, b, c.T)
	case ka == kDecimal:
		return decArith(ev, c.Fn, a, b, c.T)
	}
	return datum{}, sqlerr.New(sqlerr.FeatureNotSupported, "%s(%s, %s) is not supported", c.Fn, physical.TypeName(a.t), physical.TypeName(b.t))
}

func intArith[T int32 | int64](ev *evaluator, fn string, a, b datum, t arrow.DataType, conv func(any) T, k kind) (datum, error) {
	n := ev.n
	av, am := operand(a, conv)
	bv, bm := operand(b, conv)
	validity := andValidity(ev.mem, n, a.arr, b.arr)
	buf, out := newValues[T](ev.mem, n)
	var x0 T
	minT := T(1) << (8*unsafe.Sizeof(x0) - 1)
	var bad []int32 // rows that overflowed or divided by zero
	zero := false
	switch fn {
	case physical.FnAdd:
		for i := range out {
			x, y := av[i&am], bv[i&bm]
			r := x + y
			out[i] = r
			if (x^r)&(y^r) < 0 {
				bad = append(bad, int32(i))
			}
		}
	case physical.FnSub:
		for i := range out {
			x, y := av[i&am], bv[i&bm]
			r := x - y
			out[i] = r
			if (x^y)&(x^r) < 0 {
				bad = append(bad, int32(i))
			}
		}
	case physical.FnMul:
		if k == kInt32 {
			for i := range out {
				p := int64(av[i&am]) * int64(bv[i&bm])
				out[i] = T(p)
				if p != int64(int32(p)) {
					bad = append(bad, int32(i))
				}
			}
		} else {
			for i := range out {
				x, y := int64(av[i&am]), int64(bv[i&bm])
				out[i] = T(x * y)
				if uint64(x+1<<31)|uint64(y+1<<31) >= 1<<32 && mul64Overflows(x, y) {
					bad = append(bad, int32(i))
				}
			}
		}
	case physical.FnDiv, physical.FnMod:
		div := fn == physical.FnDiv
		for i := range out {
			x, y := av[i&am], bv[i&bm]
			switch {
			case y == 0:
				out[i] = 0
				bad = append(bad, int32(i))
				zero = true
			case y == -1:
				if div {
					out[i] = -x
					if x == minT {
						bad = append(bad, int32(i))
					}
				} else {
					out[i] = 0
				}
			case div:
				out[i] = x / y
			default:
				out[i] = x % y
			}
		}
	default:
		buf.Release()
		if validity != nil {
			validity.Release()
		}
		return datum{}, sqlerr.New(sqlerr.FeatureNotSupported, "function %s on integers", fn)
	}
	if len(bad) > 0 {
		if i, ok := firstValidBad(validity, bad); ok {
			buf.Release()
			if validity != nil {
				validity.Release()
			}
			if zero && bv[int(i)&bm] == 0 {
				return datum{}, errDivZero()
			}
			return datum{}, errIntRange(k)
		}
	}
	return datum{arr: makeArray(t, n, validity, buf), t: t}, nil
}

func mul64Overflows(x, y int64) bool {
	neg := (x < 0) != (y < 0)
	hi, lo := bits.Mul64(uabs(x), uabs(y))
	if hi != 0 {
		return true
	}
	if neg {
		return lo > 1<<63
	}
	return lo > math.MaxInt64
}

func uabs(x int64) uint64 {
	if x < 0 {
		return uint64(-x)
	}
	return uint64(x)
}

func floatArith(ev *evaluator, fn string, a, b datum, t arrow.DataType) (datum, error) {
	n := ev.n
	av, am := operand(a, convF64)
	bv, bm := operand(b, convF64)
	validity := andValidity(ev.mem, n, a.arr, b.arr)
	buf, out := newValues[float64](ev.mem, n)
	var bad []int32
	switch fn {
	case physical.FnAdd:
		for i := range out {
			out[i] = av[i&am] + bv[i&bm]
		}
	case physical.FnSub:
		for i := range out {
			out[i] = av[i&am] - bv[i&bm]
		}
	case physical.FnMul:
		for i := range out {
			out[i] = av[i&am] * bv[i&bm]
		}
	case physical.FnDiv:
		for i := range out {
			y := bv[i&bm]
			if y == 0 {
				bad = append(bad, int32(i))
			}
			out[i] = av[i&am] / y
		}
	case physical.FnMod:
		for i := range out {
			y := bv[i&bm]
			if y == 0 {
				bad = append(bad, int32(i))
			}
			out[i] = math.Mod(av[i&am], y)
		}
	default:
		buf.Release()
		if validity != nil {
			validity.Release()
		}
		return datum{}, sqlerr.New(sqlerr.FeatureNotSupported, "function %s on double", fn)
	}
	if _, ok := firstValidBad(validity, bad); ok && len(bad) > 0 {
		buf.Release()
		if validity != nil {
			validity.Release()
		}
		return datum{}, errDivZero()
	}
	return datum{arr: makeArray(t, n, validity, buf), t: t}, nil
}

// --- decimals ---

var pow10i64 = func() [19]int64 {
	var p [19]int64
	p[0] = 1
	for i := 1; i < 19; i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

func fitsI64(x decimal128.Num) bool { return x.HighBits() == int64(x.LowBits())>>63 }

// decBound returns 10^p, the exclusive magnitude bound of precision p.
func decBound(p int32) decimal128.Num {
	if p <= 0 || p > 38 {
		p = 38
	}
	return decimal128.GetScaleMultiplier(int(p))
}

func decFits(x, bound decimal128.Num) bool {
	return x.Less(bound) && bound.Negate().Less(x)
}

// decFits2 is decFits with the negated bound precomputed.
func decFits2(x, bound, negBound decimal128.Num) bool {
	return x.Less(bound) && negBound.Less(x)
}

// decReduce divides x by 10^k rounding half away from zero.
func decReduce(x decimal128.Num, k int32) decimal128.Num {
	if k <= 0 {
		return x
	}
	if k > 38 {
		return decimal128.Num{}
	}
	if k <= 18 && fitsI64(x) {
		v, p := int64(x.LowBits()), pow10i64[k]
		q, r := v/p, v%p
		if r < 0 {
			r = -r
		}
		if r >= p-r {
			if v < 0 {
				q--
			} else {
				q++
			}
		}
		return decimal128.FromI64(q)
	}
	return x.ReduceScaleBy(k, true)
}

// decRescale converts x from scale `from` to scale `to` (rounding half away
// from zero when reducing); ok is false on 128-bit overflow.
func decRescale(x decimal128.Num, from, to int32) (decimal128.Num, bool) {
	switch {
	case to == from:
		return x, true
	case to < from:
		return decReduce(x, from-to), true
	}
	k := to - from
	if k > 38 {
		return x, x.Sign() == 0
	}
	if k <= 18 && fitsI64(x) {
		return decMul(x, decimal128.FromI64(pow10i64[k]))
	}
	return decMul(x, decimal128.GetScaleMultiplier(int(k)))
}

// decMul multiplies exactly; ok is false when the product exceeds 127 bits.
func decMul(x, y decimal128.Num) (decimal128.Num, bool) {
	if fitsI64(x) && fitsI64(y) {
		a, b := int64(x.LowBits()), int64(y.LowBits())
		hi, lo := bits.Mul64(uabs(a), uabs(b))
		if hi>>63 != 0 {
			return decimal128.Num{}, false
		}
		r := decimal128.New(int64(hi), lo)
		if (a < 0) != (b < 0) {
			r = r.Negate()
		}
		return r, true
	}
	p := new(big.Int).Mul(x.BigInt(), y.BigInt())
	if p.BitLen() > 127 {
		return decimal128.Num{}, false
	}
	return decimal128.FromBigInt(p), true
}

// decArg converts a decimal datum to scale s when it has more digits after
// the point than s (the arithmetic loops only scale up).
func decArg(ev *evaluator, d datum, s int32) (datum, func(), error) {
	if decScale(d.t) <= s {
		return d, func() {}, nil
	}
	nt := &arrow.Decimal128Type{Precision: 38, Scale: s}
	if d.arr == nil {
		v, _ := decRescale(d.val.(decimal128.Num), decScale(d.t), s)
		return scalar(v, nt), func() {}, nil
	}
	r, err := castArray(ev, d, nt)
	if err != nil {
		return datum{}, nil, err
	}
	return r, r.release, nil
}

func decArith(ev *evaluator, fn string, a, b datum, t arrow.DataType) (datum, error) {
	n := ev.n
	ts, tp := decScale(t), decPrec(t)
	if kindOf(t) != kDecimal {
		return datum{}, sqlerr.New(sqlerr.FeatureNotSupported, "%s on decimals producing %s", fn, physical.TypeName(t))
	}
	bound := decBound(tp)
	negBound := bound.Negate()
	switch fn {
	case physical.FnAdd, physical.FnSub:
		var relA, relB func()
		var err error
		if a, relA, err = decArg(ev, a, ts); err != nil {
			return datum{}, err
		}
		defer relA()
		if b, relB, err = decArg(ev, b, ts); err != nil {
			return datum{}, err
		}
		defer relB()
	}
	s1, s2 := decScale(a.t), decScale(b.t)
	av, am := operand(a, convDec)
	bv, bm := operand(b, convDec)
	validity := andValidity(ev.mem, n, a.arr, b.arr)
	buf, out := newValues[decimal128.Num](ev.mem, n)
	var bad []int32
	zero := false
	if done, badRow, bound := decArith64(fn, a, b, s1, s2, ts, tp, out); done {
		if badRow >= 0 {
			if _, ok := firstValidBad(validity, []int32{badRow}); ok {
				buf.Release()
				if validity != nil {
					validity.Release()
				}
				return datum{}, errNumericOverflow()
			}
			// The bad row is NULL; a later valid row may still be bad:
			// let the exact loop below decide.
		} else {
			if bound >= 0 {
				SetDecBound(buf, uint64(bound))
			}
			return datum{arr: makeArray(t, n, validity, buf), t: t}, nil
		}
	}
	switch fn {
	case physical.FnAdd, physical.FnSub:
		fa := decimal128.GetScaleMultiplier(int(ts - s1))
		fb := decimal128.GetScaleMultiplier(int(ts - s2))
		sub := fn == physical.FnSub
		for i := range out {
			x, y := av[i&am], bv[i&bm]
			ok := true
			if s1 != ts {
				x, ok = decMul(x, fa)
			}
			if s2 != ts && ok {
				y, ok = decMul(y, fb)
			}
			if sub {
				y = y.Negate()
			}
			r := x.Add(y)
			// Both operands are below 2^127 in magnitude; a sign flip
			// relative to both means 128-bit wrap-around.
			if !ok || (x.HighBits()^r.HighBits())&(y.HighBits()^r.HighBits()) < 0 || !decFits2(r, bound, negBound) {
				bad = append(bad, int32(i))
			}
			out[i] = r
		}
	case physical.FnMul:
		adjust := ts - (s1 + s2)
		bhi, blo := uint64(bound.HighBits()), bound.LowBits()
		for i := range out {
			x, y := av[i&am], bv[i&bm]
			xl, yl := int64(x.LowBits()), int64(y.LowBits())
			if adjust == 0 && x.HighBits() == xl>>63 && y.HighBits() == yl>>63 {
				// Both fit in 64 bits: the 128-bit product cannot wrap;
				// check its magnitude against 10^precision before the sign.
				hi, lo := bits.Mul64(uabs(xl), uabs(yl))
				r := decimal128.New(int64(hi), lo)
				if (xl^yl) < 0 && r.Sign() != 0 {
					r = r.Negate()
				}
				out[i] = r
				if hi > bhi || hi == bhi && lo >= blo {
					bad = append(bad, int32(i))
				}
				continue
			}
			r, ok := decMul(x, y)
			if adjust != 0 && ok {
				r, ok = decRescale(r, s1+s2, ts)
			}
			if !ok || !decFits2(r, bound, negBound) {
				bad = append(bad, int32(i))
			}
			out[i] = r
		}
	case physical.FnDiv, physical.FnMod:
		for i := range out {
			x, y := av[i&am], bv[i&bm]
			if y.Sign() == 0 {
				bad = append(bad, int32(i))
				zero = true
				out[i] = decimal128.Num{}
				continue
			}
			r, ok := decDivMod(fn == physical.FnDiv, x, s1, y, s2, ts)
			if !ok || !decFits2(r, bound, negBound) {
				bad = append(bad, int32(i))
			}
			out[i] = r
		}
	default:
		buf.Release()
		if validity != nil {
			validity.Release()
		}
		return datum{}, sqlerr.New(sqlerr.FeatureNotSupported, "function %s on decimals", fn)
	}
	if len(bad) > 0 {
		if i, ok := firstValidBad(validity, bad); ok {
			buf.Release()
			if validity != nil {
				validity.Release()
			}
			if zero && bv[int(i)&bm].Sign() == 0 {
				return datum{}, errDivZero()
			}
			return datum{}, errNumericOverflow()
		}
	}
	return datum{arr: makeArray(t, n, validity, buf), t: t}, nil
}

// decMaxAbs returns the largest magnitude among the valid values of a
// decimal operand, or ok false when one of them does not fit in 64 bits.
// all reports that m bounds every slot, NULL ones included: true for a
// recorded bound (see DecBound), a scalar, or an array without NULLs.
func decMaxAbs(d datum) (m uint64, ok, all bool) {
	if d.arr == nil {
		v := convDec(d.val)
		return uabs(int64(v.LowBits())), fitsI64(v), true
	}
	if m, ok := DecBound(d.arr); ok {
		return m, true, true
	}
	vals := rawValues[decimal128.Num](d.arr)
	valid, off := validBits(d.arr)
	var wide int64 // non-zero once a value needs its high word
	for i, v := range vals {
		if valid != nil && !bitIsSet(valid, off+i) {
			continue
		}
		lo := int64(v.LowBits())
		sign := lo >> 63
		wide |= v.HighBits() ^ sign
		m = max(m, uint64((lo^sign)-sign))
	}
	return m, wide == 0, valid == nil
}

// decArith64 computes add, sub and mul of decimals whose values all fit in
// 64 bits, when the magnitudes bound the results below 2^63: plain int64
// arithmetic with no per-row overflow test, and a precision test only when
// the bound allows a result of more than tp digits. It reports whether it
// computed out, the first row (NULL or not) over precision, or -1, and a
// bound on every slot of out (NULL rows included), or -1 when it has none.
func decArith64(fn string, a, b datum, s1, s2, ts, tp int32, out []decimal128.Num) (bool, int32, int64) {
	var fa, fb int64 = 1, 1
	switch fn {
	case physical.FnMul:
		if ts != s1+s2 {
			return false, -1, -1
		}
	case physical.FnAdd, physical.FnSub:
		if ts-s1 > 18 || ts-s2 > 18 || ts < s1 || ts < s2 {
			return false, -1, -1
		}
		fa, fb = pow10i64[ts-s1], pow10i64[ts-s2]
	default:
		return false, -1, -1
	}
	ma, ok, alla := decMaxAbs(a)
	if !ok {
		return false, -1, -1
	}
	mb, ok, allb := decMaxAbs(b)
	if !ok {
		return false, -1, -1
	}
	var bound uint64 // largest result magnitude
	if fn == physical.FnMul {
		hi, lo := bits.Mul64(ma, mb)
		if hi != 0 || lo >= 1<<63 {
			return false, -1, -1
		}
		bound = lo
	} else {
		h1, l1 := bits.Mul64(ma, uint64(fa))
		h2, l2 := bits.Mul64(mb, uint64(fb))
		sum, carry := bits.Add64(l1, l2, 0)
		if h1 != 0 || h2 != 0 || carry != 0 || sum >= 1<<63 {
			return false, -1, -1
		}
		bound = sum
	}
	outBound := int64(-1)
	if alla && allb {
		outBound = int64(bound)
	}
	limit := uint64(math.MaxUint64) // results must stay below 10^tp
	if tp >= 1 && tp <= 18 && bound >= uint64(pow10i64[tp]) {
		limit = uint64(pow10i64[tp])
	}
	av, am := operand(a, convDec)
	bv, bm := operand(b, convDec)
	switch fn {
	case physical.FnMul:
		for i := range out {
			r := int64(av[i&am].LowBits()) * int64(bv[i&bm].LowBits())
			out[i] = decimal128.New(r>>63, uint64(r))
		}
	case physical.FnAdd:
		for i := range out {
			r := int64(av[i&am].LowBits())*fa + int64(bv[i&bm].LowBits())*fb
			out[i] = decimal128.New(r>>63, uint64(r))
		}
	case physical.FnSub:
		for i := range out {
			r := int64(av[i&am].LowBits())*fa - int64(bv[i&bm].LowBits())*fb
			out[i] = decimal128.New(r>>63, uint64(r))
		}
	}
	if limit != math.MaxUint64 {
		for i, v := range out {
			r := int64(v.LowBits())
			if uint64((r^(r>>63))-(r>>63)) >= limit {
				return true, int32(i), -1
			}
		}
	}
	return true, -1, outBound
}

// decDivMod computes x/y or x%y (x at scale s1, y at s2) at scale ts, the
// quotient rounded half away from zero.
func decDivMod(div bool, x decimal128.Num, s1 int32, y decimal128.Num, s2, ts int32) (decimal128.Num, bool) {
	bx, by := x.BigInt(), y.BigInt()
	if div {
		// x/y at scale ts = x * 10^(ts - s1 + s2) / y.
		e := ts - s1 + s2
		num := new(big.Int).Set(bx)
		den := new(big.Int).Set(by)
		if e >= 0 {
			num.Mul(num, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(e)), nil))
		} else {
			den.Mul(den, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-e)), nil))
		}
		q, r := new(big.Int).QuoRem(num, den, new(big.Int))
		r.Abs(r).Lsh(r, 1)
		if r.Cmp(new(big.Int).Abs(den)) >= 0 {
			if num.Sign()*den.Sign() < 0 {
				q.Sub(q, big.NewInt(1))
			} else {
				q.Add(q, big.NewInt(1))
			}
		}
		if q.BitLen() > 127 {
			return decimal128.Num{}, false
		}
		return decimal128.FromBigInt(q), true
	}
	// Remainder at the common scale, then to ts.
	s := max(s1, s2)
	bx.Mul(bx, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(s-s1)), nil))
	by.Mul(by, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(s-s2)), nil))
	r := new(big.Int).Rem(bx, by)
	if r.BitLen() > 127 {
		return decimal128.Num{}, false
	}
	return decRescale(decimal128.FromBigInt(r), s, ts)
}

// --- unary ---

func negAbsKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	if len(args) != 1 {
		return datum{}, sqlerr.New(sqlerr.InternalError, "%s takes 1 argument", c.Fn)
	}
	a := args[0]
	arr, err := ev.materialize(a)
	if err != nil {
		return datum{}, err
	}
	defer arr.Release()
	n := ev.n
	neg := c.Fn == physical.FnNeg
	validity := andValidity(ev.mem, n, arr)
	fail := func(buf *memory.Buffer, e error) (datum, error) {
		buf.Release()
		if validity != nil {
			validity.Release()
		}
		return datum{}, e
	}
	t := a.t
	switch k := kindOf(a.t); k {
	case kInt32:
		buf, err := negAbsInt[int32](arr, buf32(ev.mem, n), neg, validity)
		if err != nil {
			return fail(buf, errIntRange(k))
		}
		return datum{arr: makeArray(t, n, validity, buf), t: t}, nil
	case kInt64:
		buf, err := negAbsInt[int64](arr, buf64(ev.mem, n), neg, validity)
		if err != nil {
			return fail(buf, errIntRange(k))
		}
		return datum{arr: makeArray(t, n, validity, buf), t: t}, nil
	case kFloat64:
		in := rawValues[float64](arr)
		buf, out := newValues[float64](ev.mem, n)
		for i, x := range in {
			if neg {
				out[i] = -x
			} else {
				out[i] = math.Abs(x)
			}
		}
		return datum{arr: makeArray(t, n, validity, buf), t: t}, nil
	case kDecimal:
		in := rawValues[decimal128.Num](arr)
		buf, out := newValues[decimal128.Num](ev.mem, n)
		for i, x := range in {
			if neg || x.Sign() < 0 {
				x = x.Negate()
			}
			out[i] = x
		}
		return datum{arr: makeArray(t, n, validity, buf), t: t}, nil
	case kInterval:
		if neg {
			in := rawValues[arrow.MonthDayNanoInterval](arr)
			buf, out := newValues[arrow.MonthDayNanoInterval](ev.mem, n)
			for i, x := range in {
				out[i] = arrow.MonthDayNanoInterval{Months: -x.Months, Days: -x.Days, Nanoseconds: -x.Nanoseconds}
			}
			return datum{arr: makeArray(t, n, validity, buf), t: t}, nil
		}
	}
	if validity != nil {
		validity.Release()
	}
	return datum{}, unsupported(c.Fn, a.t)
}

func buf32(mem memory.Allocator, n int) *memory.Buffer { b, _ := newValues[int32](mem, n); return b }
func buf64(mem memory.Allocator, n int) *memory.Buffer { b, _ := newValues[int64](mem, n); return b }

func negAbsInt[T int32 | int64](arr arrow.Array, buf *memory.Buffer, neg bool, validity *memory.Buffer) (*memory.Buffer, error) {
	in := rawValues[T](arr)
	var out []T
	if len(in) > 0 {
		out = unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(buf.Bytes()))), len(in))
	}
	var x0 T
	minT := T(1) << (8*unsafe.Sizeof(x0) - 1)
	var bad []int32
	for i, x := range in {
		if x == minT {
			bad = append(bad, int32(i))
		}
		if neg || x < 0 {
			x = -x
		}
		out[i] = x
	}
	if _, ok := firstValidBad(validity, bad); ok {
		return buf, errIntRange(kInt32)
	}
	return buf, nil
}

// roundKernel: round(x[, digits]) half away from zero.
func roundKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	if len(args) < 1 || len(args) > 2 {
		return datum{}, sqlerr.New(sqlerr.InternalError, "round takes 1 or 2 arguments")
	}
	arr, err := ev.materialize(args[0])
	if err != nil {
		return datum{}, err
	}
	defer arr.Release()
	n := ev.n
	var dv []int64
	dm := 0
	var darr arrow.Array
	if len(args) == 2 {
		switch kindOf(args[1].t) {
		case kInt32:
			v32, m := operand(args[1], convI32)
			dv, dm = make([]int64, len(v32)), m
			for i, x := range v32 {
				dv[i] = int64(x)
			}
		case kInt64:
			dv, dm = operand(args[1], convI64)
		default:
			return datum{}, unsupported("round digits", args[1].t)
		}
		darr = args[1].arr
	} else {
		dv = []int64{0}
	}
	validity := andValidity(ev.mem, n, arr, darr)
	switch kindOf(args[0].t) {
	case kFloat64:
		in := rawValues[float64](arr)
		buf, out := newValues[float64](ev.mem, n)
		for i, x := range in {
			out[i] = roundFloat(x, dv[i&dm])
		}
		return datum{arr: makeArray(c.T, n, validity, buf), t: c.T}, nil
	case kDecimal:
		s, ts := decScale(args[0].t), decScale(c.T)
		bound := decBound(decPrec(c.T))
		in := rawValues[decimal128.Num](arr)
		buf, out := newValues[decimal128.Num](ev.mem, n)
		var bad []int32
		for i, x := range in {
			d := int32(max(min(dv[i&dm], 76), -76))
			r := x
			if d < s {
				r = decReduce(x, s-d)
				if s-d > 38 {
					r = decimal128.Num{}
				}
			} else {
				d = s
			}
			r, ok := decRescale(r, d, ts)
			if !ok || !decFits(r, bound) {
				bad = append(bad, int32(i))
			}
			out[i] = r
		}
		if _, ok := firstValidBad(validity, bad); ok {
			buf.Release()
			if validity != nil {
				validity.Release()
			}
			return datum{}, errNumericOverflow()
		}
		return datum{arr: makeArray(c.T, n, validity, buf), t: c.T}, nil
	case kInt32, kInt64:
		if kindOf(c.T) == kindOf(args[0].t) && len(args) == 1 {
			if validity != nil {
				validity.Release()
			}
			arr.Retain()
			return datum{arr: arr, t: c.T}, nil
		}
	}
	if validity != nil {
		validity.Release()
	}
	return datum{}, unsupported("round", args[0].t)
}

func roundFloat(x float64, d int64) float64 {
	if d == 0 {
		return math.Round(x)
	}
	if d > 308 || math.IsInf(x, 0) || math.IsNaN(x) {
		return x
	}
	if d < -308 {
		return 0
	}
	p := math.Pow(10, float64(d))
	if d > 0 {
		y := x * p
		if math.IsInf(y, 0) {
			return x
		}
		return math.Round(y) / p
	}
	p = math.Pow(10, float64(-d))
	return math.Round(x/p) * p
}
