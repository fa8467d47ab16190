package executor

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/exec"
	"github.com/quarrydb/quarry/executor/clusterpb"
	"github.com/quarrydb/quarry/flight/exchange"
	"github.com/quarrydb/quarry/planner/physical"
	"github.com/quarrydb/quarry/planner/physical/planpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// outboxWait bounds how long a consumer waits for a producer's task to
// arrive: tasks of one query are started on all nodes at once, so a
// consumer can ask before the producer heard of the query.
const outboxWait = 30 * time.Second

// taskRegistry holds the running tasks of this executor by query ID.
type taskRegistry struct {
	mu      sync.Mutex
	tasks   map[string]*exec.Execution
	arrived map[string]chan struct{} // closed when the query's task registers
}

func newTaskRegistry() *taskRegistry {
	return &taskRegistry{tasks: map[string]*exec.Execution{}, arrived: map[string]chan struct{}{}}
}

func (r *taskRegistry) waitChan(query string) chan struct{} {
	c, ok := r.arrived[query]
	if !ok {
		c = make(chan struct{})
		r.arrived[query] = c
	}
	return c
}

func (r *taskRegistry) add(query string, x *exec.Execution) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.tasks[query]; dup {
		return sqlerr.New(sqlerr.InternalError, "query %s already has a task here", query)
	}
	r.tasks[query] = x
	close(r.waitChan(query))
	return nil
}

func (r *taskRegistry) remove(query string) {
	r.mu.Lock()
	delete(r.tasks, query)
	delete(r.arrived, query)
	r.mu.Unlock()
}

// Outbox implements exchange.Outboxes.
func (r *taskRegistry) Outbox(ctx context.Context, query string, fragment, partition int) (exchange.Stream, error) {
	r.mu.Lock()
	x, ok := r.tasks[query]
	c := r.waitChan(query)
	r.mu.Unlock()
	if !ok {
		t := time.NewTimer(outboxWait)
		defer t.Stop()
		var err error
		select {
		case <-c:
		case <-ctx.Done():
			err = ctx.Err()
		case <-t.C:
			err = sqlerr.New(sqlerr.InternalError, "query %s has no task on this executor", query)
		}
		r.mu.Lock()
		x, ok = r.tasks[query]
		if !ok && r.arrived[query] == c {
			// Nobody registered: forget the wait so it does not pile up.
			select {
			case <-c:
			default:
				delete(r.arrived, query)
			}
		}
		r.mu.Unlock()
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, sqlerr.New(sqlerr.QueryCanceled, "query %s ended on this executor", query)
		}
	}
	return x.Outbox(fragment, partition)
}

func (r *taskRegistry) running() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.tasks)
}

func (r *taskRegistry) memoryUsed() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var n int64
	for _, x := range r.tasks {
		n += x.MemoryUsed()
	}
	return n
}

// taskServer serves clusterpb.Executor.
type taskServer struct {
	clusterpb.UnimplementedExecutorServer
	x *Executor
}

// RunTask runs the instances placed on this executor and reports how they
// ended; their outputs stay readable until the coordinator ends the call.
func (s *taskServer) RunTask(req *clusterpb.TaskRequest, stream clusterpb.Executor_RunTaskServer) error {
	x := s.x
	ctx := stream.Context()
	plan, err := planpb.Unmarshal(req.Plan, x.cfg.Alloc)
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "decoding the plan: %v", err)
	}
	defer plan.Release()
	placement := exec.Placement{}
	for _, fp := range req.Placement {
		placement[int(fp.Fragment)] = fp.Nodes
	}
	tr := NewTransport(x.client, req.QueryId, req.Addresses)
	memLimit := req.MemoryLimit
	if x.cfg.MemoryLimit > 0 && (memLimit <= 0 || x.cfg.MemoryLimit < memLimit) {
		memLimit = x.cfg.MemoryLimit
	}
	run, err := exec.Run(ctx, plan, exec.Options{
		Alloc:       x.cfg.Alloc,
		MemoryLimit: memLimit,
		Node:        req.NodeId,
		Placement:   placement,
		Transport:   tr,
		Splits: func(scan *physical.ParquetScan) (exec.SplitSource, error) {
			return &remoteSplits{coord: x.coord, query: req.QueryId, scan: scan.ID, node: req.NodeId}, nil
		},
	})
	if err != nil {
		return finish(stream, nil, err, tr)
	}
	defer run.Close()
	if err := x.tasks.add(req.QueryId, run); err != nil {
		return finish(stream, run, err, tr)
	}
	defer x.tasks.remove(req.QueryId)
	if err := stream.Send(&clusterpb.TaskEvent{Event: &clusterpb.TaskEvent_Started{Started: &clusterpb.Started{}}}); err != nil {
		return err
	}
	start := time.Now()
	x.log.Debug("task started", "query", req.QueryId)
	werr := run.Wait()
	if werr == nil && req.ServeClients {
		// Clients read the output from here: the task is done when they
		// have read it all.
		select {
		case <-run.Drained():
		case <-ctx.Done():
		}
	}
	x.log.Debug("task finished", "query", req.QueryId, "elapsed", time.Since(start), "err", werr)
	if werr != nil && ctx.Err() != nil {
		// The coordinator ended the query; nobody listens.
		return nil
	}
	if err := finish(stream, run, werr, tr); err != nil {
		return err
	}
	// Consumers may still be reading buffered output.
	<-ctx.Done()
	return nil
}

func finish(stream clusterpb.Executor_RunTaskServer, run *exec.Execution, err error, tr *Transport) error {
	f := &clusterpb.Finished{}
	if run != nil {
		for id, st := range run.Stats() {
			for _, is := range st.Instances {
				f.Stats = append(f.Stats, &clusterpb.OperatorStats{
					Node: int32(id), Instance: int32(is.Instance),
					Rows: is.Rows, Batches: is.Batches, Bytes: is.Bytes, Nanos: is.Nanos,
				})
			}
		}
		f.MemoryPeak = run.MemoryPeak()
	}
	if err != nil {
		e := sqlerr.As(err)
		f.Sqlstate, f.Message = e.Code, e.Msg
		if lost := tr.Lost(); len(lost) > 0 {
			f.LostNode = lost[0]
		}
	}
	return stream.Send(&clusterpb.TaskEvent{Event: &clusterpb.TaskEvent_Finished{Finished: f}})
}

// remoteSplits takes a scan's splits from the coordinator, a few at a time
// so that a slow executor leaves more to the others.
type remoteSplits struct {
	coord clusterpb.CoordinatorClient
	query string
	scan  int
	node  string

	mu      sync.Mutex
	pending []exec.Split
	done    bool
}

// splitBatch is how many splits one request asks for.
const splitBatch = 2

func (r *remoteSplits) Take(ctx context.Context) (exec.Split, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.pending) == 0 {
		if r.done {
			return exec.Split{}, false, nil
		}
		resp, err := r.coord.NextSplits(ctx, &clusterpb.SplitsRequest{QueryId: r.query, ScanId: int32(r.scan), NodeId: r.node, Max: splitBatch})
		if err != nil {
			if ctx.Err() != nil {
				return exec.Split{}, false, ctx.Err()
			}
			return exec.Split{}, false, sqlerr.New(exchange.ConnectionFailure, "taking splits from the coordinator: %v", err)
		}
		for _, sp := range resp.Splits {
			r.pending = append(r.pending, exec.Split{File: int(sp.File), RowGroup: int(sp.RowGroup)})
		}
		r.done = resp.Done
	}
	sp := r.pending[0]
	r.pending = r.pending[1:]
	return sp, true, nil
}

func isPermanent(err error) bool {
	switch status.Code(err) {
	case codes.Unauthenticated, codes.PermissionDenied, codes.FailedPrecondition:
		return true
	}
	return errors.Is(err, context.Canceled)
}
