package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/quarrydb/quarry/executor/clusterpb"
	"github.com/quarrydb/quarry/flight/exchange"
	"google.golang.org/grpc"
)

// Config configures the coordinator's cluster endpoint.
type Config struct {
	// Addr is where executors reach the coordinator (host:port).
	Addr string
	// Secret is the cluster's shared secret.
	Secret string
	// Retries is how many times a query runs again on the survivors after
	// losing an executor (0: DefaultRetries; negative: never).
	Retries int
	Logger  *slog.Logger
}

// DefaultRetries is how many times a query is run again after executor
// losses.
const DefaultRetries = 2

// CoordinatorNode is the node the root fragment runs on.
const CoordinatorNode = "coordinator"

// Cluster is the coordinator's view of and access to its executors.
type Cluster struct {
	cfg    Config
	log    *slog.Logger
	m      *Membership
	splits *splitRegistry
	client *exchange.Client
	lis    net.Listener
	srv    *grpc.Server
	prefix string // of query IDs, unique per coordinator start
}

// Listen opens the cluster endpoint; Serve serves it.
func Listen(cfg Config) (*Cluster, error) {
	if cfg.Secret == "" {
		return nil, errors.New("cluster: a cluster secret is required (--cluster-secret or QUARRY_CLUSTER_SECRET)")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	switch {
	case cfg.Retries == 0:
		cfg.Retries = DefaultRetries
	case cfg.Retries < 0:
		cfg.Retries = 0
	}
	lis, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("cluster: listen: %w", err)
	}
	var id [6]byte
	rand.Read(id[:])
	dial := clusterpb.DialOptions(cfg.Secret)
	c := &Cluster{
		cfg:    cfg,
		log:    cfg.Logger,
		m:      NewMembership(dial),
		splits: &splitRegistry{queues: map[string]map[int]*splitQueue{}},
		client: exchange.NewClient(dial...),
		lis:    lis,
		srv:    grpc.NewServer(clusterpb.ServerOptions(cfg.Secret)...),
		prefix: hex.EncodeToString(id[:]),
	}
	clusterpb.RegisterCoordinatorServer(c.srv, &service{m: c.m, splits: c.splits})
	return c, nil
}

// Addr is the address the cluster endpoint listens on.
func (c *Cluster) Addr() string { return c.lis.Addr().String() }

// Membership returns the executors' membership.
func (c *Cluster) Membership() *Membership { return c.m }

// Serve serves executors until ctx ends, and gives up executors whose
// heartbeats stop.
func (c *Cluster) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- c.srv.Serve(c.lis) }()
	t := time.NewTicker(c.m.Interval / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errc:
			return err
		case now := <-t.C:
			for _, id := range c.m.reap(now) {
				c.log.Warn("executor lost: no heartbeat", "executor", id, "timeout", c.m.Timeout)
			}
		}
	}
}

// Close stops serving and closes connections.
func (c *Cluster) Close() {
	c.srv.Stop()
	c.client.Close()
	c.m.Close()
}
