package catalog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/quarrydb/quarry/catalog/sqlerr"
)

// column is test data for one column: values are Go values of the column's
// Arrow type, nil for NULL.
type column struct {
	name string
	typ  arrow.DataType
	vals []any
}

func buildRecord(t testing.TB, mem memory.Allocator, cols []column) arrow.Record {
	t.Helper()
	fields := make([]arrow.Field, len(cols))
	arrs := make([]arrow.Array, len(cols))
	n := -1
	for i, c := range cols {
		fields[i] = arrow.Field{Name: c.name, Type: c.typ, Nullable: true}
		b := array.NewBuilder(mem, c.typ)
		for _, v := range c.vals {
			appendAny(t, b, v)
		}
		arrs[i] = b.NewArray()
		b.Release()
		if n >= 0 && n != len(c.vals) {
			t.Fatalf("column %s has %d values, want %d", c.name, len(c.vals), n)
		}
		n = len(c.vals)
	}
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, int64(n))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}

func appendAny(t testing.TB, b array.Builder, v any) {
	t.Helper()
	if v == nil {
		b.AppendNull()
		return
	}
	switch b := b.(type) {
	case *array.Int32Builder:
		b.Append(v.(int32))
	case *array.Int64Builder:
		b.Append(v.(int64))
	case *array.Float64Builder:
		b.Append(v.(float64))
	case *array.BooleanBuilder:
		b.Append(v.(bool))
	case *array.StringBuilder:
		b.Append(v.(string))
	case *array.Date32Builder:
		b.Append(v.(arrow.Date32))
	case *array.TimestampBuilder:
		b.Append(v.(arrow.Timestamp))
	case *array.Decimal128Builder:
		b.Append(v.(decimal128.Num))
	default:
		t.Fatalf("appendAny: unsupported builder %T", b)
	}
}

// writeParquet writes rec to path with row groups of at most rgLen rows.
func writeParquet(t testing.TB, path string, rec arrow.Record, rgLen int64, opts ...parquet.WriterProperty) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tbl := array.NewTableFromRecords(rec.Schema(), []arrow.Record{rec})
	defer tbl.Release()
	props := parquet.NewWriterProperties(append([]parquet.WriterProperty{parquet.WithMaxRowGroupLength(rgLen)}, opts...)...)
	if err := pqarrow.WriteTable(tbl, f, rgLen, props, pqarrow.DefaultWriterProps()); err != nil {
		t.Fatal(err)
	}
}

// writeInts writes a one-column (id BIGINT) file holding 0..n-1 plus offset.
func writeInts(t testing.TB, path string, n int, offset int64) {
	t.Helper()
	vals := make([]any, n)
	for i := range vals {
		vals[i] = int64(i) + offset
	}
	rec := buildRecord(t, memory.DefaultAllocator, []column{{"id", arrow.PrimitiveTypes.Int64, vals}})
	defer rec.Release()
	writeParquet(t, path, rec, 1<<20)
}

// bumpMTime moves a file's mtime forward so a rewrite is always noticed,
// whatever the file system's timestamp granularity.
func bumpMTime(t testing.TB, path string, d time.Duration) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	mt := fi.ModTime().Add(d)
	if err := os.Chtimes(path, mt, mt); err != nil {
		t.Fatal(err)
	}
}

func openCatalog(t testing.TB, dir string) *Catalog {
	t.Helper()
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func wantCode(t testing.TB, err error, code string) *sqlerr.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want SQLSTATE %s", code)
	}
	var se *sqlerr.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *sqlerr.Error", err, err)
	}
	if se.Code != code {
		t.Fatalf("got %v, want SQLSTATE %s", err, code)
	}
	return se
}

func lookup(t testing.TB, c *Catalog, name ...string) *Dataset {
	t.Helper()
	ds, err := c.Lookup(context.Background(), name, "")
	if err != nil {
		t.Fatalf("Lookup(%q): %v", name, err)
	}
	return ds
}

func fieldNames(s *arrow.Schema) string {
	out := ""
	for i, f := range s.Fields() {
		if i > 0 {
			out += ","
		}
		out += fmt.Sprintf("%s:%s", f.Name, f.Type)
	}
	return out
}
