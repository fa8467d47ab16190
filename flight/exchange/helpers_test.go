package exchange

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

var testSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "qty", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "price", Type: arrow.PrimitiveTypes.Int64},
	{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "flag", Type: arrow.BinaryTypes.String},
}, nil)

// makeBatch builds batch seq of rows rows; equal arguments give equal data.
func makeBatch(mem memory.Allocator, seq, rows int) arrow.Record {
	rng := rand.New(rand.NewPCG(uint64(seq), 42))
	b := array.NewRecordBuilder(mem, testSchema)
	defer b.Release()
	id := b.Field(0).(*array.Int64Builder)
	qty := b.Field(1).(*array.Int64Builder)
	price := b.Field(2).(*array.Int64Builder)
	name := b.Field(3).(*array.StringBuilder)
	flag := b.Field(4).(*array.StringBuilder)
	flags := []string{"F", "O", "P"}
	for i := 0; i < rows; i++ {
		id.Append(int64(seq*rows + i))
		if rng.IntN(20) == 0 {
			qty.AppendNull()
		} else {
			qty.Append(rng.Int64N(50) + 1)
		}
		price.Append(rng.Int64N(10_000_000))
		if rng.IntN(50) == 0 {
			name.AppendNull()
		} else {
			name.Append(fmt.Sprintf("Customer#%09d", rng.IntN(150_000)))
		}
		flag.Append(flags[rng.IntN(len(flags))])
	}
	return b.NewRecordBatch()
}

// genStream produces n batches (n < 0: until canceled) of rows rows,
// made on demand. If gate is set, each batch waits for a receive from it.
type genStream struct {
	mem      memory.Allocator
	n, rows  int
	gate     chan struct{}
	fail     error // returned after n batches instead of io.EOF
	produced atomic.Int64
	closed   chan struct{}
	once     sync.Once
	same     arrow.Record // if set, handed out (retained) every time
}

func newGen(mem memory.Allocator, n, rows int) *genStream {
	return &genStream{mem: mem, n: n, rows: rows, closed: make(chan struct{})}
}

func (g *genStream) Next(ctx context.Context) (arrow.Record, error) {
	i := int(g.produced.Load())
	if g.n >= 0 && i >= g.n {
		if g.fail != nil {
			return nil, g.fail
		}
		return nil, io.EOF
	}
	if g.gate != nil {
		select {
		case <-g.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	g.produced.Add(1)
	if g.same != nil {
		g.same.Retain()
		return g.same, nil
	}
	return makeBatch(g.mem, i, g.rows), nil
}

func (g *genStream) Close() error {
	g.once.Do(func() { close(g.closed) })
	return nil
}

// outboxes serves fixed streams by ticket, or fails.
type outboxes struct {
	mu      sync.Mutex
	streams map[Ticket]Stream
	err     error
}

func (o *outboxes) Outbox(ctx context.Context, query string, fragment, partition int) (Stream, error) {
	if o.err != nil {
		return nil, o.err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	t := Ticket{query, fragment, partition}
	s, ok := o.streams[t]
	if !ok {
		return nil, fmt.Errorf("no outbox %v", t)
	}
	delete(o.streams, t)
	return s, nil
}

func serve(o Outboxes, opts ServerOptions) (addr string, stop func(), err error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	gs := grpc.NewServer()
	flight.RegisterFlightServiceServer(gs, NewServer(o, opts))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = gs.Serve(lis)
	}()
	return lis.Addr().String(), func() { gs.Stop(); <-done }, nil
}

// startServer serves o on 127.0.0.1 until the test ends.
func startServer(t testing.TB, o Outboxes, opts ServerOptions) (addr string, stop func()) {
	t.Helper()
	addr, stopServer, err := serve(o, opts)
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() { once.Do(stopServer) }
	t.Cleanup(stop)
	return addr, stop
}

func newTestClient(t testing.TB) *Client {
	c := NewClient(grpc.WithTransportCredentials(insecure.NewCredentials()))
	t.Cleanup(func() { c.Close() })
	return c
}

func checkAlloc(t *testing.T, name string, mem *memory.CheckedAllocator) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for mem.CurrentAlloc() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := mem.CurrentAlloc(); n != 0 {
		t.Errorf("%s allocator: %d bytes left", name, n)
	}
}

// waitGoroutines fails unless the goroutine count drops to at most base.
func waitGoroutines(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= base {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines, want <= %d:\n%s", n, base, buf)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitClosed(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: not closed", what)
	}
}
