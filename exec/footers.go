package exec

import (
	"io/fs"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/parquet/metadata"
)

// footers caches the parsed footers (file metadata) of Parquet files, so
// that short queries do not decode the same Thrift footer on every run.
// An entry is valid while the file keeps its size and modification time.
var footers = &footerCache{entries: map[string]footerEntry{}}

// maxFooters bounds the cache; beyond it an arbitrary entry is dropped.
const maxFooters = 1024

type footerCache struct {
	mu      sync.Mutex
	entries map[string]footerEntry
}

type footerEntry struct {
	size  int64
	mtime time.Time
	md    *metadata.FileMetaData
}

// fileVersion tells versions of a file apart: its size and modification
// time.
type fileVersion struct {
	size  int64
	mtime time.Time
}

func versionOf(st fs.FileInfo) fileVersion { return fileVersion{st.Size(), st.ModTime()} }

func (c *footerCache) get(path string, v fileVersion) *metadata.FileMetaData {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[path]
	if !ok || e.size != v.size || !e.mtime.Equal(v.mtime) {
		return nil
	}
	return e.md
}

func (c *footerCache) put(path string, v fileVersion, md *metadata.FileMetaData) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[path]; !ok && len(c.entries) >= maxFooters {
		for k := range c.entries {
			delete(c.entries, k)
			break
		}
	}
	c.entries[path] = footerEntry{size: v.size, mtime: v.mtime, md: md}
}
