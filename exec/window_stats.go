package exec

import (
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// Window variance, standard deviation and the two-argument statistics
// (corr, covar_*, regr_*) keep moments that merge exactly in the algebra
// (Chan et al.'s formula) but cannot give a value back: subtracting it
// again leaves its rounding residue in the running state, and a frame
// that slides over a million rows would drift. momQueue holds the frame's
// values so that none is ever taken out of a sum.

// mergeable is the state of a set of values: merge returns the state of
// the union (a's values before b's); the zero value is the empty set.
type mergeable[S any] interface {
	merge(b S) S
}

// momQueue is the frame as a queue of values with the state of all of
// them at hand: the two-stack sliding window aggregation. Values enter at
// the back, where one running state covers them all; values leave from
// the front, a stack of suffix states (the top covers the whole front)
// made from the back when it runs dry. Each value is merged a constant
// number of times however the frame moves; a frame that only grows never
// builds the front at all.
type momQueue[S mergeable[S]] struct {
	leaf  func(j int32) S // the state of the value at position j
	front []S             // front[len-1] covers the front, the oldest value first out
	back  []int32         // positions of the values, oldest first
	all   S               // covers back
}

func (q *momQueue[S]) reset() {
	var zero S
	q.front, q.back, q.all = q.front[:0], q.back[:0], zero
}

// push adds the value at position j, whose state is s.
func (q *momQueue[S]) push(j int32, s S) {
	q.back = append(q.back, j)
	q.all = q.all.merge(s)
}

// pop drops the oldest value.
func (q *momQueue[S]) pop() {
	if len(q.front) == 0 {
		var acc, zero S
		for i := len(q.back) - 1; i >= 0; i-- {
			acc = q.leaf(q.back[i]).merge(acc)
			q.front = append(q.front, acc)
		}
		q.back, q.all = q.back[:0], zero
	}
	if len(q.front) > 0 {
		q.front = q.front[:len(q.front)-1]
	}
}

// state covers the values in the queue.
func (q *momQueue[S]) state() S {
	if len(q.front) == 0 {
		return q.all
	}
	return q.front[len(q.front)-1].merge(q.all)
}

// floatArg reads a numeric argument as float64 (as CAST does): the values
// and their validity, with NULL for NULLs.
func floatArg(f *physical.WindowFunc, val arrow.Array) ([]float64, validSrc, error) {
	valid := validOf(val)
	switch a := val.(type) {
	case *array.Float64:
		return a.Float64Values(), valid, nil
	case *array.Null:
		// No bitmap, every value NULL.
		return make([]float64, a.Len()), validSrc{bits: make([]byte, a.Len()/8+1)}, nil
	}
	out := make([]float64, val.Len())
	switch a := val.(type) {
	case *array.Int64:
		widen(out, a.Int64Values())
	case *array.Int32:
		widen(out, a.Int32Values())
	case *array.Int16:
		widen(out, a.Int16Values())
	case *array.Int8:
		widen(out, a.Int8Values())
	case *array.Float32:
		widen(out, a.Float32Values())
	case *array.Decimal128:
		scale := a.DataType().(*arrow.Decimal128Type).Scale
		for i, v := range a.Values() {
			if valid.ok(i) {
				out[i] = decToFloat(v, scale)
			}
		}
	default:
		return nil, valid, sqlerr.New(sqlerr.FeatureNotSupported, "%s of %s over a window", f.Fn, val.DataType())
	}
	return out, valid, nil
}

func finite(x float64) bool { return !math.IsInf(x, 0) && !math.IsNaN(x) }

// ---- var_samp, var_pop, stddev_samp, stddev_pop ----

// varMoments are the count, mean and sum of squared deviations from the
// mean of a set of values.
type varMoments struct {
	n, mean, m2 float64
}

func (a varMoments) merge(b varMoments) varMoments {
	switch {
	case b.n == 0:
		return a
	case a.n == 0:
		return b
	}
	n := a.n + b.n
	d := b.mean - a.mean
	w := b.n / n // one division: merges run several times per row
	return varMoments{n: n, mean: a.mean + d*w, m2: a.m2 + b.m2 + d*d*(a.n*w)}
}

// varAcc computes the variance family over frames. Values enter shifted
// by the first one of the frame's run (as varAgg does), so a spread that is
// small next to the values' size survives.
type varAcc struct {
	vals    []float64
	valid   validSrc
	samp    bool
	sqrt    bool
	q       momQueue[varMoments]
	shift   float64
	shifted bool
	last    int // the position emitted last since the frame changed; -1 if none
	out     []float64
	ok      []bool
}

func newVarAcc(f *physical.WindowFunc, val arrow.Array, n int) (*varAcc, error) {
	if err := wantType(f, arrow.FLOAT64); err != nil {
		return nil, err
	}
	vals, valid, err := floatArg(f, val)
	if err != nil {
		return nil, err
	}
	v := &varAcc{
		vals: vals, valid: valid,
		samp: f.Fn == physical.AggVarSamp || f.Fn == physical.AggStddevSamp,
		sqrt: f.Fn == physical.AggStddevSamp || f.Fn == physical.AggStddevPop,
		out:  make([]float64, n), ok: make([]bool, n), last: -1,
	}
	v.q.leaf = v.leaf
	return v, nil
}

func (v *varAcc) reset() { v.q.reset(); v.shifted, v.last = false, -1 }

func (v *varAcc) add(j int) {
	if !v.valid.ok(j) {
		return
	}
	if !v.shifted {
		v.shift, v.shifted = 0, true
		if x := v.vals[j]; finite(x) {
			v.shift = x
		}
	}
	v.q.push(int32(j), v.leaf(int32(j)))
	v.last = -1
}

func (v *varAcc) leaf(j int32) varMoments {
	x := v.vals[j]
	s := varMoments{n: 1, mean: x - v.shift}
	if !finite(x) {
		// As PostgreSQL: a value that is not finite makes the variance
		// NaN, even of one value.
		s.m2 = math.NaN()
	}
	return s
}

func (v *varAcc) remove(j int) {
	if v.valid.ok(j) {
		v.q.pop()
		v.last = -1
	}
}

func (v *varAcc) emit(i int) {
	if v.last >= 0 { // same frame values: peers, whole partitions
		v.out[i], v.ok[i] = v.out[v.last], v.ok[v.last]
		return
	}
	v.last = i
	s := v.q.state()
	d := s.n
	if v.samp {
		d--
	}
	if d <= 0 {
		return
	}
	r := max(s.m2, 0) / d
	if v.sqrt {
		r = math.Sqrt(r)
	}
	v.out[i], v.ok[i] = r, true
}

func (v *varAcc) result(mem memory.Allocator, t arrow.DataType) (arrow.Array, error) {
	return fixedArray(mem, t, v.out, v.ok), nil
}

// ---- corr, covar_pop, covar_samp, regr_* ----

// regrState are the moments of a set of (y, x) pairs: count, means, sums
// of squared deviations from the means and the co-moment.
type regrState struct {
	n, mx, my, qx, qy, c float64
}

func (a regrState) merge(b regrState) regrState {
	switch {
	case b.n == 0:
		return a
	case a.n == 0:
		return b
	}
	n := a.n + b.n
	dx, dy := b.mx-a.mx, b.my-a.my
	w := b.n / n
	f := a.n * w
	return regrState{
		n: n, mx: a.mx + dx*w, my: a.my + dy*w,
		qx: a.qx + b.qx + dx*dx*f, qy: a.qy + b.qy + dy*dy*f, c: a.c + b.c + dx*dy*f,
	}
}

// regrAcc computes a two-argument statistic over frames: the pairs where
// both y and x are non-NULL, shifted as varAcc shifts, with the results
// and NULL rules of the aggregate (regrValue).
type regrAcc struct {
	fn             string
	ys, xs         []float64
	vy, vx         validSrc
	q              momQueue[regrState]
	shiftX, shiftY float64
	shifted        bool
	last           int // as varAcc's
	out            []float64
	counts         []int64 // regr_count's results, never NULL
	ok             []bool
}

func newRegrAcc(f *physical.WindowFunc, y, x arrow.Array, n int) (*regrAcc, error) {
	want := arrow.FLOAT64
	if f.Fn == physical.AggRegrCount {
		want = arrow.INT64
	}
	if err := wantType(f, want); err != nil {
		return nil, err
	}
	ys, vy, err := floatArg(f, y)
	if err != nil {
		return nil, err
	}
	xs, vx, err := floatArg(f, x)
	if err != nil {
		return nil, err
	}
	r := &regrAcc{fn: f.Fn, ys: ys, xs: xs, vy: vy, vx: vx, last: -1}
	r.q.leaf = r.leaf
	if f.Fn == physical.AggRegrCount {
		r.counts = make([]int64, n)
	} else {
		r.out, r.ok = make([]float64, n), make([]bool, n)
	}
	return r, nil
}

func (r *regrAcc) reset() { r.q.reset(); r.shifted, r.last = false, -1 }

func (r *regrAcc) add(j int) {
	if !r.vy.ok(j) || !r.vx.ok(j) {
		return
	}
	if !r.shifted {
		r.shiftX, r.shiftY, r.shifted = 0, 0, true
		if x := r.xs[j]; finite(x) {
			r.shiftX = x
		}
		if y := r.ys[j]; finite(y) {
			r.shiftY = y
		}
	}
	r.q.push(int32(j), r.leaf(int32(j)))
	r.last = -1
}

func (r *regrAcc) leaf(j int32) regrState {
	x, y := r.xs[j], r.ys[j]
	s := regrState{n: 1, mx: x - r.shiftX, my: y - r.shiftY}
	// As PostgreSQL (and regrMoments.add): a value that is not finite
	// makes its sums NaN.
	if !finite(x) {
		s.qx, s.c = math.NaN(), math.NaN()
	}
	if !finite(y) {
		s.qy, s.c = math.NaN(), math.NaN()
	}
	return s
}

func (r *regrAcc) remove(j int) {
	if r.vy.ok(j) && r.vx.ok(j) {
		r.q.pop()
		r.last = -1
	}
}

func (r *regrAcc) emit(i int) {
	if r.last >= 0 {
		if r.counts != nil {
			r.counts[i] = r.counts[r.last]
		} else {
			r.out[i], r.ok[i] = r.out[r.last], r.ok[r.last]
		}
		return
	}
	r.last = i
	s := r.q.state()
	if r.counts != nil {
		r.counts[i] = int64(s.n)
		return
	}
	m := regrMoments{n: int64(s.n), shiftX: r.shiftX, shiftY: r.shiftY, meanX: s.mx, meanY: s.my, m2X: s.qx, m2Y: s.qy, cXY: s.c}
	r.out[i], r.ok[i] = regrValue(r.fn, &m)
}

func (r *regrAcc) result(mem memory.Allocator, t arrow.DataType) (arrow.Array, error) {
	if r.counts != nil {
		return fixedArray(mem, t, r.counts, nil), nil
	}
	return fixedArray(mem, t, r.out, r.ok), nil
}

// ---- string_agg ----

// stringAggAcc concatenates the frame's non-NULL values in frame order
// with a separator. The frame's text is kept whole (buf[head:]), grown at
// the end and cut at the front as values come and go, so each row costs
// one copy of its result.
type stringAggAcc struct {
	val    *array.String
	valid  validSrc
	sep    string
	buf    []byte
	head   int
	starts []int // where each value in the frame starts in buf
	first  int   // starts[first:] are in the frame
	b      *array.StringBuilder
	bytes  int64
}

func newStringAggAcc(mem memory.Allocator, f *physical.WindowFunc, val arrow.Array, sep string) (*stringAggAcc, error) {
	s, ok := val.(*array.String)
	if !ok {
		return nil, internalf("string_agg over %s", val.DataType())
	}
	if err := wantType(f, arrow.STRING); err != nil {
		return nil, err
	}
	b := array.NewStringBuilder(mem)
	b.Reserve(val.Len())
	return &stringAggAcc{val: s, valid: validOf(val), sep: sep, b: b}, nil
}

func (a *stringAggAcc) reset() {
	a.buf, a.head, a.starts, a.first = a.buf[:0], 0, a.starts[:0], 0
}

func (a *stringAggAcc) add(j int) {
	if !a.valid.ok(j) {
		return
	}
	if a.first < len(a.starts) {
		a.buf = append(a.buf, a.sep...)
	}
	a.starts = append(a.starts, len(a.buf))
	a.buf = append(a.buf, a.val.Value(j)...)
}

func (a *stringAggAcc) remove(j int) {
	if !a.valid.ok(j) {
		return
	}
	a.first++
	if a.first >= len(a.starts) {
		a.reset()
		return
	}
	a.head = a.starts[a.first]
	// Move the frame's text down once the dead prefix is as long as it.
	if a.head > 4096 && 2*a.head > len(a.buf) {
		n := copy(a.buf, a.buf[a.head:])
		a.buf = a.buf[:n]
		k := copy(a.starts, a.starts[a.first:])
		a.starts = a.starts[:k]
		for i := range a.starts {
			a.starts[i] -= a.head
		}
		a.head, a.first = 0, 0
	}
}

func (a *stringAggAcc) emit(int) {
	if a.first >= len(a.starts) {
		a.b.AppendNull()
		return
	}
	a.bytes += int64(len(a.buf) - a.head)
	if a.bytes > math.MaxInt32 {
		// Further values would overflow the offsets; result reports it.
		a.b.AppendNull()
		return
	}
	a.b.BinaryBuilder.Append(a.buf[a.head:])
}

func (a *stringAggAcc) result(mem memory.Allocator, t arrow.DataType) (arrow.Array, error) {
	if a.bytes > math.MaxInt32 {
		return nil, sqlerr.New("54000", "string_agg over a window: its results exceed 2 GiB")
	}
	return a.b.NewArray(), nil
}

func (a *stringAggAcc) release() {
	if a.b != nil {
		a.b.Release()
		a.b = nil
	}
}

// widen converts vals into out as float64.
func widen[T int8 | int16 | int32 | int64 | float32](out []float64, vals []T) {
	for i, v := range vals {
		out[i] = float64(v)
	}
}
