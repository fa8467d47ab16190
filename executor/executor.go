package executor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/executor/clusterpb"
	"github.com/quarrydb/quarry/flight/exchange"
	"google.golang.org/grpc"
)

// Config configures an executor process.
type Config struct {
	// Coordinator is the coordinator's cluster address (host:port).
	Coordinator string
	// Listen is where the executor serves tasks and Flight (host:port;
	// port 0 picks one). Advertise, if set, is the address given to the
	// coordinator instead of the listening one.
	Listen, Advertise string
	// Secret is the cluster's shared secret.
	Secret string
	// Threads is the number of fragment instances the executor runs per
	// parallel fragment (0: GOMAXPROCS).
	Threads int
	// MemoryLimit bounds each query's memory on this executor (0: none).
	MemoryLimit int64
	// LocalPaths are path prefixes this executor prefers to scan.
	LocalPaths []string
	// Compression of exchange streams it sends.
	Compression exchange.Compression
	// Alloc is the allocator batches come from (nil: the default).
	Alloc  memory.Allocator
	Logger *slog.Logger
}

// maxPlanBytes bounds a task request (its plan included).
const maxPlanBytes = 1 << 30

// Executor runs fragments for one coordinator.
type Executor struct {
	cfg    Config
	log    *slog.Logger
	lis    net.Listener
	srv    *grpc.Server
	client *exchange.Client
	coord  clusterpb.CoordinatorClient
	conn   *grpc.ClientConn
	tasks  *taskRegistry

	mu     sync.Mutex
	nodeID string
}

// New listens on cfg.Listen and connects (lazily) to the coordinator.
func New(cfg Config) (*Executor, error) {
	if cfg.Secret == "" {
		return nil, errors.New("executor: a cluster secret is required")
	}
	if cfg.Threads <= 0 {
		cfg.Threads = runtime.GOMAXPROCS(0)
	}
	if cfg.Alloc == nil {
		cfg.Alloc = memory.DefaultAllocator
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	lis, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("executor: listen: %w", err)
	}
	conn, err := grpc.NewClient(cfg.Coordinator, clusterpb.DialOptions(cfg.Secret)...)
	if err != nil {
		lis.Close()
		return nil, fmt.Errorf("executor: coordinator %s: %w", cfg.Coordinator, err)
	}
	x := &Executor{
		cfg:    cfg,
		log:    cfg.Logger.With("executor", lis.Addr().String()),
		lis:    lis,
		client: exchange.NewClient(clusterpb.DialOptions(cfg.Secret)...),
		coord:  clusterpb.NewCoordinatorClient(conn),
		conn:   conn,
		tasks:  newTaskRegistry(),
	}
	// Plans carry the rows of the in-memory tables their fragments read.
	x.srv = grpc.NewServer(append(clusterpb.ServerOptions(cfg.Secret), grpc.MaxRecvMsgSize(maxPlanBytes))...)
	clusterpb.RegisterExecutorServer(x.srv, &taskServer{x: x})
	flight.RegisterFlightServiceServer(x.srv, exchange.NewServer(x.tasks, exchange.ServerOptions{
		Compression: cfg.Compression, Alloc: cfg.Alloc,
		Trusted: clusterpb.Trusted, Key: clusterpb.TicketKey(cfg.Secret),
	}))
	return x, nil
}

// Addr is the address the executor serves on.
func (x *Executor) Addr() string {
	if x.cfg.Advertise != "" {
		return x.cfg.Advertise
	}
	return x.lis.Addr().String()
}

// NodeID is the node ID the coordinator gave this executor ("" before it
// registered).
func (x *Executor) NodeID() string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.nodeID
}

// Run serves until ctx ends: it registers with the coordinator, heartbeats,
// and registers again whenever the coordinator does not know it (it
// restarted, or gave this executor up as lost).
func (x *Executor) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- x.srv.Serve(x.lis) }()
	defer func() {
		x.srv.Stop()
		x.client.Close()
		x.conn.Close()
	}()
	interval := time.Second
	registered := false
	for {
		if !registered {
			resp, err := x.coord.Register(ctx, &clusterpb.RegisterRequest{
				Version:     clusterpb.Version,
				Address:     x.Addr(),
				Threads:     int32(x.cfg.Threads),
				MemoryLimit: x.cfg.MemoryLimit,
				LocalPaths:  x.cfg.LocalPaths,
			})
			switch {
			case err == nil:
				x.mu.Lock()
				x.nodeID = resp.NodeId
				x.mu.Unlock()
				if resp.HeartbeatIntervalMs > 0 {
					interval = time.Duration(resp.HeartbeatIntervalMs) * time.Millisecond
				}
				registered = true
				x.log.Info("registered with the coordinator", "coordinator", x.cfg.Coordinator, "node", resp.NodeId)
			case isPermanent(err):
				return fmt.Errorf("executor: the coordinator refused registration: %w", err)
			default:
				x.log.Debug("coordinator not reachable", "err", err)
			}
		} else {
			resp, err := x.coord.Heartbeat(ctx, &clusterpb.HeartbeatRequest{
				NodeId:           x.NodeID(),
				RunningFragments: int32(x.tasks.running()),
				MemoryUsed:       x.tasks.memoryUsed(),
			})
			if err == nil && !resp.Known {
				x.log.Info("the coordinator does not know this executor; registering again")
				registered = false
				continue
			}
			if err != nil {
				x.log.Debug("heartbeat failed", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case err := <-errc:
			return err
		case <-time.After(interval):
		}
	}
}
