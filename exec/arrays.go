package exec

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"math"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
)

// fixedArray builds an array of type dt from raw fixed-width values; valid
// may be nil (no NULLs).
func fixedArray[T arrow.FixedWidthType](mem memory.Allocator, dt arrow.DataType, vals []T, valid []bool) arrow.Array {
	n := len(vals)
	buf := memory.NewResizableBuffer(mem)
	defer buf.Release()
	if n > 0 {
		raw := arrow.GetBytes(vals)
		buf.Resize(len(raw))
		copy(buf.Bytes(), raw)
	}
	nullBuf, nulls := validityBitmap(mem, valid, n)
	if nullBuf != nil {
		defer nullBuf.Release()
	}
	data := array.NewData(dt, n, []*memory.Buffer{nullBuf, buf}, nil, nulls, 0)
	defer data.Release()
	return array.MakeFromData(data)
}

// validityBitmap packs valid into a bitmap, or returns nil when all are
// valid.
func validityBitmap(mem memory.Allocator, valid []bool, n int) (*memory.Buffer, int) {
	if valid == nil {
		return nil, 0
	}
	nulls := 0
	for _, v := range valid[:n] {
		if !v {
			nulls++
		}
	}
	if nulls == 0 {
		return nil, 0
	}
	b := memory.NewResizableBuffer(mem)
	b.Resize(int(bitutil.BytesForBits(int64(n))))
	bits := b.Bytes()
	clear(bits)
	for i, v := range valid[:n] {
		if v {
			bitutil.SetBit(bits, i)
		}
	}
	return b, nulls
}

// boolArray builds a boolean array.
func boolArray(mem memory.Allocator, vals []bool, valid []bool) arrow.Array {
	b := array.NewBooleanBuilder(mem)
	defer b.Release()
	b.AppendValues(vals, valid)
	return b.NewArray()
}

// stringArray builds a string array.
func stringArray(mem memory.Allocator, vals []string, valid []bool) arrow.Array {
	b := array.NewStringBuilder(mem)
	defer b.Release()
	b.AppendValues(vals, valid)
	return b.NewArray()
}

// appendValue appends arr[i] (which has the builder's type) to b.
func appendValue(b array.Builder, arr arrow.Array, i int) error {
	if arr.IsNull(i) {
		b.AppendNull()
		return nil
	}
	switch b := b.(type) {
	case *array.BooleanBuilder:
		b.Append(arr.(*array.Boolean).Value(i))
	case *array.Int8Builder:
		b.Append(arr.(*array.Int8).Value(i))
	case *array.Int16Builder:
		b.Append(arr.(*array.Int16).Value(i))
	case *array.Int32Builder:
		b.Append(arr.(*array.Int32).Value(i))
	case *array.Int64Builder:
		b.Append(arr.(*array.Int64).Value(i))
	case *array.Uint8Builder:
		b.Append(arr.(*array.Uint8).Value(i))
	case *array.Uint16Builder:
		b.Append(arr.(*array.Uint16).Value(i))
	case *array.Uint32Builder:
		b.Append(arr.(*array.Uint32).Value(i))
	case *array.Uint64Builder:
		b.Append(arr.(*array.Uint64).Value(i))
	case *array.Float32Builder:
		b.Append(arr.(*array.Float32).Value(i))
	case *array.Float64Builder:
		b.Append(arr.(*array.Float64).Value(i))
	case *array.Decimal128Builder:
		b.Append(arr.(*array.Decimal128).Value(i))
	case *array.StringBuilder:
		b.Append(arr.(*array.String).Value(i))
	case *array.LargeStringBuilder:
		b.Append(arr.(*array.LargeString).Value(i))
	case *array.BinaryBuilder:
		switch a := arr.(type) {
		case *array.Binary:
			b.Append(a.Value(i))
		case *array.LargeBinary:
			b.Append(a.Value(i))
		default:
			return sqlerr.New(sqlerr.FeatureNotSupported, "cannot copy %s values", arr.DataType())
		}
	case *array.Date32Builder:
		b.Append(arr.(*array.Date32).Value(i))
	case *array.Date64Builder:
		b.Append(arr.(*array.Date64).Value(i))
	case *array.TimestampBuilder:
		b.Append(arr.(*array.Timestamp).Value(i))
	case *array.Time32Builder:
		b.Append(arr.(*array.Time32).Value(i))
	case *array.Time64Builder:
		b.Append(arr.(*array.Time64).Value(i))
	case *array.MonthDayNanoIntervalBuilder:
		b.Append(arr.(*array.MonthDayNanoInterval).Value(i))
	case *array.NullBuilder:
		b.AppendNull()
	default:
		return sqlerr.New(sqlerr.FeatureNotSupported, "cannot copy %s values", arr.DataType())
	}
	return nil
}

// constArray returns n copies of v (a Literal-style Go value, nil for NULL)
// as an array of type t.
func constArray(mem memory.Allocator, v any, t arrow.DataType, n int) (arrow.Array, error) {
	if v == nil {
		return array.MakeArrayOfNull(mem, t, n), nil
	}
	b := array.NewBuilder(mem, t)
	defer b.Release()
	b.Reserve(n)
	bad := func() (arrow.Array, error) {
		return nil, sqlerr.New(sqlerr.DatatypeMismatch, "value %v (%T) does not fit type %s", v, v, t)
	}
	switch b := b.(type) {
	case *array.BooleanBuilder:
		x, ok := v.(bool)
		if !ok {
			return bad()
		}
		for range n {
			b.Append(x)
		}
	case *array.Int32Builder:
		x, ok := asInt64(v)
		if !ok || x != int64(int32(x)) {
			return bad()
		}
		for range n {
			b.Append(int32(x))
		}
	case *array.Int64Builder:
		x, ok := asInt64(v)
		if !ok {
			return bad()
		}
		for range n {
			b.Append(x)
		}
	case *array.Float64Builder:
		var x float64
		switch v := v.(type) {
		case float64:
			x = v
		case float32:
			x = float64(v)
		default:
			i, ok := asInt64(v)
			if !ok {
				return bad()
			}
			x = float64(i)
		}
		for range n {
			b.Append(x)
		}
	case *array.Decimal128Builder:
		var x decimal128.Num
		switch v := v.(type) {
		case decimal128.Num:
			x = v
		default:
			i, ok := asInt64(v)
			if !ok {
				return bad()
			}
			x = decimal128.FromI64(i).Mul(decimal128.GetScaleMultiplier(int(t.(*arrow.Decimal128Type).Scale)))
		}
		for range n {
			b.Append(x)
		}
	case *array.StringBuilder:
		x, ok := v.(string)
		if !ok {
			return bad()
		}
		for range n {
			b.Append(x)
		}
	case *array.Date32Builder:
		x, ok := v.(arrow.Date32)
		if !ok {
			return bad()
		}
		for range n {
			b.Append(x)
		}
	case *array.TimestampBuilder:
		x, ok := v.(arrow.Timestamp)
		if !ok {
			return bad()
		}
		for range n {
			b.Append(x)
		}
	case *array.MonthDayNanoIntervalBuilder:
		x, ok := v.(arrow.MonthDayNanoInterval)
		if !ok {
			return bad()
		}
		for range n {
			b.Append(x)
		}
	default:
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "constant of type %s", t)
	}
	return b.NewArray(), nil
}

func asInt64(v any) (int64, bool) {
	switch v := v.(type) {
	case int:
		return int64(v), true
	case int8:
		return int64(v), true
	case int16:
		return int64(v), true
	case int32:
		return int64(v), true
	case int64:
		return v, true
	}
	return 0, false
}

// takeRecord gathers rows idx of rec.
func takeRecord(cctx context.Context, rec arrow.Record, idx arrow.Array) (arrow.Record, error) {
	cols := make([]arrow.Array, rec.NumCols())
	for i := range cols {
		c, err := compute.TakeArray(cctx, rec.Column(i), idx)
		if err != nil {
			releaseAll(cols)
			return nil, err
		}
		cols[i] = c
	}
	out := array.NewRecordBatch(rec.Schema(), cols, int64(idx.Len()))
	releaseAll(cols)
	return out, nil
}

// ---- hashing (deterministic across processes, for hash partitioning) ----

const hashSeed = 0x9e3779b97f4a7c15

func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

func combine(h, v uint64) uint64 { return mix64(h ^ (v + hashSeed + h<<6 + h>>2)) }

func hashBytes(b []byte) uint64 {
	h := uint64(len(b)) * hashSeed
	for len(b) >= 8 {
		h = combine(h, binary.LittleEndian.Uint64(b))
		b = b[8:]
	}
	var tail uint64
	for i, c := range b {
		tail |= uint64(c) << (8 * i)
	}
	return combine(h, tail)
}

const nullHash = 0x5bd1e9955bd1e995

// hashColumn folds the values of arr into hs (one per row).
func hashColumn(arr arrow.Array, hs []uint64) error {
	n := arr.Len()
	fixed := func(get func(i int) uint64) {
		if arr.NullN() == 0 {
			for i := 0; i < n; i++ {
				hs[i] = combine(hs[i], get(i))
			}
			return
		}
		for i := 0; i < n; i++ {
			if arr.IsNull(i) {
				hs[i] = combine(hs[i], nullHash)
			} else {
				hs[i] = combine(hs[i], get(i))
			}
		}
	}
	switch a := arr.(type) {
	case *array.Int32:
		v := a.Int32Values()
		fixed(func(i int) uint64 { return uint64(int64(v[i])) })
	case *array.Date32:
		v := a.Date32Values()
		fixed(func(i int) uint64 { return uint64(int64(v[i])) })
	case *array.Int64:
		v := a.Int64Values()
		fixed(func(i int) uint64 { return uint64(v[i]) })
	case *array.Timestamp:
		v := a.TimestampValues()
		fixed(func(i int) uint64 { return uint64(v[i]) })
	case *array.Int16:
		fixed(func(i int) uint64 { return uint64(int64(a.Value(i))) })
	case *array.Int8:
		fixed(func(i int) uint64 { return uint64(int64(a.Value(i))) })
	case *array.Float64:
		v := a.Float64Values()
		fixed(func(i int) uint64 { return math.Float64bits(normFloat(v[i])) })
	case *array.Decimal128:
		fixed(func(i int) uint64 {
			d := a.Value(i)
			return combine(d.LowBits(), uint64(d.HighBits()))
		})
	case *array.Boolean:
		fixed(func(i int) uint64 {
			if a.Value(i) {
				return 1
			}
			return 2
		})
	case *array.String:
		fixed(func(i int) uint64 { return hashBytes(unsafeBytes(a.Value(i))) })
	case *array.LargeString:
		fixed(func(i int) uint64 { return hashBytes(unsafeBytes(a.Value(i))) })
	case *array.Binary:
		fixed(func(i int) uint64 { return hashBytes(a.Value(i)) })
	case *array.MonthDayNanoInterval:
		fixed(func(i int) uint64 {
			v := a.Value(i)
			return combine(uint64(v.Months)<<32|uint64(uint32(v.Days)), uint64(v.Nanoseconds))
		})
	case *array.Null:
		for i := 0; i < n; i++ {
			hs[i] = combine(hs[i], nullHash)
		}
	default:
		return sqlerr.New(sqlerr.FeatureNotSupported, "cannot hash %s values", arr.DataType())
	}
	return nil
}

// normFloat makes -0 equal 0 and all NaNs one NaN, for grouping and hashing.
func normFloat(f float64) float64 {
	if f == 0 {
		return 0
	}
	if f != f {
		return math.NaN()
	}
	return f
}

// ---- ordering ----

// rowCmp compares rows i and j of one column.
type rowCmp func(i, j int) int

// makeCmp returns a comparator over arr for one sort key. NULL placement is
// absolute (nullsFirst), independent of desc.
func makeCmp(arr arrow.Array, desc, nullsFirst bool) (rowCmp, error) {
	base, err := baseCmp(arr)
	if err != nil {
		return nil, err
	}
	c := base
	if desc {
		c = func(i, j int) int { return -base(i, j) }
	}
	if arr.NullN() == 0 {
		return c, nil
	}
	nullOrder := 1
	if nullsFirst {
		nullOrder = -1
	}
	return func(i, j int) int {
		ni, nj := arr.IsNull(i), arr.IsNull(j)
		switch {
		case ni && nj:
			return 0
		case ni:
			return nullOrder
		case nj:
			return -nullOrder
		}
		return c(i, j)
	}, nil
}

func floatCmp(a, b float64) int {
	// NaN sorts after every number, as in PostgreSQL.
	an, bn := a != a, b != b
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	}
	return cmp.Compare(a, b)
}

func baseCmp(arr arrow.Array) (rowCmp, error) {
	switch a := arr.(type) {
	case *array.Int8:
		return func(i, j int) int { return cmp.Compare(a.Value(i), a.Value(j)) }, nil
	case *array.Int16:
		return func(i, j int) int { return cmp.Compare(a.Value(i), a.Value(j)) }, nil
	case *array.Int32:
		v := a.Int32Values()
		return func(i, j int) int { return cmp.Compare(v[i], v[j]) }, nil
	case *array.Int64:
		v := a.Int64Values()
		return func(i, j int) int { return cmp.Compare(v[i], v[j]) }, nil
	case *array.Uint32:
		return func(i, j int) int { return cmp.Compare(a.Value(i), a.Value(j)) }, nil
	case *array.Uint64:
		return func(i, j int) int { return cmp.Compare(a.Value(i), a.Value(j)) }, nil
	case *array.Float32:
		return func(i, j int) int { return floatCmp(float64(a.Value(i)), float64(a.Value(j))) }, nil
	case *array.Float64:
		v := a.Float64Values()
		return func(i, j int) int { return floatCmp(v[i], v[j]) }, nil
	case *array.Date32:
		v := a.Date32Values()
		return func(i, j int) int { return cmp.Compare(v[i], v[j]) }, nil
	case *array.Date64:
		return func(i, j int) int { return cmp.Compare(a.Value(i), a.Value(j)) }, nil
	case *array.Timestamp:
		v := a.TimestampValues()
		return func(i, j int) int { return cmp.Compare(v[i], v[j]) }, nil
	case *array.Time32:
		return func(i, j int) int { return cmp.Compare(a.Value(i), a.Value(j)) }, nil
	case *array.Time64:
		return func(i, j int) int { return cmp.Compare(a.Value(i), a.Value(j)) }, nil
	case *array.Decimal128:
		return func(i, j int) int { return a.Value(i).Cmp(a.Value(j)) }, nil
	case *array.String:
		return func(i, j int) int { return strings.Compare(a.Value(i), a.Value(j)) }, nil
	case *array.LargeString:
		return func(i, j int) int { return strings.Compare(a.Value(i), a.Value(j)) }, nil
	case *array.Binary:
		return func(i, j int) int { return bytes.Compare(a.Value(i), a.Value(j)) }, nil
	case *array.Boolean:
		return func(i, j int) int {
			x, y := a.Value(i), a.Value(j)
			switch {
			case x == y:
				return 0
			case !x:
				return -1
			}
			return 1
		}, nil
	case *array.MonthDayNanoInterval:
		return func(i, j int) int {
			x, y := a.Value(i), a.Value(j)
			if c := cmp.Compare(x.Months, y.Months); c != 0 {
				return c
			}
			if c := cmp.Compare(x.Days, y.Days); c != 0 {
				return c
			}
			return cmp.Compare(x.Nanoseconds, y.Nanoseconds)
		}, nil
	case *array.Null:
		return func(i, j int) int { return 0 }, nil
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "cannot order %s values", arr.DataType())
}
