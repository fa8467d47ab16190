package exec

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"sync/atomic"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/exec/kernels"
	"github.com/quarrydb/quarry/planner/physical"
)

// split is one morsel of a scan: a row group of a file.
// Split is one morsel of a scan: a row group of one of its files (indexes
// into ParquetScan.Files and that file's row group numbers).
type Split struct{ File, RowGroup int }

// SplitSource hands out the splits of one scan node to the instances of its
// fragment that run on this node. On one node it is a SplitQueue; in a
// cluster it asks the coordinator, which shares the splits of a scan among
// all executors so a slow one takes fewer.
type SplitSource interface {
	// Take returns the next split, or ok false when none are left.
	Take(ctx context.Context) (sp Split, ok bool, err error)
}

// SplitQueue hands out the (file, row group) morsels of one scan node in
// order. It is safe for concurrent use.
type SplitQueue struct {
	splits []Split
	next   atomic.Int64
}

// NewSplitQueue returns the morsel queue of scan n.
func NewSplitQueue(n *physical.ParquetScan) *SplitQueue {
	q := &SplitQueue{}
	for fi, f := range n.Files {
		for _, rg := range f.RowGroups {
			q.splits = append(q.splits, Split{fi, rg})
		}
	}
	return q
}

// Take implements SplitSource.
func (q *SplitQueue) Take(context.Context) (Split, bool, error) {
	sp, ok := q.take()
	return sp, ok, nil
}

// Len is the number of splits in the queue, taken or not.
func (q *SplitQueue) Len() int { return len(q.splits) }

func (q *SplitQueue) take() (Split, bool) {
	i := q.next.Add(1) - 1
	if i >= int64(len(q.splits)) {
		return Split{}, false
	}
	return q.splits[i], true
}

// scanShare is what the instances of one scan node on one node share: where
// their splits come from and how many rows they produced, for the scan's
// Limit (a local bound; the Limit above the gather makes it exact).
type scanShare struct {
	src      SplitSource
	produced atomic.Int64
	limit    int64
}

func newScanShare(n *physical.ParquetScan, src SplitSource) *scanShare {
	return &scanShare{src: src, limit: n.Limit}
}

func (s *scanShare) limitReached() bool {
	return s.limit >= 0 && s.produced.Load() >= s.limit
}

// scanOp reads the splits it takes from the shared queue. It keeps the last
// file it used open, since consecutive morsels usually share a file.
type scanOp struct {
	n      *physical.ParquetScan
	q      *scanShare
	mem    memory.Allocator
	cctx   context.Context
	leaves []int // distinct leaf columns read, in reader output order
	pos    []int // per output column: its index among leaves, or -1

	fileIdx int
	osFile  *os.File
	pf      *file.Reader
	fr      *pqarrow.FileReader

	// stamp identifies the open file's version (see fileStamp).
	stamp string
	// columnsKey is the part of row-group cache keys that names the
	// columns read ("-": the scan is not cached); computed on first use.
	columnsKey string
	// cached holds the batches of the split being read when they come
	// from (or were just put in) the row-group cache.
	cached []arrow.Record

	// Of the leaf columns, those of the open file that pageColumns decode
	// (see pageKindOf) are pageLeaves, of kind pageKinds and read as
	// pageTypes; pqarrow reads the others, pqLeaves. leafSrc tells per
	// leaf where it comes from (i ≥ 0: pqLeaves[i]; -1-i: pageLeaves[i]).
	pqLeaves   []int
	pageLeaves []int
	pageKinds  []pageKind
	pageTypes  []arrow.DataType
	leafSrc    []int
	// perValue is the size of a value of each page leaf in the batches
	// read so far (it sizes the next batch's string data).
	perValue    []int
	pageScratch pageScratch

	active   bool
	rr       pqarrow.RecordReader
	pages    []*pageColumn // the split's readers of pageLeaves
	pageCols []*pageColumn // per page leaf, kept for their buffers
	rgLeft   int64         // rows of the split not yet read
	rowsLeft int64         // when no leaf column is read
	done     bool
	sel      selection
	// rawDec holds the decimal type of each leaf column the reader
	// returns as integers (see readIntDecimalsRaw).
	rawDec map[int]*arrow.Decimal128Type
}

func newScanOp(n *physical.ParquetScan, q *scanShare, mem memory.Allocator) *scanOp {
	s := &scanOp{n: n, q: q, mem: mem, fileIdx: -1}
	seen := map[int]int{}
	for _, c := range n.Columns {
		if c.FileColumn < 0 {
			s.pos = append(s.pos, -1)
			continue
		}
		p, ok := seen[c.FileColumn]
		if !ok {
			p = len(s.leaves)
			seen[c.FileColumn] = p
			s.leaves = append(s.leaves, c.FileColumn)
		}
		s.pos = append(s.pos, p)
	}
	return s
}

func (s *scanOp) Open(ctx context.Context) error {
	s.cctx = computeCtx(context.Background(), s.mem)
	return nil
}

func (s *scanOp) Close() error {
	s.closeSplit()
	s.closeFile()
	s.done = true
	return nil
}

func (s *scanOp) closeSplit() {
	s.closeReaders()
	for _, r := range s.cached {
		r.Release()
	}
	s.cached = nil
	s.active = false
}

// closeReaders stops reading the split's leaf columns.
func (s *scanOp) closeReaders() {
	if s.rr != nil {
		s.rr.Release()
		s.rr = nil
	}
	for _, c := range s.pages {
		c.close()
	}
	clear(s.pages)
	s.pages = s.pages[:0]
}

func (s *scanOp) closeFile() {
	if s.osFile != nil {
		s.osFile.Close()
	}
	s.osFile, s.pf, s.fr, s.fileIdx, s.stamp = nil, nil, nil, -1, ""
}

func (s *scanOp) path() string {
	if s.fileIdx < 0 {
		return ""
	}
	return s.n.Files[s.fileIdx].Path
}

func (s *scanOp) corrupt(err error) error {
	var se *sqlerr.Error
	if errors.As(err, &se) {
		return se
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return sqlerr.Wrap(sqlerr.DataCorrupted, err, "could not read Parquet file %q", s.path())
}

func (s *scanOp) openFile(fi int) error {
	s.closeFile()
	path := s.n.Files[fi].Path
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return sqlerr.Wrap(sqlerr.IOError, err, "could not open file %q", path)
		}
		return sqlerr.Wrap(sqlerr.IOError, err, "could not open file %q", path)
	}
	s.osFile, s.fileIdx = f, fi
	// Page buffers use Go's allocator: the parquet reader pools them and
	// frees them from finalizers, which would never balance a checked or
	// accounting allocator. Decoded Arrow data goes through s.mem.
	opts := []file.ReadOption{file.WithReadProps(parquet.NewReaderProperties(memory.DefaultAllocator))}
	st, statErr := f.Stat()
	cached := false
	if statErr == nil {
		if md := footers.get(path, versionOf(st)); md != nil {
			opts, cached = append(opts, file.WithMetadata(md)), true
		}
	}
	pf, err := file.NewParquetReader(f, opts...)
	if err != nil {
		return s.corrupt(err)
	}
	if statErr == nil && !cached {
		footers.put(path, versionOf(st), pf.MetaData())
	}
	if statErr == nil {
		s.stamp = fileStamp(path, versionOf(st))
	}
	props := pqarrow.ArrowReadProperties{BatchSize: batchRows, PreAllocBinaryData: true}
	for _, c := range s.n.Columns {
		if c.FileColumn >= 0 && c.T.ID() == arrow.STRING && dictionaryEncoded(pf, c.FileColumn) {
			props.SetReadDict(c.FileColumn, true)
		}
	}
	fr, err := pqarrow.NewFileReader(pf, props, s.mem)
	if err != nil {
		return s.corrupt(err)
	}
	s.pf, s.fr = pf, fr
	s.readIntDecimalsRaw()
	s.splitLeaves()
	return nil
}

// splitLeaves decides which of the open file's leaf columns are decoded
// by pageColumns and which by pqarrow.
func (s *scanOp) splitLeaves() {
	want := make(map[int]arrow.DataType, len(s.leaves))
	for j, c := range s.n.Columns {
		if s.pos[j] < 0 {
			continue
		}
		if t, ok := want[c.FileColumn]; ok && !arrow.TypeEqual(t, c.T) {
			want[c.FileColumn] = nil // read twice as different types
			continue
		}
		want[c.FileColumn] = c.T
	}
	s.pqLeaves, s.pageLeaves = s.pqLeaves[:0], s.pageLeaves[:0]
	s.pageKinds, s.pageTypes, s.leafSrc = s.pageKinds[:0], s.pageTypes[:0], s.leafSrc[:0]
	for _, l := range s.leaves {
		if t := want[l]; t != nil {
			if kind := s.pageKindOf(l, t); kind != 0 {
				s.leafSrc = append(s.leafSrc, -1-len(s.pageLeaves))
				s.pageLeaves = append(s.pageLeaves, l)
				s.pageKinds = append(s.pageKinds, kind)
				t := topLevelLeaf(s.fr.Manifest, l).Field.Type
				if kind == pageDec32 || kind == pageDec64 {
					t = s.rawDec[l]
				}
				s.pageTypes = append(s.pageTypes, t)
				continue
			}
		}
		s.leafSrc = append(s.leafSrc, len(s.pqLeaves))
		s.pqLeaves = append(s.pqLeaves, l)
	}
	for len(s.perValue) < len(s.pageLeaves) {
		s.perValue = append(s.perValue, 16)
	}
}

// readIntDecimalsRaw makes the reader return the leaf columns holding
// decimals as INT32 or INT64 as plain integers, which it hands over
// without a copy: widenDecimals then converts them in one pass that also
// finds their largest magnitude, where pqarrow would widen them into a
// fresh Go slice it must clear first.
func (s *scanOp) readIntDecimalsRaw() {
	s.rawDec = map[int]*arrow.Decimal128Type{}
	schema := s.pf.MetaData().Schema
	for i := range s.fr.Manifest.Fields {
		sf := &s.fr.Manifest.Fields[i]
		if !sf.IsLeaf() || len(sf.Children) > 0 || sf.Field == nil || sf.ColIndex >= schema.NumColumns() {
			continue
		}
		dt, ok := sf.Field.Type.(*arrow.Decimal128Type)
		if !ok {
			continue
		}
		var raw arrow.DataType
		switch schema.Column(sf.ColIndex).PhysicalType() {
		case parquet.Types.Int32:
			raw = arrow.PrimitiveTypes.Int32
		case parquet.Types.Int64:
			raw = arrow.PrimitiveTypes.Int64
		default:
			continue
		}
		f := *sf.Field
		f.Type = raw
		sf.Field = &f
		s.rawDec[sf.ColIndex] = dt
	}
}

func (s *scanOp) openSplit(ctx context.Context, sp Split) error {
	if sp.File != s.fileIdx {
		if recs := s.cachedSplit(sp); recs != nil {
			s.cached, s.active = recs, true
			return nil
		}
		if err := s.openFile(sp.File); err != nil {
			return err
		}
	}
	if sp.RowGroup < 0 || sp.RowGroup >= s.pf.NumRowGroups() {
		return sqlerr.New(sqlerr.DataCorrupted, "Parquet file %q has no row group %d (it has %d)", s.path(), sp.RowGroup, s.pf.NumRowGroups())
	}
	if len(s.leaves) == 0 {
		s.rowsLeft = s.pf.MetaData().RowGroup(sp.RowGroup).NumRows()
		s.active = true
		return nil
	}
	ncols := s.pf.MetaData().Schema.NumColumns()
	for _, l := range s.leaves {
		if l >= ncols {
			return sqlerr.New(sqlerr.DataCorrupted, "Parquet file %q has no column %d (it has %d)", s.path(), l, ncols)
		}
	}
	if key := s.rowGroupKey(sp.RowGroup); key != "" {
		return s.openCached(ctx, key, sp.RowGroup)
	}
	if err := s.openReaders(ctx, sp.RowGroup); err != nil {
		return err
	}
	s.active = true
	return nil
}

// openReaders starts reading the leaf columns of row group rg.
func (s *scanOp) openReaders(ctx context.Context, rg int) error {
	if len(s.pqLeaves) > 0 {
		rr, err := s.fr.GetRecordReader(ctx, s.pqLeaves, []int{rg})
		if err != nil {
			return s.corrupt(err)
		}
		if rr.Schema().NumFields() != len(s.pqLeaves) {
			rr.Release()
			return sqlerr.New(sqlerr.FeatureNotSupported, "Parquet file %q: nested columns are not supported", s.path())
		}
		s.rr = rr
	}
	rgr := s.pf.RowGroup(rg)
	for i, l := range s.pageLeaves {
		if i == len(s.pageCols) {
			s.pageCols = append(s.pageCols, &pageColumn{})
		}
		c := s.pageCols[i]
		if err := c.open(rgr, l, s.pageKinds[i], s.pageTypes[i], &s.perValue[i], &s.pageScratch); err != nil {
			s.closeReaders()
			return s.corrupt(err)
		}
		s.pages = append(s.pages, c)
	}
	s.rgLeft = rgr.NumRows()
	return nil
}

// readLeaves reads the next batch of the split's leaf columns, in the
// order of s.leaves, each retained for the caller. It returns no columns
// at the end of the split.
func (s *scanOp) readLeaves() (cols []arrow.Array, n int64, err error) {
	var raw arrow.Record
	if s.rr != nil {
		if !s.rr.Next() {
			if err := s.rr.Err(); err != nil {
				return nil, 0, s.corrupt(err)
			}
			return nil, 0, nil
		}
		raw = s.rr.RecordBatch()
		n = raw.NumRows()
	} else {
		if s.rgLeft <= 0 {
			return nil, 0, nil
		}
		n = min(s.rgLeft, batchRows)
	}
	s.rgLeft -= n
	cols = make([]arrow.Array, len(s.leaves))
	for p, src := range s.leafSrc {
		if src >= 0 {
			a := raw.Column(src)
			a.Retain()
			cols[p] = a
			continue
		}
		a, err := s.pages[-1-src].read(s.mem, int(n))
		if err != nil {
			releaseAll(cols)
			return nil, 0, s.corrupt(err)
		}
		cols[p] = a
	}
	return cols, n, nil
}

func (s *scanOp) Next(ctx context.Context) (arrow.Record, error) {
	out, _, err := s.next(ctx, false)
	return out, err
}

// NextSel is Next that may leave the batch unfiltered when its filter
// keeps most rows, returning the kept rows as sel (see selSource).
func (s *scanOp) NextSel(ctx context.Context) (arrow.Record, []int32, error) {
	return s.next(ctx, s.n.Limit < 0)
}

func (s *scanOp) next(ctx context.Context, allowSel bool) (out arrow.Record, outSel []int32, err error) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(*oomPanic); ok {
				panic(r)
			}
			// The Parquet decoders panic on some malformed input.
			out, outSel, err = nil, nil, sqlerr.New(sqlerr.DataCorrupted, "could not read Parquet file %q: %v", s.path(), r)
		}
	}()
	for {
		if s.done {
			return nil, nil, io.EOF
		}
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		if s.q.limitReached() {
			s.done = true
			return nil, nil, io.EOF
		}
		if !s.active {
			sp, ok, err := s.q.src.Take(ctx)
			if err != nil {
				return nil, nil, err
			}
			if !ok {
				s.done = true
				return nil, nil, io.EOF
			}
			if err := s.openSplit(ctx, sp); err != nil {
				return nil, nil, err
			}
		}
		var cols []arrow.Array
		var n int64
		if s.cached != nil {
			if len(s.cached) == 0 {
				s.closeSplit()
				continue
			}
			rec := s.cached[0]
			s.cached = s.cached[1:]
			out, sel, ok, err := s.finish(rec, allowSel)
			if err != nil || ok {
				return out, sel, err
			}
			continue
		}
		if len(s.leaves) == 0 {
			if s.rowsLeft == 0 {
				s.closeSplit()
				continue
			}
			n = min(s.rowsLeft, batchRows)
			s.rowsLeft -= n
		} else {
			var err error
			cols, n, err = s.readLeaves()
			if err != nil {
				s.closeSplit()
				return nil, nil, err
			}
			if cols == nil {
				s.closeSplit()
				continue
			}
			if n == 0 {
				releaseAll(cols)
				continue
			}
		}
		rec, err := s.assemble(cols, n)
		releaseAll(cols)
		if err != nil {
			return nil, nil, err
		}
		out, sel, ok, err := s.finish(rec, allowSel)
		if err != nil || ok {
			return out, sel, err
		}
	}
}

// finish filters an assembled batch and applies the scan's limit, taking
// over rec. ok is false when nothing of it is left to return.
func (s *scanOp) finish(rec arrow.Record, allowSel bool) (out arrow.Record, outSel []int32, ok bool, err error) {
	if s.n.Filter != nil {
		f, sel, err := filterRecordSel(s.cctx, s.mem, s.n.Filter, rec, &s.sel, allowSel)
		rec.Release()
		if err != nil {
			return nil, nil, false, err
		}
		if f == nil {
			return nil, nil, false, nil
		}
		if sel != nil {
			return f, sel, true, nil
		}
		rec = f
	}
	if s.n.Limit >= 0 {
		k := rec.NumRows()
		end := s.q.produced.Add(k)
		start := end - k
		if start >= s.n.Limit {
			rec.Release()
			s.done = true
			return nil, nil, false, io.EOF
		}
		if end > s.n.Limit {
			cut := rec.NewSlice(0, s.n.Limit-start)
			rec.Release()
			rec = cut
		}
	}
	return rec, nil, true, nil
}

// openCached starts reading row group rg from the row-group cache,
// decoding it whole into the cache first when it is not there.
func (s *scanOp) openCached(ctx context.Context, key string, rg int) error {
	if recs := rowGroups.get(key); recs != nil {
		s.cached, s.active = recs, true
		return nil
	}
	if err := s.openReaders(ctx, rg); err != nil {
		return err
	}
	defer s.closeReaders()
	var decoded []arrow.Record
	defer func() {
		for _, r := range decoded {
			r.Release()
		}
	}()
	for {
		cols, n, err := s.readLeaves()
		if err != nil {
			return err
		}
		if cols == nil {
			break
		}
		if n == 0 {
			releaseAll(cols)
			continue
		}
		rec, err := s.assemble(cols, n)
		releaseAll(cols)
		if err != nil {
			return err
		}
		decoded = append(decoded, rec)
	}
	recs, err := rowGroups.put(key, decoded)
	if err != nil {
		return err
	}
	s.cached, s.active = recs, true
	return nil
}

// assemble builds the scan's output batch from the decoded leaf columns
// (in the order of s.leaves) and the file's partition values.
func (s *scanOp) assemble(leaves []arrow.Array, n int64) (arrow.Record, error) {
	cols := make([]arrow.Array, len(s.n.Columns))
	for j, c := range s.n.Columns {
		var a arrow.Array
		var err error
		if s.pos[j] < 0 {
			pv := s.n.Files[s.fileIdx].PartitionValues
			if c.Partition < 0 || c.Partition >= len(pv) {
				err = sqlerr.New(sqlerr.InternalError, "scan of %s: file %q has no partition value %d", s.n.Table, s.path(), c.Partition)
			} else {
				a, err = constArray(s.mem, pv[c.Partition], c.T, int(n))
			}
		} else if dt, ok := s.rawDec[s.leaves[s.pos[j]]]; ok && leaves[s.pos[j]].DataType().ID() != arrow.DECIMAL128 {
			var w arrow.Array
			if w, err = widenDecimals(s.mem, leaves[s.pos[j]], dt); err == nil {
				a, err = s.conform(w, c.T)
				w.Release()
			}
		} else {
			a, err = s.conform(leaves[s.pos[j]], c.T)
		}
		if err != nil {
			releaseAll(cols)
			return nil, err
		}
		cols[j] = a
	}
	rec := array.NewRecordBatch(s.n.Out, cols, n)
	releaseAll(cols)
	return rec, nil
}

// conform returns arr as type t: timestamps are rescaled to t's unit and
// lose their zone, decimals of the same scale are relabelled, and anything
// else is cast.
func (s *scanOp) conform(arr arrow.Array, t arrow.DataType) (arrow.Array, error) {
	if arrow.TypeEqual(arr.DataType(), t) {
		arr.Retain()
		return arr, nil
	}
	switch from := arr.DataType().(type) {
	case *arrow.DictionaryType:
		if t.ID() == arrow.STRING && from.ValueType.ID() == arrow.STRING && from.IndexType.ID() == arrow.INT32 {
			return decodeStringDictionary(s.mem, arr.(*array.Dictionary), t), nil
		}
	case *arrow.TimestampType:
		to, ok := t.(*arrow.TimestampType)
		if !ok {
			break
		}
		if from.Unit == to.Unit {
			return relabel(arr, t), nil
		}
		return rescaleTimestamps(s.mem, arr.(*array.Timestamp), from.Unit, to), nil
	case *arrow.Decimal128Type:
		if to, ok := t.(*arrow.Decimal128Type); ok && to.Scale == from.Scale {
			return relabel(arr, t), nil
		}
	}
	out, err := compute.CastToType(s.cctx, arr, t)
	if err != nil {
		return nil, sqlerr.Wrap(sqlerr.DataCorrupted, err, "Parquet file %q: column of type %s does not convert to %s", s.path(), arr.DataType(), t)
	}
	return out, nil
}

func relabel(arr arrow.Array, t arrow.DataType) arrow.Array {
	d := arr.Data()
	nd := array.NewData(t, d.Len(), d.Buffers(), d.Children(), d.NullN(), d.Offset())
	defer nd.Release()
	return array.MakeFromData(nd)
}

var unitsPerSecond = [...]int64{arrow.Second: 1, arrow.Millisecond: 1e3, arrow.Microsecond: 1e6, arrow.Nanosecond: 1e9}

func rescaleTimestamps(mem memory.Allocator, a *array.Timestamp, from arrow.TimeUnit, to *arrow.TimestampType) arrow.Array {
	src := a.TimestampValues()
	vals := make([]arrow.Timestamp, len(src))
	f, g := unitsPerSecond[from], unitsPerSecond[to.Unit]
	if f > g {
		d := arrow.Timestamp(f / g)
		for i, v := range src {
			q := v / d
			if v%d < 0 {
				q--
			}
			vals[i] = q
		}
	} else {
		m := arrow.Timestamp(g / f)
		for i, v := range src {
			vals[i] = v * m
		}
	}
	var valid []bool
	if a.NullN() > 0 {
		valid = make([]bool, len(src))
		for i := range valid {
			valid[i] = a.IsValid(i)
		}
	}
	return fixedArray(mem, to, vals, valid)
}

// dictionaryEncoded reports whether every data page of leaf column col is
// dictionary-encoded in every row group of the file. Such string columns
// are read as dictionaries: the reader then copies small indices instead
// of appending each value to a builder, and decodeStringDictionary
// expands them in one pass. A column that fell back to plain pages would
// make the reader hash every value, so it is read as strings.
func dictionaryEncoded(pf *file.Reader, col int) bool {
	md := pf.MetaData()
	if col >= md.Schema.NumColumns() || md.Schema.Column(col).PhysicalType() != parquet.Types.ByteArray {
		return false
	}
	for rg := 0; rg < md.NumRowGroups(); rg++ {
		cc, err := md.RowGroup(rg).ColumnChunk(col)
		if err != nil || !cc.HasDictionaryPage() {
			return false
		}
		stats := cc.EncodingStats()
		if len(stats) == 0 {
			return false
		}
		for _, st := range stats {
			if st.PageType == file.PageTypeDictionaryPage {
				continue
			}
			if st.Encoding != parquet.Encodings.RLEDict && st.Encoding != parquet.Encodings.PlainDict {
				return false
			}
		}
	}
	return true
}

// decodeStringDictionary expands a dictionary of strings with int32
// indices into a string array of type t.
func decodeStringDictionary(mem memory.Allocator, d *array.Dictionary, t arrow.DataType) arrow.Array {
	n := d.Len()
	idx := d.Indices().(*array.Int32).Int32Values()
	dict := d.Dictionary().(*array.String)
	doffs := dict.ValueOffsets()
	dbytes := dict.ValueBytes()
	base := doffs[0]
	valid := func(i int) bool { return d.IsValid(i) && dict.IsValid(int(idx[i])) }
	allValid := d.NullN() == 0 && dict.NullN() == 0

	obuf := kernels.NewBuffer(mem, (n+1)*4)
	offs := unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(obuf.Bytes()))), n+1)
	total := int32(0)
	nulls := 0
	for i, x := range idx {
		offs[i] = total
		if allValid || valid(i) {
			total += doffs[x+1] - doffs[x]
		} else {
			nulls++
		}
	}
	offs[n] = total
	dbuf := kernels.NewBuffer(mem, int(total))
	out := dbuf.Bytes()
	for i, x := range idx {
		s, e := doffs[x]-base, doffs[x+1]-base
		switch {
		case offs[i+1] == offs[i]:
		case e-s == 1:
			out[offs[i]] = dbytes[s]
		default:
			copy(out[offs[i]:offs[i+1]], dbytes[s:e])
		}
	}
	var vbuf *memory.Buffer
	if nulls > 0 {
		vbuf = kernels.NewBuffer(mem, int(bitutil.BytesForBits(int64(n))))
		bits := vbuf.Bytes()
		clear(bits)
		for i := range idx {
			if valid(i) {
				bitutil.SetBit(bits, i)
			}
		}
	}
	nd := array.NewData(t, n, []*memory.Buffer{vbuf, obuf, dbuf}, nil, nulls, 0)
	if vbuf != nil {
		vbuf.Release()
	}
	obuf.Release()
	dbuf.Release()
	defer nd.Release()
	return array.MakeFromData(nd)
}

// widenDecimals converts the INT32 or INT64 unscaled values of arr into
// decimals of type t, and records the largest magnitude among all slots
// (see kernels.DecBound).
func widenDecimals(mem memory.Allocator, arr arrow.Array, t *arrow.Decimal128Type) (arrow.Array, error) {
	d := arr.Data()
	off, n := d.Offset(), d.Len()
	buf := kernels.NewBuffer(mem, (off+n)*16)
	var out []decimal128.Num
	if off+n > 0 {
		out = unsafe.Slice((*decimal128.Num)(unsafe.Pointer(unsafe.SliceData(buf.Bytes()))), off+n)
	}
	clear(out[:off])
	var m uint64
	switch a := arr.(type) {
	case *array.Int64:
		m = widenInts(a.Int64Values(), out[off:])
	case *array.Int32:
		m = widenInts(a.Int32Values(), out[off:])
	default:
		buf.Release()
		return nil, sqlerr.New(sqlerr.InternalError, "decimal column read as %s", arr.DataType())
	}
	kernels.SetDecBound(buf, m)
	nd := array.NewData(t, n, []*memory.Buffer{d.Buffers()[0], buf}, nil, d.NullN(), off)
	buf.Release()
	defer nd.Release()
	return array.MakeFromData(nd), nil
}

// widenInts writes vals as decimals into out and returns their largest
// magnitude (2^63 for math.MinInt64).
func widenInts[T int32 | int64](vals []T, out []decimal128.Num) uint64 {
	out = out[:len(vals)]
	var m uint64
	for i, v := range vals {
		x := int64(v)
		sign := x >> 63
		out[i] = decimal128.New(sign, uint64(x))
		m = max(m, uint64((x^sign)-sign))
	}
	return m
}
