package exec

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// sender distributes one producer instance's batches over the consumer
// instances of an exchange.
type sender struct {
	x    *exchange
	dist physical.Distribution
	keys []int
	rr   int // next round-robin target
	mem  memory.Allocator
	hs   []uint64
}

// send hands b over (ownership passes to the exchange).
func (s *sender) send(ctx context.Context, b arrow.Record) error {
	n := len(s.x.chans)
	switch {
	case n == 1 || s.dist == physical.Gather:
		return s.put(ctx, 0, b)
	case s.dist == physical.RoundRobin:
		t := s.rr % n
		s.rr++
		return s.put(ctx, t, b)
	case s.dist == physical.Broadcast:
		// Consumers read the one record concurrently; Arrow computes null
		// counts lazily and caches them, so compute them now, before it is
		// shared.
		settleNullCounts(b)
		for i := 1; i < n; i++ {
			b.Retain()
		}
		for i := 0; i < n; i++ {
			if err := s.put(ctx, i, b); err != nil {
				for j := i + 1; j < n; j++ {
					b.Release()
				}
				return err
			}
		}
		return nil
	case s.dist == physical.HashPartition:
		return s.partition(ctx, b)
	}
	b.Release()
	return sqlerr.New(sqlerr.InternalError, "exec: unknown distribution %v", s.dist)
}

// put sends b to consumer i, or releases it if the query is canceled.
func (s *sender) put(ctx context.Context, i int, b arrow.Record) error {
	select {
	case s.x.chans[i] <- b:
		return nil
	case <-ctx.Done():
		b.Release()
		return ctx.Err()
	}
}

func (s *sender) partition(ctx context.Context, b arrow.Record) error {
	parts, err := partitionRows(b, s.keys, len(s.x.chans), &s.hs)
	if err != nil {
		b.Release()
		return err
	}
	for p, rows := range parts {
		if len(rows) == int(b.NumRows()) {
			return s.put(ctx, p, b)
		}
	}
	defer b.Release()
	cctx := computeCtx(ctx, s.mem)
	for p, rows := range parts {
		if len(rows) == 0 {
			continue
		}
		idx := fixedArray(s.mem, arrow.PrimitiveTypes.Int32, rows, nil)
		sub, err := takeRecord(cctx, b, idx)
		idx.Release()
		if err != nil {
			return err
		}
		if err := s.put(ctx, p, sub); err != nil {
			return err
		}
	}
	return nil
}

// partitionRows returns, per partition, the rows of b whose key columns
// hash to it.
func partitionRows(b arrow.Record, keys []int, n int, scratch *[]uint64) ([][]int32, error) {
	rows := int(b.NumRows())
	if cap(*scratch) < rows {
		*scratch = make([]uint64, rows)
	}
	hs := (*scratch)[:rows]
	for i := range hs {
		hs[i] = hashSeed
	}
	for _, k := range keys {
		if k < 0 || k >= int(b.NumCols()) {
			return nil, sqlerr.New(sqlerr.InternalError, "exec: partition key column %d out of range", k)
		}
		if err := hashColumn(b.Column(k), hs); err != nil {
			return nil, err
		}
	}
	parts := make([][]int32, n)
	for i, h := range hs {
		p := int(h % uint64(n))
		parts[p] = append(parts[p], int32(i))
	}
	return parts, nil
}

// settleNullCounts computes every lazily counted null count of b (Arrow
// counts on first use and caches the count in the shared array data).
func settleNullCounts(b arrow.Record) {
	for _, c := range b.Columns() {
		settleNulls(c)
	}
}

func settleNulls(a arrow.Array) {
	a.NullN()
	for _, child := range a.Data().Children() {
		ca := array.MakeFromData(child)
		settleNulls(ca)
		ca.Release()
	}
	if d, ok := a.(*array.Dictionary); ok {
		settleNulls(d.Dictionary())
	}
}
