package flighttest

import (
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/apache/arrow-adbc/go/adbc"
	adbcflight "github.com/apache/arrow-adbc/go/adbc/driver/flightsql"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/coordinator"
	"github.com/quarrydb/quarry/coordinator/internal/testenv"
	"github.com/quarrydb/quarry/coordinator/server"
	"github.com/quarrydb/quarry/flight"
)

// startClusterServer starts a Flight SQL door whose engine runs on a
// cluster of n in-process executors and hands results out from them.
func startClusterServer(t testing.TB, n int) *testServer {
	t.Helper()
	data, err := filepath.Abs("../../testdata/tpch/sf0.01")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cl := testenv.StartCluster(t, n, 1)
	eng, err := coordinator.Open(coordinator.Config{DataDir: t.TempDir(), DefaultSchema: "tpch", Logger: log, Cluster: cl,
		Sources: []coordinator.SourceSpec{{Name: "tpch", Path: data}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return serveFlight(t, eng, flight.Options{Backend: server.FlightBackendFromExecutors(eng), Logger: log, Version: "test"})
}

// TestADBCClusterEndpoints reads results with the ADBC driver from a
// coordinator that hands them out from its three executors: the driver
// follows each endpoint's location. TPC-H Q1 and Q3 (merged by the
// coordinator) and a plain scan (read from the executors) must be right.
func TestADBCClusterEndpoints(t *testing.T) {
	srv := startClusterServer(t, 3)
	ctx := testCtx(t)
	db, err := adbcflight.NewDriver(memory.DefaultAllocator).NewDatabase(map[string]string{adbc.OptionKeyURI: "grpc+tcp://" + srv.addr})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cnxn, err := db.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cnxn.Close()
	query := func(sql string) *result {
		t.Helper()
		stmt, err := cnxn.NewStatement()
		if err != nil {
			t.Fatal(err)
		}
		defer stmt.Close()
		if err := stmt.SetSqlQuery(sql); err != nil {
			t.Fatal(err)
		}
		rdr, _, err := stmt.ExecuteQuery(ctx)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		defer rdr.Release()
		r := &result{}
		for rdr.Next() {
			r.appendRecord(rdr.RecordBatch())
		}
		if err := rdr.Err(); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return r
	}
	for _, q := range []int{1, 3} {
		sql, answer := tpchQuery(t, q)
		compareAnswer(t, query(sql), answer, true)
	}
	// Read from the executors: as many rows, and the same sum, as the
	// coordinator counts.
	want := query("SELECT count(*), sum(l_orderkey) FROM lineitem WHERE l_discount > 0.05")
	got := query("SELECT l_orderkey FROM lineitem WHERE l_discount > 0.05")
	var sum int64
	for _, row := range got.rows {
		k, err := strconv.ParseInt(row[0], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		sum += k
	}
	if len(want.rows) != 1 || want.rows[0][0] != strconv.Itoa(len(got.rows)) || want.rows[0][1] != strconv.FormatInt(sum, 10) {
		t.Errorf("executors' endpoints gave %d rows summing to %d; the coordinator counts %v", len(got.rows), sum, want.rows)
	}
}
