package catalog

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quarrydb/quarry/catalog/sqlerr"
)

func TestMemTables(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)

	root := t.TempDir()
	writeInts(t, filepath.Join(root, "pq.parquet"), 1, 0)
	c := openCatalog(t, t.TempDir())
	if err := c.AddSource("s", root); err != nil {
		t.Fatal(err)
	}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	ctx := context.Background()

	createCases := []struct {
		name        []string
		ifNotExists bool
		code        string
	}{
		{[]string{"T"}, false, ""},
		{[]string{"t"}, false, sqlerr.DuplicateTable},
		{[]string{"mem", "t"}, false, sqlerr.DuplicateTable},
		{[]string{"t"}, true, ""},
		{[]string{"MEM", "u"}, false, ""},
		{[]string{"s", "x"}, false, sqlerr.FeatureNotSupported},
		{[]string{"nosuch", "x"}, false, sqlerr.InvalidSchemaName},
		{[]string{"a", "b", "c"}, false, sqlerr.FeatureNotSupported},
	}
	for _, tc := range createCases {
		err := c.CreateMemTable(tc.name, schema, tc.ifNotExists)
		if tc.code == "" {
			if err != nil {
				t.Fatalf("CreateMemTable(%v): %v", tc.name, err)
			}
			continue
		}
		wantCode(t, err, tc.code)
	}

	ds := lookup(t, c, "t")
	if ds.Kind != MemoryDataset || ds.Memory == nil || !reflect.DeepEqual(ds.Path, []string{"mem", "T"}) {
		t.Fatalf("Lookup(t) = %+v", ds)
	}
	m := ds.Memory
	r1 := buildRecord(t, mem, []column{{"a", arrow.PrimitiveTypes.Int64, []any{int64(1), nil}}, {"b", arrow.BinaryTypes.String, []any{"x", "y"}}})
	r2 := buildRecord(t, mem, []column{{"x", arrow.PrimitiveTypes.Int64, []any{int64(3)}}, {"y", arrow.BinaryTypes.String, []any{nil}}})
	bad := buildRecord(t, mem, []column{{"a", arrow.PrimitiveTypes.Int32, []any{int32(1)}}, {"b", arrow.BinaryTypes.String, []any{"x"}}})
	short := buildRecord(t, mem, []column{{"a", arrow.PrimitiveTypes.Int64, []any{int64(1)}}})
	for _, r := range []arrow.Record{r1, r2} {
		if err := m.Append(r); err != nil {
			t.Fatal(err)
		}
		r.Release()
	}
	wantCode(t, m.Append(bad), sqlerr.DatatypeMismatch)
	wantCode(t, m.Append(short), sqlerr.DatatypeMismatch)
	bad.Release()
	short.Release()

	if m.Rows() != 3 {
		t.Errorf("Rows = %d, want 3", m.Rows())
	}
	if ds := lookup(t, c, "mem", "t"); ds.Rows != 3 {
		t.Errorf("dataset rows %d, want 3", ds.Rows)
	}
	snap := m.Snapshot()
	if len(snap) != 2 || snap[0].NumRows() != 2 || snap[1].NumRows() != 1 {
		t.Fatalf("snapshot %v", snap)
	}
	// A default schema that does not have t falls back to mem.
	if _, err := c.Lookup(ctx, []string{"t"}, "s"); err != nil {
		t.Error(err)
	}
	names, err := c.ListDatasets(ctx, "mem")
	if err != nil || !reflect.DeepEqual(names, [][]string{{"mem", "T"}, {"mem", "u"}}) {
		t.Errorf("ListDatasets(mem) = %v, %v", names, err)
	}

	dropCases := []struct {
		name     []string
		ifExists bool
		code     string
	}{
		{[]string{"t"}, false, ""},
		{[]string{"t"}, false, sqlerr.UndefinedTable},
		{[]string{"mem", "T"}, true, ""},
		{[]string{"mem", "u"}, false, ""},
		{[]string{"s", "pq"}, false, sqlerr.FeatureNotSupported},
		{[]string{"s", "nope"}, false, sqlerr.UndefinedTable},
		{[]string{"s", "nope"}, true, ""},
	}
	for _, tc := range dropCases {
		err := c.DropTable(tc.name, tc.ifExists)
		if tc.code == "" {
			if err != nil {
				t.Fatalf("DropTable(%v): %v", tc.name, err)
			}
			continue
		}
		wantCode(t, err, tc.code)
	}
	_, err = c.Lookup(ctx, []string{"t"}, "")
	wantCode(t, err, sqlerr.UndefinedTable)
	// The snapshot outlives the drop.
	if snap[0].Column(1).(interface{ Value(int) string }).Value(1) != "y" {
		t.Error("snapshot data changed after drop")
	}
	for _, r := range snap {
		r.Release()
	}
}

// TestMemTableReplace checks NOT NULL on every way in, and that Replace
// refuses to lose a change made since its rows were read.
func TestMemTableReplace(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.PrimitiveTypes.Int64}}, nil)
	rec := func(vals ...any) arrow.Record {
		b := array.NewInt64Builder(mem)
		defer b.Release()
		for _, v := range vals {
			if v == nil {
				b.AppendNull()
			} else {
				b.Append(int64(v.(int)))
			}
		}
		a := b.NewArray()
		defer a.Release()
		return array.NewRecordBatch(schema, []arrow.Array{a}, int64(a.Len()))
	}
	m := newMemTable("t", schema)
	defer m.release()
	r1, bad := rec(1, 2), rec(3, nil)
	defer r1.Release()
	defer bad.Release()
	if err := m.Append(r1); err != nil {
		t.Fatal(err)
	}
	if err := m.Append(bad); sqlerr.Code(err) != sqlerr.NotNullViolation {
		t.Fatalf("NULL into NOT NULL: %v", err)
	}
	v := m.Version()
	if err := m.Replace([]arrow.Record{bad}, v); sqlerr.Code(err) != sqlerr.NotNullViolation {
		t.Fatalf("Replace with NULL: %v", err)
	}
	r2 := rec(7)
	defer r2.Release()
	if err := m.Replace([]arrow.Record{r2}, v); err != nil {
		t.Fatal(err)
	}
	if m.Rows() != 1 || m.Version() == v {
		t.Fatalf("rows %d, version %d (was %d)", m.Rows(), m.Version(), v)
	}
	// Rows computed from version v would lose the change since.
	if err := m.Replace(nil, v); sqlerr.Code(err) != sqlerr.SerializationFailure {
		t.Fatalf("stale Replace: %v", err)
	}
	if m.Rows() != 1 {
		t.Fatalf("rows %d after a refused Replace", m.Rows())
	}
}
