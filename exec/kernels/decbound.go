package kernels

import (
	"runtime"
	"sync"
	"weak"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Decimal bounds remember, for the values buffer of a decimal128 array,
// that every 16-byte slot in it (NULL slots included) holds a value that
// fits in 64 bits with magnitude at most some m < 2^63. Producers that see
// every value anyway (the scan's widening of INT64 decimals, the 64-bit
// arithmetic loops, filters) record it, so consumers can take 64-bit fast
// paths without another pass over the data to find the largest value.
//
// The table is keyed by the identity of the *memory.Buffer, held weakly:
// a buffer object's bytes never change once it is in an array, and an
// entry dies with its buffer object, so a recycled address cannot inherit
// a stale bound.
var decBounds struct {
	mu sync.Mutex
	m  map[weak.Pointer[memory.Buffer]]uint64
}

// minBoundedLen is the smallest buffer worth a table entry: below it a
// scan for the largest value is cheaper than the bookkeeping.
const minBoundedLen = 4096

// SetDecBound records that every slot of buf holds a value of magnitude at
// most m fitting in 64 bits. buf must be fully written and never written
// again. Bounds of 2^63 or more are not recorded.
func SetDecBound(buf *memory.Buffer, m uint64) {
	if buf == nil || buf.Len() < minBoundedLen || m >= 1<<63 {
		return
	}
	k := weak.Make(buf)
	decBounds.mu.Lock()
	if decBounds.m == nil {
		decBounds.m = map[weak.Pointer[memory.Buffer]]uint64{}
	}
	_, had := decBounds.m[k]
	decBounds.m[k] = m
	decBounds.mu.Unlock()
	if !had {
		runtime.AddCleanup(buf, func(k weak.Pointer[memory.Buffer]) {
			decBounds.mu.Lock()
			delete(decBounds.m, k)
			decBounds.mu.Unlock()
		}, k)
	}
}

// DecBound returns the recorded bound of the values of arr, a decimal128
// array, if there is one.
func DecBound(arr arrow.Array) (uint64, bool) {
	if arr == nil || arr.DataType().ID() != arrow.DECIMAL128 {
		return 0, false
	}
	bufs := arr.Data().Buffers()
	if len(bufs) < 2 || bufs[1] == nil || bufs[1].Len() < minBoundedLen {
		return 0, false
	}
	k := weak.Make(bufs[1])
	decBounds.mu.Lock()
	m, ok := decBounds.m[k]
	decBounds.mu.Unlock()
	return m, ok
}

// setArrayDecBound records m for the values buffer of arr.
func setArrayDecBound(arr arrow.Array, m uint64) {
	bufs := arr.Data().Buffers()
	if len(bufs) >= 2 {
		SetDecBound(bufs[1], m)
	}
}
