package clustertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/quarrydb/quarry/coordinator/internal/testenv"
)

// secret is the cluster secret of the clusters the tests start.
const secret = "clustertest-secret"

// binDir holds the quarry binary the tests run (built once, removed by
// TestMain).
var (
	binDir    string
	buildOnce sync.Once
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "quarry-clustertest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// quarryBin builds bin/quarry from the working tree once and returns its
// path.
func quarryBin(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		buildErr = errors.New("the build did not finish")
		root := testenv.RepoRoot(t)
		args := []string{"build", "-o", filepath.Join(binDir, "quarry")}
		if os.Getenv("QUARRY_CLUSTERTEST_RACE") != "" {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, "./cmd/quarry")...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/quarry: %v\n%s", err, out)
			return
		}
		buildErr = nil
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, "quarry")
}

// freeAddr returns a 127.0.0.1 address with a port free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// proc is a quarry process; its stdout and stderr go to a log file.
type proc struct {
	name string
	log  string
	cmd  *exec.Cmd
	done chan struct{} // closed once the process exited and was waited for
	err  error         // how it exited (read after done)
}

// startProc starts quarry with args and the cluster secret sec in its
// environment; the process is killed when the test ends.
func startProc(t testing.TB, name, logPath, sec string, args ...string) *proc {
	t.Helper()
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(quarryBin(t), args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(withoutSecret(os.Environ()), "QUARRY_CLUSTER_SECRET="+sec)
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("starting %s: %v", name, err)
	}
	p := &proc{name: name, log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			t.Errorf("%s (pid %d) still running 10s after SIGKILL", p.name, cmd.Process.Pid)
		}
		if strings.Contains(p.output(), "WARNING: DATA RACE") {
			t.Errorf("%s had a data race:\n%s", p.name, tail(p.output(), 20000))
		}
	})
	return p
}

func withoutSecret(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "QUARRY_CLUSTER_SECRET=") {
			out = append(out, kv)
		}
	}
	return out
}

// kill sends SIGKILL (kill -9) unless the process already exited.
func (p *proc) kill() {
	select {
	case <-p.done:
	default:
		p.cmd.Process.Kill()
	}
}

// exited reports whether the process has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// output is what the process wrote so far.
func (p *proc) output() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// count is how many lines of the output contain s.
func (p *proc) count(s string) int {
	b, _ := os.ReadFile(p.log)
	return bytes.Count(b, []byte(s))
}

// waitFor waits until the output contains s, the process exits or d
// passes; it reports whether s appeared.
func (p *proc) waitFor(s string, d time.Duration) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); {
		if strings.Contains(p.output(), s) {
			return true
		}
		if p.exited() {
			return strings.Contains(p.output(), s)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// cluster is a coordinator and its executors, each a process.
type cluster struct {
	t           testing.TB
	dir         string
	coordinator *proc
	pgAddr      string
	clusterAddr string
	executors   []*proc
	execAddrs   []string
	procs       []*proc // every process started, for the logs
}

// startCluster starts a coordinator over the TPC-H data (tpch at scale
// 0.01, tpch01 at scale 0.1) and n executors with --threads 1 (verbose, so
// that they log their tasks), and waits until all n are active.
func startCluster(t testing.TB, n int) *cluster {
	t.Helper()
	shared := testenv.SharedDir(t)
	sf01 := filepath.Join(shared, "tpch", "data", "sf0.1")
	if _, err := os.Stat(sf01); err != nil {
		testenv.Missing(t, "TPC-H data at scale 0.1: %v", err)
	}
	sf001 := filepath.Join(testenv.RepoRoot(t), "testdata", "tpch", "sf0.01")
	c := &cluster{t: t, dir: t.TempDir()}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, p := range c.procs {
			t.Logf("output of %s (%s):\n%s", p.name, p.log, tail(p.output(), 20000))
		}
	})
	for try := 1; ; try++ {
		c.pgAddr, c.clusterAddr = freeAddr(t), freeAddr(t)
		name := fmt.Sprintf("coordinator-%d", try)
		p := startProc(t, name, filepath.Join(c.dir, name+".log"), secret, "coordinator",
			"--data-dir", filepath.Join(c.dir, fmt.Sprintf("data-%d", try)),
			"--source", "tpch="+sf001, "--source", "tpch01="+sf01,
			"--flight-addr", "", "--http-addr", freeAddr(t), "--pg-addr", c.pgAddr,
			"--cluster-addr", c.clusterAddr)
		c.procs = append(c.procs, p)
		if p.waitFor("PostgreSQL wire listening", 20*time.Second) {
			c.coordinator = p
			break
		}
		// Another test process may have taken a port in the meantime.
		if p.exited() && strings.Contains(p.output(), "address already in use") && try < 3 {
			continue
		}
		t.Fatalf("the coordinator did not start")
	}
	for i := range n {
		c.startExecutor(i, "", 1)
	}
	c.waitActive(n)
	return c
}

// startExecutor starts executor i (verbose, with the given threads) on
// addr, or on a free port if addr is "", and waits until it registered.
func (c *cluster) startExecutor(i int, addr string, threads int) *proc {
	t := c.t
	t.Helper()
	fixed := addr != ""
	for try := 1; ; try++ {
		if !fixed {
			addr = freeAddr(t)
		}
		p := c.executorProc(fmt.Sprintf("executor-%d", i), addr, secret, "--threads", strconv.Itoa(threads))
		if p.waitFor("registered with the coordinator", 20*time.Second) {
			for len(c.executors) <= i {
				c.executors = append(c.executors, nil)
				c.execAddrs = append(c.execAddrs, "")
			}
			c.executors[i], c.execAddrs[i] = p, addr
			return p
		}
		if !fixed && p.exited() && strings.Contains(p.output(), "address already in use") && try < 3 {
			continue
		}
		t.Fatalf("%s did not register with the coordinator", p.name)
	}
}

// executorProc starts an executor process at addr with secret sec.
func (c *cluster) executorProc(name, addr, sec string, extra ...string) *proc {
	c.t.Helper()
	logPath := filepath.Join(c.dir, name+".log")
	for k := 2; fileExists(logPath); k++ {
		logPath = filepath.Join(c.dir, fmt.Sprintf("%s.%d.log", name, k))
	}
	args := append([]string{"executor", "--coordinator", c.clusterAddr, "--listen", addr, "-v"}, extra...)
	p := startProc(c.t, name, logPath, sec, args...)
	c.procs = append(c.procs, p)
	return p
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// connect opens a pgx connection to the coordinator, closed when the test
// ends.
func (c *cluster) connect(t testing.TB) *pgx.Conn {
	t.Helper()
	cfg := c.connConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connecting to the coordinator: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func (c *cluster) connConfig(t testing.TB) *pgx.ConnConfig {
	t.Helper()
	host, port, _ := net.SplitHostPort(c.pgAddr)
	cfg, err := pgx.ParseConfig(fmt.Sprintf("host=%s port=%s user=tester dbname=quarry sslmode=disable", host, port))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// node is a row of sys.nodes.
type node struct {
	ID, Role, State       string
	Address               *string
	Threads               int32
	MemoryUsed            *int64
	Running               *int32
	LastHeartbeat, LostAt *time.Time
	Registered            *time.Time
}

// nodes reads sys.nodes.
func nodes(t testing.TB, conn *pgx.Conn) map[string]node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := conn.Query(ctx, `SELECT node_id, role, address, state, threads, memory_used, running_fragments,
		last_heartbeat, registered_at, lost_at FROM sys.nodes`)
	if err != nil {
		t.Fatalf("sys.nodes: %v", err)
	}
	out := map[string]node{}
	for rows.Next() {
		var n node
		if err := rows.Scan(&n.ID, &n.Role, &n.Address, &n.State, &n.Threads, &n.MemoryUsed, &n.Running,
			&n.LastHeartbeat, &n.Registered, &n.LostAt); err != nil {
			t.Fatalf("sys.nodes: %v", err)
		}
		out[n.ID] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("sys.nodes: %v", err)
	}
	return out
}

// waitActive waits until sys.nodes counts n active executors.
func (c *cluster) waitActive(n int) {
	t := c.t
	t.Helper()
	conn := c.connect(t)
	var got int64
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		err := conn.QueryRow(context.Background(),
			"SELECT count(*) FROM sys.nodes WHERE role='executor' AND state='active'").Scan(&got)
		if err != nil {
			t.Fatalf("counting active executors: %v", err)
		}
		if got == int64(n) {
			return
		}
	}
	t.Fatalf("%d active executors after 15s, want %d", got, n)
}

// waitNode polls sys.nodes until ok holds for the row of node id (false
// if there is none), for at most d; it returns the last rows read.
func waitNode(t testing.TB, conn *pgx.Conn, id string, d time.Duration, ok func(node) bool) (map[string]node, bool) {
	t.Helper()
	var ns map[string]node
	for deadline := time.Now().Add(d); ; time.Sleep(50 * time.Millisecond) {
		ns = nodes(t, conn)
		if n, found := ns[id]; found && ok(n) {
			return ns, true
		}
		if time.Now().After(deadline) {
			return ns, false
		}
	}
}

// tpchQuery returns the text of TPC-H query n and its answer at scale sf
// ("sf0.01" or "sf0.1").
func tpchQuery(t testing.TB, n int, sf string) (sql, answer string) {
	t.Helper()
	shared := testenv.SharedDir(t)
	q, err := os.ReadFile(filepath.Join(shared, "tpch", "queries", fmt.Sprintf("q%02d.sql", n)))
	if err != nil {
		t.Fatal(err)
	}
	a, err := os.ReadFile(filepath.Join(shared, "tpch", "answers", sf, fmt.Sprintf("q%02d.csv", n)))
	if err != nil {
		t.Fatal(err)
	}
	return string(q), string(a)
}

// result is a result set as text cells with each column's kind and name.
type result struct {
	rows  [][]string
	kinds []testenv.Kind
	names []string
}

// query runs sql over the simple protocol, so that every cell arrives as
// the server's text (NULL as "").
func query(ctx context.Context, conn *pgx.Conn, sql string) (*result, error) {
	rows, err := conn.Query(ctx, sql, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	r := &result{rows: [][]string{}}
	for _, fd := range rows.FieldDescriptions() {
		r.kinds = append(r.kinds, testenv.KindOf(arrowType(fd.DataTypeOID)))
		r.names = append(r.names, fd.Name)
	}
	for rows.Next() {
		raw := rows.RawValues()
		row := make([]string, len(raw))
		for i, v := range raw {
			row[i] = string(v)
		}
		r.rows = append(r.rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return r, nil
}

// arrowType is the Arrow type behind a PostgreSQL type oid, as far as the
// comparison kind goes (testenv.KindOf).
func arrowType(oid uint32) arrow.DataType {
	switch oid {
	case pgtype.Int2OID:
		return arrow.PrimitiveTypes.Int16
	case pgtype.Int4OID:
		return arrow.PrimitiveTypes.Int32
	case pgtype.Int8OID:
		return arrow.PrimitiveTypes.Int64
	case pgtype.NumericOID:
		return &arrow.Decimal128Type{Precision: 38, Scale: 0}
	case pgtype.Float4OID:
		return arrow.PrimitiveTypes.Float32
	case pgtype.Float8OID:
		return arrow.PrimitiveTypes.Float64
	}
	return arrow.BinaryTypes.String
}

// compare compares r with a TPC-H answer; "" if they agree.
func (r *result) compare(sql, answer string) string {
	ordered := strings.Contains(strings.ToLower(sql), "order by")
	return testenv.CompareAnswer(r.rows, r.kinds, r.names, answer, ordered)
}

// checkTPCH runs TPC-H query n at scale sf (the connection's search_path
// must name its schema) and compares it with the answer.
func checkTPCH(t testing.TB, conn *pgx.Conn, n int, sf string) {
	t.Helper()
	sql, answer := tpchQuery(t, n, sf)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, err := query(ctx, conn, sql)
	if err != nil {
		t.Fatalf("q%02d at %s: %v", n, sf, err)
	}
	if msg := r.compare(sql, answer); msg != "" {
		t.Errorf("q%02d at %s: %s", n, sf, msg)
	}
}

// setSchema points the connection's unqualified names at schema.
func setSchema(t testing.TB, conn *pgx.Conn, schema string) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), "SET search_path TO "+schema); err != nil {
		t.Fatalf("SET search_path TO %s: %v", schema, err)
	}
}

func (n node) String() string {
	return fmt.Sprintf("{%s %s address=%v state=%s threads=%d memory_used=%v running_fragments=%v last_heartbeat=%v registered_at=%v lost_at=%v}",
		n.ID, n.Role, deref(n.Address), n.State, n.Threads, deref(n.MemoryUsed), deref(n.Running), deref(n.LastHeartbeat), deref(n.Registered), deref(n.LostAt))
}
