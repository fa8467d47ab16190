// Package cluster is the coordinator's side of distributed execution: it
// keeps the membership of executors (registration, heartbeats, loss),
// serves their control-plane calls (clusterpb.Coordinator), hands out
// scan splits, and runs queries on them — placing fragment instances,
// sending tasks, running the root fragment itself, and running a query
// again on the survivors when an executor is lost before any row reached
// the client.
package cluster

import (
	"sort"
	"sync"
	"time"

	"github.com/quarrydb/quarry/executor/clusterpb"
	"google.golang.org/grpc"
)

// Node states as sys.nodes shows them.
const (
	StateActive = "active"
	StateLost   = "lost"
)

// Node is one executor as the coordinator knows it.
type Node struct {
	ID          string
	Address     string
	Threads     int
	MemoryLimit int64
	LocalPaths  []string
	State       string
	Registered  time.Time
	// LastHeartbeat is when the executor last reported; Running and
	// MemoryUsed are what it reported then.
	LastHeartbeat time.Time
	Running       int
	MemoryUsed    int64
	// Lost is when the coordinator gave the executor up (zero if active).
	Lost time.Time

	conn   *grpc.ClientConn
	client clusterpb.ExecutorClient
}

// Membership tracks the executors of a cluster.
type Membership struct {
	// Interval is how often executors heartbeat; an executor silent for
	// Timeout is lost.
	Interval, Timeout time.Duration
	dialOpts          []grpc.DialOption

	mu    sync.Mutex
	nodes map[string]*Node // by ID (the executor's address)
}

// NewMembership tracks executors, dialling them with dialOpts.
func NewMembership(dialOpts []grpc.DialOption) *Membership {
	return &Membership{
		Interval: time.Second,
		Timeout:  3 * time.Second,
		dialOpts: dialOpts,
		nodes:    map[string]*Node{},
	}
}

// register adds or revives the executor at req.Address.
func (m *Membership) register(req *clusterpb.RegisterRequest) (*Node, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	// A fresh connection each time: an executor registering again at the
	// same address is a new process, which the old connection would only
	// reach after its reconnect backoff.
	conn, err := grpc.NewClient(req.Address, m.dialOpts...)
	if err != nil {
		return nil, err
	}
	n, ok := m.nodes[req.Address]
	if ok {
		n.conn.Close()
	} else {
		n = &Node{ID: req.Address, Address: req.Address}
		m.nodes[n.ID] = n
	}
	n.conn, n.client = conn, clusterpb.NewExecutorClient(conn)
	n.Threads = max(int(req.Threads), 1)
	n.MemoryLimit = req.MemoryLimit
	n.LocalPaths = req.LocalPaths
	n.State = StateActive
	n.Registered, n.LastHeartbeat, n.Lost = now, now, time.Time{}
	n.Running, n.MemoryUsed = 0, 0
	return n, nil
}

// heartbeat records a heartbeat; false when the executor must register
// (again).
func (m *Membership) heartbeat(req *clusterpb.HeartbeatRequest) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.nodes[req.NodeId]
	if !ok || n.State != StateActive {
		return false
	}
	n.LastHeartbeat = time.Now()
	n.Running = int(req.RunningFragments)
	n.MemoryUsed = req.MemoryUsed
	return true
}

// MarkLost gives up an executor (its heartbeats stopped or a query lost
// its streams); it is used again once it registers anew.
func (m *Membership) MarkLost(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n, ok := m.nodes[id]; ok && n.State == StateActive {
		n.State = StateLost
		n.Lost = time.Now()
	}
}

// reap marks executors lost whose heartbeats stopped and returns them.
func (m *Membership) reap(now time.Time) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var lost []string
	for _, n := range m.nodes {
		if n.State == StateActive && now.Sub(n.LastHeartbeat) > m.Timeout {
			n.State = StateLost
			n.Lost = now
			lost = append(lost, n.ID)
		}
	}
	return lost
}

// localPaths returns the path prefixes executor id declared local.
func (m *Membership) localPaths(id string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n, ok := m.nodes[id]; ok {
		return n.LocalPaths
	}
	return nil
}

// Nodes returns a snapshot of every executor ever registered, by ID.
func (m *Membership) Nodes() []Node {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Node, 0, len(m.nodes))
	for _, n := range m.nodes {
		out = append(out, *n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// active returns the active executors, by ID.
func (m *Membership) active() []*Node {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*Node
	for _, n := range m.nodes {
		if n.State == StateActive {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Threads is the number of instances a parallel fragment runs with over
// the active executors.
func (m *Membership) Threads() int {
	t := 0
	for _, n := range m.active() {
		t += n.Threads
	}
	return t
}

// Close closes the connections to the executors.
func (m *Membership) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range m.nodes {
		n.conn.Close()
	}
}
