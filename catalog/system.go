package catalog

import (
	"context"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
)

// System tables (PostgreSQL's pg_catalog and information_schema) are not
// stored: a provider registered by another package generates their rows
// from the catalog each time one is looked up, and Lookup hands them out as
// memory datasets.

// SystemProvider generates system tables.
type SystemProvider interface {
	// Schemas are the (lower-case) schema names the provider owns.
	Schemas() []string
	// Unqualified reports whether an unqualified name resolves to one of
	// the provider's tables before user tables (pg_catalog is always first
	// on PostgreSQL's search path), and in which schema.
	Unqualified(name string) (schema string, ok bool)
	// Table generates schema.name; ok is false when there is no such
	// table. The records are owned by the caller.
	Table(ctx context.Context, c *Catalog, schema, name string) (s *arrow.Schema, recs []arrow.Record, ok bool, err error)
}

var (
	systemMu       sync.RWMutex
	systemProvider SystemProvider
)

// RegisterSystemProvider installs the generator of system tables.
func RegisterSystemProvider(p SystemProvider) {
	systemMu.Lock()
	systemProvider = p
	systemMu.Unlock()
}

func currentSystemProvider() SystemProvider {
	systemMu.RLock()
	defer systemMu.RUnlock()
	return systemProvider
}

// SessionInfo is what system tables show of the session looking at them
// (the current database, user and settings); the planner puts it in the
// context of a lookup.
type SessionInfo struct {
	Database      string
	User          string
	DefaultSchema string
	Settings      map[string]string
	// DescribeView returns a view's columns (the planner binds its query);
	// nil leaves views without columns.
	DescribeView func(v View) ([]arrow.Field, error)
}

type sessionInfoKey struct{}

// WithSessionInfo returns ctx carrying info for system tables.
func WithSessionInfo(ctx context.Context, info *SessionInfo) context.Context {
	return context.WithValue(ctx, sessionInfoKey{}, info)
}

// SessionInfoFrom returns the session info in ctx, or an empty one.
func SessionInfoFrom(ctx context.Context) *SessionInfo {
	if info, ok := ctx.Value(sessionInfoKey{}).(*SessionInfo); ok && info != nil {
		return info
	}
	return &SessionInfo{}
}

// IsSystemSchema reports whether schema is owned by the system tables'
// provider (pg_catalog, information_schema).
func IsSystemSchema(schema string) bool {
	p := currentSystemProvider()
	if p == nil {
		return false
	}
	for _, s := range p.Schemas() {
		if strings.EqualFold(s, schema) {
			return true
		}
	}
	return false
}

// TableGenerator generates the rows of a table that reflects the state of
// the running process; the records are owned by the caller.
type TableGenerator func(ctx context.Context) (*arrow.Schema, []arrow.Record, error)

// AddGeneratedTable makes schema.name a table whose rows gen produces at
// each lookup (such as sys.nodes, the executors of a coordinator).
func (c *Catalog) AddGeneratedTable(schema, name string, gen TableGenerator) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.generated == nil {
		c.generated = map[string]TableGenerator{}
	}
	c.generated[strings.ToLower(schema+"."+name)] = gen
}

func (c *Catalog) generatedTable(ctx context.Context, name []string) (*Dataset, bool, error) {
	if len(name) != 2 {
		return nil, false, nil
	}
	c.mu.Lock()
	gen, ok := c.generated[strings.ToLower(name[0]+"."+name[1])]
	c.mu.Unlock()
	if !ok {
		return nil, false, nil
	}
	s, recs, err := gen(ctx)
	if err != nil {
		return nil, true, err
	}
	return memDataset([]string{strings.ToLower(name[0]), strings.ToLower(name[1])}, s, recs)
}

// memDataset makes a memory dataset of recs, taking them over.
func memDataset(path []string, s *arrow.Schema, recs []arrow.Record) (*Dataset, bool, error) {
	m := newMemTable(strings.Join(path, "."), s)
	for i, r := range recs {
		err := m.Append(r)
		r.Release()
		if err != nil {
			for _, r := range recs[i+1:] {
				r.Release()
			}
			m.release()
			return nil, true, err
		}
	}
	return &Dataset{Path: path, Kind: MemoryDataset, Schema: s, Rows: m.Rows(), Memory: m}, true, nil
}

// systemDataset resolves name to a generated system table; ok is false
// when name is not one.
func (c *Catalog) systemDataset(ctx context.Context, name []string) (*Dataset, bool, error) {
	if ds, ok, err := c.generatedTable(ctx, name); ok || err != nil {
		return ds, ok, err
	}
	p := currentSystemProvider()
	if p == nil {
		return nil, false, nil
	}
	var schema, table string
	switch len(name) {
	case 1:
		s, ok := p.Unqualified(strings.ToLower(name[0]))
		if !ok {
			return nil, false, nil
		}
		schema, table = s, name[0]
	case 2:
		if !IsSystemSchema(name[0]) {
			return nil, false, nil
		}
		schema, table = strings.ToLower(name[0]), name[1]
	default:
		return nil, false, nil
	}
	s, recs, ok, err := p.Table(ctx, c, schema, strings.ToLower(table))
	if err != nil || !ok {
		return nil, ok, err
	}
	return memDataset([]string{schema, strings.ToLower(table)}, s, recs)
}
