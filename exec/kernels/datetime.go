package kernels

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

const (
	usPerSec = 1_000_000
	usPerDay = 86400 * usPerSec
)

// Civil converts days since 1970-01-01 to a proleptic Gregorian date
// (Howard Hinnant's algorithm; year 0 is 1 BC). The front doors use it to
// write dates in the protocols' text forms.
func Civil(days int64) (y int64, m, d int) {
	z := days + 719468
	era := z
	if z < 0 {
		era = z - 146096
	}
	era /= 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		m = int(mp + 3)
	} else {
		m = int(mp - 9)
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// DaysFromCivil is the inverse of Civil.
func DaysFromCivil(y int64, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y
	if y < 0 {
		era = y - 399
	}
	era /= 400
	yoe := y - era*400
	mm := int64(m)
	if m > 2 {
		mm -= 3
	} else {
		mm += 9
	}
	doy := (153*mm+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func isLeap(y int64) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysInMonth(y int64, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// addMonths adds months to a day number, clamping the day of month to the
// end of the target month (Jan 31 + 1 month = Feb 28/29).
func addMonths(days int64, months int32) int64 {
	if months == 0 {
		return days
	}
	y, m, d := Civil(days)
	total := y*12 + int64(m-1) + int64(months)
	ny := floorDiv(total, 12)
	nm := int(total-ny*12) + 1
	d = min(d, daysInMonth(ny, nm))
	return DaysFromCivil(ny, nm, d)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// splitTS splits microseconds since the epoch into days and microseconds of
// the day.
func splitTS(ts int64) (days, us int64) {
	days = floorDiv(ts, usPerDay)
	return days, ts - days*usPerDay
}

// dateArith handles add/sub on dates, timestamps and intervals.
func dateArith(ev *evaluator, c *physical.Call, a, b datum) (datum, error) {
	ka, kb := kindOf(a.t), kindOf(b.t)
	sub := c.Fn == physical.FnSub
	if c.Fn != physical.FnAdd && !sub {
		return datum{}, sqlerr.New(sqlerr.FeatureNotSupported, "%s(%s, %s) is not supported", c.Fn, physical.TypeName(a.t), physical.TypeName(b.t))
	}
	if !sub && ka == kInterval && kb != kInterval {
		a, b, ka, kb = b, a, kb, ka
	}
	n := ev.n
	validity := andValidity(ev.mem, n, a.arr, b.arr)
	fail := func(err error) (datum, error) {
		if validity != nil {
			validity.Release()
		}
		return datum{}, err
	}
	switch {
	case ka == kDate && kb == kDate && sub:
		av, am := operand(a, convI32)
		bv, bm := operand(b, convI32)
		buf, out := newValues[int32](ev.mem, n)
		for i := range out {
			out[i] = av[i&am] - bv[i&bm]
		}
		return datum{arr: makeArray(physical.Int32, n, validity, buf), t: physical.Int32}, nil
	case ka == kDate && (kb == kInt32 || kb == kInt64):
		av, am := operand(a, convI32)
		bv, err := newIntArg(b)
		if err != nil {
			return fail(err)
		}
		buf, out := newValues[int32](ev.mem, n)
		for i := range out {
			d := bv.at(i)
			if sub {
				d = -d
			}
			out[i] = av[i&am] + int32(d)
		}
		return datum{arr: makeArray(physical.Date, n, validity, buf), t: physical.Date}, nil
	case ka == kTimestamp && kb == kTimestamp && sub:
		av, am := operand(a, convI64)
		bv, bm := operand(b, convI64)
		buf, out := newValues[arrow.MonthDayNanoInterval](ev.mem, n)
		for i := range out {
			d := av[i&am] - bv[i&bm]
			days := d / usPerDay
			out[i] = arrow.MonthDayNanoInterval{Days: int32(days), Nanoseconds: (d - days*usPerDay) * 1000}
		}
		return datum{arr: makeArray(physical.Interval, n, validity, buf), t: physical.Interval}, nil
	case (ka == kDate || ka == kTimestamp) && kb == kInterval:
		iv, im := intervalOperand(b)
		toDate := kindOf(c.T) == kDate
		var days func(i int) int64
		var tod func(i int) int64
		if ka == kDate {
			av, am := operand(a, convI32)
			days = func(i int) int64 { return int64(av[i&am]) }
			tod = func(int) int64 { return 0 }
		} else {
			av, am := operand(a, convI64)
			days = func(i int) int64 { d, _ := splitTS(av[i&am]); return d }
			tod = func(i int) int64 { _, u := splitTS(av[i&am]); return u }
		}
		calc := func(i int) int64 { // microseconds since the epoch
			v := iv[i&im]
			if sub {
				v = arrow.MonthDayNanoInterval{Months: -v.Months, Days: -v.Days, Nanoseconds: -v.Nanoseconds}
			}
			d := addMonths(days(i), v.Months) + int64(v.Days)
			return d*usPerDay + tod(i) + v.Nanoseconds/1000
		}
		if toDate {
			buf, out := newValues[int32](ev.mem, n)
			for i := range out {
				out[i] = int32(floorDiv(calc(i), usPerDay))
			}
			return datum{arr: makeArray(c.T, n, validity, buf), t: c.T}, nil
		}
		t := c.T
		if kindOf(t) != kTimestamp {
			t = physical.Timestamp
		}
		buf, out := newValues[int64](ev.mem, n)
		for i := range out {
			out[i] = calc(i)
		}
		return datum{arr: makeArray(t, n, validity, buf), t: t}, nil
	}
	return fail(sqlerr.New(sqlerr.FeatureNotSupported, "%s(%s, %s) is not supported", c.Fn, physical.TypeName(a.t), physical.TypeName(b.t)))
}

// extractKernel: extract(field, date|timestamp) → int64.
func extractKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	if len(args) != 2 || !args[0].isScalar() {
		return datum{}, sqlerr.New(sqlerr.FeatureNotSupported, "extract needs a constant field name")
	}
	field := strings.ToLower(args[0].val.(string))
	arr, err := ev.materialize(args[1])
	if err != nil {
		return datum{}, err
	}
	defer arr.Release()
	n := ev.n
	var days func(i int) int64
	us := func(int) int64 { return 0 }
	switch a := arr.(type) {
	case *array.Date32:
		v := rawValues[int32](a)
		days = func(i int) int64 { return int64(v[i]) }
	case *array.Timestamp:
		v := rawValues[int64](a)
		days = func(i int) int64 { d, _ := splitTS(v[i]); return d }
		us = func(i int) int64 { _, u := splitTS(v[i]); return u }
	case *array.MonthDayNanoInterval:
		return extractInterval(ev, field, a)
	default:
		return datum{}, unsupported("extract", args[1].t)
	}
	var f func(i int) int64
	switch field {
	case "year":
		f = func(i int) int64 { y, _, _ := Civil(days(i)); return y }
	case "quarter":
		f = func(i int) int64 { _, m, _ := Civil(days(i)); return int64((m-1)/3 + 1) }
	case "month":
		f = func(i int) int64 { _, m, _ := Civil(days(i)); return int64(m) }
	case "day":
		f = func(i int) int64 { _, _, d := Civil(days(i)); return int64(d) }
	case "hour":
		f = func(i int) int64 { return us(i) / (3600 * usPerSec) }
	case "minute":
		f = func(i int) int64 { return us(i) / (60 * usPerSec) % 60 }
	case "second":
		f = func(i int) int64 { return us(i) / usPerSec % 60 }
	case "millisecond", "milliseconds":
		f = func(i int) int64 { return us(i) % (60 * usPerSec) / 1000 }
	case "microsecond", "microseconds":
		f = func(i int) int64 { return us(i) % (60 * usPerSec) }
	case "dow":
		f = func(i int) int64 { return dow(days(i)) }
	case "isodow":
		f = func(i int) int64 {
			if d := dow(days(i)); d != 0 {
				return d
			}
			return 7
		}
	case "doy":
		f = func(i int) int64 { d := days(i); y, _, _ := Civil(d); return d - DaysFromCivil(y, 1, 1) + 1 }
	case "week":
		f = func(i int) int64 { _, w := isoWeek(days(i)); return w }
	case "isoyear":
		f = func(i int) int64 { y, _ := isoWeek(days(i)); return y }
	case "epoch":
		f = func(i int) int64 { return floorDiv(days(i)*usPerDay+us(i), usPerSec) }
	case "decade":
		f = func(i int) int64 { y, _, _ := Civil(days(i)); return floorDiv(y, 10) }
	case "century":
		f = func(i int) int64 {
			y, _, _ := Civil(days(i))
			if y > 0 {
				return (y + 99) / 100
			}
			return -((99 - (y - 1)) / 100)
		}
	default:
		return datum{}, sqlerr.New(sqlerr.InvalidParameterValue, "unit %q not recognized for type %s", field, physical.TypeName(args[1].t))
	}
	buf, out := newValues[int64](ev.mem, n)
	for i := range out {
		out[i] = f(i)
	}
	return datum{arr: makeArray(physical.Int64, n, andValidity(ev.mem, n, arr), buf), t: physical.Int64}, nil
}

// dow is the day of week, 0 = Sunday (1970-01-01 was a Thursday).
func dow(days int64) int64 {
	d := (days + 4) % 7
	if d < 0 {
		d += 7
	}
	return d
}

// isoWeek returns the ISO 8601 week-numbering year and week of a day.
func isoWeek(days int64) (year, week int64) {
	wd := dow(days)
	if wd == 0 {
		wd = 7
	}
	// The Thursday of this week decides the year.
	thu := days - wd + 4
	y, _, _ := Civil(thu)
	return y, (thu-DaysFromCivil(y, 1, 1))/7 + 1
}
