package server

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/quarrydb/quarry/coordinator"
	"github.com/quarrydb/quarry/coordinator/internal/testenv"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// TestFlightEndpointsFromExecutors checks --flight-endpoints executors: a
// query whose result needs no final merge is read from every executor in
// parallel, one endpoint each at its own location; an ordered one still
// comes from the coordinator; a forged ticket is refused.
func TestFlightEndpointsFromExecutors(t *testing.T) {
	data, err := filepath.Abs("../../testdata/tpch/sf0.01")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cl := testenv.StartCluster(t, 2, 1)
	ctx := context.Background()
	eng, err := coordinator.Open(coordinator.Config{DataDir: t.TempDir(), DefaultSchema: "tpch", Logger: log, Cluster: cl,
		Sources: []coordinator.SourceSpec{{Name: "tpch", Path: data}}})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	d, err := startFlight(eng, Options{FlightAddr: "127.0.0.1:0", Auth: "trust", FlightEndpoints: EndpointsExecutors}, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- d.serve() }()
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		d.shutdown(sctx)
		<-served
	}()
	dial := grpc.WithTransportCredentials(insecure.NewCredentials())
	c, err := flightsql.NewClient(d.addr, nil, nil, dial)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	qctx, qcancel := context.WithTimeout(ctx, 30*time.Second)
	defer qcancel()

	// readEndpoint reads one endpoint where its location says.
	readEndpoint := func(ep *flight.FlightEndpoint) (rows int64, names string) {
		t.Helper()
		client := c.Client
		if len(ep.Location) > 0 {
			addr := strings.TrimPrefix(ep.Location[0].Uri, "grpc+tcp://")
			fc, err := flight.NewClientWithMiddleware(addr, nil, nil, dial)
			if err != nil {
				t.Fatal(err)
			}
			defer fc.Close()
			client = fc
		}
		stream, err := client.DoGet(qctx, ep.Ticket)
		if err != nil {
			t.Fatal(err)
		}
		rdr, err := flight.NewRecordReader(stream)
		if err != nil {
			t.Fatalf("endpoint %v: %v", ep.Location, err)
		}
		defer rdr.Release()
		for rdr.Next() {
			rows += rdr.RecordBatch().NumRows()
		}
		if err := rdr.Err(); err != nil {
			t.Fatal(err)
		}
		var ns []string
		for _, f := range rdr.Schema().Fields() {
			ns = append(ns, f.Name)
		}
		return rows, strings.Join(ns, ",")
	}

	info, err := c.Execute(qctx, "SELECT l_orderkey AS k, l_comment FROM lineitem WHERE l_quantity > 10")
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Endpoint) != 2 {
		t.Fatalf("%d endpoints, want one per executor (2)", len(info.Endpoint))
	}
	var total int64
	for _, ep := range info.Endpoint {
		if len(ep.Location) != 1 || !strings.HasPrefix(ep.Location[0].Uri, "grpc+tcp://") {
			t.Errorf("endpoint location %v", ep.Location)
		}
		rows, names := readEndpoint(ep)
		if names != "k,l_comment" {
			t.Errorf("endpoint columns %s, want k,l_comment", names)
		}
		total += rows
	}
	// The same count through the coordinator (embedded-style path).
	var want int64
	ci, err := c.Execute(qctx, "SELECT count(*) FROM lineitem WHERE l_quantity > 10")
	if err != nil {
		t.Fatal(err)
	}
	rdr, err := c.DoGet(qctx, ci.Endpoint[0].Ticket)
	if err != nil {
		t.Fatal(err)
	}
	for rdr.Next() {
		want = rdr.RecordBatch().Column(0).(interface{ Value(int) int64 }).Value(0)
	}
	rdr.Release()
	if total != want || want == 0 {
		t.Errorf("endpoints gave %d rows, want %d", total, want)
	}

	// An ordered result needs the coordinator's merge: one endpoint there.
	oi, err := c.Execute(qctx, "SELECT n_name FROM nation ORDER BY n_name LIMIT 3")
	if err != nil {
		t.Fatal(err)
	}
	if len(oi.Endpoint) != 1 || len(oi.Endpoint[0].Location) != 0 {
		t.Fatalf("ordered query endpoints %v", oi.Endpoint)
	}
	if rows, _ := readEndpoint(oi.Endpoint[0]); rows != 3 {
		t.Errorf("ordered query gave %d rows", rows)
	}

	// A ticket with a forged signature is refused by the executor.
	info, err = c.Execute(qctx, "SELECT l_orderkey FROM lineitem")
	if err != nil {
		t.Fatal(err)
	}
	forged := append([]byte{}, info.Endpoint[0].Ticket.Ticket...)
	forged[3] ^= 0xff
	addr := strings.TrimPrefix(info.Endpoint[0].Location[0].Uri, "grpc+tcp://")
	fc, err := flight.NewClientWithMiddleware(addr, nil, nil, dial)
	if err != nil {
		t.Fatal(err)
	}
	defer fc.Close()
	stream, err := fc.DoGet(qctx, &flight.Ticket{Ticket: forged})
	if err == nil {
		_, err = stream.Recv()
	}
	if err == nil || !strings.Contains(err.Error(), "signature") {
		t.Errorf("forged ticket: %v", err)
	}
	// The genuine tickets of that query are still good.
	for _, ep := range info.Endpoint {
		readEndpoint(ep)
	}
}
