package kernels

import (
	"cmp"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

type cmpOp uint8

const (
	opEq cmpOp = iota
	opNe
	opLt
	opLe
	opGt
	opGe
)

var cmpOps = map[string]cmpOp{
	physical.FnEq: opEq, physical.FnNe: opNe, physical.FnLt: opLt,
	physical.FnLe: opLe, physical.FnGt: opGt, physical.FnGe: opGe,
}

// flip returns the operator with its operands swapped (a < b ⇔ b > a).
func (o cmpOp) flip() cmpOp {
	switch o {
	case opLt:
		return opGt
	case opLe:
		return opGe
	case opGt:
		return opLt
	case opGe:
		return opLe
	}
	return o
}

func (o cmpOp) holds(c int) bool {
	switch o {
	case opEq:
		return c == 0
	case opNe:
		return c != 0
	case opLt:
		return c < 0
	case opLe:
		return c <= 0
	case opGt:
		return c > 0
	}
	return c >= 0
}

func compareKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	if len(args) != 2 {
		return datum{}, sqlerr.New(sqlerr.InternalError, "%s takes 2 arguments", c.Fn)
	}
	arr, err := compareDatums(ev, cmpOps[c.Fn], args[0], args[1])
	if err != nil {
		return datum{}, err
	}
	return datum{arr: arr, t: physical.Boolean}, nil
}

// compareDatums compares a and b (at least one an array, or ev.n == 1) and
// returns a boolean array.
func compareDatums(ev *evaluator, op cmpOp, a, b datum) (arrow.Array, error) {
	if a.isScalar() {
		if b.isScalar() {
			arr, err := ev.materialize(a)
			if err != nil {
				return nil, err
			}
			defer arr.Release()
			a = datum{arr: arr, t: a.t}
		} else {
			a, b, op = b, a, op.flip()
		}
	}
	ka, kb := kindOf(a.t), kindOf(b.t)
	if ka != kb {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "comparison of %s with %s is not supported", physical.TypeName(a.t), physical.TypeName(b.t))
	}
	n := ev.n
	validity := andValidity(ev.mem, n, a.arr, b.arr)
	buf, out := newBitmap(ev.mem, n)
	switch ka {
	case kInt32, kDate:
		cmpOrdered(op, a, b, out, convI32)
	case kInt64, kTimestamp:
		cmpOrdered(op, a, b, out, convI64)
	case kFloat64:
		cmpOrdered(op, a, b, out, convF64)
	case kDecimal:
		s1, s2 := decScale(a.t), decScale(b.t)
		if s1 != s2 {
			// Bring both to the larger scale.
			s := max(s1, s2)
			nt := &arrow.Decimal128Type{Precision: 38, Scale: s}
			ca, err := castDatum(ev, a, nt)
			if err != nil {
				buf.Release()
				return nil, err
			}
			defer ca.release()
			cb, err := castDatum(ev, b, nt)
			if err != nil {
				buf.Release()
				return nil, err
			}
			defer cb.release()
			a, b = ca, cb
		}
		cmpDecimal(op, a, b, out)
	case kString:
		x := a.arr.(*array.String)
		if b.arr == nil && (op == opEq || op == opNe) {
			strEqScalar(x, b.val.(string), op == opNe, out)
		} else if b.arr == nil {
			s := b.val.(string)
			for i := 0; i < n; i++ {
				if op.holds(strings.Compare(x.Value(i), s)) {
					out[i>>3] |= 1 << (i & 7)
				}
			}
		} else {
			y := b.arr.(*array.String)
			for i := 0; i < n; i++ {
				if op.holds(strings.Compare(x.Value(i), y.Value(i))) {
					out[i>>3] |= 1 << (i & 7)
				}
			}
		}
	case kBool, kInterval:
		for i := 0; i < n; i++ {
			if a.arr.IsNull(i) || (b.arr != nil && b.arr.IsNull(i)) {
				continue
			}
			y := b.val
			if b.arr != nil {
				y = ValueAt(b.arr, i)
			}
			if op.holds(Compare(ValueAt(a.arr, i), y, a.t)) {
				out[i>>3] |= 1 << (i & 7)
			}
		}
	default:
		buf.Release()
		if validity != nil {
			validity.Release()
		}
		return nil, unsupported("comparison", a.t)
	}
	return makeArray(physical.Boolean, n, validity, buf), nil
}

// strRaw returns the offsets of a string array's rows (n+1 of them) into
// its data, for loops that would otherwise pay String.Value's checks per
// row.
func strRaw(a *array.String) ([]int32, []byte) {
	var data []byte
	if bufs := a.Data().Buffers(); len(bufs) > 2 && bufs[2] != nil {
		data = bufs[2].Bytes()
	}
	return a.ValueOffsets(), data
}

// strEqScalar sets the bits of the rows of x equal to s (not equal when
// ne). Lengths are compared first: most unequal values stop there.
func strEqScalar(x *array.String, s string, ne bool, out []byte) {
	offs, data := strRaw(x)
	ls := int32(len(s))
	for i := 0; i < x.Len(); i++ {
		st, e := offs[i], offs[i+1]
		if (e-st == ls && string(data[st:e]) == s) != ne {
			out[i>>3] |= 1 << (i & 7)
		}
	}
}

func b2u(b bool) uint8 {
	var u uint8
	if b {
		u = 1
	}
	return u
}

// cmpOrdered writes op(a[i], b[i]) into out. a is an array; b an array or a
// scalar. Only <, = and their swaps have loops; the rest invert the bitmap.
func cmpOrdered[T cmp.Ordered](op cmpOp, a, b datum, out []byte, conv func(any) T) {
	x := rawValues[T](a.arr)
	n := len(x)
	invert := false
	switch op {
	case opNe:
		op, invert = opEq, true
	case opGe:
		op, invert = opLt, true
	case opLe:
		op, invert = opGt, true
	}
	if b.arr == nil {
		s := conv(b.val)
		switch op {
		case opEq:
			eqScalar(x, s, out)
		case opLt:
			ltScalar(x, s, out)
		case opGt:
			gtScalar(x, s, out)
		}
	} else {
		y := rawValues[T](b.arr)
		switch op {
		case opEq:
			eqArrays(x, y, out)
		case opLt:
			ltArrays(x, y, out)
		case opGt:
			ltArrays(y, x, out)
		}
	}
	if invert {
		bitutil.InvertBitmap(out, 0, n, out, 0)
	}
}

func ltScalar[T cmp.Ordered](x []T, s T, out []byte) {
	n := len(x)
	i := 0
	for ; i+8 <= n; i += 8 {
		v := x[i : i+8 : i+8]
		out[i>>3] = b2u(v[0] < s) | b2u(v[1] < s)<<1 | b2u(v[2] < s)<<2 | b2u(v[3] < s)<<3 |
			b2u(v[4] < s)<<4 | b2u(v[5] < s)<<5 | b2u(v[6] < s)<<6 | b2u(v[7] < s)<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(x[i] < s) << (i & 7)
	}
}

func gtScalar[T cmp.Ordered](x []T, s T, out []byte) {
	n := len(x)
	i := 0
	for ; i+8 <= n; i += 8 {
		v := x[i : i+8 : i+8]
		out[i>>3] = b2u(v[0] > s) | b2u(v[1] > s)<<1 | b2u(v[2] > s)<<2 | b2u(v[3] > s)<<3 |
			b2u(v[4] > s)<<4 | b2u(v[5] > s)<<5 | b2u(v[6] > s)<<6 | b2u(v[7] > s)<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(x[i] > s) << (i & 7)
	}
}

func eqScalar[T cmp.Ordered](x []T, s T, out []byte) {
	n := len(x)
	i := 0
	for ; i+8 <= n; i += 8 {
		v := x[i : i+8 : i+8]
		out[i>>3] = b2u(v[0] == s) | b2u(v[1] == s)<<1 | b2u(v[2] == s)<<2 | b2u(v[3] == s)<<3 |
			b2u(v[4] == s)<<4 | b2u(v[5] == s)<<5 | b2u(v[6] == s)<<6 | b2u(v[7] == s)<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(x[i] == s) << (i & 7)
	}
}

func ltArrays[T cmp.Ordered](x, y []T, out []byte) {
	n := len(x)
	y = y[:n]
	i := 0
	for ; i+8 <= n; i += 8 {
		v, w := x[i:i+8:i+8], y[i:i+8:i+8]
		out[i>>3] = b2u(v[0] < w[0]) | b2u(v[1] < w[1])<<1 | b2u(v[2] < w[2])<<2 | b2u(v[3] < w[3])<<3 |
			b2u(v[4] < w[4])<<4 | b2u(v[5] < w[5])<<5 | b2u(v[6] < w[6])<<6 | b2u(v[7] < w[7])<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(x[i] < y[i]) << (i & 7)
	}
}

func eqArrays[T cmp.Ordered](x, y []T, out []byte) {
	n := len(x)
	y = y[:n]
	i := 0
	for ; i+8 <= n; i += 8 {
		v, w := x[i:i+8:i+8], y[i:i+8:i+8]
		out[i>>3] = b2u(v[0] == w[0]) | b2u(v[1] == w[1])<<1 | b2u(v[2] == w[2])<<2 | b2u(v[3] == w[3])<<3 |
			b2u(v[4] == w[4])<<4 | b2u(v[5] == w[5])<<5 | b2u(v[6] == w[6])<<6 | b2u(v[7] == w[7])<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(x[i] == y[i]) << (i & 7)
	}
}

// cmpOutcomes maps an operator to the outcomes it accepts: bit 0 less,
// bit 1 equal, bit 2 greater.
var cmpOutcomes = [...]uint8{opEq: 2, opNe: 5, opLt: 1, opLe: 3, opGt: 4, opGe: 6}

func cmpDecimal(op cmpOp, a, b datum, out []byte) {
	x := rawValues[decimal128.Num](a.arr)
	y, m := operand(b, convDec)
	acc := cmpOutcomes[op]
	if m == 0 && fitsI64(y[0]) {
		if _, ok := DecBound(a.arr); ok {
			// Every value fits in 64 bits: compare the low words.
			w := int64(y[0].LowBits())
			for i, v := range x {
				vl := int64(v.LowBits())
				lt, eq := b2u(vl < w), b2u(vl == w)
				gt := 1 &^ (lt | eq)
				out[i>>3] |= (lt&acc | eq&(acc>>1) | gt&(acc>>2)) << (i & 7)
			}
			return
		}
	}
	// Branch-free: the outcome's bit of acc is the row's bit.
	for i, v := range x {
		w := y[i&m]
		vh, wh := v.HighBits(), w.HighBits()
		vl, wl := v.LowBits(), w.LowBits()
		lt := b2u(vh < wh) | b2u(vh == wh)&b2u(vl < wl)
		eq := b2u(vh == wh) & b2u(vl == wl)
		gt := 1 &^ (lt | eq)
		out[i>>3] |= (lt&acc | eq&(acc>>1) | gt&(acc>>2)) << (i & 7)
	}
}

// inKernel: in(x, v1, ...). A list of constants is looked up in a hash set
// built once; otherwise it is x = v1 OR x = v2 OR ... (same NULL rules).
// smallInList is the longest IN list of strings searched by comparison
// rather than through a hash set.
const smallInList = 8

func inKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	if len(args) < 2 {
		return datum{}, sqlerr.New(sqlerr.InternalError, "in takes at least 2 arguments")
	}
	x := args[0]
	if x.isNull() {
		return scalar(nil, physical.Boolean), nil
	}
	consts := true
	for _, v := range args[1:] {
		consts = consts && v.isScalar()
	}
	if !consts || x.isScalar() {
		parts := make([]datum, 0, len(args)-1)
		defer func() { releaseAll(parts) }()
		for _, v := range args[1:] {
			if v.isNull() {
				parts = append(parts, scalar(nil, physical.Boolean))
				continue
			}
			arr, err := compareDatums(ev, opEq, x, v)
			if err != nil {
				return datum{}, err
			}
			parts = append(parts, datum{arr: arr, t: physical.Boolean})
		}
		return kleene(ev, false, parts)
	}
	hasNull := false
	vals := make([]any, 0, len(args)-1)
	for _, v := range args[1:] {
		if v.val == nil {
			hasNull = true
		} else {
			vals = append(vals, v.val)
		}
	}
	n := ev.n
	buf, out := newBitmap(ev.mem, n)
	var validity *memory.Buffer
	switch kindOf(x.t) {
	case kInt32, kDate:
		setLookup(rawValues[int32](x.arr), vals, convI32, out)
	case kInt64, kTimestamp:
		setLookup(rawValues[int64](x.arr), vals, convI64, out)
	case kFloat64:
		setLookup(rawValues[float64](x.arr), vals, convF64, out)
	case kDecimal:
		s := decScale(x.t)
		for i, v := range vals {
			vals[i], _ = decRescale(v.(decimal128.Num), decScale(args[i+1].t), s)
		}
		setLookup(rawValues[decimal128.Num](x.arr), vals, convDec, out)
	case kString:
		arr := x.arr.(*array.String)
		if len(vals) <= smallInList {
			// A few comparisons (length first) beat hashing every value.
			list := make([]string, len(vals))
			for i, v := range vals {
				list[i] = v.(string)
			}
			offs, data := strRaw(arr)
			for i := 0; i < n; i++ {
				v := data[offs[i]:offs[i+1]]
				for _, w := range list {
					if len(v) == len(w) && string(v) == w {
						out[i>>3] |= 1 << (i & 7)
						break
					}
				}
			}
			break
		}
		set := make(map[string]struct{}, len(vals))
		for _, v := range vals {
			set[v.(string)] = struct{}{}
		}
		for i := 0; i < n; i++ {
			if _, ok := set[arr.Value(i)]; ok {
				out[i>>3] |= 1 << (i & 7)
			}
		}
	default:
		for i := 0; i < n; i++ {
			if x.arr.IsNull(i) {
				continue
			}
			xv := ValueAt(x.arr, i)
			for _, v := range vals {
				if Compare(xv, v, x.t) == 0 {
					out[i>>3] |= 1 << (i & 7)
					break
				}
			}
		}
	}
	validity = andValidity(ev.mem, n, x.arr)
	if hasNull {
		// Not found with a NULL in the list is NULL: valid only where found.
		if validity == nil {
			validity, _ = newBitmap(ev.mem, n)
			bitutil.CopyBitmap(out, 0, n, validity.Bytes(), 0)
		} else {
			bitutil.BitmapAnd(validity.Bytes(), out, 0, 0, validity.Bytes(), 0, int64(n))
		}
	}
	return datum{arr: makeArray(physical.Boolean, n, validity, buf), t: physical.Boolean}, nil
}

func setLookup[T comparable](x []T, vals []any, conv func(any) T, out []byte) {
	if len(vals) <= 4 {
		list := make([]T, len(vals))
		for i, v := range vals {
			list[i] = conv(v)
		}
		for i, v := range x {
			for _, w := range list {
				if v == w {
					out[i>>3] |= 1 << (i & 7)
					break
				}
			}
		}
		return
	}
	set := make(map[T]struct{}, len(vals))
	for _, v := range vals {
		set[conv(v)] = struct{}{}
	}
	for i, v := range x {
		if _, ok := set[v]; ok {
			out[i>>3] |= 1 << (i & 7)
		}
	}
}
