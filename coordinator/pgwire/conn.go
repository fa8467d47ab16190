package pgwire

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/coordinator"
)

// Startup packet codes (the first int32 of a packet without a type byte).
const (
	codeSSLRequest    = 80877103
	codeGSSENCRequest = 80877104
	codeCancelRequest = 80877102
	maxStartupPacket  = 10_000
)

// flushThreshold is how many buffered bytes make a connection write out
// before its message is complete: results stream instead of piling up.
const flushThreshold = 32 << 10

// flushInterval makes a slow result reach the client even when its batches
// are small.
const flushInterval = 10 * time.Millisecond

// errClose ends a connection after what had to be said was said.
var errClose = errors.New("pgwire: close connection")

// conn is one client connection. Its messages are handled by serve's
// goroutine; a second goroutine (readLoop) reads the socket ahead so that a
// client that goes away cancels the query it left running.
type conn struct {
	srv *Server
	log *slog.Logger
	raw net.Conn // the TCP connection
	nc  net.Conn // raw, or the TLS connection over it
	be  *pgproto3.Backend

	ctx  context.Context // done when the client is gone or the server stops
	stop context.CancelFunc

	wbuf      []byte
	encs      []encoder // reused per batch
	lastFlush time.Time
	ioErr     error

	pid    uint32
	secret [4]byte
	act    activity

	user     string
	database string
	appName  string
	sess     *coordinator.Session
	txn      byte // 'I' idle, 'T' in a transaction block, 'E' failed block
	stmts    map[string]*statement
	portals  map[string]*portal
	skipping bool // after an error in the extended protocol, until Sync

	closeOnce sync.Once
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{srv: s, raw: nc, nc: nc, txn: 'I', stmts: map[string]*statement{}, portals: map[string]*portal{}}
	c.ctx, c.stop = context.WithCancel(s.ctx)
	c.log = s.log.With("remote", nc.RemoteAddr().String())
	return c
}

// close ends the connection from outside its goroutine (server shutdown):
// the running query is cancelled and the socket closed, which ends serve.
func (c *conn) close() {
	c.stop()
	c.raw.Close()
}

// cancelRunning cancels the query the connection is running, if any.
func (c *conn) cancelRunning() { c.act.fire() }

// serve runs the connection to its end.
func (c *conn) serve() {
	readerDone := make(chan struct{})
	started := false
	defer func() {
		c.closePortals()
		c.srv.keys.unregister(c)
		c.stop()
		c.nc.Close()
		c.raw.Close()
		if started {
			<-readerDone
		}
	}()
	c.raw.SetDeadline(time.Now().Add(c.srv.cfg.StartupTimeout))
	sm, err := c.startupMessage()
	if err != nil {
		if !errors.Is(err, errClose) && !isDisconnect(err) {
			c.log.Info("pgwire: startup failed", "err", err)
		}
		return
	}
	// From here on messages come through the pipe that readLoop fills.
	pr, pw := io.Pipe()
	defer pr.Close()
	started = true
	go c.readLoop(pw, readerDone)
	c.be = pgproto3.NewBackend(pr, nil)
	c.be.SetMaxBodyLen(c.srv.cfg.MaxMessageSize)
	if err := c.begin(sm); err != nil {
		if !errors.Is(err, errClose) && !isDisconnect(err) {
			c.log.Info("pgwire: connection refused", "user", c.user, "err", err)
		}
		return
	}
	c.raw.SetDeadline(time.Time{})
	c.log = c.log.With("pid", c.pid, "user", c.user)
	c.log.Debug("pgwire: connected", "database", c.database, "application", c.appName)
	if err := c.loop(); err != nil && !errors.Is(err, errClose) && !isDisconnect(err) {
		c.log.Warn("pgwire: closing connection", "err", err)
	}
	c.log.Debug("pgwire: disconnected")
}

// isDisconnect reports errors that only say the client went away.
func isDisconnect(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, io.ErrClosedPipe) || strings.Contains(err.Error(), "connection reset by peer") ||
		strings.Contains(err.Error(), "broken pipe")
}

// readLoop copies the socket into the pipe serve reads from. When the
// socket fails or closes it cancels the connection's context, so a query
// left running by a vanished client stops.
func (c *conn) readLoop(pw *io.PipeWriter, done chan<- struct{}) {
	defer close(done)
	buf := make([]byte, 8<<10)
	for {
		n, err := c.nc.Read(buf)
		if n > 0 {
			if _, werr := pw.Write(buf[:n]); werr != nil {
				c.stop()
				return
			}
		}
		if err != nil {
			c.stop()
			pw.CloseWithError(err)
			return
		}
	}
}

// startupMessage negotiates TLS and reads the StartupMessage; a cancel
// request is served and ends the connection (errClose).
func (c *conn) startupMessage() (*pgproto3.StartupMessage, error) {
	var hdr [4]byte
	for {
		if err := readFull(c.nc, hdr[:]); err != nil {
			return nil, err
		}
		n := int(int32(binary.BigEndian.Uint32(hdr[:]))) - 4
		if n < 4 || n > maxStartupPacket {
			return nil, fmt.Errorf("invalid length of startup packet: %d", n+4)
		}
		body := make([]byte, n)
		if err := readFull(c.nc, body); err != nil {
			return nil, err
		}
		code := binary.BigEndian.Uint32(body)
		switch code {
		case codeSSLRequest:
			_, isTLS := c.nc.(*tls.Conn)
			if c.srv.cfg.TLS == nil || isTLS {
				if _, err := c.nc.Write([]byte{'N'}); err != nil {
					return nil, err
				}
				continue
			}
			if _, err := c.nc.Write([]byte{'S'}); err != nil {
				return nil, err
			}
			tc := tls.Server(c.raw, c.srv.cfg.TLS)
			if err := tc.HandshakeContext(c.ctx); err != nil {
				return nil, fmt.Errorf("TLS handshake: %w", err)
			}
			c.nc = tc
		case codeGSSENCRequest:
			if _, err := c.nc.Write([]byte{'N'}); err != nil {
				return nil, err
			}
		case codeCancelRequest:
			var req pgproto3.CancelRequest
			if err := req.Decode(body); err != nil {
				return nil, err
			}
			if !c.srv.keys.cancel(&req) {
				c.log.Info("pgwire: cancel request for an unknown backend or with a wrong key", "pid", req.ProcessID)
			}
			return nil, errClose
		default:
			major, minor := code>>16, code&0xffff
			if major != 3 {
				c.fatal(sqlerr.New("0A000", "unsupported frontend protocol %d.%d: server supports 3.0", major, minor))
				return nil, errClose
			}
			binary.BigEndian.PutUint32(body, pgproto3.ProtocolVersion30)
			sm := &pgproto3.StartupMessage{}
			if err := sm.Decode(body); err != nil {
				c.fatal(sqlerr.New(sqlerr.ProtocolViolation, "invalid startup packet layout"))
				return nil, err
			}
			var unknown []string
			for k := range sm.Parameters {
				if strings.HasPrefix(k, "_pq_.") {
					unknown = append(unknown, k)
				}
			}
			if minor != 0 || len(unknown) > 0 {
				c.send(&pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: 0, UnrecognizedOptions: unknown})
			}
			return sm, nil
		}
	}
}

// begin authenticates the user of sm, opens the session and says hello.
func (c *conn) begin(sm *pgproto3.StartupMessage) error {
	p := sm.Parameters
	c.user = p["user"]
	if c.user == "" {
		c.fatal(sqlerr.New("28000", "no PostgreSQL user name specified in startup packet"))
		return errClose
	}
	c.database = p["database"]
	if c.database == "" {
		c.database = c.user
	}
	c.appName = p["application_name"]
	schema := c.defaultSchema(p)
	if err := c.authenticate(); err != nil {
		return err
	}
	c.srv.keys.register(c)
	c.sess = c.srv.cfg.Engine.NewSession(schema)
	c.sess.SetProtocolStatements(c.protocolStatement)
	c.send(&pgproto3.AuthenticationOk{})
	for _, kv := range [][2]string{
		{"application_name", c.appName},
		{"client_encoding", "UTF8"},
		{"DateStyle", "ISO, MDY"},
		{"default_transaction_read_only", "off"},
		{"in_hot_standby", "off"},
		{"integer_datetimes", "on"},
		{"IntervalStyle", "postgres"},
		{"is_superuser", "on"},
		{"server_encoding", "UTF8"},
		{"server_version", ServerVersion},
		{"session_authorization", c.user},
		{"standard_conforming_strings", "on"},
		{"TimeZone", "UTC"},
	} {
		c.send(&pgproto3.ParameterStatus{Name: kv[0], Value: kv[1]})
	}
	c.send(&pgproto3.BackendKeyData{ProcessID: c.pid, SecretKey: c.secret[:]})
	c.readyForQuery()
	return c.flush()
}

// defaultSchema picks the session's schema: search_path from the options
// startup parameter, else the database when it names a source, else the
// engine's default.
func (c *conn) defaultSchema(p map[string]string) string {
	if sp := p["search_path"]; sp != "" {
		return firstSchema(sp)
	}
	for name, value := range parseOptions(p["options"]) {
		if strings.EqualFold(name, "search_path") {
			return firstSchema(value)
		}
	}
	if srcs, err := c.srv.cfg.Engine.Sources(); err == nil {
		for _, s := range srcs {
			if strings.EqualFold(s.Name, c.database) {
				return s.Name
			}
		}
	}
	return ""
}

func firstSchema(searchPath string) string {
	first, _, _ := strings.Cut(searchPath, ",")
	return strings.Trim(strings.TrimSpace(first), `"`)
}

// parseOptions reads the startup options parameter: "-c name=value" and
// "--name=value" settings separated by spaces ("\ " is a space in a value).
func parseOptions(opts string) map[string]string {
	var words []string
	var cur strings.Builder
	for i := 0; i < len(opts); i++ {
		switch ch := opts[i]; {
		case ch == '\\' && i+1 < len(opts):
			i++
			cur.WriteByte(opts[i])
		case ch == ' ' || ch == '\t':
			if cur.Len() > 0 {
				words = append(words, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteByte(ch)
		}
	}
	if cur.Len() > 0 {
		words = append(words, cur.String())
	}
	out := map[string]string{}
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "-c" && i+1 < len(words):
			i++
			w = words[i]
		case strings.HasPrefix(w, "--"):
			w = w[2:]
		case strings.HasPrefix(w, "-c"):
			w = w[2:]
		default:
			continue
		}
		if k, v, ok := strings.Cut(w, "="); ok {
			out[strings.ReplaceAll(k, "-", "_")] = v
		}
	}
	return out
}

// loop handles messages until the client leaves or breaks the protocol.
func (c *conn) loop() error {
	for {
		msg, err := c.be.Receive()
		if err != nil {
			var tooBig *pgproto3.ExceededMaxBodyLenErr
			if errors.As(err, &tooBig) {
				c.fatal(sqlerr.New("54000", "message of %d bytes exceeds the limit of %d bytes", tooBig.ActualBodyLen, tooBig.MaxExpectedBodyLen))
			} else if !isDisconnect(err) {
				c.fatal(sqlerr.New(sqlerr.ProtocolViolation, "invalid message: %v", err))
			}
			return err
		}
		if _, ok := msg.(*pgproto3.Terminate); ok {
			return nil
		}
		if c.skipping {
			if _, ok := msg.(*pgproto3.Sync); !ok {
				continue
			}
		}
		switch m := msg.(type) {
		case *pgproto3.Query:
			c.simpleQuery(m.String)
		case *pgproto3.Parse:
			c.parse(m)
		case *pgproto3.Bind:
			c.bind(m)
		case *pgproto3.Describe:
			c.describe(m)
		case *pgproto3.Execute:
			c.execute(m)
		case *pgproto3.Close:
			c.closeObject(m)
		case *pgproto3.Sync:
			c.skipping = false
			c.readyForQuery()
			c.flush()
		case *pgproto3.Flush:
			c.flush()
		case *pgproto3.CopyData, *pgproto3.CopyDone, *pgproto3.CopyFail:
			// Outside COPY FROM these are ignored, as PostgreSQL does.
		case *pgproto3.FunctionCall:
			c.sendError(sqlerr.New(sqlerr.FeatureNotSupported, "function call messages are not supported"))
			c.readyForQuery()
			c.flush()
		default:
			c.fatal(sqlerr.New(sqlerr.ProtocolViolation, "unexpected message %T", msg))
			return fmt.Errorf("unexpected message %T", msg)
		}
		if c.ioErr != nil {
			return c.ioErr
		}
	}
}

// --- output -------------------------------------------------------------

// send buffers a message.
func (c *conn) send(msg pgproto3.BackendMessage) {
	buf, err := msg.Encode(c.wbuf)
	if err != nil {
		c.log.Error("pgwire: encode", "msg", fmt.Sprintf("%T", msg), "err", err)
		return
	}
	c.wbuf = buf
}

// flush writes the buffered messages out.
func (c *conn) flush() error {
	if c.ioErr != nil {
		return c.ioErr
	}
	if len(c.wbuf) > 0 {
		_, err := c.nc.Write(c.wbuf)
		if cap(c.wbuf) > 4*flushThreshold {
			c.wbuf = make([]byte, 0, flushThreshold)
		} else {
			c.wbuf = c.wbuf[:0]
		}
		if err != nil {
			c.ioErr = err
			c.stop()
			return err
		}
	}
	c.lastFlush = time.Now()
	return nil
}

func (c *conn) readyForQuery() {
	if c.txn == 'I' {
		// The implicit transaction ended: its portals go with it.
		c.closePortals()
	}
	c.send(&pgproto3.ReadyForQuery{TxStatus: c.txn})
}

// errorResponse is err as PostgreSQL reports it.
func errorResponse(err error, severity string) *pgproto3.ErrorResponse {
	e := sqlerr.As(err)
	return &pgproto3.ErrorResponse{
		Severity:            severity,
		SeverityUnlocalized: severity,
		Code:                e.Code,
		Message:             e.Msg,
		Position:            int32(e.Pos),
	}
}

// sendError reports a statement's failure; the connection goes on.
func (c *conn) sendError(err error) {
	if c.txn == 'T' {
		c.txn = 'E'
	}
	c.send(errorResponse(err, "ERROR"))
}

// fatal reports an error that ends the connection, and writes it out.
func (c *conn) fatal(err error) {
	c.send(errorResponse(err, "FATAL"))
	c.flush()
}

// checkFailedTxn refuses, as PostgreSQL does, every statement but one
// ending the transaction block while the block is failed (status 'E').
func (c *conn) checkFailedTxn(sql string) error {
	if c.txn != 'E' {
		return nil
	}
	first := strings.Fields(strings.ToLower(stripLeadingComments(sql)))
	if len(first) == 0 {
		return nil // an empty query
	}
	switch strings.TrimSuffix(first[0], ";") {
	case "rollback", "commit", "end", "abort", "":
		return nil
	}
	return sqlerr.New("25P02", "current transaction is aborted, commands ignored until end of transaction block")
}

// noteTag follows the transaction state through command tags.
func (c *conn) noteTag(tag string) {
	switch tag {
	case "BEGIN", "START TRANSACTION":
		if c.txn == 'I' {
			c.txn = 'T'
		}
	case "COMMIT", "ROLLBACK", "END", "ABORT":
		c.txn = 'I'
	}
}

// startActivity returns the context of one query; a CancelRequest cancels
// it until done is called.
func (c *conn) startActivity() (ctx context.Context, done func()) {
	ctx, cancel := context.WithCancel(c.ctx)
	c.act.set(cancel)
	c.lastFlush = time.Now()
	return ctx, func() {
		c.act.set(nil)
		cancel()
	}
}

// readFull reads exactly len(buf) bytes.
func readFull(r io.Reader, buf []byte) error {
	_, err := io.ReadFull(r, buf)
	return err
}
