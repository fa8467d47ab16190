package kernels

import (
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// Functions analysts reach for beyond the core set: string helpers,
// date_trunc, greatest/least. They are registered from eval.go's init.
func registerMore(t map[string]kernel) {
	t[physical.FnPosition] = positionKernel
	t[physical.FnReplace] = replaceKernel
	t[physical.FnLeft] = leftRightKernel
	t[physical.FnRight] = leftRightKernel
	t[physical.FnLPad] = padKernel
	t[physical.FnRPad] = padKernel
	t[physical.FnSplitPart] = splitPartKernel
	t[physical.FnDateTrunc] = dateTruncKernel
	t[physical.FnGreatest] = greatestLeastKernel
	t[physical.FnLeast] = greatestLeastKernel
	for _, fn := range []string{physical.FnPosition, physical.FnReplace, physical.FnLeft, physical.FnRight,
		physical.FnLPad, physical.FnRPad, physical.FnSplitPart, physical.FnDateTrunc} {
		strict[fn] = true
	}
}

// materializeAll turns every argument into an array (scalars broadcast),
// for kernels that read values generically.
func materializeAll(ev *evaluator, args []datum) ([]datum, func(), error) {
	out := make([]datum, len(args))
	var arrs []arrow.Array
	for i, a := range args {
		arr, err := ev.materialize(a)
		if err != nil {
			for _, x := range arrs {
				x.Release()
			}
			return nil, nil, err
		}
		arrs = append(arrs, arr)
		out[i] = datum{arr: arr, t: a.t}
	}
	return out, func() {
		for _, x := range arrs {
			x.Release()
		}
	}, nil
}

// positionKernel: position(sub IN s) → 1-based character index, 0 if absent.
func positionKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	sub, err := newStrArg(args[0])
	if err != nil {
		return datum{}, err
	}
	s, err := newStrArg(args[1])
	if err != nil {
		return datum{}, err
	}
	n := ev.n
	buf, out := newValues[int32](ev.mem, n)
	for i := range out {
		hay := s.at(i)
		if j := strings.Index(hay, sub.at(i)); j >= 0 {
			out[i] = int32(utf8.RuneCountInString(hay[:j]) + 1)
		} else {
			out[i] = 0
		}
	}
	return datum{arr: makeArray(physical.Int32, n, andValidity(ev.mem, n, arrsOf(args)...), buf), t: physical.Int32}, nil
}

func replaceKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	s, _ := newStrArg(args[0])
	from, _ := newStrArg(args[1])
	to, _ := newStrArg(args[2])
	return mapStrings(ev, args, dataSize(args[0]), func(i int) (string, error) {
		f := from.at(i)
		if f == "" {
			return s.at(i), nil
		}
		return strings.ReplaceAll(s.at(i), f, to.at(i)), nil
	})
}

// leftRightKernel: left(s, n) / right(s, n) in characters; a negative n
// drops |n| characters from the other end (PostgreSQL).
func leftRightKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	s, _ := newStrArg(args[0])
	cnt, err := newIntArg(args[1])
	if err != nil {
		return datum{}, err
	}
	left := c.Fn == physical.FnLeft
	return mapStrings(ev, args, dataSize(args[0]), func(i int) (string, error) {
		r := []rune(s.at(i))
		k := cnt.at(i)
		n := int64(len(r))
		if k < 0 {
			k = max(n+k, 0)
		}
		k = min(k, n)
		if left {
			return string(r[:k]), nil
		}
		return string(r[n-k:]), nil
	})
}

// padKernel: lpad/rpad(s, n[, fill]) to n characters, truncating longer s.
func padKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	s, _ := newStrArg(args[0])
	cnt, err := newIntArg(args[1])
	if err != nil {
		return datum{}, err
	}
	fill := strArg{s: " "}
	if len(args) == 3 {
		fill, _ = newStrArg(args[2])
	}
	left := c.Fn == physical.FnLPad
	return mapStrings(ev, args, dataSize(args[0]), func(i int) (string, error) {
		r := []rune(s.at(i))
		n := cnt.at(i)
		if n <= 0 {
			return "", nil
		}
		if n > 10_000_000 {
			return "", sqlerr.New(sqlerr.InvalidParameterValue, "requested length too large")
		}
		if int64(len(r)) >= n {
			return string(r[:n]), nil
		}
		f := []rune(fill.at(i))
		if len(f) == 0 {
			return string(r), nil
		}
		pad := make([]rune, 0, n-int64(len(r)))
		for int64(len(pad)) < n-int64(len(r)) {
			pad = append(pad, f[len(pad)%len(f)])
		}
		if left {
			return string(pad) + string(r), nil
		}
		return string(r) + string(pad), nil
	})
}

// splitPartKernel: split_part(s, delim, n), n 1-based, negative from the end.
func splitPartKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	s, _ := newStrArg(args[0])
	delim, _ := newStrArg(args[1])
	idx, err := newIntArg(args[2])
	if err != nil {
		return datum{}, err
	}
	return mapStrings(ev, args, dataSize(args[0]), func(i int) (string, error) {
		k := idx.at(i)
		if k == 0 {
			return "", sqlerr.New(sqlerr.InvalidParameterValue, "field position must not be zero")
		}
		var parts []string
		if d := delim.at(i); d == "" {
			parts = []string{s.at(i)}
		} else {
			parts = strings.Split(s.at(i), d)
		}
		if k < 0 {
			k = int64(len(parts)) + k + 1
		}
		if k < 1 || k > int64(len(parts)) {
			return "", nil
		}
		return parts[k-1], nil
	})
}

// dateTruncKernel: date_trunc(field, date|timestamp) keeps the input type.
func dateTruncKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	if !args[0].isScalar() {
		return datum{}, sqlerr.New(sqlerr.FeatureNotSupported, "date_trunc needs a constant field name")
	}
	field := strings.ToLower(args[0].val.(string))
	arr, err := ev.materialize(args[1])
	if err != nil {
		return datum{}, err
	}
	defer arr.Release()
	truncDays := func(d int64) (int64, error) {
		y, m, day := Civil(d)
		switch field {
		case "year":
			return DaysFromCivil(y, 1, 1), nil
		case "quarter":
			return DaysFromCivil(y, (m-1)/3*3+1, 1), nil
		case "month":
			return DaysFromCivil(y, m, 1), nil
		case "week":
			return d - (dow(d)+6)%7, nil // ISO weeks start on Monday
		case "day", "hour", "minute", "second":
			_ = day
			return d, nil
		case "decade":
			return DaysFromCivil(y-floorMod(y, 10), 1, 1), nil
		case "century":
			return DaysFromCivil((y-1)/100*100+1, 1, 1), nil
		}
		return 0, sqlerr.New(sqlerr.InvalidParameterValue, "unit %q not recognized by date_trunc", field)
	}
	n := ev.n
	switch a := arr.(type) {
	case *array.Date32:
		v := rawValues[int32](a)
		buf, out := newValues[int32](ev.mem, n)
		for i := range out {
			d, err := truncDays(int64(v[i]))
			if err != nil {
				buf.Release()
				return datum{}, err
			}
			out[i] = int32(d)
		}
		return datum{arr: makeArray(a.DataType(), n, andValidity(ev.mem, n, a), buf), t: a.DataType()}, nil
	case *array.Timestamp:
		v := rawValues[int64](a)
		buf, out := newValues[int64](ev.mem, n)
		for i := range out {
			d, us := splitTS(v[i])
			nd, err := truncDays(d)
			if err != nil {
				buf.Release()
				return datum{}, err
			}
			switch field {
			case "hour":
				us -= us % (3600 * usPerSec)
			case "minute":
				us -= us % (60 * usPerSec)
			case "second":
				us -= us % usPerSec
			default:
				us = 0
			}
			out[i] = nd*86400*usPerSec + us
		}
		return datum{arr: makeArray(a.DataType(), n, andValidity(ev.mem, n, a), buf), t: a.DataType()}, nil
	}
	return datum{}, unsupported("date_trunc", args[1].t)
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// greatestLeastKernel ignores NULLs (PostgreSQL): NULL only when all are.
func greatestLeastKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	args, done, err := materializeAll(ev, args)
	if err != nil {
		return datum{}, err
	}
	defer done()
	n := ev.n
	want := 1
	if c.Fn == physical.FnLeast {
		want = -1
	}
	b := array.NewBuilder(ev.mem, c.T)
	defer b.Release()
	b.Reserve(n)
	for i := 0; i < n; i++ {
		var best any
		for _, a := range args {
			v := ValueAt(a.arr, i)
			if v == nil {
				continue
			}
			if best == nil || Compare(v, best, c.T) == want {
				best = v
			}
		}
		if err := physical.AppendValue(b, best); err != nil {
			return datum{}, err
		}
	}
	return datum{arr: b.NewArray(), t: c.T}, nil
}
