package clustertest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/quarrydb/quarry/executor/clusterpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// TestCluster runs one coordinator and three single-threaded executors and
// checks, on that one cluster, what needs no executor to die: sys.nodes,
// the TPC-H answers, a failing fragment and the refusal of strangers.
func TestCluster(t *testing.T) {
	c := startCluster(t, 3)
	conn := c.connect(t)

	t.Run("nodes", func(t *testing.T) {
		ns := nodes(t, conn)
		if len(ns) != 4 {
			t.Errorf("sys.nodes has %d rows, want the coordinator and 3 executors: %v", len(ns), ns)
		}
		co, ok := ns["coordinator"]
		if !ok || co.Role != "coordinator" || co.State != "active" || co.Address == nil || *co.Address != c.clusterAddr {
			t.Errorf("coordinator row %+v, want role coordinator, active, address %s", co, c.clusterAddr)
		}
		for _, addr := range c.execAddrs {
			n, ok := ns[addr]
			switch {
			case !ok:
				t.Errorf("no row for executor %s", addr)
			case n.Role != "executor" || n.State != "active" || n.Threads != 1:
				t.Errorf("executor %s: role %q state %q threads %d, want executor, active, 1", addr, n.Role, n.State, n.Threads)
			case n.Address == nil || *n.Address != addr:
				t.Errorf("executor %s: address %v", addr, n.Address)
			case n.LastHeartbeat == nil || n.Registered == nil || n.LostAt != nil:
				t.Errorf("executor %s: last_heartbeat %v registered_at %v lost_at %v", addr, n.LastHeartbeat, n.Registered, n.LostAt)
			}
		}
	})

	t.Run("tpch", func(t *testing.T) {
		started := make([]int, len(c.executors))
		for i, x := range c.executors {
			started[i] = x.count("task started")
		}
		for _, sc := range []struct{ schema, sf string }{{"tpch", "sf0.01"}, {"tpch01", "sf0.1"}} {
			t.Run(sc.sf, func(t *testing.T) {
				setSchema(t, conn, sc.schema)
				for q := 1; q <= 22; q++ {
					t.Run(fmt.Sprintf("q%02d", q), func(t *testing.T) {
						checkTPCH(t, conn, q, sc.sf)
					})
				}
			})
		}
		// Every executor took part.
		for i, x := range c.executors {
			if n := x.count("task started") - started[i]; n < 22 {
				t.Errorf("%s ran %d tasks for the 44 queries, want at least 22", x.name, n)
			}
		}
	})

	t.Run("fragment error", func(t *testing.T) {
		for _, expr := range []string{"l_linenumber / (l_linenumber - l_linenumber)", "l_quantity / (l_linenumber - l_linenumber)"} {
			sql := "SELECT " + expr + " FROM tpch.lineitem"
			// The division runs on the executors, below the gather.
			explained := explain(t, conn, sql)
			if i := strings.Index(explained, "Fragment 0"); i < 0 || !strings.Contains(explained[i:], "div(") {
				t.Fatalf("the division is not in an executor's fragment:\n%s", explained)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			_, err := query(ctx, conn, sql)
			cancel()
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "22012" || !strings.Contains(pe.Message, "division by zero") {
				t.Errorf("%s: got %v, want 22012 division by zero", sql, err)
			}
		}
		// The cluster goes on serving, with all its executors.
		setSchema(t, conn, "tpch")
		checkTPCH(t, conn, 6, "sf0.01")
		for _, addr := range c.execAddrs {
			if n := nodes(t, conn)[addr]; n.State != "active" {
				t.Errorf("executor %s is %q after a failed query, want active", addr, n.State)
			}
		}
	})

	t.Run("strangers", func(t *testing.T) {
		t.Run("executor with a wrong secret", func(t *testing.T) {
			addr := freeAddr(t)
			start := time.Now()
			p := c.executorProc("stranger", addr, "not-"+secret, "--threads", "1")
			select {
			case <-p.done:
			case <-time.After(10 * time.Second):
				t.Fatalf("an executor with a wrong secret still runs after 10s:\n%s", p.output())
			}
			out := p.output()
			if p.err == nil {
				t.Errorf("the executor exited with status 0:\n%s", out)
			}
			if !strings.Contains(out, "refused registration") || !strings.Contains(out, "Unauthenticated") {
				t.Errorf("the executor's message does not say that registration was refused as unauthenticated:\n%s", out)
			}
			t.Logf("refused after %s", time.Since(start).Round(time.Millisecond))
			if _, listed := nodes(t, conn)[addr]; listed {
				t.Errorf("sys.nodes lists the stranger %s", addr)
			}
		})
		t.Run("grpc", func(t *testing.T) {
			register := func(opts []grpc.DialOption, version string) error {
				cc, err := grpc.NewClient(c.clusterAddr, opts...)
				if err != nil {
					t.Fatal(err)
				}
				defer cc.Close()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_, err = clusterpb.NewCoordinatorClient(cc).Register(ctx, &clusterpb.RegisterRequest{
					Version: version, Address: freeAddr(t), Threads: 1,
				})
				return err
			}
			plain := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
			if err := register(plain, clusterpb.Version); status.Code(err) != codes.Unauthenticated {
				t.Errorf("Register without the secret: %v, want Unauthenticated", err)
			}
			if err := register(clusterpb.DialOptions("not-"+secret), clusterpb.Version); status.Code(err) != codes.Unauthenticated {
				t.Errorf("Register with a wrong secret: %v, want Unauthenticated", err)
			}
			if err := register(clusterpb.DialOptions(secret), "other"); status.Code(err) != codes.FailedPrecondition {
				t.Errorf("Register of version \"other\": %v, want FailedPrecondition", err)
			}
			// An executor refuses tasks from strangers too.
			cc, err := grpc.NewClient(c.execAddrs[0], plain...)
			if err != nil {
				t.Fatal(err)
			}
			defer cc.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			stream, err := clusterpb.NewExecutorClient(cc).RunTask(ctx, &clusterpb.TaskRequest{QueryId: "stranger"})
			if err == nil {
				_, err = stream.Recv()
			}
			if status.Code(err) != codes.Unauthenticated {
				t.Errorf("RunTask without the secret: %v, want Unauthenticated", err)
			}
			// None of them joined.
			c.waitActive(3)
		})
	})
}

// explain returns the plan of sql as text.
func explain(t testing.TB, conn *pgx.Conn, sql string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := query(ctx, conn, "EXPLAIN "+sql)
	if err != nil {
		t.Fatalf("EXPLAIN %s: %v", sql, err)
	}
	var b strings.Builder
	for _, row := range r.rows {
		b.WriteString(strings.Join(row, " "))
		b.WriteByte('\n')
	}
	return b.String()
}
