package exec

import (
	"math"
	"math/bits"
	"slices"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// ---- variance / standard deviation ----

// varAgg keeps, per group, the count, mean and sum of squared deviations
// from the mean (M2) of its values, updated by Welford's method; partial
// states are merged with Chan et al.'s pairwise formula. Each group works
// on its values minus a shift (its first value, or the mean of the first
// state merged into it), so data far from zero with a small spread (1e9 ±
// 1) does not lose the spread to rounding of the mean; the shift is added
// back when a partial state is emitted. Merging is less exact: the state
// carries the mean as a float64, so each merge can be off by about
// ulp(mean)/(σ√n) relative.
type varAgg struct {
	samp    bool // divide by n-1 (NULL below 2 rows) rather than n
	sqrt    bool // standard deviation rather than variance
	merge   bool // input is (count, mean, m2) states
	partial bool // emit states rather than final values
	counts  []int64
	shift   []float64
	means   []float64 // of the values minus shift
	m2s     []float64
	scratch []float64 // decimal arguments converted to float64
}

func newVarAgg(fn string, mode physical.AggMode, argType arrow.DataType) (*varAgg, error) {
	v := &varAgg{
		samp:    fn == physical.AggVarSamp || fn == physical.AggStddevSamp,
		sqrt:    fn == physical.AggStddevSamp || fn == physical.AggStddevPop,
		merge:   mode == physical.AggFinal,
		partial: mode == physical.AggPartial,
	}
	if v.merge {
		return v, nil
	}
	switch argType.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.FLOAT32, arrow.FLOAT64, arrow.DECIMAL128:
		return v, nil
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "%s of %s", fn, argType)
}

func (v *varAgg) grow(n int) {
	v.counts, v.shift = growTo(v.counts, n), growTo(v.shift, n)
	v.means, v.m2s = growTo(v.means, n), growTo(v.m2s, n)
}

// add folds value x into group g (Welford's update on x - shift).
func (v *varAgg) add(g uint32, x float64) {
	n := v.counts[g] + 1
	v.counts[g] = n
	if n == 1 {
		v.shift[g] = x
		return
	}
	x -= v.shift[g]
	d := x - v.means[g]
	v.means[g] += d / float64(n)
	v.m2s[g] += d * (x - v.means[g])
}

func welford[T int8 | int16 | int32 | int64 | float32 | float64](v *varAgg, gids []uint32, sel []int32, vals []T, arr arrow.Array) {
	nulls := arr.NullN() > 0
	switch {
	case sel != nil:
		for j, g := range gids {
			i := sel[j]
			if nulls && arr.IsNull(int(i)) {
				continue
			}
			v.add(g, float64(vals[i]))
		}
	case nulls:
		for i, g := range gids {
			if arr.IsNull(i) {
				continue
			}
			v.add(g, float64(vals[i]))
		}
	default:
		vals = vals[:len(gids)]
		for i, g := range gids {
			v.add(g, float64(vals[i]))
		}
	}
}

// addRaw folds argument rows (rows sel[j] if sel is not nil) into gids.
func (v *varAgg) addRaw(gids []uint32, sel []int32, arr arrow.Array) error {
	switch a := arr.(type) {
	case *array.Float64:
		welford(v, gids, sel, a.Float64Values(), arr)
	case *array.Int64:
		welford(v, gids, sel, a.Int64Values(), arr)
	case *array.Int32:
		welford(v, gids, sel, a.Int32Values(), arr)
	case *array.Int16:
		welford(v, gids, sel, a.Int16Values(), arr)
	case *array.Int8:
		welford(v, gids, sel, a.Int8Values(), arr)
	case *array.Float32:
		welford(v, gids, sel, a.Float32Values(), arr)
	case *array.Decimal128:
		scale := a.DataType().(*arrow.Decimal128Type).Scale
		in := a.Values()
		v.scratch = growTo(v.scratch[:0], len(in))
		f := v.scratch
		for i, x := range in {
			f[i] = decToFloat(x, scale)
		}
		welford(v, gids, sel, f, arr)
	default:
		return mismatch("variance", arr)
	}
	return nil
}

func (v *varAgg) update(gids []uint32, args []arrow.Array) error {
	if !v.merge {
		return v.addRaw(gids, nil, args[0])
	}
	ca, ok1 := args[0].(*array.Int64)
	ma, ok2 := args[1].(*array.Float64)
	qa, ok3 := args[2].(*array.Float64)
	switch {
	case !ok1:
		return mismatch("variance", args[0])
	case !ok2:
		return mismatch("variance", args[1])
	case !ok3:
		return mismatch("variance", args[2])
	}
	cs, ms, qs := ca.Int64Values(), ma.Float64Values(), qa.Float64Values()
	nulls := ca.NullN() > 0
	for i, g := range gids {
		nb := cs[i]
		if nb <= 0 || nulls && ca.IsNull(i) {
			continue
		}
		na := v.counts[g]
		if na == 0 {
			v.counts[g], v.shift[g], v.means[g], v.m2s[g] = nb, ms[i], 0, qs[i]
			continue
		}
		n := na + nb
		d := (ms[i] - v.shift[g]) - v.means[g]
		v.means[g] += d * (float64(nb) / float64(n))
		v.m2s[g] += qs[i] + d*d*(float64(na)*float64(nb)/float64(n))
		v.counts[g] = n
	}
	return nil
}

func (v *varAgg) updateSel(gids []uint32, sel []int32, args []arrow.Array) (bool, error) {
	if v.merge {
		return false, nil
	}
	return true, v.addRaw(gids, sel, args[0])
}

func (v *varAgg) result(mem memory.Allocator, n int, types []arrow.DataType) ([]arrow.Array, error) {
	v.grow(n)
	if v.partial {
		means := make([]float64, n)
		for g := range means {
			if v.counts[g] > 0 {
				means[g] = v.shift[g] + v.means[g]
			}
		}
		return []arrow.Array{
			fixedArray(mem, arrow.PrimitiveTypes.Int64, v.counts[:n], nil),
			fixedArray(mem, arrow.PrimitiveTypes.Float64, means, nil),
			fixedArray(mem, arrow.PrimitiveTypes.Float64, v.m2s[:n], nil),
		}, nil
	}
	vals := make([]float64, n)
	valid := make([]bool, n)
	for g := range vals {
		c := v.counts[g]
		if v.samp {
			c--
		}
		if c <= 0 {
			continue
		}
		r := max(v.m2s[g], 0) / float64(c)
		if v.sqrt {
			r = math.Sqrt(r)
		}
		vals[g], valid[g] = r, true
	}
	return []arrow.Array{fixedArray(mem, types[0], vals, valid)}, nil
}

// ---- corr, covar_pop / covar_samp, regr_* ----

// regrStates is the number of state columns of a two-argument aggregate
// (physical.AggCall.StateFields).
const regrStates = 6

// regrMoments are one group's running moments of its (y, x) pairs, on the
// values minus a shift (the group's first pair, or the means of the first
// state merged into it), as varAgg does.
type regrMoments struct {
	n              int64
	shiftX, shiftY float64
	meanX, meanY   float64 // of the shifted values
	m2X, m2Y       float64 // sums of squared deviations from the means
	cXY            float64 // co-moment: sum of (x - mean x)(y - mean y)
}

// regrAgg computes the two-argument statistics over the rows where both y
// (args[0]) and x (args[1]) are non-NULL: Welford's update per pair, Chan
// et al.'s pairwise formula to merge partial states. The results follow
// PostgreSQL's float8_regr_* and float8_corr / float8_covar_* functions.
type regrAgg struct {
	fn      string
	merge   bool // input is the regrStates state columns
	partial bool // emit states rather than final values
	st      []regrMoments
}

func (r *regrAgg) grow(n int) { r.st = growTo(r.st, n) }

// goBytes is what the moments hold beyond the per-group allowance every
// aggregate is charged (aggStateBytes).
func (r *regrAgg) goBytes() int64 {
	return int64(len(r.st)) * (int64(unsafe.Sizeof(regrMoments{})) - aggStateBytes)
}

// add folds the pair (x, y) into s.
func (s *regrMoments) add(x, y float64) {
	s.n++
	if s.n == 1 {
		s.shiftX, s.shiftY = x, y
		// As PostgreSQL: a first value that is not finite makes its
		// sums NaN rather than a zero variance.
		if math.IsInf(x, 0) || math.IsNaN(x) {
			s.m2X, s.cXY = math.NaN(), math.NaN()
		}
		if math.IsInf(y, 0) || math.IsNaN(y) {
			s.m2Y, s.cXY = math.NaN(), math.NaN()
		}
		return
	}
	n := float64(s.n)
	x -= s.shiftX
	y -= s.shiftY
	dx := x - s.meanX
	dy := y - s.meanY
	s.meanX += dx / n
	s.meanY += dy / n
	s.m2X += dx * (x - s.meanX)
	s.m2Y += dy * (y - s.meanY)
	s.cXY += dx * (y - s.meanY)
}

// merge folds in the state of nb pairs with means mx, my (not shifted),
// sums of squared deviations qx, qy and co-moment c.
func (s *regrMoments) merge(nb int64, mx, my, qx, qy, c float64) {
	if nb <= 0 {
		return
	}
	na := s.n
	if na == 0 {
		*s = regrMoments{n: nb, shiftX: mx, shiftY: my, m2X: qx, m2Y: qy, cXY: c}
		return
	}
	n := na + nb
	dx := (mx - s.shiftX) - s.meanX
	dy := (my - s.shiftY) - s.meanY
	w := float64(nb) / float64(n)
	f := float64(na) * float64(nb) / float64(n)
	s.meanX += dx * w
	s.meanY += dy * w
	s.m2X += qx + dx*dx*f
	s.m2Y += qy + dy*dy*f
	s.cXY += c + dx*dy*f
	s.n = n
}

// addRaw folds the pairs of rows sel[j] (rows j if sel is nil) into
// groups gids[j].
func (r *regrAgg) addRaw(gids []uint32, sel []int32, args []arrow.Array) error {
	if len(args) != 2 {
		return sqlerr.New(sqlerr.InternalError, "%s takes two arguments, got %d", r.fn, len(args))
	}
	ya, ok := args[0].(*array.Float64)
	if !ok {
		return mismatch(r.fn, args[0])
	}
	xa, ok := args[1].(*array.Float64)
	if !ok {
		return mismatch(r.fn, args[1])
	}
	ys, xs := ya.Float64Values(), xa.Float64Values()
	nulls := ya.NullN() > 0 || xa.NullN() > 0
	st := r.st
	for j, g := range gids {
		i := j
		if sel != nil {
			i = int(sel[j])
		}
		if nulls && (ya.IsNull(i) || xa.IsNull(i)) {
			continue
		}
		st[g].add(xs[i], ys[i])
	}
	return nil
}

func (r *regrAgg) update(gids []uint32, args []arrow.Array) error {
	if !r.merge {
		return r.addRaw(gids, nil, args)
	}
	if len(args) != regrStates {
		return sqlerr.New(sqlerr.InternalError, "%s: %d state columns, want %d", r.fn, len(args), regrStates)
	}
	ca, ok := args[0].(*array.Int64)
	if !ok {
		return mismatch(r.fn, args[0])
	}
	var fs [regrStates - 1][]float64
	for k := range fs {
		a, ok := args[k+1].(*array.Float64)
		if !ok {
			return mismatch(r.fn, args[k+1])
		}
		fs[k] = a.Float64Values()
	}
	cs := ca.Int64Values()
	nulls := ca.NullN() > 0
	for i, g := range gids {
		if nulls && ca.IsNull(i) {
			continue
		}
		r.st[g].merge(cs[i], fs[0][i], fs[1][i], fs[2][i], fs[3][i], fs[4][i])
	}
	return nil
}

func (r *regrAgg) updateSel(gids []uint32, sel []int32, args []arrow.Array) (bool, error) {
	if r.merge {
		return false, nil
	}
	return true, r.addRaw(gids, sel, args)
}

func (r *regrAgg) result(mem memory.Allocator, n int, types []arrow.DataType) ([]arrow.Array, error) {
	r.grow(n)
	st := r.st[:n]
	if r.partial {
		counts := make([]int64, n)
		var fs [regrStates - 1][]float64
		for k := range fs {
			fs[k] = make([]float64, n)
		}
		for g, s := range st {
			counts[g] = s.n
			if s.n > 0 {
				fs[0][g], fs[1][g] = s.shiftX+s.meanX, s.shiftY+s.meanY
			}
			fs[2][g], fs[3][g], fs[4][g] = s.m2X, s.m2Y, s.cXY
		}
		out := []arrow.Array{fixedArray(mem, arrow.PrimitiveTypes.Int64, counts, nil)}
		for _, f := range fs {
			out = append(out, fixedArray(mem, arrow.PrimitiveTypes.Float64, f, nil))
		}
		return out, nil
	}
	if r.fn == physical.AggRegrCount {
		counts := make([]int64, n)
		for g, s := range st {
			counts[g] = s.n
		}
		return []arrow.Array{fixedArray(mem, types[0], counts, nil)}, nil
	}
	vals := make([]float64, n)
	valid := make([]bool, n)
	for g := range st {
		vals[g], valid[g] = regrValue(r.fn, &st[g])
	}
	return []arrow.Array{fixedArray(mem, types[0], vals, valid)}, nil
}

// regrValue is the value of aggregate fn for moments s, false for NULL:
// none for no pairs, covar_samp below two; corr when x or y is constant,
// regr_slope, regr_intercept and regr_r2 when x is (a vertical line); and
// regr_r2 is 1 when only y is (a horizontal line).
func regrValue(fn string, s *regrMoments) (float64, bool) {
	if s.n == 0 {
		return 0, false
	}
	n := float64(s.n)
	sxx, syy, sxy := s.m2X, s.m2Y, s.cXY
	switch fn {
	case physical.AggCovarPop:
		return sxy / n, true
	case physical.AggCovarSamp:
		if s.n < 2 {
			return 0, false
		}
		return sxy / (n - 1), true
	case physical.AggCorr:
		if sxx == 0 || syy == 0 {
			return 0, false
		}
		// PostgreSQL's sqrt(Sxx·Syy), unless the product overflows or
		// underflows where the result need not.
		d := math.Sqrt(sxx * syy)
		if math.IsInf(d, 0) || d == 0 {
			d = math.Sqrt(sxx) * math.Sqrt(syy)
		}
		return sxy / d, true
	case physical.AggRegrR2:
		if sxx == 0 {
			return 0, false
		}
		if syy == 0 {
			return 1, true
		}
		// PostgreSQL's Sxy²/(Sxx·Syy), unless a product overflows or
		// underflows.
		num, den := sxy*sxy, sxx*syy
		if math.IsInf(num, 0) || math.IsInf(den, 0) || den == 0 || num == 0 && sxy != 0 {
			return (sxy / sxx) * (sxy / syy), true
		}
		return num / den, true
	case physical.AggRegrSlope:
		if sxx == 0 {
			return 0, false
		}
		return sxy / sxx, true
	case physical.AggRegrIntercept:
		if sxx == 0 {
			return 0, false
		}
		return (s.shiftY + s.meanY) - (s.shiftX+s.meanX)*(sxy/sxx), true
	case physical.AggRegrAvgX:
		return s.shiftX + s.meanX, true
	case physical.AggRegrAvgY:
		return s.shiftY + s.meanY, true
	case physical.AggRegrSXX:
		return sxx, true
	case physical.AggRegrSYY:
		return syy, true
	case physical.AggRegrSXY:
		return sxy, true
	}
	return 0, false
}

// decToFloat converts like CAST(decimal AS double): exactly rounded while
// the unscaled value fits 53 bits.
func decToFloat(x decimal128.Num, scale int32) float64 {
	if lo := int64(x.LowBits()); x.HighBits() == lo>>63 && scale >= 0 && scale <= 22 &&
		lo > -(1<<53) && lo < 1<<53 {
		return float64(lo) / math.Pow10(int(scale))
	}
	return x.ToFloat64(scale)
}

// ---- approx_count_distinct ----

// HyperLogLog with 2^hllP one-byte registers. A register holds the
// position of the first 1 bit (1..hllQ+1) after the hllP index bits of
// some value's hash, or 0.
const (
	hllP = 12
	hllM = 1 << hllP
	hllQ = 64 - hllP
	// hllSparseMax is how many (register, value) pairs a group keeps in a
	// sorted list before it takes the full hllM-byte array, so that many
	// small groups do not cost 4 KiB each.
	hllSparseMax = 256
	// hllSeed decorrelates the sketch hash from hash partitioning, which
	// uses the same column hash.
	hllSeed = 0x2545f4914f6cdd1d
)

type hllAgg struct {
	merge   bool // input is register arrays
	partial bool // emit register arrays rather than estimates
	// Per group, either sparse (sorted idx<<8|value entries, at most one
	// per register) or dense (hllM registers); both nil for no values.
	sparse [][]uint32
	dense  [][]byte
	hs     []uint64
}

func (h *hllAgg) grow(n int) { h.sparse, h.dense = growTo(h.sparse, n), growTo(h.dense, n) }

// set raises register idx of group g to at least r.
func (h *hllAgg) set(g uint32, idx uint32, r uint8) {
	if d := h.dense[g]; d != nil {
		if r > d[idx] {
			d[idx] = r
		}
		return
	}
	s := h.sparse[g]
	lo, hi := 0, len(s)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s[m]>>8 < idx {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(s) && s[lo]>>8 == idx {
		if r > uint8(s[lo]) {
			s[lo] = idx<<8 | uint32(r)
		}
		return
	}
	if len(s) < hllSparseMax {
		h.sparse[g] = slices.Insert(s, lo, idx<<8|uint32(r))
		return
	}
	d := make([]byte, hllM)
	for _, e := range s {
		d[e>>8] = uint8(e)
	}
	d[idx] = r
	h.dense[g], h.sparse[g] = d, nil
}

// hllPoint maps a column hash to a register index and value.
func hllPoint(hash uint64) (uint32, uint8) {
	x := mix64(hash ^ hllSeed)
	return uint32(x >> hllQ), uint8(bits.LeadingZeros64(x<<hllP|1<<(hllP-1)) + 1)
}

// addRaw folds argument rows (rows sel[j] if sel is not nil) into gids.
func (h *hllAgg) addRaw(gids []uint32, sel []int32, arr arrow.Array) error {
	n := arr.Len()
	h.hs = growTo(h.hs[:0], n)
	hs := h.hs
	clear(hs)
	if err := hashColumn(arr, hs); err != nil {
		return err
	}
	nulls := arr.NullN() > 0
	if sel != nil {
		for j, g := range gids {
			i := sel[j]
			if nulls && arr.IsNull(int(i)) {
				continue
			}
			idx, r := hllPoint(hs[i])
			h.set(g, idx, r)
		}
		return nil
	}
	for i, g := range gids {
		if nulls && arr.IsNull(i) {
			continue
		}
		idx, r := hllPoint(hs[i])
		h.set(g, idx, r)
	}
	return nil
}

func (h *hllAgg) update(gids []uint32, args []arrow.Array) error {
	if !h.merge {
		return h.addRaw(gids, nil, args[0])
	}
	a, ok := args[0].(*array.Binary)
	if !ok {
		return mismatch("approx_count_distinct", args[0])
	}
	for i, g := range gids {
		if a.IsNull(i) {
			continue
		}
		regs := a.Value(i)
		if len(regs) == 0 {
			continue
		}
		if len(regs) != hllM {
			return sqlerr.New(sqlerr.InternalError, "approx_count_distinct: state of %d bytes, want %d", len(regs), hllM)
		}
		if d := h.dense[g]; d != nil {
			d = d[:hllM]
			for k, r := range regs {
				if r > d[k] {
					d[k] = r
				}
			}
			continue
		}
		for k, r := range regs {
			if r != 0 {
				h.set(g, uint32(k), r)
			}
		}
	}
	return nil
}

func (h *hllAgg) updateSel(gids []uint32, sel []int32, args []arrow.Array) (bool, error) {
	if h.merge {
		return false, nil
	}
	return true, h.addRaw(gids, sel, args[0])
}

func (h *hllAgg) result(mem memory.Allocator, n int, types []arrow.DataType) ([]arrow.Array, error) {
	h.grow(n)
	if h.partial {
		return h.states(mem, n, types[0])
	}
	est := make([]int64, n)
	var hist [hllQ + 2]int
	for g := range est {
		clear(hist[:])
		if d := h.dense[g]; d != nil {
			for _, r := range d {
				hist[r]++
			}
		} else {
			s := h.sparse[g]
			hist[0] = hllM - len(s)
			for _, e := range s {
				hist[uint8(e)]++
			}
		}
		est[g] = int64(math.Round(hllEstimate(&hist)))
	}
	return []arrow.Array{fixedArray(mem, types[0], est, nil)}, nil
}

// states emits each group's registers as one hllM-byte binary value.
func (h *hllAgg) states(mem memory.Allocator, n int, dt arrow.DataType) ([]arrow.Array, error) {
	if n > math.MaxInt32/hllM {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "approx_count_distinct: %d groups in one partial aggregate (at most %d)", n, math.MaxInt32/hllM)
	}
	offBuf := memory.NewResizableBuffer(mem)
	defer offBuf.Release()
	offBuf.Resize(arrow.Int32Traits.BytesRequired(n + 1))
	offs := arrow.Int32Traits.CastFromBytes(offBuf.Bytes())
	dataBuf := memory.NewResizableBuffer(mem)
	defer dataBuf.Release()
	dataBuf.Resize(n * hllM)
	data := dataBuf.Bytes()
	for g := 0; g < n; g++ {
		offs[g] = int32(g * hllM)
		regs := data[g*hllM : (g+1)*hllM]
		if d := h.dense[g]; d != nil {
			copy(regs, d)
			continue
		}
		clear(regs)
		for _, e := range h.sparse[g] {
			regs[e>>8] = uint8(e)
		}
	}
	offs[n] = int32(n * hllM)
	d := array.NewData(dt, n, []*memory.Buffer{nil, offBuf, dataBuf}, nil, 0, 0)
	defer d.Release()
	return []arrow.Array{array.MakeFromData(d)}, nil
}

// hllEstimate is Ertl's improved raw estimator ("New cardinality
// estimation algorithms for HyperLogLog sketches", 2017) over the
// histogram of register values. It needs no bias tables and behaves like
// linear counting while most registers are 0, so small counts come out
// (nearly) exact.
func hllEstimate(hist *[hllQ + 2]int) float64 {
	const m = float64(hllM)
	z := m * hllTau(1-float64(hist[hllQ+1])/m)
	for k := hllQ; k >= 1; k-- {
		z = 0.5 * (z + float64(hist[k]))
	}
	z += m * hllSigma(float64(hist[0])/m)
	return m * m / (2 * math.Ln2) / z
}

func hllSigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y, z := 1.0, x
	for {
		x *= x
		zp := z
		z += x * y
		y += y
		if z == zp {
			return z
		}
	}
}

func hllTau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y, z := 1.0, 1-x
	for {
		x = math.Sqrt(x)
		zp := z
		y *= 0.5
		z -= (1 - x) * (1 - x) * y
		if z == zp {
			return z / 3
		}
	}
}
