// Package pgcatalog presents Quarry's catalog as PostgreSQL's system tables
// (pg_catalog and information_schema, generated at each lookup) and holds
// what PostgreSQL clients learn from them: type oids and names, stable
// relation oids, run-time settings and the server version.
package pgcatalog

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quarrydb/quarry/catalog"
	"github.com/quarrydb/quarry/catalog/sqlerr"
)

func init() { catalog.RegisterSystemProvider(provider{}) }

type provider struct{}

func (provider) Schemas() []string { return []string{"pg_catalog", "information_schema"} }

func (provider) Unqualified(name string) (string, bool) {
	if pgCatalogNames[name] {
		return "pg_catalog", true
	}
	return "", false
}

func (provider) Table(ctx context.Context, c *catalog.Catalog, schema, name string) (*arrow.Schema, []arrow.Record, bool, error) {
	t, ok := systemIndex[schema+"."+name]
	if !ok {
		return nil, nil, false, nil
	}
	s := t.arrowSchema()
	if t.rows == nil {
		return s, nil, true, nil
	}
	m, err := Snapshot(ctx, c)
	if err != nil {
		return nil, nil, true, err
	}
	rec, err := buildRecord(s, t.rows(m))
	if err != nil {
		return nil, nil, true, err
	}
	if rec == nil {
		return s, nil, true, nil
	}
	return s, []arrow.Record{rec}, true, nil
}

// IsTable reports whether schema.name is a system table.
func IsTable(schema, name string) bool {
	_, ok := systemIndex[schema+"."+name]
	return ok
}

func (t *tableDef) arrowSchema() *arrow.Schema {
	fields := make([]arrow.Field, len(t.cols))
	for i, c := range t.cols {
		fields[i] = arrow.Field{Name: c.name, Type: c.t, Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}

// buildRecord turns rows of Go values (int64, int32, string, bool,
// float64, nil) into one batch; nil when there are no rows.
func buildRecord(s *arrow.Schema, rows [][]any) (arrow.Record, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, s)
	defer b.Release()
	for _, row := range rows {
		if len(row) != s.NumFields() {
			return nil, sqlerr.New(sqlerr.InternalError, "system table row has %d values, want %d", len(row), s.NumFields())
		}
		for i, v := range row {
			fb := b.Field(i)
			if v == nil {
				fb.AppendNull()
				continue
			}
			switch fb := fb.(type) {
			case *array.Int64Builder:
				x, ok := v.(int64)
				if !ok {
					return nil, badValue(s, i, v)
				}
				fb.Append(x)
			case *array.Int32Builder:
				x, ok := v.(int32)
				if !ok {
					return nil, badValue(s, i, v)
				}
				fb.Append(x)
			case *array.StringBuilder:
				x, ok := v.(string)
				if !ok {
					return nil, badValue(s, i, v)
				}
				fb.Append(x)
			case *array.BooleanBuilder:
				x, ok := v.(bool)
				if !ok {
					return nil, badValue(s, i, v)
				}
				fb.Append(x)
			case *array.Float64Builder:
				x, ok := v.(float64)
				if !ok {
					return nil, badValue(s, i, v)
				}
				fb.Append(x)
			default:
				return nil, badValue(s, i, v)
			}
		}
	}
	return b.NewRecord(), nil
}

func badValue(s *arrow.Schema, i int, v any) error {
	return sqlerr.New(sqlerr.InternalError, "system table column %s: value %v of type %s", s.Field(i).Name, v, fmt.Sprintf("%T", v))
}
