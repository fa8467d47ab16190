package exec

import (
	"context"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// valuesOp emits the plan's literal batches, retained for the caller. Like
// a scan, it splits its data over the instances of its fragment: instance
// i emits batches i, i+step, ...
type valuesOp struct {
	batches []arrow.Record
	i, step int
}

func (v *valuesOp) Open(context.Context) error { return nil }
func (v *valuesOp) Close() error               { return nil }

func (v *valuesOp) Next(ctx context.Context) (arrow.Record, error) {
	for v.i < len(v.batches) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b := v.batches[v.i]
		v.i += v.step
		if b.NumRows() == 0 {
			continue
		}
		b.Retain()
		return b, nil
	}
	return nil, io.EOF
}

// exchangeSourceOp reads the batches an exchange delivers to this instance.
type exchangeSourceOp struct{ r Receiver }

func (e *exchangeSourceOp) Open(context.Context) error { return nil }
func (e *exchangeSourceOp) Close() error {
	closeReceiver(e.r)
	return nil
}

func (e *exchangeSourceOp) Next(ctx context.Context) (arrow.Record, error) {
	for {
		b, err := e.r.Next(ctx)
		if err != nil {
			return nil, err
		}
		if b.NumRows() > 0 {
			return b, nil
		}
		b.Release()
	}
}

// filterOp keeps the rows for which pred is true.
type filterOp struct {
	in   Operator
	pred physical.Expr
	mem  memory.Allocator
	cctx context.Context
	sel  selection
}

func (f *filterOp) Open(ctx context.Context) error {
	f.cctx = computeCtx(context.Background(), f.mem)
	return f.in.Open(ctx)
}
func (f *filterOp) Close() error { return f.in.Close() }

func (f *filterOp) Next(ctx context.Context) (arrow.Record, error) {
	for {
		b, err := f.in.Next(ctx)
		if err != nil {
			return nil, err
		}
		out, err := filterRecord(f.cctx, f.mem, f.pred, b, &f.sel)
		b.Release()
		if err != nil {
			return nil, err
		}
		if out != nil {
			return out, nil
		}
	}
}

// filterRecord applies pred to b and returns the kept rows (b retained when
// all are kept), or nil when none is. It does not release b. sel is the
// caller's scratch.
func filterRecord(cctx context.Context, mem memory.Allocator, pred physical.Expr, b arrow.Record, sel *selection) (arrow.Record, error) {
	out, _, err := filterRecordSel(cctx, mem, pred, b, sel, false)
	return out, err
}

// selSource is an operator that can hand out a batch with the rows it
// keeps as positions sel (nil: all of them), instead of copying those rows
// into a new batch. sel is valid until the next call.
type selSource interface {
	NextSel(ctx context.Context) (b arrow.Record, sel []int32, err error)
}

// minSelKept is the fraction of rows a filter must keep for it to hand
// out a selection rather than copy them: below it the work done by
// consumers on dropped rows outweighs the copy.
const minSelKept = 0.5

// filterRecordSel is filterRecord that, when allowSel is set and the
// predicate keeps at least minSelKept of the rows, returns b itself
// (retained) with the kept rows as sel, which aliases the caller's scratch.
func filterRecordSel(cctx context.Context, mem memory.Allocator, pred physical.Expr, b arrow.Record, sel *selection, allowSel bool) (arrow.Record, []int32, error) {
	m, err := eval(mem, pred, b)
	if err != nil {
		return nil, nil, err
	}
	defer m.Release()
	mask, ok := m.(*array.Boolean)
	if !ok {
		return nil, nil, sqlerr.New(sqlerr.DatatypeMismatch, "filter predicate %s is %s, not boolean", pred, m.DataType())
	}
	switch kept := sel.fromMask(mask); {
	case kept == 0:
		return nil, nil, nil
	case kept == mask.Len():
		b.Retain()
		return b, nil, nil
	case allowSel && float64(kept) >= minSelKept*float64(mask.Len()):
		b.Retain()
		return b, sel.idx, nil
	}
	out, err := filterColumns(cctx, mem, b, sel.idx, mask)
	return out, nil, err
}

// projectOp computes one output column per expression.
type projectOp struct {
	in     Operator
	exprs  []physical.Expr
	schema *arrow.Schema
	mem    memory.Allocator
}

func (p *projectOp) Open(ctx context.Context) error { return p.in.Open(ctx) }
func (p *projectOp) Close() error                   { return p.in.Close() }

func (p *projectOp) Next(ctx context.Context) (arrow.Record, error) {
	b, err := p.in.Next(ctx)
	if err != nil {
		return nil, err
	}
	defer b.Release()
	return p.project(b)
}

// NextSel passes its input's selection through: the expressions are
// computed on every row of the batch, dropped ones included. Should that
// fail, the error may come from a dropped row, so the kept rows are
// copied out and computed again, and the result carries no selection.
func (p *projectOp) NextSel(ctx context.Context) (arrow.Record, []int32, error) {
	src, ok := p.in.(selSource)
	if !ok {
		b, err := p.Next(ctx)
		return b, nil, err
	}
	b, sel, err := src.NextSel(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer b.Release()
	out, err := p.project(b)
	if err == nil || sel == nil {
		return out, sel, err
	}
	kept, err := gatherRecord(p.mem, b, sel)
	if err != nil {
		return nil, nil, err
	}
	defer kept.Release()
	out, err = p.project(kept)
	return out, nil, err
}

func (p *projectOp) project(b arrow.Record) (arrow.Record, error) {
	cols := make([]arrow.Array, len(p.exprs))
	for i, e := range p.exprs {
		c, err := eval(p.mem, e, b)
		if err != nil {
			releaseAll(cols)
			return nil, err
		}
		cols[i] = c
	}
	out := array.NewRecordBatch(p.schema, cols, b.NumRows())
	releaseAll(cols)
	return out, nil
}

// gatherRecord returns rows sel of b as a new batch.
func gatherRecord(mem memory.Allocator, b arrow.Record, sel []int32) (arrow.Record, error) {
	cols, err := gatherArrays(mem, b.Columns(), sel)
	if err != nil {
		return nil, err
	}
	out := array.NewRecordBatch(b.Schema(), cols, int64(len(sel)))
	releaseAll(cols)
	return out, nil
}

// gatherArrays returns rows sel of each array.
func gatherArrays(mem memory.Allocator, arrs []arrow.Array, sel []int32) ([]arrow.Array, error) {
	out := make([]arrow.Array, len(arrs))
	var idx arrow.Array
	defer func() {
		if idx != nil {
			idx.Release()
		}
	}()
	for i, c := range arrs {
		if c == nil {
			continue
		}
		a := takeColumn(mem, c, sel)
		if a == nil {
			if idx == nil {
				idx = fixedArray(mem, arrow.PrimitiveTypes.Int32, sel, nil)
			}
			var err error
			if a, err = takeArray(mem, c, idx); err != nil {
				releaseAll(out)
				return nil, err
			}
		}
		out[i] = a
	}
	return out, nil
}

// limitOp skips skip rows, then passes at most left rows (left < 0: all).
// Once satisfied it stops pulling its input.
type limitOp struct {
	in         Operator
	skip, left int64
}

func (l *limitOp) Open(ctx context.Context) error { return l.in.Open(ctx) }
func (l *limitOp) Close() error                   { return l.in.Close() }

func (l *limitOp) Next(ctx context.Context) (arrow.Record, error) {
	for {
		if l.left == 0 {
			return nil, io.EOF
		}
		b, err := l.in.Next(ctx)
		if err != nil {
			return nil, err
		}
		n := b.NumRows()
		start := int64(0)
		if l.skip > 0 {
			if n <= l.skip {
				l.skip -= n
				b.Release()
				continue
			}
			start, l.skip = l.skip, 0
		}
		end := n
		if l.left >= 0 && end-start > l.left {
			end = start + l.left
		}
		if l.left >= 0 {
			l.left -= end - start
		}
		if start == 0 && end == n {
			return b, nil
		}
		out := b.NewSlice(start, end)
		b.Release()
		return out, nil
	}
}
