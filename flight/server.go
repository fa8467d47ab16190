package flight

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// Backend is the engine behind the Flight SQL door. The coordinator
// implements it; the door only moves statements, parameters and batches.
type Backend interface {
	// NewSession returns the state of one client (its default schema and
	// what SET/USE change), created when the client first calls.
	NewSession(user string) Session
	// Schemas lists the namespaces tables live in (sources, "src.folder"
	// folders, the memory tables' schema), in any order.
	Schemas(ctx context.Context) ([]string, error)
	// Tables lists every table and view.
	Tables(ctx context.Context) ([]Table, error)
	// TableSchema returns the columns of a table or view from Tables.
	TableSchema(ctx context.Context, t Table) (*arrow.Schema, error)
}

// Table types reported by GetTables and GetTableTypes.
const (
	TableTypeTable = "TABLE"
	TableTypeView  = "VIEW"
)

// Table is one table or view as the metadata listings show it.
type Table struct {
	// Schema is the db_schema_name ("" for a name without one).
	Schema string
	Name   string
	Type   string // TableTypeTable or TableTypeView
	// Path is the qualified name the backend resolves.
	Path []string
}

// Session is one client's statements. Its methods may be called
// concurrently (a client may read one result while it prepares the next
// statement); the backend serializes what must be.
type Session interface {
	// Prepare plans sql, one statement with $n placeholders, without
	// running it.
	Prepare(ctx context.Context, sql string) (Statement, error)
	// Execute runs every statement of sql (the update path).
	Execute(ctx context.Context, sql string, sink Sink) error
}

// Distributor is an optional interface of a Session whose queries can be
// read from several places at once (the executors of a cluster): the
// FlightInfo of such a query lists one endpoint per place, which clients
// fetch in parallel.
type Distributor interface {
	// Distribute starts sql and returns its result schema and endpoints;
	// ok is false when the statement does not qualify (nothing started).
	Distribute(ctx context.Context, sql string) (schema *arrow.Schema, endpoints []Endpoint, ok bool, err error)
}

// Endpoint is one part of a result: the Flight address that serves it
// ("host:port") and its ticket there.
type Endpoint struct {
	Address string
	Ticket  []byte
}

// SchemaSession is a Session whose default schema clients may read and set
// through the Flight SQL session option "schema" (ADBC's current db
// schema). It is optional.
type SchemaSession interface {
	DefaultSchema() string
	SetDefaultSchema(schema string)
}

// Statement is a prepared statement.
type Statement interface {
	// ParamTypes are the types of $1, $2, ….
	ParamTypes() []arrow.DataType
	// Schema is the result's schema; nil for a statement without rows.
	Schema() *arrow.Schema
	// Run executes the statement with params ($1 is params[0]) in the
	// engine's literal form: nil, bool, int32, int64, float64,
	// decimal128.Num, string (text converted to the parameter's type),
	// arrow.Date32 or arrow.Timestamp (µs).
	Run(ctx context.Context, params []any, sink Sink) error
}

// Sink receives a statement's outcome: Begin, then Batch per batch (the
// sink retains what it keeps), then End; only End for a statement without
// rows. It is coordinator.ResultSink by another name.
type Sink interface {
	Begin(schema *arrow.Schema) error
	Batch(rec arrow.Record) error
	End(tag string, rows int64) error
}

// Authenticator checks a user's password; it returns an error to refuse.
type Authenticator func(ctx context.Context, user, password string) error

// Options configure a Server.
type Options struct {
	Backend Backend
	// Auth checks passwords; nil trusts every client (tokens are still
	// issued to clients that handshake).
	Auth Authenticator
	// TLS, when set, serves gRPC over TLS.
	TLS *tls.Config
	// Alloc allocates the door's own buffers (parameters, listings).
	Alloc memory.Allocator
	// Logger receives the door's logs (slog.Default() if nil).
	Logger *slog.Logger
	// Version is the server version reported in SqlInfo.
	Version string
}

// Time limits for what clients leave behind.
const (
	ticketTTL   = 15 * time.Minute // a FlightInfo's ticket not fetched
	preparedTTL = 12 * time.Hour   // a prepared statement not used
	clientTTL   = 12 * time.Hour   // a client's session and token not used
	// maxMessageBytes is the size a result batch is cut to: clients
	// receive at most 4 MiB per gRPC message by default.
	maxMessageBytes = 2 << 20
	// writeBufferBytes is the size of a connection's write buffer.
	writeBufferBytes = 1 << 20
)

// Server is the Arrow Flight SQL front door.
type Server struct {
	flightsql.BaseServer

	backend Backend
	auth    Authenticator
	alloc   memory.Allocator
	log     *slog.Logger
	grpc    *grpc.Server

	mu       sync.Mutex
	clients  map[string]*client   // session key →
	tokens   map[string]string    // bearer token → session key
	queries  map[string]*query    // ticket handle →
	prepared map[string]*prepared // prepared statement handle →
}

// NewServer builds the Flight SQL door; Serve starts it.
func NewServer(opts Options) (*Server, error) {
	if opts.Backend == nil {
		return nil, errors.New("flight: no backend")
	}
	if opts.Alloc == nil {
		opts.Alloc = memory.DefaultAllocator
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{
		backend:  opts.Backend,
		auth:     opts.Auth,
		alloc:    opts.Alloc,
		log:      opts.Logger,
		clients:  map[string]*client{},
		tokens:   map[string]string{},
		queries:  map[string]*query{},
		prepared: map[string]*prepared{},
	}
	s.BaseServer.Alloc = opts.Alloc
	if err := s.registerSqlInfo(opts.Version); err != nil {
		return nil, err
	}
	gopts := []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(s.unaryAuth),
		grpc.ChainStreamInterceptor(s.streamAuth),
		grpc.MaxRecvMsgSize(64 << 20),
		// DoGet's messages are written from the batches' own memory
		// (see doget.go).
		grpc.ForceServerCodecV2(newFrameCodec()),
		// Results are gathered into writes of up to writeBufferBytes: with
		// gRPC's 32 KiB, streaming a large result costs a system call per
		// 32 KiB. Idle connections hand their buffer back.
		grpc.WriteBufferSize(writeBufferBytes),
		grpc.SharedWriteBuffer(true),
	}
	if opts.TLS != nil {
		gopts = append(gopts, grpc.Creds(credentials.NewTLS(opts.TLS)))
	}
	s.grpc = grpc.NewServer(gopts...)
	flight.RegisterFlightServiceServer(s.grpc, &service{
		FlightServer: flightsql.NewFlightServerWithAllocator(s, opts.Alloc),
		s:            s,
	})
	return s, nil
}

// Serve serves on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	err := s.grpc.Serve(ln)
	if errors.Is(err, grpc.ErrServerStopped) {
		return nil
	}
	return err
}

// Shutdown stops accepting calls and cancels running queries; it waits for
// the calls in flight until ctx is done, then closes them.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	for _, q := range s.queries {
		if q.cancel != nil {
			q.cancel()
		}
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.grpc.Stop()
		<-done
		return ctx.Err()
	}
}

// service is the Flight service: arrow-go's Flight SQL routing with
// Quarry's handshake.
type service struct {
	flight.FlightServer
	s *Server
}

func (v *service) Handshake(stream flight.FlightService_HandshakeServer) error {
	return v.s.handshake(stream)
}

// newHandle returns a random identifier for tokens, tickets and prepared
// statements.
func newHandle() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b[:])
}
