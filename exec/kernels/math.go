package kernels

import (
	"math"

	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// mathKernel computes the DOUBLE PRECISION functions (floor, ceil, sqrt,
// cbrt, exp, ln, log10, sign: one argument; power: two). The planner casts
// arguments to DOUBLE. Domain errors are PostgreSQL's.
func mathKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	want := 1
	if c.Fn == physical.FnPower {
		want = 2
	}
	if len(args) != want {
		return datum{}, sqlerr.New(sqlerr.InternalError, "%s takes %d arguments", c.Fn, want)
	}
	arrs := make([]interface{ Release() }, 0, 2)
	defer func() {
		for _, a := range arrs {
			a.Release()
		}
	}()
	a, err := ev.materialize(args[0])
	if err != nil {
		return datum{}, err
	}
	arrs = append(arrs, a)
	if kindOf(args[0].t) != kFloat64 {
		return datum{}, unsupported(c.Fn, args[0].t)
	}
	n := ev.n
	x := rawValues[float64](a)
	var y []float64
	validity := andValidity(ev.mem, n, a)
	if want == 2 {
		b, err := ev.materialize(args[1])
		if err != nil {
			if validity != nil {
				validity.Release()
			}
			return datum{}, err
		}
		arrs = append(arrs, b)
		if kindOf(args[1].t) != kFloat64 {
			if validity != nil {
				validity.Release()
			}
			return datum{}, unsupported(c.Fn, args[1].t)
		}
		y = rawValues[float64](b)
		if validity != nil {
			validity.Release()
		}
		validity = andValidity(ev.mem, n, a, b)
	}
	buf, out := newValues[float64](ev.mem, n)
	valid := func(i int) bool { return validity == nil || bitIsSet(validity.Bytes(), i) }
	fail := func(code, msg string) (datum, error) {
		buf.Release()
		if validity != nil {
			validity.Release()
		}
		return datum{}, sqlerr.New(code, "%s", msg)
	}
	for i := range out {
		v := x[i]
		switch c.Fn {
		case physical.FnFloor:
			out[i] = math.Floor(v)
		case physical.FnCeil:
			out[i] = math.Ceil(v)
		case physical.FnSqrt:
			if v < 0 && valid(i) {
				return fail(codeInvalidPower, "cannot take square root of a negative number")
			}
			out[i] = math.Sqrt(v)
		case physical.FnCbrt:
			out[i] = math.Cbrt(v)
		case physical.FnExp:
			out[i] = math.Exp(v)
		case physical.FnLn, physical.FnLog10:
			if v <= 0 && valid(i) {
				if v == 0 {
					return fail(codeInvalidLog, "cannot take logarithm of zero")
				}
				return fail(codeInvalidLog, "cannot take logarithm of a negative number")
			}
			if c.Fn == physical.FnLn {
				out[i] = math.Log(v)
			} else {
				out[i] = math.Log10(v)
			}
		case physical.FnSign:
			switch {
			case v > 0:
				out[i] = 1
			case v < 0:
				out[i] = -1
			default:
				out[i] = 0
			}
		case physical.FnPower:
			w := y[i]
			if valid(i) && v == 0 && w < 0 {
				return fail(codeInvalidPower, "zero raised to a negative power is undefined")
			}
			if valid(i) && v < 0 && w != math.Trunc(w) {
				return fail(codeInvalidPower, "a negative number raised to a non-integer power yields a complex result")
			}
			out[i] = math.Pow(v, w)
		}
	}
	return datum{arr: makeArray(c.T, n, validity, buf), t: c.T}, nil
}

// PostgreSQL's codes for math domain errors.
const (
	codeInvalidPower = "2201F"
	codeInvalidLog   = "2201E"
)
