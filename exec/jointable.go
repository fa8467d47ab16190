package exec

import (
	"math"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
)

// tableKind is how a join table finds the rows of a key.
type tableKind int

const (
	kindCross   tableKind = iota // no keys: every build row is a candidate
	kindInt32                    // one int32 or date32 key
	kindInt64                    // one int64 or timestamp key
	kindFloat64                  // one float64 key (-0 = 0, NaN = NaN)
	kindString                   // one string key
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
	strs     map[string]int32 // views into the retained build key arrays
	gen      map[string]int32
	nullHead int32 // chain of NULL-key rows (NullsEqual, typed kinds)

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
	if n == 0 {
		return nil
	}
	var zero T
	b := memory.NewResizableBuffer(t.mem)
	t.bufs = append(t.bufs, b)
	b.Resize(n * int(unsafe.Sizeof(zero)))
	raw := b.Bytes()
	clear(raw)
	return unsafe.Slice((*T)(unsafe.Pointer(&raw[0])), n)
}

// release frees the table's memory; the table is unusable afterwards.
func (t *joinTable) release() {
	t.gomem.release()
	releaseAll(t.bufs)
	t.bufs = nil
	t.next, t.loc, t.ints, t.strs, t.gen = nil, nil, nil, nil, nil
}

func newJoinTable(mem memory.Allocator, types []arrow.DataType, nullsEqual bool) *joinTable {
	t := &joinTable{kind: kindGeneric, nullsEqual: nullsEqual, nullHead: -1, mem: mem}
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
	}
	return t
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
	t.next = allocSlice[int32](t, total)
	t.loc = allocSlice[uint64](t, total)
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
	case kindInt32, kindInt64, kindFloat64:
		t.ints = newIntTable(t, total)
	case kindString:
		t.gomem = newGoMemory(t.mem)
		t.gomem.set(int64(total) * mapEntryBytes)
		t.strs = make(map[string]int32, total)
	default:
		// Encoded keys are Go strings of their own: about 16 bytes each.
		t.gomem = newGoMemory(t.mem)
		t.gomem.set(int64(total) * (mapEntryBytes + goStringHeader + 16))
		t.gen = make(map[string]int32, total)
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
		insertInts(t, keys[0], int32Values(keys[0]), base, link)
	case kindInt64:
		insertInts(t, keys[0], int64Values(keys[0]), base, link)
	case kindFloat64:
		insertInts(t, keys[0], floatKeys(keys[0]), base, link)
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

func insertInts[T ~int32 | ~int64 | ~uint64](t *joinTable, arr arrow.Array, vals []T, base int, link func(int) bool) {
	for r := arr.Len() - 1; r >= 0; r-- {
		if !link(r) {
			continue
		}
		id := int32(base + r)
		t.next[id] = t.ints.swap(int64(vals[r]), id)
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
		lookupInts(t.ints, int32Values(keys[0]), heads)
	case kindInt64:
		lookupInts(t.ints, int64Values(keys[0]), heads)
	case kindFloat64:
		lookupInts(t.ints, floatKeys(keys[0]), heads)
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

func lookupInts[T ~int32 | ~int64 | ~uint64](m *intTable, vals []T, heads []int32) {
	vals = vals[:len(heads)]
	for i, v := range vals {
		heads[i] = m.get(int64(v))
	}
}

// intTable is an open-addressing hash table from int64 keys to chain
// heads, for the single integer-like key of most joins: one probe is
// usually one cache line, where a Go map touches two.
type intTable struct {
	slots []intSlot
	mask  uint64
}

type intSlot struct {
	key  int64
	head int32 // chain head + 1; 0: empty slot
}

func newIntTable(jt *joinTable, n int) *intTable {
	size := 16
	for size < 2*n {
		size *= 2
	}
	return &intTable{slots: allocSlice[intSlot](jt, size), mask: uint64(size - 1)}
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

// swap makes id the chain head of k and returns the previous head (-1:
// none). The table never fills: it has at least twice as many slots as
// rows.
func (t *intTable) swap(k int64, id int32) int32 {
	for i := mix64(uint64(k)) & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.head == 0 {
			s.key, s.head = k, id+1
			return -1
		}
		if s.key == k {
			old := s.head - 1
			s.head = id + 1
			return old
		}
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
