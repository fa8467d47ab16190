package cluster

import (
	"context"
	"strings"
	"sync"

	"github.com/quarrydb/quarry/exec"
	"github.com/quarrydb/quarry/executor/clusterpb"
	"github.com/quarrydb/quarry/planner/physical"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// service serves clusterpb.Coordinator.
type service struct {
	clusterpb.UnimplementedCoordinatorServer
	m      *Membership
	splits *splitRegistry
}

func (s *service) Register(_ context.Context, req *clusterpb.RegisterRequest) (*clusterpb.RegisterResponse, error) {
	if req.Version != clusterpb.Version {
		return nil, status.Errorf(codes.FailedPrecondition, "executor speaks %q, this coordinator %q", req.Version, clusterpb.Version)
	}
	if req.Address == "" {
		return nil, status.Error(codes.InvalidArgument, "executor without an address")
	}
	n, err := s.m.register(req)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "executor address %q: %v", req.Address, err)
	}
	return &clusterpb.RegisterResponse{NodeId: n.ID, HeartbeatIntervalMs: s.m.Interval.Milliseconds()}, nil
}

func (s *service) Heartbeat(_ context.Context, req *clusterpb.HeartbeatRequest) (*clusterpb.HeartbeatResponse, error) {
	return &clusterpb.HeartbeatResponse{Known: s.m.heartbeat(req)}, nil
}

func (s *service) NextSplits(_ context.Context, req *clusterpb.SplitsRequest) (*clusterpb.SplitsResponse, error) {
	q := s.splits.get(req.QueryId, int(req.ScanId))
	if q == nil {
		// The query ended (or never had this scan): nothing to read.
		return &clusterpb.SplitsResponse{Done: true}, nil
	}
	sps, done := q.take(s.m.localPaths(req.NodeId), max(int(req.Max), 1))
	resp := &clusterpb.SplitsResponse{Done: done}
	for _, sp := range sps {
		resp.Splits = append(resp.Splits, &clusterpb.Split{File: int32(sp.File), RowGroup: int32(sp.RowGroup)})
	}
	return resp, nil
}

// splitRegistry holds the split queues of running queries.
type splitRegistry struct {
	mu     sync.Mutex
	queues map[string]map[int]*splitQueue // query → scan node → queue
}

func (r *splitRegistry) add(query string, plan *physical.Plan) {
	qs := map[int]*splitQueue{}
	for _, f := range plan.Fragments {
		physical.Walk(f.Root, func(n physical.Node) {
			if s, ok := n.(*physical.ParquetScan); ok {
				qs[s.ID] = newSplitQueue(s)
			}
		})
	}
	r.mu.Lock()
	r.queues[query] = qs
	r.mu.Unlock()
}

func (r *splitRegistry) remove(query string) {
	r.mu.Lock()
	delete(r.queues, query)
	r.mu.Unlock()
}

func (r *splitRegistry) get(query string, scan int) *splitQueue {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.queues[query][scan]
}

// splitQueue hands out the splits of one scan to all executors: in order,
// except that an executor declaring local paths first gets the splits of
// files under them.
type splitQueue struct {
	mu    sync.Mutex
	scan  *physical.ParquetScan
	all   []exec.Split
	taken []bool
	next  int // all before it are taken
	left  int
}

func newSplitQueue(s *physical.ParquetScan) *splitQueue {
	q := &splitQueue{scan: s}
	for fi, f := range s.Files {
		for _, rg := range f.RowGroups {
			q.all = append(q.all, exec.Split{File: fi, RowGroup: rg})
		}
	}
	q.taken = make([]bool, len(q.all))
	q.left = len(q.all)
	return q
}

func (q *splitQueue) take(prefixes []string, n int) ([]exec.Split, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []exec.Split
	if len(prefixes) > 0 {
		for i := q.next; i < len(q.all) && len(out) < n; i++ {
			if !q.taken[i] && underAny(q.scan.Files[q.all[i].File].Path, prefixes) {
				q.taken[i] = true
				q.left--
				out = append(out, q.all[i])
			}
		}
	}
	for ; q.next < len(q.all) && len(out) < n; q.next++ {
		if !q.taken[q.next] {
			q.taken[q.next] = true
			q.left--
			out = append(out, q.all[q.next])
		}
	}
	for q.next < len(q.all) && q.taken[q.next] {
		q.next++
	}
	return out, q.left == 0
}

func underAny(path string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}
