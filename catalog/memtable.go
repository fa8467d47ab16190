package catalog

import (
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/quarrydb/quarry/catalog/sqlerr"
)

// MemTable holds the rows of an in-memory table (CREATE TABLE … in the
// "mem" namespace) as a list of retained record batches. It is safe for
// concurrent use.
type MemTable struct {
	schema *arrow.Schema

	mu   sync.RWMutex
	recs []arrow.Record
	rows int64
}

func newMemTable(schema *arrow.Schema) *MemTable { return &MemTable{schema: schema} }

// Schema returns the table's schema.
func (m *MemTable) Schema() *arrow.Schema { return m.schema }

// Append adds rec's rows to the table and retains rec. rec must have the
// table's column types (names may differ).
func (m *MemTable) Append(rec arrow.Record) error {
	if rec == nil {
		return sqlerr.New(sqlerr.InternalError, "append of a nil batch to a memory table")
	}
	rs := rec.Schema()
	if rs.NumFields() != m.schema.NumFields() {
		return sqlerr.New(sqlerr.DatatypeMismatch, "batch has %d columns, table has %d", rs.NumFields(), m.schema.NumFields())
	}
	for i := 0; i < rs.NumFields(); i++ {
		want, got := m.schema.Field(i).Type, rs.Field(i).Type
		if !arrow.TypeEqual(want, got) {
			return sqlerr.New(sqlerr.DatatypeMismatch, "column %q is of type %s but the batch has %s", m.schema.Field(i).Name, want, got)
		}
	}
	if rec.NumRows() == 0 {
		return nil
	}
	rec.Retain()
	m.mu.Lock()
	m.recs = append(m.recs, rec)
	m.rows += rec.NumRows()
	m.mu.Unlock()
	return nil
}

// Snapshot returns the table's batches, each retained; the caller releases
// them.
func (m *MemTable) Snapshot() []arrow.Record {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]arrow.Record, len(m.recs))
	for i, r := range m.recs {
		r.Retain()
		out[i] = r
	}
	return out
}

// Rows returns the number of rows in the table.
func (m *MemTable) Rows() int64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.rows
}

// release drops the table's references to its batches (DROP TABLE).
// Snapshots taken earlier stay valid.
func (m *MemTable) release() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.recs {
		r.Release()
	}
	m.recs, m.rows = nil, 0
}
