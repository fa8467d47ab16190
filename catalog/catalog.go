package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/singleflight"

	"github.com/quarrydb/quarry/catalog/sqlerr"
)

// MemSource is the pseudo-source holding in-memory tables.
const MemSource = "mem"

// bbolt buckets.
var (
	bucketMeta    = []byte("meta")
	bucketSources = []byte("sources") // lower(name) → JSON Source
	bucketFiles   = []byte("files")   // absolute file path → JSON storedFile
	bucketViews   = []byte("views")   // lower(dotted path) → JSON View
)

// schemaVersion is the layout version of the bbolt file.
const schemaVersion = "1"

// lockTimeout bounds how long Open waits for another process's lock on the
// database file.
const lockTimeout = time.Second

// Catalog is the bbolt-backed metadata store: sources, Parquet dataset
// metadata (cached in memory and verified against the files on each
// Lookup) and in-memory tables. It is safe for concurrent use.
type Catalog struct {
	db  *bolt.DB
	dir string

	mu      sync.Mutex
	closed  bool
	sources map[string]Source    // lower(name) →
	cache   map[string]*dsEntry  // lookup key →
	mem     map[string]*memEntry // lower(name) →
	// generated holds tables the process owning the catalog generates
	// (sys.nodes), by lower("schema.name").
	generated map[string]TableGenerator
	// names counts changes that can make a name resolve differently
	// (sources, views and memory tables created or dropped); see
	// NamesVersion.
	names atomic.Uint64

	loads singleflight.Group
}

// NamesVersion changes whenever a table name may resolve differently than
// before: a source, view or memory table was created or dropped. With
// the identity of the datasets Lookup returns (a new *Dataset when its files
// changed), it tells a kept plan whether it still reads what it was planned
// against.
func (c *Catalog) NamesVersion() uint64 { return c.names.Load() }

type memEntry struct {
	name  string
	table *MemTable
}

// dsEntry is a resolved, loaded dataset and what it was built from.
type dsEntry struct {
	srcPath string
	loc     *location
	metas   []*fileMeta
	ds      *Dataset
}

// Open opens (creating if needed) the catalog in dir. A second process
// opening the same dir fails after a short wait instead of blocking.
func Open(dir string) (*Catalog, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, sqlerr.Wrap(sqlerr.IOError, err, "cannot create catalog folder %q", dir)
	}
	path := filepath.Join(dir, "catalog.db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, sqlerr.Wrap(sqlerr.IOError, err, "catalog %q is locked by another process", path)
		}
		return nil, sqlerr.Wrap(sqlerr.IOError, err, "cannot open catalog %q", path)
	}
	c := &Catalog{
		db:      db,
		dir:     dir,
		sources: map[string]Source{},
		cache:   map[string]*dsEntry{},
		mem:     map[string]*memEntry{},
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMeta, bucketSources, bucketFiles, bucketViews} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get([]byte("version")); v == nil {
			if err := meta.Put([]byte("version"), []byte(schemaVersion)); err != nil {
				return err
			}
		} else if string(v) != schemaVersion {
			return sqlerr.New(sqlerr.DataCorrupted, "catalog %q has layout version %s, this build reads %s", path, v, schemaVersion)
		}
		return tx.Bucket(bucketSources).ForEach(func(k, v []byte) error {
			var s Source
			if err := json.Unmarshal(v, &s); err != nil {
				return sqlerr.Wrap(sqlerr.DataCorrupted, err, "catalog %q: bad source record %q", path, k)
			}
			c.sources[string(k)] = s
			return nil
		})
	})
	if err != nil {
		db.Close()
		var se *sqlerr.Error
		if errors.As(err, &se) {
			return nil, se
		}
		return nil, sqlerr.Wrap(sqlerr.IOError, err, "cannot initialize catalog %q", path)
	}
	return c, nil
}

// Close closes the database and releases the memory tables.
func (c *Catalog) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	mem := c.mem
	c.mem = map[string]*memEntry{}
	c.cache = map[string]*dsEntry{}
	c.mu.Unlock()
	for _, e := range mem {
		e.table.release()
	}
	if err := c.db.Close(); err != nil {
		return sqlerr.Wrap(sqlerr.IOError, err, "cannot close catalog")
	}
	return nil
}

func errClosed() error { return sqlerr.New(sqlerr.InternalError, "catalog is closed") }

func (c *Catalog) checkOpen() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errClosed()
	}
	return nil
}

// --- sources -------------------------------------------------------------

// AddSource registers (or re-points) the source name at the folder path.
// Adding the same name and path again does nothing. Source names are
// matched case-insensitively but keep their spelling.
func (c *Catalog) AddSource(name, path string) error {
	if strings.TrimSpace(name) == "" {
		return sqlerr.New(sqlerr.InvalidName, "source name must not be empty")
	}
	if strings.EqualFold(name, MemSource) {
		return sqlerr.New(sqlerr.InvalidName, "source name %q is reserved for memory tables", MemSource)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return sqlerr.Wrap(sqlerr.IOError, err, "bad source path %q", path)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return sqlerr.Wrap(sqlerr.IOError, err, "source %q: path %q is not an existing folder", name, path)
	}
	if !fi.IsDir() {
		return sqlerr.New(sqlerr.IOError, "source %q: path %q is not a folder", name, path)
	}
	key := strings.ToLower(name)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errClosed()
	}
	if old, ok := c.sources[key]; ok && old.Path == abs {
		return nil
	}
	s := Source{Name: name, Path: abs}
	v, err := json.Marshal(s)
	if err != nil {
		return sqlerr.Wrap(sqlerr.InternalError, err, "encode source")
	}
	if err := c.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSources).Put([]byte(key), v)
	}); err != nil {
		return sqlerr.Wrap(sqlerr.IOError, err, "cannot save source %q", name)
	}
	c.sources[key] = s
	c.names.Add(1)
	c.cache = map[string]*dsEntry{}
	return nil
}

// Sources returns the registered sources sorted by name.
func (c *Catalog) Sources() ([]Source, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errClosed()
	}
	out := make([]Source, 0, len(c.sources))
	for _, s := range c.sources {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := strings.ToLower(out[i].Name), strings.ToLower(out[j].Name)
		if a != b {
			return a < b
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// DropSource forgets a source and the metadata stored for its files.
func (c *Catalog) DropSource(name string) error {
	key := strings.ToLower(name)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errClosed()
	}
	s, ok := c.sources[key]
	if !ok {
		return sqlerr.New(sqlerr.InvalidSchemaName, "source %q does not exist", name)
	}
	prefix := []byte(s.Path + string(filepath.Separator))
	if err := c.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketSources).Delete([]byte(key)); err != nil {
			return err
		}
		// Another source may share these files; it will re-read them.
		cur := tx.Bucket(bucketFiles).Cursor()
		for k, _ := cur.Seek(prefix); k != nil && strings.HasPrefix(string(k), string(prefix)); k, _ = cur.Next() {
			if err := cur.Delete(); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return sqlerr.Wrap(sqlerr.IOError, err, "cannot drop source %q", name)
	}
	delete(c.sources, key)
	c.names.Add(1)
	c.cache = map[string]*dsEntry{}
	return nil
}

func (c *Catalog) source(name string) (Source, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return Source{}, false, errClosed()
	}
	s, ok := c.sources[strings.ToLower(name)]
	return s, ok, nil
}

// --- lookup --------------------------------------------------------------

func notFound(name []string) error {
	return sqlerr.New(sqlerr.UndefinedTable, "table %q does not exist", strings.Join(name, "."))
}

// Lookup resolves a table name: ["src", "folder"…, "table"], ["mem", "t"],
// or a single name looked up in defaultSchema (itself possibly dotted,
// "src.folder") and then among the memory tables. Names match
// case-insensitively; a Parquet file may also be named with its extension.
// The returned metadata is current: the files are checked (a stat per file,
// a folder listing for folder datasets) and changed files re-read. Callers
// must not modify the returned Dataset.
func (c *Catalog) Lookup(ctx context.Context, name []string, defaultSchema string) (*Dataset, error) {
	return c.lookup(ctx, name, defaultSchema, false)
}

// Refresh is Lookup that re-reads the metadata of every file of the dataset
// (ALTER TABLE … REFRESH METADATA).
func (c *Catalog) Refresh(ctx context.Context, name []string, defaultSchema string) (*Dataset, error) {
	return c.lookup(ctx, name, defaultSchema, true)
}

func (c *Catalog) lookup(ctx context.Context, name []string, defaultSchema string, force bool) (*Dataset, error) {
	if len(name) == 0 {
		return nil, sqlerr.New(sqlerr.InvalidName, "empty table name")
	}
	if err := ctx.Err(); err != nil {
		return nil, sqlerr.As(err)
	}
	if ds, ok, err := c.systemDataset(ctx, name); ok || err != nil {
		return ds, err
	}
	if len(name) == 1 {
		if defaultSchema != "" {
			for _, prefix := range schemaCandidates(defaultSchema) {
				full := append(prefix[:len(prefix):len(prefix)], name[0])
				ds, err := c.lookupQualified(ctx, full, force)
				if err != nil || ds != nil {
					return ds, err
				}
			}
		}
		if ds, ok, err := c.memDataset(name[0]); ok || err != nil {
			return ds, err
		}
		return nil, notFound(name)
	}
	if len(name) == 2 && strings.EqualFold(name[0], MemSource) {
		if ds, ok, err := c.memDataset(name[1]); ok || err != nil {
			return ds, err
		}
		return nil, notFound(name)
	}
	ds, err := c.lookupQualified(ctx, name, force)
	if err != nil {
		return nil, err
	}
	if ds == nil {
		return nil, notFound(name)
	}
	return ds, nil
}

// schemaCandidates splits a default schema into name prefixes to try: the
// whole string as one source name first (source names may contain dots),
// then split at the dots.
func schemaCandidates(schema string) [][]string {
	out := [][]string{{schema}}
	if strings.Contains(schema, ".") {
		out = append(out, strings.Split(schema, "."))
	}
	return out
}

func (c *Catalog) memDataset(name string) (*Dataset, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, false, errClosed()
	}
	e, ok := c.mem[strings.ToLower(name)]
	if !ok {
		return nil, false, nil
	}
	return &Dataset{
		Path:   []string{MemSource, e.name},
		Kind:   MemoryDataset,
		Schema: e.table.Schema(),
		Rows:   e.table.Rows(),
		Memory: e.table,
	}, true, nil
}

// lookupQualified resolves source, folders…, table. It returns nil, nil
// when there is no such dataset.
func (c *Catalog) lookupQualified(ctx context.Context, name []string, force bool) (*Dataset, error) {
	if len(name) < 2 {
		return nil, nil
	}
	src, ok, err := c.source(name[0])
	if err != nil || !ok {
		return nil, err
	}
	parts := make([]string, len(name)-1)
	for i, p := range name[1:] {
		parts[i] = strings.ToLower(p)
	}
	key := strings.ToLower(src.Name) + "\x00" + strings.Join(parts, "\x00")
	if !force {
		if ds := c.fresh(ctx, key, src); ds != nil {
			return ds, nil
		}
	}
	flightKey := key
	if force {
		flightKey = "!" + key
	}
	// Concurrent lookups of the same stale dataset share one load; a
	// caller that gives up does not cancel it for the others.
	ch := c.loads.DoChan(flightKey, func() (any, error) {
		return c.load(context.WithoutCancel(ctx), key, src, name[1:], force)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, sqlerr.As(r.Err)
		}
		ds, _ := r.Val.(*Dataset)
		return ds, nil
	case <-ctx.Done():
		return nil, sqlerr.As(ctx.Err())
	}
}

func (c *Catalog) cached(key string, src Source) *dsEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.cache[key]
	if e == nil || e.srcPath != src.Path {
		return nil
	}
	return e
}

// fresh returns the cached dataset if its files have not changed.
func (c *Catalog) fresh(ctx context.Context, key string, src Source) *Dataset {
	e := c.cached(key, src)
	if e == nil {
		return nil
	}
	refs, err := refsAt(ctx, e.loc)
	if err != nil || !sameFiles(refs, e.metas) {
		return nil
	}
	return e.ds
}

func sameFiles(refs []fileRef, metas []*fileMeta) bool {
	if len(refs) != len(metas) || len(refs) == 0 {
		return false
	}
	for i, r := range refs {
		if metas[i].Path != r.path || !metas[i].sameStamp(r.size, r.mod) {
			return false
		}
	}
	return true
}

// refsAt lists the current files of a dataset location; none when it is
// gone.
func refsAt(ctx context.Context, loc *location) ([]fileRef, error) {
	if loc.isDir {
		if _, err := os.Stat(loc.path); os.IsNotExist(err) {
			return nil, nil
		}
		return listDatasetFiles(ctx, loc.path)
	}
	ref, err := statRef(loc.path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, sqlerr.Wrap(sqlerr.IOError, err, "cannot stat %q", loc.path)
	}
	return []fileRef{ref}, nil
}

// load resolves and (re)reads a dataset: unchanged files come from the
// memory cache or bbolt, changed ones are read from their footers. Nothing
// is cached or persisted unless the whole dataset loads.
func (c *Catalog) load(ctx context.Context, key string, src Source, parts []string, force bool) (*Dataset, error) {
	e := c.cached(key, src)
	var loc *location
	var refs []fileRef
	var err error
	if e != nil {
		loc = e.loc
		if refs, err = refsAt(ctx, loc); err != nil {
			return nil, err
		}
	}
	if len(refs) == 0 {
		if loc, err = resolvePath(ctx, src, parts); err != nil {
			return nil, err
		}
		if loc != nil {
			if refs, err = refsAt(ctx, loc); err != nil {
				return nil, err
			}
		}
		if len(refs) == 0 {
			c.forget(key, e)
			return nil, nil
		}
	}

	metas := make([]*fileMeta, len(refs))
	var missing []int
	if !force && e != nil {
		old := make(map[string]*fileMeta, len(e.metas))
		for _, m := range e.metas {
			old[m.Path] = m
		}
		for i, r := range refs {
			if m := old[r.path]; m != nil && m.sameStamp(r.size, r.mod) {
				metas[i] = m
			}
		}
	}
	for i := range refs {
		if metas[i] == nil {
			missing = append(missing, i)
		}
	}
	if !force && len(missing) > 0 {
		// A stored record that does not decode is just re-read.
		_ = c.db.View(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketFiles)
			for _, i := range missing {
				v := b.Get([]byte(refs[i].path))
				if v == nil {
					continue
				}
				if m, err := unmarshalFileMeta(v); err == nil && m.sameStamp(refs[i].size, refs[i].mod) {
					metas[i] = m
				}
			}
			return nil
		})
	}
	var toRead []int
	for _, i := range missing {
		if metas[i] == nil {
			toRead = append(toRead, i)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, i := range toRead {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			m, err := readFileMeta(refs[i].path, refs[i].size, refs[i].mod)
			if err != nil {
				return err
			}
			metas[i] = m
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}

	ds, err := buildDataset(loc, refs, metas)
	if err != nil {
		return nil, err
	}

	current := make(map[string]bool, len(refs))
	for _, r := range refs {
		current[r.path] = true
	}
	var gone []string
	if e != nil {
		for _, m := range e.metas {
			if !current[m.Path] {
				gone = append(gone, m.Path)
			}
		}
	}
	if len(toRead) > 0 || len(gone) > 0 {
		encoded := make([][]byte, len(toRead))
		for n, i := range toRead {
			if encoded[n], err = metas[i].marshal(); err != nil {
				return nil, sqlerr.Wrap(sqlerr.InternalError, err, "encode metadata of %q", metas[i].Path)
			}
		}
		if err := c.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketFiles)
			for n, i := range toRead {
				if err := b.Put([]byte(metas[i].Path), encoded[n]); err != nil {
					return err
				}
			}
			for _, p := range gone {
				if err := b.Delete([]byte(p)); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
				return nil, errClosed()
			}
			return nil, sqlerr.Wrap(sqlerr.IOError, err, "cannot save metadata of %q", strings.Join(ds.Path, "."))
		}
	}

	c.mu.Lock()
	if !c.closed {
		c.cache[key] = &dsEntry{srcPath: src.Path, loc: loc, metas: metas, ds: ds}
	}
	c.mu.Unlock()
	return ds, nil
}

// forget drops a vanished dataset from the cache and its files' records
// from bbolt.
func (c *Catalog) forget(key string, e *dsEntry) {
	c.mu.Lock()
	delete(c.cache, key)
	c.mu.Unlock()
	if e == nil {
		return
	}
	var gone []string
	for _, m := range e.metas {
		if _, err := os.Stat(m.Path); os.IsNotExist(err) {
			gone = append(gone, m.Path)
		}
	}
	if len(gone) == 0 {
		return
	}
	// Best effort: a stale record is only wasted space.
	_ = c.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketFiles)
		for _, p := range gone {
			if err := b.Delete([]byte(p)); err != nil {
				return err
			}
		}
		return nil
	})
}

// ListDatasets returns the qualified name of every dataset in source: the
// Parquet datasets found in its folder, or the memory tables for "mem".
func (c *Catalog) ListDatasets(ctx context.Context, source string) ([][]string, error) {
	if strings.EqualFold(source, MemSource) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.closed {
			return nil, errClosed()
		}
		out := make([][]string, 0, len(c.mem))
		for _, e := range c.mem {
			out = append(out, []string{MemSource, e.name})
		}
		sortNames(out)
		return out, nil
	}
	src, ok, err := c.source(source)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, sqlerr.New(sqlerr.InvalidSchemaName, "source %q does not exist", source)
	}
	out, err := listDatasets(ctx, src)
	if err != nil {
		return nil, sqlerr.As(err)
	}
	sortNames(out)
	return out, nil
}

func sortNames(names [][]string) {
	sort.Slice(names, func(i, j int) bool {
		return strings.ToLower(strings.Join(names[i], "\x00")) < strings.ToLower(strings.Join(names[j], "\x00"))
	})
}

// --- memory tables -------------------------------------------------------

// memName returns the memory table name that name denotes, or an error
// when name points elsewhere.
func (c *Catalog) memName(name []string, verb string) (string, error) {
	switch {
	case len(name) == 1:
		return name[0], nil
	case len(name) == 2 && strings.EqualFold(name[0], MemSource):
		return name[1], nil
	case len(name) == 0:
		return "", sqlerr.New(sqlerr.InvalidName, "empty table name")
	}
	if len(name) == 2 {
		if _, ok, _ := c.source(name[0]); !ok {
			return "", sqlerr.New(sqlerr.InvalidSchemaName, "schema %q does not exist", name[0])
		}
	}
	return "", sqlerr.New(sqlerr.FeatureNotSupported,
		"cannot %s %q: only tables in %q can be created or dropped", verb, strings.Join(name, "."), MemSource)
}

// CreateMemTable creates an empty in-memory table named ["t"] or
// ["mem", "t"].
func (c *Catalog) CreateMemTable(name []string, schema *arrow.Schema, ifNotExists bool) error {
	t, err := c.memName(name, "create table")
	if err != nil {
		return err
	}
	if t == "" {
		return sqlerr.New(sqlerr.InvalidName, "empty table name")
	}
	if schema == nil {
		return sqlerr.New(sqlerr.InternalError, "create table %q without a schema", t)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errClosed()
	}
	key := strings.ToLower(t)
	if _, ok := c.mem[key]; ok {
		if ifNotExists {
			return nil
		}
		return sqlerr.New(sqlerr.DuplicateTable, "table %q already exists", t)
	}
	c.mem[key] = &memEntry{name: t, table: newMemTable(t, schema)}
	c.names.Add(1)
	return nil
}

// RenameMemTable renames memory table from to to (ALTER TABLE … RENAME
// TO).
func (c *Catalog) RenameMemTable(from, to []string) error {
	f, err := c.memName(from, "alter table")
	if err != nil {
		return err
	}
	t, err := c.memName(to, "rename table to")
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errClosed()
	}
	e, ok := c.mem[strings.ToLower(f)]
	if !ok {
		return notFound(from)
	}
	if _, taken := c.mem[strings.ToLower(t)]; taken && !strings.EqualFold(f, t) {
		return sqlerr.New(sqlerr.DuplicateTable, "relation %q already exists", t)
	}
	delete(c.mem, strings.ToLower(f))
	e.name = t
	e.table.mu.Lock()
	e.table.name = t
	e.table.mu.Unlock()
	c.mem[strings.ToLower(t)] = e
	c.names.Add(1)
	return nil
}

// DropTable drops a memory table. Parquet datasets cannot be dropped
// (0A000).
func (c *Catalog) DropTable(name []string, ifExists bool) error {
	if len(name) >= 2 && !(len(name) == 2 && strings.EqualFold(name[0], MemSource)) {
		ds, err := c.lookupQualified(context.Background(), name, false)
		if ds != nil {
			return sqlerr.New(sqlerr.FeatureNotSupported,
				"cannot drop %q: it is a Parquet dataset; only memory tables can be dropped", strings.Join(name, "."))
		}
		if err != nil && sqlerr.Code(err) != sqlerr.DataCorrupted {
			return err
		}
		if err != nil {
			return sqlerr.New(sqlerr.FeatureNotSupported,
				"cannot drop %q: it is a Parquet dataset; only memory tables can be dropped", strings.Join(name, "."))
		}
		if ifExists {
			return nil
		}
		return notFound(name)
	}
	t, err := c.memName(name, "drop table")
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return errClosed()
	}
	key := strings.ToLower(t)
	e, ok := c.mem[key]
	if ok {
		delete(c.mem, key)
		c.names.Add(1)
	}
	c.mu.Unlock()
	if !ok {
		if ifExists {
			return nil
		}
		return notFound(name)
	}
	e.table.release()
	return nil
}
