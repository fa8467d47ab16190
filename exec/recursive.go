package exec

import (
	"context"
	"errors"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/planner/physical"
)

// recursiveOp is physical.RecursiveUnion: the anchor's batches, then
// pass after pass of the step, built anew over the previous pass's rows
// (the working table) until a pass yields none. Every emitted batch is
// also kept for the next pass; under Distinct, rows already produced are
// dropped first (a group table over all columns remembers them).
type recursiveOp struct {
	n      *physical.RecursiveUnion
	anchor Operator
	build  func(work *[]arrow.Record) (Operator, error) // the step, over work
	mem    memory.Allocator
	seen   *groupTable
	work   []arrow.Record // the rows the current pass reads
	next   []arrow.Record // the rows the current pass produced
	step   Operator       // the current pass (nil between passes)
	inStep bool           // the anchor is done
	closed bool
}

func (r *recursiveOp) Open(ctx context.Context) error { return r.anchor.Open(ctx) }

func (r *recursiveOp) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	var err error
	if r.step != nil {
		err = r.step.Close()
	}
	releaseAll(r.work)
	releaseAll(r.next)
	r.work, r.next = nil, nil
	if r.seen != nil {
		r.seen.release()
	}
	return errors.Join(err, r.anchor.Close())
}

func (r *recursiveOp) Next(ctx context.Context) (arrow.Record, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var b arrow.Record
		var err error
		switch {
		case !r.inStep:
			if b, err = r.anchor.Next(ctx); errors.Is(err, io.EOF) {
				r.inStep = true
				continue
			}
		case r.step == nil:
			// The next pass reads what the last one produced.
			releaseAll(r.work)
			r.work, r.next = r.next, nil
			if len(r.work) == 0 {
				return nil, io.EOF
			}
			if r.step, err = r.build(&r.work); err != nil {
				return nil, err
			}
			if err := r.step.Open(ctx); err != nil {
				return nil, err
			}
			continue
		default:
			if b, err = r.step.Next(ctx); errors.Is(err, io.EOF) {
				err = r.step.Close()
				r.step = nil
				if err != nil {
					return nil, err
				}
				continue
			}
		}
		if err != nil {
			return nil, err
		}
		if r.n.Distinct {
			if b, err = r.fresh(ctx, b); err != nil {
				return nil, err
			}
		}
		if b.NumRows() == 0 {
			b.Release()
			continue
		}
		// Relabel with the union's schema (the terms' names differ).
		out := withSchema(b, r.n.Out)
		out.Retain()
		r.next = append(r.next, out)
		return out, nil
	}
}

// fresh keeps the rows of b not produced before (nor earlier in b).
func (r *recursiveOp) fresh(ctx context.Context, b arrow.Record) (arrow.Record, error) {
	if r.seen == nil {
		types := make([]arrow.DataType, b.NumCols())
		for i, f := range b.Schema().Fields() {
			types[i] = f.Type
		}
		r.seen = newGroupTable(r.mem, types)
	}
	before := uint32(r.seen.n)
	gids, err := r.seen.assign(b.Columns(), int(b.NumRows()))
	if err != nil {
		b.Release()
		return nil, err
	}
	var keep []int32
	next := before
	for i, g := range gids {
		// New groups get consecutive ids in row order: a row is the first
		// of its group exactly when its id is the next new one.
		if g == next {
			keep = append(keep, int32(i))
			next++
		}
	}
	if len(keep) == len(gids) {
		return b, nil
	}
	defer b.Release()
	idx := fixedArray(r.mem, arrow.PrimitiveTypes.Int32, keep, nil)
	defer idx.Release()
	return takeRecord(computeCtx(ctx, r.mem), b, idx)
}

// workTableOp is physical.WorkTableScan: the working table's batches.
type workTableOp struct {
	work *[]arrow.Record
	i    int
}

func (w *workTableOp) Open(context.Context) error { return nil }
func (w *workTableOp) Close() error               { return nil }

func (w *workTableOp) Next(context.Context) (arrow.Record, error) {
	if w.i >= len(*w.work) {
		return nil, io.EOF
	}
	b := (*w.work)[w.i]
	w.i++
	b.Retain()
	return b, nil
}
