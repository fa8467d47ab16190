package exec

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/planner/physical"
)

// expandOp emits each input batch once per projection (grouping sets).
type expandOp struct {
	in     Operator
	n      *physical.Expand
	mem    memory.Allocator
	cur    arrow.Record // the input batch being expanded
	next   int          // the projection to emit next
	closed bool
}

func (e *expandOp) Open(ctx context.Context) error { return e.in.Open(ctx) }

func (e *expandOp) Close() error {
	if e.closed {
		return nil
	}
	e.closed = true
	if e.cur != nil {
		e.cur.Release()
		e.cur = nil
	}
	return e.in.Close()
}

func (e *expandOp) Next(ctx context.Context) (arrow.Record, error) {
	if e.cur == nil || e.next == len(e.n.Projections) {
		if e.cur != nil {
			e.cur.Release()
			e.cur = nil
		}
		b, err := e.in.Next(ctx)
		if err != nil {
			return nil, err
		}
		e.cur, e.next = b, 0
	}
	exprs := e.n.Projections[e.next]
	e.next++
	cols := make([]arrow.Array, len(exprs))
	for i, x := range exprs {
		c, err := eval(e.mem, x, e.cur)
		if err != nil {
			releaseAll(cols)
			return nil, err
		}
		cols[i] = c
	}
	out := array.NewRecordBatch(e.n.Out, cols, e.cur.NumRows())
	releaseAll(cols)
	return out, nil
}
