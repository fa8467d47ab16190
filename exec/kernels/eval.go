// Package kernels evaluates physical scalar expressions over Arrow record
// batches, column at a time.
package kernels

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// Eval evaluates e over rec and returns an array of rec.NumRows() values of
// type e.Type(). The caller releases the result.
func Eval(mem memory.Allocator, e physical.Expr, rec arrow.Record) (arrow.Array, error) {
	ev := &evaluator{mem: mem, n: int(rec.NumRows()), cols: rec.Columns()}
	defer ev.close()
	d, err := ev.eval(e)
	if err != nil {
		return nil, err
	}
	return ev.result(d, e.Type())
}

// EvalConst evaluates an expression without column references (constant
// folding) and returns its value in Literal.Value form (nil for NULL).
func EvalConst(e physical.Expr) (any, error) {
	ev := &evaluator{mem: memory.DefaultAllocator, n: 1, folding: true}
	defer ev.close()
	d, err := ev.eval(e)
	if err != nil {
		return nil, err
	}
	if d.arr == nil {
		return normalize(d.val, e.Type()), nil
	}
	defer d.arr.Release()
	return ValueAt(d.arr, 0), nil
}

// datum is an intermediate result: an array of ev.n values, or a scalar
// (arr == nil) standing for ev.n copies of val (nil for NULL).
type datum struct {
	arr arrow.Array
	val any
	t   arrow.DataType
}

func scalar(v any, t arrow.DataType) datum { return datum{val: v, t: t} }

func (d datum) isScalar() bool { return d.arr == nil }
func (d datum) isNull() bool   { return d.arr == nil && d.val == nil }

func (d datum) release() {
	if d.arr != nil {
		d.arr.Release()
	}
}

// evaluator evaluates expressions over n rows. When sel is set, the rows are
// sel's rows of cols (CASE branches run on the rows that chose them).
type evaluator struct {
	mem   memory.Allocator
	n     int
	cols  []arrow.Array
	sel   []int32
	taken map[int]arrow.Array
	// folding is set by EvalConst: volatile functions refuse to run.
	folding bool
}

func (ev *evaluator) close() {
	for _, a := range ev.taken {
		a.Release()
	}
	ev.taken = nil
}

// sub returns an evaluator over rows sel (positions in ev's rows).
func (ev *evaluator) sub(sel []int32) *evaluator {
	if ev.sel != nil {
		abs := make([]int32, len(sel))
		for i, r := range sel {
			abs[i] = ev.sel[r]
		}
		sel = abs
	}
	return &evaluator{mem: ev.mem, n: len(sel), cols: ev.cols, sel: sel, folding: ev.folding}
}

func (ev *evaluator) col(i int) (arrow.Array, error) {
	if i < 0 || i >= len(ev.cols) {
		return nil, sqlerr.New(sqlerr.InternalError, "column #%d out of range (%d columns)", i, len(ev.cols))
	}
	if ev.sel == nil {
		c := ev.cols[i]
		c.Retain()
		return c, nil
	}
	if a, ok := ev.taken[i]; ok {
		a.Retain()
		return a, nil
	}
	a, err := take(ev.mem, ev.cols[i], ev.sel)
	if err != nil {
		return nil, err
	}
	if ev.taken == nil {
		ev.taken = map[int]arrow.Array{}
	}
	ev.taken[i] = a
	a.Retain()
	return a, nil
}

// materialize returns d as an array of ev.n values (a new reference).
func (ev *evaluator) materialize(d datum) (arrow.Array, error) {
	if d.arr != nil {
		d.arr.Retain()
		return d.arr, nil
	}
	return MakeArray(ev.mem, d.val, d.t, ev.n)
}

// result turns d into the final array of type t, consuming d.
func (ev *evaluator) result(d datum, t arrow.DataType) (arrow.Array, error) {
	if d.arr == nil {
		return MakeArray(ev.mem, d.val, t, ev.n)
	}
	if kindOf(d.arr.DataType()) == kNull && kindOf(t) != kNull {
		d.arr.Release()
		return nullArray(ev.mem, t, ev.n), nil
	}
	if !arrow.TypeEqual(d.arr.DataType(), t) && kindOf(t) != kNull {
		// A kernel produced a neighbouring type (say a planner asked length
		// for BIGINT): honour the contract rather than hand out a surprise.
		defer d.arr.Release()
		r, err := castArray(ev, d, t)
		if err != nil {
			return nil, err
		}
		return ev.result(r, t)
	}
	return d.arr, nil
}

func (ev *evaluator) eval(e physical.Expr) (datum, error) {
	switch e := e.(type) {
	case *physical.ColRef:
		a, err := ev.col(e.Index)
		if err != nil {
			return datum{}, err
		}
		if kindOf(a.DataType()) == kNull {
			a.Release()
			return scalar(nil, e.T), nil
		}
		return datum{arr: a, t: a.DataType()}, nil
	case *physical.Literal:
		return scalar(normalize(e.Value, e.T), e.T), nil
	case *physical.Call:
		return ev.call(e)
	case *physical.Case:
		return ev.evalCase(e)
	case nil:
		return datum{}, sqlerr.New(sqlerr.InternalError, "nil expression")
	}
	return datum{}, sqlerr.New(sqlerr.FeatureNotSupported, "expression %s (%T) not supported", e, e)
}

// kernel computes a call over evaluated args. It must not release args; it
// returns a new datum (retaining an arg if it returns it).
type kernel func(ev *evaluator, c *physical.Call, args []datum) (datum, error)

// strict functions return NULL when any argument is NULL.
var strict = map[string]bool{
	physical.FnAdd: true, physical.FnSub: true, physical.FnMul: true, physical.FnDiv: true,
	physical.FnMod: true, physical.FnNeg: true, physical.FnAbs: true, physical.FnRound: true,
	physical.FnFloor: true, physical.FnCeil: true, physical.FnSqrt: true, physical.FnCbrt: true,
	physical.FnExp: true, physical.FnLn: true, physical.FnLog10: true, physical.FnSign: true,
	physical.FnPower: true, physical.FnToChar: true,
	physical.FnEq: true, physical.FnNe: true, physical.FnLt: true, physical.FnLe: true,
	physical.FnGt: true, physical.FnGe: true, physical.FnNot: true,
	physical.FnLike: true, physical.FnILike: true, physical.FnRegexpLike: true,
	physical.FnCast: true, physical.FnExtract: true, physical.FnSubstring: true,
	physical.FnUpper: true, physical.FnLower: true, physical.FnTrim: true, physical.FnLTrim: true,
	physical.FnRTrim: true, physical.FnLength: true, physical.FnConcatOp: true,
}

var kernelTable map[string]kernel

func init() {
	kernelTable = map[string]kernel{
		physical.FnAdd: arithKernel, physical.FnSub: arithKernel, physical.FnMul: arithKernel,
		physical.FnDiv: arithKernel, physical.FnMod: arithKernel,
		physical.FnNeg: negAbsKernel, physical.FnAbs: negAbsKernel, physical.FnRound: roundKernel,
		physical.FnFloor: mathKernel, physical.FnCeil: mathKernel, physical.FnSqrt: mathKernel,
		physical.FnCbrt: mathKernel, physical.FnExp: mathKernel, physical.FnLn: mathKernel,
		physical.FnLog10: mathKernel, physical.FnSign: mathKernel, physical.FnPower: mathKernel,
		physical.FnToChar: toCharKernel,
		physical.FnEq:     compareKernel, physical.FnNe: compareKernel, physical.FnLt: compareKernel,
		physical.FnLe: compareKernel, physical.FnGt: compareKernel, physical.FnGe: compareKernel,
		physical.FnAnd: andOrKernel, physical.FnOr: andOrKernel, physical.FnNot: notKernel,
		physical.FnIsNull: isKernel, physical.FnIsNotNull: isKernel, physical.FnIsTrue: isKernel,
		physical.FnIsFalse: isKernel, physical.FnIsNotTrue: isKernel, physical.FnIsNotFalse: isKernel,
		physical.FnIn:       inKernel,
		physical.FnLike:     likeKernel,
		physical.FnILike:    likeKernel,
		physical.FnCoalesce: coalesceKernel, physical.FnNullIf: nullIfKernel,
		physical.FnRegexpLike: regexpKernel,
		physical.FnCast:       castKernel,
		physical.FnExtract:    extractKernel,
		physical.FnSubstring:  substringKernel,
		physical.FnUpper:      caseKernel, physical.FnLower: caseKernel,
		physical.FnTrim: trimKernel, physical.FnLTrim: trimKernel, physical.FnRTrim: trimKernel,
		physical.FnLength: lengthKernel,
		physical.FnConcat: concatKernel, physical.FnConcatOp: concatKernel,
	}
	registerMore(kernelTable)
	registerPg(kernelTable)
	registerScalarFuncs(kernelTable)
	registerFormatFuncs(kernelTable)
}

func releaseAll(ds []datum) {
	for _, d := range ds {
		d.release()
	}
}

func (ev *evaluator) call(c *physical.Call) (datum, error) {
	if (c.Fn == physical.FnAnd || c.Fn == physical.FnOr) && len(c.Args) > 1 && ev.n >= minSelectiveRows {
		return ev.andOr(c)
	}
	k, ok := kernelTable[c.Fn]
	if !ok {
		return datum{}, sqlerr.New(sqlerr.FeatureNotSupported, "function %s is not supported", c.Fn)
	}
	args := make([]datum, 0, len(c.Args))
	defer func() { releaseAll(args) }()
	allScalar := true
	for _, a := range c.Args {
		d, err := ev.eval(a)
		if err != nil {
			return datum{}, err
		}
		args = append(args, d)
		if d.isNull() && strict[c.Fn] {
			return scalar(nil, c.T), nil
		}
		allScalar = allScalar && d.isScalar()
	}
	if !allScalar || volatile[c.Fn] || ev.n == 1 && ev.sel == nil && len(ev.cols) == 0 {
		return k(ev, c, args)
	}
	// Constant folding: run the kernel over one row.
	one := &evaluator{mem: ev.mem, n: 1, folding: ev.folding}
	d, err := k(one, c, args)
	if err != nil {
		return datum{}, err
	}
	if d.arr == nil {
		return d, nil
	}
	defer d.arr.Release()
	return scalar(ValueAt(d.arr, 0), c.T), nil
}

// caseWhenMask reports, per row, whether a WHEN result is TRUE (not FALSE
// or NULL).
func caseWhenMask(d datum) (truth func(i int) bool) {
	if d.arr == nil {
		b, _ := d.val.(bool)
		return func(int) bool { return b }
	}
	vals, voff := boolBits(d.arr)
	valid, off := validBits(d.arr)
	return func(i int) bool {
		return isValid(valid, off, i) && bitIsSet(vals, voff+i)
	}
}

// evalCase evaluates each WHEN on the rows not yet decided and each THEN only
// on the rows that chose it, so a THEN never fails on rows it does not
// produce.
func (ev *evaluator) evalCase(c *physical.Case) (datum, error) {
	n := ev.n
	which := make([]int32, n) // branch per row; len(Whens) is ELSE
	for i := range which {
		which[i] = -1
	}
	var rem []int32 // rows undecided; nil = all
	parts := make([]datum, 0, len(c.Thens)+1)
	defer func() { releaseAll(parts) }()
	remaining := n
	for wi, w := range c.Whens {
		if remaining == 0 {
			break
		}
		sub := ev
		if rem != nil {
			sub = ev.sub(rem)
		}
		d, err := sub.eval(w)
		if sub != ev {
			defer sub.close()
		}
		if err != nil {
			return datum{}, err
		}
		truth := caseWhenMask(d)
		var next []int32
		for j := 0; j < sub.n; j++ {
			r := int32(j)
			if rem != nil {
				r = rem[j]
			}
			if truth(j) {
				which[r] = int32(wi)
			} else {
				next = append(next, r)
			}
		}
		d.release()
		remaining = len(next)
		if next == nil {
			next = []int32{}
		}
		rem = next
	}
	for i := range which {
		if which[i] < 0 {
			which[i] = int32(len(c.Whens))
		}
	}
	// Rows per branch and their position within the branch.
	counts := make([]int, len(c.Whens)+1)
	pos := make([]int32, n)
	for i, b := range which {
		pos[i] = int32(counts[b])
		counts[b]++
	}
	for bi := 0; bi <= len(c.Whens); bi++ {
		var e physical.Expr
		if bi < len(c.Whens) {
			e = c.Thens[bi]
		} else {
			e = c.Else
		}
		if counts[bi] == 0 || e == nil {
			parts = append(parts, scalar(nil, c.T))
			continue
		}
		if counts[bi] == n {
			d, err := ev.eval(e)
			if err != nil {
				return datum{}, err
			}
			return d, nil
		}
		rows := make([]int32, 0, counts[bi])
		for i, b := range which {
			if int(b) == bi {
				rows = append(rows, int32(i))
			}
		}
		sub := ev.sub(rows)
		d, err := sub.eval(e)
		sub.close()
		if err != nil {
			return datum{}, err
		}
		parts = append(parts, d)
	}
	arr, err := gather(ev.mem, c.T, n, parts, which, pos)
	if err != nil {
		return datum{}, err
	}
	return datum{arr: arr, t: c.T}, nil
}
