package coordinator

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/quarrydb/quarry/coordinator/cluster"
	"github.com/quarrydb/quarry/coordinator/internal/testenv"
)

// startCluster starts n in-process executors of threads each.
func startCluster(t testing.TB, n, threads int) *cluster.Cluster {
	return testenv.StartCluster(t, n, threads)
}

// newClusterEngine is newEngine running its queries on cl.
func newClusterEngine(t testing.TB, cl *cluster.Cluster, schema string, sources ...SourceSpec) *Engine {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := Open(Config{DataDir: t.TempDir(), Sources: sources, DefaultSchema: schema, Logger: log, Cluster: cl})
	if err != nil {
		t.Fatalf("open engine: %v", err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

// TestClusterSysNodes checks that sys.nodes lists the coordinator and its
// executors.
func TestClusterSysNodes(t *testing.T) {
	cl := startCluster(t, 2, 1)
	eng := newClusterEngine(t, cl, "")
	got, err := query(context.Background(), eng.NewSession(""), "SELECT role, state, threads FROM sys.nodes ORDER BY role, node_id")
	if err != nil {
		t.Fatal(err)
	}
	want := "role|state|threads\ncoordinator|active|1\nexecutor|active|1\nexecutor|active|1\n"
	if got != want {
		t.Errorf("sys.nodes:\n%s\nwant:\n%s", got, want)
	}
}

// TestSysJobs checks that every statement leaves a job record with its
// outcome, figures and profile, newest first.
func TestSysJobs(t *testing.T) {
	defer func(d time.Duration) { profileMin = d }(profileMin)
	profileMin = 0 // keep every profile
	eng := newEngine(t, "tpch", SourceSpec{Name: "tpch", Path: abs(t, sampleTPCH)})
	sess := eng.NewSession("tpch")
	ctx := context.Background()
	if _, err := query(ctx, sess, "SELECT l_returnflag, count(*) FROM lineitem GROUP BY 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := query(ctx, sess, "SELECT 1/0"); err == nil {
		t.Fatal("1/0 succeeded")
	}
	got, err := query(ctx, sess, `SELECT state, error_code, row_count, exchanged_bytes > 0 AS exchanged, profile LIKE '%ParquetScan%rows=60175%' AS profiled, query
		FROM sys.jobs ORDER BY job_id DESC LIMIT 2`)
	if err != nil {
		t.Fatal(err)
	}
	want := "state|error_code|row_count|exchanged|profiled|query\n" +
		"failed|22012|0|false||SELECT 1/0\n" +
		"completed||3|true|true|SELECT l_returnflag, count(*) FROM lineitem GROUP BY 1\n"
	if got != want {
		t.Errorf("sys.jobs:\n%s\nwant:\n%s", got, want)
	}
}

// TestClusterMemoryTables runs queries over an in-memory table larger
// than a gRPC message on the cluster: read by the coordinator alone, and
// joined with a Parquet table on the executors.
func TestClusterMemoryTables(t *testing.T) {
	cl := startCluster(t, 2, 1)
	eng := newClusterEngine(t, cl, "tpch", SourceSpec{Name: "tpch", Path: abs(t, sampleTPCH)})
	sess := eng.NewSession("tpch")
	ctx := context.Background()
	for _, tc := range []struct{ sql, want string }{
		{"CREATE TABLE mem.li AS SELECT * FROM lineitem", ""},
		{"SELECT count(*) AS n, sum(l_quantity) AS q FROM mem.li", "n|q\n60175|1536127.00\n"},
		{"SELECT count(*) AS n FROM mem.li m JOIN orders o ON m.l_orderkey = o.o_orderkey WHERE o.o_orderstatus = 'F'", "n\n29246\n"},
	} {
		got, err := query(ctx, sess, tc.sql)
		if err != nil {
			t.Fatalf("%s: %v", tc.sql, err)
		}
		if tc.want != "" && got != tc.want {
			t.Errorf("%s:\n%s\nwant:\n%s", tc.sql, got, tc.want)
		}
	}
}

// TestClusterExplainAnalyze checks that the profile of a cluster query
// says which node ran each fragment and how the work spread.
func TestClusterExplainAnalyze(t *testing.T) {
	cl := startCluster(t, 2, 1)
	eng := newClusterEngine(t, cl, "tpch", SourceSpec{Name: "tpch", Path: abs(t, sampleTPCH)})
	got, err := query(context.Background(), eng.NewSession("tpch"), "EXPLAIN ANALYZE SELECT l_returnflag, count(*) FROM lineitem GROUP BY 1")
	if err != nil {
		t.Fatal(err)
	}
	var execs []string
	for _, n := range cl.Membership().Nodes() {
		execs = append(execs, n.ID+"×1")
	}
	for _, want := range []string{
		"ran on coordinator×1)",               // the root fragment
		"ran on " + strings.Join(execs, ", "), // the scan fragment, one instance per executor
		"ParquetScan tpch.lineitem",           // operator figures
		"rows=60175",                          // all rows scanned, over both executors
		"[instances=2 skew(max/median rows)=", // the spread
		"Exchanged between fragments: rows=",  // bytes moved
	} {
		if !strings.Contains(got, want) {
			t.Errorf("profile lacks %q:\n%s", want, got)
		}
	}
}
