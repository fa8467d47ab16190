package catalog

import (
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/quarrydb/quarry/catalog/sqlerr"
)

// MemTable holds the rows of an in-memory table (CREATE TABLE … in the
// "mem" namespace) as a list of retained record batches. It is safe for
// concurrent use. Columns whose schema field is not nullable refuse
// NULLs (NOT NULL).
type MemTable struct {
	name   string
	schema *arrow.Schema

	mu      sync.RWMutex
	recs    []arrow.Record
	rows    int64
	version uint64 // counts changes, for Replace
}

func newMemTable(name string, schema *arrow.Schema) *MemTable {
	return &MemTable{name: name, schema: schema}
}

// Schema returns the table's schema.
func (m *MemTable) Schema() *arrow.Schema {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.schema
}

// Append adds rec's rows to the table and retains rec. rec must have the
// table's column types (names may differ).
func (m *MemTable) Append(rec arrow.Record) error {
	if rec == nil {
		return sqlerr.New(sqlerr.InternalError, "append of a nil batch to a memory table")
	}
	if err := m.checkTypes(rec); err != nil {
		return err
	}
	if rec.NumRows() == 0 {
		return nil
	}
	if err := m.checkNotNull(rec); err != nil {
		return err
	}
	rec.Retain()
	m.mu.Lock()
	m.recs = append(m.recs, rec)
	m.rows += rec.NumRows()
	m.version++
	m.mu.Unlock()
	return nil
}

// checkTypes checks that rec has the table's column types.
func (m *MemTable) checkTypes(rec arrow.Record) error {
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
	return nil
}

// checkNotNull refuses NULLs in NOT NULL columns.
func (m *MemTable) checkNotNull(rec arrow.Record) error {
	for i, f := range m.schema.Fields() {
		if !f.Nullable && rec.Column(i).NullN() > 0 {
			return sqlerr.New(sqlerr.NotNullViolation, "null value in column %q of relation %q violates not-null constraint", f.Name, m.name)
		}
	}
	return nil
}

// Version identifies the table's contents: it changes with every change.
func (m *MemTable) Version() uint64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.version
}

// Replace makes recs (retained here) the table's rows, if the table is
// still at version (what the new rows were computed from); otherwise a
// concurrent change would be lost, and it fails with 40001.
func (m *MemTable) Replace(recs []arrow.Record, version uint64) error {
	return m.Reshape(nil, recs, version)
}

// Reshape is Replace that also changes the table's schema (ALTER TABLE):
// schema nil keeps it; recs nil with a schema of the same columns keeps
// the rows (a rename or a new default).
func (m *MemTable) Reshape(schema *arrow.Schema, recs []arrow.Record, version uint64) error {
	if schema != nil {
		m.mu.RLock()
		same := m.schema.NumFields() == schema.NumFields()
		m.mu.RUnlock()
		if recs == nil && same {
			m.mu.Lock()
			defer m.mu.Unlock()
			if m.version != version {
				return sqlerr.New(sqlerr.SerializationFailure, "could not serialize access to %q due to a concurrent change", m.name)
			}
			m.schema = schema
			m.version++
			return nil
		}
		next := &MemTable{name: m.name, schema: schema}
		for _, r := range recs {
			if err := next.checkTypes(r); err != nil {
				return err
			}
			if err := next.checkNotNull(r); err != nil {
				return err
			}
		}
	}
	var rows int64
	for _, r := range recs {
		if schema == nil {
			if err := m.checkTypes(r); err != nil {
				return err
			}
			if err := m.checkNotNull(r); err != nil {
				return err
			}
		}
		rows += r.NumRows()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.version != version {
		return sqlerr.New(sqlerr.SerializationFailure, "could not serialize access to %q due to a concurrent change", m.name)
	}
	if schema != nil {
		m.schema = schema
	}
	old := m.recs
	m.recs = m.recs[:0:0]
	for _, r := range recs {
		if r.NumRows() > 0 {
			r.Retain()
			m.recs = append(m.recs, r)
		}
	}
	m.rows = rows
	m.version++
	for _, r := range old {
		r.Release()
	}
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
	m.version++
}
