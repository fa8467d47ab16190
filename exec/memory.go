package exec

import (
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
)

// accountingAllocator counts the bytes a query holds and refuses to go over
// its limit. Arrow's allocator interface cannot return errors, so Allocate
// panics with an *oomPanic that recoverError turns back into a SQL error at
// goroutine boundaries.
type accountingAllocator struct {
	mem   memory.Allocator
	limit int64 // 0: unlimited
	used  atomic.Int64
	peak  atomic.Int64
}

type oomPanic struct{ err *sqlerr.Error }

func newAccountingAllocator(mem memory.Allocator, limit int64) *accountingAllocator {
	return &accountingAllocator{mem: mem, limit: limit}
}

func (a *accountingAllocator) reserve(n int64) {
	used := a.used.Add(n)
	if a.limit > 0 && n > 0 && used > a.limit {
		a.used.Add(-n)
		panic(&oomPanic{sqlerr.New(sqlerr.OutOfMemory, "query exceeded memory limit of %d bytes", a.limit)})
	}
	for {
		p := a.peak.Load()
		if used <= p || a.peak.CompareAndSwap(p, used) {
			return
		}
	}
}

func (a *accountingAllocator) Allocate(size int) []byte {
	a.reserve(int64(size))
	return a.mem.Allocate(size)
}

func (a *accountingAllocator) Reallocate(size int, b []byte) []byte {
	a.reserve(int64(size - len(b)))
	return a.mem.Reallocate(size, b)
}

func (a *accountingAllocator) Free(b []byte) {
	a.used.Add(-int64(len(b)))
	a.mem.Free(b)
}

// recoverError converts a recovered panic value into an error: the memory
// limit sentinel into its 53200 error, anything else into an internal
// error.
func recoverError(r any) error {
	if r == nil {
		return nil
	}
	if o, ok := r.(*oomPanic); ok {
		return o.err
	}
	if err, ok := r.(error); ok {
		return sqlerr.Wrap(sqlerr.InternalError, err, "internal error in executor")
	}
	return sqlerr.New(sqlerr.InternalError, "internal error in executor: %v", r)
}

// guard runs fn and turns a panic inside it into an error.
func guard(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = recoverError(r)
		}
	}()
	return fn()
}
