package kernels

import (
	"math"
	"regexp"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// strArg reads a string datum row by row without boxing.
type strArg struct {
	arr *array.String
	s   string
}

func newStrArg(d datum) (strArg, error) {
	if d.arr == nil {
		s, _ := d.val.(string)
		return strArg{s: s}, nil
	}
	a, ok := d.arr.(*array.String)
	if !ok {
		return strArg{}, unsupported("string function", d.t)
	}
	return strArg{arr: a}, nil
}

func (a strArg) at(i int) string {
	if a.arr != nil {
		return a.arr.Value(i)
	}
	return a.s
}

// intArg reads an int32 or int64 datum as int64.
type intArg struct {
	v32  []int32
	v64  []int64
	mask int
}

func newIntArg(d datum) (intArg, error) {
	switch kindOf(d.t) {
	case kInt32:
		v, m := operand(d, convI32)
		return intArg{v32: v, mask: m}, nil
	case kInt64:
		v, m := operand(d, convI64)
		return intArg{v64: v, mask: m}, nil
	}
	return intArg{}, unsupported("integer argument", d.t)
}

func (a intArg) at(i int) int64 {
	if a.v32 != nil {
		return int64(a.v32[i&a.mask])
	}
	return a.v64[i&a.mask]
}

func arrsOf(args []datum) []arrow.Array {
	out := make([]arrow.Array, 0, len(args))
	for _, a := range args {
		if a.arr != nil {
			out = append(out, a.arr)
		}
	}
	return out
}

// mapStrings builds a string array from f over the rows where all args are
// valid (NULL elsewhere).
func mapStrings(ev *evaluator, args []datum, sizeHint int, f func(i int) (string, error)) (datum, error) {
	n := ev.n
	validity := andValidity(ev.mem, n, arrsOf(args)...)
	if validity != nil {
		defer validity.Release()
	}
	b := array.NewStringBuilder(ev.mem)
	defer b.Release()
	b.Reserve(n)
	b.ReserveData(sizeHint)
	for i := 0; i < n; i++ {
		if validity != nil && !bitIsSet(validity.Bytes(), i) {
			b.AppendNull()
			continue
		}
		s, err := f(i)
		if err != nil {
			return datum{}, err
		}
		b.Append(s)
	}
	return datum{arr: b.NewArray(), t: physical.String}, nil
}

func dataSize(d datum) int {
	if a, ok := d.arr.(*array.String); ok {
		return len(a.ValueBytes())
	}
	return 0
}

func substringKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	if len(args) < 2 || len(args) > 3 {
		return datum{}, sqlerr.New(sqlerr.InternalError, "substring takes 2 or 3 arguments")
	}
	if args[0].isScalar() {
		arr, err := ev.materialize(args[0])
		if err != nil {
			return datum{}, err
		}
		defer arr.Release()
		args = append([]datum{{arr: arr, t: args[0].t}}, args[1:]...)
	}
	s, err := newStrArg(args[0])
	if err != nil {
		return datum{}, err
	}
	start, err := newIntArg(args[1])
	if err != nil {
		return datum{}, err
	}
	var length intArg
	hasLen := len(args) == 3
	if hasLen {
		if length, err = newIntArg(args[2]); err != nil {
			return datum{}, err
		}
	}
	return mapStrings(ev, args, dataSize(args[0]), func(i int) (string, error) {
		l := int64(math.MaxInt64)
		if hasLen {
			l = length.at(i)
			if l < 0 {
				return "", sqlerr.New("22011", "negative substring length not allowed")
			}
		}
		return substrChars(s.at(i), start.at(i), l, hasLen), nil
	})
}

// substrChars is SQL SUBSTRING(s FROM start FOR length), in characters.
func substrChars(s string, start, length int64, hasLen bool) string {
	end := int64(math.MaxInt64)
	if hasLen && start <= math.MaxInt64-length {
		end = start + length
	}
	if start < 1 {
		start = 1
	}
	if end <= start {
		return ""
	}
	bi := charOffset(s, start-1)
	if bi >= len(s) {
		return ""
	}
	if end == math.MaxInt64 {
		return s[bi:]
	}
	return s[bi : bi+charOffset(s[bi:], end-start)]
}

// charOffset returns the byte offset of character n of s (len(s) if beyond).
func charOffset(s string, n int64) int {
	i := 0
	for n > 0 && i < len(s) {
		if s[i] < utf8.RuneSelf {
			i++
		} else {
			_, sz := utf8.DecodeRuneInString(s[i:])
			i += sz
		}
		n--
	}
	return i
}

func caseKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	if len(args) != 1 {
		return datum{}, sqlerr.New(sqlerr.InternalError, "%s takes 1 argument", c.Fn)
	}
	arr, err := ev.materialize(args[0])
	if err != nil {
		return datum{}, err
	}
	defer arr.Release()
	d := datum{arr: arr, t: args[0].t}
	s, err := newStrArg(d)
	if err != nil {
		return datum{}, err
	}
	f := strings.ToLower
	if c.Fn == physical.FnUpper {
		f = strings.ToUpper
	}
	return mapStrings(ev, []datum{d}, dataSize(d), func(i int) (string, error) { return f(s.at(i)), nil })
}

func trimKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	if len(args) < 1 || len(args) > 2 {
		return datum{}, sqlerr.New(sqlerr.InternalError, "%s takes 1 or 2 arguments", c.Fn)
	}
	arr, err := ev.materialize(args[0])
	if err != nil {
		return datum{}, err
	}
	defer arr.Release()
	args = append([]datum{{arr: arr, t: args[0].t}}, args[1:]...)
	s, err := newStrArg(args[0])
	if err != nil {
		return datum{}, err
	}
	chars := strArg{s: " "}
	if len(args) == 2 {
		if chars, err = newStrArg(args[1]); err != nil {
			return datum{}, err
		}
	}
	f := strings.Trim
	switch c.Fn {
	case physical.FnLTrim:
		f = strings.TrimLeft
	case physical.FnRTrim:
		f = strings.TrimRight
	}
	return mapStrings(ev, args, dataSize(args[0]), func(i int) (string, error) { return f(s.at(i), chars.at(i)), nil })
}

func lengthKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	if len(args) != 1 {
		return datum{}, sqlerr.New(sqlerr.InternalError, "length takes 1 argument")
	}
	arr, err := ev.materialize(args[0])
	if err != nil {
		return datum{}, err
	}
	defer arr.Release()
	s, ok := arr.(*array.String)
	if !ok {
		return datum{}, unsupported("length", args[0].t)
	}
	n := ev.n
	buf, out := newValues[int32](ev.mem, n)
	for i := range out {
		out[i] = int32(utf8.RuneCountInString(s.Value(i)))
	}
	t := c.T
	if kindOf(t) != kInt32 {
		t = physical.Int32
	}
	return datum{arr: makeArray(t, n, andValidity(ev.mem, n, arr), buf), t: t}, nil
}

// stringArgs reads the non-NULL arguments as strings (a NULL one stays a
// zero strArg) and sums the bytes a result joining them all may need.
func stringArgs(n int, args []datum) ([]strArg, int, error) {
	strs := make([]strArg, len(args))
	size := 0
	for i, a := range args {
		if a.isNull() {
			continue
		}
		s, err := newStrArg(a)
		if err != nil {
			return nil, 0, err
		}
		strs[i] = s
		size += dataSize(a) + len(s.s)*n
	}
	return strs, size, nil
}

func concatKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	n := ev.n
	strs, size, err := stringArgs(n, args)
	if err != nil {
		return datum{}, err
	}
	if c.Fn == physical.FnConcatOp {
		return mapStrings(ev, args, size, func(i int) (string, error) {
			var sb strings.Builder
			for _, s := range strs {
				sb.WriteString(s.at(i))
			}
			return sb.String(), nil
		})
	}
	b := array.NewStringBuilder(ev.mem)
	defer b.Release()
	b.Reserve(n)
	b.ReserveData(size)
	var buf []byte
	for i := 0; i < n; i++ {
		buf = buf[:0]
		for j, s := range strs {
			a := args[j]
			if a.isNull() || (a.arr != nil && a.arr.IsNull(i)) {
				continue
			}
			buf = append(buf, s.at(i)...)
		}
		b.BinaryBuilder.Append(buf)
	}
	return datum{arr: b.NewArray(), t: physical.String}, nil
}

// --- LIKE ---

const errInvalidEscape = "22025"

// likeMatcher is a compiled LIKE pattern. Patterns made of literals and %
// only are matched with prefix/suffix/substring searches; patterns with _
// use a wildcard matcher.
type likeMatcher struct {
	general  bool
	glob     []byte   // pattern bytes (0 for wildcards)
	kinds    []uint8  // globLit, globOne or globAnyRun per glob byte
	lits     []string // literal runs between %s
	lead     bool     // pattern starts with %
	trail    bool     // pattern ends with %
	fold     bool
	anything bool
}

func compileLike(pattern, escape string, fold bool) (*likeMatcher, error) {
	if fold {
		pattern = strings.ToLower(pattern)
	}
	esc := rune(-1)
	if escape != "" {
		r, sz := utf8.DecodeRuneInString(escape)
		if sz != len(escape) {
			return nil, sqlerr.New(errInvalidEscape, "invalid escape string")
		}
		esc = r
	}
	m := &likeMatcher{fold: fold}
	var lits []string
	var cur strings.Builder
	hasUnderscore := false
	for i := 0; i < len(pattern); {
		r, sz := utf8.DecodeRuneInString(pattern[i:])
		pct := false
		switch {
		case r == esc:
			if i+sz >= len(pattern) {
				return nil, sqlerr.New(errInvalidEscape, "LIKE pattern must not end with escape character")
			}
			i += sz
			r, sz = utf8.DecodeRuneInString(pattern[i:])
			cur.WriteRune(r)
			m.glob = append(m.glob, []byte(string(r))...)
			for range len(string(r)) {
				m.kinds = append(m.kinds, globLit)
			}
		case r == '%':
			pct = true
			if i == 0 {
				m.lead = true
			}
			if cur.Len() > 0 {
				lits = append(lits, cur.String())
				cur.Reset()
			}
			m.glob = append(m.glob, 0)
			m.kinds = append(m.kinds, globAnyRun)
		case r == '_':
			hasUnderscore = true
			m.glob = append(m.glob, 0)
			m.kinds = append(m.kinds, globOne)
		default:
			cur.WriteRune(r)
			m.glob = append(m.glob, []byte(string(r))...)
			for range len(string(r)) {
				m.kinds = append(m.kinds, globLit)
			}
		}
		m.trail = pct
		i += sz
	}
	if hasUnderscore {
		m.general = true
		return m, nil
	}
	m.glob, m.kinds = nil, nil
	if cur.Len() > 0 {
		lits = append(lits, cur.String())
	}
	m.lits = lits
	m.anything = (m.lead || m.trail) && len(lits) == 0
	return m, nil
}

const (
	globLit uint8 = iota
	globOne
	globAnyRun
)

// globMatch matches s against the pattern bytes with wildcards (% and _, _
// being one UTF-8 character), backtracking only to the last %.
func (m *likeMatcher) globMatch(s string) bool {
	p, k := m.glob, m.kinds
	si, pi := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p) {
			switch k[pi] {
			case globLit:
				if p[pi] == s[si] {
					si++
					pi++
					continue
				}
			case globOne:
				si += runeLen(s, si)
				pi++
				continue
			case globAnyRun:
				starP, starS = pi, si
				pi++
				continue
			}
		}
		if starP < 0 {
			return false
		}
		starS += runeLen(s, starS)
		pi, si = starP+1, starS
	}
	for pi < len(p) && k[pi] == globAnyRun {
		pi++
	}
	return pi == len(p)
}

func runeLen(s string, i int) int {
	if s[i] < utf8.RuneSelf {
		return 1
	}
	_, sz := utf8.DecodeRuneInString(s[i:])
	return sz
}

func (m *likeMatcher) match(s string) bool {
	if m.fold {
		s = strings.ToLower(s)
	}
	if m.general {
		return m.globMatch(s)
	}
	if m.anything {
		return true
	}
	lits := m.lits
	if len(lits) == 0 {
		return s == ""
	}
	if !m.lead && !m.trail && len(lits) == 1 {
		return s == lits[0]
	}
	if !m.lead {
		if !strings.HasPrefix(s, lits[0]) {
			return false
		}
		s = s[len(lits[0]):]
		lits = lits[1:]
	}
	if !m.trail {
		if len(lits) == 0 {
			return s == ""
		}
		last := lits[len(lits)-1]
		if !strings.HasSuffix(s, last) {
			return false
		}
		s = s[:len(s)-len(last)]
		lits = lits[:len(lits)-1]
	}
	for _, l := range lits {
		j := strings.Index(s, l)
		if j < 0 {
			return false
		}
		s = s[j+len(l):]
	}
	return true
}

// matchColumn sets the bits of the rows of a that match m, a pattern of
// literals and % with at least one literal. A matching row contains the
// first literal, so that is searched for across the whole value buffer at
// once (rows without it, usually most, are skipped at the speed of the
// search) and only rows holding it are matched in full.
func (m *likeMatcher) matchColumn(a *array.String, out []byte) {
	offs, data := strRaw(a)
	n := a.Len()
	lit := m.lits[0]
	pos, end := int(offs[0]), int(offs[n])
	row := 0
	for pos < end {
		j := strings.Index(unsafeString(data[pos:end]), lit)
		if j < 0 {
			return
		}
		p := pos + j
		for int(offs[row+1]) <= p {
			row++
		}
		// An occurrence running into the next row means this row has
		// none: an occurrence inside it would have been found first.
		rs, re := int(offs[row]), int(offs[row+1])
		if p+len(lit) <= re && m.match(unsafeString(data[rs:re])) {
			out[row>>3] |= 1 << (row & 7)
		}
		pos = re
		row++
	}
}

// unsafeString views b as a string; b must not change while it is used.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// matchKernel evaluates a string predicate whose second argument is a
// pattern compiled once when constant (cached per distinct value otherwise).
func matchKernel(ev *evaluator, args []datum, compile func(pattern string, i int) (func(string) bool, error)) (datum, error) {
	arr, err := ev.materialize(args[0])
	if err != nil {
		return datum{}, err
	}
	defer arr.Release()
	s, ok := arr.(*array.String)
	if !ok {
		return datum{}, unsupported("pattern matching", args[0].t)
	}
	n := ev.n
	validity := andValidity(ev.mem, n, arrsOf(args)...)
	buf, out := newBitmap(ev.mem, n)
	fail := func(err error) (datum, error) {
		buf.Release()
		if validity != nil {
			validity.Release()
		}
		return datum{}, err
	}
	if args[1].isScalar() {
		f, err := compile(args[1].val.(string), 0)
		if err != nil {
			return fail(err)
		}
		for i := 0; i < n; i++ {
			if f(s.Value(i)) {
				out[i>>3] |= 1 << (i & 7)
			}
		}
	} else {
		p := args[1].arr.(*array.String)
		cache := map[string]func(string) bool{}
		for i := 0; i < n; i++ {
			if p.IsNull(i) || s.IsNull(i) {
				continue
			}
			pat := p.Value(i)
			f, ok := cache[pat]
			if !ok {
				if f, err = compile(pat, i); err != nil {
					return fail(err)
				}
				cache[strings.Clone(pat)] = f
			}
			if f(s.Value(i)) {
				out[i>>3] |= 1 << (i & 7)
			}
		}
	}
	return datum{arr: makeArray(physical.Boolean, n, validity, buf), t: physical.Boolean}, nil
}

func likeKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	if len(args) < 2 || len(args) > 3 {
		return datum{}, sqlerr.New(sqlerr.InternalError, "%s takes 2 or 3 arguments", c.Fn)
	}
	escape := `\`
	if len(args) == 3 {
		e := args[2]
		if !e.isScalar() {
			return datum{}, sqlerr.New(sqlerr.FeatureNotSupported, "LIKE escape must be a constant")
		}
		escape, _ = e.val.(string)
	}
	fold := c.Fn == physical.FnILike
	if p, ok := args[1].val.(string); ok && args[1].isScalar() && args[0].arr != nil && !fold {
		if a, ok := args[0].arr.(*array.String); ok {
			m, err := compileLike(p, escape, fold)
			if err != nil {
				return datum{}, err
			}
			if !m.general && len(m.lits) > 0 {
				n := ev.n
				validity := andValidity(ev.mem, n, a)
				buf, out := newBitmap(ev.mem, n)
				m.matchColumn(a, out)
				return datum{arr: makeArray(physical.Boolean, n, validity, buf), t: physical.Boolean}, nil
			}
		}
	}
	return matchKernel(ev, args[:2], func(p string, _ int) (func(string) bool, error) {
		m, err := compileLike(p, escape, fold)
		if err != nil {
			return nil, err
		}
		return m.match, nil
	})
}

func regexpKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	if len(args) != 2 {
		return datum{}, sqlerr.New(sqlerr.InternalError, "regexp_like takes 2 arguments")
	}
	return matchKernel(ev, args, func(p string, _ int) (func(string) bool, error) {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, sqlerr.New("2201B", "invalid regular expression: %v", err)
		}
		return re.MatchString, nil
	})
}
