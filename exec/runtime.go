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
	// Parallelism is 0 when Placement is nil; 0 means
	// runtime.GOMAXPROCS(0).
	Parallelism int
	// MemoryLimit is the most bytes the query may hold at once; 0 means
	// unlimited. Going over it fails the query with SQLSTATE 53200.
	MemoryLimit int64

	// Node names the node this execution runs on, and Placement where
	// every instance of every fragment runs: this execution runs the
	// instances placed on Node and exchanges batches with the others
	// through Transport. A nil Placement runs the whole plan here.
	Node      string
	Placement Placement
	Transport Transport
	// Splits returns where the local instances of a scan get their
	// splits; nil gives each scan a local SplitQueue over all its splits.
	Splits func(*physical.ParquetScan) (SplitSource, error)
}

// Stream is a running query's result as its consumer reads it.
type Stream interface {
	Schema() *arrow.Schema
	// Next returns the next batch, or io.EOF after the last; the caller
	// releases the batch.
	Next(ctx context.Context) (arrow.Record, error)
}

// Placement says where fragment instances run: Placement[f][i] is the
// node of instance i of fragment f. The root fragment has one instance.
type Placement map[int][]string

// LocalPlacement places every fragment of plan on node, with par instances
// of each parallel fragment (0: GOMAXPROCS) and one of the root.
func LocalPlacement(plan *physical.Plan, node string, par int) Placement {
	if par <= 0 {
		par = runtime.GOMAXPROCS(0)
	}
	pl := Placement{}
	root := plan.Root()
	for _, f := range plan.Fragments {
		n := f.Parallelism
		if n <= 0 {
			n = par
		}
		if f == root {
			n = 1
		}
		nodes := make([]string, n)
		for i := range nodes {
			nodes[i] = node
		}
		pl[f.ID] = nodes
	}
	return pl
}

// Uses reports whether some instance runs on node.
func (p Placement) Uses(node string) bool {
	for _, ns := range p {
		for _, n := range ns {
			if n == node {
				return true
			}
		}
	}
	return false
}

// Nodes returns the distinct nodes instances of fragment f run on, in
// order of their first instance.
func (p Placement) Nodes(f int) []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range p[f] {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// Transport opens the stream of one consumer partition of a fragment's
// output as produced by the instances on another node (that node's
// Execution.Outbox).
type Transport interface {
	Open(ctx context.Context, node string, fragment, partition int, alloc memory.Allocator) (Receiver, error)
}

// Execution is the part of a running plan that runs on one node: the
// fragment instances placed there, connected to each other by in-memory
// exchanges and to other nodes by the Transport.
type Execution struct {
	plan      *physical.Plan
	placement Placement
	node      string
	transport Transport
	schema    *arrow.Schema
	mem       *accountingAllocator
	pool      *poolAllocator

	ctx    context.Context
	cancel context.CancelFunc
	g      *errgroup.Group

	exchanges map[int]*exchange // by producer fragment ID, local producers only
	ports     map[int][]int     // by producer fragment ID: first channel of each port
	out       *exchange         // the root fragment's output, if the root is here
	scans     map[int]*scanShare
	stats     map[int][]*StatsCounter // by node ID, then instance (nil: not here)

	// drained is closed once every local exchange channel delivered its
	// end to a reader; undrained counts the others.
	drained   chan struct{}
	undrained atomic.Int64

	waitOnce  sync.Once
	waitErr   error
	closeOnce sync.Once
	closed    atomic.Bool
	eof       bool

	// inline is the root fragment of a plan that is nothing else: it runs
	// in the goroutine that calls Next, pulled batch by batch (no
	// goroutine, channel or stack growth per query for point queries).
	inline *inlineRoot
}

// inlineRoot is the state of a root fragment run by Next. mu keeps a
// Close from another goroutine (after cancelling) from closing operators
// that Next is running.
type inlineRoot struct {
	mu     sync.Mutex
	f      *physical.Fragment
	op     Operator
	opened bool
	done   bool
}

// chanReceiver reads one channel of an exchange. When the execution ends
// it still delivers what producers completed, and otherwise returns why
// the execution ended.
type chanReceiver struct {
	ch    <-chan arrow.Record
	ctx   context.Context // the execution's
	eof   func()          // called when the channel's end is delivered
	spool *spoolQueue     // refilled after every receive (shared outputs)
}

func (r chanReceiver) Next(ctx context.Context) (arrow.Record, error) {
	select {
	case b, ok := <-r.ch:
		return r.took(b, ok)
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-r.ctx.Done():
		select {
		case b, ok := <-r.ch:
			return r.took(b, ok)
		default:
		}
		return nil, sqlerr.As(context.Cause(r.ctx))
	}
}

func (r chanReceiver) took(b arrow.Record, ok bool) (arrow.Record, error) {
	if !ok {
		return nil, r.end()
	}
	if r.spool != nil {
		r.spool.refill()
	}
	return b, nil
}

func (r chanReceiver) end() error {
	if r.eof != nil {
		r.eof()
	}
	return io.EOF
}

// Run starts the fragment instances opts places on this node (all of plan
// when opts.Placement is nil) and returns the execution. When the root
// fragment runs here, Next returns its output. The caller must Close the
// execution.
func Run(ctx context.Context, plan *physical.Plan, opts Options) (*Execution, error) {
	if plan == nil || len(plan.Fragments) == 0 {
		return nil, sqlerr.New(sqlerr.InternalError, "exec: empty plan")
	}
	alloc := opts.Alloc
	if alloc == nil {
		alloc = memory.DefaultAllocator
	}
	placement := opts.Placement
	if placement == nil {
		if opts.Node == "" {
			opts.Node = "local"
		}
		placement = LocalPlacement(plan, opts.Node, opts.Parallelism)
	}
	pool := newPoolAllocator(alloc)
	e := &Execution{
		plan:      plan,
		placement: placement,
		node:      opts.Node,
		transport: opts.Transport,
		pool:      pool,
		mem:       newAccountingAllocator(pool, opts.MemoryLimit),
		exchanges: map[int]*exchange{},
		ports:     map[int][]int{},
		scans:     map[int]*scanShare{},
		stats:     map[int][]*StatsCounter{},
	}
	root := plan.Root()
	byID := map[int]*physical.Fragment{}
	local := map[int][]int{} // fragment → its instances placed here
	for _, f := range plan.Fragments {
		if _, dup := byID[f.ID]; dup {
			return nil, sqlerr.New(sqlerr.InternalError, "exec: duplicate fragment %d", f.ID)
		}
		byID[f.ID] = f
		nodes := placement[f.ID]
		if len(nodes) == 0 || (f == root && len(nodes) != 1) {
			return nil, sqlerr.New(sqlerr.InternalError, "exec: fragment %d has %d instances", f.ID, len(nodes))
		}
		for i, n := range nodes {
			if n == e.node {
				local[f.ID] = append(local[f.ID], i)
			} else if e.transport == nil {
				return nil, sqlerr.New(sqlerr.InternalError, "exec: fragment %d runs on node %q but there is no transport", f.ID, n)
			}
		}
		var walkErr error
		physical.Walk(f.Root, func(n physical.Node) {
			if _, dup := e.stats[n.NodeID()]; dup {
				walkErr = sqlerr.New(sqlerr.InternalError, "exec: duplicate node id %d", n.NodeID())
			}
			cs := make([]*StatsCounter, len(nodes))
			for _, i := range local[f.ID] {
				cs[i] = &StatsCounter{}
			}
			e.stats[n.NodeID()] = cs
			if s, ok := n.(*physical.ParquetScan); ok && len(local[f.ID]) > 0 {
				var src SplitSource = NewSplitQueue(s)
				if opts.Splits != nil {
					var err error
					if src, err = opts.Splits(s); err != nil {
						walkErr = err
						return
					}
				}
				e.scans[s.ID] = newScanShare(s, src)
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
		// Each port's consumer instances read consecutive channels.
		sizes := make([]int, len(f.Consumers()))
		first := make([]int, len(sizes))
		for p, c := range f.Consumers() {
			if _, ok := byID[c]; !ok || c == f.ID {
				return nil, sqlerr.New(sqlerr.InternalError, "exec: fragment %d sends to unknown fragment %d", f.ID, c)
			}
			sizes[p] = len(placement[c])
			if p > 0 {
				first[p] = first[p-1] + sizes[p-1]
			}
		}
		e.ports[f.ID] = first
		if len(local[f.ID]) > 0 {
			e.exchanges[f.ID] = newExchange(sizes, len(local[f.ID]))
		}
	}
	if len(local[root.ID]) > 0 {
		e.out = newExchange([]int{1}, 1)
	}
	e.drained = make(chan struct{})
	for _, x := range e.exchanges {
		e.undrained.Add(int64(len(x.chans)))
	}
	if e.undrained.Load() == 0 {
		close(e.drained)
	}
	e.schema = plan.Schema()
	e.ctx, e.cancel = context.WithCancel(ctx)
	e.g, e.ctx = errgroup.WithContext(e.ctx)

	if len(plan.Fragments) == 1 && len(local[root.ID]) == 1 {
		e.inline = &inlineRoot{f: root}
		return e, nil
	}
	for _, f := range plan.Fragments {
		x := e.out
		if f != root {
			x = e.exchanges[f.ID]
		}
		for _, i := range local[f.ID] {
			s := &sender{x: x, dist: f.Output, keys: f.OutputKeys, rr: i, mem: e.mem}
			if f == root {
				s.dist = physical.Gather
			}
			e.g.Go(func() error { return e.runInstance(f, i, len(placement[f.ID]), s) })
		}
	}
	return e, nil
}

// inbound returns what instance inst of fragment consumer receives from
// port port of fragment frag: that partition of every node's producers
// merged.
func (e *Execution) inbound(consumer, inst, frag, port int) (Receiver, error) {
	first, ok := e.ports[frag]
	if !ok || port < 0 || port >= len(first) || e.consumerOf(frag, port) != consumer || inst >= len(e.placement[consumer]) {
		return nil, sqlerr.New(sqlerr.InternalError, "exec: instance %d of fragment %d has no input from port %d of fragment %d", inst, consumer, port, frag)
	}
	ch := first[port] + inst
	var srcs []Receiver
	for _, n := range e.placement.Nodes(frag) {
		if n == e.node {
			srcs = append(srcs, e.receiver(e.exchanges[frag], ch))
			continue
		}
		r, err := e.transport.Open(e.ctx, n, frag, ch, e.mem)
		if err != nil {
			for _, s := range srcs {
				closeReceiver(s)
			}
			return nil, err
		}
		srcs = append(srcs, r)
	}
	if len(srcs) == 1 {
		return srcs[0], nil
	}
	return newMergeReceiver(e.ctx, srcs), nil
}

// consumerOf is the fragment reading port port of fragment frag.
func (e *Execution) consumerOf(frag, port int) int {
	for _, f := range e.plan.Fragments {
		if f.ID == frag {
			return f.Consumers()[port]
		}
	}
	return -1
}

// Outbox returns the batches the local instances of fragment frag produce
// for partition part (a consumer instance, numbered across the ports of a
// shared fragment), for a consumer on another node. Each partition may be
// read once.
func (e *Execution) Outbox(frag, part int) (Receiver, error) {
	x, ok := e.exchanges[frag]
	if !ok || part < 0 || part >= len(x.chans) {
		return nil, sqlerr.New(sqlerr.InternalError, "exec: node %q has no output of fragment %d for partition %d", e.node, frag, part)
	}
	var schema *arrow.Schema
	for _, f := range e.plan.Fragments {
		if f.ID == frag {
			schema = f.Root.Schema()
		}
	}
	return outboxReceiver{e.receiver(x, part), schema}, nil
}

// outboxReceiver is an outbox as Outbox hands it out: with the schema of
// its rows, for a reader that must announce it even when there are none.
type outboxReceiver struct {
	chanReceiver
	schema *arrow.Schema
}

// Schema is the schema of the outbox's rows.
func (o outboxReceiver) Schema() *arrow.Schema { return o.schema }

// receiver reads channel i of x, counting its end toward Drained.
func (e *Execution) receiver(x *exchange, i int) chanReceiver {
	r := chanReceiver{ch: x.chans[i], ctx: e.ctx, eof: func() {
		if x.ended[i].CompareAndSwap(false, true) && e.undrained.Add(-1) == 0 {
			close(e.drained)
		}
	}}
	if x.spool != nil {
		r.spool = &x.spool[i]
	}
	return r
}

// Drained is closed once every output of the local instances was read to
// its end (by consumers here or on other nodes).
func (e *Execution) Drained() <-chan struct{} { return e.drained }

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
	op, err = Build(f.Root, e.env(f.ID, inst, count))
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

// env is what the operators of instance inst (of count) of fragment frag
// build with.
func (e *Execution) env(frag, inst, count int) *Env {
	return &Env{
		Alloc:     e.mem,
		Instance:  inst,
		Instances: count,
		scans:     func(n *physical.ParquetScan) *scanShare { return e.scans[n.ID] },
		Inbound: func(src *physical.ExchangeSource) (Receiver, error) {
			return e.inbound(frag, inst, src.Fragment, src.Port)
		},
		Stats: func(id int) *StatsCounter {
			if cs := e.stats[id]; inst < len(cs) {
				return cs[inst]
			}
			return nil
		},
	}
}

// nextInline pulls the next batch of an inline root fragment.
func (e *Execution) nextInline(ctx context.Context) (b arrow.Record, err error) {
	r := e.inline
	r.mu.Lock()
	defer r.mu.Unlock()
	defer func() {
		if p := recover(); p != nil {
			err = recoverError(p)
		}
		if err != nil {
			e.closeInline()
			if errors.Is(err, io.EOF) {
				e.eof = true
			} else {
				err = sqlerr.As(err)
			}
		}
	}()
	if r.done {
		return nil, sqlerr.New(sqlerr.InternalError, "exec: Next after the execution failed")
	}
	if !r.opened {
		r.opened = true
		if r.op, err = Build(r.f.Root, e.env(r.f.ID, 0, 1)); err != nil {
			return nil, err
		}
		if err := r.op.Open(e.ctx); err != nil {
			return nil, err
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := e.ctx.Err(); err != nil {
			return nil, err
		}
		b, err := r.op.Next(e.ctx)
		if err != nil {
			return nil, err
		}
		if b.NumRows() > 0 {
			return b, nil
		}
		b.Release()
	}
}

// closeInline closes the inline root's operators once.
func (e *Execution) closeInline() {
	r := e.inline
	if r.done {
		return
	}
	r.done = true
	if r.op != nil {
		guard(r.op.Close)
	}
}

// Schema is the result schema with client-facing names.
func (e *Execution) Schema() *arrow.Schema { return e.schema }

// Wait waits until the instances on this node finished and returns the
// first error of any of them. Their output may still be buffered for
// consumers on other nodes until Close.
func (e *Execution) Wait() error { return e.wait() }

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
	if e.inline != nil {
		return e.nextInline(ctx)
	}
	if e.out == nil {
		return nil, sqlerr.New(sqlerr.InternalError, "exec: the root fragment does not run on node %q", e.node)
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
		if e.inline != nil {
			e.inline.mu.Lock()
			e.closeInline()
			e.inline.mu.Unlock()
		}
		for _, x := range e.exchanges {
			x.drain()
		}
		if e.out != nil {
			e.out.drain()
		}
		e.pool.close()
	})
	return nil
}

// Stats returns per plan node ID the figures of the instances on this
// node, summed and one by one.
func (e *Execution) Stats() map[int]physical.OperatorStats {
	out := make(map[int]physical.OperatorStats, len(e.stats))
	for id, cs := range e.stats {
		var st physical.OperatorStats
		for inst, c := range cs {
			if c == nil {
				continue
			}
			is := physical.InstanceStats{
				Node: e.node, Instance: inst,
				Rows: c.Rows.Load(), Batches: c.Batches.Load(), Bytes: c.Bytes.Load(), Nanos: c.Nanos.Load(),
			}
			st.Add(is)
		}
		if len(st.Instances) > 0 {
			out[id] = st
		}
	}
	return out
}

// MemoryUsed is the bytes the query holds now.
func (e *Execution) MemoryUsed() int64 { return e.mem.used.Load() }

// MemoryPeak is the most bytes the query held at once.
func (e *Execution) MemoryPeak() int64 { return e.mem.peak.Load() }
