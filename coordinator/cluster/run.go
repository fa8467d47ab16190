package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/exec"
	"github.com/quarrydb/quarry/executor"
	"github.com/quarrydb/quarry/executor/clusterpb"
	"github.com/quarrydb/quarry/flight/exchange"
	"github.com/quarrydb/quarry/planner/physical"
	"github.com/quarrydb/quarry/planner/physical/planpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// NoExecutors is the SQLSTATE (PostgreSQL's cannot_connect_now) of a
// query that finds no active executor.
const NoExecutors = "57P03"

var querySeq atomic.Int64

// settleWait bounds how long a failed attempt waits for the executors'
// reports.
const settleWait = time.Second

// Run executes plan on the active executors; the root fragment runs here.
// opts supplies the allocator and memory limit. Until the first batch
// reaches the caller, the loss of an executor makes the query run again on
// the survivors.
func (c *Cluster) Run(ctx context.Context, plan *physical.Plan, opts exec.Options) (*Run, error) {
	encoded, err := marshalForExecutors(plan)
	if err != nil {
		return nil, sqlerr.Wrap(sqlerr.InternalError, err, "encoding the plan")
	}
	r := &Run{c: c, plan: plan, encoded: encoded, opts: opts, retries: c.cfg.Retries}
	if err := r.start(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// marshalForExecutors encodes plan for the executors, without the rows of
// in-memory tables read by the root fragment: only the coordinator runs
// it, and those rows can be many.
func marshalForExecutors(plan *physical.Plan) ([]byte, error) {
	type held struct {
		v       *physical.Values
		batches []arrow.Record
	}
	var kept []held
	physical.Walk(plan.Root().Root, func(n physical.Node) {
		if v, ok := n.(*physical.Values); ok && len(v.Batches) > 0 {
			kept = append(kept, held{v, v.Batches})
			v.Batches = nil
		}
	})
	defer func() {
		for _, h := range kept {
			h.v.Batches = h.batches
		}
	}()
	return planpb.Marshal(plan)
}

// Run is a query running on the cluster. Next, Close, Stats and Schema
// have exec.Execution's contracts.
type Run struct {
	c         *Cluster
	plan      *physical.Plan
	encoded   []byte
	opts      exec.Options
	retries   int
	delivered bool
	cur       atomic.Pointer[attempt] // read by MemoryUsed from other goroutines
	stats     map[int]physical.OperatorStats
	peak      int64
}

// attempt is one try at running the query.
type attempt struct {
	query  string
	ctx    context.Context
	cancel context.CancelFunc
	root   *exec.Execution
	tr     *executor.Transport
	wg     sync.WaitGroup
	tasks  []*task

	addrs map[string]string // of the executors, by node

	mu      sync.Mutex
	failure error           // the first error an executor reported
	lost    map[string]bool // executors whose task stream broke
}

// task is the part of an attempt one executor runs.
type task struct {
	node     *Node
	finished chan struct{} // closed at Finished or when the stream ended
	result   *clusterpb.Finished
}

func (r *Run) start(ctx context.Context) error {
	a, placement, err := r.c.launch(ctx, r.plan, r.encoded, r.opts.MemoryLimit, false)
	if err != nil {
		return err
	}
	root, err := exec.Run(a.ctx, r.plan, exec.Options{
		Alloc:       r.opts.Alloc,
		MemoryLimit: r.opts.MemoryLimit,
		Node:        CoordinatorNode,
		Placement:   placement,
		Transport:   a.tr,
	})
	if err != nil {
		a.end()
		r.c.splits.remove(a.query)
		return err
	}
	a.root = root
	r.cur.Store(a)
	return nil
}

// launch places plan on the active executors and starts their tasks (the
// root fragment is the caller's to run, if at all).
func (c *Cluster) launch(ctx context.Context, plan *physical.Plan, encoded []byte, memLimit int64, serveClients bool) (*attempt, exec.Placement, error) {
	nodes := c.m.active()
	if len(nodes) == 0 && len(plan.Fragments) > 1 {
		return nil, nil, sqlerr.New(NoExecutors, "no executor is available to run the query (start one with quarry executor --coordinator %s)", c.Addr())
	}
	placement, addrs := place(plan, nodes)
	a := &attempt{query: fmt.Sprintf("%s-%d", c.prefix, querySeq.Add(1)), lost: map[string]bool{}, addrs: addrs}
	a.ctx, a.cancel = context.WithCancel(ctx)
	a.tr = executor.NewTransport(c.client, a.query, addrs)
	c.splits.add(a.query, plan)
	var fps []*clusterpb.FragmentPlacement
	for f, ns := range placement {
		fps = append(fps, &clusterpb.FragmentPlacement{Fragment: int32(f), Nodes: ns})
	}
	for _, n := range nodes {
		if !placement.Uses(n.ID) {
			continue
		}
		t := &task{node: n, finished: make(chan struct{})}
		a.tasks = append(a.tasks, t)
		req := &clusterpb.TaskRequest{QueryId: a.query, Plan: encoded, Placement: fps, NodeId: n.ID, Addresses: addrs,
			MemoryLimit: memLimit, ServeClients: serveClients}
		a.wg.Add(1)
		go c.watch(a, t, req)
	}
	return a, placement, nil
}

// place runs the root fragment on the coordinator and spreads every other
// fragment over nodes: parallel fragments get each executor's thread count
// of instances, others their instances in turn.
func place(plan *physical.Plan, nodes []*Node) (exec.Placement, map[string]string) {
	pl := exec.Placement{}
	addrs := map[string]string{}
	for _, n := range nodes {
		addrs[n.ID] = n.Address
	}
	root := plan.Root()
	turn := 0
	for _, f := range plan.Fragments {
		var ns []string
		switch {
		case f == root:
			ns = []string{CoordinatorNode}
		case f.Parallelism <= 0:
			for _, n := range nodes {
				for range n.Threads {
					ns = append(ns, n.ID)
				}
			}
		default:
			for range f.Parallelism {
				ns = append(ns, nodes[turn%len(nodes)].ID)
				turn++
			}
		}
		pl[f.ID] = ns
	}
	return pl, addrs
}

// watch runs one executor's task and records how it ended.
func (c *Cluster) watch(a *attempt, t *task, req *clusterpb.TaskRequest) {
	defer a.wg.Done()
	defer func() {
		select {
		case <-t.finished:
		default:
			close(t.finished)
		}
	}()
	stream, err := t.node.client.RunTask(a.ctx, req)
	if err != nil {
		a.streamBroke(t.node.ID, err)
		return
	}
	for {
		ev, err := stream.Recv()
		if err != nil {
			a.streamBroke(t.node.ID, err)
			return
		}
		if f := ev.GetFinished(); f != nil {
			t.result = f
			close(t.finished)
			if f.Sqlstate != "" {
				a.failed(t.node.ID, f)
			}
		}
	}
}

// streamBroke records why the task call to node ended early: the executor
// is gone (even if the attempt ended meanwhile: the next one must avoid
// it), or it refused the task.
func (a *attempt) streamBroke(node string, err error) {
	a.mu.Lock()
	switch {
	case status.Code(err) == codes.Unavailable:
		a.lost[node] = true
	case a.ctx.Err() != nil:
		// The attempt was ended here; the call's end is a consequence.
	case a.failure == nil:
		a.failure = sqlerr.New(sqlerr.InternalError, "executor %s: %v", node, status.Convert(err).Message())
	}
	a.mu.Unlock()
	a.cancel()
}

// settle waits, up to wait, until every executor reported how its task
// ended, so that a loss is known before the attempt is judged.
func (a *attempt) settle(wait time.Duration) {
	timeout := time.NewTimer(wait)
	defer timeout.Stop()
	for _, t := range a.tasks {
		select {
		case <-t.finished:
		case <-timeout.C:
			return
		}
	}
}

func (a *attempt) failed(node string, f *clusterpb.Finished) {
	a.mu.Lock()
	if f.LostNode != "" {
		a.lost[f.LostNode] = true
	}
	// A consequence of the query's end (a canceled or cut-off peer) is
	// not its cause.
	if a.failure == nil && f.Sqlstate != sqlerr.QueryCanceled && f.Sqlstate != exchange.ConnectionFailure {
		a.failure = &sqlerr.Error{Code: f.Sqlstate, Msg: f.Message}
	}
	a.mu.Unlock()
	a.cancel()
}

// end cancels the attempt and waits for its task calls to end.
func (a *attempt) end() {
	a.cancel()
	a.wg.Wait()
	if a.root != nil {
		a.root.Close()
	}
}

// lostNodes returns the executors the attempt lost.
func (a *attempt) lostNodes() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, n := range a.tr.Lost() {
		a.lost[n] = true
	}
	var out []string
	for n := range a.lost {
		out = append(out, n)
	}
	return out
}

// Schema is the result schema.
func (r *Run) Schema() *arrow.Schema { return r.plan.Schema() }

// Next returns the next result batch or io.EOF.
func (r *Run) Next(ctx context.Context) (arrow.Record, error) {
	for {
		a := r.cur.Load()
		if a == nil {
			return nil, sqlerr.New(sqlerr.InternalError, "cluster: Next on a finished query")
		}
		b, err := a.root.Next(ctx)
		if err == nil {
			r.delivered = true
			return b, nil
		}
		if errors.Is(err, io.EOF) {
			r.collect(a)
			return nil, io.EOF
		}
		if ctx.Err() != nil {
			return nil, sqlerr.As(ctx.Err())
		}
		if code := sqlerr.As(err).Code; code == exchange.ConnectionFailure || code == sqlerr.QueryCanceled {
			// Relayed or induced by a loss elsewhere: let the executors'
			// reports arrive (they name the lost node) before judging.
			a.settle(settleWait)
		}
		a.end()
		r.c.splits.remove(a.query)
		r.cur.Store(nil)
		lost := a.lostNodes()
		for _, n := range lost {
			r.c.m.MarkLost(n)
			r.c.log.Warn("executor lost during a query", "executor", n, "query", a.query)
		}
		a.mu.Lock()
		failure := a.failure
		a.mu.Unlock()
		lossLike := len(lost) > 0 || (failure == nil && sqlerr.As(err).Code == exchange.ConnectionFailure)
		if lossLike && !r.delivered && r.retries > 0 {
			r.retries--
			r.c.log.Info("running the query again on the remaining executors", "query", a.query, "lost", lost)
			if err := r.start(ctx); err != nil {
				return nil, err
			}
			continue
		}
		switch {
		case failure != nil:
			return nil, failure
		case len(lost) > 0:
			return nil, sqlerr.New(exchange.ConnectionFailure, "lost executor %v while the query ran", lost)
		}
		return nil, sqlerr.As(err)
	}
}

// collect gathers the executors' figures once the result is complete.
func (r *Run) collect(a *attempt) {
	timeout := time.NewTimer(5 * time.Second)
	defer timeout.Stop()
	stats := a.root.Stats()
	peak := a.root.MemoryPeak()
	for _, t := range a.tasks {
		select {
		case <-t.finished:
		case <-timeout.C:
		}
		if t.result == nil {
			continue
		}
		peak += t.result.MemoryPeak
		t.addStats(stats)
	}
	r.stats, r.peak = stats, peak
}

// addStats adds the figures the task's executor reported to stats.
func (t *task) addStats(stats map[int]physical.OperatorStats) {
	if t.result == nil {
		return
	}
	for _, s := range t.result.Stats {
		st := stats[int(s.Node)]
		st.Add(physical.InstanceStats{
			Node: t.node.ID, Instance: int(s.Instance),
			Rows: s.Rows, Batches: s.Batches, Bytes: s.Bytes, Nanos: s.Nanos,
		})
		stats[int(s.Node)] = st
	}
}

// Stats are the operators' figures summed over all executors (complete
// after Next returned io.EOF).
func (r *Run) Stats() map[int]physical.OperatorStats { return r.stats }

// MemoryPeak is the sum of the executors' and the coordinator's peaks.
func (r *Run) MemoryPeak() int64 { return r.peak }

// MemoryUsed is what the coordinator's part of the query holds now.
func (r *Run) MemoryUsed() int64 {
	if a := r.cur.Load(); a != nil && a.root != nil {
		return a.root.MemoryUsed()
	}
	return 0
}

// Close ends the query on every executor.
func (r *Run) Close() error {
	if a := r.cur.Swap(nil); a != nil {
		a.end()
		r.c.splits.remove(a.query)
	}
	return nil
}
