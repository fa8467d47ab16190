package exchange

import (
	"bytes"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/arrow/util"
)

// BenchmarkStream measures one stream of 64K-row batches (3 int64 and 2
// string columns) over loopback, per compression. MB/s counts the
// uncompressed Arrow bytes; wire/raw is the IPC body compression ratio.
func BenchmarkStream(b *testing.B) {
	const rows = 64 * 1024
	batch := makeBatch(memory.DefaultAllocator, 1, rows)
	defer batch.Release()
	for _, comp := range []Compression{NoCompression, LZ4, ZSTD} {
		b.Run(comp.String(), func(b *testing.B) {
			g := newGen(memory.DefaultAllocator, b.N, rows)
			g.same = batch
			o := &outboxes{streams: map[Ticket]Stream{{"q", 0, 0}: g}}
			addr, _ := startServer(b, o, ServerOptions{Compression: comp})
			c := newTestClient(b)
			b.SetBytes(util.TotalRecordSize(batch))
			ratio := wireRatio(b, batch, comp)
			b.ResetTimer()
			s, err := c.Open(b.Context(), addr, Ticket{"q", 0, 0}, nil)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for {
				r, err := s.Next(b.Context())
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				r.Release()
				n++
			}
			if n != b.N {
				b.Fatalf("%d batches, want %d", n, b.N)
			}
			b.ReportMetric(ratio, "wire/raw")
		})
	}
}

func wireRatio(b *testing.B, batch arrow.Record, comp Compression) float64 {
	var buf bytes.Buffer
	opts := []ipc.Option{ipc.WithSchema(batch.Schema())}
	if o, ok := comp.ipcOption(); ok {
		opts = append(opts, o)
	}
	w := ipc.NewWriter(&buf, opts...)
	if err := w.Write(batch); err != nil {
		b.Fatal(err)
	}
	w.Close()
	return float64(buf.Len()) / float64(util.TotalRecordSize(batch))
}
