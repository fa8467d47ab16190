package pgwire

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/quarrydb/quarry/catalog"
	"github.com/quarrydb/quarry/coordinator"
)

// sampleTPCH is the checked-in TPC-H sample at scale 0.01.
const sampleTPCH = "../../testdata/tpch/sf0.01"

// testServer is a pgwire server on a loopback port over a fresh engine
// with source tpch (the default schema).
type testServer struct {
	srv  *Server
	eng  *coordinator.Engine
	addr *net.TCPAddr
}

type serverOption func(*Config)

func withAuth(mode string) serverOption { return func(c *Config) { c.Auth = mode } }

func withMaxMessage(n int) serverOption { return func(c *Config) { c.MaxMessageSize = n } }

func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startServer starts a server that is shut down (and checked for leaked
// goroutines) when the test ends.
func startServer(t testing.TB, opts ...serverOption) *testServer {
	t.Helper()
	checkGoroutines(t)
	data, err := filepath.Abs(sampleTPCH)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := coordinator.Open(coordinator.Config{
		DataDir:       t.TempDir(),
		Sources:       []coordinator.SourceSpec{{Name: "tpch", Path: data}},
		DefaultSchema: "tpch",
		Logger:        testLogger(),
		// A runaway query fails with 53200 instead of taking the test
		// process (and the machine) down.
		MemoryLimit: 2 << 30,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	cfg := Config{Engine: eng, Logger: testLogger()}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return &testServer{srv: srv, eng: eng, addr: ln.Addr().(*net.TCPAddr)}
}

// checkGoroutines fails the test if goroutines started during it are
// still running a few seconds after it ended (its cleanups included).
func checkGoroutines(t testing.TB) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= before+2 {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("goroutine leak: %d before, %d after\n%s", before, n, buf)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

func (s *testServer) connString(extra string) string {
	return fmt.Sprintf("host=%s port=%d user=tester dbname=quarry sslmode=disable %s", s.addr.IP, s.addr.Port, extra)
}

// connect opens a pgx connection (closed when the test ends).
func (s *testServer) connect(t testing.TB, extra string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(s.connString(extra))
	if err != nil {
		t.Fatal(err)
	}
	return s.connectConfig(t, cfg)
}

func (s *testServer) connectConfig(t testing.TB, cfg *pgx.ConnConfig) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// addUser stores a user with password in the server's catalog.
func (s *testServer) addUser(t testing.TB, name, password, method string) {
	t.Helper()
	u, err := catalog.NewUser(name, password, method)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.eng.Catalog().PutUser(u); err != nil {
		t.Fatal(err)
	}
}

// runClient runs a client program with a timeout and returns its
// combined output.
func runClient(t testing.TB, timeout time.Duration, env []string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 2 * time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("%s timed out after %s: %w", name, timeout, ctx.Err())
	}
	return string(out), err
}

func normalizeSpace(s string) string { return strings.Join(strings.Fields(s), " ") }
