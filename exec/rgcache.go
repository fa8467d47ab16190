package exec

import (
	"container/list"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/quarrydb/quarry/exec/kernels"
)

// Decoded row groups of small Parquet column chunks are kept between
// queries: a point query on a small table (the dimension lookups BI tools
// and dashboards send all the time) otherwise spends most of its time
// decompressing and decoding the same few kilobytes again. Large row
// groups are not cached; reading them is the work itself.
const (
	// rowGroupCacheBytes bounds the decoded data kept.
	rowGroupCacheBytes = 64 << 20
	// rowGroupCacheEntry is the largest row group (uncompressed size of
	// the columns read) that is cached.
	rowGroupCacheEntry = 1 << 20
)

// rowGroups is the process's cache of decoded row groups.
var rowGroups = newRowGroupCache(rowGroupCacheBytes)

// rowGroupCache is an LRU of assembled scan batches by file version, row
// group and column set. Its records are allocated outside any query and
// shared read-only by the queries that read them.
type rowGroupCache struct {
	mu      sync.Mutex
	max     int64
	size    int64
	entries map[string]*list.Element
	lru     list.List // front: most recently used
	hits    atomic.Int64
}

type rowGroupEntry struct {
	key  string
	recs []arrow.Record
	size int64
}

func newRowGroupCache(max int64) *rowGroupCache {
	return &rowGroupCache{max: max, entries: map[string]*list.Element{}}
}

// get returns the batches of key, retained for the caller, or nil.
func (c *rowGroupCache) get(key string) []arrow.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return nil
	}
	c.lru.MoveToFront(el)
	c.hits.Add(1)
	e := el.Value.(*rowGroupEntry)
	out := make([]arrow.Record, len(e.recs))
	for i, r := range e.recs {
		r.Retain()
		out[i] = r
	}
	return out
}

// put stores copies of recs (the caller keeps its own) and returns the
// copies, retained for the caller.
func (c *rowGroupCache) put(key string, recs []arrow.Record) ([]arrow.Record, error) {
	copies := make([]arrow.Record, 0, len(recs))
	var size int64
	for _, r := range recs {
		cp, err := copyRecord(r, memory.DefaultAllocator)
		if err != nil {
			for _, c := range copies {
				c.Release()
			}
			return nil, err
		}
		// Queries share these; Arrow's lazy null counts must not be
		// written concurrently.
		settleNullCounts(cp)
		size += recordBytes(cp, cp.NumRows())
		copies = append(copies, cp)
	}
	out := make([]arrow.Record, len(copies))
	for i, r := range copies {
		r.Retain()
		out[i] = r
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		// Another query cached it meanwhile.
		c.remove(el)
	}
	c.entries[key] = c.lru.PushFront(&rowGroupEntry{key: key, recs: copies, size: size})
	c.size += size
	for c.size > c.max && c.lru.Len() > 1 {
		c.remove(c.lru.Back())
	}
	return out, nil
}

func (c *rowGroupCache) remove(el *list.Element) {
	e := el.Value.(*rowGroupEntry)
	c.lru.Remove(el)
	delete(c.entries, e.key)
	c.size -= e.size
	for _, r := range e.recs {
		r.Release()
	}
}

// copyRecord copies r's columns into buffers of mem.
func copyRecord(r arrow.Record, mem memory.Allocator) (arrow.Record, error) {
	cols := make([]arrow.Array, r.NumCols())
	for i, c := range r.Columns() {
		cp, err := array.Concatenate([]arrow.Array{c}, mem)
		if err != nil {
			for _, c := range cols[:i] {
				c.Release()
			}
			return nil, err
		}
		// Keep what is known of the decimals' magnitude (their fast paths
		// depend on it).
		if d, ok := c.(*array.Decimal128); ok {
			if m, ok := kernels.DecBound(d); ok && len(cp.Data().Buffers()) > 1 {
				kernels.SetDecBound(cp.Data().Buffers()[1], m)
			}
		}
		cols[i] = cp
	}
	out := array.NewRecord(r.Schema(), cols, r.NumRows())
	for _, c := range cols {
		c.Release()
	}
	return out, nil
}

// fileStamp identifies a version of a file: a cached row group of another
// version is never used.
func fileStamp(path string, v fileVersion) string {
	return path + "\x00" + strconv.FormatInt(v.size, 10) + "\x00" + strconv.FormatInt(v.mtime.UnixNano(), 10)
}

// rowGroupKey is the cache key of row group rg of the scan's open file,
// or "" when the row group is not to be cached.
func (s *scanOp) rowGroupKey(rg int) string {
	if s.stamp == "" {
		return ""
	}
	return s.cacheKey(s.stamp, s.pf.MetaData(), rg)
}

// cacheKey is the cache key of row group rg of the file version stamp
// with metadata md, or "" when it is not to be cached.
func (s *scanOp) cacheKey(stamp string, md *metadata.FileMetaData, rg int) string {
	if len(s.leaves) == 0 || rg < 0 || rg >= md.NumRowGroups() {
		return ""
	}
	if s.columnsKey == "" {
		var b strings.Builder
		for _, c := range s.n.Columns {
			if c.FileColumn < 0 {
				s.columnsKey = "-" // partition values are the file's, not the row group's
				break
			}
			b.WriteByte(0)
			b.WriteString(strconv.Itoa(c.FileColumn))
			b.WriteByte(':')
			b.WriteString(c.T.String())
		}
		if s.columnsKey == "" {
			s.columnsKey = b.String()
		}
	}
	if s.columnsKey == "-" {
		return ""
	}
	rgmd := md.RowGroup(rg)
	var size int64
	for _, l := range s.leaves {
		if l >= rgmd.NumColumns() {
			return ""
		}
		cc, err := rgmd.ColumnChunk(l)
		if err != nil {
			return ""
		}
		size += cc.TotalUncompressedSize()
	}
	if size > rowGroupCacheEntry {
		return ""
	}
	return stamp + "\x00" + strconv.Itoa(rg) + s.columnsKey
}

// cachedSplit returns the cached batches of split sp without opening its
// file (a stat tells its version, the footer cache its layout), or nil.
func (s *scanOp) cachedSplit(sp Split) []arrow.Record {
	if len(s.leaves) == 0 || sp.File < 0 || sp.File >= len(s.n.Files) {
		return nil
	}
	sf := &s.n.Files[sp.File]
	path := sf.Path
	// The plan names the file version it was made for; a plan that does
	// not (an older coordinator) is served what the file is now.
	v := fileVersion{sf.Size, time.Unix(0, sf.ModTime)}
	if sf.ModTime == 0 {
		st, err := os.Stat(path)
		if err != nil {
			return nil
		}
		v = versionOf(st)
	}
	md := footers.get(path, v)
	if md == nil {
		return nil
	}
	key := s.cacheKey(fileStamp(path, v), md, sp.RowGroup)
	if key == "" {
		return nil
	}
	return rowGroups.get(key)
}
