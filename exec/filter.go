package exec

import (
	"context"
	"math/bits"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/exec/kernels"
)

// selection is the rows a filter keeps, as positions in the batch. Its
// slice is reused from batch to batch.
type selection struct{ idx []int32 }

// fromMask sets s to the rows where mask is TRUE (not FALSE or NULL) and
// returns their number.
func (s *selection) fromMask(mask *array.Boolean) int {
	n := mask.Len()
	if cap(s.idx) < n {
		s.idx = make([]int32, n)
	}
	idx := s.idx[:n]
	vals := mask.Data().Buffers()[1].Bytes()
	off := mask.Data().Offset()
	var valid []byte
	if mask.NullN() > 0 {
		valid = mask.NullBitmapBytes()
	}
	k := 0
	if off%8 == 0 && valid == nil {
		// A byte of the mask at a time; all-TRUE bytes skip the bit loop.
		vals = vals[off/8:]
		i := 0
		for ; i+8 <= n; i += 8 {
			w := vals[i>>3]
			if w == 0xff {
				for j := range 8 {
					idx[k+j] = int32(i + j)
				}
				k += 8
				continue
			}
			for w != 0 {
				idx[k] = int32(i + bits.TrailingZeros8(w))
				k++
				w &= w - 1
			}
		}
		for ; i < n; i++ {
			if vals[i>>3]&(1<<(i&7)) != 0 {
				idx[k] = int32(i)
				k++
			}
		}
	} else {
		for i := 0; i < n; i++ {
			p := off + i
			if vals[p>>3]&(1<<(p&7)) != 0 && (valid == nil || valid[p>>3]&(1<<(p&7)) != 0) {
				idx[k] = int32(i)
				k++
			}
		}
	}
	s.idx = idx[:k]
	return k
}

// filterColumns returns the rows sel of each column of b as a new batch.
// Fixed-width, boolean and string columns are gathered with typed loops;
// other types go through arrow's Filter.
func filterColumns(cctx context.Context, mem memory.Allocator, b arrow.Record, sel []int32, mask arrow.Array) (arrow.Record, error) {
	cols := make([]arrow.Array, b.NumCols())
	for i, c := range b.Columns() {
		a := takeColumn(mem, c, sel)
		if a == nil {
			d, err := compute.Filter(cctx, compute.NewDatumWithoutOwning(c), compute.NewDatumWithoutOwning(mask), *compute.DefaultFilterOptions())
			if err != nil {
				releaseAll(cols)
				return nil, err
			}
			a = d.(*compute.ArrayDatum).MakeArray()
			d.Release()
		}
		cols[i] = a
	}
	out := array.NewRecordBatch(b.Schema(), cols, int64(len(sel)))
	releaseAll(cols)
	return out, nil
}

// takeColumn gathers rows sel of arr, or returns nil for a type it does
// not handle.
func takeColumn(mem memory.Allocator, arr arrow.Array, sel []int32) arrow.Array {
	d := arr.Data()
	var vals *memory.Buffer
	switch dt := arr.DataType().(type) {
	case *arrow.StringType, *arrow.BinaryType:
		return takeBinary(mem, arr, sel)
	case *arrow.BooleanType:
		vals = takeBits(mem, d.Buffers()[1], d.Offset(), sel)
	case arrow.FixedWidthDataType:
		if len(d.Buffers()) != 2 || d.Buffers()[1] == nil || len(d.Children()) > 0 || dt.ID() == arrow.DICTIONARY {
			return nil
		}
		switch dt.Bytes() {
		case 1:
			vals = takeFixed[uint8](mem, d, sel)
		case 2:
			vals = takeFixed[uint16](mem, d, sel)
		case 4:
			vals = takeFixed[uint32](mem, d, sel)
		case 8:
			vals = takeFixed[uint64](mem, d, sel)
		case 16:
			vals = takeFixed[decimal128.Num](mem, d, sel)
			if m, ok := kernels.DecBound(arr); ok {
				kernels.SetDecBound(vals, m) // a subset keeps the bound
			}
		default:
			return nil
		}
	default:
		return nil
	}
	validity, nulls := takeValidity(mem, arr, sel)
	nd := array.NewData(arr.DataType(), len(sel), []*memory.Buffer{validity, vals}, nil, nulls, 0)
	if validity != nil {
		validity.Release()
	}
	vals.Release()
	defer nd.Release()
	return array.MakeFromData(nd)
}

func takeFixed[T any](mem memory.Allocator, d arrow.ArrayData, sel []int32) *memory.Buffer {
	var z T
	raw := d.Buffers()[1].Bytes()
	in := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(raw))), len(raw)/int(unsafe.Sizeof(z)))[d.Offset():]
	buf := kernels.NewBuffer(mem, len(sel)*int(unsafe.Sizeof(z)))
	if len(sel) == 0 {
		return buf
	}
	out := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(buf.Bytes()))), len(sel))
	for j, i := range sel {
		out[j] = in[i]
	}
	return buf
}

// takeBits gathers bits sel of a bitmap starting at bit off.
func takeBits(mem memory.Allocator, src *memory.Buffer, off int, sel []int32) *memory.Buffer {
	in := src.Bytes()
	nb := (len(sel) + 7) / 8
	buf := kernels.NewBuffer(mem, nb)
	out := buf.Bytes()
	clear(out)
	for j, i := range sel {
		p := off + int(i)
		out[j>>3] |= (in[p>>3] >> (p & 7) & 1) << (j & 7)
	}
	return buf
}

// takeValidity gathers the validity bitmap of arr for rows sel: nil when
// none of them is NULL.
func takeValidity(mem memory.Allocator, arr arrow.Array, sel []int32) (*memory.Buffer, int) {
	if arr.NullN() == 0 {
		return nil, 0
	}
	d := arr.Data()
	buf := takeBits(mem, d.Buffers()[0], d.Offset(), sel)
	set := 0
	for _, w := range buf.Bytes() {
		set += bits.OnesCount8(w)
	}
	if set == len(sel) {
		buf.Release()
		return nil, 0
	}
	return buf, len(sel) - set
}

// takeBinary gathers rows sel of a string or binary array (int32 offsets):
// one pass for the offsets, one to copy the bytes.
func takeBinary(mem memory.Allocator, arr arrow.Array, sel []int32) arrow.Array {
	d := arr.Data()
	bufs := d.Buffers()
	var offs []int32
	if bufs[1] != nil && bufs[1].Len() > 0 {
		raw := bufs[1].Bytes()
		offs = unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(raw))), len(raw)/4)[d.Offset():]
	}
	var data []byte
	if len(bufs) > 2 && bufs[2] != nil {
		data = bufs[2].Bytes()
	}
	obuf := kernels.NewBuffer(mem, (len(sel)+1)*4)
	out := unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(obuf.Bytes()))), len(sel)+1)
	total := int32(0)
	for j, i := range sel {
		out[j] = total
		total += offs[i+1] - offs[i]
	}
	out[len(sel)] = total
	dbuf := kernels.NewBuffer(mem, int(total))
	dst := dbuf.Bytes()
	for j, i := range sel {
		s, e := offs[i], offs[i+1]
		if e-s == 1 {
			dst[out[j]] = data[s]
			continue
		}
		copy(dst[out[j]:out[j+1]], data[s:e])
	}
	validity, nulls := takeValidity(mem, arr, sel)
	nd := array.NewData(arr.DataType(), len(sel), []*memory.Buffer{validity, obuf, dbuf}, nil, nulls, 0)
	if validity != nil {
		validity.Release()
	}
	obuf.Release()
	dbuf.Release()
	defer nd.Release()
	return array.MakeFromData(nd)
}
