package exchange

import (
	"context"
	"errors"
	"io"
	"math"
	"sync"

	"google.golang.org/grpc/connectivity"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// Client opens exchange streams on remote nodes. It keeps one
// grpc.ClientConn per address, shared by all streams to that address and
// closed by Close. It is safe for concurrent use.
type Client struct {
	dialOpts []grpc.DialOption

	mu     sync.Mutex
	conns  map[string]*grpc.ClientConn
	closed bool
}

// NewClient returns a Client that dials with dialOpts, which must include
// the transport credentials (grpc.WithTransportCredentials, insecure or
// TLS) and any per-call auth. The client accepts messages of any size up
// to 2 GiB unless dialOpts say otherwise, as one batch is one message.
func NewClient(dialOpts ...grpc.DialOption) *Client {
	opts := append([]grpc.DialOption{
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(math.MaxInt32)),
	}, dialOpts...)
	return &Client{dialOpts: opts, conns: map[string]*grpc.ClientConn{}}
}

func (c *Client) conn(addr string) (*grpc.ClientConn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, sqlerr.New(sqlerr.InternalError, "exchange: client is closed")
	}
	if cc, ok := c.conns[addr]; ok {
		if cc.GetState() != connectivity.TransientFailure {
			return cc, nil
		}
		// The node went away; it may be back at the same address (a
		// restarted executor), which a fresh connection reaches at once
		// instead of after the old one's reconnect backoff.
		cc.Close()
		delete(c.conns, addr)
	}
	cc, err := grpc.NewClient(addr, c.dialOpts...)
	if err != nil {
		return nil, sqlerr.Wrap(sqlerr.InternalError, err, "exchange: connecting to %s", addr)
	}
	c.conns[addr] = cc
	return cc, nil
}

// Close closes every connection; streams still open fail. Close is
// idempotent.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	var errs []error
	for addr, cc := range c.conns {
		errs = append(errs, cc.Close())
		delete(c.conns, addr)
	}
	return errors.Join(errs...)
}

// Open starts reading the output t names on the node at addr. It does not
// wait for the first batch. The call lives until the stream ends, ctx is
// done, or the stream is closed. Batches are allocated with alloc (nil:
// the default) when they have to be (decompressed bodies); the others
// reference the received messages.
func (c *Client) Open(ctx context.Context, addr string, t Ticket, alloc memory.Allocator) (*RemoteStream, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if alloc == nil {
		alloc = memory.DefaultAllocator
	}
	cc, err := c.conn(addr)
	if err != nil {
		return nil, err
	}
	callCtx, cancel := context.WithCancel(ctx)
	call, err := flight.NewFlightServiceClient(cc).DoGet(callCtx, &flight.Ticket{Ticket: t.Encode()})
	if err != nil {
		cancel()
		return nil, fromCallError(ctx, addr, err)
	}
	return &RemoteStream{addr: addr, alloc: alloc, callCtx: callCtx, cancel: cancel, msgs: &recorder{call: call}}, nil
}

// RemoteStream is a Stream read from a remote node.
//
// Once Next has returned an error (io.EOF included) the stream has released
// everything it held and keeps returning that error. A consumer that stops
// before (a LIMIT reached, a sibling failed) calls Close, which cancels the
// call, so the producer stops too. Close is idempotent and is always safe
// to call after Next, but not concurrently with it. A Next whose ctx is
// done cancels the whole call and returns the ctx's error.
type RemoteStream struct {
	addr    string
	alloc   memory.Allocator
	callCtx context.Context
	cancel  context.CancelFunc
	msgs    *recorder
	rdr     *flight.Reader
	err     error // terminal
}

var _ Stream = (*RemoteStream)(nil)

// recorder is the message source of the IPC reader: it replays a peeked
// first message and keeps the call's own error, as the reader wraps it.
type recorder struct {
	call   flight.FlightService_DoGetClient
	peeked *flight.FlightData
	err    error
}

func (r *recorder) Recv() (*flight.FlightData, error) {
	if m := r.peeked; m != nil {
		r.peeked = nil
		return m, nil
	}
	m, err := r.call.Recv()
	if err != nil && !errors.Is(err, io.EOF) {
		r.err = err
	}
	return m, err
}

// Next returns the next batch, which the caller releases, or io.EOF after
// the last.
func (s *RemoteStream) Next(ctx context.Context) (arrow.Record, error) {
	if s.err != nil {
		return nil, s.err
	}
	if err := ctx.Err(); err != nil {
		return nil, s.fail(err)
	}
	stop := context.AfterFunc(ctx, s.cancel)
	defer stop()

	if s.rdr == nil {
		// An empty stream is a call that ends without any message, which
		// the IPC reader would take for a missing schema: peek first.
		m, err := s.msgs.Recv()
		if errors.Is(err, io.EOF) {
			return nil, s.fail(io.EOF)
		}
		if err != nil {
			return nil, s.fail(s.callError(ctx, err))
		}
		s.msgs.peeked = m
		rdr, err := flight.NewRecordReader(s.msgs, ipc.WithAllocator(s.alloc))
		if err != nil {
			return nil, s.fail(s.readError(ctx, err))
		}
		s.rdr = rdr
	}
	if s.rdr.Next() {
		b := s.rdr.RecordBatch()
		b.Retain()
		return b, nil
	}
	if err := s.rdr.Err(); err != nil {
		return nil, s.fail(s.readError(ctx, err))
	}
	if s.msgs.err != nil { // the reader may report a failed Recv as the end
		return nil, s.fail(s.callError(ctx, s.msgs.err))
	}
	return nil, s.fail(io.EOF)
}

// readError is the error of a failed read: the call's if it failed, the
// reader's (a malformed stream) otherwise.
func (s *RemoteStream) readError(ctx context.Context, err error) error {
	if s.msgs.err != nil {
		return s.callError(ctx, s.msgs.err)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return sqlerr.Wrap(sqlerr.DataCorrupted, err, "exchange: reading from %s", s.addr)
}

// callError is the error of a failed call: the producer's SQL error if it
// sent one, else ctx's (the consumer's Next gave up), else what the
// transport says.
func (s *RemoteStream) callError(ctx context.Context, err error) error {
	if st, ok := status.FromError(err); ok {
		if e := sqlFromStatus(st); e != nil {
			return e
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fromCallError(s.callCtx, s.addr, err)
}

// fail records the terminal error and releases everything.
func (s *RemoteStream) fail(err error) error {
	s.err = err
	s.release()
	return err
}

func (s *RemoteStream) release() {
	s.cancel()
	if s.rdr != nil {
		s.rdr.Release()
		s.rdr = nil
	}
	s.msgs.peeked = nil
}

// Close stops reading: it cancels the call and releases what the stream
// holds. Batches already returned stay valid until their own release.
func (s *RemoteStream) Close() error {
	if s.err == nil {
		s.err = sqlerr.New(sqlerr.InternalError, "exchange: stream from %s is closed", s.addr)
	}
	s.release()
	return nil
}
