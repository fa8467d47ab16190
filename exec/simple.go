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
func (e *exchangeSourceOp) Close() error               { return nil }

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
	m, err := eval(mem, pred, b)
	if err != nil {
		return nil, err
	}
	defer m.Release()
	mask, ok := m.(*array.Boolean)
	if !ok {
		return nil, sqlerr.New(sqlerr.DatatypeMismatch, "filter predicate %s is %s, not boolean", pred, m.DataType())
	}
	switch kept := sel.fromMask(mask); kept {
	case 0:
		return nil, nil
	case mask.Len():
		b.Retain()
		return b, nil
	}
	return filterColumns(cctx, mem, b, sel.idx, mask)
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
