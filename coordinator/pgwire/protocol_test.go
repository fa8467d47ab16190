package pgwire

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// rawClient speaks the protocol message by message.
type rawClient struct {
	t  testing.TB
	nc net.Conn
	fe *pgproto3.Frontend
}

func (s *testServer) dial(t testing.TB) *rawClient {
	t.Helper()
	nc, err := net.DialTimeout("tcp", s.addr.String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	return &rawClient{t: t, nc: nc, fe: pgproto3.NewFrontend(nc, nc)}
}

// startup logs in (trust) and reads up to ReadyForQuery.
func (s *testServer) login(t testing.TB) *rawClient {
	t.Helper()
	c := s.dial(t)
	c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber,
		Parameters: map[string]string{"user": "raw", "database": "quarry"}})
	c.until('Z')
	return c
}

func (c *rawClient) send(msgs ...pgproto3.FrontendMessage) {
	c.t.Helper()
	for _, m := range msgs {
		c.fe.Send(m)
	}
	if err := c.fe.Flush(); err != nil {
		c.t.Fatal(err)
	}
}

// recv returns the next message (a copy-safe description is enough here:
// callers inspect it before the next call).
func (c *rawClient) recv() pgproto3.BackendMessage {
	c.t.Helper()
	m, err := c.fe.Receive()
	if err != nil {
		c.t.Fatalf("receive: %v", err)
	}
	return m
}

// until collects the message kinds up to one of type end ('Z' for
// ReadyForQuery…), as a compact string, counting DataRows.
func (c *rawClient) until(end byte) string {
	c.t.Helper()
	var b strings.Builder
	rows := 0
	flushRows := func() {
		if rows > 0 {
			fmt.Fprintf(&b, "D*%d ", rows)
			rows = 0
		}
	}
	for {
		m := c.recv()
		k := kind(m)
		if k == 'D' {
			rows++
			continue
		}
		flushRows()
		switch m := m.(type) {
		case *pgproto3.ErrorResponse:
			fmt.Fprintf(&b, "E(%s) ", m.Code)
		case *pgproto3.CommandComplete:
			fmt.Fprintf(&b, "C(%s) ", m.CommandTag)
		case *pgproto3.ReadyForQuery:
			fmt.Fprintf(&b, "Z(%c) ", m.TxStatus)
		default:
			b.WriteByte(k)
			b.WriteByte(' ')
		}
		if k == end {
			return strings.TrimSpace(b.String())
		}
	}
}

// kind is a backend message's type byte.
func kind(m pgproto3.BackendMessage) byte {
	buf, err := m.Encode(nil)
	if err != nil || len(buf) == 0 {
		return '?'
	}
	return buf[0]
}

func TestExtendedProtocol(t *testing.T) {
	srv := startServer(t)
	c := srv.login(t)

	// Describe a statement: inferred parameter types and the row shape.
	c.send(&pgproto3.Parse{Name: "s1", Query: "SELECT n_name, n_nationkey FROM nation WHERE n_nationkey < $1 ORDER BY 2"},
		&pgproto3.Describe{ObjectType: 'S', Name: "s1"}, &pgproto3.Sync{})
	if m, ok := c.recv().(*pgproto3.ParseComplete); !ok {
		t.Fatalf("want ParseComplete, got %T", m)
	}
	pd, ok := c.recv().(*pgproto3.ParameterDescription)
	if !ok || len(pd.ParameterOIDs) != 1 || pd.ParameterOIDs[0] != oidInt4 && pd.ParameterOIDs[0] != oidInt8 {
		t.Fatalf("parameter description: %+v", pd)
	}
	rd, ok := c.recv().(*pgproto3.RowDescription)
	if !ok || len(rd.Fields) != 2 || string(rd.Fields[0].Name) != "n_name" || rd.Fields[0].DataTypeOID != oidVarchar {
		t.Fatalf("row description: %+v", rd)
	}
	if got := c.until('Z'); got != "Z(I)" {
		t.Fatalf("got %s", got)
	}

	// Bind with a text parameter, execute with a row limit: PortalSuspended,
	// then the rest on the next Execute, all in one Sync.
	c.send(&pgproto3.Bind{PreparedStatement: "s1", Parameters: [][]byte{[]byte("10")}},
		&pgproto3.Execute{MaxRows: 4}, &pgproto3.Execute{MaxRows: 4}, &pgproto3.Execute{}, &pgproto3.Sync{})
	if got := c.until('Z'); got != "2 D*4 s D*4 s D*2 C(SELECT 2) Z(I)" {
		t.Fatalf("row-limited executes: %s", got)
	}

	// A statement without rows: NoData; an empty statement.
	c.send(&pgproto3.Parse{Query: "SET application_name = 'raw'"}, &pgproto3.Bind{},
		&pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{},
		&pgproto3.Parse{Query: ""}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Sync{})
	if got := c.until('Z'); got != "1 2 n C(SET) S 1 2 I Z(I)" {
		t.Fatalf("SET and empty: %s", got)
	}

	// After an error everything up to Sync is skipped.
	c.send(&pgproto3.Parse{Query: "SELECT * FROM nope"}, &pgproto3.Bind{}, &pgproto3.Execute{},
		&pgproto3.Parse{Name: "later", Query: "SELECT 1"}, &pgproto3.Sync{},
		&pgproto3.Describe{ObjectType: 'S', Name: "later"}, &pgproto3.Sync{})
	if got := c.until('Z'); got != "E(42P01) Z(I)" {
		t.Fatalf("error: %s", got)
	}
	if got := c.until('Z'); got != "E(26000) Z(I)" {
		t.Fatalf("skipped Parse still created its statement: %s", got)
	}

	// Close and re-create a named statement; duplicate names fail.
	c.send(&pgproto3.Parse{Name: "s1", Query: "SELECT 1"}, &pgproto3.Sync{})
	if got := c.until('Z'); got != "E(42P05) Z(I)" {
		t.Fatalf("duplicate statement: %s", got)
	}
	c.send(&pgproto3.Close{ObjectType: 'S', Name: "s1"}, &pgproto3.Parse{Name: "s1", Query: "SELECT 1"}, &pgproto3.Sync{})
	if got := c.until('Z'); got != "3 1 Z(I)" {
		t.Fatalf("close and re-parse: %s", got)
	}

	// Wrong parameter count.
	c.send(&pgproto3.Bind{PreparedStatement: "s1", Parameters: [][]byte{[]byte("1")}}, &pgproto3.Sync{})
	if got := c.until('Z'); got != "E(08P01) Z(I)" {
		t.Fatalf("parameter count: %s", got)
	}

	// DEALLOCATE and DISCARD ALL close prepared statements.
	c.send(&pgproto3.Query{String: "DEALLOCATE s1"})
	if got := c.until('Z'); got != "C(DEALLOCATE) Z(I)" {
		t.Fatalf("deallocate: %s", got)
	}
	c.send(&pgproto3.Describe{ObjectType: 'S', Name: "s1"}, &pgproto3.Sync{})
	if got := c.until('Z'); got != "E(26000) Z(I)" {
		t.Fatalf("statement survived DEALLOCATE: %s", got)
	}
	c.send(&pgproto3.Parse{Name: "a", Query: "SELECT 1"}, &pgproto3.Parse{Name: "b", Query: "SELECT 2"}, &pgproto3.Sync{},
		&pgproto3.Query{String: "DISCARD ALL"}, &pgproto3.Describe{ObjectType: 'S', Name: "b"}, &pgproto3.Sync{})
	if got := c.until('Z'); got != "1 1 Z(I)" {
		t.Fatal(got)
	}
	if got := c.until('Z'); got != "C(DISCARD ALL) Z(I)" {
		t.Fatalf("discard: %s", got)
	}
	if got := c.until('Z'); got != "E(26000) Z(I)" {
		t.Fatalf("statement survived DISCARD ALL: %s", got)
	}
	c.send(&pgproto3.Terminate{})
}

// TestPortalAcrossSyncs fetches lineitem 1000 rows at a time from a named
// portal in a transaction block, as JDBC does with setFetchSize, running
// another statement between fetches.
func TestPortalAcrossSyncs(t *testing.T) {
	srv := startServer(t)
	c := srv.login(t)
	c.send(&pgproto3.Query{String: "BEGIN"})
	if got := c.until('Z'); got != "C(BEGIN) Z(T)" {
		t.Fatal(got)
	}
	c.send(&pgproto3.Parse{Name: "big", Query: "SELECT l_orderkey, l_quantity, l_shipdate FROM lineitem"},
		&pgproto3.Bind{PreparedStatement: "big", DestinationPortal: "C_1", ResultFormatCodes: []int16{1}},
		&pgproto3.Execute{Portal: "C_1", MaxRows: 1000}, &pgproto3.Sync{})
	if got := c.until('Z'); got != "1 2 D*1000 s Z(T)" {
		t.Fatalf("first fetch: %s", got)
	}
	total := 1000
	for i := 0; ; i++ {
		if i == 3 {
			c.send(&pgproto3.Query{String: "SELECT count(*) FROM nation"})
			if got := c.until('Z'); got != "T D*1 C(SELECT 1) Z(T)" {
				t.Fatalf("statement between fetches: %s", got)
			}
		}
		c.send(&pgproto3.Execute{Portal: "C_1", MaxRows: 1000}, &pgproto3.Sync{})
		got := c.until('Z')
		var n int
		if strings.HasSuffix(got, "s Z(T)") {
			fmt.Sscanf(got, "D*%d", &n)
			total += n
			continue
		}
		if got != "C(SELECT 175) Z(T)" && !strings.HasPrefix(got, "D*") {
			t.Fatalf("last fetch: %s", got)
		}
		fmt.Sscanf(got, "D*%d", &n)
		total += n
		break
	}
	if total != 60175 {
		t.Fatalf("fetched %d rows, want 60175", total)
	}
	c.send(&pgproto3.Query{String: "COMMIT"})
	if got := c.until('Z'); got != "C(COMMIT) Z(I)" {
		t.Fatal(got)
	}
	// The transaction's end closed the portal.
	c.send(&pgproto3.Execute{Portal: "C_1"}, &pgproto3.Sync{})
	if got := c.until('Z'); got != "E(34000) Z(I)" {
		t.Fatalf("portal survived COMMIT: %s", got)
	}
}

// TestSuspendedPortalClosed closes a portal while its query still has rows:
// the query stops and nothing leaks (checked by startServer).
func TestSuspendedPortalClosed(t *testing.T) {
	srv := startServer(t)
	c := srv.login(t)
	c.send(&pgproto3.Query{String: "BEGIN"})
	c.until('Z')
	c.send(&pgproto3.Parse{Query: "SELECT * FROM lineitem"}, &pgproto3.Bind{DestinationPortal: "p"},
		&pgproto3.Execute{Portal: "p", MaxRows: 10}, &pgproto3.Close{ObjectType: 'P', Name: "p"}, &pgproto3.Sync{})
	if got := c.until('Z'); got != "1 2 D*10 s 3 Z(T)" {
		t.Fatal(got)
	}
	// And a suspended portal left open when the client goes away.
	c.send(&pgproto3.Bind{DestinationPortal: "q"}, &pgproto3.Execute{Portal: "q", MaxRows: 10}, &pgproto3.Sync{})
	if got := c.until('Z'); got != "2 D*10 s Z(T)" {
		t.Fatal(got)
	}
}

func TestCopyOut(t *testing.T) {
	srv := startServer(t)
	c := srv.login(t)
	collect := func(sql string) (string, string) {
		c.send(&pgproto3.Query{String: sql})
		var data strings.Builder
		var tags []string
		for {
			switch m := c.recv().(type) {
			case *pgproto3.CopyData:
				data.Write(m.Data)
			case *pgproto3.CommandComplete:
				tags = append(tags, string(m.CommandTag))
			case *pgproto3.ErrorResponse:
				tags = append(tags, "E"+m.Code)
			case *pgproto3.ReadyForQuery:
				return data.String(), strings.Join(tags, ",")
			}
		}
	}
	data, tag := collect(`COPY (SELECT n_nationkey, n_name, CAST(NULL AS VARCHAR) AS x, 'a	b\c' AS y FROM nation WHERE n_nationkey < 2 ORDER BY 1) TO STDOUT`)
	if want := "0\tALGERIA\t\\N\ta\\tb\\\\c\n1\tARGENTINA\t\\N\ta\\tb\\\\c\n"; data != want || tag != "COPY 2" {
		t.Errorf("text copy: %q %s, want %q", data, tag, want)
	}
	data, tag = collect(`COPY (SELECT n_nationkey, n_name, 'say "hi"' AS q FROM nation WHERE n_nationkey < 2 ORDER BY 1) TO STDOUT WITH (FORMAT csv, HEADER)`)
	if want := "n_nationkey,n_name,q\n0,ALGERIA,\"say \"\"hi\"\"\"\n1,ARGENTINA,\"say \"\"hi\"\"\"\n"; data != want || tag != "COPY 2" {
		t.Errorf("csv copy: %q %s, want %q", data, tag, want)
	}
	data, tag = collect(`COPY region TO STDOUT CSV DELIMITER '|'; SELECT 1`)
	if lines := strings.Count(data, "\n"); lines != 5 || tag != "COPY 5,SELECT 1" {
		t.Errorf("table copy: %d lines, %s", lines, tag)
	}
	_, tag = collect(`COPY region FROM STDIN`)
	if tag != "E0A000" {
		t.Errorf("copy from stdin: %s", tag)
	}
}

// TestBadInput sends malformed and oversized messages: each connection is
// closed, the server keeps serving the others.
func TestBadInput(t *testing.T) {
	srv := startServer(t, withMaxMessage(1<<10))
	good := srv.login(t)
	check := func() {
		good.send(&pgproto3.Query{String: "SELECT 1"})
		if got := good.until('Z'); got != "T D*1 C(SELECT 1) Z(I)" {
			t.Fatalf("healthy connection: %s", got)
		}
	}
	expectClosed := func(c *rawClient, wantCode string) {
		t.Helper()
		for {
			m, err := c.fe.Receive()
			if err != nil {
				if wantCode != "" {
					t.Fatalf("closed without error %s: %v", wantCode, err)
				}
				return
			}
			if e, ok := m.(*pgproto3.ErrorResponse); ok {
				if e.Code != wantCode || e.Severity != "FATAL" {
					t.Fatalf("got %s %s %s, want FATAL %s", e.Severity, e.Code, e.Message, wantCode)
				}
				wantCode = ""
			}
		}
	}
	t.Run("unknown message type", func(t *testing.T) {
		c := srv.login(t)
		c.nc.Write([]byte{'!', 0, 0, 0, 4})
		expectClosed(c, "08P01")
		check()
	})
	t.Run("bad length", func(t *testing.T) {
		c := srv.login(t)
		c.nc.Write([]byte{'Q', 0, 0, 0, 2})
		expectClosed(c, "08P01")
		check()
	})
	t.Run("truncated bind", func(t *testing.T) {
		c := srv.login(t)
		c.nc.Write([]byte{'B', 0, 0, 0, 6, 0, 0})
		expectClosed(c, "08P01")
		check()
	})
	t.Run("oversized", func(t *testing.T) {
		c := srv.login(t)
		c.send(&pgproto3.Query{String: "SELECT '" + strings.Repeat("x", 2000) + "'"})
		expectClosed(c, "54000")
		check()
	})
	t.Run("bad startup", func(t *testing.T) {
		c := srv.dial(t)
		var pkt [8]byte
		binary.BigEndian.PutUint32(pkt[:], 8)
		binary.BigEndian.PutUint32(pkt[4:], 2<<16)
		c.nc.Write(pkt[:])
		expectClosed(c, "0A000")
		c = srv.dial(t)
		binary.BigEndian.PutUint32(pkt[:], 1<<30)
		c.nc.Write(pkt[:])
		expectClosed(c, "")
		check()
	})
	t.Run("no user", func(t *testing.T) {
		c := srv.dial(t)
		c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"database": "x"}})
		expectClosed(c, "28000")
	})
	t.Run("ssl and gss refused", func(t *testing.T) {
		c := srv.dial(t)
		for _, code := range []uint32{codeGSSENCRequest, codeSSLRequest} {
			var pkt [8]byte
			binary.BigEndian.PutUint32(pkt[:], 8)
			binary.BigEndian.PutUint32(pkt[4:], code)
			c.nc.Write(pkt[:])
			var b [1]byte
			if _, err := io.ReadFull(c.nc, b[:]); err != nil || b[0] != 'N' {
				t.Fatalf("request %d: %q %v", code, b, err)
			}
		}
		c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": "u"}})
		if got := c.until('Z'); !strings.HasSuffix(got, "K Z(I)") || !strings.HasPrefix(got, "R S") {
			t.Fatalf("startup after refusals: %s", got)
		}
	})
}

// TestDisconnectMidQuery leaves a long query running and goes away: the
// query is cancelled and the connection's goroutines end.
func TestDisconnectMidQuery(t *testing.T) {
	srv := startServer(t)
	c := srv.login(t)
	c.send(&pgproto3.Query{String: "SELECT count(*) FROM lineitem a, lineitem b WHERE a.l_comment < b.l_comment"})
	time.Sleep(200 * time.Millisecond)
	if srv.srv.NumConns() != 1 {
		t.Fatalf("%d connections", srv.srv.NumConns())
	}
	c.nc.Close()
	deadline := time.Now().Add(10 * time.Second)
	for srv.srv.NumConns() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("query of a vanished client still running after 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestManyIdleConnections holds 200 idle connections, runs a query on each
// and closes them; the server's goroutines go with them.
func TestManyIdleConnections(t *testing.T) {
	srv := startServer(t)
	const n = 200
	clients := make([]*rawClient, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nc, err := net.DialTimeout("tcp", srv.addr.String(), 5*time.Second)
			if err != nil {
				errs <- err
				return
			}
			nc.SetDeadline(time.Now().Add(30 * time.Second))
			fe := pgproto3.NewFrontend(nc, nc)
			fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": "idle"}})
			if err := fe.Flush(); err != nil {
				errs <- err
				return
			}
			for {
				m, err := fe.Receive()
				if err != nil {
					errs <- err
					return
				}
				if _, ok := m.(*pgproto3.ReadyForQuery); ok {
					break
				}
			}
			clients[i] = &rawClient{t: t, nc: nc, fe: fe}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := srv.srv.NumConns(); got != n {
		t.Fatalf("%d connections open, want %d", got, n)
	}
	for _, c := range clients {
		c.send(&pgproto3.Query{String: "SELECT 1"})
	}
	for _, c := range clients {
		if got := c.until('Z'); got != "T D*1 C(SELECT 1) Z(I)" {
			t.Fatal(got)
		}
		c.send(&pgproto3.Terminate{})
		c.nc.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for srv.srv.NumConns() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := srv.srv.NumConns(); got != 0 {
		t.Fatalf("%d connections left", got)
	}
}

// TestShutdown stops the server under a running query and idle clients.
func TestShutdown(t *testing.T) {
	checkGoroutines(t)
	srv := startServer(t)
	idle := srv.login(t)
	busy := srv.login(t)
	busy.send(&pgproto3.Query{String: "SELECT count(*) FROM lineitem a, lineitem b WHERE a.l_comment < b.l_comment"})
	time.Sleep(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := srv.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("shutdown took %s", d)
	}
	for _, c := range []*rawClient{idle, busy} {
		for {
			if _, err := c.fe.Receive(); err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !strings.Contains(err.Error(), "reset") {
					t.Logf("closed with %v", err)
				}
				break
			}
		}
	}
	if _, err := net.DialTimeout("tcp", srv.addr.String(), time.Second); err == nil {
		t.Fatal("still accepting after shutdown")
	}
}
