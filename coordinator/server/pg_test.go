package server

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/quarrydb/quarry/coordinator"
)

// syncBuffer is a banner writer safe to read while Serve writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestPGDoor serves the PostgreSQL door through Serve, queries it with pgx
// and stops it by cancelling Serve's context.
func TestPGDoor(t *testing.T) {
	data, err := filepath.Abs("../../testdata/tpch/sf0.01")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := coordinator.Open(coordinator.Config{DataDir: t.TempDir(), DefaultSchema: "tpch", Logger: log,
		Sources: []coordinator.SourceSpec{{Name: "tpch", Path: data}}})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var banner syncBuffer
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, eng, Options{PGAddr: "127.0.0.1:0", Auth: "trust", Banner: &banner}, log) }()
	re := regexp.MustCompile(`host=(\S+) port=(\d+)`)
	var m []string
	for deadline := time.Now().Add(10 * time.Second); m == nil; {
		if time.Now().After(deadline) {
			t.Fatalf("no psql line in the banner: %q", banner.String())
		}
		select {
		case err := <-done:
			t.Fatalf("Serve returned early: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
		m = re.FindStringSubmatch(banner.String())
	}
	conn, err := pgx.Connect(ctx, "host="+m[1]+" port="+m[2]+" user=u dbname=quarry sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	var name string
	if err := conn.QueryRow(ctx, "SELECT n_name FROM nation WHERE n_nationkey = $1", 7).Scan(&name); err != nil || name != "GERMANY" {
		t.Fatalf("query: %q %v", name, err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not stop")
	}
	conn.Close(context.Background())
}
