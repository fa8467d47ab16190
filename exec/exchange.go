package exec

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// exchangeCapacity is the number of batches an exchange buffers per
// consumer instance before producers block.
const exchangeCapacity = 4

// exchange connects the local instances of one fragment to the instances
// of its consumers (wherever they run): one bounded channel per consumer
// instance, closed when every local producer instance finished
// successfully. A failing producer leaves the channels open; the query's
// cancellation unblocks the consumers. A shared fragment's exchange has
// one group of channels per port, and spools: what does not fit in a
// channel waits in its queue, so producers never block on a consumer.
type exchange struct {
	chans     []chan arrow.Record
	ports     []int // first channel of each port
	producers atomic.Int32
	ended     []atomic.Bool // per channel: its end was delivered
	spool     []spoolQueue  // per channel; nil unless shared
}

// newExchange makes an exchange with ports of the given numbers of
// consumer instances, fed by producers local instances.
func newExchange(ports []int, producers int) *exchange {
	x := &exchange{ports: make([]int, len(ports))}
	total := 0
	for p, n := range ports {
		x.ports[p] = total
		total += n
	}
	x.chans, x.ended = make([]chan arrow.Record, total), make([]atomic.Bool, total)
	for i := range x.chans {
		x.chans[i] = make(chan arrow.Record, exchangeCapacity)
	}
	if len(ports) > 1 {
		x.spool = make([]spoolQueue, total)
		for i := range x.spool {
			x.spool[i].ch = x.chans[i]
		}
	}
	x.producers.Store(int32(producers))
	if producers == 0 {
		x.closeAll()
	}
	return x
}

// port returns the first channel and the number of channels of port p.
func (x *exchange) port(p int) (first, n int) {
	end := len(x.chans)
	if p+1 < len(x.ports) {
		end = x.ports[p+1]
	}
	return x.ports[p], end - x.ports[p]
}

func (x *exchange) producerDone() {
	if x.producers.Add(-1) == 0 {
		x.closeAll()
	}
}

func (x *exchange) closeAll() {
	for i, c := range x.chans {
		if x.spool != nil {
			x.spool[i].close()
			continue
		}
		close(c)
	}
}

// put sends b on channel i, waiting for room unless the exchange spools;
// ownership passes (b is released if the query is canceled).
func (x *exchange) put(ctx context.Context, i int, b arrow.Record) error {
	if x.spool != nil {
		x.spool[i].push(b)
		return nil
	}
	select {
	case x.chans[i] <- b:
		return nil
	case <-ctx.Done():
		b.Release()
		return ctx.Err()
	}
}

// drain releases what is left in the channels; only once nobody sends.
func (x *exchange) drain() {
	for i, c := range x.chans {
	read:
		for {
			select {
			case b, ok := <-c:
				if !ok {
					break read
				}
				b.Release()
			default:
				break read
			}
		}
		if x.spool != nil {
			x.spool[i].release()
		}
	}
}

// spoolQueue holds the batches of one channel of a spooling exchange that
// did not fit in it, in order. Its reader refills the channel after every
// receive, so a batch waits here only while the channel is full, and the
// channel is closed once the producers are done and the queue is empty.
type spoolQueue struct {
	ch      chan arrow.Record
	mu      sync.Mutex
	pending []arrow.Record
	closing bool // every producer is done
	closed  bool
}

func (q *spoolQueue) push(b arrow.Record) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.pending) == 0 {
		select {
		case q.ch <- b:
			return
		default:
		}
	}
	q.pending = append(q.pending, b)
}

func (q *spoolQueue) refill() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.pending) > 0 {
		select {
		case q.ch <- q.pending[0]:
			q.pending[0] = nil
			q.pending = q.pending[1:]
		default:
			return
		}
	}
	if q.closing && !q.closed {
		q.closed = true
		close(q.ch)
	}
}

func (q *spoolQueue) close() {
	q.mu.Lock()
	q.closing = true
	q.mu.Unlock()
	q.refill()
}

func (q *spoolQueue) release() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, b := range q.pending {
		b.Release()
	}
	q.pending = nil
}

// sender distributes one producer instance's batches over the consumer
// instances of an exchange (of each of its ports).
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
	if len(s.x.ports) == 1 {
		return s.sendPort(ctx, 0, b)
	}
	// The ports' consumers read the one record concurrently (see
	// Broadcast).
	settleNullCounts(b)
	for range len(s.x.ports) - 1 {
		b.Retain()
	}
	for p := range s.x.ports {
		if err := s.sendPort(ctx, p, b); err != nil {
			for range len(s.x.ports) - 1 - p {
				b.Release()
			}
			return err
		}
	}
	return nil
}

// sendPort hands b to the consumer instances of port p.
func (s *sender) sendPort(ctx context.Context, p int, b arrow.Record) error {
	first, n := s.x.port(p)
	switch {
	case n == 1 || s.dist == physical.Gather:
		return s.x.put(ctx, first, b)
	case s.dist == physical.RoundRobin:
		t := s.rr % n
		s.rr++
		return s.x.put(ctx, first+t, b)
	case s.dist == physical.Broadcast:
		// Consumers read the one record concurrently; Arrow computes null
		// counts lazily and caches them, so compute them now, before it is
		// shared.
		settleNullCounts(b)
		for i := 1; i < n; i++ {
			b.Retain()
		}
		for i := 0; i < n; i++ {
			if err := s.x.put(ctx, first+i, b); err != nil {
				for j := i + 1; j < n; j++ {
					b.Release()
				}
				return err
			}
		}
		return nil
	case s.dist == physical.HashPartition:
		return s.partition(ctx, first, n, b)
	}
	b.Release()
	return sqlerr.New(sqlerr.InternalError, "exec: unknown distribution %v", s.dist)
}

func (s *sender) partition(ctx context.Context, first, n int, b arrow.Record) error {
	parts, err := partitionRows(b, s.keys, n, &s.hs)
	if err != nil {
		b.Release()
		return err
	}
	for p, rows := range parts {
		if len(rows) == int(b.NumRows()) {
			return s.x.put(ctx, first+p, b)
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
		if err := s.x.put(ctx, first+p, sub); err != nil {
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
