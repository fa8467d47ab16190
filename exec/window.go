package exec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// windowOp is Window. It buffers its whole input, orders the rows by the
// partition columns and then the ORDER BY keys with one stable sort, and
// computes every function over the rows in that order, partition by
// partition. The input batches stay where they are: output batches gather
// their input columns from them through the permutation, so only key and
// argument columns are ever copied.
type windowOp struct {
	node   *physical.Window
	in     Operator
	mem    memory.Allocator
	schema *arrow.Schema
	width  int // input columns

	batches []arrow.Record
	// which and pos locate the row at each output position: batch
	// which[k] (which is nil with a single batch), row pos[k].
	which, pos []int32
	funcs      []arrow.Array // one per function, aligned with output positions
	emitted    int
	built      bool
	closed     bool
}

func newWindowOp(n *physical.Window, in Operator, mem memory.Allocator) (*windowOp, error) {
	inSchema := n.Input.Schema()
	if inSchema == nil {
		return nil, internalf("window %d: input has no schema", n.ID)
	}
	width := inSchema.NumFields()
	schema := n.Out
	if schema == nil {
		fs := slices.Clone(inSchema.Fields())
		for i, f := range n.Funcs {
			fs = append(fs, arrow.Field{Name: fmt.Sprintf("%s_%d", f.Fn, i), Type: f.T, Nullable: true})
		}
		schema = arrow.NewSchema(fs, nil)
	}
	if schema.NumFields() != width+len(n.Funcs) {
		return nil, internalf("window %d: output has %d columns, want %d input columns and %d functions",
			n.ID, schema.NumFields(), width, len(n.Funcs))
	}
	for i, f := range n.Funcs {
		if !arrow.TypeEqual(schema.Field(width+i).Type, f.T) {
			return nil, internalf("window %d: function %s has type %s but its output column is %s",
				n.ID, f.Fn, f.T, schema.Field(width+i).Type)
		}
	}
	for _, c := range n.PartitionBy {
		if c < 0 || c >= width {
			return nil, internalf("window %d: partition column %d out of range", n.ID, c)
		}
	}
	for _, k := range n.OrderBy {
		if k.Col < 0 || k.Col >= width {
			return nil, internalf("window %d: order column %d out of range", n.ID, k.Col)
		}
	}
	return &windowOp{node: n, in: in, mem: mem, schema: schema, width: width}, nil
}

func (w *windowOp) Open(ctx context.Context) error { return w.in.Open(ctx) }

func (w *windowOp) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	w.release()
	return w.in.Close()
}

func (w *windowOp) release() {
	releaseAll(w.batches)
	releaseAll(w.funcs)
	w.batches, w.funcs, w.which, w.pos = nil, nil, nil, nil
}

func (w *windowOp) Next(ctx context.Context) (arrow.Record, error) {
	if w.closed {
		return nil, internalf("window: Next after Close")
	}
	if !w.built {
		w.built = true
		if err := w.build(ctx); err != nil {
			w.release()
			return nil, err
		}
	}
	n := len(w.pos)
	if w.emitted >= n {
		w.release()
		return nil, io.EOF
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	lo, hi := w.emitted, min(w.emitted+batchRows, n)
	cols := make([]arrow.Array, 0, w.schema.NumFields())
	var which []int32
	if w.which != nil {
		which = w.which[lo:hi]
	}
	srcs := make([]arrow.Array, len(w.batches))
	for c := 0; c < w.width; c++ {
		for i, b := range w.batches {
			srcs[i] = b.Column(c)
		}
		arr, err := gatherColumn(w.mem, srcs[0].DataType(), srcs, which, w.pos[lo:hi])
		if err != nil {
			releaseAll(cols)
			return nil, err
		}
		cols = append(cols, arr)
	}
	for _, f := range w.funcs {
		cols = append(cols, array.NewSlice(f, int64(lo), int64(hi)))
	}
	rec := array.NewRecordBatch(w.schema, cols, int64(hi-lo))
	releaseAll(cols)
	w.emitted = hi
	return rec, nil
}

// winLayout describes the sorted rows: partitions and peer groups (rows
// with equal ORDER BY keys within a partition; all rows of a partition
// without ORDER BY) as runs of output positions.
type winLayout struct {
	n      int
	parts  []int32 // partition starts, then n
	peers  []int32 // peer group starts, then n
	peerOf []int32 // index into peers of each position's group
}

// winBuild is the state of one build: the keys, the permutation and the
// layout, shared by the functions.
type winBuild struct {
	w    *windowOp
	ctx  context.Context
	perm []int32
	lay  winLayout
	keys map[int]arrow.Array // concatenated key columns by input column
	// orderKey is the single ORDER BY key in output order, for RANGE
	// frames with offsets; made on first use.
	orderKey arrow.Array
}

func (w *windowOp) build(ctx context.Context) error {
	rows := 0
	for {
		b, err := w.in.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if b.NumRows() == 0 {
			b.Release()
			continue
		}
		w.batches = append(w.batches, b)
		rows += int(b.NumRows())
		if rows > math.MaxInt32 {
			return sqlerr.New(sqlerr.FeatureNotSupported, "window over more than 2^31-1 rows")
		}
	}
	if rows == 0 {
		return nil
	}
	wb := &winBuild{w: w, ctx: ctx, keys: map[int]arrow.Array{}}
	defer wb.release()
	if err := wb.sort(rows); err != nil {
		return err
	}
	w.locate(wb.perm)
	w.funcs = make([]arrow.Array, 0, len(w.node.Funcs))
	for i := range w.node.Funcs {
		if err := ctx.Err(); err != nil {
			return err
		}
		arr, err := wb.compute(&w.node.Funcs[i])
		if err != nil {
			return err
		}
		if arr.Len() != rows {
			arr.Release()
			return internalf("window function %s produced %d values for %d rows", w.node.Funcs[i].Fn, arr.Len(), rows)
		}
		w.funcs = append(w.funcs, arr)
	}
	return nil
}

func (wb *winBuild) release() {
	for _, a := range wb.keys {
		a.Release()
	}
	wb.keys = nil
	if wb.orderKey != nil {
		wb.orderKey.Release()
		wb.orderKey = nil
	}
}

// key returns input column c over all rows, concatenated once.
func (wb *winBuild) key(c int) (arrow.Array, error) {
	if a, ok := wb.keys[c]; ok {
		return a, nil
	}
	bs := wb.w.batches
	var arr arrow.Array
	if len(bs) == 1 {
		arr = bs[0].Column(c)
		arr.Retain()
	} else {
		parts := make([]arrow.Array, len(bs))
		for i, b := range bs {
			parts[i] = b.Column(c)
		}
		var err error
		arr, err = array.Concatenate(parts, wb.w.mem)
		if err != nil {
			return nil, sqlerr.Wrap(sqlerr.InternalError, err, "concatenating window keys")
		}
	}
	wb.keys[c] = arr
	return arr, nil
}

// sort computes the permutation and the layout.
func (wb *winBuild) sort(n int) error {
	node := wb.w.node
	var cmps []rowCmp
	for _, c := range node.PartitionBy {
		arr, err := wb.key(c)
		if err != nil {
			return err
		}
		cmp, err := makeCmp(arr, false, true)
		if err != nil {
			return err
		}
		cmps = append(cmps, cmp)
	}
	nPart := len(cmps)
	for _, k := range node.OrderBy {
		arr, err := wb.key(k.Col)
		if err != nil {
			return err
		}
		cmp, err := makeCmp(arr, k.Desc, k.NullsFirst)
		if err != nil {
			return err
		}
		cmps = append(cmps, cmp)
	}
	entries, nkeys := wb.prefix()
	perm, err := sortWindowRows(wb.ctx, n, cmps, entries, nkeys)
	if err != nil {
		return err
	}
	lay := winLayout{n: n, parts: []int32{0}, peers: []int32{0}, peerOf: make([]int32, n)}
	// differs reports whether key j differs between sorted positions k-1
	// and k; encoded keys are compared in the (sorted, so sequential)
	// entries.
	differs := func(j, k int) bool {
		if j < nkeys {
			x, y := &entries[k-1], &entries[k]
			if j == 0 {
				return x.g0 != y.g0 || x.p0 != y.p0
			}
			return x.g1 != y.g1 || x.p1 != y.p1
		}
		return cmps[j](int(perm[k-1]), int(perm[k])) != 0
	}
	for k := 1; k < n; k++ {
		newPart, newPeer := false, false
		for j := range nPart {
			if differs(j, k) {
				newPart, newPeer = true, true
				break
			}
		}
		if !newPeer {
			for j := nPart; j < len(cmps); j++ {
				if differs(j, k) {
					newPeer = true
					break
				}
			}
		}
		if newPart {
			lay.parts = append(lay.parts, int32(k))
		}
		if newPeer {
			lay.peers = append(lay.peers, int32(k))
		}
		lay.peerOf[k] = int32(len(lay.peers) - 1)
	}
	lay.parts = append(lay.parts, int32(n))
	lay.peers = append(lay.peers, int32(n))
	wb.perm, wb.lay = perm, lay
	return nil
}

// prefix encodes the leading sort keys (partition columns, then ORDER BY
// keys) as order-preserving integers: up to two of them, as long as they
// have an encodable type. nkeys is how many it encoded.
func (wb *winBuild) prefix() (entries []sortEntry, nkeys int) {
	node := wb.w.node
	var keys []physical.SortKey
	for _, c := range node.PartitionBy {
		keys = append(keys, physical.SortKey{Col: c, NullsFirst: true})
	}
	keys = append(keys, node.OrderBy...)
	for _, k := range keys[:min(len(keys), 2)] {
		if !encodeKey(&entries, nkeys, wb.keys[k.Col], k.Desc, k.NullsFirst) {
			break
		}
		nkeys++
	}
	return entries, nkeys
}

// sortEntry is a row with its leading sort keys encoded: grp places
// NULLs, pfx orders the rest as unsigned integers.
type sortEntry struct {
	p0, p1 uint64 // no arrays: they keep the struct out of registers
	row    int32
	g0, g1 int8
}

// encodeKey stores key k of every row in *es (made on first use), so that
// comparing (grp, pfx) orders and equates rows as makeCmp does; false for
// types other than integers, dates, timestamps and doubles. Sorting the
// entries keeps comparisons in cache instead of chasing rows through the
// permutation.
func encodeKey(es *[]sortEntry, k int, arr arrow.Array, desc, nullsFirst bool) bool {
	n := arr.Len()
	var get func(i int) uint64
	switch a := arr.(type) {
	case *array.Int64:
		v := a.Int64Values()
		get = func(i int) uint64 { return uint64(v[i]) ^ 1<<63 }
	case *array.Int32:
		v := a.Int32Values()
		get = func(i int) uint64 { return uint64(int64(v[i])) ^ 1<<63 }
	case *array.Date32:
		v := a.Date32Values()
		get = func(i int) uint64 { return uint64(int64(v[i])) ^ 1<<63 }
	case *array.Timestamp:
		v := a.TimestampValues()
		get = func(i int) uint64 { return uint64(v[i]) ^ 1<<63 }
	case *array.Float64:
		v := a.Float64Values()
		get = func(i int) uint64 {
			f := v[i]
			if f == 0 {
				f = 0 // -0 equals 0
			}
			if f != f {
				return math.MaxUint64 // every NaN, after +Inf
			}
			b := math.Float64bits(f)
			if b>>63 != 0 {
				return ^b
			}
			return b | 1<<63
		}
	default:
		return false
	}
	if *es == nil {
		*es = make([]sortEntry, n)
		for i := range *es {
			(*es)[i].row = int32(i)
		}
	}
	nullGrp := int8(2)
	if nullsFirst {
		nullGrp = 0
	}
	valid := validOf(arr)
	for i := range *es {
		e := &(*es)[i]
		g, p := int8(1), uint64(0)
		if !valid.ok(i) {
			g = nullGrp
		} else if p = get(i); desc {
			p = ^p
		}
		if k == 0 {
			e.g0, e.p0 = g, p
		} else {
			e.g1, e.p1 = g, p
		}
	}
	return true
}

func compareEntries(a, b *sortEntry, nkeys int) int {
	if a.g0 != b.g0 {
		return int(a.g0) - int(b.g0)
	}
	if a.p0 != b.p0 {
		if a.p0 < b.p0 {
			return -1
		}
		return 1
	}
	if nkeys == 1 {
		return 0
	}
	if a.g1 != b.g1 {
		return int(a.g1) - int(b.g1)
	}
	if a.p1 != b.p1 {
		if a.p1 < b.p1 {
			return -1
		}
		return 1
	}
	return 0
}

// sortWindowRows returns the rows in key order, ties in row order. The
// first nkeys comparators are replaced by the entries' encoding.
func sortWindowRows(ctx context.Context, n int, cmps []rowCmp, entries []sortEntry, nkeys int) ([]int32, error) {
	perm := make([]int32, n)
	// Ties break on the row number: a total order, so the unstable
	// pattern-defeating sort (much faster than a stable merge) still keeps
	// input order among equal keys.
	if nkeys > 0 {
		rest := cmps[nkeys:]
		slices.SortFunc(entries, func(a, b sortEntry) int {
			if r := compareEntries(&a, &b, nkeys); r != 0 {
				return r
			}
			for _, c := range rest {
				if r := c(int(a.row), int(b.row)); r != 0 {
					return r
				}
			}
			return int(a.row - b.row)
		})
		for i, e := range entries {
			perm[i] = e.row
		}
		return perm, ctx.Err()
	}
	for i := range perm {
		perm[i] = int32(i)
	}
	if len(cmps) == 0 {
		return perm, nil
	}
	slices.SortFunc(perm, func(a, b int32) int {
		for _, c := range cmps {
			if r := c(int(a), int(b)); r != 0 {
				return r
			}
		}
		return int(a - b)
	})
	return perm, ctx.Err()
}

// locate turns the permutation (of rows numbered across batches) into
// batch and row positions.
func (w *windowOp) locate(perm []int32) {
	if len(w.batches) == 1 {
		w.pos = perm
		return
	}
	starts := make([]int32, len(w.batches)+1)
	for i, b := range w.batches {
		starts[i+1] = starts[i] + int32(b.NumRows())
	}
	w.which = make([]int32, len(perm))
	w.pos = make([]int32, len(perm))
	for k, r := range perm {
		b := sort.Search(len(w.batches), func(i int) bool { return starts[i+1] > r })
		w.which[k] = int32(b)
		w.pos[k] = r - starts[b]
	}
}

// permuted evaluates e over every input batch and returns its values in
// output order.
func (wb *winBuild) permuted(e physical.Expr) (arrow.Array, error) {
	bs := wb.w.batches
	arrs := make([]arrow.Array, 0, len(bs))
	defer func() { releaseAll(arrs) }()
	for _, b := range bs {
		a, err := eval(wb.w.mem, e, b)
		if err != nil {
			return nil, err
		}
		arrs = append(arrs, a)
		if !arrow.TypeEqual(a.DataType(), arrs[0].DataType()) {
			return nil, internalf("window argument %s has type %s in one batch and %s in another", e, arrs[0].DataType(), a.DataType())
		}
	}
	return gatherColumn(wb.w.mem, arrs[0].DataType(), arrs, wb.w.which, wb.w.pos)
}

// orderKeyArray returns the single ORDER BY key in output order.
func (wb *winBuild) orderKeyArray() (arrow.Array, physical.SortKey, error) {
	node := wb.w.node
	if len(node.OrderBy) != 1 {
		return nil, physical.SortKey{}, sqlerr.New(sqlerr.FeatureNotSupported,
			"RANGE with offset PRECEDING/FOLLOWING requires exactly one ORDER BY column, not %d", len(node.OrderBy))
	}
	k := node.OrderBy[0]
	if wb.orderKey == nil {
		arr, err := wb.key(k.Col)
		if err != nil {
			return nil, k, err
		}
		p, err := gatherColumn(wb.w.mem, arr.DataType(), []arrow.Array{arr}, nil, wb.perm)
		if err != nil {
			return nil, k, err
		}
		wb.orderKey = p
	}
	return wb.orderKey, k, nil
}

// checkCtx reports cancellation every 64K iterations of a long loop.
func checkCtx(ctx context.Context, i int) error {
	if i&0xffff == 0 {
		return ctx.Err()
	}
	return nil
}
