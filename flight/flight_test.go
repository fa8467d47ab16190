package flight

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	pb "github.com/apache/arrow-go/v18/arrow/flight/gen/flight"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

func TestLikeMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"%", "", true},
		{"%", "lineitem", true},
		{"line%", "lineitem", true},
		{"LINE%", "lineitem", true},
		{"%item", "lineitem", true},
		{"%ite%", "lineitem", true},
		{"l_neitem", "lineitem", true},
		{"l_item", "lineitem", false},
		{"lineitem_", "lineitem", false},
		{"a\\_b", "a_b", true},
		{"a\\_b", "axb", false},
		{"%a%b%", "xxaxxbxx", true},
		{"%a%b", "xxaxxbxx", false},
		{"", "", true},
		{"", "x", false},
	} {
		if got := likeMatch(&c.pattern, c.s); got != c.want {
			t.Errorf("%q LIKE %q = %v, want %v", c.s, c.pattern, got, c.want)
		}
	}
	if !likeMatch(nil, "anything") {
		t.Error("nil pattern must match")
	}
}

func TestStatusCode(t *testing.T) {
	for state, want := range map[string]codes.Code{
		sqlerr.SyntaxError:         codes.InvalidArgument,
		sqlerr.UndefinedColumn:     codes.InvalidArgument,
		sqlerr.UndefinedTable:      codes.NotFound,
		sqlerr.QueryCanceled:       codes.Canceled,
		sqlerr.OutOfMemory:         codes.ResourceExhausted,
		sqlerr.DivisionByZero:      codes.InvalidArgument,
		sqlerr.FeatureNotSupported: codes.Unimplemented,
		sqlerr.InternalError:       codes.Internal,
		sqlerr.IOError:             codes.Internal,
	} {
		err := toStatus(sqlerr.New(state, "boom"))
		if status.Code(err) != want || !strings.Contains(err.Error(), state) {
			t.Errorf("%s: got %v, want %v with the SQLSTATE", state, err, want)
		}
	}
	if err := toStatus(context.Canceled); status.Code(err) != codes.Canceled {
		t.Errorf("context.Canceled: %v", err)
	}
	st := status.Error(codes.Unauthenticated, "no")
	if toStatus(st) != st {
		t.Error("a status error must pass through")
	}
}

func TestParamValue(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	build := func(dt arrow.DataType, v any) arrow.Array {
		b := array.NewBuilder(mem, dt)
		defer b.Release()
		if v == nil {
			b.AppendNull()
		} else if err := b.AppendValueFromString(v.(string)); err != nil {
			t.Fatal(err)
		}
		return b.NewArray()
	}
	dec := &arrow.Decimal128Type{Precision: 15, Scale: 2}
	num := func(s string, scale int32) decimal128.Num {
		n, err := decimal128.FromString(s, 38, scale)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, c := range []struct {
		dt   arrow.DataType
		v    any
		want arrow.DataType
		out  any
	}{
		{arrow.PrimitiveTypes.Int64, "7", arrow.PrimitiveTypes.Int32, int32(7)},
		{arrow.PrimitiveTypes.Int64, "7", arrow.PrimitiveTypes.Int64, int64(7)},
		{arrow.PrimitiveTypes.Int32, "7", nil, int64(7)},
		{arrow.PrimitiveTypes.Int64, "7", arrow.PrimitiveTypes.Float64, float64(7)},
		{arrow.PrimitiveTypes.Int64, "7", dec, num("7", 2)},
		{arrow.PrimitiveTypes.Int64, "7", arrow.BinaryTypes.String, "7"},
		{arrow.PrimitiveTypes.Int64, "3000000000", arrow.PrimitiveTypes.Int32, "3000000000"},
		{arrow.PrimitiveTypes.Float64, "0.5", arrow.PrimitiveTypes.Float64, 0.5},
		{arrow.PrimitiveTypes.Float64, "0.5", dec, "0.5"},
		{arrow.BinaryTypes.String, "1995-03-15", arrow.FixedWidthTypes.Date32, "1995-03-15"},
		{arrow.FixedWidthTypes.Date32, "1995-03-15", arrow.FixedWidthTypes.Date32, arrow.Date32(9204)},
		{arrow.FixedWidthTypes.Date32, "1995-03-15", arrow.BinaryTypes.String, "1995-03-15"},
		{dec, "12.50", dec, num("12.50", 2)},
		{&arrow.Decimal128Type{Precision: 10, Scale: 1}, "12.5", dec, num("12.50", 2)},
		{dec, "12.50", arrow.PrimitiveTypes.Float64, "12.50"},
		{arrow.FixedWidthTypes.Boolean, "true", arrow.FixedWidthTypes.Boolean, true},
		{arrow.PrimitiveTypes.Int64, nil, arrow.PrimitiveTypes.Int64, nil},
	} {
		arr := build(c.dt, c.v)
		got, err := paramValue(arr, 0, c.want)
		arr.Release()
		if err != nil || got != c.out {
			t.Errorf("%v %v as %v: got %#v (%v), want %#v", c.dt, c.v, c.want, got, err, c.out)
		}
	}
}

func TestSqlInfoComplete(t *testing.T) {
	info := sqlInfo("1.0")
	for id := range pb.SqlInfo_name {
		if _, ok := info[flightsql.SqlInfo(id)]; !ok {
			t.Errorf("no value for %s", pb.SqlInfo(id))
		}
	}
	for id, v := range info {
		switch v.(type) {
		case string, bool, int64, int32, []string, map[int32][]int32:
		default:
			t.Errorf("%s: value of type %T", id, v)
		}
	}
}

// TestChunkSinkCuts: a batch larger than a message is cut, rows intact.
func TestChunkSinkCuts(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "s", Type: arrow.BinaryTypes.String}}, nil)
	b := array.NewStringBuilder(mem)
	const n = 20000
	long := strings.Repeat("x", 300) // 6 MB in all
	for i := 0; i < n; i++ {
		b.Append(long)
	}
	col := b.NewArray()
	b.Release()
	rec := array.NewRecord(schema, []arrow.Array{col}, n)
	col.Release()
	ch := make(chan flight.StreamChunk, 100)
	sink := &chunkSink{ctx: context.Background(), ch: ch, schema: schema}
	if err := sink.Batch(rec); err != nil {
		t.Fatal(err)
	}
	rec.Release()
	close(ch)
	var rows int64
	pieces := 0
	for c := range ch {
		if c.Data.NumRows()*int64(len(long)) > maxMessageBytes {
			t.Errorf("piece of %d rows is over the message size", c.Data.NumRows())
		}
		rows += c.Data.NumRows()
		pieces++
		c.Data.Release()
	}
	if rows != n || pieces < 3 {
		t.Fatalf("%d rows in %d pieces", rows, pieces)
	}
}

// fakeBackend answers every statement with one row: its text.
type fakeBackend struct{}

func (fakeBackend) NewSession(string) Session                 { return fakeSession{} }
func (fakeBackend) Schemas(context.Context) ([]string, error) { return []string{"s"}, nil }
func (fakeBackend) Tables(context.Context) ([]Table, error) {
	return []Table{{Schema: "s", Name: "t", Type: TableTypeTable, Path: []string{"s", "t"}}}, nil
}
func (fakeBackend) TableSchema(context.Context, Table) (*arrow.Schema, error) { return textSchema, nil }

var textSchema = arrow.NewSchema([]arrow.Field{{Name: "text", Type: arrow.BinaryTypes.String}}, nil)

type fakeSession struct{}

func (fakeSession) Prepare(_ context.Context, sql string) (Statement, error) {
	if strings.HasPrefix(sql, "bad") {
		return nil, sqlerr.At(sqlerr.SyntaxError, 1, "syntax error at %q", sql)
	}
	return fakeStmt(sql), nil
}
func (fakeSession) Execute(context.Context, string, Sink) error { return errors.New("not here") }

type fakeStmt string

func (fakeStmt) ParamTypes() []arrow.DataType { return nil }
func (fakeStmt) Schema() *arrow.Schema        { return textSchema }
func (s fakeStmt) Run(_ context.Context, _ []any, sink Sink) error {
	if s == "panic" {
		panic("boom")
	}
	if err := sink.Begin(textSchema); err != nil {
		return err
	}
	b := array.NewStringBuilder(memory.DefaultAllocator)
	defer b.Release()
	b.Append(string(s))
	col := b.NewArray()
	defer col.Release()
	rec := array.NewRecord(textSchema, []arrow.Array{col}, 1)
	defer rec.Release()
	if err := sink.Batch(rec); err != nil {
		return err
	}
	return sink.End("SELECT", 1)
}

func startFake(t *testing.T, auth Authenticator) *flightsql.Client {
	t.Helper()
	srv, err := NewServer(Options{Backend: fakeBackend{}, Auth: auth, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	c, err := flightsql.NewClient(ln.Addr().String(), nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestHandshakePayload: clients that send a BasicAuth message as the
// handshake payload (instead of a header) get a token too.
func TestHandshakePayload(t *testing.T) {
	c := startFake(t, func(_ context.Context, user, password string) error {
		if user == "bob" && password == "pw" {
			return nil
		}
		return errors.New("no")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	handshake := func(user, password string) (string, error) {
		stream, err := c.Client.Handshake(ctx)
		if err != nil {
			return "", err
		}
		payload, _ := proto.Marshal(&pb.BasicAuth{Username: user, Password: password})
		if err := stream.Send(&flight.HandshakeRequest{Payload: payload}); err != nil {
			return "", err
		}
		resp, err := stream.Recv()
		if err != nil {
			return "", err
		}
		hdr, _ := stream.Header()
		if got := hdr.Get("authorization"); len(got) != 1 || got[0] != "Bearer "+string(resp.Payload) {
			return "", errors.New("header and payload disagree")
		}
		return string(resp.Payload), nil
	}
	if _, err := handshake("bob", "wrong"); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("wrong password: %v", err)
	}
	token, err := handshake("bob", "pw")
	if err != nil {
		t.Fatal(err)
	}
	authed := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	info, err := c.Execute(authed, "hello")
	if err != nil {
		t.Fatal(err)
	}
	rdr, err := c.DoGet(authed, info.Endpoint[0].Ticket)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	if !rdr.Next() || rdr.RecordBatch().Column(0).ValueStr(0) != "hello" {
		t.Fatalf("got %v", rdr.Err())
	}
	// A ticket is fetched once.
	if r2, err := c.DoGet(authed, info.Endpoint[0].Ticket); err == nil {
		r2.Next()
		err = r2.Err()
		if status.Code(err) != codes.NotFound {
			t.Fatalf("second fetch: %v", err)
		}
	}
	if _, err := c.Execute(authed, "bad sql"); status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "42601") {
		t.Fatalf("syntax error: %v", err)
	}
}

// TestPanicIsAnError: a panicking statement fails its call, and the
// server goes on serving.
func TestPanicIsAnError(t *testing.T) {
	c := startFake(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := c.Execute(ctx, "panic")
	if err != nil {
		t.Fatal(err)
	}
	rdr, err := c.DoGet(ctx, info.Endpoint[0].Ticket)
	if err == nil {
		for rdr.Next() {
		}
		err = rdr.Err()
		rdr.Release()
	}
	if status.Code(err) != codes.Internal || !strings.Contains(err.Error(), "XX000") {
		t.Fatalf("got %v, want an internal error", err)
	}
	if _, err := c.Execute(ctx, "still here"); err != nil {
		t.Fatal(err)
	}
}
