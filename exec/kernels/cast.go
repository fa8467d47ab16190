package kernels

import (
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

func castKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	if len(args) != 1 {
		return datum{}, sqlerr.New(sqlerr.InternalError, "cast takes 1 argument")
	}
	return castDatum(ev, args[0], c.T)
}

// castDatum converts d to type t, returning a new datum.
func castDatum(ev *evaluator, d datum, t arrow.DataType) (datum, error) {
	if d.isNull() {
		return scalar(nil, t), nil
	}
	if d.arr != nil {
		return castArray(ev, d, t)
	}
	arr, err := MakeArray(ev.mem, d.val, d.t, 1)
	if err != nil {
		return datum{}, err
	}
	defer arr.Release()
	one := &evaluator{mem: ev.mem, n: 1}
	r, err := castArray(one, datum{arr: arr, t: d.t}, t)
	if err != nil {
		return datum{}, err
	}
	defer r.release()
	return scalar(ValueAt(r.arr, 0), t), nil
}

// convert maps the fixed-width values of arr through f; f reports false for
// values it cannot convert, which is an error (errf) on valid rows only.
func convert[S, D any](ev *evaluator, arr arrow.Array, t arrow.DataType, f func(S) (D, bool), errf func(S) error) (datum, error) {
	n := ev.n
	in := rawValues[S](arr)
	validity := andValidity(ev.mem, n, arr)
	buf, out := newValues[D](ev.mem, n)
	var vb []byte
	if validity != nil {
		vb = validity.Bytes()
	}
	for i, x := range in {
		r, ok := f(x)
		if !ok && isValid(vb, 0, i) {
			buf.Release()
			if validity != nil {
				validity.Release()
			}
			return datum{}, errf(x)
		}
		out[i] = r
	}
	return datum{arr: makeArray(t, n, validity, buf), t: t}, nil
}

// parseEach parses each valid string of arr with p.
func parseEach[D any](ev *evaluator, arr arrow.Array, t arrow.DataType, p func(string) (D, error)) (datum, error) {
	n := ev.n
	s := arr.(*array.String)
	validity := andValidity(ev.mem, n, arr)
	buf, out := newValues[D](ev.mem, n)
	var vb []byte
	if validity != nil {
		vb = validity.Bytes()
	}
	for i := range out {
		if !isValid(vb, 0, i) {
			var z D
			out[i] = z
			continue
		}
		r, err := p(s.Value(i))
		if err != nil {
			buf.Release()
			if validity != nil {
				validity.Release()
			}
			return datum{}, err
		}
		out[i] = r
	}
	return datum{arr: makeArray(t, n, validity, buf), t: t}, nil
}

// formatEach renders each valid row of arr as text with f.
func formatEach(ev *evaluator, arr arrow.Array, f func(b []byte, i int) []byte) (datum, error) {
	n := ev.n
	b := array.NewStringBuilder(ev.mem)
	defer b.Release()
	b.Reserve(n)
	b.ReserveData(n * 8)
	var buf []byte
	for i := 0; i < n; i++ {
		if arr.IsNull(i) {
			b.AppendNull()
			continue
		}
		buf = f(buf[:0], i)
		b.BinaryBuilder.Append(buf)
	}
	return datum{arr: b.NewArray(), t: physical.String}, nil
}

func castArray(ev *evaluator, d datum, t arrow.DataType) (datum, error) {
	arr := d.arr
	from, to := kindOf(d.t), kindOf(t)
	if arrow.TypeEqual(d.t, t) {
		arr.Retain()
		return datum{arr: arr, t: t}, nil
	}
	if from == kNull {
		return scalar(nil, t), nil
	}
	bad := func() (datum, error) {
		return datum{}, sqlerr.New(sqlerr.FeatureNotSupported, "cast from %s to %s is not supported", physical.TypeName(d.t), physical.TypeName(t))
	}
	if to == kString {
		return castToString(ev, d)
	}
	if from == kString {
		return castFromString(ev, arr, t)
	}
	if from == kBool {
		return castFromBool(ev, arr, t)
	}
	i32Range := func(x int64) error { return errIntRange(kInt32) }
	switch to {
	case kBool:
		switch from {
		case kInt32:
			return boolsFrom(ev, arr, func(i int, v []int32) bool { return v[i] != 0 })
		case kInt64:
			return boolsFrom(ev, arr, func(i int, v []int64) bool { return v[i] != 0 })
		}
	case kInt32:
		switch from {
		case kInt64:
			return convert(ev, arr, t, func(x int64) (int32, bool) { return int32(x), x == int64(int32(x)) }, i32Range)
		case kFloat64:
			return convert(ev, arr, t, func(x float64) (int32, bool) {
				r := math.RoundToEven(x)
				return int32(r), r >= math.MinInt32 && r <= math.MaxInt32
			}, func(float64) error { return errIntRange(kInt32) })
		case kDecimal:
			s := decScale(d.t)
			return convert(ev, arr, t, func(x decimal128.Num) (int32, bool) {
				r := decReduce(x, s)
				return int32(r.LowBits()), fitsI64(r) && int64(r.LowBits()) == int64(int32(r.LowBits()))
			}, func(decimal128.Num) error { return errIntRange(kInt32) })
		}
	case kInt64:
		switch from {
		case kInt32:
			return convert(ev, arr, t, func(x int32) (int64, bool) { return int64(x), true }, nil)
		case kFloat64:
			return convert(ev, arr, t, func(x float64) (int64, bool) {
				r := math.RoundToEven(x)
				return int64(r), r >= -(1<<63) && r < 1<<63
			}, func(float64) error { return errIntRange(kInt64) })
		case kDecimal:
			s := decScale(d.t)
			return convert(ev, arr, t, func(x decimal128.Num) (int64, bool) {
				r := decReduce(x, s)
				return int64(r.LowBits()), fitsI64(r)
			}, func(decimal128.Num) error { return errIntRange(kInt64) })
		case kTimestamp, kDate:
			// Not SQL, but harmless for internal use.
		}
	case kFloat64:
		switch from {
		case kInt32:
			return convert(ev, arr, t, func(x int32) (float64, bool) { return float64(x), true }, nil)
		case kInt64:
			return convert(ev, arr, t, func(x int64) (float64, bool) { return float64(x), true }, nil)
		case kDecimal:
			s := decScale(d.t)
			return convert(ev, arr, t, func(x decimal128.Num) (float64, bool) { return decToFloat(x, s), true }, nil)
		}
	case kDecimal:
		ts, bound := decScale(t), decBound(decPrec(t))
		overflow := func(decimal128.Num) error { return errNumericOverflow() }
		switch from {
		case kInt32, kInt64:
			var conv func(int64) (decimal128.Num, bool)
			conv = func(x int64) (decimal128.Num, bool) {
				r, ok := decRescale(decimal128.FromI64(x), 0, ts)
				return r, ok && decFits(r, bound)
			}
			if from == kInt32 {
				return convert(ev, arr, t, func(x int32) (decimal128.Num, bool) { return conv(int64(x)) }, func(int32) error { return errNumericOverflow() })
			}
			return convert(ev, arr, t, conv, func(int64) error { return errNumericOverflow() })
		case kFloat64:
			var buf []byte
			return convert(ev, arr, t, func(x float64) (decimal128.Num, bool) {
				if math.IsNaN(x) || math.IsInf(x, 0) {
					return decimal128.Num{}, false
				}
				buf = strconv.AppendFloat(buf[:0], x, 'e', -1, 64)
				r, err := parseDecimalBytes(buf, decPrec(t), ts)
				return r, err == nil
			}, func(float64) error { return errNumericOverflow() })
		case kDecimal:
			s := decScale(d.t)
			return convert(ev, arr, t, func(x decimal128.Num) (decimal128.Num, bool) {
				r, ok := decRescale(x, s, ts)
				return r, ok && decFits(r, bound)
			}, overflow)
		}
	case kDate:
		if from == kTimestamp {
			return convert(ev, arr, t, func(x int64) (int32, bool) { return int32(floorDiv(x, usPerDay)), true }, nil)
		}
	case kTimestamp:
		switch from {
		case kDate:
			return convert(ev, arr, t, func(x int32) (int64, bool) { return int64(x) * usPerDay, true }, nil)
		case kTimestamp:
			// Other units: normalise to microseconds.
			unit := d.t.(*arrow.TimestampType).Unit
			return convert(ev, arr, t, func(x int64) (int64, bool) {
				switch unit {
				case arrow.Second:
					return x * usPerSec, true
				case arrow.Millisecond:
					return x * 1000, true
				case arrow.Nanosecond:
					return floorDiv(x, 1000), true
				}
				return x, true
			}, nil)
		}
	}
	return bad()
}

func decToFloat(x decimal128.Num, s int32) float64 {
	if fitsI64(x) && s >= 0 && s <= 22 {
		v := int64(x.LowBits())
		if v > -(1<<53) && v < 1<<53 {
			return float64(v) / math.Pow10(int(s))
		}
	}
	return x.ToFloat64(s)
}

func boolsFrom[T any](ev *evaluator, arr arrow.Array, f func(i int, v []T) bool) (datum, error) {
	n := ev.n
	v := rawValues[T](arr)
	buf, out := newBitmap(ev.mem, n)
	for i := 0; i < n; i++ {
		if f(i, v) {
			out[i>>3] |= 1 << (i & 7)
		}
	}
	return datum{arr: makeArray(physical.Boolean, n, andValidity(ev.mem, n, arr), buf), t: physical.Boolean}, nil
}

func castFromBool(ev *evaluator, arr arrow.Array, t arrow.DataType) (datum, error) {
	n := ev.n
	bits, off := boolBits(arr)
	validity := andValidity(ev.mem, n, arr)
	switch kindOf(t) {
	case kInt32:
		buf, out := newValues[int32](ev.mem, n)
		for i := range out {
			out[i] = int32(b2u(bitIsSet(bits, off+i)))
		}
		return datum{arr: makeArray(t, n, validity, buf), t: t}, nil
	case kInt64:
		buf, out := newValues[int64](ev.mem, n)
		for i := range out {
			out[i] = int64(b2u(bitIsSet(bits, off+i)))
		}
		return datum{arr: makeArray(t, n, validity, buf), t: t}, nil
	case kFloat64:
		buf, out := newValues[float64](ev.mem, n)
		for i := range out {
			out[i] = float64(b2u(bitIsSet(bits, off+i)))
		}
		return datum{arr: makeArray(t, n, validity, buf), t: t}, nil
	case kDecimal:
		one, ok := decRescale(decimal128.FromI64(1), 0, decScale(t))
		if !ok || !decFits(one, decBound(decPrec(t))) {
			if validity != nil {
				validity.Release()
			}
			return datum{}, errNumericOverflow()
		}
		buf, out := newValues[decimal128.Num](ev.mem, n)
		for i := range out {
			out[i] = decimal128.Num{}
			if bitIsSet(bits, off+i) {
				out[i] = one
			}
		}
		return datum{arr: makeArray(t, n, validity, buf), t: t}, nil
	}
	if validity != nil {
		validity.Release()
	}
	return datum{}, sqlerr.New(sqlerr.FeatureNotSupported, "cast from BOOLEAN to %s is not supported", physical.TypeName(t))
}

func castToString(ev *evaluator, d datum) (datum, error) {
	arr := d.arr
	switch kindOf(d.t) {
	case kBool:
		bits, off := boolBits(arr)
		return formatEach(ev, arr, func(b []byte, i int) []byte {
			if bitIsSet(bits, off+i) {
				return append(b, "true"...)
			}
			return append(b, "false"...)
		})
	case kInt32:
		v := rawValues[int32](arr)
		return formatEach(ev, arr, func(b []byte, i int) []byte { return strconv.AppendInt(b, int64(v[i]), 10) })
	case kInt64:
		v := rawValues[int64](arr)
		return formatEach(ev, arr, func(b []byte, i int) []byte { return strconv.AppendInt(b, v[i], 10) })
	case kFloat64:
		v := rawValues[float64](arr)
		return formatEach(ev, arr, func(b []byte, i int) []byte { return appendFloat(b, v[i]) })
	case kDecimal:
		v := rawValues[decimal128.Num](arr)
		s := decScale(d.t)
		return formatEach(ev, arr, func(b []byte, i int) []byte { return appendDecimal(b, v[i], s) })
	case kDate:
		v := rawValues[int32](arr)
		return formatEach(ev, arr, func(b []byte, i int) []byte { return appendDate(b, int64(v[i])) })
	case kTimestamp:
		v := rawValues[int64](arr)
		return formatEach(ev, arr, func(b []byte, i int) []byte { return appendTimestamp(b, v[i]) })
	case kInterval:
		return formatEach(ev, arr, func(b []byte, i int) []byte {
			return append(b, physical.FormatValue(ValueAt(arr, i), d.t)...)
		})
	}
	return datum{}, sqlerr.New(sqlerr.FeatureNotSupported, "cast from %s to VARCHAR is not supported", physical.TypeName(d.t))
}

func castFromString(ev *evaluator, arr arrow.Array, t arrow.DataType) (datum, error) {
	if _, ok := arr.(*array.String); !ok {
		return datum{}, unsupported("cast", arr.DataType())
	}
	switch kindOf(t) {
	case kBool:
		n := ev.n
		s := arr.(*array.String)
		buf, out := newBitmap(ev.mem, n)
		for i := 0; i < n; i++ {
			if s.IsNull(i) {
				continue
			}
			b, err := parseBool(s.Value(i))
			if err != nil {
				buf.Release()
				return datum{}, err
			}
			if b {
				out[i>>3] |= 1 << (i & 7)
			}
		}
		return datum{arr: makeArray(t, n, andValidity(ev.mem, n, arr), buf), t: t}, nil
	case kInt32:
		return parseEach(ev, arr, t, func(s string) (int32, error) { v, err := parseInt(s, 32); return int32(v), err })
	case kInt64:
		return parseEach(ev, arr, t, func(s string) (int64, error) { return parseInt(s, 64) })
	case kFloat64:
		return parseEach(ev, arr, t, parseFloat)
	case kDecimal:
		p, sc := decPrec(t), decScale(t)
		return parseEach(ev, arr, t, func(s string) (decimal128.Num, error) { return parseDecimal(s, p, sc) })
	case kDate:
		return parseEach(ev, arr, t, parseDate)
	case kTimestamp:
		return parseEach(ev, arr, t, parseTimestamp)
	case kInterval:
		return parseEach(ev, arr, t, parseInterval)
	}
	return datum{}, sqlerr.New(sqlerr.FeatureNotSupported, "cast from VARCHAR to %s is not supported", physical.TypeName(t))
}

// --- formatting ---

func appendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	case math.IsNaN(f):
		return append(b, "NaN"...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

func appendDecimal(b []byte, x decimal128.Num, scale int32) []byte {
	if !fitsI64(x) || scale < 0 || scale > 18 {
		return append(b, physical.FormatDecimal(x, scale)...)
	}
	v := int64(x.LowBits())
	if v < 0 {
		b = append(b, '-')
	}
	u := uabs(v)
	var digits [24]byte
	d := strconv.AppendUint(digits[:0], u, 10)
	if scale == 0 {
		return append(b, d...)
	}
	for int32(len(d)) <= scale {
		d = append([]byte{'0'}, d...)
	}
	cut := len(d) - int(scale)
	b = append(b, d[:cut]...)
	b = append(b, '.')
	return append(b, d[cut:]...)
}

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

func appendDate(b []byte, days int64) []byte {
	y, m, d := Civil(days)
	if y < 0 || y > 9999 {
		b = strconv.AppendInt(b, y, 10)
	} else {
		b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10))
	}
	b = append(b, '-')
	b = append2(b, m)
	b = append(b, '-')
	return append2(b, d)
}

func appendTimestamp(b []byte, ts int64) []byte {
	days, us := splitTS(ts)
	b = appendDate(b, days)
	b = append(b, ' ')
	sec := us / usPerSec
	b = append2(b, int(sec/3600))
	b = append(b, ':')
	b = append2(b, int(sec/60%60))
	b = append(b, ':')
	b = append2(b, int(sec%60))
	if frac := us % usPerSec; frac != 0 {
		b = append(b, '.')
		var f [6]byte
		for i := 5; i >= 0; i-- {
			f[i] = byte('0' + frac%10)
			frac /= 10
		}
		k := 6
		for k > 0 && f[k-1] == '0' {
			k--
		}
		b = append(b, f[:k]...)
	}
	return b
}

// --- parsing ---

func errSyntax(typ, s string) error {
	return sqlerr.New(sqlerr.InvalidTextRep, "invalid input syntax for type %s: %q", typ, s)
}

func errDatetimeSyntax(typ, s string) error {
	return sqlerr.New(sqlerr.InvalidDatetimeFormat, "invalid input syntax for type %s: %q", typ, s)
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "t", "true", "y", "yes", "on", "1":
		return true, nil
	case "f", "false", "n", "no", "off", "0":
		return false, nil
	}
	return false, errSyntax("boolean", s)
}

func parseInt(s string, bitSize int) (int64, error) {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, bitSize)
	if err != nil {
		typ := "integer"
		if bitSize == 64 {
			typ = "bigint"
		}
		if errors.Is(err, strconv.ErrRange) {
			return 0, sqlerr.New(sqlerr.NumericOutOfRange, "value %q is out of range for type %s", s, typ)
		}
		return 0, errSyntax(typ, s)
	}
	return v, nil
}

func parseFloat(s string) (float64, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "0x") || strings.HasPrefix(t, "0X") || strings.Contains(t, "_") {
		return 0, errSyntax("double precision", s)
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) && math.IsInf(v, 0) {
			return 0, sqlerr.New(sqlerr.NumericOutOfRange, "%q is out of range for type double precision", s)
		}
		if !errors.Is(err, strconv.ErrRange) {
			return 0, errSyntax("double precision", s)
		}
	}
	return v, nil
}

func parseDecimal(s string, prec, scale int32) (decimal128.Num, error) {
	r, err := parseDecimalBytes([]byte(strings.TrimSpace(s)), prec, scale)
	if err != nil {
		if err == errBadNumber {
			return r, errSyntax("numeric", s)
		}
		return r, err
	}
	return r, nil
}

var errBadNumber = errors.New("bad number")

// parseDecimalBytes parses [+-]digits[.digits][e[+-]digits] to a decimal of
// the given precision and scale, rounding half away from zero.
func parseDecimalBytes(b []byte, prec, scale int32) (decimal128.Num, error) {
	i := 0
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	var mant []byte
	frac := 0
	seenDigit, seenDot := false, false
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			seenDigit = true
			if len(mant) > 0 || c != '0' {
				mant = append(mant, c)
			}
			if seenDot {
				frac++
			}
		case c == '.' && !seenDot:
			seenDot = true
		default:
			goto exp
		}
	}
exp:
	if !seenDigit {
		return decimal128.Num{}, errBadNumber
	}
	e := 0
	if i < len(b) {
		if b[i] != 'e' && b[i] != 'E' {
			return decimal128.Num{}, errBadNumber
		}
		v, err := strconv.Atoi(string(b[i+1:]))
		if err != nil || v > 1000 || v < -1000 {
			return decimal128.Num{}, errBadNumber
		}
		e = v
	}
	// value = mant * 10^(e - frac); at scale: mant * 10^(e - frac + scale).
	k := e - frac + int(scale)
	var r decimal128.Num
	if len(mant) == 0 {
		return r, nil
	}
	if len(mant) <= 18 && k >= -18 && k <= 0 {
		v, _ := strconv.ParseInt(string(mant), 10, 64)
		r = decReduce(decimal128.FromI64(v), int32(-k))
	} else {
		m, _ := new(big.Int).SetString(string(mant), 10)
		if k >= 0 {
			if len(mant)+k > 39 {
				return r, errNumericOverflow()
			}
			m.Mul(m, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(k)), nil))
		} else {
			if -k > len(mant)+1 {
				return r, nil
			}
			d := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-k)), nil)
			q, rem := new(big.Int).QuoRem(m, d, new(big.Int))
			if rem.Lsh(rem, 1).Cmp(d) >= 0 {
				q.Add(q, big.NewInt(1))
			}
			m = q
		}
		if m.BitLen() > 126 {
			return r, errNumericOverflow()
		}
		r = decimal128.FromBigInt(m)
	}
	if neg {
		r = r.Negate()
	}
	if !decFits(r, decBound(prec)) {
		return r, errNumericOverflow()
	}
	return r, nil
}

// scanInt reads up to max digits at s[i:]; returns value, new index, count.
func scanInt(s string, i, max int) (int, int, int) {
	v, n := 0, 0
	for i < len(s) && n < max && s[i] >= '0' && s[i] <= '9' {
		v = v*10 + int(s[i]-'0')
		i++
		n++
	}
	return v, i, n
}

// parseDateAt parses YYYY-MM-DD at the start of s, returning days and the
// index after it.
func parseDateAt(s string) (int64, int, error) {
	y, i, ny := scanInt(s, 0, 9)
	if ny == 0 || i >= len(s) || s[i] != '-' {
		return 0, 0, errBadNumber
	}
	m, i, nm := scanInt(s, i+1, 2)
	if nm == 0 || i >= len(s) || s[i] != '-' {
		return 0, 0, errBadNumber
	}
	d, i, nd := scanInt(s, i+1, 2)
	if nd == 0 {
		return 0, 0, errBadNumber
	}
	if m < 1 || m > 12 || d < 1 || d > daysInMonth(int64(y), m) {
		return 0, 0, errRange
	}
	return DaysFromCivil(int64(y), m, d), i, nil
}

var errRange = errors.New("out of range")

func parseDate(s string) (arrow.Date32, error) {
	t := strings.TrimSpace(s)
	days, i, err := parseDateAt(t)
	if err == nil && i < len(t) {
		// A time part is allowed and ignored.
		if _, err2 := parseTimeAt(t, i); err2 != nil {
			err = err2
		}
	}
	switch {
	case err == errRange:
		return 0, sqlerr.New(sqlerr.DatetimeOverflow, "date/time field value out of range: %q", s)
	case err != nil:
		return 0, errDatetimeSyntax("date", s)
	}
	if days < math.MinInt32 || days > math.MaxInt32 {
		return 0, sqlerr.New(sqlerr.DatetimeOverflow, "date out of range: %q", s)
	}
	return arrow.Date32(days), nil
}

// parseTimeAt parses [ T]HH:MM[:SS[.ffffff]] at s[i:] to microseconds.
func parseTimeAt(s string, i int) (int64, error) {
	if s[i] != ' ' && s[i] != 'T' && s[i] != 't' {
		return 0, errBadNumber
	}
	for i < len(s) && (s[i] == ' ' || s[i] == 'T' || s[i] == 't') {
		i++
	}
	h, i, nh := scanInt(s, i, 2)
	if nh == 0 || i >= len(s) || s[i] != ':' {
		return 0, errBadNumber
	}
	mi, i, nm := scanInt(s, i+1, 2)
	if nm == 0 {
		return 0, errBadNumber
	}
	sec, us := 0, int64(0)
	if i < len(s) && s[i] == ':' {
		var ns int
		sec, i, ns = scanInt(s, i+1, 2)
		if ns == 0 {
			return 0, errBadNumber
		}
		if i < len(s) && s[i] == '.' {
			i++
			digits := 0
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				if digits < 6 {
					us = us*10 + int64(s[i]-'0')
				} else if digits == 6 && s[i] >= '5' {
					us++ // round at the seventh digit
				}
				digits++
				i++
			}
			if digits == 0 {
				return 0, errBadNumber
			}
			for ; digits < 6; digits++ {
				us *= 10
			}
		}
	}
	// Optional UTC designator.
	if i < len(s) && (s[i] == 'Z' || s[i] == 'z') {
		i++
	}
	if i != len(s) {
		return 0, errBadNumber
	}
	if h > 24 || mi > 59 || sec > 60 || (h == 24 && (mi > 0 || sec > 0 || us > 0)) {
		return 0, errRange
	}
	return int64(h*3600+mi*60+sec)*usPerSec + us, nil
}

func parseTimestamp(s string) (arrow.Timestamp, error) {
	t := strings.TrimSpace(s)
	days, i, err := parseDateAt(t)
	var us int64
	if err == nil && i < len(t) {
		us, err = parseTimeAt(t, i)
	}
	switch {
	case err == errRange:
		return 0, sqlerr.New(sqlerr.DatetimeOverflow, "date/time field value out of range: %q", s)
	case err != nil:
		return 0, errDatetimeSyntax("timestamp", s)
	}
	return arrow.Timestamp(days*usPerDay + us), nil
}

// parseInterval accepts PostgreSQL-style '1 year 2 months 3 days 04:05:06'
// with optional 'ago'.
func parseInterval(s string) (arrow.MonthDayNanoInterval, error) {
	var out arrow.MonthDayNanoInterval
	fields := strings.Fields(strings.ToLower(strings.TrimSpace(s)))
	bad := func() (arrow.MonthDayNanoInterval, error) {
		return arrow.MonthDayNanoInterval{}, errDatetimeSyntax("interval", s)
	}
	if len(fields) == 0 {
		return bad()
	}
	var months, days int64
	var nanos float64
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if f == "@" {
			continue
		}
		if f == "ago" && i == len(fields)-1 {
			months, days, nanos = -months, -days, -nanos
			continue
		}
		if strings.Contains(f, ":") {
			neg := strings.HasPrefix(f, "-")
			us, err := parseTimeAt(" "+strings.TrimLeft(f, "+-"), 0)
			if err != nil {
				if parts := strings.Split(strings.TrimLeft(f, "+-"), ":"); len(parts) == 2 {
					us, err = parseTimeAt(" "+strings.TrimLeft(f, "+-")+":00", 0)
				}
				if err != nil {
					return bad()
				}
			}
			if neg {
				us = -us
			}
			nanos += float64(us) * 1000
			continue
		}
		num, unit := f, ""
		if j := strings.IndexFunc(f, func(r rune) bool { return (r < '0' || r > '9') && r != '.' && r != '-' && r != '+' }); j > 0 {
			num, unit = f[:j], f[j:]
		} else if i+1 < len(fields) {
			i++
			unit = fields[i]
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return bad()
		}
		switch unit {
		case "ms":
			unit = "millisecond"
		case "us":
			unit = "microsecond"
		}
		switch strings.TrimSuffix(unit, "s") {
		case "year", "yr", "y":
			months += int64(v * 12)
		case "mon", "month":
			months += int64(v)
		case "week", "w":
			days += int64(v * 7)
		case "day", "d":
			days += int64(v)
			nanos += (v - math.Trunc(v)) * nanosPerDay
		case "hour", "hr", "h":
			nanos += v * 3600e9
		case "minute", "min", "m":
			nanos += v * 60e9
		case "second", "sec", "":
			nanos += v * 1e9
		case "millisecond":
			nanos += v * 1e6
		case "microsecond":
			nanos += v * 1e3
		default:
			return bad()
		}
	}
	out.Months, out.Days, out.Nanoseconds = int32(months), int32(days), int64(math.Round(nanos))
	return out, nil
}

// ParseValue converts SQL text to a value of type t (the semantics of
// CAST('text' AS t)).
func ParseValue(s string, t arrow.DataType) (any, error) {
	switch kindOf(t) {
	case kString:
		return s, nil
	case kBool:
		return parseBool(s)
	case kInt32:
		v, err := parseInt(s, 32)
		return int32(v), err
	case kInt64:
		return parseInt(s, 64)
	case kFloat64:
		return parseFloat(s)
	case kDecimal:
		return parseDecimal(s, decPrec(t), decScale(t))
	case kDate:
		return parseDate(s)
	case kTimestamp:
		return parseTimestamp(s)
	case kInterval:
		return parseInterval(s)
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "cast from VARCHAR to %s is not supported", physical.TypeName(t))
}
