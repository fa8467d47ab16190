package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseExchanged(t *testing.T) {
	tests := []struct {
		plan      string
		rows, n   int64
		text, err string
	}{
		{"Fragment 0 [single] → client (x)\nExchanged between fragments: rows=1319344 bytes=163.5MiB\nRules fired: a\n", 1319344, 171442176, "163.5MiB", ""},
		{"Exchanged between fragments: rows=3 bytes=96B\n", 3, 96, "96B", ""},
		{"Exchanged between fragments: rows=0 bytes=0B", 0, 0, "0B", ""},
		{"Exchanged between fragments: rows=10 bytes=1.5KiB\n", 10, 1536, "1.5KiB", ""},
		{"Exchanged between fragments: rows=10 bytes=2.0GiB\n", 10, 2 << 30, "2.0GiB", ""},
		{"Fragment 0 [single] → client (x)\n", 0, 0, "", "no \"Exchanged"},
	}
	for _, tt := range tests {
		got, err := parseExchanged(tt.plan)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.plan, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.plan, err)
			continue
		}
		if got.Rows != tt.rows || got.Bytes != tt.n || got.Text != tt.text {
			t.Errorf("%q: got %+v, want rows=%d bytes=%d text=%s", tt.plan, got, tt.rows, tt.n, tt.text)
		}
	}
}

func TestParseFlagsCluster(t *testing.T) {
	opt, err := parseFlags([]string{"--data", "x", "--cluster", "4", "--executor-threads", "2", "--quarry-bin", "/q"})
	if err != nil {
		t.Fatal(err)
	}
	if opt.cluster != 4 || opt.executorThreads != 2 || opt.quarryBin != "/q" {
		t.Errorf("got cluster=%d executor-threads=%d quarry-bin=%q", opt.cluster, opt.executorThreads, opt.quarryBin)
	}
	if opt, err = parseFlags([]string{"--data", "x"}); err != nil || opt.cluster != 0 || opt.executorThreads != 1 {
		t.Errorf("defaults: %+v, %v", opt, err)
	}
	for _, args := range [][]string{{"--cluster", "-1"}, {"--cluster", "2", "--executor-threads", "0"}} {
		if _, err := parseFlags(append([]string{"--data", "x"}, args...)); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}

// TestLocalCluster builds bin/quarry's command, starts two executors of it,
// runs a query on the cluster and embedded, and checks that Close leaves no
// executor behind.
func TestLocalCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts quarry executors")
	}
	bin := filepath.Join(t.TempDir(), "quarry")
	build := exec.Command("go", "build", "-o", bin, "./cmd/quarry")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	lc, err := startLocalCluster(bin, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Close(true)
	if lc.active() != 2 {
		t.Fatalf("%d executors active", lc.active())
	}
	data := filepath.Join("..", "testdata", "tpch", "sf0.01")
	const query = `SELECT l_returnflag, count(*), sum(l_quantity) FROM lineitem GROUP BY l_returnflag ORDER BY l_returnflag`
	rows := func(name string, q *quarry) [][]value {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		got, err := q.Query(ctx, query)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out := make([][]value, len(got))
		for i, row := range got {
			for _, x := range row {
				v, err := fromGo(x)
				if err != nil {
					t.Fatal(err)
				}
				out[i] = append(out[i], v)
			}
		}
		return out
	}
	c, err := openQuarry("Cluster", data, t.TempDir(), 1, 0, lc.cl)
	if err != nil {
		t.Fatal(err)
	}
	got := rows("cluster", c)
	ex := c.exchanged(query, time.Minute)
	c.Close()
	e, err := openQuarry("Embedded", data, t.TempDir(), 2, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := rows("embedded", e)
	e.Close()
	if len(want) != 3 {
		t.Errorf("embedded: %d rows, want 3", len(want))
	}
	if msg := compareResults(got, want, true); msg != "" {
		t.Errorf("cluster vs embedded: %s", msg)
	}
	if ex.Error != "" || ex.Rows <= 0 || ex.Bytes <= 0 {
		t.Errorf("exchanged: %+v", ex)
	}

	peaks := lc.Close(false)
	if len(peaks) != 2 {
		t.Errorf("%d executor peaks, want 2", len(peaks))
	}
	for _, p := range lc.execs {
		select {
		case <-p.done:
		default:
			t.Errorf("executor %s still running after Close", p.addr)
		}
		if p.exited() {
			t.Errorf("executor %s exited by itself: %v", p.addr, p.err)
		}
	}
	if _, err := os.Stat(lc.logDir); !os.IsNotExist(err) {
		t.Errorf("log folder %s left behind: %v", lc.logDir, err)
	}
}
