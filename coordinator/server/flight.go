package server

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quarrydb/quarry/catalog"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/coordinator"
	"github.com/quarrydb/quarry/coordinator/httpapi"
	"github.com/quarrydb/quarry/flight"
)

// startFlight opens the Arrow Flight SQL door.
func startFlight(eng *coordinator.Engine, opts Options, tlsConf *tls.Config, log *slog.Logger) (*door, error) {
	auth, err := flightAuth(eng, opts.Auth)
	if err != nil {
		return nil, err
	}
	srv, err := flight.NewServer(flight.Options{
		Backend: flightBackend{eng: eng, distribute: opts.FlightEndpoints == EndpointsExecutors},
		Auth:    auth,
		TLS:     tlsConf,
		Logger:  log,
		Version: httpapi.Version,
	})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", opts.FlightAddr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", opts.FlightAddr, err)
	}
	a := ln.Addr().String()
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && auth == nil && !tcp.IP.IsLoopback() {
		log.Warn("Arrow Flight SQL door trusts every client on a non-loopback address; use --auth scram", "addr", a)
	}
	scheme, jdbcTLS := "grpc+tcp", "false"
	if tlsConf != nil {
		scheme, jdbcTLS = "grpc+tls", "true"
	}
	howTo := fmt.Sprintf("  Flight:    %s://%s (Arrow Flight SQL; ADBC URI)\n"+
		"             jdbc:arrow-flight-sql://%s?useEncryption=%s\n", scheme, a, a, jdbcTLS)
	return &door{
		name:     "Arrow Flight SQL",
		addr:     a,
		howTo:    howTo,
		serve:    func() error { return srv.Serve(ln) },
		shutdown: srv.Shutdown,
	}, nil
}

// flightAuth returns the password check of auth mode mode: nil for trust,
// the catalog's users for scram.
func flightAuth(eng *coordinator.Engine, mode string) (flight.Authenticator, error) {
	switch mode {
	case "", "trust":
		return nil, nil
	case "scram":
		verified := newCredentialCache(5*time.Minute, 1024)
		return func(ctx context.Context, user, password string) error {
			// Basic auth sends the password with every call; a SCRAM
			// verifier check (PBKDF2) per call would dominate short ones.
			if verified.ok(user, password) {
				return nil
			}
			if err := CheckPassword(eng.Catalog(), user, password); err != nil {
				return err
			}
			verified.add(user, password)
			return nil
		}, nil
	}
	return nil, fmt.Errorf("unknown auth mode %q (want trust or scram)", mode)
}

// errBadPassword is what every failed password check returns, so that a
// client cannot tell unknown users from wrong passwords.
var errBadPassword = errors.New("password authentication failed")

// CheckPassword checks password against the SCRAM verifier of user in cat.
func CheckPassword(cat *catalog.Catalog, user, password string) error {
	u, err := cat.User(user)
	if err != nil {
		return err
	}
	if u == nil || !u.CheckPassword(password) {
		return errBadPassword
	}
	return nil
}

// FlightBackend adapts eng to the Flight SQL door.
func FlightBackend(eng *coordinator.Engine) flight.Backend { return flightBackend{eng: eng} }

// FlightBackendFromExecutors is FlightBackend with results that need no
// final merge read from the executors of eng's cluster, in parallel
// (--flight-endpoints executors).
func FlightBackendFromExecutors(eng *coordinator.Engine) flight.Backend {
	return flightBackend{eng: eng, distribute: true}
}

type flightBackend struct {
	eng *coordinator.Engine
	// distribute lets clients read results from the executors directly.
	distribute bool
}

// NewSession keeps a client's default schema. Each statement runs on a
// fresh engine session (they are cheap) started from it, so that a client
// may prepare or fetch one statement while another result is still being
// read; USE and SET carry over to the client's next statements.
func (b flightBackend) NewSession(string) flight.Session {
	s := &flightSession{eng: b.eng, schema: b.eng.DefaultSchema()}
	if b.distribute && b.eng.Cluster() != nil {
		return distributingSession{s}
	}
	return s
}

// distributingSession is a session whose results clients read from the
// executors, one endpoint each, when the query allows it.
type distributingSession struct{ *flightSession }

func (s distributingSession) Distribute(ctx context.Context, sql string) (*arrow.Schema, []flight.Endpoint, bool, error) {
	sess, _ := s.session()
	schema, eps, ok, err := sess.Distribute(ctx, sql)
	if err != nil || !ok {
		return nil, nil, ok, err
	}
	out := make([]flight.Endpoint, len(eps))
	for i, ep := range eps {
		out[i] = flight.Endpoint{Address: ep.Address, Ticket: ep.Ticket}
	}
	return schema, out, true, nil
}

func (b flightBackend) Schemas(context.Context) ([]string, error) {
	srcs, err := b.eng.Sources()
	if err != nil {
		return nil, err
	}
	out := make([]string, len(srcs))
	for i, s := range srcs {
		out[i] = s.Name
	}
	return out, nil
}

func (b flightBackend) Tables(ctx context.Context) ([]flight.Table, error) {
	cat := b.eng.Catalog()
	srcs, err := b.eng.Sources()
	if err != nil {
		return nil, err
	}
	names := [][]string{}
	for _, src := range append([]string{catalog.MemSource}, sourceNames(srcs)...) {
		ns, err := cat.ListDatasets(ctx, src)
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			continue // a source whose folder is gone lists nothing
		}
		names = append(names, ns...)
	}
	out := make([]flight.Table, 0, len(names))
	for _, n := range names {
		out = append(out, tableOf(n, flight.TableTypeTable))
	}
	views, err := cat.Views()
	if err != nil {
		return nil, err
	}
	for _, v := range views {
		out = append(out, tableOf(v.Path, flight.TableTypeView))
	}
	return out, nil
}

func sourceNames(srcs []catalog.Source) []string {
	out := make([]string, len(srcs))
	for i, s := range srcs {
		out[i] = s.Name
	}
	return out
}

// tableOf names path as schema ("src" or "src.folder") and table.
func tableOf(path []string, typ string) flight.Table {
	n := len(path)
	return flight.Table{Schema: strings.Join(path[:n-1], "."), Name: path[n-1], Type: typ, Path: path}
}

func (b flightBackend) TableSchema(ctx context.Context, t flight.Table) (*arrow.Schema, error) {
	if t.Type == flight.TableTypeTable {
		ds, err := b.eng.Catalog().Lookup(ctx, t.Path, "")
		if err != nil {
			return nil, err
		}
		return ds.Schema, nil
	}
	quoted := make([]string, len(t.Path))
	for i, p := range t.Path {
		quoted[i] = `"` + strings.ReplaceAll(p, `"`, `""`) + `"`
	}
	ps, err := b.eng.NewSession("").Prepare(ctx, "SELECT * FROM "+strings.Join(quoted, "."), nil)
	if err != nil {
		return nil, err
	}
	return ps.Schema, nil
}

type flightSession struct {
	eng    *coordinator.Engine
	mu     sync.Mutex
	schema string
}

func (s *flightSession) DefaultSchema() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.schema
}

func (s *flightSession) SetDefaultSchema(schema string) {
	s.mu.Lock()
	s.schema = schema
	s.mu.Unlock()
}

// session starts an engine session at the client's default schema.
func (s *flightSession) session() (*coordinator.Session, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eng.NewSession(s.schema), s.schema
}

// keep carries a USE that sess ran over to the client.
func (s *flightSession) keep(sess *coordinator.Session, started string) {
	if now := sess.DefaultSchema(); now != started {
		s.mu.Lock()
		s.schema = now
		s.mu.Unlock()
	}
}

func (s *flightSession) Prepare(ctx context.Context, sql string) (flight.Statement, error) {
	sess, _ := s.session()
	ps, err := sess.Prepare(ctx, sql, nil)
	if err != nil {
		return nil, err
	}
	if ps.Empty {
		return nil, sqlerr.New(sqlerr.SyntaxError, "empty statement")
	}
	return &flightStatement{s: s, ps: ps}, nil
}

func (s *flightSession) Execute(ctx context.Context, sql string, sink flight.Sink) error {
	sess, started := s.session()
	err := sess.Execute(ctx, sql, sink)
	s.keep(sess, started)
	return err
}

type flightStatement struct {
	s  *flightSession
	ps *coordinator.Prepared
}

func (st *flightStatement) ParamTypes() []arrow.DataType { return st.ps.ParamTypes }
func (st *flightStatement) Schema() *arrow.Schema        { return st.ps.Schema }

func (st *flightStatement) Run(ctx context.Context, params []any, sink flight.Sink) error {
	sess, started := st.s.session()
	err := sess.ExecutePrepared(ctx, st.ps, params, sink)
	st.s.keep(sess, started)
	return err
}

// credentialCache remembers recently verified user/password pairs, by a
// keyed hash (the passwords themselves are not kept), for ttl.
type credentialCache struct {
	mu      sync.Mutex
	key     [32]byte
	ttl     time.Duration
	max     int
	entries map[[32]byte]time.Time
}

func newCredentialCache(ttl time.Duration, max int) *credentialCache {
	c := &credentialCache{ttl: ttl, max: max, entries: map[[32]byte]time.Time{}}
	if _, err := rand.Read(c.key[:]); err != nil {
		c.max = 0 // no randomness: do not cache
	}
	return c
}

func (c *credentialCache) sum(user, password string) [32]byte {
	m := hmac.New(sha256.New, c.key[:])
	m.Write([]byte(user))
	m.Write([]byte{0})
	m.Write([]byte(password))
	var out [32]byte
	copy(out[:], m.Sum(nil))
	return out
}

func (c *credentialCache) ok(user, password string) bool {
	k := c.sum(user, password)
	c.mu.Lock()
	defer c.mu.Unlock()
	exp, found := c.entries[k]
	if found && time.Now().After(exp) {
		delete(c.entries, k)
		return false
	}
	return found
}

func (c *credentialCache) add(user, password string) {
	if c.max == 0 {
		return
	}
	k := c.sum(user, password)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		now := time.Now()
		for e, exp := range c.entries {
			if now.After(exp) || len(c.entries) >= c.max {
				delete(c.entries, e)
			}
		}
	}
	c.entries[k] = time.Now().Add(c.ttl)
}
