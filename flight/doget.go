package flight

import (
	"context"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	pb "github.com/apache/arrow-go/v18/arrow/flight/gen/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// DoGet streams results without copying their data on the way out.
// arrow-go's writer copies each batch's buffers into one body, which
// protobuf then copies into the gRPC message: two passes over every byte
// of a result. Here the FlightData message is assembled around the
// batch's own buffers (see encodedData) and gRPC writes them from there.
// Tickets other than statements go to arrow-go's routing.
func (v *service) DoGet(t *flight.Ticket, stream flight.FlightService_DoGetServer) error {
	var anycmd anypb.Any
	if err := proto.Unmarshal(t.GetTicket(), &anycmd); err != nil {
		return v.FlightServer.DoGet(t, stream)
	}
	cmd, err := anycmd.UnmarshalNew()
	if err != nil {
		return v.FlightServer.DoGet(t, stream)
	}
	var (
		schema *arrow.Schema
		chunks <-chan flight.StreamChunk
	)
	switch cmd := cmd.(type) {
	case *pb.TicketStatementQuery:
		schema, chunks, err = v.s.DoGetStatement(stream.Context(), cmd)
	case *pb.CommandPreparedStatementQuery:
		schema, chunks, err = v.s.DoGetPreparedStatement(stream.Context(), cmd)
	default:
		return v.FlightServer.DoGet(t, stream)
	}
	if err != nil {
		return err
	}
	defer func() {
		for c := range chunks {
			if c.Data != nil {
				c.Data.Release()
			}
		}
	}()
	if hasDictionary(schema) {
		// Dictionaries are sent as messages of their own, which only
		// arrow-go's writer knows how to track.
		return writeChunks(stream, schema, chunks)
	}
	return v.s.sendChunks(stream, schema, chunks)
}

// sendChunks sends the schema, then each chunk's batch as one FlightData
// message built by encodeData.
func (s *Server) sendChunks(stream flight.FlightService_DoGetServer, schema *arrow.Schema, chunks <-chan flight.StreamChunk) error {
	sp := ipc.GetSchemaPayload(schema, s.alloc)
	if err := sendPayload(stream, &sp, nil, nil, nil); err != nil {
		return err
	}
	return eachChunk(stream.Context(), chunks, func(c flight.StreamChunk) error {
		p, err := ipc.GetRecordBatchPayload(c.Data, ipc.WithAllocator(s.alloc))
		if err != nil {
			c.Data.Release()
			return status.Errorf(codes.Internal, "encoding a batch: %v", err)
		}
		// sendPayload takes over the batch and its payload.
		return sendPayload(stream, &p, c.Data, c.AppMetadata, c.Desc)
	})
}

// writeChunks is arrow-go's DoGet loop: the batches are copied into each
// message.
func writeChunks(stream flight.FlightService_DoGetServer, schema *arrow.Schema, chunks <-chan flight.StreamChunk) error {
	wr := flight.NewRecordWriter(stream, ipc.WithSchema(schema))
	defer wr.Close()
	return eachChunk(stream.Context(), chunks, func(c flight.StreamChunk) error {
		wr.SetFlightDescriptor(c.Desc)
		err := wr.WriteWithAppMetadata(c.Data, c.AppMetadata)
		c.Data.Release()
		return err
	})
}

// eachChunk hands fn each batch of chunks (fn owns it) until they end, a
// chunk carries an error or ctx ends.
func eachChunk(ctx context.Context, chunks <-chan flight.StreamChunk, fn func(flight.StreamChunk) error) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case c, ok := <-chunks:
			if !ok {
				return nil
			}
			if c.Err != nil {
				return c.Err
			}
			if c.Data == nil {
				continue
			}
			if err := fn(c); err != nil {
				return err
			}
		}
	}
}

// hasDictionary reports whether any column of schema, at any depth, is
// dictionary-encoded.
func hasDictionary(schema *arrow.Schema) bool {
	for _, f := range schema.Fields() {
		if typeHasDictionary(f.Type) {
			return true
		}
	}
	return false
}

func typeHasDictionary(t arrow.DataType) bool {
	switch t := t.(type) {
	case *arrow.DictionaryType:
		return true
	case arrow.ExtensionType:
		return typeHasDictionary(t.StorageType())
	case arrow.NestedType:
		for _, f := range t.Fields() {
			if typeHasDictionary(f.Type) {
				return true
			}
		}
	}
	return false
}

// sendPayload sends payload p (and rec, whose memory its body buffers may
// point into) as one FlightData message, then lets go of both: they are
// released once gRPC has written the last byte that refers to them.
func sendPayload(stream flight.FlightService_DoGetServer, p *ipc.Payload, rec arrow.Record, appMeta []byte, desc *flight.FlightDescriptor) error {
	m, err := encodeData(p, rec, appMeta, desc)
	if err != nil {
		return status.Errorf(codes.Internal, "encoding a batch: %v", err)
	}
	err = stream.SendMsg(m)
	m.done()
	return err
}

// Body buffers of at least zeroCopyBytes are handed to gRPC in place;
// smaller ones (bitmaps, padding, short columns) are copied into the
// message's own buffers, which is cheaper than tracking them.
const zeroCopyBytes = 16 << 10

// FlightData field numbers (Flight.proto).
const (
	fdDescriptor  = 1
	fdDataHeader  = 2
	fdAppMetadata = 3
	fdDataBody    = 1000
)

// encodedData is a FlightData message in its wire form, as frameCodec
// hands it to gRPC. Its large buffers point into a batch's memory; the
// batch and its IPC payload are released when gRPC has freed them all.
type encodedData struct {
	bufs  mem.BufferSlice
	taken bool // gRPC took the buffers (it frees them)
	hold  *payloadHold
}

// take hands the buffers over to gRPC.
func (m *encodedData) take() mem.BufferSlice {
	m.taken = true
	return m.bufs
}

// done drops the sender's reference after SendMsg; the buffers are freed
// here if gRPC never took them.
func (m *encodedData) done() {
	if !m.taken {
		m.bufs.Free()
	}
	m.bufs = nil
	m.hold.unref()
}

// payloadHold keeps a payload and its batch alive while gRPC holds
// buffers pointing into them. It is the mem.BufferPool of those buffers:
// gRPC "returns" each one when it is written (or the stream dies).
type payloadHold struct {
	refs    atomic.Int32
	payload ipc.Payload
	rec     arrow.Record
}

func (h *payloadHold) Get(n int) *[]byte {
	b := make([]byte, n)
	return &b
}

func (h *payloadHold) Put(*[]byte) { h.unref() }

func (h *payloadHold) unref() {
	if h.refs.Add(-1) == 0 {
		h.payload.Release()
		if h.rec != nil {
			h.rec.Release()
		}
	}
}

// bodyPieces collects what Payload.SerializeBody writes: the body
// buffers and their padding, in order, without copying them.
type bodyPieces struct {
	pieces [][]byte
	size   int
}

func (b *bodyPieces) Write(p []byte) (int, error) {
	b.pieces = append(b.pieces, p)
	b.size += len(p)
	return len(p), nil
}

// encodeData lays out payload p as a FlightData message, in protobuf's
// field order. It takes over p and rec.
func encodeData(p *ipc.Payload, rec arrow.Record, appMeta []byte, desc *flight.FlightDescriptor) (*encodedData, error) {
	hold := &payloadHold{payload: *p, rec: rec}
	hold.refs.Store(1) // the sender's, dropped by done
	m := &encodedData{hold: hold}
	var body bodyPieces
	if err := p.SerializeBody(&body); err != nil {
		hold.unref()
		return nil, err
	}
	meta := p.Meta()
	var metaBytes []byte
	if meta != nil {
		defer meta.Release()
		metaBytes = meta.Bytes()
	}
	small := 64 + len(metaBytes) + len(appMeta)
	for _, b := range body.pieces {
		if len(b) < zeroCopyBytes {
			small += len(b)
		}
	}
	cur := make([]byte, 0, small)
	if desc != nil {
		d, err := proto.Marshal(desc)
		if err != nil {
			hold.unref()
			return nil, err
		}
		cur = protowire.AppendTag(cur, fdDescriptor, protowire.BytesType)
		cur = protowire.AppendBytes(cur, d)
	}
	if len(metaBytes) > 0 {
		cur = protowire.AppendTag(cur, fdDataHeader, protowire.BytesType)
		cur = protowire.AppendBytes(cur, metaBytes)
	}
	if len(appMeta) > 0 {
		cur = protowire.AppendTag(cur, fdAppMetadata, protowire.BytesType)
		cur = protowire.AppendBytes(cur, appMeta)
	}
	if body.size > 0 {
		cur = protowire.AppendTag(cur, fdDataBody, protowire.BytesType)
		cur = protowire.AppendVarint(cur, uint64(body.size))
	}
	for _, b := range body.pieces {
		if len(b) < zeroCopyBytes {
			cur = append(cur, b...)
			continue
		}
		if len(cur) > 0 {
			m.bufs = append(m.bufs, mem.SliceBuffer(cur))
			cur = cur[len(cur):]
		}
		b = b[:len(b):len(b)]
		hold.refs.Add(1)
		m.bufs = append(m.bufs, mem.NewBuffer(&b, hold))
	}
	if len(cur) > 0 {
		m.bufs = append(m.bufs, mem.SliceBuffer(cur))
	}
	return m, nil
}

// frameCodec is the server's gRPC codec: protobuf, except for the
// messages DoGet assembled itself, which it passes through.
type frameCodec struct{ proto encoding.CodecV2 }

func newFrameCodec() frameCodec {
	return frameCodec{proto: encoding.GetCodecV2("proto")}
}

func (c frameCodec) Marshal(v any) (mem.BufferSlice, error) {
	if m, ok := v.(*encodedData); ok {
		return m.take(), nil
	}
	return c.proto.Marshal(v)
}

func (c frameCodec) Unmarshal(data mem.BufferSlice, v any) error {
	return c.proto.Unmarshal(data, v)
}

func (c frameCodec) Name() string { return c.proto.Name() }
