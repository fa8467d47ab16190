package exec

import (
	"cmp"
	"math/big"
	"math/bits"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
)

// aggregator folds rows into per-group state. Group ids are dense; grow is
// called before update with the current number of groups.
type aggregator interface {
	grow(n int)
	// update folds row i of args into group gids[i]. args are the argument
	// (raw modes) or the state columns (final mode).
	update(gids []uint32, args []arrow.Array) error
	// result returns the output columns for groups [0, n): the final value,
	// or the state columns in partial mode. types are their output types.
	result(mem memory.Allocator, n int, types []arrow.DataType) ([]arrow.Array, error)
}

// selUpdater is an aggregator that can fold rows sel[j] of args into
// groups gids[j] in place, without the rows being gathered first. It
// reports false, having done nothing, for input it has no such loop for.
type selUpdater interface {
	updateSel(gids []uint32, sel []int32, args []arrow.Array) (bool, error)
}

// selAdder is a summer with an in-place loop (see selUpdater).
type selAdder interface {
	addSel(gids []uint32, sel []int32, arr arrow.Array) (bool, error)
}

func growTo[T any](s []T, n int) []T {
	if len(s) >= n {
		return s
	}
	if cap(s) >= n {
		return s[:n]
	}
	ns := make([]T, n, max(n, 2*cap(s)))
	copy(ns, s)
	return ns
}

func mismatch(fn string, arr arrow.Array) error {
	return sqlerr.New(sqlerr.InternalError, "%s: unexpected input of type %s", fn, arr.DataType())
}

// ---- count ----

type countAgg struct {
	star   bool // count(*): every row counts
	merge  bool // input is count states to add up
	counts []int64
}

func (c *countAgg) grow(n int) { c.counts = growTo(c.counts, n) }

func (c *countAgg) update(gids []uint32, args []arrow.Array) error {
	counts := c.counts
	switch {
	case c.merge:
		a, ok := args[0].(*array.Int64)
		if !ok {
			return mismatch("count", args[0])
		}
		v := a.Int64Values()
		for i, g := range gids {
			if a.IsValid(i) {
				counts[g] += v[i]
			}
		}
	case c.star:
		for _, g := range gids {
			counts[g]++
		}
	default:
		a := args[0]
		if a.NullN() == 0 {
			for _, g := range gids {
				counts[g]++
			}
			return nil
		}
		for i, g := range gids {
			if a.IsValid(i) {
				counts[g]++
			}
		}
	}
	return nil
}

func (c *countAgg) updateSel(gids []uint32, sel []int32, args []arrow.Array) (bool, error) {
	if c.merge {
		return false, nil
	}
	counts := c.counts
	if c.star || args[0].NullN() == 0 {
		for _, g := range gids {
			counts[g]++
		}
		return true, nil
	}
	a := args[0]
	for j, g := range gids {
		if a.IsValid(int(sel[j])) {
			counts[g]++
		}
	}
	return true, nil
}

func (c *countAgg) result(mem memory.Allocator, n int, types []arrow.DataType) ([]arrow.Array, error) {
	c.grow(n)
	return []arrow.Array{fixedArray(mem, arrow.PrimitiveTypes.Int64, c.counts[:n], nil)}, nil
}

// ---- sums ----

// summer accumulates sums per group, ignoring NULLs.
type summer interface {
	grow(n int)
	add(gids []uint32, arr arrow.Array) error
	array(mem memory.Allocator, n int, dt arrow.DataType) (arrow.Array, error)
	// avg is sum/count of group g as the nearest float64.
	avg(g int, count int64) float64
}

func newSummer(acc arrow.DataType) (summer, error) {
	switch t := acc.(type) {
	case *arrow.Int64Type:
		return &intSum{}, nil
	case *arrow.Float64Type:
		return &floatSum{}, nil
	case *arrow.Decimal128Type:
		return &decSum{scale: t.Scale}, nil
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "sum into %s", acc)
}

type intSum struct {
	sums []int64
	has  []bool
}

func (s *intSum) grow(n int) { s.sums, s.has = growTo(s.sums, n), growTo(s.has, n) }
func (s *intSum) avg(g int, count int64) float64 {
	return float64(s.sums[g]) / float64(count)
}

func addInts[T int8 | int16 | int32 | int64](s *intSum, gids []uint32, vals []T, arr arrow.Array) error {
	sums, has := s.sums, s.has
	nulls := arr.NullN() > 0
	for i, g := range gids {
		if nulls && arr.IsNull(i) {
			continue
		}
		a, b := sums[g], int64(vals[i])
		r := a + b
		if (a^r)&(b^r) < 0 {
			return sqlerr.New(sqlerr.NumericOutOfRange, "bigint out of range")
		}
		sums[g] = r
		has[g] = true
	}
	return nil
}

func (s *intSum) add(gids []uint32, arr arrow.Array) error {
	switch a := arr.(type) {
	case *array.Int64:
		return addInts(s, gids, a.Int64Values(), arr)
	case *array.Int32:
		return addInts(s, gids, a.Int32Values(), arr)
	case *array.Int16:
		return addInts(s, gids, a.Int16Values(), arr)
	case *array.Int8:
		return addInts(s, gids, a.Int8Values(), arr)
	}
	return mismatch("sum", arr)
}

func (s *intSum) array(mem memory.Allocator, n int, dt arrow.DataType) (arrow.Array, error) {
	s.grow(n)
	return fixedArray(mem, dt, s.sums[:n], s.has[:n]), nil
}

type floatSum struct {
	sums []float64
	has  []bool
}

func (s *floatSum) grow(n int)                     { s.sums, s.has = growTo(s.sums, n), growTo(s.has, n) }
func (s *floatSum) avg(g int, count int64) float64 { return s.sums[g] / float64(count) }

func addFloats[T float32 | float64 | int32 | int64](s *floatSum, gids []uint32, vals []T, arr arrow.Array) {
	sums, has := s.sums, s.has
	nulls := arr.NullN() > 0
	for i, g := range gids {
		if nulls && arr.IsNull(i) {
			continue
		}
		sums[g] += float64(vals[i])
		has[g] = true
	}
}

func (s *floatSum) add(gids []uint32, arr arrow.Array) error {
	switch a := arr.(type) {
	case *array.Float64:
		addFloats(s, gids, a.Float64Values(), arr)
	case *array.Float32:
		addFloats(s, gids, a.Float32Values(), arr)
	case *array.Int64:
		addFloats(s, gids, a.Int64Values(), arr)
	case *array.Int32:
		addFloats(s, gids, a.Int32Values(), arr)
	default:
		return mismatch("sum", arr)
	}
	return nil
}

func (s *floatSum) array(mem memory.Allocator, n int, dt arrow.DataType) (arrow.Array, error) {
	s.grow(n)
	return fixedArray(mem, dt, s.sums[:n], s.has[:n]), nil
}

// decSum adds decimal128 values at one scale exactly; it fails rather than
// wrap around 128 bits, and the result must fit 38 digits.
type decSum struct {
	scale int32
	sums  []decimal128.Num
	has   []bool
}

func (s *decSum) grow(n int) { s.sums, s.has = growTo(s.sums, n), growTo(s.has, n) }

// avg divides exactly and rounds once, so avg(2.51, 2.00) is 1.255.
func (s *decSum) avg(g int, count int64) float64 {
	den := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(s.scale)), nil)
	den.Mul(den, big.NewInt(count))
	f, _ := new(big.Rat).SetFrac(s.sums[g].BigInt(), den).Float64()
	return f
}

func (s *decSum) add(gids []uint32, arr arrow.Array) error {
	a, ok := arr.(*array.Decimal128)
	if !ok {
		return mismatch("sum", arr)
	}
	if t := a.DataType().(*arrow.Decimal128Type); t.Scale != s.scale {
		return sqlerr.New(sqlerr.InternalError, "sum: decimal scale %d, expected %d", t.Scale, s.scale)
	}
	vals := a.Values()
	sums, has := s.sums, s.has
	var ovf int64 // negative once an addition wrapped around 128 bits
	if a.NullN() == 0 {
		vals = vals[:len(gids)]
		for i, g := range gids {
			var o int64
			sums[g], o = add128(sums[g], vals[i])
			ovf |= o
			has[g] = true
		}
	} else {
		for i, g := range gids {
			if a.IsNull(i) {
				continue
			}
			var o int64
			sums[g], o = add128(sums[g], vals[i])
			ovf |= o
			has[g] = true
		}
	}
	if ovf < 0 {
		return sqlerr.New(sqlerr.NumericOutOfRange, "numeric field overflow in sum")
	}
	return nil
}

// add128 adds two 128-bit decimals; the second result is negative when the
// addition wrapped around (callers OR it over a batch and test once).
func add128(x, y decimal128.Num) (decimal128.Num, int64) {
	lo, c := bits.Add64(x.LowBits(), y.LowBits(), 0)
	hi := x.HighBits() + y.HighBits() + int64(c)
	return decimal128.New(hi, lo), (x.HighBits() ^ hi) & (y.HighBits() ^ hi)
}

func (s *decSum) addSel(gids []uint32, sel []int32, arr arrow.Array) (bool, error) {
	a, ok := arr.(*array.Decimal128)
	if !ok || a.DataType().(*arrow.Decimal128Type).Scale != s.scale {
		return false, nil // add reports the error
	}
	vals := a.Values()
	sums, has := s.sums, s.has
	nulls := a.NullN() > 0
	var ovf int64 // negative once an addition wrapped around 128 bits
	for j, g := range gids {
		i := sel[j]
		if nulls && a.IsNull(int(i)) {
			continue
		}
		var o int64
		sums[g], o = add128(sums[g], vals[i])
		ovf |= o
		has[g] = true
	}
	if ovf < 0 {
		return true, sqlerr.New(sqlerr.NumericOutOfRange, "numeric field overflow in sum")
	}
	return true, nil
}

func (s *decSum) array(mem memory.Allocator, n int, dt arrow.DataType) (arrow.Array, error) {
	s.grow(n)
	prec := int32(38)
	if t, ok := dt.(*arrow.Decimal128Type); ok {
		prec = t.Precision
	}
	for g := 0; g < n; g++ {
		if s.has[g] && !s.sums[g].FitsInPrecision(prec) {
			return nil, sqlerr.New(sqlerr.NumericOutOfRange, "numeric field overflow: sum does not fit DECIMAL(%d,%d)", prec, s.scale)
		}
	}
	return fixedArray(mem, dt, s.sums[:n], s.has[:n]), nil
}

type sumAgg struct{ s summer }

func (a *sumAgg) grow(n int)                                     { a.s.grow(n) }
func (a *sumAgg) update(gids []uint32, args []arrow.Array) error { return a.s.add(gids, args[0]) }
func (a *sumAgg) updateSel(gids []uint32, sel []int32, args []arrow.Array) (bool, error) {
	if sa, ok := a.s.(selAdder); ok {
		return sa.addSel(gids, sel, args[0])
	}
	return false, nil
}

func (a *sumAgg) result(mem memory.Allocator, n int, types []arrow.DataType) ([]arrow.Array, error) {
	arr, err := a.s.array(mem, n, types[0])
	if err != nil {
		return nil, err
	}
	return []arrow.Array{arr}, nil
}

// ---- avg ----

type avgAgg struct {
	s       summer
	counts  []int64
	merge   bool
	partial bool
}

func (a *avgAgg) grow(n int) { a.s.grow(n); a.counts = growTo(a.counts, n) }

func (a *avgAgg) update(gids []uint32, args []arrow.Array) error {
	if err := a.s.add(gids, args[0]); err != nil {
		return err
	}
	counts := a.counts
	if a.merge {
		c, ok := args[1].(*array.Int64)
		if !ok {
			return mismatch("avg", args[1])
		}
		v := c.Int64Values()
		for i, g := range gids {
			if c.IsValid(i) {
				counts[g] += v[i]
			}
		}
		return nil
	}
	arg := args[0]
	nulls := arg.NullN() > 0
	for i, g := range gids {
		if !nulls || arg.IsValid(i) {
			counts[g]++
		}
	}
	return nil
}

func (a *avgAgg) updateSel(gids []uint32, sel []int32, args []arrow.Array) (bool, error) {
	sa, ok := a.s.(selAdder)
	if !ok || a.merge {
		return false, nil
	}
	if done, err := sa.addSel(gids, sel, args[0]); !done || err != nil {
		return done, err
	}
	counts := a.counts
	arg := args[0]
	nulls := arg.NullN() > 0
	for j, g := range gids {
		if !nulls || arg.IsValid(int(sel[j])) {
			counts[g]++
		}
	}
	return true, nil
}

func (a *avgAgg) result(mem memory.Allocator, n int, types []arrow.DataType) ([]arrow.Array, error) {
	a.grow(n)
	if a.partial {
		sum, err := a.s.array(mem, n, types[0])
		if err != nil {
			return nil, err
		}
		return []arrow.Array{sum, fixedArray(mem, arrow.PrimitiveTypes.Int64, a.counts[:n], nil)}, nil
	}
	vals := make([]float64, n)
	valid := make([]bool, n)
	for g := 0; g < n; g++ {
		if a.counts[g] > 0 {
			vals[g] = a.s.avg(g, a.counts[g])
			valid[g] = true
		}
	}
	return []arrow.Array{fixedArray(mem, types[0], vals, valid)}, nil
}

// ---- min / max ----

type ordered interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~float32 | ~float64
}

type minMaxFixed[T ordered] struct {
	max  bool
	vals []T
	has  []bool
}

func (m *minMaxFixed[T]) grow(n int) { m.vals, m.has = growTo(m.vals, n), growTo(m.has, n) }

func (m *minMaxFixed[T]) update(gids []uint32, args []arrow.Array) error {
	arr := args[0]
	in := arrow.GetValues[T](arr.Data(), 1)
	vals, has := m.vals, m.has
	nulls := arr.NullN() > 0
	want := -1
	if m.max {
		want = 1
	}
	for i, g := range gids {
		if nulls && arr.IsNull(i) {
			continue
		}
		v := in[i]
		if !has[g] || cmp.Compare(v, vals[g]) == want {
			vals[g] = v
			has[g] = true
		}
	}
	return nil
}

func (m *minMaxFixed[T]) result(mem memory.Allocator, n int, types []arrow.DataType) ([]arrow.Array, error) {
	m.grow(n)
	return []arrow.Array{fixedArray(mem, types[0], m.vals[:n], m.has[:n])}, nil
}

type minMaxDec struct {
	max  bool
	vals []decimal128.Num
	has  []bool
}

func (m *minMaxDec) grow(n int) { m.vals, m.has = growTo(m.vals, n), growTo(m.has, n) }

func (m *minMaxDec) update(gids []uint32, args []arrow.Array) error {
	a, ok := args[0].(*array.Decimal128)
	if !ok {
		return mismatch("min/max", args[0])
	}
	in := a.Values()
	nulls := a.NullN() > 0
	for i, g := range gids {
		if nulls && a.IsNull(i) {
			continue
		}
		v := in[i]
		if !m.has[g] || (m.max && v.Greater(m.vals[g])) || (!m.max && v.Less(m.vals[g])) {
			m.vals[g] = v
			m.has[g] = true
		}
	}
	return nil
}

func (m *minMaxDec) result(mem memory.Allocator, n int, types []arrow.DataType) ([]arrow.Array, error) {
	m.grow(n)
	return []arrow.Array{fixedArray(mem, types[0], m.vals[:n], m.has[:n])}, nil
}

type minMaxString struct {
	max  bool
	vals []string
	has  []bool
}

func (m *minMaxString) grow(n int) { m.vals, m.has = growTo(m.vals, n), growTo(m.has, n) }

func (m *minMaxString) update(gids []uint32, args []arrow.Array) error {
	var get func(i int) string
	switch a := args[0].(type) {
	case *array.String:
		get = a.Value
	case *array.LargeString:
		get = a.Value
	default:
		return mismatch("min/max", args[0])
	}
	arr := args[0]
	nulls := arr.NullN() > 0
	for i, g := range gids {
		if nulls && arr.IsNull(i) {
			continue
		}
		v := get(i)
		if !m.has[g] {
			m.vals[g], m.has[g] = strings.Clone(v), true
			continue
		}
		c := strings.Compare(v, m.vals[g])
		if (m.max && c > 0) || (!m.max && c < 0) {
			m.vals[g] = strings.Clone(v)
		}
	}
	return nil
}

func (m *minMaxString) result(mem memory.Allocator, n int, types []arrow.DataType) ([]arrow.Array, error) {
	m.grow(n)
	b := array.NewBuilder(mem, types[0])
	defer b.Release()
	b.Reserve(n)
	for g := 0; g < n; g++ {
		if !m.has[g] {
			b.AppendNull()
			continue
		}
		switch b := b.(type) {
		case *array.StringBuilder:
			b.Append(m.vals[g])
		case *array.LargeStringBuilder:
			b.Append(m.vals[g])
		default:
			return nil, sqlerr.New(sqlerr.InternalError, "min/max: output type %s", types[0])
		}
	}
	return []arrow.Array{b.NewArray()}, nil
}

type minMaxBool struct {
	max  bool
	vals []bool
	has  []bool
}

func (m *minMaxBool) grow(n int) { m.vals, m.has = growTo(m.vals, n), growTo(m.has, n) }

func (m *minMaxBool) update(gids []uint32, args []arrow.Array) error {
	a, ok := args[0].(*array.Boolean)
	if !ok {
		return mismatch("min/max", args[0])
	}
	for i, g := range gids {
		if a.IsNull(i) {
			continue
		}
		v := a.Value(i)
		if !m.has[g] {
			m.vals[g], m.has[g] = v, true
		} else if m.max {
			m.vals[g] = m.vals[g] || v
		} else {
			m.vals[g] = m.vals[g] && v
		}
	}
	return nil
}

func (m *minMaxBool) result(mem memory.Allocator, n int, types []arrow.DataType) ([]arrow.Array, error) {
	m.grow(n)
	return []arrow.Array{boolArray(mem, m.vals[:n], m.has[:n])}, nil
}

func newMinMax(t arrow.DataType, isMax bool) (aggregator, error) {
	switch t.ID() {
	case arrow.INT8:
		return &minMaxFixed[int8]{max: isMax}, nil
	case arrow.INT16:
		return &minMaxFixed[int16]{max: isMax}, nil
	case arrow.INT32, arrow.DATE32, arrow.TIME32:
		return &minMaxFixed[int32]{max: isMax}, nil
	case arrow.INT64, arrow.TIMESTAMP, arrow.DATE64, arrow.TIME64, arrow.DURATION:
		return &minMaxFixed[int64]{max: isMax}, nil
	case arrow.UINT8:
		return &minMaxFixed[uint8]{max: isMax}, nil
	case arrow.UINT16:
		return &minMaxFixed[uint16]{max: isMax}, nil
	case arrow.UINT32:
		return &minMaxFixed[uint32]{max: isMax}, nil
	case arrow.UINT64:
		return &minMaxFixed[uint64]{max: isMax}, nil
	case arrow.FLOAT32:
		return &minMaxFixed[float32]{max: isMax}, nil
	case arrow.FLOAT64:
		return &minMaxFixed[float64]{max: isMax}, nil
	case arrow.DECIMAL128:
		return &minMaxDec{max: isMax}, nil
	case arrow.STRING, arrow.LARGE_STRING:
		return &minMaxString{max: isMax}, nil
	case arrow.BOOL:
		return &minMaxBool{max: isMax}, nil
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "min/max of %s", t)
}

// ---- DISTINCT ----

// distinctAgg feeds each (group, value) pair to its inner aggregator once.
type distinctAgg struct {
	inner aggregator
	mem   memory.Allocator
	seen  map[string]struct{}
	buf   []byte
}

func (d *distinctAgg) grow(n int) { d.inner.grow(n) }

func (d *distinctAgg) update(gids []uint32, args []arrow.Array) error {
	arg := args[0]
	enc, err := makeKeyEncoder(arg)
	if err != nil {
		return err
	}
	keep := make([]bool, len(gids))
	var kept []uint32
	nulls := arg.NullN() > 0
	for i, g := range gids {
		if nulls && arg.IsNull(i) {
			continue
		}
		b := append(d.buf[:0], byte(g), byte(g>>8), byte(g>>16), byte(g>>24))
		b = enc(b, i)
		d.buf = b
		if _, ok := d.seen[string(b)]; ok {
			continue
		}
		d.seen[string(b)] = struct{}{}
		keep[i] = true
		kept = append(kept, g)
	}
	if len(kept) == 0 {
		return nil
	}
	if len(kept) == len(gids) {
		return d.inner.update(gids, args)
	}
	idx := make([]int32, 0, len(kept))
	for i, k := range keep {
		if k {
			idx = append(idx, int32(i))
		}
	}
	ia := fixedArray(d.mem, arrow.PrimitiveTypes.Int32, idx, nil)
	defer ia.Release()
	sub, err := takeArray(d.mem, arg, ia)
	if err != nil {
		return err
	}
	defer sub.Release()
	return d.inner.update(kept, []arrow.Array{sub})
}

func (d *distinctAgg) result(mem memory.Allocator, n int, types []arrow.DataType) ([]arrow.Array, error) {
	return d.inner.result(mem, n, types)
}
