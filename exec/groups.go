package exec

import (
	"encoding/binary"
	"math"
	"strings"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
)

// groupTable maps group keys to dense group ids, batch at a time, and keeps
// one copy of each group's key values. A single integer-like or string key
// uses a typed map; other keys are encoded into bytes. NULL is a group.
type groupTable struct {
	types []arrow.DataType
	keys  []array.Builder
	n     int

	ints   *groupInts
	strs   map[string]uint32
	gen    map[string]uint32
	nullID int64 // group of the NULL key in the typed paths, -1 if none
	buf    []byte
	gids   []uint32
	tiny   []int32 // see assignTiny
	// keyBytes counts the bytes of the Go strings kept as map keys.
	keyBytes int64
}

// goBytes estimates the Go heap the table holds outside its Arrow key
// builders.
func (t *groupTable) goBytes() int64 {
	entries := len(t.strs) + len(t.gen)
	b := int64(entries)*mapEntryBytes + t.keyBytes + int64(cap(t.tiny))*4
	if t.ints != nil {
		b += t.ints.bytes()
	}
	return b
}

func newGroupTable(mem memory.Allocator, types []arrow.DataType) *groupTable {
	t := &groupTable{types: types, nullID: -1}
	for _, dt := range types {
		t.keys = append(t.keys, array.NewBuilder(mem, dt))
	}
	return t
}

func (t *groupTable) release() {
	releaseAll(t.keys)
	t.keys = nil
}

// keyArrays returns the key values of all groups (nil with no keys).
func (t *groupTable) keyArrays() []arrow.Array {
	out := make([]arrow.Array, len(t.keys))
	for i, b := range t.keys {
		out[i] = b.NewArray()
	}
	return out
}

func (t *groupTable) newGroup(keys []arrow.Array, i int) (uint32, error) {
	for c, k := range keys {
		if err := appendValue(t.keys[c], k, i); err != nil {
			return 0, err
		}
	}
	t.n++
	return uint32(t.n - 1), nil
}

// prepare sizes the reused group-id slice for n rows and checks the key
// types; without keys every row is group 0 and it is done.
func (t *groupTable) prepare(keys []arrow.Array, n int) (gids []uint32, done bool, err error) {
	if cap(t.gids) < n {
		t.gids = make([]uint32, n)
	}
	gids = t.gids[:n]
	for c, k := range keys {
		if !arrow.TypeEqual(k.DataType(), t.types[c]) {
			return nil, true, sqlerr.New(sqlerr.InternalError, "group key %d is %s, expected %s", c, k.DataType(), t.types[c])
		}
	}
	if len(keys) == 0 {
		if t.n == 0 {
			t.n = 1
		}
		clear(gids)
		return gids, true, nil
	}
	return gids, false, nil
}

// assign returns the group id of each of the n rows of keys, creating
// groups as needed. The slice is reused by the next call.
func (t *groupTable) assign(keys []arrow.Array, n int) ([]uint32, error) {
	gids, done, err := t.prepare(keys, n)
	if done || err != nil {
		return gids, err
	}
	if len(keys) == 1 {
		switch a := keys[0].(type) {
		case *array.Int32:
			return gids, assignInts(t, keys, arrow.GetValues[int32](a.Data(), 1), gids)
		case *array.Date32:
			return gids, assignInts(t, keys, arrow.GetValues[int32](a.Data(), 1), gids)
		case *array.Int64:
			return gids, assignInts(t, keys, arrow.GetValues[int64](a.Data(), 1), gids)
		case *array.Timestamp:
			return gids, assignInts(t, keys, arrow.GetValues[int64](a.Data(), 1), gids)
		case *array.String:
			return gids, t.assignStrings(keys, a, gids)
		}
	}
	return gids, t.assignGeneric(keys, gids)
}

// assignSel is assign for rows sel of keys: gids[j] is the group of row
// sel[j]. Keys of more than one column or of a type without a typed path
// go through the generic encoding, which reads the rows in place.
func (t *groupTable) assignSel(mem memory.Allocator, keys []arrow.Array, sel []int32) ([]uint32, error) {
	gids, done, err := t.prepare(keys, len(sel))
	if done || err != nil {
		return gids, err
	}
	if len(keys) == 1 {
		switch keys[0].(type) {
		case *array.Int32, *array.Date32, *array.Int64, *array.Timestamp, *array.String:
			// assign's typed maps: the same key must find the same group
			// whichever way its batch comes.
			g, err := gatherArrays(mem, keys, sel)
			if err != nil {
				return nil, err
			}
			defer releaseAll(g)
			return t.assign(g, len(sel))
		}
	}
	if _, err := t.assignGenericSel(keys, gids, sel); err != nil {
		return nil, err
	}
	return gids, nil
}

func (t *groupTable) nullGroup(keys []arrow.Array, i int) (uint32, error) {
	if t.nullID < 0 {
		id, err := t.newGroup(keys, i)
		if err != nil {
			return 0, err
		}
		t.nullID = int64(id)
	}
	return uint32(t.nullID), nil
}

func assignInts[T int32 | int64](t *groupTable, keys []arrow.Array, vals []T, gids []uint32) error {
	if t.ints == nil {
		t.ints = &groupInts{}
	}
	m := t.ints
	arr := keys[0]
	nulls := arr.NullN() > 0
	// Equal keys often come in runs (rows sorted or clustered by the key).
	last, lastID, haveLast := int64(0), uint32(0), false
	for i := range gids {
		if nulls && arr.IsNull(i) {
			id, err := t.nullGroup(keys, i)
			if err != nil {
				return err
			}
			gids[i] = id
			continue
		}
		v := int64(vals[i])
		if haveLast && v == last {
			gids[i] = lastID
			continue
		}
		p := m.find(v)
		id := *p - 1
		if *p == 0 {
			var err error
			if id, err = t.newGroup(keys, i); err != nil {
				return err
			}
			*p = id + 1
			m.added()
		}
		gids[i] = id
		last, lastID, haveLast = v, id, true
	}
	return nil
}

// groupInts maps integer group keys to group ids (+1; 0: none). While the
// keys seen span a range at most denseSpread times their number it is an
// array over that range (surrogate keys like customer numbers: 4 bytes a
// key, no hashing); past that an open-addressing hash table, where a probe
// is usually one cache line and a Go map touches two.
type groupInts struct {
	dense []uint32 // ids of keys base, base+1, ...; nil in hash mode
	base  int64
	slots []groupSlot
	mask  uint64
	n     int
}

type groupSlot struct {
	key int64
	id  uint32 // group id + 1; 0: empty
}

const (
	denseSpread = 16
	denseMin    = 1 << 18 // 1 MiB: what a few keys may span at first
)

// find returns where the id of k is kept, 0 when k has no group yet; the
// caller that stores one there calls added. The pointer does not survive
// added.
func (m *groupInts) find(k int64) *uint32 {
	if m.slots == nil {
		if d := uint64(k) - uint64(m.base); d < uint64(len(m.dense)) {
			return &m.dense[d]
		}
		m.widen(k)
		if m.slots == nil {
			return &m.dense[uint64(k)-uint64(m.base)]
		}
	}
	s := m.slot(k)
	s.key = k // a no-op unless s is empty, when added keeps it
	return &s.id
}

// widen grows the dense range to hold k, adding up to as much again in
// the direction k came from, or turns the table into a hash table when the
// range would be too sparse. Each growth is by at least a quarter, which
// keeps the copies linear.
func (m *groupInts) widen(k int64) {
	if m.dense == nil {
		m.dense, m.base = make([]uint32, 64), k
		return
	}
	limit := uint64(max(denseSpread*(m.n+1), denseMin))
	n := uint64(len(m.dense))
	lo, hi := m.base, m.base+int64(n)-1
	if k < lo {
		lo = k
	} else {
		hi = k
	}
	span := uint64(hi) - uint64(lo) + 1 // 0: all of int64
	if span == 0 || span > limit {
		m.toHash()
		return
	}
	extra := min(n, limit-span) // room for more keys beyond k
	if span+extra < n+n/4 {
		m.toHash()
		return
	}
	// x ^ 1<<63 is x's distance above math.MinInt64.
	if k < m.base {
		lo = int64(uint64(lo) - min(extra, uint64(lo)^1<<63))
	} else {
		hi = int64(uint64(hi) + min(extra, ^(uint64(hi)^1<<63)))
	}
	d := make([]uint32, uint64(hi)-uint64(lo)+1)
	copy(d[uint64(m.base)-uint64(lo):], m.dense)
	m.dense, m.base = d, lo
}

// toHash moves the groups of the dense range into a hash table.
func (m *groupInts) toHash() {
	size := 64
	for size < 4*(m.n+1) {
		size *= 2
	}
	m.slots, m.mask = make([]groupSlot, size), uint64(size-1)
	for i, id := range m.dense {
		if id != 0 {
			k := int64(uint64(m.base) + uint64(i))
			*m.slot(k) = groupSlot{key: k, id: id}
		}
	}
	m.dense = nil
}

func (m *groupInts) slot(k int64) *groupSlot {
	for i := mix64(uint64(k)) & m.mask; ; i = (i + 1) & m.mask {
		s := &m.slots[i]
		if s.id == 0 || s.key == k {
			return s
		}
	}
}

// added counts a new group; a hash table doubles at half full.
func (m *groupInts) added() {
	m.n++
	if m.slots == nil || 2*m.n <= len(m.slots) {
		return
	}
	old := m.slots
	m.slots = make([]groupSlot, 2*len(old))
	m.mask = uint64(len(m.slots) - 1)
	for _, s := range old {
		if s.id != 0 {
			*m.slot(s.key) = s
		}
	}
}

// bytes is the memory the table holds.
func (m *groupInts) bytes() int64 {
	return int64(len(m.dense))*4 + int64(len(m.slots))*int64(unsafe.Sizeof(groupSlot{}))
}

func (t *groupTable) assignStrings(keys []arrow.Array, a *array.String, gids []uint32) error {
	if t.strs == nil {
		t.strs = make(map[string]uint32)
	}
	nulls := a.NullN() > 0
	for i := range gids {
		if nulls && a.IsNull(i) {
			id, err := t.nullGroup(keys, i)
			if err != nil {
				return err
			}
			gids[i] = id
			continue
		}
		s := a.Value(i) // a view of the batch's buffer: cloned before it is kept
		id, ok := t.strs[s]
		if !ok {
			var err error
			if id, err = t.newGroup(keys, i); err != nil {
				return err
			}
			t.strs[strings.Clone(s)] = id
			t.keyBytes += int64(len(s)) + goStringHeader
		}
		gids[i] = id
	}
	return nil
}

func (t *groupTable) assignGeneric(keys []arrow.Array, gids []uint32) error {
	_, err := t.assignGenericSel(keys, gids, nil)
	return err
}

// assignGenericSel assigns the groups of rows sel of keys (all rows when
// sel is nil) through the byte encoding of the keys.
func (t *groupTable) assignGenericSel(keys []arrow.Array, gids []uint32, sel []int32) (bool, error) {
	if t.gen == nil {
		t.gen = make(map[string]uint32)
	}
	encs := make([]keyEncoder, len(keys))
	for c, k := range keys {
		e, err := makeKeyEncoder(k)
		if err != nil {
			return false, err
		}
		encs[c] = e
	}
	lookup := func(i int) (uint32, error) {
		b := t.buf[:0]
		for _, e := range encs {
			b = e(b, i)
		}
		t.buf = b
		id, ok := t.gen[string(b)]
		if !ok {
			var err error
			if id, err = t.newGroup(keys, i); err != nil {
				return 0, err
			}
			t.gen[string(b)] = id
			t.keyBytes += int64(len(b)) + goStringHeader
		}
		return id, nil
	}
	if ok, err := t.assignTiny(keys, gids, sel, lookup); ok || err != nil {
		return true, err
	}
	for j := range gids {
		i := j
		if sel != nil {
			i = int(sel[j])
		}
		id, err := lookup(i)
		if err != nil {
			return true, err
		}
		gids[j] = id
	}
	return true, nil
}

// tinyCodes is the number of codes of a string key of at most one byte:
// NULL, the empty string and the 256 single bytes.
const tinyCodes = 258

// assignTiny assigns the groups of a batch whose keys are one or two
// string columns holding no value longer than one byte (flags and codes,
// like TPC-H's l_returnflag) through a direct-mapped table in front of
// lookup, which it calls once per distinct key. It reports false, having
// done nothing, for other batches.
func (t *groupTable) assignTiny(keys []arrow.Array, gids []uint32, sel []int32, lookup func(i int) (uint32, error)) (bool, error) {
	if len(keys) > 2 {
		return false, nil
	}
	type col struct {
		offs  []int32
		data  []byte
		valid []byte
		off   int
	}
	cols := make([]col, 2)
	for c, k := range keys {
		s, ok := k.(*array.String)
		if !ok {
			return false, nil
		}
		offs := s.ValueOffsets()
		for i := range len(offs) - 1 {
			if offs[i+1]-offs[i] > 1 {
				return false, nil
			}
		}
		cols[c] = col{offs: offs, data: s.ValueBytes()}
		if s.NullN() > 0 {
			cols[c].valid, cols[c].off = s.NullBitmapBytes(), s.Data().Offset()
		}
	}
	size := tinyCodes
	if len(keys) == 2 {
		size *= tinyCodes
	}
	if len(t.tiny) != size {
		t.tiny = make([]int32, size)
		for i := range t.tiny {
			t.tiny[i] = -1
		}
	}
	code := func(c *col, i int) int {
		if c.offs == nil { // no such key column
			return 0
		}
		if c.valid != nil && !bitutil.BitIsSet(c.valid, c.off+i) {
			return 0
		}
		s := c.offs[i]
		if c.offs[i+1] == s {
			return 1
		}
		// offsets are relative to the start of the value data
		return 2 + int(c.data[s-c.offs[0]])
	}
	c0, c1 := &cols[0], &cols[1]
	for j := range gids {
		i := j
		if sel != nil {
			i = int(sel[j])
		}
		k := code(c0, i)*tinyCodes + code(c1, i)
		if len(keys) == 1 {
			k = code(c0, i)
		}
		g := t.tiny[k]
		if g < 0 {
			id, err := lookup(i)
			if err != nil {
				return true, err
			}
			g = int32(id)
			t.tiny[k] = g
		}
		gids[j] = uint32(g)
	}
	return true, nil
}

// keyEncoder appends an injective byte encoding of row i (NULL included).
type keyEncoder func(b []byte, i int) []byte

func makeKeyEncoder(arr arrow.Array) (keyEncoder, error) {
	var enc keyEncoder
	switch a := arr.(type) {
	case *array.Boolean:
		enc = func(b []byte, i int) []byte {
			if a.Value(i) {
				return append(b, 1)
			}
			return append(b, 0)
		}
	case *array.Int8:
		enc = func(b []byte, i int) []byte { return append(b, byte(a.Value(i))) }
	case *array.Int16:
		enc = func(b []byte, i int) []byte { return binary.LittleEndian.AppendUint16(b, uint16(a.Value(i))) }
	case *array.Int32:
		v := a.Int32Values()
		enc = func(b []byte, i int) []byte { return binary.LittleEndian.AppendUint32(b, uint32(v[i])) }
	case *array.Date32:
		v := a.Date32Values()
		enc = func(b []byte, i int) []byte { return binary.LittleEndian.AppendUint32(b, uint32(v[i])) }
	case *array.Int64:
		v := a.Int64Values()
		enc = func(b []byte, i int) []byte { return binary.LittleEndian.AppendUint64(b, uint64(v[i])) }
	case *array.Timestamp:
		v := a.TimestampValues()
		enc = func(b []byte, i int) []byte { return binary.LittleEndian.AppendUint64(b, uint64(v[i])) }
	case *array.Float64:
		v := a.Float64Values()
		enc = func(b []byte, i int) []byte {
			return binary.LittleEndian.AppendUint64(b, math.Float64bits(normFloat(v[i])))
		}
	case *array.Decimal128:
		enc = func(b []byte, i int) []byte {
			d := a.Value(i)
			b = binary.LittleEndian.AppendUint64(b, d.LowBits())
			return binary.LittleEndian.AppendUint64(b, uint64(d.HighBits()))
		}
	case *array.String:
		enc = func(b []byte, i int) []byte {
			s := a.Value(i)
			b = binary.AppendUvarint(b, uint64(len(s)))
			return append(b, s...)
		}
	case *array.LargeString:
		enc = func(b []byte, i int) []byte {
			s := a.Value(i)
			b = binary.AppendUvarint(b, uint64(len(s)))
			return append(b, s...)
		}
	case *array.Binary:
		enc = func(b []byte, i int) []byte {
			s := a.Value(i)
			b = binary.AppendUvarint(b, uint64(len(s)))
			return append(b, s...)
		}
	case *array.MonthDayNanoInterval:
		enc = func(b []byte, i int) []byte {
			v := a.Value(i)
			b = binary.LittleEndian.AppendUint32(b, uint32(v.Months))
			b = binary.LittleEndian.AppendUint32(b, uint32(v.Days))
			return binary.LittleEndian.AppendUint64(b, uint64(v.Nanoseconds))
		}
	case *array.Null:
		return func(b []byte, i int) []byte { return append(b, 0) }, nil
	default:
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "cannot group by %s values", arr.DataType())
	}
	if arr.NullN() == 0 {
		return func(b []byte, i int) []byte { return enc(append(b, 1), i) }, nil
	}
	return func(b []byte, i int) []byte {
		if arr.IsNull(i) {
			return append(b, 0)
		}
		return enc(append(b, 1), i)
	}, nil
}
