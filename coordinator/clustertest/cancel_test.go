package clustertest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
)

// TestCancel cancels a long query running on three executors: the client
// gets 57014 within a second, and the executors report (in sys.nodes) no
// running fragment and no memory held.
func TestCancel(t *testing.T) {
	c := startCluster(t, 3)
	mon := c.connect(t)
	// On cancel, pgx sends a cancel request and reads the server's answer
	// (by default it would cut the connection instead).
	cfg := c.connConfig(t)
	cfg.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, DeadlineDelay: 10 * time.Second}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })

	// 600k × 150k rows to count: hours of work.
	const long = "SELECT count(*) FROM tpch01.lineitem, tpch01.orders"
	started := make([]int, len(c.executors))
	for i, x := range c.executors {
		started[i] = x.count("task started")
	}
	qctx, qcancel := context.WithCancel(context.Background())
	defer qcancel()
	errc := make(chan error, 1)
	begin := time.Now()
	go func() {
		var n int64
		errc <- conn.QueryRow(qctx, long).Scan(&n)
	}()

	// Cancel once it runs and holds memory on every executor, as sys.nodes
	// shows (from the next heartbeat on), and at least 300ms in.
	busy := func() bool {
		ns := nodes(t, mon)
		for _, addr := range c.execAddrs {
			if n := ns[addr]; n.Running == nil || *n.Running == 0 || n.MemoryUsed == nil || *n.MemoryUsed == 0 {
				return false
			}
		}
		return true
	}
	for !busy() || time.Since(begin) < 300*time.Millisecond {
		select {
		case err := <-errc:
			t.Fatalf("the long query ended after %s: %v", time.Since(begin), err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Since(begin) > 10*time.Second {
			t.Fatalf("sys.nodes shows an executor without running fragments or memory 10s into the query: %+v", nodes(t, mon))
		}
	}
	for i, x := range c.executors {
		if x.count("task started") == started[i] {
			t.Errorf("%s started no task of the long query", x.name)
		}
	}
	canceled := time.Now()
	qcancel()
	select {
	case err := <-errc:
		took := time.Since(canceled)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "57014" {
			t.Fatalf("cancelled query: %v, want SQLSTATE 57014", err)
		}
		if took > 1500*time.Millisecond {
			t.Errorf("the query ended %s after the cancel, want about 1s at most", took)
		}
		t.Logf("57014 %s after the cancel", took.Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Fatal("no answer 10s after the cancel")
	}

	// The executors let go of the query: nothing runs and no memory is
	// held, as their next heartbeats report.
	idle := func() (map[string]node, bool) {
		ns := nodes(t, mon)
		for _, addr := range c.execAddrs {
			n := ns[addr]
			if n.State != "active" || n.Running == nil || *n.Running != 0 || n.MemoryUsed == nil || *n.MemoryUsed != 0 {
				return ns, false
			}
		}
		return ns, true
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		ns, ok := idle()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			for _, addr := range c.execAddrs {
				n := ns[addr]
				t.Errorf("executor %s 5s after the cancel: state %s, running_fragments %v, memory_used %v",
					addr, n.State, deref(n.Running), deref(n.MemoryUsed))
			}
			return
		}
	}
	for _, x := range c.executors {
		if s, f := x.count("task started"), x.count("task finished"); s != f {
			t.Errorf("%s logged %d tasks started but %d finished", x.name, s, f)
		}
	}
	// The connection goes on.
	var one int64
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM tpch.nation").Scan(&one); err != nil || one != 25 {
		t.Errorf("after the cancel: %d, %v", one, err)
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
