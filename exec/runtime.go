package exec

import (
	"context"
	"errors"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
	"golang.org/x/sync/errgroup"
)

// Options configure one execution.
type Options struct {
	// Alloc is the allocator batches come from; nil means
	// memory.DefaultAllocator.
	Alloc memory.Allocator
	// Parallelism is the number of instances of fragments whose
	// Parallelism is 0; 0 means runtime.GOMAXPROCS(0).
	Parallelism int
	// MemoryLimit is the most bytes the query may hold at once; 0 means
	// unlimited. Going over it fails the query with SQLSTATE 53200.
	MemoryLimit int64
}

// exchangeCapacity is the number of batches an exchange buffers per
// consumer instance before producers block.
const exchangeCapacity = 4

// Execution is a running plan.
type Execution struct {
	plan   *physical.Plan
	schema *arrow.Schema
	mem    *accountingAllocator
	pool   *poolAllocator

	ctx    context.Context
	cancel context.CancelFunc
	g      *errgroup.Group

	exchanges map[int]*exchange // by producer fragment ID
	out       *exchange         // the root fragment's output
	splits    map[int]*SplitQueue
	stats     map[int]*StatsCounter

	waitOnce  sync.Once
	waitErr   error
	closeOnce sync.Once
	closed    atomic.Bool
	eof       bool
}

// exchange connects the instances of one fragment to the instances of its
// consumer: one bounded channel per consumer instance, closed when every
// producer instance finished successfully. A failing producer leaves the
// channels open; the query's cancellation unblocks the consumers.
type exchange struct {
	chans     []chan arrow.Record
	producers atomic.Int32
}

func newExchange(consumers, producers int) *exchange {
	x := &exchange{chans: make([]chan arrow.Record, consumers)}
	for i := range x.chans {
		x.chans[i] = make(chan arrow.Record, exchangeCapacity)
	}
	x.producers.Store(int32(producers))
	return x
}

func (x *exchange) producerDone() {
	if x.producers.Add(-1) == 0 {
		for _, c := range x.chans {
			close(c)
		}
	}
}

// drain releases what is left in the channels; only once nobody sends.
func (x *exchange) drain() {
	for _, c := range x.chans {
		for {
			select {
			case b, ok := <-c:
				if !ok {
					goto next
				}
				b.Release()
			default:
				goto next
			}
		}
	next:
	}
}

type chanReceiver struct{ ch <-chan arrow.Record }

func (r chanReceiver) Next(ctx context.Context) (arrow.Record, error) {
	select {
	case b, ok := <-r.ch:
		if !ok {
			return nil, io.EOF
		}
		return b, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Run starts all fragments of plan in goroutines connected by in-memory
// exchanges and returns the root fragment's output stream. The caller must
// Close the execution.
func Run(ctx context.Context, plan *physical.Plan, opts Options) (*Execution, error) {
	if plan == nil || len(plan.Fragments) == 0 {
		return nil, sqlerr.New(sqlerr.InternalError, "exec: empty plan")
	}
	alloc := opts.Alloc
	if alloc == nil {
		alloc = memory.DefaultAllocator
	}
	par := opts.Parallelism
	if par <= 0 {
		par = runtime.GOMAXPROCS(0)
	}
	pool := newPoolAllocator(alloc)
	e := &Execution{
		plan:      plan,
		pool:      pool,
		mem:       newAccountingAllocator(pool, opts.MemoryLimit),
		exchanges: map[int]*exchange{},
		splits:    map[int]*SplitQueue{},
		stats:     map[int]*StatsCounter{},
	}
	root := plan.Root()
	instances := map[int]int{}
	byID := map[int]*physical.Fragment{}
	for _, f := range plan.Fragments {
		if _, dup := byID[f.ID]; dup {
			return nil, sqlerr.New(sqlerr.InternalError, "exec: duplicate fragment %d", f.ID)
		}
		byID[f.ID] = f
		n := f.Parallelism
		if n <= 0 {
			n = par
		}
		if f == root {
			n = 1
		}
		instances[f.ID] = n
		var walkErr error
		physical.Walk(f.Root, func(n physical.Node) {
			if _, dup := e.stats[n.NodeID()]; dup {
				walkErr = sqlerr.New(sqlerr.InternalError, "exec: duplicate node id %d", n.NodeID())
			}
			e.stats[n.NodeID()] = &StatsCounter{}
			if s, ok := n.(*physical.ParquetScan); ok {
				e.splits[s.ID] = NewSplitQueue(s)
			}
		})
		if walkErr != nil {
			return nil, walkErr
		}
	}
	for _, f := range plan.Fragments {
		if f == root {
			continue
		}
		if _, ok := byID[f.Consumer]; !ok {
			return nil, sqlerr.New(sqlerr.InternalError, "exec: fragment %d sends to unknown fragment %d", f.ID, f.Consumer)
		}
		e.exchanges[f.ID] = newExchange(instances[f.Consumer], instances[f.ID])
	}
	e.out = newExchange(1, 1)
	e.schema = plan.Schema()
	e.ctx, e.cancel = context.WithCancel(ctx)
	e.g, e.ctx = errgroup.WithContext(e.ctx)

	for _, f := range plan.Fragments {
		x := e.out
		if f != root {
			x = e.exchanges[f.ID]
		}
		for i := 0; i < instances[f.ID]; i++ {
			s := &sender{x: x, dist: f.Output, keys: f.OutputKeys, rr: i, mem: e.mem}
			if f == root {
				s.dist = physical.Gather
			}
			e.g.Go(func() error { return e.runInstance(f, i, instances[f.ID], s) })
		}
	}
	return e, nil
}

// runInstance builds one instance of fragment f and pumps its output into
// the exchange. Panics become errors here.
func (e *Execution) runInstance(f *physical.Fragment, inst, count int, s *sender) (err error) {
	ctx := e.ctx
	var op Operator
	defer func() {
		if r := recover(); r != nil {
			err = recoverError(r)
		}
		if op != nil {
			if cerr := guard(op.Close); err == nil && cerr != nil {
				err = cerr
			}
		}
		if err == nil {
			s.x.producerDone()
			if s.x == e.out {
				// The result is complete: stop producers the root no
				// longer reads (e.g. below a LIMIT).
				e.cancel()
			}
		}
	}()
	env := &Env{
		Alloc:     e.mem,
		Instance:  inst,
		Instances: count,
		Splits:    func(n *physical.ParquetScan) *SplitQueue { return e.splits[n.ID] },
		Inbound: func(frag int) (Receiver, error) {
			x, ok := e.exchanges[frag]
			if !ok || inst >= len(x.chans) {
				return nil, sqlerr.New(sqlerr.InternalError, "exec: fragment %d instance %d has no input from fragment %d", f.ID, inst, frag)
			}
			return chanReceiver{x.chans[inst]}, nil
		},
		Stats: func(id int) *StatsCounter { return e.stats[id] },
	}
	op, err = Build(f.Root, env)
	if err != nil {
		return err
	}
	if err := op.Open(ctx); err != nil {
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, err := op.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if b.NumRows() == 0 {
			b.Release()
			continue
		}
		if err := s.send(ctx, b); err != nil {
			return err
		}
	}
}

// Schema is the result schema with client-facing names.
func (e *Execution) Schema() *arrow.Schema { return e.schema }

func (e *Execution) wait() error {
	e.waitOnce.Do(func() { e.waitErr = e.g.Wait() })
	return e.waitErr
}

// Next returns the next result batch, or io.EOF after the last one. The
// caller releases the batch. Errors are *sqlerr.Error.
func (e *Execution) Next(ctx context.Context) (arrow.Record, error) {
	if e.closed.Load() {
		return nil, sqlerr.New(sqlerr.InternalError, "exec: Next on a closed execution")
	}
	if e.eof {
		return nil, io.EOF
	}
	select {
	case b, ok := <-e.out.chans[0]:
		if ok {
			return b, nil
		}
		e.eof = true
		return nil, io.EOF
	case <-e.ctx.Done():
		err := e.wait()
		if e.out.producers.Load() == 0 {
			// The root finished: its output is complete and the channel
			// closed, whatever happened to producers it no longer needed.
			b, ok := <-e.out.chans[0]
			if ok {
				return b, nil
			}
			e.eof = true
			return nil, io.EOF
		}
		if err == nil {
			err = context.Cause(e.ctx)
		}
		return nil, sqlerr.As(err)
	case <-ctx.Done():
		return nil, sqlerr.As(ctx.Err())
	}
}

// Close cancels the execution, waits for every goroutine and releases
// every batch still in flight. It is idempotent.
func (e *Execution) Close() error {
	e.closeOnce.Do(func() {
		e.closed.Store(true)
		e.cancel()
		e.wait()
		for _, x := range e.exchanges {
			x.drain()
		}
		e.out.drain()
		e.pool.close()
	})
	return nil
}

// Stats returns per node ID figures summed over instances.
func (e *Execution) Stats() map[int]physical.OperatorStats {
	out := make(map[int]physical.OperatorStats, len(e.stats))
	for id, c := range e.stats {
		out[id] = physical.OperatorStats{Rows: c.Rows.Load(), Batches: c.Batches.Load(), Nanos: c.Nanos.Load()}
	}
	return out
}

// MemoryPeak is the most bytes the query held at once.
func (e *Execution) MemoryPeak() int64 { return e.mem.peak.Load() }
