package kernels

import (
	"math"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// Interval arithmetic with PostgreSQL's semantics: the months, days and
// time of an interval are kept apart (a month is not a fixed number of
// days), sums and differences work field by field, and a product or
// quotient with a non-integral factor cascades the fraction of the months
// into days (30 per month) and of the days into time (24 hours per day),
// never upwards.

const (
	daysPerMonth = 30
	secsPerDay   = 86400
)

// isIntervalArith reports whether add/sub/mul/div over kinds ka, kb is
// interval arithmetic (not date or timestamp arithmetic).
func isIntervalArith(fn string, ka, kb kind) bool {
	switch fn {
	case physical.FnAdd, physical.FnSub:
		return ka == kInterval && kb == kInterval
	case physical.FnMul:
		return ka == kInterval || kb == kInterval
	case physical.FnDiv:
		return ka == kInterval
	}
	return false
}

func intervalOperand(d datum) ([]arrow.MonthDayNanoInterval, int) {
	return operand(d, func(v any) arrow.MonthDayNanoInterval { return v.(arrow.MonthDayNanoInterval) })
}

// intervalArith computes interval ± interval, interval × number,
// number × interval and interval ÷ number. An integer factor multiplies
// each field exactly; a DOUBLE one follows PostgreSQL's interval_mul.
func intervalArith(ev *evaluator, c *physical.Call, a, b datum) (datum, error) {
	if c.Fn == physical.FnMul && kindOf(a.t) != kInterval {
		a, b = b, a
	}
	n := ev.n
	iv, im := intervalOperand(a)
	validity := andValidity(ev.mem, n, a.arr, b.arr)
	valid := func(i int) bool { return validity == nil || bitIsSet(validity.Bytes(), i) }
	buf, out := newValues[arrow.MonthDayNanoInterval](ev.mem, n)
	fail := func(err error) (datum, error) {
		buf.Release()
		if validity != nil {
			validity.Release()
		}
		return datum{}, err
	}
	overflow := sqlerr.New(sqlerr.DatetimeOverflow, "interval out of range")
	switch {
	case c.Fn == physical.FnAdd || c.Fn == physical.FnSub:
		jv, jm := intervalOperand(b)
		sign := int64(1)
		if c.Fn == physical.FnSub {
			sign = -1
		}
		for i := range out {
			x, y := iv[i&im], jv[i&jm]
			m := int64(x.Months) + sign*int64(y.Months)
			d := int64(x.Days) + sign*int64(y.Days)
			ns, ok := addInt64(x.Nanoseconds, sign*y.Nanoseconds)
			if (m != int64(int32(m)) || d != int64(int32(d)) || !ok) && valid(i) {
				return fail(overflow)
			}
			out[i] = arrow.MonthDayNanoInterval{Months: int32(m), Days: int32(d), Nanoseconds: ns}
		}
	case kindOf(b.t) == kInt32 || kindOf(b.t) == kInt64:
		if c.Fn == physical.FnDiv {
			return fail(sqlerr.New(sqlerr.InternalError, "interval division by an integer is planned as DOUBLE"))
		}
		f, err := newIntArg(b)
		if err != nil {
			return fail(err)
		}
		for i := range out {
			x, k := iv[i&im], f.at(i)
			m, d := int64(x.Months)*k, int64(x.Days)*k
			ns := x.Nanoseconds * k
			bad := m != int64(int32(m)) || d != int64(int32(d)) ||
				(k != 0 && (ns/k != x.Nanoseconds || (k == -1 && x.Nanoseconds == math.MinInt64)))
			if bad && valid(i) {
				return fail(overflow)
			}
			out[i] = arrow.MonthDayNanoInterval{Months: int32(m), Days: int32(d), Nanoseconds: ns}
		}
	case kindOf(b.t) == kFloat64:
		fv, fm := operand(b, convF64)
		for i := range out {
			f := fv[i&fm]
			if c.Fn == physical.FnDiv {
				if f == 0 {
					if valid(i) {
						return fail(sqlerr.New(sqlerr.DivisionByZero, "division by zero"))
					}
					continue
				}
				f = 1 / f
			}
			r, ok := scaleInterval(iv[i&im], f)
			if !ok && valid(i) {
				return fail(overflow)
			}
			out[i] = r
		}
	default:
		return fail(unsupported(c.Fn+" with an interval", b.t))
	}
	return datum{arr: makeArray(physical.Interval, n, validity, buf), t: physical.Interval}, nil
}

// scaleInterval is PostgreSQL's interval_mul: whole months and days stay,
// their fractions cascade down to days and time.
func scaleInterval(x arrow.MonthDayNanoInterval, f float64) (arrow.MonthDayNanoInterval, bool) {
	tsRound := func(v float64) float64 { return math.RoundToEven(v*1e6) / 1e6 }
	mf := float64(x.Months) * f
	df := float64(x.Days) * f
	if math.IsNaN(mf) || math.IsNaN(df) || math.Abs(mf) > math.MaxInt32 || math.Abs(df) > math.MaxInt32 {
		return arrow.MonthDayNanoInterval{}, false
	}
	months, days := int32(mf), int32(df)
	monthRemDays := tsRound((mf - float64(months)) * daysPerMonth)
	secRem := tsRound((df - float64(days) + monthRemDays - math.Trunc(monthRemDays)) * secsPerDay)
	if math.Abs(secRem) >= secsPerDay {
		whole := math.Trunc(secRem / secsPerDay)
		days += int32(whole)
		secRem -= whole * secsPerDay
	}
	days += int32(monthRemDays)
	us := math.RoundToEven(float64(x.Nanoseconds)/1000*f + secRem*1e6)
	if math.IsNaN(us) || math.Abs(us) >= math.MaxInt64/1000 {
		return arrow.MonthDayNanoInterval{}, false
	}
	return arrow.MonthDayNanoInterval{Months: months, Days: days, Nanoseconds: int64(us) * 1000}, true
}

func addInt64(a, b int64) (int64, bool) {
	r := a + b
	return r, (a^r)&(b^r) >= 0
}

// extractInterval is EXTRACT(field FROM interval) as PostgreSQL defines it
// for intervals: years and months from the months, days as stored, the
// clock fields from the time; epoch counts a year as 365.25 days and a
// month as 30.
func extractInterval(ev *evaluator, field string, arr arrow.Array) (datum, error) {
	iv := arr.(*array.MonthDayNanoInterval)
	us := func(x arrow.MonthDayNanoInterval) int64 { return x.Nanoseconds / 1000 }
	var f func(x arrow.MonthDayNanoInterval) int64
	switch strings.ToLower(field) {
	case "millennium", "millenniums":
		f = func(x arrow.MonthDayNanoInterval) int64 { return int64(x.Months / 12 / 1000) }
	case "century", "centuries":
		f = func(x arrow.MonthDayNanoInterval) int64 { return int64(x.Months / 12 / 100) }
	case "decade", "decades":
		f = func(x arrow.MonthDayNanoInterval) int64 { return int64(x.Months / 12 / 10) }
	case "year", "years":
		f = func(x arrow.MonthDayNanoInterval) int64 { return int64(x.Months / 12) }
	case "quarter":
		f = func(x arrow.MonthDayNanoInterval) int64 { return int64(x.Months%12/3 + 1) }
	case "month", "months":
		f = func(x arrow.MonthDayNanoInterval) int64 { return int64(x.Months % 12) }
	case "day", "days":
		f = func(x arrow.MonthDayNanoInterval) int64 { return int64(x.Days) }
	case "hour", "hours":
		f = func(x arrow.MonthDayNanoInterval) int64 { return us(x) / (3600 * usPerSec) }
	case "minute", "minutes":
		f = func(x arrow.MonthDayNanoInterval) int64 { return us(x) / (60 * usPerSec) % 60 }
	case "second", "seconds":
		f = func(x arrow.MonthDayNanoInterval) int64 { return us(x) / usPerSec % 60 }
	case "millisecond", "milliseconds":
		f = func(x arrow.MonthDayNanoInterval) int64 { return us(x) % (60 * usPerSec) / 1000 }
	case "microsecond", "microseconds":
		f = func(x arrow.MonthDayNanoInterval) int64 { return us(x) % (60 * usPerSec) }
	case "epoch":
		f = func(x arrow.MonthDayNanoInterval) int64 {
			secs := float64(x.Months/12)*365.25*secsPerDay + float64(x.Months%12)*daysPerMonth*secsPerDay +
				float64(x.Days)*secsPerDay + float64(us(x))/usPerSec
			return int64(math.Floor(secs))
		}
	default:
		return datum{}, sqlerr.New(sqlerr.InvalidParameterValue, "unit %q not recognized for type INTERVAL", field)
	}
	n := ev.n
	buf, out := newValues[int64](ev.mem, n)
	for i := range out {
		out[i] = f(iv.Value(i))
	}
	return datum{arr: makeArray(physical.Int64, n, andValidity(ev.mem, n, arr), buf), t: physical.Int64}, nil
}
