// Package pgwire is Quarry's PostgreSQL front door: it speaks the
// PostgreSQL v3 wire protocol (startup, TLS, trust / SCRAM-SHA-256 /
// cleartext authentication, the simple and extended query protocols, COPY TO
// STDOUT, cancel requests) and turns it into coordinator sessions, encoding
// Arrow result batches as PostgreSQL text or binary values as they stream.
package pgwire

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/quarrydb/quarry/catalog"
	"github.com/quarrydb/quarry/coordinator"
)

// Authentication modes.
const (
	AuthTrust = "trust" // any user, no password
	AuthSCRAM = "scram" // users from the catalog: SCRAM-SHA-256, or cleartext for users marked so
)

// DefaultMaxMessageSize bounds one client message (a Query, a Bind…).
const DefaultMaxMessageSize = 64 << 20

// ServerVersion is the server_version reported to clients; psql and the
// drivers pick their catalog queries by its major version.
const ServerVersion = "15.6 (Quarry)"

// UserStore looks users up for password authentication; the catalog is one.
type UserStore interface {
	// User returns the user called name, or nil when there is none.
	User(name string) (*catalog.User, error)
}

// Config configures a Server.
type Config struct {
	Engine *coordinator.Engine
	// TLS, when set, is offered to clients that send SSLRequest.
	TLS *tls.Config
	// Auth is AuthTrust (default) or AuthSCRAM.
	Auth string
	// Users authenticates under AuthSCRAM (default: the engine's catalog).
	Users UserStore
	// Logger receives connection logs (slog.Default() if nil).
	Logger *slog.Logger
	// MaxMessageSize bounds a client message (DefaultMaxMessageSize if 0).
	MaxMessageSize int
	// StartupTimeout bounds the startup and authentication exchange
	// (default 60 s, PostgreSQL's authentication_timeout).
	StartupTimeout time.Duration
}

// Server serves the PostgreSQL wire protocol for one engine.
type Server struct {
	cfg Config
	log *slog.Logger

	ctx    context.Context // cancelled by Shutdown: cancels every query
	cancel context.CancelFunc

	mu       sync.Mutex
	ln       []net.Listener
	conns    map[*conn]struct{}
	closing  bool
	wg       sync.WaitGroup // connection goroutines
	keys     keyRegistry
	serveErr error
}

// NewServer checks cfg and returns a server that is not listening yet.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Engine == nil {
		return nil, errors.New("pgwire: no engine")
	}
	switch cfg.Auth {
	case "":
		cfg.Auth = AuthTrust
	case AuthTrust, AuthSCRAM:
	default:
		return nil, fmt.Errorf("pgwire: unknown auth %q (want %s or %s)", cfg.Auth, AuthTrust, AuthSCRAM)
	}
	if cfg.Users == nil {
		cfg.Users = cfg.Engine.Catalog()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = DefaultMaxMessageSize
	}
	if cfg.StartupTimeout <= 0 {
		cfg.StartupTimeout = 60 * time.Second
	}
	s := &Server{cfg: cfg, log: cfg.Logger, conns: map[*conn]struct{}{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.keys.init()
	return s, nil
}

// Serve accepts connections on ln until Shutdown; it then returns nil.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.ln = append(s.ln, ln)
	s.mu.Unlock()
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closing := s.closing
			s.mu.Unlock()
			if closing {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.log.Warn("pgwire: accept", "err", err, "retry in", delay)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		c := newConn(s, nc)
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			nc.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			c.serve()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// Shutdown stops accepting, cancels running queries, closes every
// connection and waits for their goroutines (or ctx).
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	lns := s.ln
	s.ln = nil
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	var errs []error
	for _, ln := range lns {
		if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	s.cancel()
	for _, c := range conns {
		c.close()
	}
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("pgwire: connections still open: %w", ctx.Err()))
	}
	return errors.Join(errs...)
}

// NumConns is the number of open client connections.
func (s *Server) NumConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}
