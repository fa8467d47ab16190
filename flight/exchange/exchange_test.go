package exchange

import (
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/arrow/util"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

func TestTicket(t *testing.T) {
	for _, tk := range []Ticket{
		{"q1", 0, 0},
		{"0f8c1c1e-5c1e-4b4b-9d7e-3a1f2b3c4d5e", 3, 17},
		{"q", 1 << 30, 1<<31 - 1},
		{strings.Repeat("x", maxTicketQuery), 1, 2},
	} {
		got, err := DecodeTicket(tk.Encode())
		if err != nil || got != tk {
			t.Errorf("DecodeTicket(Encode(%v)) = %v, %v", tk, got, err)
		}
	}
	if n := len(Ticket{"q1", 3, 17}.Encode()); n != 8 {
		t.Errorf("encoded ticket of %d bytes, want 8", n)
	}

	good := Ticket{"q1", 2, 5}.Encode()
	for name, b := range map[string][]byte{
		"empty":          nil,
		"flight sql":     {0x0a, 0x20, 't', 'y', 'p', 'e'},
		"version 2":      append([]byte{'Q', 'X', 2}, good[3:]...),
		"truncated":      good[:len(good)-1],
		"trailing":       append(append([]byte{}, good...), 0),
		"no query":       Ticket{"", 1, 1}.Encode(),
		"long query":     Ticket{strings.Repeat("x", maxTicketQuery+1), 1, 1}.Encode(),
		"negative":       Ticket{"q", -1, 0}.Encode(),
		"huge partition": Ticket{"q", 0, 1 << 31}.Encode(),
		"query overruns": {'Q', 'X', 1, 10, 'a'},
	} {
		if tk, err := DecodeTicket(b); err == nil {
			t.Errorf("%s: DecodeTicket = %v, want an error", name, tk)
		} else if sqlerr.Code(err) != sqlerr.ProtocolViolation {
			t.Errorf("%s: %v, want SQLSTATE %s", name, err, sqlerr.ProtocolViolation)
		}
	}
}

func TestParseCompression(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Compression
		ok   bool
	}{
		{"", NoCompression, true},
		{"none", NoCompression, true},
		{"LZ4", LZ4, true},
		{" zstd ", ZSTD, true},
		{"Auto", Auto, true},
		{"gzip", NoCompression, false},
	} {
		got, err := ParseCompression(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("ParseCompression(%q) = %v, %v", tc.in, got, err)
		}
		if err == nil {
			if again, _ := ParseCompression(got.String()); again != got {
				t.Errorf("%v does not round trip through String", got)
			}
		}
	}
	loopback := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}
	remote := &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 1}
	for _, tc := range []struct {
		c    Compression
		addr net.Addr
		want Compression
	}{
		{Auto, loopback, NoCompression},
		{Auto, remote, LZ4},
		{Auto, nil, LZ4},
		{ZSTD, loopback, ZSTD},
	} {
		if got := tc.c.forPeer(tc.addr); got != tc.want {
			t.Errorf("%v.forPeer(%v) = %v, want %v", tc.c, tc.addr, got, tc.want)
		}
	}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	var c Compression
	fs.Var(&c, "exchange-compression", "")
	if err := fs.Parse([]string{"--exchange-compression=zstd"}); err != nil || c != ZSTD {
		t.Errorf("flag: %v, %v", c, err)
	}
}

// TestRoundTrip streams several partitions at once through one client and
// compares every batch.
func TestRoundTrip(t *testing.T) {
	const parts, batches, rows = 3, 40, 3000
	for _, comp := range []Compression{NoCompression, LZ4, ZSTD} {
		t.Run(comp.String(), func(t *testing.T) {
			srvMem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			cliMem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			o := &outboxes{streams: map[Ticket]Stream{}}
			gens := make([]*genStream, parts)
			for p := range parts {
				gens[p] = newGen(srvMem, batches, rows+p)
				o.streams[Ticket{"q", 1, p}] = gens[p]
			}
			addr, stop := startServer(t, o, ServerOptions{Compression: comp, Alloc: srvMem})
			c := newTestClient(t)

			var wg sync.WaitGroup
			for p := range parts {
				wg.Go(func() {
					s, err := c.Open(t.Context(), addr, Ticket{"q", 1, p}, cliMem)
					if err != nil {
						t.Error(err)
						return
					}
					defer s.Close()
					n := 0
					for {
						got, err := s.Next(t.Context())
						if err == io.EOF {
							break
						}
						if err != nil {
							t.Error(err)
							return
						}
						if comp != NoCompression && cliMem.CurrentAlloc() == 0 {
							t.Error("decompressed batch not allocated from the client's allocator")
						}
						want := makeBatch(memory.DefaultAllocator, n, rows+p)
						if !array.RecordEqual(got, want) {
							t.Errorf("partition %d batch %d differs", p, n)
						}
						want.Release()
						got.Release()
						n++
					}
					if n != batches {
						t.Errorf("partition %d: %d batches, want %d", p, n, batches)
					}
					if _, err := s.Next(t.Context()); err != io.EOF {
						t.Errorf("Next after the end: %v", err)
					}
				})
			}
			wg.Wait()
			c.mu.Lock()
			if len(c.conns) != 1 {
				t.Errorf("%d connections, want 1 shared", len(c.conns))
			}
			c.mu.Unlock()
			for p, g := range gens {
				waitClosed(t, "partition "+string(rune('0'+p)), g.closed)
			}
			c.Close()
			stop()
			checkAlloc(t, "server", srvMem)
			checkAlloc(t, "client", cliMem)
		})
	}
}

func TestEmptyStream(t *testing.T) {
	for _, comp := range []Compression{NoCompression, ZSTD} {
		t.Run(comp.String(), func(t *testing.T) {
			srvMem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			cliMem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			g := newGen(srvMem, 0, 10)
			o := &outboxes{streams: map[Ticket]Stream{{"q", 0, 0}: g}}
			addr, stop := startServer(t, o, ServerOptions{Compression: comp, Alloc: srvMem})
			c := newTestClient(t)
			s, err := c.Open(t.Context(), addr, Ticket{"q", 0, 0}, cliMem)
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if b, err := s.Next(t.Context()); err != io.EOF {
					t.Fatalf("Next = %v, %v; want io.EOF", b, err)
				}
			}
			s.Close()
			waitClosed(t, "stream", g.closed)
			c.Close()
			stop()
			checkAlloc(t, "server", srvMem)
			checkAlloc(t, "client", cliMem)
		})
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		outboxErr error // from Outbox
		after     int   // batches before the stream fails
		streamErr error // from Stream.Next
		ticket    *Ticket
		want      *sqlerr.Error
	}{
		{
			name:      "outbox",
			outboxErr: sqlerr.New(sqlerr.UndefinedObject, "query %q has no fragment %d", "q", 1),
			want:      &sqlerr.Error{Code: sqlerr.UndefinedObject, Msg: `query "q" has no fragment 1`},
		},
		{
			name:      "mid-stream with position",
			after:     3,
			streamErr: sqlerr.At(sqlerr.DivisionByZero, 17, "division by zero"),
			want:      &sqlerr.Error{Code: sqlerr.DivisionByZero, Msg: "division by zero", Pos: 17},
		},
		{
			name:      "first batch",
			streamErr: sqlerr.New(sqlerr.OutOfMemory, "query memory limit of 1 MB exceeded"),
			want:      &sqlerr.Error{Code: sqlerr.OutOfMemory, Msg: "query memory limit of 1 MB exceeded"},
		},
		{
			name:      "plain error",
			after:     1,
			streamErr: errors.New("disk on fire"),
			want:      &sqlerr.Error{Code: sqlerr.InternalError, Msg: "disk on fire"},
		},
		{
			name:   "unknown ticket",
			ticket: &Ticket{"other", 9, 9},
			want:   &sqlerr.Error{Code: sqlerr.InternalError, Msg: "no outbox other/f9/p9"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srvMem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			cliMem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			g := newGen(srvMem, tc.after, 100)
			g.fail = tc.streamErr
			o := &outboxes{streams: map[Ticket]Stream{{"q", 1, 0}: g}, err: tc.outboxErr}
			addr, stop := startServer(t, o, ServerOptions{Compression: LZ4, Alloc: srvMem})
			c := newTestClient(t)
			tk := Ticket{"q", 1, 0}
			if tc.ticket != nil {
				tk = *tc.ticket
			}
			s, err := c.Open(t.Context(), addr, tk, cliMem)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for {
				b, err := s.Next(t.Context())
				if err == nil {
					b.Release()
					n++
					continue
				}
				var got *sqlerr.Error
				if !errors.As(err, &got) {
					t.Fatalf("error %T %v, want a *sqlerr.Error", err, err)
				}
				if got.Code != tc.want.Code || got.Msg != tc.want.Msg || got.Pos != tc.want.Pos {
					t.Errorf("error %#v, want %#v", got, tc.want)
				}
				if got.Error() != tc.want.Error() {
					t.Errorf("text %q, want %q", got.Error(), tc.want.Error())
				}
				if IsUnavailable(err) {
					t.Error("IsUnavailable of a producer error")
				}
				if _, again := s.Next(t.Context()); again != err {
					t.Errorf("Next after the error: %v", again)
				}
				break
			}
			if n != tc.after {
				t.Errorf("%d batches before the error, want %d", n, tc.after)
			}
			s.Close()
			c.Close()
			stop()
			checkAlloc(t, "server", srvMem)
			checkAlloc(t, "client", cliMem)
		})
	}
}

// TestStatusText checks the status a foreign client sees.
func TestStatusText(t *testing.T) {
	e := sqlerr.New(sqlerr.UndefinedTable, `table "t" does not exist`)
	st := status.Convert(toStatus(e))
	if st.Message() != e.Error() {
		t.Errorf("status message %q, want %q", st.Message(), e.Error())
	}
	if got := sqlFromStatus(st); got == nil || *got != (sqlerr.Error{Code: e.Code, Msg: e.Msg}) {
		t.Errorf("details give %#v", got)
	}
}

// TestCancel stops reading mid-stream, by Close or by canceling the ctx of
// a blocked Next: the producer must see it and nothing may leak.
func TestCancel(t *testing.T) {
	for _, how := range []string{"close", "next ctx", "open ctx"} {
		t.Run(how, func(t *testing.T) {
			base := runtime.NumGoroutine()
			srvMem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			cliMem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			g := newGen(srvMem, -1, 1000)
			g.gate = make(chan struct{}, 3)
			for range 3 {
				g.gate <- struct{}{}
			}
			o := &outboxes{streams: map[Ticket]Stream{{"q", 0, 0}: g}}
			addr, stop, err := serve(o, ServerOptions{Compression: ZSTD, Alloc: srvMem})
			if err != nil {
				t.Fatal(err)
			}
			c := NewClient(grpc.WithTransportCredentials(insecure.NewCredentials()))
			openCtx, cancelOpen := context.WithCancel(t.Context())
			defer cancelOpen()
			s, err := c.Open(openCtx, addr, Ticket{"q", 0, 0}, cliMem)
			if err != nil {
				t.Fatal(err)
			}
			var held []interface{ Release() }
			for range 3 {
				b, err := s.Next(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				held = append(held, b)
			}
			// The producer now waits at the gate for batch 4.
			switch how {
			case "close":
				s.Close()
			case "next ctx", "open ctx":
				ctx, cancel := context.WithCancel(t.Context())
				if how == "open ctx" {
					ctx, cancel = t.Context(), cancelOpen
				}
				time.AfterFunc(50*time.Millisecond, cancel)
				start := time.Now()
				if b, err := s.Next(ctx); !errors.Is(err, context.Canceled) {
					t.Fatalf("Next = %v, %v; want context.Canceled", b, err)
				}
				if d := time.Since(start); d > 2*time.Second {
					t.Errorf("Next took %v to notice the cancellation", d)
				}
			}
			waitClosed(t, "producer stream", g.closed)
			if got := g.produced.Load(); got != 3 {
				t.Errorf("producer made %d batches, want 3", got)
			}
			// Batches handed out stay valid after the stream stops.
			for _, b := range held {
				b.Release()
			}
			s.Close()
			c.Close()
			stop()
			checkAlloc(t, "server", srvMem)
			checkAlloc(t, "client", cliMem)
			waitGoroutines(t, base)
		})
	}
}

func TestUnavailable(t *testing.T) {
	t.Run("unreachable", func(t *testing.T) {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := lis.Addr().String()
		lis.Close()
		c := newTestClient(t)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		s, err := c.Open(ctx, addr, Ticket{"q", 0, 0}, nil)
		if err == nil {
			_, err = s.Next(ctx)
			s.Close()
		}
		checkUnavailable(t, err, addr)
	})
	t.Run("connection lost", func(t *testing.T) {
		srvMem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		cliMem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		g := newGen(srvMem, -1, 1000)
		g.gate = make(chan struct{}, 1)
		g.gate <- struct{}{}
		o := &outboxes{streams: map[Ticket]Stream{{"q", 0, 0}: g}}
		addr, stop := startServer(t, o, ServerOptions{Alloc: srvMem})
		c := newTestClient(t)
		s, err := c.Open(t.Context(), addr, Ticket{"q", 0, 0}, cliMem)
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.Next(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		b.Release()
		time.AfterFunc(50*time.Millisecond, stop)
		_, err = s.Next(t.Context())
		checkUnavailable(t, err, addr)
		s.Close()
		c.Close()
		checkAlloc(t, "server", srvMem)
		checkAlloc(t, "client", cliMem)
	})
}

func checkUnavailable(t *testing.T, err error, addr string) {
	t.Helper()
	t.Log(err)
	if !IsUnavailable(err) {
		t.Fatalf("IsUnavailable(%v) = false", err)
	}
	if !strings.Contains(err.Error(), addr) {
		t.Errorf("error %q does not name %s", err, addr)
	}
	if code := sqlerr.Code(err); code != ConnectionFailure {
		t.Errorf("SQLSTATE %s, want %s", code, ConnectionFailure)
	}
}

// TestSlowProducer shows batches travel as they are made: the client gets
// each one while the producer is still blocked on the next, and waits.
func TestSlowProducer(t *testing.T) {
	srvMem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	g := newGen(srvMem, 3, 100)
	g.gate = make(chan struct{})
	o := &outboxes{streams: map[Ticket]Stream{{"q", 0, 0}: g}}
	addr, stop := startServer(t, o, ServerOptions{Alloc: srvMem})
	c := newTestClient(t)
	s, err := c.Open(t.Context(), addr, Ticket{"q", 0, 0}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 3 {
		got := make(chan error, 1)
		go func() {
			b, err := s.Next(t.Context())
			if err == nil {
				b.Release()
			}
			got <- err
		}()
		select {
		case err := <-got:
			t.Fatalf("batch %d: Next returned (%v) before the producer made it", i, err)
		case <-time.After(100 * time.Millisecond):
		}
		g.gate <- struct{}{}
		if err := <-got; err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
	}
	if _, err := s.Next(t.Context()); err != io.EOF {
		t.Fatalf("Next at the end: %v", err)
	}
	c.Close()
	stop()
	checkAlloc(t, "server", srvMem)
}

// TestSlowConsumer shows the producer is held back by a consumer that does
// not read, instead of its batches piling up in buffers.
func TestSlowConsumer(t *testing.T) {
	const rows = 128 * 1024 // 4.5 MiB a batch
	srvMem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	cliMem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	g := newGen(srvMem, 1000, rows) // 4.5 GB in all
	o := &outboxes{streams: map[Ticket]Stream{{"q", 0, 0}: g}}
	addr, stop := startServer(t, o, ServerOptions{Alloc: srvMem})
	c := newTestClient(t)
	s, err := c.Open(t.Context(), addr, Ticket{"q", 0, 0}, cliMem)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Next(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	batchBytes := util.TotalRecordSize(b)
	b.Release()
	// Let the producer run ahead as far as the transport allows.
	var before int64
	for {
		time.Sleep(300 * time.Millisecond)
		n := g.produced.Load()
		if n == before {
			break
		}
		before = n
	}
	ahead := before - 1
	t.Logf("producer %d batches (%.1f MiB) ahead of a stalled consumer", ahead, float64(ahead*batchBytes)/(1<<20))
	if ahead*batchBytes > 64<<20 {
		t.Errorf("producer ran %d batches ahead: unbounded buffering", ahead)
	}
	// Reading resumes the producer.
	for range 3 * ahead {
		b, err := s.Next(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		b.Release()
	}
	if n := g.produced.Load(); n <= before {
		t.Errorf("producer stuck at %d batches after the consumer read on", n)
	}
	s.Close()
	waitClosed(t, "producer stream", g.closed)
	c.Close()
	stop()
	checkAlloc(t, "server", srvMem)
	checkAlloc(t, "client", cliMem)
}

// Compile-time check that the server is a Flight service.
var _ flight.FlightServer = NewServer(nil, ServerOptions{})
