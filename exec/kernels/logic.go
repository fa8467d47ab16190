package kernels

import (
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// truthBits returns, for a boolean datum over n rows, the aligned bitmaps of
// rows that are TRUE and rows that are FALSE (NULL rows are in neither).
func truthBits(d datum, n int) (tb, fb []byte) {
	nb := int(bitutil.BytesForBits(int64(n)))
	tb, fb = make([]byte, nb), make([]byte, nb)
	if d.arr == nil {
		if b, ok := d.val.(bool); ok {
			fill := tb
			if !b {
				fill = fb
			}
			for i := range fill {
				fill[i] = 0xff
			}
		}
		return tb, fb
	}
	vals, voff := boolBits(d.arr)
	bitutil.CopyBitmap(vals, voff, n, tb, 0)
	bitutil.InvertBitmap(vals, voff, n, fb, 0)
	if valid, off := validBits(d.arr); valid != nil {
		vb := make([]byte, nb)
		bitutil.CopyBitmap(valid, off, n, vb, 0)
		for i := range vb {
			tb[i] &= vb[i]
			fb[i] &= vb[i]
		}
	}
	return tb, fb
}

// kleene combines boolean datums with SQL three-valued AND (isAnd) or OR.
func kleene(ev *evaluator, isAnd bool, parts []datum) (datum, error) {
	n := ev.n
	var t, f []byte
	for i, p := range parts {
		pt, pf := truthBits(p, n)
		if i == 0 {
			t, f = pt, pf
			continue
		}
		mergeTruth(isAnd, t, f, pt, pf)
	}
	return boolResult(ev, n, t, f), nil
}

func andOrKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	if len(args) == 0 {
		return datum{}, sqlerr.New(sqlerr.InternalError, "%s without arguments", c.Fn)
	}
	isAnd := c.Fn == physical.FnAnd
	// A constant FALSE (AND) or TRUE (OR) decides every row.
	for _, a := range args {
		if b, ok := a.val.(bool); ok && a.arr == nil && b != isAnd {
			return scalar(b, physical.Boolean), nil
		}
	}
	return kleene(ev, isAnd, args)
}

// minSelectiveRows is the least rows for which AND and OR evaluate their
// arguments one by one (see andOr).
const minSelectiveRows = 256

// andOr evaluates AND (OR) argument by argument. Rows an argument makes
// FALSE (TRUE) are decided: the later arguments are not evaluated at all
// when every row is, and only on the undecided rows when those are at most
// a quarter (taking their columns costs less than computing the rest).
// So a selective first conjunct (l_shipmode IN (...)) spares the others
// most of the batch, as a row-at-a-time engine's short circuit would;
// rows decided early never raise the later arguments' errors either.
func (ev *evaluator) andOr(c *physical.Call) (datum, error) {
	isAnd := c.Fn == physical.FnAnd
	n := ev.n
	var t, f []byte // rows TRUE, rows FALSE so far
	for i, a := range c.Args {
		var pt, pf []byte
		if i == 0 {
			d, err := ev.eval(a)
			if err != nil {
				return datum{}, err
			}
			if b, ok := d.val.(bool); ok && d.arr == nil && b != isAnd {
				return scalar(b, physical.Boolean), nil
			}
			t, f = truthBits(d, n)
			d.release()
			continue
		}
		decided := f // FALSE rows for AND, TRUE rows for OR
		if !isAnd {
			decided = t
		}
		undecided := n - bitutil.CountSetBits(decided, 0, n)
		if undecided == 0 {
			break
		}
		if undecided*4 <= n {
			rows := make([]int32, 0, undecided)
			for bi, w := range decided {
				u := ^w
				if rest := n - bi*8; rest < 8 {
					u &= 1<<rest - 1
				}
				for ; u != 0; u &= u - 1 {
					rows = append(rows, int32(bi*8+bits.TrailingZeros8(u)))
				}
			}
			sub := ev.sub(rows)
			d, err := sub.eval(a)
			sub.close()
			if err != nil {
				return datum{}, err
			}
			st, sf := truthBits(d, len(rows))
			d.release()
			// Decided rows take neither bit: the combination below leaves
			// them as they are.
			pt, pf = make([]byte, len(t)), make([]byte, len(f))
			for j, r := range rows {
				pt[r>>3] |= (st[j>>3] >> (j & 7) & 1) << (r & 7)
				pf[r>>3] |= (sf[j>>3] >> (j & 7) & 1) << (r & 7)
			}
		} else {
			d, err := ev.eval(a)
			if err != nil {
				return datum{}, err
			}
			if b, ok := d.val.(bool); ok && d.arr == nil && b != isAnd {
				return scalar(b, physical.Boolean), nil
			}
			pt, pf = truthBits(d, n)
			d.release()
		}
		mergeTruth(isAnd, t, f, pt, pf)
	}
	return boolResult(ev, n, t, f), nil
}

// mergeTruth folds one argument's TRUE and FALSE bitmaps (pt, pf) into
// the result's (t, f) under three-valued AND (isAnd) or OR.
func mergeTruth(isAnd bool, t, f, pt, pf []byte) {
	for j := range t {
		if isAnd {
			t[j] &= pt[j]
			f[j] |= pf[j]
		} else {
			t[j] |= pt[j]
			f[j] &= pf[j]
		}
	}
}

// boolResult is the boolean datum of n rows TRUE in t and FALSE in f
// (NULL in neither).
func boolResult(ev *evaluator, n int, t, f []byte) datum {
	vbuf, valid := newBitmap(ev.mem, n)
	buf, out := newBitmap(ev.mem, n)
	copy(out, t)
	for j := range valid {
		valid[j] = t[j] | f[j]
	}
	if n == 0 || bitutil.CountSetBits(valid, 0, n) == n {
		vbuf.Release()
		vbuf = nil
	}
	return datum{arr: makeArray(physical.Boolean, n, vbuf, buf), t: physical.Boolean}
}

func notKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	if len(args) != 1 {
		return datum{}, sqlerr.New(sqlerr.InternalError, "not takes 1 argument")
	}
	arr, err := ev.materialize(args[0])
	if err != nil {
		return datum{}, err
	}
	defer arr.Release()
	n := ev.n
	vals, off := boolBits(arr)
	buf, out := newBitmap(ev.mem, n)
	bitutil.InvertBitmap(vals, off, n, out, 0)
	return datum{arr: makeArray(physical.Boolean, n, andValidity(ev.mem, n, arr), buf), t: physical.Boolean}, nil
}

func isKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	if len(args) != 1 {
		return datum{}, sqlerr.New(sqlerr.InternalError, "%s takes 1 argument", c.Fn)
	}
	n := ev.n
	a := args[0]
	buf, out := newBitmap(ev.mem, n)
	switch c.Fn {
	case physical.FnIsNull, physical.FnIsNotNull:
		if a.arr == nil {
			if a.val == nil {
				bitutil.SetBitsTo(out, 0, int64(n), true)
			}
		} else if valid, off := validBits(a.arr); valid != nil {
			bitutil.InvertBitmap(valid, off, n, out, 0)
		}
		if c.Fn == physical.FnIsNotNull {
			bitutil.InvertBitmap(out, 0, n, out, 0)
		}
	default:
		tb, fb := truthBits(a, n)
		switch c.Fn {
		case physical.FnIsTrue:
			copy(out, tb)
		case physical.FnIsFalse:
			copy(out, fb)
		case physical.FnIsNotTrue:
			bitutil.InvertBitmap(tb, 0, n, out, 0)
		case physical.FnIsNotFalse:
			bitutil.InvertBitmap(fb, 0, n, out, 0)
		}
	}
	return datum{arr: makeArray(physical.Boolean, n, nil, buf), t: physical.Boolean}, nil
}

func coalesceKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	n := ev.n
	// Drop arguments after the first one without NULLs; they are never read.
	end := len(args)
	for i, a := range args {
		if (a.arr == nil && a.val != nil) || (a.arr != nil && a.arr.NullN() == 0) {
			end = i + 1
			break
		}
	}
	parts := args[:end]
	for len(parts) > 0 && parts[0].isNull() {
		parts = parts[1:]
	}
	if len(parts) == 0 {
		return scalar(nil, c.T), nil
	}
	if len(parts) == 1 {
		if parts[0].arr != nil {
			parts[0].arr.Retain()
		}
		return parts[0], nil
	}
	which := make([]int32, n)
	pos := make([]int32, n)
	for i := 0; i < n; i++ {
		pos[i] = int32(i)
		which[i] = -1
		for j, p := range parts {
			if p.arr == nil {
				if p.val != nil {
					which[i] = int32(j)
					break
				}
				continue
			}
			if p.arr.IsValid(i) {
				which[i] = int32(j)
				break
			}
		}
	}
	arr, err := gather(ev.mem, c.T, n, parts, which, pos)
	if err != nil {
		return datum{}, err
	}
	return datum{arr: arr, t: c.T}, nil
}

func nullIfKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	if len(args) != 2 {
		return datum{}, sqlerr.New(sqlerr.InternalError, "nullif takes 2 arguments")
	}
	a, b := args[0], args[1]
	if a.isNull() {
		return scalar(nil, c.T), nil
	}
	if b.isNull() {
		if a.arr != nil {
			a.arr.Retain()
		}
		return a, nil
	}
	eq, err := compareDatums(ev, opEq, a, b)
	if err != nil {
		return datum{}, err
	}
	defer eq.Release()
	n := ev.n
	tb, _ := truthBits(datum{arr: eq, t: physical.Boolean}, n)
	which := make([]int32, n)
	pos := make([]int32, n)
	for i := range which {
		pos[i] = int32(i)
		if bitIsSet(tb, i) {
			which[i] = -1
		}
	}
	arr, err := gather(ev.mem, c.T, n, []datum{a}, which, pos)
	if err != nil {
		return datum{}, err
	}
	return datum{arr: arr, t: c.T}, nil
}
