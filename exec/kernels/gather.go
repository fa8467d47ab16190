package kernels

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func bitIsSet(b []byte, i int) bool { return b[uint(i)>>3]&(1<<(uint(i)&7)) != 0 }

// boolBits returns the value bitmap of a boolean array and its offset.
func boolBits(arr arrow.Array) ([]byte, int) {
	bufs := arr.Data().Buffers()
	if len(bufs) < 2 || bufs[1] == nil {
		return nil, 0
	}
	return bufs[1].Bytes(), arr.Data().Offset()
}

// take returns the rows idx of arr.
func take(mem memory.Allocator, arr arrow.Array, idx []int32) (arrow.Array, error) {
	if kindOf(arr.DataType()) == kNull {
		return array.NewNull(len(idx)), nil
	}
	return gather(mem, arr.DataType(), len(idx), []datum{{arr: arr, t: arr.DataType()}}, nil, idx)
}

// gather builds n values of type t: row i is row pos[i] of parts[which[i]]
// (which == nil means part 0; which[i] < 0 means NULL). Scalar parts supply
// their value whatever pos says.
func gather(mem memory.Allocator, t arrow.DataType, n int, parts []datum, which, pos []int32) (arrow.Array, error) {
	switch kindOf(t) {
	case kInt32, kDate:
		return gatherFixed[int32](mem, t, n, parts, which, pos, func(v any) int32 { return toI32(v) }), nil
	case kInt64, kTimestamp:
		return gatherFixed[int64](mem, t, n, parts, which, pos, func(v any) int64 { return toI64(v) }), nil
	case kFloat64:
		return gatherFixed[float64](mem, t, n, parts, which, pos, func(v any) float64 { return v.(float64) }), nil
	case kDecimal:
		return gatherFixed[decimal128.Num](mem, t, n, parts, which, pos, func(v any) decimal128.Num { return v.(decimal128.Num) }), nil
	case kInterval:
		return gatherFixed[arrow.MonthDayNanoInterval](mem, t, n, parts, which, pos, func(v any) arrow.MonthDayNanoInterval { return v.(arrow.MonthDayNanoInterval) }), nil
	case kBool:
		return gatherBool(mem, t, n, parts, which, pos), nil
	case kString:
		return gatherString(mem, t, n, parts, which, pos), nil
	case kNull:
		return array.NewNull(n), nil
	}
	return nil, unsupported("CASE/COALESCE", t)
}

func toI32(v any) int32 {
	switch x := v.(type) {
	case int32:
		return x
	case arrow.Date32:
		return int32(x)
	}
	return 0
}

func toI64(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case arrow.Timestamp:
		return int64(x)
	}
	return 0
}

type gsrc[T any] struct {
	vals   []T
	valid  []byte
	off    int
	scalar bool
	null   bool
	sv     T
}

func gatherSources[T any](parts []datum, conv func(any) T) []gsrc[T] {
	srcs := make([]gsrc[T], len(parts))
	for i, p := range parts {
		if p.arr == nil || kindOf(p.arr.DataType()) == kNull {
			srcs[i].scalar = true
			if p.arr != nil || p.val == nil {
				srcs[i].null = true
			} else {
				srcs[i].sv = conv(p.val)
			}
			continue
		}
		srcs[i].vals = rawValues[T](p.arr)
		srcs[i].valid, srcs[i].off = validBits(p.arr)
	}
	return srcs
}

func gatherFixed[T any](mem memory.Allocator, t arrow.DataType, n int, parts []datum, which, pos []int32, conv func(any) T) arrow.Array {
	srcs := gatherSources(parts, conv)
	buf, out := newValues[T](mem, n)
	vbuf, valid := newBitmap(mem, n)
	nulls := 0
	// Fast path: take from one array.
	if which == nil && !srcs[0].scalar {
		s := srcs[0]
		for i, p := range pos {
			out[i] = s.vals[p]
			if isValid(s.valid, s.off, int(p)) {
				valid[i>>3] |= 1 << (i & 7)
			} else {
				nulls++
			}
		}
	} else {
		var zero T
		for i := 0; i < n; i++ {
			w := int32(0)
			if which != nil {
				w = which[i]
			}
			if w < 0 {
				out[i] = zero
				nulls++
				continue
			}
			s := &srcs[w]
			switch {
			case s.scalar && s.null:
				out[i] = zero
				nulls++
			case s.scalar:
				out[i] = s.sv
				valid[i>>3] |= 1 << (i & 7)
			default:
				p := int(pos[i])
				out[i] = s.vals[p]
				if isValid(s.valid, s.off, p) {
					valid[i>>3] |= 1 << (i & 7)
				} else {
					nulls++
				}
			}
		}
	}
	if nulls == 0 {
		vbuf.Release()
		vbuf = nil
	}
	return makeArray(t, n, vbuf, buf)
}

func gatherBool(mem memory.Allocator, t arrow.DataType, n int, parts []datum, which, pos []int32) arrow.Array {
	type src struct {
		bits   []byte
		boff   int
		valid  []byte
		off    int
		scalar bool
		null   bool
		sv     bool
	}
	srcs := make([]src, len(parts))
	for i, p := range parts {
		if p.arr == nil || kindOf(p.arr.DataType()) == kNull {
			srcs[i].scalar = true
			if p.arr != nil || p.val == nil {
				srcs[i].null = true
			} else {
				srcs[i].sv = p.val.(bool)
			}
			continue
		}
		srcs[i].bits, srcs[i].boff = boolBits(p.arr)
		srcs[i].valid, srcs[i].off = validBits(p.arr)
	}
	buf, out := newBitmap(mem, n)
	vbuf, valid := newBitmap(mem, n)
	nulls := 0
	for i := 0; i < n; i++ {
		w := int32(0)
		if which != nil {
			w = which[i]
		}
		if w < 0 {
			nulls++
			continue
		}
		s := &srcs[w]
		var v, ok bool
		switch {
		case s.scalar:
			v, ok = s.sv, !s.null
		default:
			p := int(pos[i])
			ok = isValid(s.valid, s.off, p)
			v = bitIsSet(s.bits, s.boff+p)
		}
		if !ok {
			nulls++
			continue
		}
		valid[i>>3] |= 1 << (i & 7)
		if v {
			out[i>>3] |= 1 << (i & 7)
		}
	}
	if nulls == 0 {
		vbuf.Release()
		vbuf = nil
	}
	return makeArray(t, n, vbuf, buf)
}

func gatherString(mem memory.Allocator, t arrow.DataType, n int, parts []datum, which, pos []int32) arrow.Array {
	type src struct {
		arr    *array.String
		scalar bool
		null   bool
		sv     string
	}
	srcs := make([]src, len(parts))
	size := 0
	for i, p := range parts {
		if a, ok := p.arr.(*array.String); ok {
			srcs[i].arr = a
			size += len(a.ValueBytes())
			continue
		}
		srcs[i].scalar = true
		if s, ok := p.val.(string); ok && p.arr == nil {
			srcs[i].sv = s
			size += len(s) * 4
		} else {
			srcs[i].null = true
		}
	}
	b := array.NewStringBuilder(mem)
	defer b.Release()
	b.Reserve(n)
	b.ReserveData(size)
	for i := 0; i < n; i++ {
		w := int32(0)
		if which != nil {
			w = which[i]
		}
		if w < 0 {
			b.AppendNull()
			continue
		}
		s := &srcs[w]
		switch {
		case s.scalar && s.null:
			b.AppendNull()
		case s.scalar:
			b.Append(s.sv)
		case s.arr.IsNull(int(pos[i])):
			b.AppendNull()
		default:
			b.Append(s.arr.Value(int(pos[i])))
		}
	}
	return b.NewArray()
}
