package exec

import (
	"math"
	"math/big"
	"math/bits"
	"slices"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// SQLSTATEs of bad window function arguments, as PostgreSQL reports them.
const (
	codeInvalidFrameOffset = "22013" // invalid_preceding_or_following_size
	codeInvalidNtile       = "22014" // invalid_argument_for_ntile_function
	codeInvalidNthValue    = "22016" // invalid_argument_for_nth_value_function
)

// maxShift bounds row offsets: beyond it every offset leaves any partition,
// and int64 arithmetic on positions cannot overflow.
const maxShift = 1 << 40

// compute returns f's values in output order.
func (wb *winBuild) compute(f *physical.WindowFunc) (arrow.Array, error) {
	switch f.Fn {
	case physical.WinRowNumber, physical.WinRank, physical.WinDenseRank, physical.WinNtile:
		return wb.rankInts(f)
	case physical.WinPercentRank, physical.WinCumeDist:
		return wb.rankFloats(f)
	case physical.WinLag, physical.WinLead:
		return wb.lagLead(f)
	case physical.WinFirstValue, physical.WinLastValue, physical.WinNthValue:
		return wb.frameValue(f)
	case physical.AggCountStar, physical.AggCount, physical.AggSum, physical.AggAvg, physical.AggMin, physical.AggMax,
		physical.AggVarSamp, physical.AggVarPop, physical.AggStddevSamp, physical.AggStddevPop, physical.AggStringAgg:
		return wb.frameAgg(f)
	}
	if physical.TwoArg(f.Fn) {
		return wb.frameAgg(f)
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "window function %s is not supported", f.Fn)
}

func wantArgs(f *physical.WindowFunc, lo, hi int) error {
	if len(f.Args) < lo || len(f.Args) > hi {
		return internalf("window function %s with %d arguments", f.Fn, len(f.Args))
	}
	return nil
}

func wantType(f *physical.WindowFunc, id arrow.Type) error {
	if f.T.ID() != id {
		return internalf("window function %s typed %s", f.Fn, f.T)
	}
	return nil
}

// constArg is the value of an argument that must be constant (ntile's
// bucket count, lag's offset, nth_value's position); nil for NULL.
func constArg(f *physical.WindowFunc, e physical.Expr) (int64, bool, error) {
	v, err := constValue(f, e)
	if err != nil {
		return 0, false, err
	}
	if v == nil {
		return 0, false, nil
	}
	n, ok := asInt64(v)
	if !ok {
		return 0, false, internalf("%s: argument %v (%T) is not an integer", f.Fn, v, v)
	}
	return n, true, nil
}

func (wb *winBuild) parts() int { return len(wb.lay.parts) - 1 }

func (wb *winBuild) part(p int) (int, int) {
	return int(wb.lay.parts[p]), int(wb.lay.parts[p+1])
}

// ---- ranking ----

func (wb *winBuild) rankInts(f *physical.WindowFunc) (arrow.Array, error) {
	if err := wantType(f, arrow.INT64); err != nil {
		return nil, err
	}
	lay := &wb.lay
	var buckets int64
	if f.Fn == physical.WinNtile {
		if err := wantArgs(f, 1, 1); err != nil {
			return nil, err
		}
		k, ok, err := constArg(f, f.Args[0])
		if err != nil {
			return nil, err
		}
		if !ok {
			return array.MakeArrayOfNull(wb.w.mem, f.T, lay.n), nil
		}
		if k <= 0 {
			return nil, sqlerr.New(codeInvalidNtile, "argument of ntile must be greater than zero")
		}
		buckets = k
	}
	out := make([]int64, lay.n)
	for p := range wb.parts() {
		a, b := wb.part(p)
		if err := checkCtx(wb.ctx, p); err != nil {
			return nil, err
		}
		switch f.Fn {
		case physical.WinRowNumber:
			for i := a; i < b; i++ {
				out[i] = int64(i - a + 1)
			}
		case physical.WinRank:
			for i := a; i < b; i++ {
				out[i] = int64(int(lay.peers[lay.peerOf[i]]) - a + 1)
			}
		case physical.WinDenseRank:
			first := lay.peerOf[a]
			for i := a; i < b; i++ {
				out[i] = int64(lay.peerOf[i]-first) + 1
			}
		case physical.WinNtile:
			// As PostgreSQL: the first size%buckets buckets hold one row
			// more than the others.
			n := int64(b - a)
			per, rem := n/buckets, n%buckets
			big := rem * (per + 1)
			for r := int64(0); r < n; r++ {
				if r < big {
					out[a+int(r)] = r/(per+1) + 1
				} else {
					out[a+int(r)] = rem + (r-big)/per + 1
				}
			}
		}
	}
	return fixedArray(wb.w.mem, f.T, out, nil), nil
}

func (wb *winBuild) rankFloats(f *physical.WindowFunc) (arrow.Array, error) {
	if err := wantType(f, arrow.FLOAT64); err != nil {
		return nil, err
	}
	lay := &wb.lay
	out := make([]float64, lay.n)
	for p := range wb.parts() {
		a, b := wb.part(p)
		if err := checkCtx(wb.ctx, p); err != nil {
			return nil, err
		}
		n := float64(b - a)
		for i := a; i < b; i++ {
			g := lay.peerOf[i]
			if f.Fn == physical.WinPercentRank {
				if b-a > 1 {
					out[i] = float64(int(lay.peers[g])-a) / (n - 1)
				}
			} else {
				out[i] = float64(int(lay.peers[g+1])-a) / n
			}
		}
	}
	return fixedArray(wb.w.mem, f.T, out, nil), nil
}

// ---- lag / lead ----

func (wb *winBuild) lagLead(f *physical.WindowFunc) (arrow.Array, error) {
	if err := wantArgs(f, 1, 3); err != nil {
		return nil, err
	}
	n := wb.lay.n
	off := int64(1)
	if len(f.Args) >= 2 {
		k, ok, err := constArg(f, f.Args[1])
		if err != nil {
			return nil, err
		}
		if !ok {
			return array.MakeArrayOfNull(wb.w.mem, f.T, n), nil
		}
		off = max(min(k, maxShift), -maxShift)
	}
	if f.Fn == physical.WinLag {
		off = -off
	}
	val, err := wb.valueArg(f, f.Args[0])
	if err != nil {
		return nil, err
	}
	defer val.Release()
	srcs := []arrow.Array{val}
	var which []int32
	if len(f.Args) == 3 {
		def, err := wb.valueArg(f, f.Args[2])
		if err != nil {
			return nil, err
		}
		defer def.Release()
		srcs = append(srcs, def)
		which = make([]int32, n)
	}
	pos := make([]int32, n)
	for p := range wb.parts() {
		a, b := wb.part(p)
		if err := checkCtx(wb.ctx, p); err != nil {
			return nil, err
		}
		for i := a; i < b; i++ {
			j := int64(i) + off
			switch {
			case j >= int64(a) && j < int64(b):
				pos[i] = int32(j)
			case which != nil:
				which[i], pos[i] = 1, int32(i)
			default:
				pos[i] = -1
			}
		}
	}
	return gatherColumn(wb.w.mem, f.T, srcs, which, pos)
}

// valueArg evaluates an argument whose values the function returns, in
// output order, checking it has the function's type.
func (wb *winBuild) valueArg(f *physical.WindowFunc, e physical.Expr) (arrow.Array, error) {
	val, err := wb.permuted(e)
	if err != nil {
		return nil, err
	}
	if !arrow.TypeEqual(val.DataType(), f.T) {
		val.Release()
		return nil, internalf("window function %s of type %s over an argument of type %s", f.Fn, f.T, val.DataType())
	}
	return val, nil
}

// ---- frames ----

// defaultFrame is what the zero Frame stands for (ROWS BETWEEN UNBOUNDED
// PRECEDING AND UNBOUNDED PRECEDING is not a valid frame): RANGE BETWEEN
// UNBOUNDED PRECEDING AND CURRENT ROW, the whole partition without ORDER BY.
var defaultFrame = physical.Frame{
	Unit:  physical.FrameRange,
	Start: physical.FrameBound{Kind: physical.UnboundedPreceding},
	End:   physical.FrameBound{Kind: physical.CurrentRow},
}

func isOffset(b physical.FrameBound) bool {
	return b.Kind == physical.Preceding || b.Kind == physical.Following
}

// frames returns each position's frame as [fs, fe) in output positions,
// empty when fs ≥ fe. Both ends never decrease along a partition.
func (wb *winBuild) frames(fr physical.Frame) (fs, fe []int32, err error) {
	if fr == (physical.Frame{}) {
		fr = defaultFrame
	}
	n := wb.lay.n
	fs, fe = make([]int32, n), make([]int32, n)
	switch fr.Unit {
	case physical.FrameRows:
		so, err := rowsOffset(fr.Start)
		if err != nil {
			return nil, nil, err
		}
		eo, err := rowsOffset(fr.End)
		if err != nil {
			return nil, nil, err
		}
		for p := range wb.parts() {
			a, b := wb.part(p)
			for i := a; i < b; i++ {
				fs[i] = rowsBound(fr.Start.Kind, so, i, a, b, false)
				fe[i] = rowsBound(fr.End.Kind, eo, i, a, b, true)
			}
		}
	case physical.FrameRange:
		var rs [2]*rangeSearch
		for k, bd := range []physical.FrameBound{fr.Start, fr.End} {
			if isOffset(bd) {
				if rs[k], err = wb.rangeSearch(bd); err != nil {
					return nil, nil, err
				}
			}
		}
		var valid validSrc
		nullsFirst := false
		if rs[0] != nil || rs[1] != nil {
			key, sk, err := wb.orderKeyArray()
			if err != nil {
				return nil, nil, err
			}
			valid, nullsFirst = validOf(key), sk.NullsFirst
		}
		lay := &wb.lay
		for p := range wb.parts() {
			a, b := wb.part(p)
			if err := checkCtx(wb.ctx, p); err != nil {
				return nil, nil, err
			}
			// Rows with a NULL key sort together at one end; offsets
			// search the others.
			lo, hi := a, b
			if valid.bits != nil {
				nulls := 0
				for i := a; i < b; i++ {
					if !valid.ok(i) {
						nulls++
					}
				}
				if nullsFirst {
					lo += nulls
				} else {
					hi -= nulls
				}
			}
			for i := a; i < b; i++ {
				g := lay.peerOf[i]
				ps, pe := int(lay.peers[g]), int(lay.peers[g+1])
				null := !valid.ok(i)
				fs[i] = int32(rangeBound(fr.Start, rs[0], i, a, b, lo, hi, ps, pe, null, false))
				fe[i] = int32(rangeBound(fr.End, rs[1], i, a, b, lo, hi, ps, pe, null, true))
			}
		}
	case physical.FrameGroups:
		so, err := rowsOffset(fr.Start)
		if err != nil {
			return nil, nil, err
		}
		eo, err := rowsOffset(fr.End)
		if err != nil {
			return nil, nil, err
		}
		lay := &wb.lay
		for p := range wb.parts() {
			a, b := wb.part(p)
			ga, gb := int64(lay.peerOf[a]), int64(lay.peerOf[b-1])
			for i := a; i < b; i++ {
				g := int64(lay.peerOf[i])
				fs[i] = groupsBound(lay.peers, fr.Start.Kind, so, g, ga, gb, a, b, false)
				fe[i] = groupsBound(lay.peers, fr.End.Kind, eo, g, ga, gb, a, b, true)
			}
		}
	default:
		return nil, nil, internalf("window frame unit %d", fr.Unit)
	}
	return fs, fe, nil
}

// groupsBound is one end of a GROUPS frame for a row of peer group g in a
// partition [a, b) whose groups are ga…gb; end bounds are exclusive.
func groupsBound(peers []int32, kind physical.BoundKind, off, g, ga, gb int64, a, b int, end bool) int32 {
	switch kind {
	case physical.UnboundedPreceding:
		return int32(a)
	case physical.UnboundedFollowing:
		return int32(b)
	case physical.Preceding:
		g -= off
	case physical.Following:
		g += off
	}
	if end {
		g++ // the end is the start of the next group
	}
	switch {
	case g < ga:
		return int32(a)
	case g > gb:
		return int32(b)
	}
	return peers[g]
}

// offsetValue is a bound's offset in Literal.Value form (a *Literal is
// accepted too).
func offsetValue(b physical.FrameBound) any {
	if l, ok := b.Offset.(*physical.Literal); ok {
		return l.Value
	}
	return b.Offset
}

func rowsOffset(b physical.FrameBound) (int64, error) {
	if !isOffset(b) {
		return 0, nil
	}
	n, ok := asInt64(offsetValue(b))
	if !ok {
		return 0, internalf("ROWS frame offset %v (%T) is not an integer", b.Offset, b.Offset)
	}
	if n < 0 {
		return 0, sqlerr.New(codeInvalidFrameOffset, "frame offset must not be negative")
	}
	return min(n, maxShift), nil
}

// rowsBound is one end of position i's ROWS frame in partition [a, b); end
// bounds are exclusive.
func rowsBound(kind physical.BoundKind, off int64, i, a, b int, end bool) int32 {
	x := int64(i)
	switch kind {
	case physical.UnboundedPreceding:
		return int32(a)
	case physical.UnboundedFollowing:
		return int32(b)
	case physical.Preceding:
		x -= off
	case physical.Following:
		x += off
	}
	if end {
		x++
	}
	return int32(max(min(x, int64(b)), int64(a)))
}

// rangeBound is one end of position i's RANGE frame: [ps, pe) is its peer
// group, [lo, hi) the positions of its partition [a, b) with a non-NULL
// key. A row with a NULL key has only its peers in offset range, and
// NULL keys are out of range of every other key, as in PostgreSQL.
func rangeBound(bd physical.FrameBound, rs *rangeSearch, i, a, b, lo, hi, ps, pe int, null, end bool) int {
	switch bd.Kind {
	case physical.UnboundedPreceding:
		return a
	case physical.UnboundedFollowing:
		return b
	case physical.CurrentRow:
		if end {
			return pe
		}
		return ps
	}
	if null {
		if end {
			return pe
		}
		return ps
	}
	return rs.first(i, lo, hi, bd.Kind == physical.Preceding, end)
}

// rangeSearch finds RANGE offset bounds by binary search on the ORDER BY
// key in output order.
type rangeSearch struct {
	desc bool
	// cmp compares the key at position r with the key at position i moved
	// by the offset, back (toward preceding rows) or forward, in
	// ascending key order.
	cmp func(r, i int, back bool) int
}

// first returns the first position in [lo, hi) whose key is, in the
// window's order, at or past (strict: past) position i's key moved by the
// offset.
func (rs *rangeSearch) first(i, lo, hi int, back, strict bool) int {
	return lo + sort.Search(hi-lo, func(x int) bool {
		c := rs.cmp(lo+x, i, back != rs.desc)
		if rs.desc {
			c = -c
		}
		if strict {
			return c > 0
		}
		return c >= 0
	})
}

func (wb *winBuild) rangeSearch(bd physical.FrameBound) (*rangeSearch, error) {
	key, sk, err := wb.orderKeyArray()
	if err != nil {
		return nil, err
	}
	bad := func() (*rangeSearch, error) {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "RANGE offset %v (%T) for an ORDER BY key of type %s",
			bd.Offset, bd.Offset, key.DataType())
	}
	negative := func() (*rangeSearch, error) {
		return nil, sqlerr.New(codeInvalidFrameOffset, "invalid preceding or following size in window function")
	}
	rs := &rangeSearch{desc: sk.Desc}
	offset := offsetValue(bd)
	switch k := key.(type) {
	case *array.Int8, *array.Int16, *array.Int32, *array.Int64, *array.Date32, *array.Timestamp:
		off, ok := asInt64(offset)
		if iv, isIv := offset.(arrow.MonthDayNanoInterval); isIv && iv.Months == 0 {
			off, ok = intervalUnits(iv, key.DataType())
		}
		if !ok {
			return bad()
		}
		if off < 0 {
			return negative()
		}
		keys := int64Keys(k)
		rs.cmp = func(r, i int, back bool) int {
			bound := satAdd(keys[i], off)
			if back {
				bound = satAdd(keys[i], -off)
			}
			return compareInts(keys[r], bound)
		}
	case *array.Float64:
		var off float64
		switch v := offset.(type) {
		case float64:
			off = v
		default:
			n, ok := asInt64(v)
			if !ok {
				return bad()
			}
			off = float64(n)
		}
		if off < 0 || off != off {
			return negative()
		}
		keys := k.Float64Values()
		rs.cmp = func(r, i int, back bool) int {
			if back {
				return floatCmp(keys[r], keys[i]-off)
			}
			return floatCmp(keys[r], keys[i]+off)
		}
	case *array.Decimal128:
		var off decimal128.Num
		switch v := offset.(type) {
		case decimal128.Num:
			off = v
		default:
			n, ok := asInt64(v)
			if !ok {
				return bad()
			}
			off = decimal128.FromI64(n).Mul(decimal128.GetScaleMultiplier(int(k.DataType().(*arrow.Decimal128Type).Scale)))
		}
		if off.Sign() < 0 {
			return negative()
		}
		// Keys and offset have at most 38 digits: their sum fits 128 bits.
		keys := k.Values()
		rs.cmp = func(r, i int, back bool) int {
			if back {
				return keys[r].Cmp(keys[i].Sub(off))
			}
			return keys[r].Cmp(keys[i].Add(off))
		}
	default:
		return bad()
	}
	return rs, nil
}

func compareInts(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// satAdd adds without wrapping around: a bound past the int64 range is in
// range of nothing but the extreme key itself.
func satAdd(a, b int64) int64 {
	s := a + b
	if (a^s)&(b^s) < 0 {
		if a < 0 {
			return math.MinInt64
		}
		return math.MaxInt64
	}
	return s
}

// intervalUnits converts a day/time interval to units of a date (days) or
// timestamp key.
func intervalUnits(iv arrow.MonthDayNanoInterval, t arrow.DataType) (int64, bool) {
	switch t := t.(type) {
	case *arrow.Date32Type:
		if iv.Nanoseconds != 0 {
			return 0, false
		}
		return int64(iv.Days), true
	case *arrow.TimestampType:
		perDay := int64(86400)
		nanosPer := int64(1_000_000_000)
		switch t.Unit {
		case arrow.Millisecond:
			perDay, nanosPer = 86_400_000, 1_000_000
		case arrow.Microsecond:
			perDay, nanosPer = 86_400_000_000, 1_000
		case arrow.Nanosecond:
			perDay, nanosPer = 86_400_000_000_000, 1
		}
		if iv.Nanoseconds%nanosPer != 0 {
			return 0, false
		}
		return int64(iv.Days)*perDay + iv.Nanoseconds/nanosPer, true
	}
	return 0, false
}

func int64Keys(a arrow.Array) []int64 {
	switch a := a.(type) {
	case *array.Int64:
		return a.Int64Values()
	case *array.Timestamp:
		return rawValues[int64](a)[:a.Len()]
	}
	out := make([]int64, a.Len())
	switch a := a.(type) {
	case *array.Int8:
		for i, v := range a.Int8Values() {
			out[i] = int64(v)
		}
	case *array.Int16:
		for i, v := range a.Int16Values() {
			out[i] = int64(v)
		}
	case *array.Int32:
		for i, v := range a.Int32Values() {
			out[i] = int64(v)
		}
	case *array.Date32:
		for i, v := range a.Date32Values() {
			out[i] = int64(v)
		}
	}
	return out
}

// ---- first_value, last_value, nth_value ----

func (wb *winBuild) frameValue(f *physical.WindowFunc) (arrow.Array, error) {
	var nth int64 = 1
	if f.Fn == physical.WinNthValue {
		if err := wantArgs(f, 2, 2); err != nil {
			return nil, err
		}
		k, ok, err := constArg(f, f.Args[1])
		if err != nil {
			return nil, err
		}
		if !ok {
			return array.MakeArrayOfNull(wb.w.mem, f.T, wb.lay.n), nil
		}
		if k <= 0 {
			return nil, sqlerr.New(codeInvalidNthValue, "argument of nth_value must be greater than zero")
		}
		nth = min(k, maxShift)
	} else if err := wantArgs(f, 1, 1); err != nil {
		return nil, err
	}
	fs, fe, err := wb.frames(f.Frame)
	if err != nil {
		return nil, err
	}
	val, err := wb.valueArg(f, f.Args[0])
	if err != nil {
		return nil, err
	}
	defer val.Release()
	pos := make([]int32, wb.lay.n)
	for i := range pos {
		s, e := int64(fs[i]), int64(fe[i])
		j := s + nth - 1
		if f.Fn == physical.WinLastValue {
			j = e - 1
		}
		if s < e && j < e {
			pos[i] = int32(j)
		} else {
			pos[i] = -1
		}
	}
	return gatherColumn(wb.w.mem, f.T, []arrow.Array{val}, nil, pos)
}

// ---- aggregates over frames ----

// frameAcc is an aggregate over a window that grows at its end and
// shrinks at its start: positions enter with add and leave with remove in
// increasing order; emit records the current value for position i.
type frameAcc interface {
	reset()
	add(j int)
	remove(j int)
	emit(i int)
	result(mem memory.Allocator, t arrow.DataType) (arrow.Array, error)
}

func (wb *winBuild) frameAgg(f *physical.WindowFunc) (arrow.Array, error) {
	n := wb.lay.n
	if f.Fn == physical.AggCountStar {
		if err := wantType(f, arrow.INT64); err != nil {
			return nil, err
		}
		fs, fe, err := wb.frames(f.Frame)
		if err != nil {
			return nil, err
		}
		out := make([]int64, n)
		for i := range out {
			out[i] = int64(max(fe[i]-fs[i], 0))
		}
		return fixedArray(wb.w.mem, f.T, out, nil), nil
	}
	nargs := 1
	if physical.TwoArg(f.Fn) || f.Fn == physical.AggStringAgg {
		nargs = 2
	}
	if err := wantArgs(f, nargs, nargs); err != nil {
		return nil, err
	}
	fs, fe, err := wb.frames(f.Frame)
	if err != nil {
		return nil, err
	}
	val, err := wb.permuted(f.Args[0])
	if err != nil {
		return nil, err
	}
	defer val.Release()
	var acc frameAcc
	switch f.Fn {
	case physical.AggVarSamp, physical.AggVarPop, physical.AggStddevSamp, physical.AggStddevPop:
		if acc, err = newVarAcc(f, val, n); err != nil {
			return nil, err
		}
	case physical.AggStringAgg:
		sep, err := stringConst(f, f.Args[1])
		if err != nil {
			return nil, err
		}
		sa, err := newStringAggAcc(wb.w.mem, f, val, sep)
		if err != nil {
			return nil, err
		}
		defer sa.release()
		acc = sa
	case physical.AggCount:
		if err := wantType(f, arrow.INT64); err != nil {
			return nil, err
		}
		acc = &countAcc{valid: validOf(val), out: make([]int64, n)}
	case physical.AggSum, physical.AggAvg:
		if val.DataType().ID() == arrow.NULL {
			return array.MakeArrayOfNull(wb.w.mem, f.T, n), nil
		}
		if acc, err = newSumAcc(f, val, n); err != nil {
			return nil, err
		}
	case physical.AggMin, physical.AggMax:
		if !arrow.TypeEqual(val.DataType(), f.T) {
			return nil, internalf("window function %s of type %s over an argument of type %s", f.Fn, f.T, val.DataType())
		}
		if val.DataType().ID() == arrow.NULL {
			return array.MakeArrayOfNull(wb.w.mem, f.T, n), nil
		}
		cmp, err := baseCmp(val)
		if err != nil {
			return nil, err
		}
		acc = &minMaxAcc{val: val, valid: validOf(val), cmp: cmp, max: f.Fn == physical.AggMax, pos: make([]int32, n)}
		// min and max ignore DISTINCT.
		f = &physical.WindowFunc{Fn: f.Fn, Args: f.Args, Frame: f.Frame, T: f.T}
	default: // the two-argument statistics (y, x)
		if f.Distinct {
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "DISTINCT is not implemented for window functions")
		}
		x, err := wb.permuted(f.Args[1])
		if err != nil {
			return nil, err
		}
		defer x.Release()
		if acc, err = newRegrAcc(f, val, x, n); err != nil {
			return nil, err
		}
	}
	if f.Distinct {
		// As the planner allows: one argument, whole partitions.
		if !wb.wholePartitions(fs, fe) {
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "DISTINCT is not implemented for window functions (%s over a frame smaller than the partition)", f.Fn)
		}
		err = wb.walkDistinct(acc, val)
	} else {
		err = wb.walk(acc, fs, fe)
	}
	if err != nil {
		return nil, err
	}
	return acc.result(wb.w.mem, f.T)
}

// walk slides acc over the frames of each partition. Frames whose ends
// move forward cost one add and one remove per row; a frame that jumps
// back or past the current window starts afresh.
func (wb *winBuild) walk(acc frameAcc, fs, fe []int32) error {
	for p := range wb.parts() {
		a, b := wb.part(p)
		acc.reset()
		lo, hi := a, a // positions [lo, hi) are in acc
		for i := a; i < b; i++ {
			if err := checkCtx(wb.ctx, i); err != nil {
				return err
			}
			s, e := int(fs[i]), int(fe[i])
			if s >= e {
				if lo != hi {
					acc.reset()
				}
				lo, hi = s, s
				acc.emit(i)
				continue
			}
			if s < lo || e < hi || s >= hi {
				if lo != hi {
					acc.reset()
				}
				lo, hi = s, s
			}
			for ; hi < e; hi++ {
				acc.add(hi)
			}
			for ; lo < s; lo++ {
				acc.remove(lo)
			}
			acc.emit(i)
		}
	}
	return nil
}

func (wb *winBuild) wholePartitions(fs, fe []int32) bool {
	for p := range wb.parts() {
		a, b := wb.part(p)
		for i := a; i < b; i++ {
			if int(fs[i]) != a || int(fe[i]) != b {
				return false
			}
		}
	}
	return true
}

// walkDistinct feeds each distinct non-NULL value of a partition to acc
// once (found by sorting the partition's positions by value) and emits the
// result for every row of the partition.
func (wb *winBuild) walkDistinct(acc frameAcc, val arrow.Array) error {
	cmp, err := baseCmp(val)
	if err != nil {
		return err
	}
	valid := validOf(val)
	var idx []int32
	for p := range wb.parts() {
		a, b := wb.part(p)
		if err := checkCtx(wb.ctx, p); err != nil {
			return err
		}
		idx = idx[:0]
		for j := a; j < b; j++ {
			if valid.ok(j) {
				idx = append(idx, int32(j))
			}
		}
		slices.SortFunc(idx, func(x, y int32) int { return cmp(int(x), int(y)) })
		acc.reset()
		for k, j := range idx {
			if k > 0 && cmp(int(idx[k-1]), int(j)) == 0 {
				continue
			}
			acc.add(int(j))
		}
		for i := a; i < b; i++ {
			acc.emit(i)
		}
	}
	return nil
}

// ---- count ----

type countAcc struct {
	valid validSrc
	n     int64
	out   []int64
}

func (c *countAcc) reset() { c.n = 0 }
func (c *countAcc) add(j int) {
	if c.valid.ok(j) {
		c.n++
	}
}
func (c *countAcc) remove(j int) {
	if c.valid.ok(j) {
		c.n--
	}
}
func (c *countAcc) emit(i int) { c.out[i] = c.n }
func (c *countAcc) result(mem memory.Allocator, t arrow.DataType) (arrow.Array, error) {
	return fixedArray(mem, t, c.out, nil), nil
}

// ---- sum / avg ----

// numResult collects sum or avg values: ints for integer sums, decs for
// decimal sums, floats for float sums and every avg.
type numResult struct {
	avg    bool
	scale  int32
	ints   []int64
	decs   []decimal128.Num
	floats []float64
	valid  []bool
	err    error
}

func newSumAcc(f *physical.WindowFunc, val arrow.Array, n int) (frameAcc, error) {
	avg := f.Fn == physical.AggAvg
	res := &numResult{avg: avg, valid: make([]bool, n)}
	if avg {
		if err := wantType(f, arrow.FLOAT64); err != nil {
			return nil, err
		}
		res.floats = make([]float64, n)
	}
	valid := validOf(val)
	intSum := func() error {
		if !avg {
			if err := wantType(f, arrow.INT64); err != nil {
				return err
			}
			res.ints = make([]int64, n)
		}
		return nil
	}
	switch a := val.(type) {
	case *array.Int64:
		if err := intSum(); err != nil {
			return nil, err
		}
		return &intSumAcc[int64]{vals: a.Int64Values(), valid: valid, res: res}, nil
	case *array.Int32:
		if err := intSum(); err != nil {
			return nil, err
		}
		return &intSumAcc[int32]{vals: a.Int32Values(), valid: valid, res: res}, nil
	case *array.Int16:
		if err := intSum(); err != nil {
			return nil, err
		}
		return &intSumAcc[int16]{vals: a.Int16Values(), valid: valid, res: res}, nil
	case *array.Int8:
		if err := intSum(); err != nil {
			return nil, err
		}
		return &intSumAcc[int8]{vals: a.Int8Values(), valid: valid, res: res}, nil
	case *array.Float64:
		if !avg {
			if err := wantType(f, arrow.FLOAT64); err != nil {
				return nil, err
			}
			res.floats = make([]float64, n)
		}
		return &floatSumAcc{vals: a.Float64Values(), valid: valid, res: res}, nil
	case *array.Decimal128:
		res.scale = a.DataType().(*arrow.Decimal128Type).Scale
		if !avg {
			t, ok := f.T.(*arrow.Decimal128Type)
			if !ok || t.Scale != res.scale {
				return nil, internalf("window sum of %s typed %s", a.DataType(), f.T)
			}
			res.decs = make([]decimal128.Num, n)
		}
		return &decSumAcc{vals: a.Values(), valid: valid, res: res}, nil
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "%s of %s over a window", f.Fn, val.DataType())
}

func (r *numResult) result(mem memory.Allocator, t arrow.DataType) (arrow.Array, error) {
	if r.err != nil {
		return nil, r.err
	}
	switch {
	case r.ints != nil:
		return fixedArray(mem, t, r.ints, r.valid), nil
	case r.decs != nil:
		prec := t.(*arrow.Decimal128Type).Precision
		for i, d := range r.decs {
			if r.valid[i] && !d.FitsInPrecision(prec) {
				return nil, sqlerr.New(sqlerr.NumericOutOfRange, "numeric field overflow: sum does not fit DECIMAL(%d,%d)", prec, r.scale)
			}
		}
		return fixedArray(mem, t, r.decs, r.valid), nil
	}
	return fixedArray(mem, t, r.floats, r.valid), nil
}

// intSumAcc sums integers exactly in 128 bits (hi:lo), so only a result
// outside bigint fails, not an intermediate sum.
type intSumAcc[T int8 | int16 | int32 | int64] struct {
	vals  []T
	valid validSrc
	hi    int64
	lo    uint64
	cnt   int64
	res   *numResult
}

func (a *intSumAcc[T]) reset() { a.hi, a.lo, a.cnt = 0, 0, 0 }

func (a *intSumAcc[T]) add(j int) {
	if !a.valid.ok(j) {
		return
	}
	v := int64(a.vals[j])
	lo, c := bits.Add64(a.lo, uint64(v), 0)
	a.hi += v>>63 + int64(c)
	a.lo = lo
	a.cnt++
}

func (a *intSumAcc[T]) remove(j int) {
	if !a.valid.ok(j) {
		return
	}
	v := int64(a.vals[j])
	lo, bw := bits.Sub64(a.lo, uint64(v), 0)
	a.hi -= v>>63 + int64(bw)
	a.lo = lo
	a.cnt--
}

func (a *intSumAcc[T]) emit(i int) {
	if a.cnt == 0 {
		return
	}
	r := a.res
	r.valid[i] = true
	fits := a.hi == int64(a.lo)>>63
	if r.avg {
		if fits {
			r.floats[i] = float64(int64(a.lo)) / float64(a.cnt)
		} else {
			r.floats[i] = ratFloat(decimal128.New(a.hi, a.lo).BigInt(), big.NewInt(a.cnt))
		}
		return
	}
	if !fits && r.err == nil {
		r.err = sqlerr.New(sqlerr.NumericOutOfRange, "bigint out of range")
	}
	r.ints[i] = int64(a.lo)
}

func (a *intSumAcc[T]) result(mem memory.Allocator, t arrow.DataType) (arrow.Array, error) {
	return a.res.result(mem, t)
}

func ratFloat(num, den *big.Int) float64 {
	f, _ := new(big.Rat).SetFrac(num, den).Float64()
	return f
}

// decSumAcc sums decimals at one scale in 128 bits. It counts the times
// the sum wrapped around (wraps): the running sum is exact whenever that
// count is zero, however the frame got there.
type decSumAcc struct {
	vals  []decimal128.Num
	valid validSrc
	sum   decimal128.Num
	wraps int64
	cnt   int64
	res   *numResult
}

func (a *decSumAcc) reset() { a.sum, a.wraps, a.cnt = decimal128.Num{}, 0, 0 }

func (a *decSumAcc) add(j int) {
	if !a.valid.ok(j) {
		return
	}
	y := a.vals[j]
	sum, wrapped := add128(a.sum, y)
	if wrapped < 0 {
		if y.HighBits() >= 0 {
			a.wraps++
		} else {
			a.wraps--
		}
	}
	a.sum = sum
	a.cnt++
}

func (a *decSumAcc) remove(j int) {
	if !a.valid.ok(j) {
		return
	}
	x, y := a.sum, a.vals[j]
	lo, bw := bits.Sub64(x.LowBits(), y.LowBits(), 0)
	hi := x.HighBits() - y.HighBits() - int64(bw)
	if (x.HighBits()^y.HighBits())&(x.HighBits()^hi) < 0 {
		if y.HighBits() < 0 {
			a.wraps++
		} else {
			a.wraps--
		}
	}
	a.sum = decimal128.New(hi, lo)
	a.cnt--
}

func (a *decSumAcc) emit(i int) {
	if a.cnt == 0 {
		return
	}
	r := a.res
	if a.wraps != 0 {
		if r.err == nil {
			r.err = sqlerr.New(sqlerr.NumericOutOfRange, "numeric field overflow in sum")
		}
		return
	}
	r.valid[i] = true
	if r.avg {
		r.floats[i] = decAvg(a.sum, r.scale, a.cnt)
		return
	}
	r.decs[i] = a.sum
}

func (a *decSumAcc) result(mem memory.Allocator, t arrow.DataType) (arrow.Array, error) {
	return a.res.result(mem, t)
}

// decAvg is sum/count/10^scale rounded once to the nearest float64, as
// HashAggregate's avg: directly when every operand is exact in a float64.
func decAvg(sum decimal128.Num, scale int32, cnt int64) float64 {
	const exact = 1 << 53
	if sum.HighBits() == int64(sum.LowBits())>>63 && scale >= 0 && scale <= 15 {
		v := int64(sum.LowBits())
		p := int64(1)
		for range scale {
			p *= 10
		}
		if v > -exact && v < exact && cnt <= exact/p {
			return float64(v) / float64(p*cnt)
		}
	}
	den := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)
	den.Mul(den, big.NewInt(cnt))
	return ratFloat(sum.BigInt(), den)
}

// floatSumAcc sums doubles with Neumaier's compensation so values leaving
// the frame do not leave rounding residue behind, and counts NaNs and
// infinities apart (Inf - Inf would poison the running sum).
type floatSumAcc struct {
	vals            []float64
	valid           validSrc
	s, c            float64
	fin             int64 // finite values in s
	nan, pinf, ninf int64
	cnt             int64
	res             *numResult
}

func (a *floatSumAcc) reset() {
	a.s, a.c, a.fin, a.nan, a.pinf, a.ninf, a.cnt = 0, 0, 0, 0, 0, 0, 0
}

func (a *floatSumAcc) sum(v float64) {
	t := a.s + v
	if math.Abs(a.s) >= math.Abs(v) {
		a.c += (a.s - t) + v
	} else {
		a.c += (v - t) + a.s
	}
	a.s = t
}

func (a *floatSumAcc) step(j int, d int64) {
	if !a.valid.ok(j) {
		return
	}
	a.cnt += d
	v := a.vals[j]
	switch {
	case v != v:
		a.nan += d
	case math.IsInf(v, 1):
		a.pinf += d
	case math.IsInf(v, -1):
		a.ninf += d
	default:
		a.fin += d
		if a.fin == 0 {
			a.s, a.c = 0, 0
		} else if d > 0 {
			a.sum(v)
		} else {
			a.sum(-v)
		}
	}
}

func (a *floatSumAcc) add(j int)    { a.step(j, 1) }
func (a *floatSumAcc) remove(j int) { a.step(j, -1) }

func (a *floatSumAcc) emit(i int) {
	if a.cnt == 0 {
		return
	}
	var v float64
	switch {
	case a.nan > 0 || (a.pinf > 0 && a.ninf > 0):
		v = math.NaN()
	case a.pinf > 0:
		v = math.Inf(1)
	case a.ninf > 0:
		v = math.Inf(-1)
	default:
		v = a.s + a.c
	}
	r := a.res
	r.valid[i] = true
	if r.avg {
		v /= float64(a.cnt)
	}
	r.floats[i] = v
}

func (a *floatSumAcc) result(mem memory.Allocator, t arrow.DataType) (arrow.Array, error) {
	return a.res.result(mem, t)
}

// ---- min / max ----

// minMaxAcc keeps a monotonic deque of positions: each is better than all
// after it, so the front is the frame's extreme and every position enters
// and leaves at most once.
type minMaxAcc struct {
	val   arrow.Array
	valid validSrc
	cmp   rowCmp
	max   bool
	dq    []int32
	head  int
	pos   []int32 // chosen position per row, -1 for NULL
}

func (m *minMaxAcc) reset() { m.dq, m.head = m.dq[:0], 0 }

func (m *minMaxAcc) add(j int) {
	if !m.valid.ok(j) {
		return
	}
	for len(m.dq) > m.head {
		c := m.cmp(int(m.dq[len(m.dq)-1]), j)
		if (m.max && c > 0) || (!m.max && c < 0) {
			break
		}
		m.dq = m.dq[:len(m.dq)-1]
	}
	if m.head > 1024 && 2*m.head > len(m.dq) {
		m.dq = m.dq[:copy(m.dq, m.dq[m.head:])]
		m.head = 0
	}
	m.dq = append(m.dq, int32(j))
}

func (m *minMaxAcc) remove(j int) {
	if len(m.dq) > m.head && int(m.dq[m.head]) == j {
		m.head++
	}
}

func (m *minMaxAcc) emit(i int) {
	if len(m.dq) > m.head {
		m.pos[i] = m.dq[m.head]
	} else {
		m.pos[i] = -1
	}
}

func (m *minMaxAcc) result(mem memory.Allocator, t arrow.DataType) (arrow.Array, error) {
	return gatherColumn(mem, t, []arrow.Array{m.val}, nil, m.pos)
}

// constValue is the Literal.Value of an argument that must be constant.
func constValue(f *physical.WindowFunc, e physical.Expr) (any, error) {
	if l, ok := e.(*physical.Literal); ok {
		return l.Value, nil
	}
	v, err := EvalConst(e)
	if err != nil {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "%s: argument %s must be a constant", f.Fn, e)
	}
	return v, nil
}

// stringConst is the value of a constant text argument (string_agg's
// separator); "" for NULL, which PostgreSQL puts nothing for.
func stringConst(f *physical.WindowFunc, e physical.Expr) (string, error) {
	v, err := constValue(f, e)
	if err != nil {
		return "", err
	}
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	}
	return "", internalf("%s: argument %v (%T) is not text", f.Fn, v, v)
}
