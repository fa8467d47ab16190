package exchange

import (
	"context"
	"errors"
	"io"
	"net"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
)

// Stream is one consumer partition's batches. Next returns io.EOF after
// the last batch; the caller releases every batch it receives. A Stream
// need not know its schema: each batch carries it, and an empty stream is
// sent as no message at all (see the package documentation).
//
// A Stream served by a Server may also implement io.Closer: the server
// calls Close exactly once when it stops reading, at the end or early
// (consumer gone, write failed). That is how the producer learns that
// nobody will read what it still holds, and must release it.
type Stream interface {
	Next(ctx context.Context) (arrow.Record, error)
}

// Outboxes finds the output a node holds for a consumer partition of a
// query's fragment. The exec runtime implements it; Outbox may block (for
// instance until the producing task is registered) but must return when
// ctx is done, as must the Next of the stream it returns.
type Outboxes interface {
	Outbox(ctx context.Context, query string, fragment, partition int) (Stream, error)
}

// ServerOptions configure a Server.
type ServerOptions struct {
	// Compression is applied to the IPC bodies of the batches sent.
	Compression Compression
	// Alloc is used for the compression buffers (nil: the default).
	Alloc memory.Allocator
	// Trusted reports whether the caller of ctx proved it belongs to the
	// cluster (nil: every caller does). Other callers need a ticket
	// signed with Key.
	Trusted func(ctx context.Context) bool
	Key     []byte
}

// NewServer returns a Flight service whose DoGet serves exchange tickets
// from o; every other method answers Unimplemented. Register it with
// flight.RegisterFlightServiceServer on a grpc.Server that carries the
// node's own credentials and interceptors.
func NewServer(o Outboxes, opts ServerOptions) flight.FlightServer {
	alloc := opts.Alloc
	if alloc == nil {
		alloc = memory.DefaultAllocator
	}
	return &server{outboxes: o, alloc: alloc, compression: opts.Compression, trusted: opts.Trusted, key: opts.Key}
}

type server struct {
	flight.BaseFlightServer
	outboxes    Outboxes
	alloc       memory.Allocator
	compression Compression
	trusted     func(context.Context) bool
	key         []byte
}

// writerOptions are the IPC options of a stream to the caller of ctx.
func (s *server) writerOptions(ctx context.Context) []ipc.Option {
	opts := []ipc.Option{ipc.WithAllocator(s.alloc)}
	c := s.compression
	if c == Auto {
		var addr net.Addr
		if p, ok := peer.FromContext(ctx); ok {
			addr = p.Addr
		}
		c = c.forPeer(addr)
	}
	if o, ok := c.ipcOption(); ok {
		opts = append(opts, o)
	}
	return opts
}

func (s *server) DoGet(tkt *flight.Ticket, ss flight.FlightService_DoGetServer) error {
	ctx := ss.Context()
	var t Ticket
	var err error
	switch raw := tkt.GetTicket(); {
	case IsSigned(raw):
		t, err = DecodeSignedTicket(raw, s.key)
	case s.trusted != nil && !s.trusted(ctx):
		return status.Error(codes.Unauthenticated, "exchange: a stream outside the cluster needs a signed ticket")
	default:
		t, err = DecodeTicket(raw)
	}
	if err != nil {
		if sqlerr.As(err).Code == InvalidAuthorization {
			return status.Error(codes.PermissionDenied, sqlerr.As(err).Msg)
		}
		return toStatus(err)
	}
	st, err := s.outboxes.Outbox(ctx, t.Query, t.Fragment, t.Partition)
	if err != nil {
		return toStatus(err)
	}
	if st == nil {
		return toStatus(sqlerr.New(sqlerr.InternalError, "exchange: no outbox for %v", t))
	}
	if c, ok := st.(io.Closer); ok {
		defer c.Close()
	}
	// A client outside the cluster reads with a stock Flight reader, which
	// needs the schema even when there are no rows.
	if err := s.send(ctx, st, ss, IsSigned(tkt.GetTicket())); err != nil {
		return toStatus(err)
	}
	return nil
}

// send writes the batches of st to ss as they come. The IPC writer is made
// on the first batch, whose schema it announces.
func (s *server) send(ctx context.Context, st Stream, ss flight.FlightService_DoGetServer, announce bool) (err error) {
	var w *flight.Writer
	defer func() {
		if w != nil {
			if cerr := w.Close(); err == nil {
				err = cerr
			}
		}
	}()
	for {
		b, err := st.Next(ctx)
		if errors.Is(err, io.EOF) {
			if sc, ok := st.(interface{ Schema() *arrow.Schema }); ok && w == nil && announce && sc.Schema() != nil {
				w = flight.NewRecordWriter(ss, append(s.writerOptions(ctx), ipc.WithSchema(sc.Schema()))...)
			}
			return nil
		}
		if err != nil {
			return err
		}
		if w == nil {
			w = flight.NewRecordWriter(ss, append(s.writerOptions(ctx), ipc.WithSchema(b.Schema()))...)
		}
		err = w.Write(b)
		b.Release()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
	}
}
