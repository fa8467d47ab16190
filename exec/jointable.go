package exec

import (
	"math"
	"math/bits"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/exec/kernels"
)

// tableKind is how a join table finds the rows of a key.
type tableKind int

const (
	kindCross   tableKind = iota // no keys: every build row is a candidate
	kindInt32                    // one int32 or date32 key
	kindInt64                    // one int64 or timestamp key
	kindFloat64                  // one float64 key (-0 = 0, NaN = NaN)
	kindString                   // one string key
	kindPacked                   // integer keys whose ranges pack into one int64
	kindGeneric                  // anything else: injective byte encoding
)

// joinTable indexes the build rows of a hash join. Build rows are numbered
// 0..rows-1 across the retained build batches (batchOf/rowOf locate them);
// each distinct key maps to the first row of a chain linked through next
// (-1 ends a chain). Chains list rows in build order. loc[id] is batch<<32
// | row of build row id.
type joinTable struct {
	kind       tableKind
	nullsEqual bool

	ints     *intTable
	dense    *denseTable      // instead of ints when the keys span a narrow range
	strs     map[string]int32 // views into the retained build key arrays
	gen      map[string]int32
	nullHead int32 // chain of NULL-key rows (NullsEqual, typed kinds)
	nkeys    int
	pack     []packCol
	packed   []int64 // scratch: packed keys of a batch

	next []int32
	loc  []uint64
	rows int
	// nullKeys is set when some build row has a NULL in some key.
	nullKeys bool

	buf []byte
	// bufs back next, loc and the int table with memory from the query's
	// allocator, so the memory limit sees them.
	mem  memory.Allocator
	bufs []*memory.Buffer
	// gomem charges the Go maps of string and composite keys.
	gomem goMemory
}

// allocSlice returns a zeroed slice of n Ts backed by t's allocator.
func allocSlice[T any](t *joinTable, n int) []T {
	s := allocUninit[T](t, n)
	clear(s)
	return s
}

// allocUninit is allocSlice for slices the caller overwrites entirely:
// build-side arrays of millions of rows cost as much to zero as to fill.
func allocUninit[T any](t *joinTable, n int) []T {
	if n == 0 {
		return nil
	}
	var zero T
	b := kernels.NewBuffer(t.mem, n*int(unsafe.Sizeof(zero)))
	t.bufs = append(t.bufs, b)
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b.Bytes()))), n)
}

// release frees the table's memory; the table is unusable afterwards.
func (t *joinTable) release() {
	t.gomem.release()
	releaseAll(t.bufs)
	t.bufs = nil
	t.next, t.loc, t.ints, t.dense, t.strs, t.gen = nil, nil, nil, nil, nil, nil
}

func newJoinTable(mem memory.Allocator, types []arrow.DataType, nullsEqual bool) *joinTable {
	t := &joinTable{kind: kindGeneric, nullsEqual: nullsEqual, nullHead: -1, mem: mem, nkeys: len(types)}
	switch {
	case len(types) == 0:
		t.kind = kindCross
	case len(types) == 1:
		switch types[0].ID() {
		case arrow.INT32, arrow.DATE32:
			t.kind = kindInt32
		case arrow.INT64, arrow.TIMESTAMP:
			t.kind = kindInt64
		case arrow.FLOAT64:
			t.kind = kindFloat64
		case arrow.STRING:
			t.kind = kindString
		}
	default:
		// NULL = NULL over several columns needs the byte encoding.
		packable := !nullsEqual
		for _, dt := range types {
			packable = packable && isIntKey(dt)
		}
		if packable {
			t.kind = kindPacked // if the build side's ranges allow
		}
	}
	return t
}

func isIntKey(dt arrow.DataType) bool {
	switch dt.ID() {
	case arrow.INT32, arrow.DATE32, arrow.INT64, arrow.TIMESTAMP:
		return true
	}
	return false
}

// packCol is one key column of a kindPacked table: its values v in
// [min, min+span] become (v-min) << shift of the packed key.
type packCol struct {
	min   int64
	span  uint64
	shift uint
}

// preparePack sets up packing keys (all of a table's key columns across
// its build batches) into one int64 of at most 62 bits, and returns the
// greatest packed key; false when the ranges are too wide.
func (t *joinTable) preparePack(keys [][]arrow.Array) (int64, bool) {
	t.pack = make([]packCol, t.nkeys)
	var maxKey uint64
	shift := uint(0)
	for c := range t.pack {
		lo, hi, found := int64(math.MaxInt64), int64(math.MinInt64), false
		for _, ks := range keys {
			if l, h, ok := intKeyRange(ks[c]); ok {
				lo, hi, found = min(lo, l), max(hi, h), true
			}
		}
		pc := packCol{shift: shift}
		if found {
			pc.min, pc.span = lo, uint64(hi)-uint64(lo)
		}
		shift += uint(bits.Len64(pc.span))
		if shift > 62 {
			return 0, false
		}
		maxKey |= pc.span << pc.shift
		t.pack[c] = pc
	}
	return int64(maxKey), true
}

func intKeyRange(a arrow.Array) (lo, hi int64, ok bool) {
	if a.DataType().ID() == arrow.INT32 || a.DataType().ID() == arrow.DATE32 {
		return valueRange(a, int32Values(a))
	}
	return valueRange(a, int64Values(a))
}

// packKeys returns the packed keys of the rows of keys, -1 (no build key)
// for rows with a value outside the build side's range. Rows with a NULL
// get any value: the caller handles them.
func (t *joinTable) packKeys(keys []arrow.Array) []int64 {
	n := keys[0].Len()
	if cap(t.packed) < n {
		t.packed = make([]int64, n)
	}
	out := t.packed[:n]
	clear(out)
	for c, k := range keys {
		pc := t.pack[c]
		if k.DataType().ID() == arrow.INT32 || k.DataType().ID() == arrow.DATE32 {
			packInto(out, int32Values(k), pc)
		} else {
			packInto(out, int64Values(k), pc)
		}
	}
	return out
}

func packInto[T int32 | int64](out []int64, vals []T, pc packCol) {
	vals = vals[:len(out)]
	for i, v := range vals {
		d := uint64(int64(v)) - uint64(pc.min)
		if d > pc.span || out[i] < 0 {
			out[i] = -1
			continue
		}
		out[i] |= int64(d << pc.shift)
	}
}

// build indexes all rows of the build batches, given each batch's key
// arrays.
func (t *joinTable) build(keys [][]arrow.Array, sizes []int) error {
	total := 0
	for _, n := range sizes {
		total += n
	}
	if total > math.MaxInt32 {
		return sqlerr.New(sqlerr.FeatureNotSupported, "hash join build side of more than 2^31 rows")
	}
	t.rows = total
	// Every row's next and loc are written below.
	t.next = allocUninit[int32](t, total)
	t.loc = allocUninit[uint64](t, total)
	id := 0
	for b, n := range sizes {
		for r := 0; r < n; r++ {
			t.loc[id] = uint64(b)<<32 | uint64(r)
			id++
		}
	}
	switch t.kind {
	case kindCross:
		for i := range t.next {
			t.next[i] = int32(i + 1)
		}
		if total > 0 {
			t.next[total-1] = -1
		}
		return nil
	case kindInt32, kindInt64:
		t.newIntIndex(keys, total)
	case kindPacked:
		if hi, ok := t.preparePack(keys); ok {
			t.chooseIntIndex(0, hi, true, total)
			break
		}
		t.kind = kindGeneric
		fallthrough
	default:
		// Encoded keys are Go strings of their own: about 16 bytes each.
		t.gomem = newGoMemory(t.mem)
		t.gomem.set(int64(total) * (mapEntryBytes + goStringHeader + 16))
		t.gen = make(map[string]int32, total)
	case kindFloat64:
		t.ints = newIntTable(t, total)
	case kindString:
		t.gomem = newGoMemory(t.mem)
		t.gomem.set(int64(total) * mapEntryBytes)
		t.strs = make(map[string]int32, total)
	}
	// Insert backwards and prepend to chains, so chains run in build order.
	base := total
	for b := len(sizes) - 1; b >= 0; b-- {
		base -= sizes[b]
		if err := t.insert(keys[b], base, sizes[b]); err != nil {
			return err
		}
	}
	return nil
}

// rowNulls sets null[i] for rows with a NULL in some key and reports
// whether any was found.
func rowNulls(keys []arrow.Array, null []bool) bool {
	clear(null)
	found := false
	for _, k := range keys {
		if k.NullN() == 0 {
			continue
		}
		found = true
		for i := range null {
			if k.IsNull(i) {
				null[i] = true
			}
		}
	}
	return found
}

func (t *joinTable) insert(keys []arrow.Array, base, n int) error {
	null := make([]bool, n)
	if rowNulls(keys, null) {
		t.nullKeys = true
	}
	// link prepends row id to the chain of its key, or of the NULL key;
	// it reports false when the row was handled here.
	link := func(r int) bool {
		id := int32(base + r)
		if !null[r] {
			return true
		}
		if t.nullsEqual && t.kind != kindGeneric {
			t.next[id] = t.nullHead
			t.nullHead = id
			return false
		}
		if !t.nullsEqual {
			t.next[id] = -1
			return false
		}
		return true
	}
	switch t.kind {
	case kindInt32:
		insertInts(t, int32Values(keys[0]), base, null, link)
	case kindInt64:
		insertInts(t, int64Values(keys[0]), base, null, link)
	case kindFloat64:
		insertInts(t, floatKeys(keys[0]), base, null, link)
	case kindPacked:
		insertInts(t, t.packKeys(keys), base, null, link)
	case kindString:
		a := keys[0].(*array.String)
		for r := n - 1; r >= 0; r-- {
			if !link(r) {
				continue
			}
			id := int32(base + r)
			s := a.Value(r)
			if h, ok := t.strs[s]; ok {
				t.next[id] = h
			} else {
				t.next[id] = -1
			}
			t.strs[s] = id
		}
	default:
		encs, err := keyEncoders(keys)
		if err != nil {
			return err
		}
		for r := n - 1; r >= 0; r-- {
			if !link(r) {
				continue
			}
			id := int32(base + r)
			t.buf = encodeRow(t.buf[:0], encs, r)
			if h, ok := t.gen[string(t.buf)]; ok {
				t.next[id] = h
			} else {
				t.next[id] = -1
			}
			t.gen[string(t.buf)] = id
		}
	}
	return nil
}

func insertInts[T ~int32 | ~int64 | ~uint64](t *joinTable, vals []T, base int, null []bool, link func(int) bool) {
	vals = vals[:len(null)]
	next := t.next
	if d := t.dense; d != nil {
		heads, lo := d.heads, d.min
		for r := len(vals) - 1; r >= 0; r-- {
			if null[r] && !link(r) {
				continue
			}
			id := int32(base + r)
			k := int64(vals[r]) - lo
			next[id] = heads[k] - 1
			heads[k] = id + 1
		}
		return
	}
	// Equal keys often come in runs (a foreign key sorted with its table):
	// a row with the key of the row inserted just before joins its chain
	// without probing.
	var last *intSlot
	var lastKey int64
	for r := len(vals) - 1; r >= 0; r-- {
		if null[r] && !link(r) {
			continue
		}
		id := int32(base + r)
		k := int64(vals[r])
		if last == nil || k != lastKey {
			last, lastKey = t.ints.slot(k), k
		}
		next[id] = last.head - 1
		last.key, last.head = k, id+1
	}
}

// lookup sets heads[i] to the first build row whose key equals probe row
// i's (-1: none) and null[i] when the probe row has a NULL key.
func (t *joinTable) lookup(keys []arrow.Array, heads []int32, null []bool) error {
	hasNull := rowNulls(keys, null)
	switch t.kind {
	case kindCross:
		h := int32(-1)
		if t.rows > 0 {
			h = 0
		}
		for i := range heads {
			heads[i] = h
		}
		return nil
	case kindInt32:
		lookupInts(t, int32Values(keys[0]), heads)
	case kindInt64:
		lookupInts(t, int64Values(keys[0]), heads)
	case kindFloat64:
		lookupInts(t, floatKeys(keys[0]), heads)
	case kindPacked:
		lookupInts(t, t.packKeys(keys), heads)
	case kindString:
		a := keys[0].(*array.String)
		for i := range heads {
			if h, ok := t.strs[a.Value(i)]; ok {
				heads[i] = h
			} else {
				heads[i] = -1
			}
		}
	default:
		encs, err := keyEncoders(keys)
		if err != nil {
			return err
		}
		for i := range heads {
			if null[i] && !t.nullsEqual {
				heads[i] = -1
				continue
			}
			t.buf = encodeRow(t.buf[:0], encs, i)
			if h, ok := t.gen[string(t.buf)]; ok {
				heads[i] = h
			} else {
				heads[i] = -1
			}
		}
		return nil
	}
	if hasNull {
		h := int32(-1)
		if t.nullsEqual {
			h = t.nullHead
		}
		for i, isNull := range null {
			if isNull {
				heads[i] = h
			}
		}
	}
	return nil
}

func lookupInts[T ~int32 | ~int64 | ~uint64](t *joinTable, vals []T, heads []int32) {
	vals = vals[:len(heads)]
	if d := t.dense; d != nil {
		dh, lo := d.heads, d.min
		n := uint64(len(dh))
		for i, v := range vals {
			// Out of range (or a NULL's garbage, fixed by the caller): -1.
			h := int32(-1)
			if k := uint64(int64(v) - lo); k < n {
				h = dh[k] - 1
			}
			heads[i] = h
		}
		return
	}
	lookupHashed(t.ints, vals, heads)
}

// denseTable maps integer keys in [min, min+len(heads)) straight to their
// chain heads (+1; 0: none). Surrogate keys are dense: no hashing, no
// probing, a quarter of a hash slot's bytes per key, and build keys that
// arrive in order fill it sequentially instead of at random.
type denseTable struct {
	min   int64
	heads []int32
}

// denseMinSpan is the widest key range a dense index may take whatever
// the number of rows (256 KiB).
const denseMinSpan = 1 << 16

// newIntIndex chooses the index of integer keys: dense when their range
// takes no more memory than the hash table would, or little anyway.
func (t *joinTable) newIntIndex(keys [][]arrow.Array, total int) {
	lo, hi, found := int64(math.MaxInt64), int64(math.MinInt64), false
	for _, ks := range keys {
		k := ks[0]
		var l, h int64
		var ok bool
		if t.kind == kindInt32 {
			l, h, ok = valueRange(k, int32Values(k))
		} else {
			l, h, ok = valueRange(k, int64Values(k))
		}
		if ok {
			lo, hi, found = min(lo, l), max(hi, h), true
		}
	}
	t.chooseIntIndex(lo, hi, found, total)
}

// chooseIntIndex makes the index of total rows whose keys lie in [lo, hi]
// (found: some key is not NULL).
func (t *joinTable) chooseIntIndex(lo, hi int64, found bool, total int) {
	slots := intTableSize(total)
	if !found {
		t.dense = &denseTable{}
		return
	}
	// hi-lo may overflow int64; as uint64 it is exact. A small build side
	// (a filtered dimension) may take a range up to denseMinSpan, which
	// still stays in a core's cache.
	if span := uint64(hi) - uint64(lo); span < uint64(max(4*slots, denseMinSpan)) {
		t.dense = &denseTable{min: lo, heads: allocSlice[int32](t, int(span)+1)}
		return
	}
	t.ints = newIntTable(t, total)
}

// valueRange returns the least and greatest non-NULL value of a.
func valueRange[T int32 | int64](a arrow.Array, vals []T) (lo, hi int64, ok bool) {
	vals = vals[:a.Len()]
	if a.NullN() == 0 {
		if len(vals) == 0 {
			return 0, 0, false
		}
		l, h := vals[0], vals[0]
		for _, v := range vals {
			l, h = min(l, v), max(h, v)
		}
		return int64(l), int64(h), true
	}
	first := true
	var l, h T
	for i, v := range vals {
		if a.IsNull(i) {
			continue
		}
		if first {
			l, h, first = v, v, false
		}
		l, h = min(l, v), max(h, v)
	}
	return int64(l), int64(h), !first
}

// intTable is an open-addressing hash table from int64 keys to chain
// heads, for the single integer-like key of most joins: one probe is
// usually one cache line, where a Go map touches two.
//
// A table past the size of a core's caches also has a filter of 8 bits
// per row, one set per key (by the top bits of its hash), so that probe
// keys without a match, the bulk of a join with a filtered build side, are
// mostly turned away by a 16 times smaller array. Probes that mostly
// match switch it off (see filterOff).
type intTable struct {
	slots  []intSlot
	mask   uint64
	filter []uint64 // nil: none
	fshift uint
	// filterOff counts down the lookups that skip the filter after one
	// where it turned too few probes away to pay.
	filterOff int
}

type intSlot struct {
	key  int64
	head int32 // chain head + 1; 0: empty slot
}

// filterMinSlots is the smallest table that gets a filter: smaller ones
// stay in cache anyway.
const filterMinSlots = 1 << 14

func intTableSize(n int) int {
	size := 16
	for size < 2*n {
		size *= 2
	}
	return size
}

func newIntTable(jt *joinTable, n int) *intTable {
	size := intTableSize(n)
	t := &intTable{slots: allocSlice[intSlot](jt, size), mask: uint64(size - 1)}
	if size >= filterMinSlots {
		// 2 to 4 bits per slot: 8 to 16 per row.
		nbits := 4 * size
		t.filter = allocSlice[uint64](jt, nbits/64)
		t.fshift = uint(64 - bits.TrailingZeros(uint(nbits)))
	}
	return t
}

// get returns the chain head of k, or -1.
func (t *intTable) get(k int64) int32 {
	for i := mix64(uint64(k)) & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.head == 0 || s.key == k {
			return s.head - 1
		}
	}
}

// slot returns the slot of k: its own, or the empty one to take (head 0).
// The table never fills: it has at least twice as many slots as rows.
func (t *intTable) slot(k int64) *intSlot {
	h := mix64(uint64(k))
	if t.filter != nil {
		b := h >> t.fshift
		t.filter[b>>6] |= 1 << (b & 63)
	}
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.head == 0 || s.key == k {
			return s
		}
	}
}

// lookup sets heads[i] to the chain head of vals[i], or -1.
func lookupHashed[T ~int32 | ~int64 | ~uint64](t *intTable, vals []T, heads []int32) {
	if t.filter == nil || t.filterOff > 0 {
		t.filterOff = max(t.filterOff-1, 0)
		for i, v := range vals {
			heads[i] = t.get(int64(v))
		}
		return
	}
	f, shift, slots, mask := t.filter, t.fshift, t.slots, t.mask
	rejected := 0
	for i, v := range vals {
		k := int64(v)
		h := mix64(uint64(k))
		if b := h >> shift; f[b>>6]&(1<<(b&63)) == 0 {
			heads[i] = -1
			rejected++
			continue
		}
		for j := h & mask; ; j = (j + 1) & mask {
			s := &slots[j]
			if s.head == 0 || s.key == k {
				heads[i] = s.head - 1
				break
			}
		}
	}
	if rejected*8 < len(vals) {
		// Most probe keys have a match: the filter only adds a lookup.
		t.filterOff = 16
	}
}

func int32Values(a arrow.Array) []int32 { return rawValues[int32](a)[:a.Len()] }
func int64Values(a arrow.Array) []int64 { return rawValues[int64](a)[:a.Len()] }

// floatKeys returns the float64 values as normalized bit patterns.
func floatKeys(a arrow.Array) []uint64 {
	vals := rawValues[float64](a)[:a.Len()]
	out := make([]uint64, len(vals))
	for i, v := range vals {
		out[i] = math.Float64bits(normFloat(v))
	}
	return out
}

func keyEncoders(keys []arrow.Array) ([]keyEncoder, error) {
	encs := make([]keyEncoder, len(keys))
	for c, k := range keys {
		e, err := makeKeyEncoder(k)
		if err != nil {
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "cannot join on %s values", k.DataType())
		}
		encs[c] = e
	}
	return encs, nil
}

func encodeRow(b []byte, encs []keyEncoder, i int) []byte {
	for _, e := range encs {
		b = e(b, i)
	}
	return b
}
