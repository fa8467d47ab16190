package flight

import (
	"context"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	pb "github.com/apache/arrow-go/v18/arrow/flight/gen/flight"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/arrow/util"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// query is one FlightInfo's ticket: a statement and its parameters, run
// when the ticket is fetched. A ticket is fetched once.
type query struct {
	owner   string // client key
	stmt    Statement
	params  [][]any // one execution per row; nil: one without parameters
	created time.Time
	// cancel stops the running fetch (nil before it starts).
	cancel context.CancelFunc
	// canceled is set by CancelFlightInfo before the fetch starts.
	canceled bool
}

// prepared is a prepared statement and its bound parameters.
type prepared struct {
	owner    string
	stmt     Statement
	params   [][]any
	lastUsed time.Time
}

// emptySchema is the result schema of a statement without rows.
var emptySchema = arrow.NewSchema(nil, nil)

func resultSchema(st Statement) *arrow.Schema {
	if sc := st.Schema(); sc != nil {
		return describeColumns(sc, "", "")
	}
	return emptySchema
}

// --- ad-hoc statements ---------------------------------------------------

func (s *Server) GetFlightInfoStatement(ctx context.Context, cmd flightsql.StatementQuery, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	c, err := clientFrom(ctx)
	if err != nil {
		return nil, err
	}
	if d, ok := c.sess.(Distributor); ok {
		schema, eps, ok, err := d.Distribute(ctx, cmd.GetQuery())
		if err != nil {
			return nil, toStatus(err)
		}
		if ok {
			return distributedInfo(schema, eps, desc, s.alloc), nil
		}
	}
	st, err := c.sess.Prepare(ctx, cmd.GetQuery())
	if err != nil {
		return nil, toStatus(err)
	}
	return s.flightInfo(ctx, c, st, nil, desc)
}

// distributedInfo describes a result read from several endpoints, each at
// its own location.
func distributedInfo(schema *arrow.Schema, eps []Endpoint, desc *flight.FlightDescriptor, mem memory.Allocator) *flight.FlightInfo {
	info := &flight.FlightInfo{
		Schema:           flight.SerializeSchema(schema, mem),
		FlightDescriptor: desc,
		TotalRecords:     -1,
		TotalBytes:       -1,
	}
	for _, ep := range eps {
		info.Endpoint = append(info.Endpoint, &flight.FlightEndpoint{
			Ticket:   &flight.Ticket{Ticket: ep.Ticket},
			Location: []*flight.Location{{Uri: "grpc+tcp://" + ep.Address}},
		})
	}
	return info
}

func (s *Server) GetSchemaStatement(ctx context.Context, cmd flightsql.StatementQuery, desc *flight.FlightDescriptor) (*flight.SchemaResult, error) {
	c, err := clientFrom(ctx)
	if err != nil {
		return nil, err
	}
	st, err := c.sess.Prepare(ctx, cmd.GetQuery())
	if err != nil {
		return nil, toStatus(err)
	}
	return &flight.SchemaResult{Schema: flight.SerializeSchema(resultSchema(st), s.alloc)}, nil
}

// flightInfo registers a ticket for st with params and describes it. A
// statement without rows (DDL sent as a query) runs right away, so that
// clients which skip fetching an empty result still see its effect; its
// ticket then yields no rows.
func (s *Server) flightInfo(ctx context.Context, c *client, st Statement, params [][]any, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	schema := resultSchema(st)
	q := &query{owner: c.key, stmt: st, params: params, created: time.Now()}
	if st.Schema() == nil {
		if _, err := runAll(ctx, st, params, discardSink{}); err != nil {
			return nil, toStatus(err)
		}
		q.stmt = nil
	}
	handle := newHandle()
	ticket, err := flightsql.CreateStatementQueryTicket([]byte(handle))
	if err != nil {
		return nil, status.Errorf(codes.Internal, "ticket: %v", err)
	}
	s.mu.Lock()
	s.sweepLocked(q.created)
	s.queries[handle] = q
	s.mu.Unlock()
	return &flight.FlightInfo{
		Schema:           flight.SerializeSchema(schema, s.alloc),
		FlightDescriptor: desc,
		Endpoint:         []*flight.FlightEndpoint{{Ticket: &flight.Ticket{Ticket: ticket}}},
		TotalRecords:     -1,
		TotalBytes:       -1,
		Ordered:          true,
	}, nil
}

// DoGetStatement runs a ticket's statement and streams its batches.
func (s *Server) DoGetStatement(ctx context.Context, ticket flightsql.StatementQueryTicket) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	c, err := clientFrom(ctx)
	if err != nil {
		return nil, nil, err
	}
	handle := string(ticket.GetStatementHandle())
	runCtx, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	q, ok := s.queries[handle]
	switch {
	case !ok:
		s.mu.Unlock()
		cancel()
		return nil, nil, status.Error(codes.NotFound, "unknown or already fetched ticket")
	case q.owner != c.key && !s.sameUser(q.owner, c):
		s.mu.Unlock()
		cancel()
		return nil, nil, status.Error(codes.PermissionDenied, "ticket belongs to another session")
	case q.cancel != nil:
		s.mu.Unlock()
		cancel()
		return nil, nil, status.Error(codes.FailedPrecondition, "ticket is being fetched already")
	case q.canceled:
		delete(s.queries, handle)
		s.mu.Unlock()
		cancel()
		return nil, nil, status.Error(codes.Canceled, "ERROR 57014: canceling statement due to user request")
	}
	q.cancel = cancel
	s.mu.Unlock()

	if q.stmt == nil { // ran at GetFlightInfo
		s.forget(handle)
		cancel()
		return emptySchema, noRows(), nil
	}
	schema := resultSchema(q.stmt)
	ch := make(chan flight.StreamChunk, 4)
	go func() {
		defer close(ch)
		defer cancel()
		defer s.forget(handle)
		sink := &chunkSink{ctx: runCtx, ch: ch, schema: schema}
		_, err := func() (n int64, err error) {
			defer s.recoverCall("DoGet", &err)
			return runAll(runCtx, q.stmt, q.params, sink)
		}()
		if err != nil {
			// A cancelled query must end the stream with an error, not
			// look complete; only a gone client needs no answer.
			select {
			case ch <- flight.StreamChunk{Err: toStatus(err)}:
			case <-ctx.Done():
			}
		}
	}()
	return schema, ch, nil
}

func (s *Server) forget(handle string) {
	s.mu.Lock()
	delete(s.queries, handle)
	s.mu.Unlock()
}

// sameUser reports whether client c may use what the client keyed owner
// created: without auth anyone holding the (unguessable) handle may, as
// clients may fetch on another connection than they asked on; with auth,
// the same user's other sessions may. Caller holds s.mu.
func (s *Server) sameUser(owner string, c *client) bool {
	if s.auth == nil {
		return true
	}
	o, ok := s.clients[owner]
	return ok && o.user != "" && o.user == c.user
}

// runAll runs st once per parameter row (once without parameters when
// params is empty) and returns the rows it reported.
func runAll(ctx context.Context, st Statement, params [][]any, sink Sink) (int64, error) {
	if len(params) == 0 {
		params = [][]any{nil}
	}
	counter := &countingSink{Sink: sink}
	for i, row := range params {
		counter.skipBegin = i > 0
		if err := st.Run(ctx, row, counter); err != nil {
			return counter.rows, err
		}
	}
	return counter.rows, nil
}

// countingSink sums the rows each execution reports and hides the
// repeated Begin of executions after the first.
type countingSink struct {
	Sink
	skipBegin bool
	rows      int64
}

func (c *countingSink) Begin(schema *arrow.Schema) error {
	if c.skipBegin {
		return nil
	}
	return c.Sink.Begin(schema)
}

func (c *countingSink) End(tag string, rows int64) error {
	c.rows += rows
	return c.Sink.End(tag, rows)
}

type discardSink struct{}

func (discardSink) Begin(*arrow.Schema) error { return nil }
func (discardSink) Batch(arrow.Record) error  { return nil }
func (discardSink) End(string, int64) error   { return nil }

// chunkSink hands batches to DoGet's writer through ch (whose small buffer
// is the backpressure on the executor), cut to fit in a gRPC message.
type chunkSink struct {
	ctx    context.Context
	ch     chan<- flight.StreamChunk
	schema *arrow.Schema
}

func (k *chunkSink) Begin(schema *arrow.Schema) error {
	if !sameTypes(schema, k.schema) {
		return status.Errorf(codes.Internal, "result schema changed since the statement was described: %s, announced %s", schema, k.schema)
	}
	return nil
}

func (k *chunkSink) Batch(rec arrow.Record) error {
	n := rec.NumRows()
	if n == 0 {
		return nil
	}
	pieces := util.TotalRecordSize(rec)/maxMessageBytes + 1
	step := (n + pieces - 1) / pieces
	for off := int64(0); off < n; off += step {
		end := min(off+step, n)
		var part arrow.Record
		if off == 0 && end == n {
			part = array.NewRecord(k.schema, rec.Columns(), n)
		} else {
			slice := rec.NewSlice(off, end)
			part = array.NewRecord(k.schema, slice.Columns(), end-off)
			slice.Release()
		}
		select {
		case k.ch <- flight.StreamChunk{Data: part}:
		case <-k.ctx.Done():
			part.Release()
			return k.ctx.Err()
		}
	}
	return nil
}

func (k *chunkSink) End(string, int64) error { return nil }

// sameTypes reports whether a and b have the same column types (names and
// nullability may differ: batches are relabelled with the announced
// schema).
func sameTypes(a, b *arrow.Schema) bool {
	if a.NumFields() != b.NumFields() {
		return false
	}
	for i := range a.NumFields() {
		if !arrow.TypeEqual(a.Field(i).Type, b.Field(i).Type) {
			return false
		}
	}
	return true
}

// --- prepared statements -------------------------------------------------

func (s *Server) CreatePreparedStatement(ctx context.Context, req flightsql.ActionCreatePreparedStatementRequest) (flightsql.ActionCreatePreparedStatementResult, error) {
	var res flightsql.ActionCreatePreparedStatementResult
	c, err := clientFrom(ctx)
	if err != nil {
		return res, err
	}
	if len(req.GetTransactionId()) > 0 {
		return res, status.Error(codes.Unimplemented, "transactions are not supported")
	}
	st, err := c.sess.Prepare(ctx, req.GetQuery())
	if err != nil {
		return res, toStatus(err)
	}
	handle := newHandle()
	now := time.Now()
	s.mu.Lock()
	s.sweepLocked(now)
	s.prepared[handle] = &prepared{owner: c.key, stmt: st, lastUsed: now}
	s.mu.Unlock()
	res.Handle = []byte(handle)
	if st.Schema() != nil {
		res.DatasetSchema = resultSchema(st)
	}
	isUpdate := st.Schema() == nil
	res.IsUpdate = &isUpdate
	fields := make([]arrow.Field, len(st.ParamTypes()))
	for i, t := range st.ParamTypes() {
		fields[i] = arrow.Field{Name: paramName(i), Type: announcedParamType(t), Nullable: true}
	}
	res.ParameterSchema = arrow.NewSchema(fields, nil)
	return res, nil
}

// announcedParamType is the type a parameter schema shows for a
// parameter of type t: integers widen to BIGINT, which clients that build
// parameters from Go's int64 (database/sql) can fill; the door narrows them
// back (readParams).
func announcedParamType(t arrow.DataType) arrow.DataType {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32:
		return arrow.PrimitiveTypes.Int64
	}
	return t
}

func (s *Server) ClosePreparedStatement(ctx context.Context, req flightsql.ActionClosePreparedStatementRequest) error {
	c, err := clientFrom(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.prepared[string(req.GetPreparedStatementHandle())]; ok && (p.owner == c.key || s.sameUser(p.owner, c)) {
		delete(s.prepared, string(req.GetPreparedStatementHandle()))
	}
	return nil
}

// preparedFor returns the caller's prepared statement handle.
func (s *Server) preparedFor(ctx context.Context, handle []byte) (*client, *prepared, error) {
	c, err := clientFrom(ctx)
	if err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.prepared[string(handle)]
	if !ok || (p.owner != c.key && !s.sameUser(p.owner, c)) {
		return nil, nil, status.Error(codes.NotFound, "unknown prepared statement handle")
	}
	p.lastUsed = time.Now()
	return c, p, nil
}

func (s *Server) GetFlightInfoPreparedStatement(ctx context.Context, cmd flightsql.PreparedStatementQuery, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	c, p, err := s.preparedFor(ctx, cmd.GetPreparedStatementHandle())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	params := p.params
	s.mu.Unlock()
	return s.flightInfo(ctx, c, p.stmt, params, desc)
}

func (s *Server) GetSchemaPreparedStatement(ctx context.Context, cmd flightsql.PreparedStatementQuery, desc *flight.FlightDescriptor) (*flight.SchemaResult, error) {
	_, p, err := s.preparedFor(ctx, cmd.GetPreparedStatementHandle())
	if err != nil {
		return nil, err
	}
	return &flight.SchemaResult{Schema: flight.SerializeSchema(resultSchema(p.stmt), s.alloc)}, nil
}

// DoGetPreparedStatement serves clients that use the prepared statement
// command itself as a ticket (Quarry's own FlightInfos carry statement
// tickets).
func (s *Server) DoGetPreparedStatement(ctx context.Context, cmd flightsql.PreparedStatementQuery) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	info, err := s.GetFlightInfoPreparedStatement(ctx, cmd, nil)
	if err != nil {
		return nil, nil, err
	}
	t, err := flightsql.GetStatementQueryTicket(info.Endpoint[0].Ticket)
	if err != nil {
		return nil, nil, status.Errorf(codes.Internal, "ticket: %v", err)
	}
	return s.DoGetStatement(ctx, t)
}

// DoPutPreparedStatementQuery binds parameters: each row of the stream is
// one execution's values.
func (s *Server) DoPutPreparedStatementQuery(ctx context.Context, cmd flightsql.PreparedStatementQuery, rdr flight.MessageReader, _ flight.MetadataWriter) ([]byte, error) {
	_, p, err := s.preparedFor(ctx, cmd.GetPreparedStatementHandle())
	if err != nil {
		return nil, err
	}
	rows, err := readParams(rdr, p.stmt.ParamTypes())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	p.params = rows
	s.mu.Unlock()
	return cmd.GetPreparedStatementHandle(), nil
}

func (s *Server) DoPutPreparedStatementUpdate(ctx context.Context, cmd flightsql.PreparedStatementUpdate, rdr flight.MessageReader) (int64, error) {
	_, p, err := s.preparedFor(ctx, cmd.GetPreparedStatementHandle())
	if err != nil {
		return 0, err
	}
	rows, err := readParams(rdr, p.stmt.ParamTypes())
	if err != nil {
		return 0, err
	}
	if rows == nil {
		s.mu.Lock()
		rows = p.params
		s.mu.Unlock()
	}
	n, err := runAll(ctx, p.stmt, rows, discardSink{})
	if err != nil {
		return 0, toStatus(err)
	}
	return n, nil
}

// DoPutCommandStatementUpdate runs DDL and other statements without a
// result, returning the rows they affected.
func (s *Server) DoPutCommandStatementUpdate(ctx context.Context, cmd flightsql.StatementUpdate) (int64, error) {
	c, err := clientFrom(ctx)
	if err != nil {
		return 0, err
	}
	if len(cmd.GetTransactionId()) > 0 {
		return 0, status.Error(codes.Unimplemented, "transactions are not supported")
	}
	counter := &countingSink{Sink: discardSink{}}
	if err := c.sess.Execute(ctx, cmd.GetQuery(), counter); err != nil {
		return 0, toStatus(err)
	}
	return counter.rows, nil
}

// --- cancellation --------------------------------------------------------

func (s *Server) CancelFlightInfo(ctx context.Context, req *flight.CancelFlightInfoRequest) (flight.CancelFlightInfoResult, error) {
	c, err := clientFrom(ctx)
	if err != nil {
		return flight.CancelFlightInfoResult{}, err
	}
	found := false
	for _, ep := range req.GetInfo().GetEndpoint() {
		handle, ok := ticketHandle(ep.GetTicket())
		if !ok {
			continue
		}
		s.mu.Lock()
		q, ok := s.queries[handle]
		if ok && (q.owner == c.key || s.sameUser(q.owner, c)) {
			found = true
			q.canceled = true
			if q.cancel != nil {
				q.cancel()
			}
		}
		s.mu.Unlock()
	}
	if !found {
		return flight.CancelFlightInfoResult{}, status.Error(codes.NotFound, "no such running query (finished, fetched or unknown)")
	}
	return flight.CancelFlightInfoResult{Status: flight.CancelStatusCancelled}, nil
}

// ticketHandle extracts the statement handle of a Quarry ticket.
func ticketHandle(t *flight.Ticket) (string, bool) {
	if t == nil {
		return "", false
	}
	var anyCmd anypb.Any
	if proto.Unmarshal(t.GetTicket(), &anyCmd) != nil {
		return "", false
	}
	var tq pb.TicketStatementQuery
	if anyCmd.UnmarshalTo(&tq) != nil {
		return "", false
	}
	return string(tq.GetStatementHandle()), true
}
