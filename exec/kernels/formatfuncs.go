package kernels

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// registerFormatFuncs adds to_char of numbers, format, age, isfinite and
// the volatile random().
func registerFormatFuncs(t map[string]kernel) {
	t[physical.FnToCharNum] = toCharNumKernel
	t[physical.FnRandom] = randomKernel
	t[physical.FnAge] = ageKernel
	t[physical.FnIsFinite] = isFiniteKernel
	t[physical.FnFormat] = formatKernel
	volatile[physical.FnRandom] = true
	volatile[physical.FnPgRandomUUID] = true
	for _, fn := range []string{physical.FnToCharNum, physical.FnAge, physical.FnIsFinite} {
		strict[fn] = true
	}
}

// volatile functions give a new value per row: never evaluated once for
// all rows, and never at constant folding.
var volatile = map[string]bool{}

// codeNullValueNotAllowed is PostgreSQL's null_value_not_allowed (format's
// %I of NULL).
const codeNullValueNotAllowed = "22004"

// errVolatile stops constant folding of an expression that calls a volatile
// function; the optimizer then leaves the expression for execution.
var errVolatile = sqlerr.New(sqlerr.FeatureNotSupported, "volatile function in a constant expression")

// randomKernel: random(), a new DOUBLE PRECISION in [0, 1) per row.
func randomKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	if ev.folding {
		return datum{}, errVolatile
	}
	return mapFixed(ev, nil, physical.Float64, func(int) (float64, error) { return rand.Float64(), nil })
}

// isFiniteKernel: isfinite(date|timestamp); there are no infinite values.
func isFiniteKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	if args[0].isScalar() {
		return scalar(true, physical.Boolean), nil
	}
	b := array.NewBooleanBuilder(ev.mem)
	defer b.Release()
	for i := 0; i < ev.n; i++ {
		if args[0].arr.IsNull(i) {
			b.AppendNull()
		} else {
			b.Append(true)
		}
	}
	return datum{arr: b.NewArray(), t: physical.Boolean}, nil
}

// ageKernel: age(a, b timestamp) → interval, PostgreSQL's timestamp_age:
// field-wise differences, negative fields borrowed from the next larger
// field (days by the length of b's month when a ≥ b, else of a's month).
func ageKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	arrs, done, err := materializeAll(ev, args)
	if err != nil {
		return datum{}, err
	}
	defer done()
	ts := func(j, i int) arrow.Timestamp { return arrs[j].arr.(*array.Timestamp).Value(i) }
	return mapFixed(ev, arrs, physical.Interval, func(i int) (arrow.MonthDayNanoInterval, error) {
		return ageOf(ts(0, i), ts(1, i)), nil
	})
}

var monthDays = [2][12]int{
	{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31},
	{31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31},
}

func leap(y int) int {
	if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		return 1
	}
	return 0
}

func ageOf(a, b arrow.Timestamp) arrow.MonthDayNanoInterval {
	t1, t2 := time.UnixMicro(int64(a)).UTC(), time.UnixMicro(int64(b)).UTC()
	usec := (t1.Nanosecond() - t2.Nanosecond()) / 1000
	sec := t1.Second() - t2.Second()
	minute := t1.Minute() - t2.Minute()
	hour := t1.Hour() - t2.Hour()
	day := t1.Day() - t2.Day()
	mon := int(t1.Month()) - int(t2.Month())
	year := t1.Year() - t2.Year()
	flip := a < b
	if flip {
		usec, sec, minute, hour, day, mon, year = -usec, -sec, -minute, -hour, -day, -mon, -year
	}
	for usec < 0 {
		usec += 1000000
		sec--
	}
	for sec < 0 {
		sec += 60
		minute--
	}
	for minute < 0 {
		minute += 60
		hour--
	}
	for hour < 0 {
		hour += 24
		day--
	}
	for day < 0 {
		ref := t2
		if flip {
			ref = t1
		}
		day += monthDays[leap(ref.Year())][ref.Month()-1]
		mon--
	}
	for mon < 0 {
		mon += 12
		year--
	}
	if flip {
		usec, sec, minute, hour, day, mon, year = -usec, -sec, -minute, -hour, -day, -mon, -year
	}
	nanos := ((int64(hour)*60+int64(minute))*60+int64(sec))*1e9 + int64(usec)*1000
	return arrow.MonthDayNanoInterval{Months: int32(year*12 + mon), Days: int32(day), Nanoseconds: nanos}
}

// formatKernel: format(fmt, args…) with %s, %I, %L, %% and %n$ positions.
func formatKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	arrs, done, err := materializeAll(ev, args)
	if err != nil {
		return datum{}, err
	}
	defer done()
	b := array.NewStringBuilder(ev.mem)
	defer b.Release()
	vals := make([]any, len(arrs)-1)
	for i := 0; i < ev.n; i++ {
		f := ValueAt(arrs[0].arr, i)
		if f == nil {
			b.AppendNull()
			continue
		}
		for j := range vals {
			vals[j] = ValueAt(arrs[j+1].arr, i)
		}
		s, err := formatOne(f.(string), vals)
		if err != nil {
			return datum{}, err
		}
		b.Append(s)
	}
	return datum{arr: b.NewArray(), t: physical.String}, nil
}

func formatOne(f string, vals []any) (string, error) {
	var out strings.Builder
	next := 0
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			out.WriteByte(f[i])
			continue
		}
		i++
		if i >= len(f) {
			return "", sqlerr.New(sqlerr.InvalidParameterValue, "unterminated format() type specifier")
		}
		if f[i] == '%' {
			out.WriteByte('%')
			continue
		}
		// Optional argument position n$.
		j := i
		for j < len(f) && f[j] >= '0' && f[j] <= '9' {
			j++
		}
		arg := next
		if j > i && j < len(f) && f[j] == '$' {
			n, err := strconv.Atoi(f[i:j])
			if err != nil || n == 0 {
				return "", sqlerr.New(sqlerr.InvalidParameterValue, "format specifies argument 0, but arguments are numbered from 1")
			}
			arg = n - 1
			i = j + 1
			if i >= len(f) {
				return "", sqlerr.New(sqlerr.InvalidParameterValue, "unterminated format() type specifier")
			}
		}
		switch f[i] {
		case 's', 'I', 'L':
		default:
			return "", sqlerr.New(sqlerr.InvalidParameterValue, "unrecognized format() type specifier \"%c\"", f[i])
		}
		if arg >= len(vals) {
			return "", sqlerr.New(sqlerr.InvalidParameterValue, "too few arguments for format()")
		}
		next = arg + 1
		v := vals[arg]
		switch f[i] {
		case 's':
			if v != nil {
				out.WriteString(v.(string))
			}
		case 'I':
			if v == nil {
				return "", sqlerr.New(codeNullValueNotAllowed, "null values cannot be formatted as an SQL identifier")
			}
			out.WriteString(quoteIdent(v.(string)))
		case 'L':
			if v == nil {
				out.WriteString("NULL")
			} else {
				out.WriteString(quoteLiteral(v.(string)))
			}
		}
	}
	return out.String(), nil
}

// quoteIdent quotes s unless it is a plain lower-case identifier.
func quoteIdent(s string) string {
	plain := s != "" && !(s[0] >= '0' && s[0] <= '9')
	for i := 0; i < len(s) && plain; i++ {
		c := s[i]
		plain = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_'
	}
	if plain && !reservedWords[s] {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// reservedWords are PostgreSQL's reserved key words, which quote_ident
// quotes.
var reservedWords = map[string]bool{
	"all": true, "analyse": true, "analyze": true, "and": true, "any": true, "array": true, "as": true,
	"asc": true, "asymmetric": true, "both": true, "case": true, "cast": true, "check": true,
	"collate": true, "column": true, "constraint": true, "create": true, "current_catalog": true,
	"current_date": true, "current_role": true, "current_time": true, "current_timestamp": true,
	"current_user": true, "default": true, "deferrable": true, "desc": true, "distinct": true,
	"do": true, "else": true, "end": true, "except": true, "false": true, "fetch": true, "for": true,
	"foreign": true, "from": true, "grant": true, "group": true, "having": true, "in": true,
	"initially": true, "intersect": true, "into": true, "lateral": true, "leading": true,
	"limit": true, "localtime": true, "localtimestamp": true, "not": true, "null": true,
	"offset": true, "on": true, "only": true, "or": true, "order": true, "placing": true,
	"primary": true, "references": true, "returning": true, "select": true, "session_user": true,
	"some": true, "symmetric": true, "system_user": true, "table": true, "then": true, "to": true,
	"trailing": true, "true": true, "union": true, "unique": true, "user": true, "using": true,
	"variadic": true, "when": true, "where": true, "window": true, "with": true,
}

// quoteLiteral: quote_literal, E” when s has a backslash.
func quoteLiteral(s string) string {
	q := "'" + strings.ReplaceAll(s, "'", "''") + "'"
	if strings.Contains(s, `\`) {
		return "E" + strings.ReplaceAll(q, `\`, `\\`)
	}
	return q
}

// toCharNumKernel: to_char(number, template) with PostgreSQL's numeric
// template patterns 9 0 . D , G S MI PR PL SG FM and literal text.
func toCharNumKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	if !args[1].isScalar() {
		return datum{}, sqlerr.New(sqlerr.FeatureNotSupported, "to_char: the template must be a constant")
	}
	tmpl, _ := args[1].val.(string)
	nf, err := parseNumFormat(tmpl)
	if err != nil {
		return datum{}, err
	}
	arr, err := ev.materialize(args[0])
	if err != nil {
		return datum{}, err
	}
	defer arr.Release()
	d := datum{arr: arr, t: args[0].t}
	return mapStrings(ev, []datum{d}, 0, func(i int) (string, error) {
		var neg bool
		var digits string
		switch v := ValueAt(arr, i).(type) {
		case int32:
			r := new(big.Rat).SetInt64(int64(v))
			neg, digits = v < 0, r.Abs(r).FloatString(nf.post)
		case int64:
			r := new(big.Rat).SetInt64(v)
			neg, digits = v < 0, r.Abs(r).FloatString(nf.post)
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nf.overflow(v < 0), nil
			}
			neg, digits = math.Signbit(v) && v != 0, strconv.FormatFloat(math.Abs(v), 'f', nf.post, 64)
		case decimal128.Num:
			scale := int32(0)
			if dt, ok := arr.DataType().(*arrow.Decimal128Type); ok {
				scale = dt.Scale
			}
			bi := v.BigInt()
			r := new(big.Rat).SetFrac(bi, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil))
			neg, digits = bi.Sign() < 0, r.Abs(r).FloatString(nf.post)
		default:
			return "", unsupported("to_char", arr.DataType())
		}
		return nf.format(neg, digits), nil
	})
}

type numTok struct {
	kind byte // '9', '0', '.', ',', 'S', 'M' (MI), 'P' (PR), 'L' (PL), 'G' (SG), 0 literal
	lit  string
}

type numFormat struct {
	toks      []numTok
	fill      bool
	pre, post int
	zeroStart int // first int digit position with a '0' pattern (pre if none)
	zeroEnd   int // frac digits to keep at least in fill mode (through the last '0')
	explicit  bool
	leadS     bool // S before the digits: anchored to the number
}

func parseNumFormat(t string) (*numFormat, error) {
	nf := &numFormat{}
	seenDec := false
	digitsSeen := false
	add := func(k byte) { nf.toks = append(nf.toks, numTok{kind: k}) }
	lit := func(s string) {
		if n := len(nf.toks); n > 0 && nf.toks[n-1].kind == 0 {
			nf.toks[n-1].lit += s
			return
		}
		nf.toks = append(nf.toks, numTok{lit: s})
	}
	up := strings.ToUpper(t)
	for i := 0; i < len(t); {
		switch {
		case t[i] == '"':
			j := strings.IndexByte(t[i+1:], '"')
			if j < 0 {
				lit(t[i+1:])
				i = len(t)
				continue
			}
			lit(t[i+1 : i+1+j])
			i += j + 2
		case t[i] == '\\' && i+1 < len(t):
			lit(t[i+1 : i+2])
			i += 2
		case strings.HasPrefix(up[i:], "FM"):
			nf.fill = true
			i += 2
		case t[i] == '9' || t[i] == '0':
			if seenDec {
				nf.post++
				if t[i] == '0' {
					nf.zeroEnd = nf.post
				}
			} else {
				if t[i] == '0' && nf.zeroStart == 0 {
					nf.zeroStart = nf.pre + 1
				}
				nf.pre++
			}
			digitsSeen = true
			add(t[i])
			i++
		case t[i] == '.' || up[i] == 'D':
			if seenDec {
				if t[i] == '.' {
					return nil, sqlerr.New(sqlerr.SyntaxError, "multiple decimal points")
				}
				lit(t[i : i+1])
				i++
				continue
			}
			seenDec = true
			add('.')
			i++
		case t[i] == ',' || up[i] == 'G':
			add(',')
			i++
		case strings.HasPrefix(up[i:], "MI"):
			nf.explicit = true
			add('M')
			i += 2
		case strings.HasPrefix(up[i:], "PR"):
			nf.explicit = true
			add('P')
			i += 2
		case strings.HasPrefix(up[i:], "PL"):
			nf.explicit = true
			add('L')
			i += 2
		case strings.HasPrefix(up[i:], "SG"):
			nf.explicit = true
			add('G')
			i += 2
		case up[i] == 'S':
			nf.explicit = true
			nf.leadS = !digitsSeen
			add('S')
			i++
		case strings.HasPrefix(up[i:], "EEEE") || strings.HasPrefix(up[i:], "RN") || strings.HasPrefix(up[i:], "TH") ||
			up[i] == 'V' || up[i] == 'L':
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "to_char: template pattern %q is not supported", t[i:i+1])
		default:
			lit(t[i : i+1])
			i++
		}
	}
	if nf.zeroStart == 0 {
		nf.zeroStart = nf.pre + 1
	}
	return nf, nil
}

// overflow renders '#' in every digit position.
func (nf *numFormat) overflow(neg bool) string {
	var b strings.Builder
	if !nf.explicit {
		b.WriteByte(' ')
	}
	for _, t := range nf.toks {
		switch t.kind {
		case '9', '0':
			b.WriteByte('#')
		case '.':
			b.WriteByte('.')
		case ',':
			b.WriteByte(',')
		case 0:
			b.WriteString(t.lit)
		default:
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// format renders |x| (digits: the absolute value rounded to nf.post
// fraction digits, as "123.45") with sign neg.
func (nf *numFormat) format(neg bool, digits string) string {
	intPart, frac := digits, ""
	if k := strings.IndexByte(digits, '.'); k >= 0 {
		intPart, frac = digits[:k], digits[k+1:]
	}
	if strings.Trim(intPart, "0") == "" {
		intPart = ""
	}
	if len(intPart) > nf.pre {
		return nf.overflow(neg)
	}
	// Fraction digits to write (fill mode drops insignificant zeros).
	keep := nf.post
	if nf.fill {
		keep = len(strings.TrimRight(frac, "0"))
		keep = max(keep, nf.zeroEnd)
	}
	lead := nf.pre - len(intPart) // blank int positions before the digits
	zeroInt := intPart == "" && nf.zeroStart > nf.pre
	// A zero integer part shows one '0' when nothing follows the point.
	showZero := zeroInt && nf.pre > 0 && (nf.post == 0 || nf.fill && keep == 0)
	var b strings.Builder
	signWritten := false
	writeSign := func() {
		if signWritten {
			return
		}
		signWritten = true
		switch {
		case !nf.explicit:
			if neg {
				b.WriteByte('-')
			} else if !nf.fill {
				b.WriteByte(' ')
			}
		case nf.leadS:
			if neg {
				b.WriteByte('-')
			} else {
				b.WriteByte('+')
			}
		}
	}
	floating := !nf.explicit || nf.leadS
	if !floating {
		signWritten = true
	}
	blankChar := func() {
		if !nf.fill {
			b.WriteByte(' ')
		}
	}
	intPos, fracPos, significant := 0, 0, false
	for _, t := range nf.toks {
		switch t.kind {
		case '9', '0':
			if intPos < nf.pre {
				p := intPos
				intPos++
				switch {
				case p >= lead:
					writeSign()
					b.WriteByte(intPart[p-lead])
					significant = true
				case p+1 >= nf.zeroStart:
					writeSign()
					b.WriteByte('0')
					significant = true
				case showZero && p == nf.pre-1:
					writeSign()
					b.WriteByte('0')
					significant = true
				default:
					blankChar()
				}
				continue
			}
			p := fracPos
			fracPos++
			if p < keep {
				b.WriteByte(frac[p])
			} else if !nf.fill {
				b.WriteByte(' ')
			}
		case '.':
			intPos = nf.pre
			writeSign()
			b.WriteByte('.')
			significant = true
		case ',':
			if significant {
				b.WriteByte(',')
			} else {
				blankChar()
			}
		case 'S':
			if !nf.leadS {
				if neg {
					b.WriteByte('-')
				} else {
					b.WriteByte('+')
				}
			}
		case 'M':
			if neg {
				b.WriteByte('-')
			} else if !nf.fill {
				b.WriteByte(' ')
			}
		case 'G', 'L':
			if neg {
				b.WriteByte('-')
			} else {
				b.WriteByte('+')
			}
		case 'P':
			if neg {
				b.WriteByte('>')
			} else if !nf.fill {
				b.WriteByte(' ')
			}
		default:
			b.WriteString(t.lit)
		}
	}
	s := b.String()
	if hasKind(nf.toks, 'P') {
		// PR: '<' (or a blank) right before the number's first character.
		i := strings.IndexFunc(s, func(r rune) bool { return r != ' ' })
		if i < 0 {
			i = len(s)
		}
		switch {
		case neg:
			s = s[:i] + "<" + s[i:]
		case !nf.fill:
			s = s[:i] + " " + s[i:]
		}
	}
	return s
}

func hasKind(toks []numTok, k byte) bool {
	for _, t := range toks {
		if t.kind == k {
			return true
		}
	}
	return false
}
