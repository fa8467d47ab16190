package kernels

import (
	"strings"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// kind is the closed set of value representations the kernels handle.
type kind uint8

const (
	kOther kind = iota
	kNull
	kBool
	kInt32
	kInt64
	kFloat64
	kDecimal
	kString
	kDate
	kTimestamp
	kInterval
)

func kindOf(t arrow.DataType) kind {
	if t == nil {
		return kNull
	}
	switch t.ID() {
	case arrow.NULL:
		return kNull
	case arrow.BOOL:
		return kBool
	case arrow.INT32:
		return kInt32
	case arrow.INT64:
		return kInt64
	case arrow.FLOAT64:
		return kFloat64
	case arrow.DECIMAL128:
		return kDecimal
	case arrow.STRING:
		return kString
	case arrow.DATE32:
		return kDate
	case arrow.TIMESTAMP:
		return kTimestamp
	case arrow.INTERVAL_MONTH_DAY_NANO:
		return kInterval
	}
	return kOther
}

func decScale(t arrow.DataType) int32 {
	if d, ok := t.(*arrow.Decimal128Type); ok {
		return d.Scale
	}
	return 0
}

func decPrec(t arrow.DataType) int32 {
	if d, ok := t.(*arrow.Decimal128Type); ok {
		return d.Precision
	}
	return 38
}

func unsupported(what string, t arrow.DataType) error {
	return sqlerr.New(sqlerr.FeatureNotSupported, "%s is not supported for type %s", what, physical.TypeName(t))
}

// rawValues returns the fixed-width values of arr (respecting its offset) as
// a []T; T must have the element size of arr's type.
func rawValues[T any](arr arrow.Array) []T {
	d := arr.Data()
	bufs := d.Buffers()
	if len(bufs) < 2 || bufs[1] == nil || d.Len() == 0 {
		return nil
	}
	b := bufs[1].Bytes()
	var z T
	all := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/int(unsafe.Sizeof(z)))
	return all[d.Offset() : d.Offset()+d.Len()]
}

// UninitAllocator is an allocator that can also hand out memory without
// zeroing it, for buffers the caller overwrites entirely (arrow's
// allocators zero every buffer, which costs as much as filling it).
type UninitAllocator interface {
	memory.Allocator
	AllocateUninit(size int) []byte
}

// NewBuffer returns a buffer of size bytes whose contents the caller must
// overwrite entirely: uninitialized when mem allows it.
func NewBuffer(mem memory.Allocator, size int) *memory.Buffer {
	if u, ok := mem.(UninitAllocator); ok && size > 0 {
		return memory.NewBufferWithAllocator(u.AllocateUninit(size), mem)
	}
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(size)
	return buf
}

// newValues allocates a buffer of n T values, which the caller must all
// write.
func newValues[T any](mem memory.Allocator, n int) (*memory.Buffer, []T) {
	var z T
	buf := NewBuffer(mem, n*int(unsafe.Sizeof(z)))
	if n == 0 {
		return buf, nil
	}
	return buf, unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(buf.Bytes()))), n)
}

// newBitmap allocates a zeroed bitmap of n bits.
func newBitmap(mem memory.Allocator, n int) (*memory.Buffer, []byte) {
	buf := NewBuffer(mem, int(bitutil.BytesForBits(int64(n))))
	b := buf.Bytes()
	clear(b)
	return buf, b
}

// makeArray wraps buffers into an array and drops the caller's references to
// them.
func makeArray(t arrow.DataType, n int, bufs ...*memory.Buffer) arrow.Array {
	nulls := 0
	if bufs[0] != nil {
		nulls = array.UnknownNullCount
	}
	data := array.NewData(t, n, bufs, nil, nulls, 0)
	arr := array.MakeFromData(data)
	data.Release()
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
	return arr
}

// validBits returns arr's validity bitmap and offset, or nil when it has no
// nulls.
func validBits(arr arrow.Array) ([]byte, int) {
	if arr == nil || arr.NullN() == 0 {
		return nil, 0
	}
	return arr.NullBitmapBytes(), arr.Data().Offset()
}

// andValidity returns a fresh validity bitmap of n bits that is the AND of
// the arrays' validity (nil arrays are ignored), or nil when none has nulls.
func andValidity(mem memory.Allocator, n int, arrs ...arrow.Array) *memory.Buffer {
	var out *memory.Buffer
	for _, a := range arrs {
		bm, off := validBits(a)
		if bm == nil {
			continue
		}
		if out == nil {
			var b []byte
			out, b = newBitmap(mem, n)
			bitutil.CopyBitmap(bm, off, n, b, 0)
			continue
		}
		next := bitutil.BitmapAndAlloc(mem, out.Bytes(), bm, 0, int64(off), int64(n), 0)
		out.Release()
		out = next
	}
	return out
}

func isValid(bm []byte, off, i int) bool {
	return bm == nil || bitutil.BitIsSet(bm, off+i)
}

// normalize converts loosely typed Go values to the Literal.Value form of t.
func normalize(v any, t arrow.DataType) any {
	switch x := v.(type) {
	case int:
		switch kindOf(t) {
		case kInt32:
			return int32(x)
		case kInt64:
			return int64(x)
		case kFloat64:
			return float64(x)
		}
	case int32:
		switch kindOf(t) {
		case kInt64:
			return int64(x)
		case kDate:
			return arrow.Date32(x)
		}
	case int64:
		switch kindOf(t) {
		case kInt32:
			return int32(x)
		case kTimestamp:
			return arrow.Timestamp(x)
		}
	}
	return v
}

// ValueAt returns element i of arr in Literal.Value form (nil for NULL):
// bool, int32, int64, float64, decimal128.Num, string, arrow.Date32,
// arrow.Timestamp, arrow.MonthDayNanoInterval.
func ValueAt(arr arrow.Array, i int) any {
	if arr.IsNull(i) {
		return nil
	}
	switch a := arr.(type) {
	case *array.Boolean:
		return a.Value(i)
	case *array.Int32:
		return a.Value(i)
	case *array.Int64:
		return a.Value(i)
	case *array.Float64:
		return a.Value(i)
	case *array.Decimal128:
		return a.Value(i)
	case *array.String:
		return strings.Clone(a.Value(i))
	case *array.LargeString:
		return strings.Clone(a.Value(i))
	case *array.Date32:
		return a.Value(i)
	case *array.Timestamp:
		return a.Value(i)
	case *array.MonthDayNanoInterval:
		return a.Value(i)
	case *array.Int8:
		return int32(a.Value(i))
	case *array.Int16:
		return int32(a.Value(i))
	case *array.Float32:
		return float64(a.Value(i))
	}
	return arr.GetOneForMarshal(i)
}

// MakeArray returns an array of n copies of v (Literal.Value form) of type t.
func MakeArray(mem memory.Allocator, v any, t arrow.DataType, n int) (arrow.Array, error) {
	v = normalize(v, t)
	k := kindOf(t)
	if v == nil {
		return nullArray(mem, t, n), nil
	}
	switch k {
	case kBool:
		b, ok := v.(bool)
		if !ok {
			break
		}
		buf, bits := newBitmap(mem, n)
		if b {
			bitutil.SetBitsTo(bits, 0, int64(n), true)
		}
		return makeArray(t, n, nil, buf), nil
	case kInt32:
		if x, ok := v.(int32); ok {
			return fillFixed(mem, t, x, n), nil
		}
	case kInt64:
		if x, ok := v.(int64); ok {
			return fillFixed(mem, t, x, n), nil
		}
	case kFloat64:
		if x, ok := v.(float64); ok {
			return fillFixed(mem, t, x, n), nil
		}
	case kDecimal:
		if x, ok := v.(decimal128.Num); ok {
			return fillFixed(mem, t, x, n), nil
		}
	case kDate:
		if x, ok := v.(arrow.Date32); ok {
			return fillFixed(mem, t, x, n), nil
		}
	case kTimestamp:
		if x, ok := v.(arrow.Timestamp); ok {
			return fillFixed(mem, t, x, n), nil
		}
	case kInterval:
		if x, ok := v.(arrow.MonthDayNanoInterval); ok {
			return fillFixed(mem, t, x, n), nil
		}
	case kString:
		s, ok := v.(string)
		if !ok {
			break
		}
		offBuf, offs := newValues[int32](mem, n+1)
		dataBuf := memory.NewResizableBuffer(mem)
		dataBuf.Resize(len(s) * n)
		data := dataBuf.Bytes()
		for i := 0; i < n; i++ {
			offs[i] = int32(i * len(s))
			copy(data[i*len(s):], s)
		}
		if n+1 > 0 {
			offs[n] = int32(n * len(s))
		}
		return makeArray(t, n, nil, offBuf, dataBuf), nil
	default:
		return nil, unsupported("constant", t)
	}
	return nil, sqlerr.New(sqlerr.InternalError, "literal %v (%T) does not match type %s", v, v, physical.TypeName(t))
}

func fillFixed[T any](mem memory.Allocator, t arrow.DataType, v T, n int) arrow.Array {
	buf, vals := newValues[T](mem, n)
	for i := range vals {
		vals[i] = v
	}
	return makeArray(t, n, nil, buf)
}

// nullArray returns n NULLs of type t.
func nullArray(mem memory.Allocator, t arrow.DataType, n int) arrow.Array {
	switch kindOf(t) {
	case kNull, kOther:
		return array.NewNull(n)
	}
	valid, _ := newBitmap(mem, n)
	switch kindOf(t) {
	case kBool:
		vals, _ := newBitmap(mem, n)
		return makeArray(t, n, valid, vals)
	case kString:
		offs, o := newValues[int32](mem, n+1)
		clear(o)
		return makeArray(t, n, valid, offs, memory.NewResizableBuffer(mem))
	}
	vals := memory.NewResizableBuffer(mem)
	vals.Resize(n * t.(arrow.FixedWidthDataType).Bytes())
	clear(vals.Bytes())
	return makeArray(t, n, valid, vals)
}

// Compare compares two non-nil values of the same type t: -1, 0, 1 (used
// for min/max, sorting literals, statistics pruning).
func Compare(a, b any, t arrow.DataType) int {
	c, _ := physical.CompareValues(a, b)
	return c
}

const nanosPerDay = 86400 * 1_000_000_000
