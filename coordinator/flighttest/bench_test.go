package flighttest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/jackc/pgx/v5"
	"github.com/quarrydb/quarry/coordinator"
	"github.com/quarrydb/quarry/coordinator/server"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// BenchmarkLineitem fetches all of lineitem at scale 1 (6,001,215 rows)
// over Flight SQL and over the PostgreSQL wire (pgx, binary results), both
// doors started by server.Serve, and reports rows/s. Data: $QUARRY_SF1 or
// /tmp/sf1 (bin/quarry tpch --sf 1 --out /tmp/sf1).
//
//	go test -run '^$' -bench Lineitem -benchtime 3x ./coordinator/flighttest/
func BenchmarkLineitem(b *testing.B) {
	dir := os.Getenv("QUARRY_SF1")
	if dir == "" {
		dir = "/tmp/sf1"
	}
	if _, err := os.Stat(filepath.Join(dir, "lineitem.parquet")); err != nil {
		b.Skipf("no scale-1 data in %s (bin/quarry tpch --sf 1 --out %s): %v", dir, dir, err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := coordinator.Open(coordinator.Config{DataDir: b.TempDir(), Sources: []coordinator.SourceSpec{{Name: "tpch", Path: dir}},
		DefaultSchema: "tpch", Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	flightAddr, pgAddr := freeAddr(b), freeAddr(b)
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- server.Serve(ctx, eng, server.Options{FlightAddr: flightAddr, PGAddr: pgAddr, Auth: "trust"}, log)
	}()
	defer func() {
		stop()
		<-served
	}()
	waitListening(b, flightAddr)
	flightBench := func(b *testing.B, query string) {
		c, err := flightsql.NewClient(flightAddr, nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		var rows int64
		var start time.Time
		for i := -1; i < b.N; i++ { // i = -1 warms the caches up
			if i == 0 {
				rows, start = 0, time.Now()
				b.ResetTimer()
			}
			info, err := c.Execute(ctx, query)
			if err != nil {
				b.Fatal(err)
			}
			for _, ep := range info.Endpoint {
				rdr, err := c.DoGet(ctx, ep.Ticket)
				if err != nil {
					b.Fatal(err)
				}
				for rdr.Next() {
					rows += rdr.RecordBatch().NumRows()
				}
				if err := rdr.Err(); err != nil {
					b.Fatal(err)
				}
				rdr.Release()
			}
		}
		b.ReportMetric(float64(rows)/time.Since(start).Seconds(), "rows/s")
	}

	// pgxBench reads the rows over the PostgreSQL wire: raw (the wire's
	// cost alone) or decoded into Go values, as an application using pgx
	// gets them (Flight SQL's batches are usable as they arrive).
	pgxBench := func(b *testing.B, query string, decode bool) {
		if !listening(pgAddr) {
			b.Skip("no PostgreSQL wire door")
		}
		conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://quarry@%s/quarry?sslmode=disable", pgAddr))
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close(ctx)
		var rows int64
		var start time.Time
		for i := -1; i < b.N; i++ {
			if i == 0 {
				rows, start = 0, time.Now()
				b.ResetTimer()
			}
			r, err := conn.Query(ctx, query)
			if err != nil {
				b.Fatal(err)
			}
			for r.Next() {
				if decode {
					if _, err := r.Values(); err != nil {
						b.Fatal(err)
					}
				} else {
					_ = r.RawValues()
				}
				rows++
			}
			if err := r.Err(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(rows)/time.Since(start).Seconds(), "rows/s")
	}

	// From Parquet (the scan's decoding bounds both doors), and from a
	// memory table (what the doors themselves cost).
	var sink discardRows
	if err := eng.NewSession("").Execute(ctx, "CREATE TABLE mem.li AS SELECT * FROM lineitem", &sink); err != nil {
		b.Fatal(err)
	}
	for _, src := range []struct{ name, query string }{
		{"parquet", "SELECT * FROM lineitem"},
		{"memory", "SELECT * FROM mem.li"},
	} {
		b.Run("flightsql/"+src.name, func(b *testing.B) { flightBench(b, src.query) })
		b.Run("pgx/"+src.name, func(b *testing.B) { pgxBench(b, src.query, false) })
		b.Run("pgx-decoded/"+src.name, func(b *testing.B) { pgxBench(b, src.query, true) })
	}
}

type discardRows struct{}

func (discardRows) Begin(*arrow.Schema) error { return nil }
func (discardRows) Batch(arrow.Record) error  { return nil }
func (discardRows) End(string, int64) error   { return nil }

func freeAddr(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func listening(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func waitListening(b *testing.B, addr string) {
	for i := 0; i < 100; i++ {
		if listening(addr) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Fatalf("nothing listens on %s", addr)
}
