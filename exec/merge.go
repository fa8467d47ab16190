package exec

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
)

// closeReceiver stops a receiver that holds resources (a remote stream).
func closeReceiver(r Receiver) {
	if c, ok := r.(interface{ Close() error }); ok {
		c.Close()
	}
}

// guardedNext is src.Next with a panic (an allocation over the memory
// limit) turned into an error, for goroutines of the runtime's own.
func guardedNext(ctx context.Context, src Receiver) (b arrow.Record, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, recoverError(r)
		}
	}()
	return src.Next(ctx)
}

// mergeReceiver interleaves the batches of several receivers (one per node
// that produces an exchange's input) in arrival order.
type mergeReceiver struct {
	ch      chan mergeItem
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	srcs    []Receiver
	pending int
	err     error
	once    sync.Once
}

type mergeItem struct {
	b   arrow.Record
	err error
}

func newMergeReceiver(ctx context.Context, srcs []Receiver) *mergeReceiver {
	ctx, cancel := context.WithCancel(ctx)
	m := &mergeReceiver{ch: make(chan mergeItem, len(srcs)), cancel: cancel, srcs: srcs, pending: len(srcs)}
	for _, src := range srcs {
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			for {
				b, err := guardedNext(ctx, src)
				select {
				case m.ch <- mergeItem{b, err}:
				case <-ctx.Done():
					if b != nil {
						b.Release()
					}
					return
				}
				if err != nil {
					return
				}
			}
		}()
	}
	return m
}

func (m *mergeReceiver) Next(ctx context.Context) (arrow.Record, error) {
	if m.err != nil {
		return nil, m.err
	}
	for m.pending > 0 {
		select {
		case it := <-m.ch:
			switch {
			case it.err == nil:
				return it.b, nil
			case errors.Is(it.err, io.EOF):
				m.pending--
			default:
				m.err = it.err
				return nil, it.err
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	m.err = io.EOF
	return nil, io.EOF
}

// Close stops the sources and releases what they delivered unread.
func (m *mergeReceiver) Close() error {
	m.once.Do(func() {
		m.cancel()
		go func() {
			for it := range m.ch {
				if it.b != nil {
					it.b.Release()
				}
			}
		}()
		m.wg.Wait()
		close(m.ch)
		for _, s := range m.srcs {
			closeReceiver(s)
		}
	})
	return nil
}
