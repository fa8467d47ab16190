package exec

import (
	"errors"
	"math/bits"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/exec/kernels"
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

// Libraries that recover panics (arrow's Concatenate) return the value as
// an error; it still reads as the memory limit's error.
func (o *oomPanic) Error() string { return o.err.Error() }
func (o *oomPanic) Unwrap() error { return o.err }

// internalError wraps err as an internal error, unless it is the memory
// limit's error returned by a library that recovered our panic.
func internalError(err error, msg string) error {
	var o *oomPanic
	if errors.As(err, &o) {
		return o.err
	}
	return sqlerr.Wrap(sqlerr.InternalError, err, "%s", msg)
}

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

// AllocateUninit is Allocate without zeroing when the underlying
// allocator supports it.
func (a *accountingAllocator) AllocateUninit(size int) []byte {
	a.reserve(int64(size))
	if u, ok := a.mem.(kernels.UninitAllocator); ok {
		return u.AllocateUninit(size)
	}
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

// goMemory charges Go-heap memory an operator holds outside Arrow buffers
// (hash maps, per-group states) to the query's account, so that the
// memory limit sees it too. Its methods do nothing when the operator's
// allocator does not account (tests with plain allocators).
type goMemory struct {
	acct    *accountingAllocator
	charged int64
}

func newGoMemory(mem memory.Allocator) goMemory {
	a, _ := mem.(*accountingAllocator)
	return goMemory{acct: a}
}

// set makes the charge total bytes; it panics with the memory-limit
// sentinel when that goes over the limit.
func (g *goMemory) set(total int64) {
	if g.acct == nil || total == g.charged {
		return
	}
	delta := total - g.charged
	g.acct.reserve(delta)
	g.charged = total
}

// release returns everything charged.
func (g *goMemory) release() {
	if g.acct != nil && g.charged != 0 {
		g.acct.used.Add(-g.charged)
	}
	g.charged = 0
}

// Rough Go-heap costs: a map entry with its share of buckets, and one
// aggregate's state for one group.
const (
	mapEntryBytes  = 48
	aggStateBytes  = 24
	goStringHeader = 16
)

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

// poolAllocator recycles the query's large buffers. Every batch of a scan
// or kernel allocates buffers of the same few sizes, and handing them back
// to Go's allocator makes the garbage collector clear and scan a fresh
// megabyte per column per batch; reusing them keeps the heap flat.
//
// Buffers of at least minPooled bytes are allocated in power-of-two
// classes and kept on Free, up to maxHeld bytes; smaller ones pass
// through. Slices are handed out with capacity equal to their length
// (arrow code takes cap as the usable size), so the pool remembers the
// class of each buffer it handed out by address. Every buffer it hands out
// is zeroed, as Go's allocator does. close returns what it holds to the
// underlying allocator; buffers freed later pass straight through.
type poolAllocator struct {
	mem    memory.Allocator
	mu     sync.Mutex
	free   [maxClass + 1][]unsafe.Pointer
	out    map[unsafe.Pointer]uint8 // class of each pooled buffer in use
	held   int
	closed bool
}

const (
	minClass  = 12 // 4 KiB
	maxClass  = 27 // 128 MiB
	minPooled = 1 << minClass
	maxHeld   = 256 << 20
)

func newPoolAllocator(mem memory.Allocator) *poolAllocator {
	return &poolAllocator{mem: mem, out: map[unsafe.Pointer]uint8{}}
}

// sizeClass returns the class of a buffer of n ≥ minPooled bytes, or -1
// when it is too large to pool.
func sizeClass(n int) int {
	c := bits.Len(uint(n - 1))
	if c > maxClass {
		return -1
	}
	return max(c, minClass)
}

func (p *poolAllocator) Allocate(size int) []byte { return p.allocate(size, true) }

// AllocateUninit is Allocate without zeroing a recycled buffer.
func (p *poolAllocator) AllocateUninit(size int) []byte { return p.allocate(size, false) }

func (p *poolAllocator) allocate(size int, zero bool) []byte {
	c := -1
	if size >= minPooled {
		c = sizeClass(size)
	}
	if c < 0 {
		return p.mem.Allocate(size)
	}
	p.mu.Lock()
	var ptr unsafe.Pointer
	if l := p.free[c]; len(l) > 0 {
		ptr = l[len(l)-1]
		p.free[c] = l[:len(l)-1]
		p.held -= 1 << c
	}
	p.mu.Unlock()
	var b []byte
	if ptr != nil {
		b = unsafe.Slice((*byte)(ptr), size)
		if zero {
			clear(b)
		}
	} else {
		b = p.mem.Allocate(1 << c)[:size:size]
		ptr = unsafe.Pointer(unsafe.SliceData(b))
	}
	p.mu.Lock()
	p.out[ptr] = uint8(c)
	p.mu.Unlock()
	return b
}

// class returns the class of b if the pool handed it out, else -1.
func (p *poolAllocator) class(b []byte) int {
	if cap(b) < minPooled {
		return -1
	}
	p.mu.Lock()
	c, ok := p.out[unsafe.Pointer(unsafe.SliceData(b))]
	p.mu.Unlock()
	if !ok {
		return -1
	}
	return int(c)
}

func (p *poolAllocator) Reallocate(size int, b []byte) []byte {
	c := p.class(b)
	if c >= 0 && size <= 1<<c && size >= minPooled {
		old := len(b)
		b = unsafe.Slice(unsafe.SliceData(b), size)
		if size > old {
			clear(b[old:])
		}
		return b
	}
	if c < 0 && size < minPooled {
		return p.mem.Reallocate(size, b)
	}
	nb := p.Allocate(size)
	copy(nb, b)
	p.Free(b)
	return nb
}

func (p *poolAllocator) Free(b []byte) {
	if cap(b) < minPooled {
		p.mem.Free(b)
		return
	}
	ptr := unsafe.Pointer(unsafe.SliceData(b))
	p.mu.Lock()
	c, ok := p.out[ptr]
	if !ok {
		p.mu.Unlock()
		p.mem.Free(b)
		return
	}
	delete(p.out, ptr)
	if p.closed || p.held+1<<c > maxHeld {
		p.mu.Unlock()
		p.mem.Free(unsafe.Slice((*byte)(ptr), 1<<c))
		return
	}
	p.free[c] = append(p.free[c], ptr)
	p.held += 1 << c
	p.mu.Unlock()
}

// close hands the buffers it keeps back to the underlying allocator; later
// Frees go straight there too.
func (p *poolAllocator) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for c := range p.free {
		for _, ptr := range p.free[c] {
			p.mem.Free(unsafe.Slice((*byte)(ptr), 1<<c))
		}
		p.free[c] = nil
	}
	p.held = 0
}
