package kernels

import (
	"crypto/md5"
	"encoding/hex"
	"math"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// String, math and date functions beyond morefuncs.go: initcap, reverse,
// repeat, ascii, chr, translate, starts_with, octet_length, bit_length,
// concat_ws, md5, regexp_replace, log(b, x), trunc, width_bucket,
// make_date, to_date, to_timestamp and DuckDB's date_diff.
func registerScalarFuncs(t map[string]kernel) {
	t[physical.FnInitcap] = strMapKernel
	t[physical.FnReverse] = strMapKernel
	t[physical.FnMd5] = strMapKernel
	t[physical.FnRepeat] = repeatKernel
	t[physical.FnASCII] = strIntKernel
	t[physical.FnOctetLength] = strIntKernel
	t[physical.FnBitLength] = strIntKernel
	t[physical.FnChr] = chrKernel
	t[physical.FnTranslate] = translateKernel
	t[physical.FnStartsWith] = startsWithKernel
	t[physical.FnConcatWs] = concatWsKernel
	t[physical.FnRegexpReplace] = regexpReplaceKernel
	t[physical.FnLogBase] = logBaseKernel
	t[physical.FnTrunc] = truncKernel
	t[physical.FnWidthBucket] = widthBucketKernel
	t[physical.FnMakeDate] = makeDateKernel
	t[physical.FnToDate] = toDateKernel
	t[physical.FnToTimestamp] = toDateKernel
	t[physical.FnDateDiff] = dateDiffKernel
	for _, fn := range []string{physical.FnInitcap, physical.FnReverse, physical.FnMd5, physical.FnRepeat,
		physical.FnASCII, physical.FnOctetLength, physical.FnBitLength, physical.FnChr, physical.FnTranslate,
		physical.FnStartsWith, physical.FnRegexpReplace, physical.FnLogBase, physical.FnTrunc,
		physical.FnWidthBucket, physical.FnMakeDate, physical.FnToDate, physical.FnToTimestamp,
		physical.FnDateDiff} {
		strict[fn] = true
	}
}

// codeProgramLimit is PostgreSQL's program_limit_exceeded (chr(0), huge
// repeat results); codeWidthBucket its invalid_argument_for_width_bucket.
const (
	codeProgramLimit = "54000"
	codeWidthBucket  = "2201G"
)

// mapFixed builds a fixed-width array of type t from f over the rows where
// every array argument is valid (NULL elsewhere).
func mapFixed[T any](ev *evaluator, args []datum, t arrow.DataType, f func(i int) (T, error)) (datum, error) {
	n := ev.n
	validity := andValidity(ev.mem, n, arrsOf(args)...)
	buf, out := newValues[T](ev.mem, n)
	var zero T
	for i := range out {
		if validity != nil && !bitIsSet(validity.Bytes(), i) {
			out[i] = zero
			continue
		}
		v, err := f(i)
		if err != nil {
			buf.Release()
			if validity != nil {
				validity.Release()
			}
			return datum{}, err
		}
		out[i] = v
	}
	return datum{arr: makeArray(t, n, validity, buf), t: t}, nil
}

// strArgs reads every argument as a string.
func strArgs(args []datum) ([]strArg, error) {
	out := make([]strArg, len(args))
	for i, a := range args {
		s, err := newStrArg(a)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// initcap upper-cases the first letter of each run of letters and digits
// and lower-cases the rest (PostgreSQL).
func initcap(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	inWord := false
	for _, r := range s {
		if inWord {
			b.WriteRune(unicode.ToLower(r))
		} else {
			b.WriteRune(unicode.ToTitle(r))
		}
		inWord = unicode.IsLetter(r) || unicode.IsDigit(r)
	}
	return b.String()
}

func reverseString(s string) string {
	b := make([]byte, len(s))
	j := len(s)
	for _, r := range s {
		k := utf8.RuneLen(r)
		if k < 0 { // invalid byte: copy it as is
			k = 1
		}
		j -= k
		utf8.EncodeRune(b[j:], r)
	}
	return string(b)
}

// strMapKernel: initcap, reverse, md5 (lowercase hex digest).
func strMapKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	s, err := newStrArg(args[0])
	if err != nil {
		return datum{}, err
	}
	var f func(string) string
	switch c.Fn {
	case physical.FnInitcap:
		f = initcap
	case physical.FnReverse:
		f = reverseString
	case physical.FnMd5:
		f = func(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }
	}
	size := dataSize(args[0])
	if c.Fn == physical.FnMd5 {
		size = 32 * ev.n
	}
	return mapStrings(ev, args, size, func(i int) (string, error) { return f(s.at(i)), nil })
}

// repeatKernel: repeat(s, n), the empty string when n ≤ 0.
func repeatKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	s, err := newStrArg(args[0])
	if err != nil {
		return datum{}, err
	}
	cnt, err := newIntArg(args[1])
	if err != nil {
		return datum{}, err
	}
	return mapStrings(ev, args, 0, func(i int) (string, error) {
		v, k := s.at(i), cnt.at(i)
		if k <= 0 || v == "" {
			return "", nil
		}
		if k > (1<<30)/int64(len(v)) {
			return "", sqlerr.New(codeProgramLimit, "requested length too large")
		}
		return strings.Repeat(v, int(k)), nil
	})
}

// strIntKernel: ascii (first character's code point, 0 for the empty string),
// octet_length, bit_length.
func strIntKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	s, err := newStrArg(args[0])
	if err != nil {
		return datum{}, err
	}
	return mapFixed(ev, args, physical.Int32, func(i int) (int32, error) {
		v := s.at(i)
		switch c.Fn {
		case physical.FnASCII:
			if v == "" {
				return 0, nil
			}
			r, _ := utf8.DecodeRuneInString(v)
			return int32(r), nil
		case physical.FnOctetLength:
			return int32(len(v)), nil
		}
		return int32(8 * len(v)), nil
	})
}

// chrKernel: chr(n), the character with code point n (UTF-8 database).
func chrKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	cnt, err := newIntArg(args[0])
	if err != nil {
		return datum{}, err
	}
	return mapStrings(ev, args, 4*ev.n, func(i int) (string, error) {
		k := cnt.at(i)
		switch {
		case k < 0:
			return "", sqlerr.New(codeProgramLimit, "character number must be positive")
		case k == 0:
			return "", sqlerr.New(codeProgramLimit, "null character not permitted")
		case k > unicode.MaxRune:
			return "", sqlerr.New(codeProgramLimit, "requested character too large for encoding: %d", k)
		case k >= 0xD800 && k <= 0xDFFF:
			return "", sqlerr.New(codeProgramLimit, "requested character not valid for encoding: %d", k)
		}
		return string(rune(k)), nil
	})
}

// translateKernel: translate(s, from, to) replaces each character of s found
// in from by the character at the same position in to, deleting it when to
// is shorter.
func translateKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	ss, err := strArgs(args)
	if err != nil {
		return datum{}, err
	}
	return mapStrings(ev, args, dataSize(args[0]), func(i int) (string, error) {
		from, to := []rune(ss[1].at(i)), []rune(ss[2].at(i))
		var b strings.Builder
		for _, r := range ss[0].at(i) {
			j := -1
			for k, f := range from {
				if f == r {
					j = k
					break
				}
			}
			switch {
			case j < 0:
				b.WriteRune(r)
			case j < len(to):
				b.WriteRune(to[j])
			}
		}
		return b.String(), nil
	})
}

func startsWithKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	ss, err := strArgs(args)
	if err != nil {
		return datum{}, err
	}
	n := ev.n
	validity := andValidity(ev.mem, n, arrsOf(args)...)
	buf, out := newBitmap(ev.mem, n)
	for i := 0; i < n; i++ {
		if strings.HasPrefix(ss[0].at(i), ss[1].at(i)) {
			out[i>>3] |= 1 << (i & 7)
		}
	}
	return datum{arr: makeArray(physical.Boolean, n, validity, buf), t: physical.Boolean}, nil
}

// concatWsKernel: concat_ws(sep, a, …) joins the non-NULL arguments; NULL
// when sep is NULL.
func concatWsKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	n := ev.n
	if args[0].isNull() {
		return scalar(nil, physical.String), nil
	}
	strs, size, err := stringArgs(n, args)
	if err != nil {
		return datum{}, err
	}
	b := array.NewStringBuilder(ev.mem)
	defer b.Release()
	b.Reserve(n)
	b.ReserveData(size)
	var buf []byte
	for i := 0; i < n; i++ {
		if args[0].arr != nil && args[0].arr.IsNull(i) {
			b.AppendNull()
			continue
		}
		buf = buf[:0]
		first := true
		for j := 1; j < len(args); j++ {
			a := args[j]
			if a.isNull() || (a.arr != nil && a.arr.IsNull(i)) {
				continue
			}
			if !first {
				buf = append(buf, strs[0].at(i)...)
			}
			first = false
			buf = append(buf, strs[j].at(i)...)
		}
		b.BinaryBuilder.Append(buf)
	}
	return datum{arr: b.NewArray(), t: physical.String}, nil
}

// compileRegexpFlags compiles a PostgreSQL regular expression with RE2 and
// the flags of regexp_replace: g (all matches), i (case-insensitive), c
// (case-sensitive), n or m (newline-sensitive), s (the default: . matches
// newlines, as in PostgreSQL's AREs). RE2 lacks backreferences and
// lookaround; such patterns are error 2201B.
func compileRegexpFlags(pattern, flags string) (re *regexp.Regexp, global bool, err error) {
	fold, newline := false, false
	for _, f := range flags {
		switch f {
		case 'g':
			global = true
		case 'i':
			fold = true
		case 'c':
			fold = false
		case 'n', 'm':
			newline = true
		case 's':
			newline = false
		default:
			return nil, false, sqlerr.New(sqlerr.InvalidParameterValue, "invalid regular expression option: %q", string(f))
		}
	}
	prefix := "(?s)"
	if newline {
		prefix = "(?m)"
	}
	if fold {
		prefix += "(?i)"
	}
	re, err = regexp.Compile(prefix + pattern)
	if err != nil {
		return nil, false, sqlerr.New("2201B", "invalid regular expression: %v", err)
	}
	return re, global, nil
}

// appendReplacement appends repl with PostgreSQL's escapes: \1..\9 the
// groups (empty when absent or unmatched), \& the whole match, \\ a
// backslash; any other backslash is literal.
func appendReplacement(b []byte, repl, src string, m []int) []byte {
	for i := 0; i < len(repl); i++ {
		ch := repl[i]
		if ch != '\\' || i+1 == len(repl) {
			b = append(b, ch)
			continue
		}
		next := repl[i+1]
		g := -1
		switch {
		case next >= '1' && next <= '9':
			g = int(next - '0')
		case next == '&':
			g = 0
		case next == '\\':
			b = append(b, '\\')
			i++
			continue
		default:
			b = append(b, ch)
			continue
		}
		i++
		if 2*g+1 < len(m) && m[2*g] >= 0 {
			b = append(b, src[m[2*g]:m[2*g+1]]...)
		}
	}
	return b
}

func regexpReplace(re *regexp.Regexp, global bool, src, repl string) string {
	var ms [][]int
	if global {
		ms = re.FindAllStringSubmatchIndex(src, -1)
	} else if m := re.FindStringSubmatchIndex(src); m != nil {
		ms = [][]int{m}
	}
	if ms == nil {
		return src
	}
	b := make([]byte, 0, len(src))
	last := 0
	for _, m := range ms {
		b = append(b, src[last:m[0]]...)
		b = appendReplacement(b, repl, src, m)
		last = m[1]
	}
	return string(append(b, src[last:]...))
}

// regexpReplaceKernel: regexp_replace(s, pattern, replacement[, flags]);
// without g only the first match is replaced (PostgreSQL).
func regexpReplaceKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	ss, err := strArgs(args)
	if err != nil {
		return datum{}, err
	}
	type compiled struct {
		re     *regexp.Regexp
		global bool
	}
	cache := map[[2]string]compiled{}
	get := func(i int) (compiled, error) {
		key := [2]string{ss[1].at(i), ""}
		if len(ss) == 4 {
			key[1] = ss[3].at(i)
		}
		if r, ok := cache[key]; ok {
			return r, nil
		}
		re, g, err := compileRegexpFlags(key[0], key[1])
		if err != nil {
			return compiled{}, err
		}
		r := compiled{re, g}
		cache[[2]string{strings.Clone(key[0]), strings.Clone(key[1])}] = r
		return r, nil
	}
	return mapStrings(ev, args, dataSize(args[0]), func(i int) (string, error) {
		r, err := get(i)
		if err != nil {
			return "", err
		}
		return regexpReplace(r.re, r.global, ss[0].at(i), ss[2].at(i)), nil
	})
}

// logBaseKernel: log(b, x) = ln(x) / ln(b) in DOUBLE PRECISION with
// PostgreSQL's errors.
func logBaseKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	if kindOf(args[0].t) != kFloat64 || kindOf(args[1].t) != kFloat64 {
		return datum{}, unsupported("log", args[0].t)
	}
	bv, bm := operand(args[0], convF64)
	xv, xm := operand(args[1], convF64)
	return mapFixed(ev, args, physical.Float64, func(i int) (float64, error) {
		b, x := bv[i&bm], xv[i&xm]
		for _, v := range []float64{b, x} {
			if v == 0 {
				return 0, sqlerr.New(codeInvalidLog, "cannot take logarithm of zero")
			}
			if v < 0 {
				return 0, sqlerr.New(codeInvalidLog, "cannot take logarithm of a negative number")
			}
		}
		if b == 1 {
			return 0, sqlerr.New(sqlerr.DivisionByZero, "division by zero")
		}
		return math.Log(x) / math.Log(b), nil
	})
}

// truncKernel: trunc(x, digits) toward zero; typed as round.
func truncKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	digits := int64(0)
	if len(args) == 2 {
		if !args[1].isScalar() {
			return datum{}, sqlerr.New(sqlerr.FeatureNotSupported, "trunc: the number of digits must be a constant")
		}
		switch v := args[1].val.(type) {
		case int32:
			digits = int64(v)
		case int64:
			digits = v
		}
	}
	x := args[0]
	switch kindOf(x.t) {
	case kFloat64:
		v, m := operand(x, convF64)
		return mapFixed(ev, args[:1], c.T, func(i int) (float64, error) { return truncFloat(v[i&m], digits), nil })
	case kInt32, kInt64:
		iv, err := newIntArg(x)
		if err != nil {
			return datum{}, err
		}
		p := int64(0) // 0: every digit goes
		if digits >= 0 {
			p = 1
		} else if -digits < 19 {
			p = pow10i64[-digits]
		}
		f := func(i int) int64 {
			if p == 0 {
				return 0
			}
			return iv.at(i) / p * p
		}
		if kindOf(c.T) == kInt32 {
			return mapFixed(ev, args[:1], c.T, func(i int) (int32, error) { return int32(f(i)), nil })
		}
		return mapFixed(ev, args[:1], c.T, func(i int) (int64, error) { return f(i), nil })
	case kDecimal:
		s, ts := decScale(x.t), decScale(c.T)
		v, m := operand(x, convDec)
		return mapFixed(ev, args[:1], c.T, func(i int) (decimal128.Num, error) {
			r := v[i&m]
			d := int32(max(min(digits, 76), -76))
			if d < s {
				if s-d > 38 {
					r = decimal128.Num{}
				} else {
					r = r.ReduceScaleBy(s-d, false)
				}
			} else {
				d = s
			}
			r, ok := decRescale(r, d, ts)
			if !ok {
				return r, errNumericOverflow()
			}
			return r, nil
		})
	}
	return datum{}, unsupported("trunc", x.t)
}

func truncFloat(x float64, d int64) float64 {
	if d == 0 {
		return math.Trunc(x)
	}
	if math.IsInf(x, 0) || math.IsNaN(x) || d > 308 {
		return x
	}
	if d < -308 {
		return 0
	}
	if d > 0 {
		p := math.Pow(10, float64(d))
		y := x * p
		if math.IsInf(y, 0) {
			return x
		}
		return math.Trunc(y) / p
	}
	p := math.Pow(10, float64(-d))
	return math.Trunc(x/p) * p
}

// widthBucketKernel: width_bucket(x, lo, hi, n) as PostgreSQL's float8
// version: 0 below the range, n+1 at or above its end.
func widthBucketKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	xv, xm := operand(args[0], convF64)
	lv, lm := operand(args[1], convF64)
	hv, hm := operand(args[2], convF64)
	cnt, err := newIntArg(args[3])
	if err != nil {
		return datum{}, err
	}
	return mapFixed(ev, args, physical.Int32, func(i int) (int32, error) {
		x, lo, hi, n := xv[i&xm], lv[i&lm], hv[i&hm], cnt.at(i)
		if n <= 0 {
			return 0, sqlerr.New(codeWidthBucket, "count must be greater than zero")
		}
		if n > math.MaxInt32 {
			return 0, errIntRange(kInt32)
		}
		if math.IsNaN(x) || math.IsNaN(lo) || math.IsNaN(hi) {
			return 0, sqlerr.New(codeWidthBucket, "operand, lower bound, and upper bound cannot be NaN")
		}
		if math.IsInf(lo, 0) || math.IsInf(hi, 0) {
			return 0, sqlerr.New(codeWidthBucket, "lower and upper bounds must be finite")
		}
		var q float64
		switch {
		case lo < hi:
			if x < lo {
				return 0, nil
			}
			if x >= hi {
				if n == math.MaxInt32 {
					return 0, errIntRange(kInt32)
				}
				return int32(n + 1), nil
			}
			q = (x - lo) / (hi - lo) * float64(n)
		case lo > hi:
			if x > lo {
				return 0, nil
			}
			if x <= hi {
				if n == math.MaxInt32 {
					return 0, errIntRange(kInt32)
				}
				return int32(n + 1), nil
			}
			q = (lo - x) / (lo - hi) * float64(n)
		default:
			return 0, sqlerr.New(codeWidthBucket, "lower bound cannot equal upper bound")
		}
		r := int64(q)
		if r >= n {
			r = n - 1
		}
		return int32(r + 1), nil
	})
}

// makeDateDays validates a PostgreSQL year (negative: BC, no year 0),
// month and day and returns days since the epoch.
func makeDateDays(y, m, d int64) (int64, error) {
	bad := func() (int64, error) {
		return 0, sqlerr.New(sqlerr.DatetimeOverflow, "date field value out of range: %d-%02d-%02d", y, m, d)
	}
	yy := y
	if y < 0 {
		yy = y + 1
	}
	if y == 0 || m < 1 || m > 12 || d < 1 || y > 5874897 || y < -4713 {
		return bad()
	}
	if d > int64(daysInMonth(yy, int(m))) {
		return bad()
	}
	return DaysFromCivil(yy, int(m), int(d)), nil
}

func makeDateKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	var iv [3]intArg
	for k := range iv {
		a, err := newIntArg(args[k])
		if err != nil {
			return datum{}, err
		}
		iv[k] = a
	}
	return mapFixed(ev, args, physical.Date, func(i int) (int32, error) {
		days, err := makeDateDays(iv[0].at(i), iv[1].at(i), iv[2].at(i))
		return int32(days), err
	})
}

// dateDiffKernel: DuckDB's date_diff(part, a, b), the number of part
// boundaries between a and b (timestamps); week is whole 7-day spans of the
// dates.
func dateDiffKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	if !args[0].isScalar() {
		return datum{}, sqlerr.New(sqlerr.FeatureNotSupported, "date_diff needs a constant part")
	}
	part, _ := args[0].val.(string)
	if kindOf(args[1].t) != kTimestamp || kindOf(args[2].t) != kTimestamp {
		return datum{}, unsupported("date_diff", args[1].t)
	}
	av, am := operand(args[1], func(v any) int64 { return toI64(v) })
	bv, bm := operand(args[2], func(v any) int64 { return toI64(v) })
	months := func(ts int64) int64 {
		d, _ := splitTS(ts)
		y, m, _ := Civil(d)
		return y*12 + int64(m) - 1
	}
	return mapFixed(ev, args[1:], physical.Int64, func(i int) (int64, error) {
		a, b := av[i&am], bv[i&bm]
		da, _ := splitTS(a)
		db, _ := splitTS(b)
		switch part {
		case "day":
			return db - da, nil
		case "week":
			return (db - da) / 7, nil
		case "month":
			return months(b) - months(a), nil
		case "quarter":
			return floorDiv(months(b), 3) - floorDiv(months(a), 3), nil
		case "year":
			return floorDiv(months(b), 12) - floorDiv(months(a), 12), nil
		case "hour":
			return floorDiv(b, 3600*usPerSec) - floorDiv(a, 3600*usPerSec), nil
		case "minute":
			return floorDiv(b, 60*usPerSec) - floorDiv(a, 60*usPerSec), nil
		case "second":
			return floorDiv(b, usPerSec) - floorDiv(a, usPerSec), nil
		}
		return 0, sqlerr.New(sqlerr.InvalidParameterValue, "unit %q not recognized by date_diff", part)
	})
}
