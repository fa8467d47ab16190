package exec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/endian"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/quarrydb/quarry/exec/kernels"
)

// The common flat columns (integers, dates, decimals stored as integers,
// strings) are decoded from their pages here rather than by pqarrow.
// pqarrow decodes a dictionary lazily, growing it a slice at a time as
// larger indices turn up, goes through several scratch passes per value
// (spaced decoding, validity as bools, builders) and, for strings, either
// appends every value to a builder or builds a dictionary array that must
// then be expanded. Here each page's definition levels and values are
// decoded once, straight into the batch's buffers: integers are gathered
// from a dictionary decoded once per column chunk, strings are copied
// once from their dictionary or plain page. Anything else (other
// encodings, nesting, other types) stays with pqarrow.

// pageKind is what a pageColumn decodes.
type pageKind uint8

const (
	pageInt32  pageKind = iota + 1 // INT32 into 4-byte values
	pageInt64                      // INT64 into 8-byte values
	pageString                     // BYTE_ARRAY into a string array
	pageDec32                      // INT32 decimals into decimal128
	pageDec64                      // INT64 decimals into decimal128
)

// pageKindOf returns how the scan reads leaf column col of the open file
// by pages, or 0 when pqarrow reads it. want is the type the scan wants
// the column as; the column qualifies when pqarrow would give it a type
// whose values are the stored bits (Int32, Int64, Date32, strings) or
// it holds decimals as integers (see readIntDecimalsRaw), it is flat, and
// every row group stores it with encodings decoded here.
func (s *scanOp) pageKindOf(col int, want arrow.DataType) pageKind {
	if endian.IsBigEndian {
		return 0
	}
	md := s.pf.MetaData()
	if col >= md.Schema.NumColumns() {
		return 0
	}
	d := md.Schema.Column(col)
	if d.MaxRepetitionLevel() != 0 || d.MaxDefinitionLevel() > 1 {
		return 0
	}
	sf := topLevelLeaf(s.fr.Manifest, col)
	if sf == nil {
		return 0
	}
	t := sf.Field.Type
	if dt, ok := t.(*arrow.DictionaryType); ok {
		t = dt.ValueType
	}
	var kind pageKind
	_, dec := s.rawDec[col]
	switch d.PhysicalType() {
	case parquet.Types.Int32:
		switch {
		case dec && t.ID() == arrow.INT32:
			kind = pageDec32
		case t.ID() == arrow.INT32 || t.ID() == arrow.DATE32:
			kind = pageInt32
		}
	case parquet.Types.Int64:
		switch {
		case dec && t.ID() == arrow.INT64:
			kind = pageDec64
		case t.ID() == arrow.INT64:
			kind = pageInt64
		}
	case parquet.Types.ByteArray:
		if want.ID() == arrow.STRING && (t.ID() == arrow.STRING || t.ID() == arrow.LARGE_STRING) {
			kind = pageString
		}
	}
	if kind == 0 || !pageEncoded(md.NumRowGroups(), func(rg int) ([]parquet.Encoding, []parquet.Encoding, bool) {
		cc, err := md.RowGroup(rg).ColumnChunk(col)
		if err != nil {
			return nil, nil, false
		}
		var data []parquet.Encoding
		for _, st := range cc.EncodingStats() {
			if st.PageType != file.PageTypeDictionaryPage {
				data = append(data, st.Encoding)
			}
		}
		return cc.Encodings(), data, true
	}) {
		return 0
	}
	return kind
}

// pageEncoded reports whether every column chunk (of n, described by
// chunk: all its encodings and those of its data pages, when known) uses
// only encodings pageColumn decodes: PLAIN or dictionary values, RLE
// levels.
func pageEncoded(n int, chunk func(rg int) (all, data []parquet.Encoding, ok bool)) bool {
	for rg := 0; rg < n; rg++ {
		all, data, ok := chunk(rg)
		if !ok {
			return false
		}
		for _, e := range all {
			switch e {
			case parquet.Encodings.Plain, parquet.Encodings.PlainDict, parquet.Encodings.RLEDict, parquet.Encodings.RLE:
			default:
				return false
			}
		}
		for _, e := range data {
			switch e {
			case parquet.Encodings.Plain, parquet.Encodings.PlainDict, parquet.Encodings.RLEDict:
			default:
				return false
			}
		}
	}
	return true
}

// topLevelLeaf returns the manifest's field for leaf column col when it is
// a top-level column, else nil.
func topLevelLeaf(m *pqarrow.SchemaManifest, col int) *pqarrow.SchemaField {
	for i := range m.Fields {
		sf := &m.Fields[i]
		if sf.ColIndex == col && len(sf.Children) == 0 && sf.Field != nil {
			return sf
		}
	}
	return nil
}

// pageScratch holds the levels and indices of a run of rows; the scan's
// pageColumns share it.
type pageScratch struct {
	lvl []uint32
	ids []uint32
}

// pageColumn decodes the pages of one column chunk.
type pageColumn struct {
	pr     file.PageReader
	kind   pageKind
	maxDef int16
	t      arrow.DataType // type of the arrays read
	// perValue is the expected size of a string, learnt from the batches
	// read, so that the data buffer seldom grows.
	perValue *int
	scratch  *pageScratch

	// The dictionary, decoded once: integers, decimals (and the largest
	// magnitude among them), or strings: the dictionary page is copied to
	// dictData, with slack for copyShort, and string i is
	// dictData[dictOffs[i]:dictOffs[i+1]-4] (each string is followed by
	// the next one's 4-byte length).
	hasDict  bool
	dict32   []int32
	dict64   []int64
	dictDec  []decimal128.Num
	dictMax  uint64
	dictOffs []int32
	dictData []byte

	// The current data page: levels left to read, the decoders of its
	// definition levels and dictionary indices, or its plain values.
	left     int
	defs     rleDecoder
	dictVals bool
	idx      rleDecoder
	plain    []byte
}

// open starts reading column col of row group rg, keeping the buffers of
// the column chunk c read before.
func (c *pageColumn) open(rg *file.RowGroupReader, col int, kind pageKind, t arrow.DataType, perValue *int, scratch *pageScratch) error {
	pr, err := rg.GetColumnPageReader(col)
	if err != nil {
		return err
	}
	*c = pageColumn{
		pr: pr, kind: kind, maxDef: rg.MetaData().Schema.Column(col).MaxDefinitionLevel(), t: t,
		perValue: perValue, scratch: scratch,
		dict32: c.dict32[:0], dict64: c.dict64[:0], dictDec: c.dictDec[:0], dictOffs: c.dictOffs[:0], dictData: c.dictData[:0],
	}
	return nil
}

func (c *pageColumn) close() {
	if c.pr != nil {
		c.pr.Close()
		c.pr = nil
	}
}

var errPageShort = errors.New("page data is shorter than its header says")

// nextPage moves to the next data page, decoding any dictionary page on
// the way.
func (c *pageColumn) nextPage() error {
	for {
		if !c.pr.Next() {
			if err := c.pr.Err(); err != nil {
				return err
			}
			return errors.New("column chunk ended before its row group")
		}
		switch p := c.pr.Page().(type) {
		case *file.DictionaryPage:
			if err := c.setDictionary(p); err != nil {
				return err
			}
		case *file.DataPageV1:
			data := p.Data()
			if c.maxDef > 0 {
				if p.DefinitionLevelEncoding() != parquet.Encodings.RLE {
					return fmt.Errorf("definition levels encoded as %s", p.DefinitionLevelEncoding())
				}
				if len(data) < 4 {
					return errPageShort
				}
				n := int(binary.LittleEndian.Uint32(data))
				if n < 0 || 4+n > len(data) {
					return errPageShort
				}
				c.defs.reset(data[4:4+n], 1)
				data = data[4+n:]
			}
			if err := c.setValues(parquet.Encoding(p.Encoding()), data); err != nil {
				return err
			}
			c.left = int(p.NumValues())
		case *file.DataPageV2:
			data := p.Data()
			rl, dl := int(p.RepetitionLevelByteLen()), int(p.DefinitionLevelByteLen())
			if rl < 0 || dl < 0 || rl+dl > len(data) {
				return errPageShort
			}
			if c.maxDef > 0 {
				c.defs.reset(data[rl:rl+dl], 1)
			}
			if err := c.setValues(parquet.Encoding(p.Encoding()), data[rl+dl:]); err != nil {
				return err
			}
			c.left = int(p.NumValues())
		default:
			continue
		}
		if c.left > 0 {
			return nil
		}
	}
}

// setValues starts the values of a data page: dictionary indices or
// plain values.
func (c *pageColumn) setValues(enc parquet.Encoding, data []byte) error {
	switch enc {
	case parquet.Encodings.Plain:
		c.dictVals, c.plain = false, data
	case parquet.Encodings.PlainDict, parquet.Encodings.RLEDict:
		if !c.hasDict {
			return errors.New("dictionary-encoded page without a dictionary")
		}
		if len(data) == 0 {
			c.idx.reset(nil, 0)
		} else {
			w := int(data[0])
			if w > 32 {
				return fmt.Errorf("invalid dictionary index width %d", w)
			}
			c.idx.reset(data[1:], uint(w))
		}
		c.dictVals, c.plain = true, nil
	default:
		return fmt.Errorf("unsupported encoding %s", enc)
	}
	return nil
}

func (c *pageColumn) setDictionary(p *file.DictionaryPage) error {
	if e := parquet.Encoding(p.Encoding()); e != parquet.Encodings.Plain && e != parquet.Encodings.PlainDict {
		return fmt.Errorf("dictionary page encoded as %s", e)
	}
	n, data := int(p.NumValues()), p.Data()
	if n < 0 {
		return errPageShort
	}
	switch c.kind {
	case pageInt32, pageDec32:
		if len(data) < 4*n {
			return errPageShort
		}
		c.dict32 = append(c.dict32[:0], unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(data))), n)...)
		if c.kind == pageDec32 {
			c.dictDec = slices.Grow(c.dictDec[:0], n)[:n]
			c.dictMax = widenInts(c.dict32, c.dictDec)
		}
	case pageInt64, pageDec64:
		if len(data) < 8*n {
			return errPageShort
		}
		c.dict64 = append(c.dict64[:0], unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(data))), n)...)
		if c.kind == pageDec64 {
			c.dictDec = slices.Grow(c.dictDec[:0], n)[:n]
			c.dictMax = widenInts(c.dict64, c.dictDec)
		}
	case pageString:
		if len(data) > math.MaxInt32-2*shortCopy {
			return errors.New("dictionary page too large")
		}
		c.dictData = append(append(c.dictData[:0], data...), make([]byte, shortCopy)...)
		c.dictOffs = slices.Grow(c.dictOffs[:0], n+1)
		pos := 0
		for i := 0; i < n; i++ {
			if len(data)-pos < 4 {
				return errPageShort
			}
			l := int(binary.LittleEndian.Uint32(data[pos:]))
			if l < 0 || l > len(data)-pos-4 {
				return errPageShort
			}
			c.dictOffs = append(c.dictOffs, int32(pos+4))
			pos += 4 + l
		}
		c.dictOffs = append(c.dictOffs, int32(pos+4))
	}
	c.hasDict = true
	return nil
}

// run starts the next stretch of at most want rows within one page
// (moving to the next page when this one is used up): its row count k,
// the non-null values among them and their levels (see levels).
func (c *pageColumn) run(want int) (k, nv int, lvl []uint32, err error) {
	if c.left == 0 {
		if err := c.nextPage(); err != nil {
			return 0, 0, nil, err
		}
	}
	k = min(want, c.left)
	nv, lvl, err = c.levels(k)
	return k, nv, lvl, err
}

// levels reads the definition levels of the next k rows of the page and
// returns how many are values; lvl is nil when all are.
func (c *pageColumn) levels(k int) (nv int, lvl []uint32, err error) {
	if c.maxDef == 0 || c.defs.take(k, uint32(c.maxDef)) {
		return k, nil, nil
	}
	if cap(c.scratch.lvl) < k {
		c.scratch.lvl = make([]uint32, k)
	}
	lvl = c.scratch.lvl[:k]
	if err := c.defs.decode(lvl); err != nil {
		return 0, nil, fmt.Errorf("definition levels: %w", err)
	}
	for _, l := range lvl {
		if l == uint32(c.maxDef) {
			nv++
		}
	}
	return nv, lvl, nil
}

// indices decodes the next nv dictionary indices.
func (c *pageColumn) indices(nv int) ([]uint32, error) {
	if cap(c.scratch.ids) < nv {
		c.scratch.ids = make([]uint32, nv)
	}
	ids := c.scratch.ids[:nv]
	if err := c.idx.decode(ids); err != nil {
		return nil, fmt.Errorf("dictionary indices: %w", err)
	}
	return ids, nil
}

// read returns the next n rows as an array.
func (c *pageColumn) read(mem memory.Allocator, n int) (arrow.Array, error) {
	if c.kind == pageString {
		return c.readStrings(mem, n)
	}
	width := 4
	switch c.kind {
	case pageInt64:
		width = 8
	case pageDec32, pageDec64:
		width = 16
	}
	vbuf := kernels.NewBuffer(mem, n*width)
	out := vbuf.Bytes()
	var bmp *memory.Buffer
	var bits []byte
	fail := func(err error) (arrow.Array, error) {
		vbuf.Release()
		if bmp != nil {
			bmp.Release()
		}
		return nil, err
	}
	nulls := 0
	var bound uint64 // of decimals
	for got := 0; got < n; {
		k, nv, lvl, err := c.run(n - got)
		if err != nil {
			return fail(err)
		}
		dst := out[got*width : (got+k)*width]
		if lvl != nil { // values are gathered into the front, then spread
			dst = dst[:nv*width]
		}
		m, err := c.values(dst, nv, width)
		if err != nil {
			return fail(err)
		}
		bound = max(bound, m)
		if lvl != nil {
			if bits == nil {
				bmp = kernels.NewBuffer(mem, int(bitutil.BytesForBits(int64(n))))
				bits = bmp.Bytes()
				clear(bits)
				bitutil.SetBitsTo(bits, 0, int64(got), true)
			}
			nulls += k - nv
			switch width {
			case 4:
				spread(unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(out))), n)[got:got+k], nv, lvl, uint32(c.maxDef), bits, got)
			case 8:
				spread(unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(out))), n)[got:got+k], nv, lvl, uint32(c.maxDef), bits, got)
			default:
				spread(unsafe.Slice((*decimal128.Num)(unsafe.Pointer(unsafe.SliceData(out))), n)[got:got+k], nv, lvl, uint32(c.maxDef), bits, got)
			}
		} else if bits != nil {
			bitutil.SetBitsTo(bits, int64(got), int64(k), true)
		}
		c.left -= k
		got += k
	}
	if nulls == 0 && bmp != nil {
		bmp.Release()
		bmp = nil
	}
	if width == 16 {
		kernels.SetDecBound(vbuf, bound)
	}
	nd := array.NewData(c.t, n, []*memory.Buffer{bmp, vbuf}, nil, nulls, 0)
	vbuf.Release()
	if bmp != nil {
		bmp.Release()
	}
	defer nd.Release()
	return array.MakeFromData(nd), nil
}

// values writes the next nv values of the page into dst (nv values of
// width bytes). For decimals it returns a bound of their magnitude (see
// kernels.SetDecBound).
func (c *pageColumn) values(dst []byte, nv, width int) (uint64, error) {
	if !c.dictVals {
		stored := width
		switch c.kind {
		case pageDec32:
			stored = 4
		case pageDec64:
			stored = 8
		}
		if len(c.plain) < nv*stored {
			return 0, errPageShort
		}
		src := c.plain[:nv*stored]
		c.plain = c.plain[nv*stored:]
		switch c.kind {
		case pageDec32:
			return widenInts(unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(src))), nv), decimals(dst, nv)), nil
		case pageDec64:
			return widenInts(unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(src))), nv), decimals(dst, nv)), nil
		}
		copy(dst, src)
		return 0, nil
	}
	ids, err := c.indices(nv)
	if err != nil {
		return 0, err
	}
	switch c.kind {
	case pageInt32:
		return 0, gather(unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(dst))), nv), c.dict32, ids)
	case pageInt64:
		return 0, gather(unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(dst))), nv), c.dict64, ids)
	}
	return c.dictMax, gather(decimals(dst, nv), c.dictDec, ids)
}

func decimals(b []byte, n int) []decimal128.Num {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*decimal128.Num)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

func gather[T int32 | int64 | decimal128.Num](dst, dict []T, ids []uint32) error {
	n := uint32(len(dict))
	for i, x := range ids {
		if x >= n {
			return fmt.Errorf("dictionary index %d out of range (%d entries)", x, n)
		}
		dst[i] = dict[x]
	}
	return nil
}

// spread moves the nv values at the front of vals to the slots whose level
// is maxDef, zeroes the others, and sets the validity bits of the values
// (vals starts at row off of the batch).
func spread[T uint32 | uint64 | decimal128.Num](vals []T, nv int, lvl []uint32, maxDef uint32, bits []byte, off int) {
	var zero T
	j := nv
	for i := len(lvl) - 1; i >= 0; i-- {
		if lvl[i] == maxDef {
			j--
			vals[i] = vals[j]
			bitutil.SetBit(bits, off+i)
		} else {
			vals[i] = zero
		}
	}
}

// readStrings returns the next n rows as a string array.
func (c *pageColumn) readStrings(mem memory.Allocator, n int) (arrow.Array, error) {
	obuf := kernels.NewBuffer(mem, (n+1)*4)
	offs := unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(obuf.Bytes()))), n+1)
	var dbuf, bmp *memory.Buffer
	var data, bits []byte
	fail := func(err error) (arrow.Array, error) {
		for _, b := range []*memory.Buffer{obuf, dbuf, bmp} {
			if b != nil {
				b.Release()
			}
		}
		return nil, err
	}
	// grow makes room for need bytes of data, and for the rows after
	// row at the size seen so far. The last shortCopy bytes of data are
	// slack for copyShort.
	grow := func(need, row int) {
		want := max(need+(n-row)*(*c.perValue), 2*len(data), 64) + shortCopy
		nb := kernels.NewBuffer(mem, want)
		copy(nb.Bytes(), data)
		if dbuf != nil {
			dbuf.Release()
		}
		dbuf, data = nb, nb.Bytes()
	}
	room := func() int { return max(len(data)-shortCopy, 0) }
	size, nulls := 0, 0
	for got := 0; got < n; {
		k, nv, lvl, err := c.run(n - got)
		if err != nil {
			return fail(err)
		}
		if lvl != nil && bits == nil {
			bmp = kernels.NewBuffer(mem, int(bitutil.BytesForBits(int64(n))))
			bits = bmp.Bytes()
			clear(bits)
			bitutil.SetBitsTo(bits, 0, int64(got), true)
		}
		o := offs[got : got+k]
		if c.dictVals {
			ids, err := c.indices(nv)
			if err != nil {
				return fail(err)
			}
			doffs, dn := c.dictOffs, uint32(len(c.dictOffs)-1)
			add := 0
			for _, x := range ids {
				if x >= dn {
					return fail(fmt.Errorf("dictionary index %d out of range (%d entries)", x, dn))
				}
				add += int(doffs[x+1]-doffs[x]) - 4
			}
			if size+add > math.MaxInt32-2*shortCopy {
				return fail(fmt.Errorf("more than 2 GiB of strings in %d rows", n))
			}
			if size+add > room() {
				grow(size+add, got+k)
			}
			dd := c.dictData
			if lvl == nil {
				for i, x := range ids {
					o[i] = int32(size)
					size += copyShort(data, size, dd, int(doffs[x]), int(doffs[x+1]-4))
				}
			} else {
				j := 0
				for i, l := range lvl {
					o[i] = int32(size)
					if l != uint32(c.maxDef) {
						continue
					}
					x := ids[j]
					j++
					size += copyShort(data, size, dd, int(doffs[x]), int(doffs[x+1]-4))
					bitutil.SetBit(bits, got+i)
				}
			}
		} else {
			for i := 0; i < k; i++ {
				o[i] = int32(size)
				if lvl != nil {
					if lvl[i] != uint32(c.maxDef) {
						continue
					}
					bitutil.SetBit(bits, got+i)
				}
				if len(c.plain) < 4 {
					return fail(errPageShort)
				}
				l := int(binary.LittleEndian.Uint32(c.plain))
				if l < 0 || 4+l > len(c.plain) {
					return fail(errPageShort)
				}
				if size+l > room() {
					if size+l > math.MaxInt32-2*shortCopy {
						return fail(fmt.Errorf("more than 2 GiB of strings in %d rows", n))
					}
					grow(size+l, got+i)
				}
				size += copy(data[size:], c.plain[4:4+l])
				c.plain = c.plain[4+l:]
			}
		}
		if lvl != nil {
			nulls += k - nv
		} else if bits != nil {
			bitutil.SetBitsTo(bits, int64(got), int64(k), true)
		}
		c.left -= k
		got += k
	}
	offs[n] = int32(size)
	if n > 0 {
		*c.perValue = (size + n - 1) / n
	}
	if dbuf == nil {
		dbuf = kernels.NewBuffer(mem, 0)
	}
	if nulls == 0 && bmp != nil {
		bmp.Release()
		bmp = nil
	}
	nd := array.NewData(arrow.BinaryTypes.String, n, []*memory.Buffer{bmp, obuf, dbuf}, nil, nulls, 0)
	for _, b := range []*memory.Buffer{obuf, dbuf, bmp} {
		if b != nil {
			b.Release()
		}
	}
	defer nd.Release()
	return array.MakeFromData(nd), nil
}

// shortCopy is the slack copyShort needs after the end of its source
// and destination.
const shortCopy = 32

// copyShort copies src[s:e] to dst[at:] and returns its length. A string
// of up to shortCopy bytes is copied as whole words, which may write past
// its end (the next string overwrites that) and read past it: both
// slices must have shortCopy bytes of slack after it.
func copyShort(dst []byte, at int, src []byte, s, e int) int {
	l := e - s
	if l > shortCopy || at+shortCopy > len(dst) || s+shortCopy > len(src) {
		return copy(dst[at:], src[s:e])
	}
	d := unsafe.Pointer(&dst[at])
	p := unsafe.Pointer(&src[s])
	*(*[2]uint64)(d) = *(*[2]uint64)(p)
	if l > 16 {
		*(*[2]uint64)(unsafe.Add(d, 16)) = *(*[2]uint64)(unsafe.Add(p, 16))
	}
	return l
}

// rleDecoder decodes Parquet's RLE / bit-packing hybrid encoding of
// values of width bits (levels, dictionary indices).
type rleDecoder struct {
	data  []byte
	width uint
	// rep values equal to val are left in the current RLE run.
	rep int
	val uint32
	// lit values are left in the current bit-packed run, from the
	// pos-th value of packed.
	lit    int
	pos    int
	packed []byte
}

func (d *rleDecoder) reset(data []byte, width uint) {
	*d = rleDecoder{data: data, width: width}
}

// next loads the next run.
func (d *rleDecoder) next() error {
	h, n := binary.Uvarint(d.data)
	if n <= 0 {
		return errors.New("truncated run")
	}
	d.data = d.data[n:]
	if h&1 == 0 {
		if h>>1 > math.MaxInt32 {
			return errors.New("invalid run length")
		}
		nb := int(d.width+7) / 8
		if len(d.data) < nb {
			return errors.New("truncated run")
		}
		var v uint32
		for i := 0; i < nb; i++ {
			v |= uint32(d.data[i]) << (8 * i)
		}
		d.data = d.data[nb:]
		d.rep, d.val = int(h>>1), v
		return nil
	}
	if h>>1 > math.MaxInt32/8 {
		return errors.New("invalid run length")
	}
	count := int(h>>1) * 8
	nb := count * int(d.width) / 8
	if nb > len(d.data) {
		// The last run may stop short of its last group.
		nb = len(d.data)
		if d.width > 0 {
			count = nb * 8 / int(d.width)
		}
	}
	d.packed, d.pos, d.lit = d.data[:nb], 0, count
	d.data = d.data[nb:]
	return nil
}

// take consumes k values if all of them are v and come from one RLE run.
func (d *rleDecoder) take(k int, v uint32) bool {
	if d.rep == 0 && d.lit == 0 && len(d.data) > 0 {
		if d.next() != nil {
			return false
		}
	}
	if d.rep >= k && d.val == v {
		d.rep -= k
		return true
	}
	return false
}

// decode fills out with the next len(out) values.
func (d *rleDecoder) decode(out []uint32) error {
	for len(out) > 0 {
		switch {
		case d.rep > 0:
			k := min(d.rep, len(out))
			v := d.val
			for i := range out[:k] {
				out[i] = v
			}
			d.rep -= k
			out = out[k:]
		case d.lit > 0:
			k := min(d.lit, len(out))
			unpack(out[:k], d.packed, d.pos, d.width)
			d.pos += k
			d.lit -= k
			out = out[k:]
		default:
			if len(d.data) == 0 {
				return errors.New("fewer values than rows")
			}
			if err := d.next(); err != nil {
				return err
			}
		}
	}
	return nil
}

// unpack reads len(out) values of width bits from packed, starting with
// the pos-th.
func unpack(out []uint32, packed []byte, pos int, width uint) {
	if width == 0 {
		clear(out)
		return
	}
	mask := uint64(1)<<width - 1
	bit := uint(pos) * width
	i := 0
	// Whole 8-byte words while they last.
	for ; i < len(out); i++ {
		b := bit >> 3
		if int(b)+8 > len(packed) {
			break
		}
		out[i] = uint32(binary.LittleEndian.Uint64(packed[b:]) >> (bit & 7) & mask)
		bit += width
	}
	for ; i < len(out); i++ {
		b := int(bit >> 3)
		var x uint64
		for j := 0; j < 8 && b+j < len(packed); j++ {
			x |= uint64(packed[b+j]) << (8 * j)
		}
		out[i] = uint32(x >> (bit & 7) & mask)
		bit += width
	}
}
