package flight

import (
	"bytes"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/proto"
)

// captureStream keeps copies of the FlightData messages sent to it.
type captureStream struct{ msgs []*flight.FlightData }

func (c *captureStream) Send(fd *flight.FlightData) error {
	c.msgs = append(c.msgs, &flight.FlightData{
		DataHeader:  bytes.Clone(fd.DataHeader),
		DataBody:    bytes.Clone(fd.DataBody),
		AppMetadata: bytes.Clone(fd.AppMetadata),
	})
	return nil
}

func testRecord(t *testing.T, mem memory.Allocator, n int) arrow.Record {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "i", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "d", Type: &arrow.Decimal128Type{Precision: 15, Scale: 2}},
		{Name: "b", Type: arrow.FixedWidthTypes.Boolean},
		{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32), Nullable: true},
		{Name: "dt", Type: arrow.FixedWidthTypes.Date32},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for i := 0; i < n; i++ {
		if i%7 == 3 {
			b.Field(0).AppendNull()
			b.Field(1).AppendNull()
			b.Field(4).AppendNull()
		} else {
			b.Field(0).(*array.Int64Builder).Append(int64(i) * 1000003)
			b.Field(1).(*array.StringBuilder).Append(strings.Repeat("ab", i%13))
			lb := b.Field(4).(*array.ListBuilder)
			lb.Append(true)
			for k := 0; k < i%4; k++ {
				lb.ValueBuilder().(*array.Int32Builder).Append(int32(i + k))
			}
		}
		b.Field(2).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(i) - 500))
		b.Field(3).(*array.BooleanBuilder).Append(i%3 == 0)
		b.Field(5).(*array.Date32Builder).Append(arrow.Date32(i))
	}
	return b.NewRecordBatch()
}

// TestEncodeDataMatchesWriter: the messages DoGet assembles around a
// batch's buffers are the messages arrow-go's writer sends, byte for
// byte, for whole batches and for slices of them; and the batch is
// released once gRPC has freed the buffers.
func TestEncodeDataMatchesWriter(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rec := testRecord(t, mem, 20000)
	defer rec.Release()
	batches := []arrow.Record{rec, rec.NewSlice(3, 17), rec.NewSlice(1001, 19999), rec.NewSlice(5, 5)}
	defer func() {
		for _, b := range batches[1:] {
			b.Release()
		}
	}()

	var want captureStream
	wr := flight.NewRecordWriter(&want, ipc.WithSchema(rec.Schema()), ipc.WithAllocator(mem))
	for _, b := range batches {
		if err := wr.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	wr.Close()

	var got []*flight.FlightData
	decode := func(m *encodedData) {
		bufs := m.take()
		raw := bufs.Materialize()
		bufs.Free() // as gRPC does once written
		m.done()
		var fd flight.FlightData
		if err := proto.Unmarshal(raw, &fd); err != nil {
			t.Fatal(err)
		}
		got = append(got, &fd)
	}
	sp := ipc.GetSchemaPayload(rec.Schema(), mem)
	m, err := encodeData(&sp, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	decode(m)
	for _, b := range batches {
		p, err := ipc.GetRecordBatchPayload(b, ipc.WithAllocator(mem))
		if err != nil {
			t.Fatal(err)
		}
		b.Retain() // encodeData takes it over
		m, err := encodeData(&p, b, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		decode(m)
	}
	if len(got) != len(want.msgs) {
		t.Fatalf("%d messages, want %d", len(got), len(want.msgs))
	}
	for i := range got {
		if !bytes.Equal(got[i].DataHeader, want.msgs[i].DataHeader) {
			t.Errorf("message %d: headers differ", i)
		}
		if !bytes.Equal(got[i].DataBody, want.msgs[i].DataBody) {
			t.Errorf("message %d: bodies differ (%d and %d bytes)", i, len(got[i].DataBody), len(want.msgs[i].DataBody))
		}
	}
}

// TestEncodeDataUnsent: a message gRPC never took is freed by done.
func TestEncodeDataUnsent(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rec := testRecord(t, mem, 50000)
	p, err := ipc.GetRecordBatchPayload(rec, ipc.WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	m, err := encodeData(&p, rec, []byte("meta"), &flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	var fd flight.FlightData
	if err := proto.Unmarshal(m.bufs.Materialize(), &fd); err != nil {
		t.Fatal(err)
	}
	if string(fd.AppMetadata) != "meta" || string(fd.FlightDescriptor.GetCmd()) != "x" {
		t.Fatalf("got app metadata %q, descriptor %v", fd.AppMetadata, fd.FlightDescriptor)
	}
	m.done()
}

func TestHasDictionary(t *testing.T) {
	dict := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	for _, c := range []struct {
		t    arrow.DataType
		want bool
	}{
		{arrow.BinaryTypes.String, false},
		{dict, true},
		{arrow.ListOf(dict), true},
		{arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int8}, arrow.Field{Name: "b", Type: dict}), true},
		{arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), false},
	} {
		s := arrow.NewSchema([]arrow.Field{{Name: "x", Type: c.t}}, nil)
		if got := hasDictionary(s); got != c.want {
			t.Errorf("%s: got %v, want %v", c.t, got, c.want)
		}
	}
}
