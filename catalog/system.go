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

// systemDataset resolves name to a generated system table; ok is false
// when name is not one.
func (c *Catalog) systemDataset(ctx context.Context, name []string) (*Dataset, bool, error) {
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
	m := newMemTable(s)
	for _, r := range recs {
		err := m.Append(r)
		r.Release()
		if err != nil {
			m.release()
			return nil, true, err
		}
	}
	return &Dataset{
		Path:   []string{schema, strings.ToLower(table)},
		Kind:   MemoryDataset,
		Schema: s,
		Rows:   m.Rows(),
		Memory: m,
	}, true, nil
}
