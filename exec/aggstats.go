package exec

import (
	"math"
	"math/bits"
	"slices"

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
