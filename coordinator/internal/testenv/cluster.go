package testenv

import (
	"context"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/quarrydb/quarry/coordinator/cluster"
	"github.com/quarrydb/quarry/executor"
)

// ClusterSecret is the secret of the clusters StartCluster starts.
const ClusterSecret = "test-secret"

// StartCluster starts a cluster endpoint and n executors of threads
// each, all in this process but talking gRPC and Flight over loopback,
// waits until they registered, and stops them when t ends.
func StartCluster(t testing.TB, n, threads int) *cluster.Cluster {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	cl, err := cluster.Listen(cluster.Config{Addr: "127.0.0.1:0", Secret: ClusterSecret, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); cl.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		cl.Close()
	})
	for range n {
		x, err := executor.New(executor.Config{Coordinator: cl.Addr(), Listen: "127.0.0.1:0", Secret: ClusterSecret, Threads: threads, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); x.Run(ctx) }()
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		active := 0
		for _, nd := range cl.Membership().Nodes() {
			if nd.State == cluster.StateActive {
				active++
			}
		}
		if active == n {
			return cl
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d executors registered", active, n)
		}
	}
}
