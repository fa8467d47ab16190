package exec

import (
	"context"
	"errors"
	"io"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// sortOp is Sort (limit < 0) and TopN. It gathers its input, computes a
// stable permutation with typed comparators and emits it with take. As
// TopN it compacts its buffer to the best offset+limit rows whenever it
// grows past twice that (and at least one batch), bounding memory.
type sortOp struct {
	in     Operator
	keys   []physical.SortKey
	schema *arrow.Schema
	mem    memory.Allocator
	offset int64
	limit  int64

	batches []arrow.Record
	rows    int64
	out     []arrow.Record
	built   bool
	closed  bool
}

func (s *sortOp) Open(ctx context.Context) error { return s.in.Open(ctx) }

func (s *sortOp) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	releaseAll(s.batches)
	releaseAll(s.out)
	s.batches, s.out = nil, nil
	return s.in.Close()
}

func (s *sortOp) Next(ctx context.Context) (arrow.Record, error) {
	if !s.built {
		if err := s.build(ctx); err != nil {
			return nil, err
		}
		s.built = true
	}
	if len(s.out) == 0 {
		return nil, io.EOF
	}
	b := s.out[0]
	s.out = s.out[1:]
	return b, nil
}

func (s *sortOp) build(ctx context.Context) error {
	keep := int64(-1)
	if s.limit >= 0 {
		keep = s.offset + s.limit
		if s.limit == 0 {
			return nil
		}
	}
	for {
		b, err := s.in.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		s.batches = append(s.batches, b)
		s.rows += b.NumRows()
		if keep >= 0 && s.rows > max(2*keep, batchRows) {
			if err := s.compact(keep); err != nil {
				return err
			}
		}
	}
	if s.rows == 0 {
		return nil
	}
	all, perm, err := s.sorted()
	if err != nil {
		return err
	}
	defer all.Release()
	if keep >= 0 {
		lo := min(s.offset, int64(len(perm)))
		hi := min(keep, int64(len(perm)))
		perm = perm[lo:hi]
	}
	releaseAll(s.batches)
	s.batches, s.rows = nil, 0
	cctx := computeCtx(ctx, s.mem)
	for start := 0; start < len(perm); start += batchRows {
		end := min(start+batchRows, len(perm))
		idx := fixedArray(s.mem, arrow.PrimitiveTypes.Int32, perm[start:end], nil)
		rec, err := takeRecord(cctx, all, idx)
		idx.Release()
		if err != nil {
			return err
		}
		s.out = append(s.out, rec)
	}
	return nil
}

// compact keeps only the first keep rows of the buffered input in order.
func (s *sortOp) compact(keep int64) error {
	all, perm, err := s.sorted()
	if err != nil {
		return err
	}
	defer all.Release()
	if int64(len(perm)) > keep {
		perm = perm[:keep]
	}
	idx := fixedArray(s.mem, arrow.PrimitiveTypes.Int32, perm, nil)
	defer idx.Release()
	rec, err := takeRecord(computeCtx(context.Background(), s.mem), all, idx)
	if err != nil {
		return err
	}
	releaseAll(s.batches)
	s.batches = []arrow.Record{rec}
	s.rows = rec.NumRows()
	return nil
}

// sorted concatenates the buffered batches and returns them with the
// stable sorting permutation.
func (s *sortOp) sorted() (arrow.Record, []int32, error) {
	all, err := concatRecords(s.mem, s.schema, s.batches)
	if err != nil {
		return nil, nil, err
	}
	n := int(all.NumRows())
	if int64(n) != all.NumRows() || n > 1<<31-1 {
		all.Release()
		return nil, nil, sqlerr.New(sqlerr.FeatureNotSupported, "sort of more than 2^31 rows")
	}
	cmps := make([]rowCmp, len(s.keys))
	for i, k := range s.keys {
		if k.Col < 0 || k.Col >= int(all.NumCols()) {
			all.Release()
			return nil, nil, sqlerr.New(sqlerr.InternalError, "sort key column %d out of range", k.Col)
		}
		c, err := makeCmp(all.Column(k.Col), k.Desc, k.NullsFirst)
		if err != nil {
			all.Release()
			return nil, nil, err
		}
		cmps[i] = c
	}
	perm := make([]int32, n)
	for i := range perm {
		perm[i] = int32(i)
	}
	if len(cmps) == 1 {
		c := cmps[0]
		slices.SortStableFunc(perm, func(a, b int32) int { return c(int(a), int(b)) })
	} else {
		slices.SortStableFunc(perm, func(a, b int32) int {
			for _, c := range cmps {
				if r := c(int(a), int(b)); r != 0 {
					return r
				}
			}
			return 0
		})
	}
	return all, perm, nil
}

// concatRecords returns the rows of batches as one record.
func concatRecords(mem memory.Allocator, schema *arrow.Schema, batches []arrow.Record) (arrow.Record, error) {
	if len(batches) == 1 {
		batches[0].Retain()
		return batches[0], nil
	}
	var rows int64
	for _, b := range batches {
		rows += b.NumRows()
	}
	cols := make([]arrow.Array, schema.NumFields())
	parts := make([]arrow.Array, len(batches))
	for c := range cols {
		for i, b := range batches {
			parts[i] = b.Column(c)
		}
		arr, err := array.Concatenate(parts, mem)
		if err != nil {
			releaseAll(cols)
			return nil, internalError(err, "concatenating sort input")
		}
		cols[c] = arr
	}
	rec := array.NewRecordBatch(schema, cols, rows)
	releaseAll(cols)
	return rec, nil
}
