package flighttest

import (
	"context"
	"encoding/base64"
	"fmt"
	"github.com/quarrydb/quarry/coordinator/internal/testenv"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog"
	"github.com/quarrydb/quarry/coordinator"
	"github.com/quarrydb/quarry/coordinator/server"
	"github.com/quarrydb/quarry/flight"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

// Test users of servers started with auth on.
const (
	testUser     = "alice"
	testPassword = "s3cret"
)

// testServer is an engine over the TPC-H sample behind a Flight SQL door.
type testServer struct {
	eng  *coordinator.Engine
	addr string // host:port
}

// startServer starts a Flight SQL door on a fresh engine; with auth, the
// user alice (password s3cret) must authenticate.
func startServer(t testing.TB, auth bool) *testServer {
	t.Helper()
	data, err := filepath.Abs("../../testdata/tpch/sf0.01")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	// Every batch the door streams or reads must be released: the checked
	// allocator is empty once the server and the engine are closed.
	alloc := memory.NewCheckedAllocator(memory.DefaultAllocator)
	t.Cleanup(func() {
		if n := alloc.CurrentAlloc(); n != 0 {
			t.Errorf("%d bytes still allocated after shutdown", n)
		}
	})
	eng, err := coordinator.Open(coordinator.Config{
		DataDir: t.TempDir(), Sources: []coordinator.SourceSpec{{Name: "tpch", Path: data}},
		DefaultSchema: "tpch", Logger: log, Alloc: alloc,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	opts := flight.Options{Backend: server.FlightBackend(eng), Logger: log, Version: "test", Alloc: alloc}
	if auth {
		u, err := catalog.NewUser(testUser, testPassword, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := eng.Catalog().PutUser(u); err != nil {
			t.Fatal(err)
		}
		opts.Auth = func(_ context.Context, user, password string) error {
			return server.CheckPassword(eng.Catalog(), user, password)
		}
	}
	return serveFlight(t, eng, opts)
}

// serveFlight serves a Flight SQL door with opts over eng on a loopback
// port until the test ends.
func serveFlight(t testing.TB, eng *coordinator.Engine, opts flight.Options) *testServer {
	t.Helper()
	srv, err := flight.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return &testServer{eng: eng, addr: ln.Addr().String()}
}

// client connects arrow-go's Flight SQL client.
func (s *testServer) client(t testing.TB) *flightsql.Client {
	t.Helper()
	c, err := flightsql.NewClient(s.addr, nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// tpchQuery returns the text of TPC-H query n and its answer at scale 0.01.
func tpchQuery(t testing.TB, n int) (sql, answer string) {
	t.Helper()
	shared := testenv.SharedDir(t)
	q, err := os.ReadFile(filepath.Join(shared, "tpch", "queries", fmt.Sprintf("q%02d.sql", n)))
	if err != nil {
		t.Fatal(err)
	}
	a, err := os.ReadFile(filepath.Join(shared, "tpch", "answers", "sf0.01", fmt.Sprintf("q%02d.csv", n)))
	if err != nil {
		t.Fatal(err)
	}
	return string(q), string(a)
}

// result is a result set as text cells, with each column's kind for the
// comparison with the answers.
type result struct {
	kinds []testenv.Kind
	rows  [][]string
}

// appendRecord adds rec's rows to r as text.
func (r *result) appendRecord(rec arrow.Record) {
	if r.kinds == nil {
		for _, f := range rec.Schema().Fields() {
			r.kinds = append(r.kinds, testenv.KindOf(f.Type))
		}
	}
	for i := 0; i < int(rec.NumRows()); i++ {
		row := make([]string, rec.NumCols())
		for j, col := range rec.Columns() {
			row[j] = cellText(col, i)
		}
		r.rows = append(r.rows, row)
	}
}

// cellText renders a value as the TPC-H answers do.
func cellText(col arrow.Array, i int) string {
	if col.IsNull(i) {
		return ""
	}
	switch a := col.(type) {
	case *array.Decimal128:
		return a.Value(i).ToString(a.DataType().(*arrow.Decimal128Type).Scale)
	case *array.Float64:
		return strconv.FormatFloat(a.Value(i), 'g', -1, 64)
	case *array.Date32:
		return a.Value(i).FormattedString()
	}
	return col.ValueStr(i)
}

// compareAnswer compares r with a TPC-H answer (see
// testenv.CompareAnswer).
func compareAnswer(t testing.TB, r *result, answer string, ordered bool) {
	t.Helper()
	if msg := testenv.CompareAnswer(r.rows, r.kinds, nil, answer, ordered); msg != "" {
		t.Fatal(msg)
	}
}

func metadataCtx(ctx context.Context, kv ...string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, kv...)
}

func basicCred(user, password string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
}
