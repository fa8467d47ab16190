package exec

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/quarrydb/quarry/planner/physical"
)

// writeSmall writes a small two-column Parquet file of ids from..from+n.
func writeSmall(t *testing.T, path string, from, n int64) *arrow.Schema {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := from; i < from+n; i++ {
		b.Field(0).(*array.Int64Builder).Append(i)
		if i%7 == 0 {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.StringBuilder).Append("name" + string(rune('a'+i%26)))
		}
	}
	rec := b.NewRecord()
	defer rec.Release()
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	tbl := array.NewTableFromRecords(schema, []arrow.Record{rec})
	defer tbl.Release()
	if err := pqarrow.WriteTable(tbl, out, n, parquet.NewWriterProperties(), pqarrow.DefaultWriterProps()); err != nil {
		t.Fatal(err)
	}
	return schema
}

// scanIDs runs a scan of path keeping id = key and returns the ids and
// names it found.
func scanIDs(t *testing.T, path string, schema *arrow.Schema, key int64) []string {
	t.Helper()
	checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer checked.AssertSize(t, 0)
	scan := &physical.ParquetScan{
		Base:  base(schema),
		Files: []physical.ScanFile{{Path: path, RowGroups: []int{0}}},
		Columns: []physical.ScanColumn{
			{Name: "id", FileColumn: 0, T: schema.Field(0).Type},
			{Name: "name", FileColumn: 1, T: schema.Field(1).Type},
		},
		Filter: &physical.Call{Fn: physical.FnEq, T: arrow.FixedWidthTypes.Boolean, Args: []physical.Expr{
			&physical.ColRef{Index: 0, T: arrow.PrimitiveTypes.Int64}, &physical.Literal{Value: key, T: arrow.PrimitiveTypes.Int64}}},
		Limit: -1,
	}
	var got []string
	scanBatches(t, scan, checked, func(_ *scanOp, rec arrow.Record) {
		for i := 0; i < int(rec.NumRows()); i++ {
			got = append(got, rec.Column(0).ValueStr(i)+"|"+rec.Column(1).ValueStr(i))
		}
	})
	return got
}

// TestRowGroupCache checks that a small row group is decoded once and
// then served from the cache with the same rows, and that a rewritten
// file is read anew.
func TestRowGroupCache(t *testing.T) {
	path := filepath.Join(t.TempDir(), "small.parquet")
	schema := writeSmall(t, path, 0, 1000)
	hits := rowGroups.hits.Load()
	for _, key := range []int64{14, 15, 15} {
		got := scanIDs(t, path, schema, key)
		want := "15|namep"
		if key == 14 {
			want = "14|(null)"
		}
		if len(got) != 1 || got[0] != want {
			t.Errorf("id = %d: got %v, want [%s]", key, got, want)
		}
	}
	if n := rowGroups.hits.Load() - hits; n != 2 {
		t.Errorf("%d cache hits, want 2 (the first scan decodes)", n)
	}
	// A new version of the file (another size and time) is not served
	// from the old one's entry.
	time.Sleep(10 * time.Millisecond)
	writeSmall(t, path, 1000, 500)
	if got := scanIDs(t, path, schema, 15); len(got) != 0 {
		t.Errorf("rewritten file: got %v, want no row", got)
	}
	if got := scanIDs(t, path, schema, 1016); len(got) != 1 || got[0] != "1016|namec" {
		t.Errorf("rewritten file: got %v, want [1016|namec]", got)
	}
}
