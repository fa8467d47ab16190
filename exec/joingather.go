package exec

import (
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// gatherColumn builds len(pos) values of type dt: value k is row pos[k] of
// srcs[which[k]] (srcs[0] when which is nil), or NULL when pos[k] < 0. The
// sources keep their buffers; the result is a fresh array. Joins use it to
// assemble output rows from one probe batch and many retained build
// batches without concatenating them first.
func gatherColumn(mem memory.Allocator, dt arrow.DataType, srcs []arrow.Array, which, pos []int32) (arrow.Array, error) {
	switch dt.ID() {
	case arrow.NULL:
		return array.NewNull(len(pos)), nil
	case arrow.BOOL:
		return gatherBits(mem, dt, srcs, which, pos), nil
	case arrow.STRING, arrow.BINARY:
		return gatherVarBinary(mem, dt, srcs, which, pos), nil
	}
	if fw, ok := dt.(arrow.FixedWidthDataType); ok {
		switch fw.BitWidth() {
		case 8:
			return gatherFixedWidth[uint8](mem, dt, srcs, which, pos), nil
		case 16:
			return gatherFixedWidth[uint16](mem, dt, srcs, which, pos), nil
		case 32:
			return gatherFixedWidth[uint32](mem, dt, srcs, which, pos), nil
		case 64:
			return gatherFixedWidth[uint64](mem, dt, srcs, which, pos), nil
		case 128:
			return gatherFixedWidth[[2]uint64](mem, dt, srcs, which, pos), nil
		case 256:
			return gatherFixedWidth[[4]uint64](mem, dt, srcs, which, pos), nil
		}
	}
	return gatherSlow(mem, dt, srcs, which, pos)
}

// gatherSlow copies value by value through a builder (rare types).
func gatherSlow(mem memory.Allocator, dt arrow.DataType, srcs []arrow.Array, which, pos []int32) (arrow.Array, error) {
	b := array.NewBuilder(mem, dt)
	defer b.Release()
	b.Reserve(len(pos))
	for k, p := range pos {
		if p < 0 {
			b.AppendNull()
			continue
		}
		s := srcs[0]
		if which != nil {
			s = srcs[which[k]]
		}
		if err := appendValue(b, s, int(p)); err != nil {
			return nil, err
		}
	}
	return b.NewArray(), nil
}

// validSrc is the validity bitmap of one source array (nil: no NULLs).
type validSrc struct {
	bits []byte
	off  int
}

func validOf(a arrow.Array) validSrc {
	if a.NullN() == 0 {
		return validSrc{}
	}
	return validSrc{bits: a.NullBitmapBytes(), off: a.Data().Offset()}
}

func (v validSrc) ok(i int) bool {
	return v.bits == nil || bitutil.BitIsSet(v.bits, v.off+i)
}

// outValidity collects the output validity bitmap, allocated on the first
// NULL.
type outValidity struct {
	mem   memory.Allocator
	n     int
	buf   *memory.Buffer
	bits  []byte
	nulls int
}

func (o *outValidity) setNull(k int) {
	if o.buf == nil {
		o.buf = memory.NewResizableBuffer(o.mem)
		o.buf.Resize(int(bitutil.BytesForBits(int64(o.n))))
		o.bits = o.buf.Bytes()
		bitutil.SetBitsTo(o.bits, 0, int64(o.n), true)
	}
	bitutil.ClearBit(o.bits, k)
	o.nulls++
}

func rawValues[T any](a arrow.Array) []T {
	bufs := a.Data().Buffers()
	if len(bufs) < 2 || bufs[1] == nil || bufs[1].Len() == 0 {
		return nil
	}
	b := bufs[1].Bytes()
	var zero T
	vals := unsafe.Slice((*T)(unsafe.Pointer(&b[0])), len(b)/int(unsafe.Sizeof(zero)))
	return vals[a.Data().Offset():]
}

func gatherFixedWidth[T any](mem memory.Allocator, dt arrow.DataType, srcs []arrow.Array, which, pos []int32) arrow.Array {
	n := len(pos)
	var zero T
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(n * int(unsafe.Sizeof(zero)))
	var out []T
	if n > 0 {
		out = unsafe.Slice((*T)(unsafe.Pointer(&buf.Bytes()[0])), n)
	}
	vals := make([][]T, len(srcs))
	valid := make([]validSrc, len(srcs))
	anyNull := false
	for i, s := range srcs {
		vals[i] = rawValues[T](s)
		valid[i] = validOf(s)
		anyNull = anyNull || valid[i].bits != nil
	}
	ov := outValidity{mem: mem, n: n}
	if which == nil && !anyNull {
		v := vals[0]
		for k, p := range pos {
			if p < 0 {
				out[k] = zero
				ov.setNull(k)
				continue
			}
			out[k] = v[p]
		}
	} else if !anyNull {
		for k, p := range pos {
			if p < 0 {
				out[k] = zero
				ov.setNull(k)
				continue
			}
			out[k] = vals[which[k]][p]
		}
	} else {
		for k, p := range pos {
			w := 0
			if which != nil {
				w = int(which[k])
			}
			if p < 0 || !valid[w].ok(int(p)) {
				out[k] = zero
				ov.setNull(k)
				continue
			}
			out[k] = vals[w][p]
		}
	}
	return finishArray(dt, n, &ov, buf, nil)
}

func finishArray(dt arrow.DataType, n int, ov *outValidity, values, data *memory.Buffer) arrow.Array {
	bufs := []*memory.Buffer{ov.buf, values}
	if data != nil {
		bufs = append(bufs, data)
	}
	d := array.NewData(dt, n, bufs, nil, ov.nulls, 0)
	arr := array.MakeFromData(d)
	d.Release()
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
	return arr
}

func gatherBits(mem memory.Allocator, dt arrow.DataType, srcs []arrow.Array, which, pos []int32) arrow.Array {
	n := len(pos)
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(int(bitutil.BytesForBits(int64(n))))
	out := buf.Bytes()
	clear(out)
	type src struct {
		bits []byte
		off  int
		v    validSrc
	}
	ss := make([]src, len(srcs))
	for i, s := range srcs {
		bufs := s.Data().Buffers()
		if len(bufs) > 1 && bufs[1] != nil {
			ss[i].bits = bufs[1].Bytes()
		}
		ss[i].off = s.Data().Offset()
		ss[i].v = validOf(s)
	}
	ov := outValidity{mem: mem, n: n}
	for k, p := range pos {
		w := 0
		if which != nil {
			w = int(which[k])
		}
		if p < 0 || !ss[w].v.ok(int(p)) {
			ov.setNull(k)
			continue
		}
		if bitutil.BitIsSet(ss[w].bits, ss[w].off+int(p)) {
			bitutil.SetBit(out, k)
		}
	}
	return finishArray(dt, n, &ov, buf, nil)
}

func gatherVarBinary(mem memory.Allocator, dt arrow.DataType, srcs []arrow.Array, which, pos []int32) arrow.Array {
	n := len(pos)
	offs := make([][]int32, len(srcs))
	datas := make([][]byte, len(srcs))
	valid := make([]validSrc, len(srcs))
	for i, s := range srcs {
		bufs := s.Data().Buffers()
		if s.Len() > 0 {
			offs[i] = arrow.Int32Traits.CastFromBytes(bufs[1].Bytes())[s.Data().Offset():]
		}
		if len(bufs) > 2 && bufs[2] != nil {
			datas[i] = bufs[2].Bytes()
		}
		valid[i] = validOf(s)
	}
	total := 0
	for k, p := range pos {
		if p < 0 {
			continue
		}
		w := 0
		if which != nil {
			w = int(which[k])
		}
		o := offs[w]
		total += int(o[p+1] - o[p])
	}
	offBuf := memory.NewResizableBuffer(mem)
	offBuf.Resize((n + 1) * 4)
	outOff := arrow.Int32Traits.CastFromBytes(offBuf.Bytes())
	dataBuf := memory.NewResizableBuffer(mem)
	dataBuf.Resize(total)
	out := dataBuf.Bytes()
	ov := outValidity{mem: mem, n: n}
	cur := int32(0)
	outOff[0] = 0
	for k, p := range pos {
		w := 0
		if which != nil {
			w = int(which[k])
		}
		if p < 0 || !valid[w].ok(int(p)) {
			ov.setNull(k)
			outOff[k+1] = cur
			continue
		}
		o := offs[w]
		cur += int32(copy(out[cur:], datas[w][o[p]:o[p+1]]))
		outOff[k+1] = cur
	}
	return finishArray(dt, n, &ov, offBuf, dataBuf)
}
