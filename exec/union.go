package exec

import (
	"context"
	"errors"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// unionOp is physical.UnionAll: the batches of its inputs, one input after
// the other, relabelled with the union's schema.
//
// Every instance of the fragment pulls all of its inputs. That is correct
// wherever UnionAll is placed, because every leaf already divides its rows
// among the instances of its fragment: scans share one split queue, Values
// deal their batches round-robin by instance, and an exchange source
// delivers to each instance only its own share. An input that does not
// divide its rows (a subtree producing the same rows in every instance,
// such as an aggregate without GROUP BY over a broadcast) would be
// duplicated; the planner must run such a union in a single instance.
type unionOp struct {
	ins    []Operator
	schema *arrow.Schema
	i      int
	closed bool
}

func newUnionOp(n *physical.UnionAll, ins []Operator) (*unionOp, error) {
	for k, c := range n.Inputs {
		s := c.Schema()
		if s.NumFields() != n.Out.NumFields() {
			return nil, internalf("union all %d: input %d has %d columns, expected %d", n.ID, k, s.NumFields(), n.Out.NumFields())
		}
		for i, f := range s.Fields() {
			if !arrow.TypeEqual(f.Type, n.Out.Field(i).Type) {
				return nil, internalf("union all %d: input %d column %d is %s, expected %s", n.ID, k, i, f.Type, n.Out.Field(i).Type)
			}
		}
	}
	return &unionOp{ins: ins, schema: n.Out}, nil
}

func (u *unionOp) Open(ctx context.Context) error {
	for _, in := range u.ins {
		if err := in.Open(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (u *unionOp) Close() error {
	if u.closed {
		return nil
	}
	u.closed = true
	var err error
	for _, in := range u.ins {
		if cerr := in.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

func (u *unionOp) Next(ctx context.Context) (arrow.Record, error) {
	for u.i < len(u.ins) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b, err := u.ins[u.i].Next(ctx)
		if errors.Is(err, io.EOF) {
			u.i++
			continue
		}
		if err != nil {
			return nil, err
		}
		if b.NumRows() == 0 {
			b.Release()
			continue
		}
		return withSchema(b, u.schema), nil
	}
	return nil, io.EOF
}

// withSchema returns b's columns under schema and releases b.
func withSchema(b arrow.Record, schema *arrow.Schema) arrow.Record {
	if b.Schema().Equal(schema) {
		return b
	}
	out := array.NewRecordBatch(schema, b.Columns(), b.NumRows())
	b.Release()
	return out
}

// singleRowOp is physical.EnforceSingleRow. It reads its whole input (to
// detect a second row) before emitting. A fragment instance that sees no
// row emits a row of NULLs, so it must run in one instance (or above a
// gather), which is where a scalar subquery's result lives anyway.
type singleRowOp struct {
	in     Operator
	schema *arrow.Schema
	mem    memory.Allocator
	done   bool
	closed bool
}

func newSingleRowOp(n *physical.EnforceSingleRow, in Operator, mem memory.Allocator) (*singleRowOp, error) {
	s := n.Input.Schema()
	if s.NumFields() != n.Out.NumFields() {
		return nil, internalf("enforce single row %d: input has %d columns, output %d", n.ID, s.NumFields(), n.Out.NumFields())
	}
	for i, f := range s.Fields() {
		if !arrow.TypeEqual(f.Type, n.Out.Field(i).Type) {
			return nil, internalf("enforce single row %d: column %d is %s, expected %s", n.ID, i, f.Type, n.Out.Field(i).Type)
		}
	}
	return &singleRowOp{in: in, schema: n.Out, mem: mem}, nil
}

func (s *singleRowOp) Open(ctx context.Context) error { return s.in.Open(ctx) }

func (s *singleRowOp) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	return s.in.Close()
}

func (s *singleRowOp) Next(ctx context.Context) (arrow.Record, error) {
	if s.done {
		return nil, io.EOF
	}
	var row arrow.Record
	for {
		if err := ctx.Err(); err != nil {
			if row != nil {
				row.Release()
			}
			return nil, err
		}
		b, err := s.in.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if row != nil {
				row.Release()
			}
			return nil, err
		}
		n := b.NumRows()
		if n == 0 {
			b.Release()
			continue
		}
		if row != nil || n > 1 {
			b.Release()
			if row != nil {
				row.Release()
			}
			return nil, sqlerr.New(sqlerr.CardinalityViolation, "more than one row returned by a subquery used as an expression")
		}
		row = b
	}
	s.done = true
	if row != nil {
		return withSchema(row, s.schema), nil
	}
	cols := make([]arrow.Array, s.schema.NumFields())
	for i, f := range s.schema.Fields() {
		cols[i] = array.MakeArrayOfNull(s.mem, f.Type, 1)
	}
	out := array.NewRecordBatch(s.schema, cols, 1)
	releaseAll(cols)
	return out, nil
}
