package clustertest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestExecutorLoss kills an executor (kill -9) while TPC-H Q9 runs at scale
// 0.1: the query runs again on the survivors and answers correctly, the
// executor shows as lost, and once restarted on the same address it is
// active again and takes part in queries.
func TestExecutorLoss(t *testing.T) {
	c := startCluster(t, 3)
	conn := c.connect(t) // runs the queries
	mon := c.connect(t)  // reads sys.nodes
	setSchema(t, conn, "tpch01")
	sql, answer := tpchQuery(t, 9, "sf0.1")
	const victim = 0
	addr := c.execAddrs[victim]

	type outcome struct {
		r   *result
		err error
	}
	for attempt := 1; ; attempt++ {
		if attempt > 4 {
			t.Fatal("no attempt killed an executor while Q9 ran and saw Q9 run again")
		}
		c.waitActive(3)
		x := c.executors[victim]
		started := x.count("task started")
		reruns := c.coordinator.count("running the query again")
		done := make(chan outcome, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			r, err := query(ctx, conn, sql)
			done <- outcome{r, err}
		}()
		// Kill the victim once its part of Q9 runs (it logs "task started").
		var out outcome
		finished := false
		for deadline := time.Now().Add(20 * time.Second); x.count("task started") == started; time.Sleep(time.Millisecond) {
			select {
			case out = <-done:
				finished = true
			default:
			}
			if finished || time.Now().After(deadline) {
				break
			}
		}
		if finished {
			t.Fatalf("Q9 ended before %s started a task (%v):\n%s", x.name, out.err, x.output())
		}
		time.Sleep(10 * time.Millisecond)
		x.kill()
		out = <-done
		rerun := c.coordinator.count("running the query again") > reruns
		switch {
		case out.err != nil:
			t.Fatalf("Q9 (attempt %d) failed instead of running again: %v", attempt, out.err)
		default:
			if msg := out.r.compare(sql, answer); msg != "" {
				t.Fatalf("Q9 (attempt %d): %s", attempt, msg)
			}
		}
		t.Logf("attempt %d: killed %s while Q9 ran; Q9 ran again: %v", attempt, x.name, rerun)

		// It shows as lost, and queries run without it.
		ns, ok := waitNode(t, mon, addr, 5*time.Second, func(n node) bool { return n.State == "lost" })
		if !ok {
			t.Fatalf("%s is not lost 5s after kill -9: %+v", addr, ns[addr])
		}
		if n := ns[addr]; n.LostAt == nil {
			t.Errorf("lost executor %s has no lost_at", addr)
		}
		checkTPCH(t, conn, 1, "sf0.1")

		// Restarted on the same address, it is active again and runs tasks.
		x = c.startExecutor(victim, addr, 1)
		if ns, ok := waitNode(t, mon, addr, 10*time.Second, func(n node) bool { return n.State == "active" }); !ok {
			t.Fatalf("restarted %s is not active: %+v", addr, ns[addr])
		} else if n := ns[addr]; n.LostAt != nil {
			t.Errorf("active executor %s has lost_at %v", addr, n.LostAt)
		}
		c.waitActive(3)
		takesPart(t, conn, mon, x, addr)
		if rerun {
			return
		}
		// Q9 outran the kill, or failed: again.
	}
}

// takesPart runs TPC-H Q9 at scale 0.1 until the restarted executor x
// (at addr) runs a task of it to the end, checking every answer.
func takesPart(t *testing.T, conn, mon *pgx.Conn, x *proc, addr string) {
	t.Helper()
	sql, answer := tpchQuery(t, 9, "sf0.1")
	for try, deadline := 1, time.Now().Add(20*time.Second); ; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		r, err := query(ctx, conn, sql)
		cancel()
		switch {
		case err != nil:
			t.Fatalf("Q9 after the restart: %v", err)
		default:
			if msg := r.compare(sql, answer); msg != "" {
				t.Fatalf("Q9 after the restart: %s", msg)
			}
		}
		if completedTask(x) {
			return
		}
		t.Errorf("the restarted %s, active in sys.nodes, took no part in query %d after it", x.name, try)
		if time.Now().After(deadline) {
			t.Fatalf("the restarted %s completed no task of %d queries in 20s:\n%s", x.name, try, x.output())
		}
		// It was given up again and registers anew at its next heartbeat.
		if ns, ok := waitNode(t, mon, addr, 10*time.Second, func(n node) bool { return n.State == "active" }); !ok {
			t.Fatalf("restarted %s is not active: %+v", addr, ns[addr])
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// completedTask reports whether executor x logged a task that finished
// without error.
func completedTask(x *proc) bool {
	for _, l := range strings.Split(x.output(), "\n") {
		if strings.Contains(l, `msg="task finished"`) && strings.HasSuffix(l, "err=<nil>") {
			return true
		}
	}
	return false
}
