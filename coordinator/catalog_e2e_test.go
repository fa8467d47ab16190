package coordinator

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/quarrydb/quarry/catalog/sqlerr"
)

// writeInts writes a Parquet file with one BIGINT column "v" holding vals,
// in row groups of rowGroup rows.
func writeInts(t *testing.T, path string, rowGroup int64, vals ...int64) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	schema := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	b := array.NewInt64Builder(memory.DefaultAllocator)
	b.AppendValues(vals, nil)
	col := b.NewArray()
	defer col.Release()
	rec := array.NewRecord(schema, []arrow.Array{col}, int64(len(vals)))
	defer rec.Release()
	tbl := array.NewTableFromRecords(schema, []arrow.Record{rec})
	defer tbl.Release()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	props := parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(rowGroup))
	if err := pqarrow.WriteTable(tbl, f, rowGroup, props, pqarrow.DefaultWriterProps()); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// TestCatalogEndToEnd exercises sources as users see them through SQL: Hive
// partitions with pruning, quoted dotted names, nested folders, refresh after
// files change, a deleted file, and a restart of the engine.
func TestCatalogEndToEnd(t *testing.T) {
	root := t.TempDir()
	writeInts(t, filepath.Join(root, "sales", "year=2023", "part0.parquet"), 2, 1, 2, 3)
	writeInts(t, filepath.Join(root, "sales", "year=2024", "part0.parquet"), 2, 10, 20)
	writeInts(t, filepath.Join(root, "x.parquet"), 2, 7, 8, 9, 10, 11)
	writeInts(t, filepath.Join(root, "sub", "deep.parquet"), 100, 42)
	dataDir := t.TempDir()
	open := func() *Engine {
		eng, err := Open(Config{DataDir: dataDir, Sources: []SourceSpec{{Name: "my source", Path: root}}})
		if err != nil {
			t.Fatal(err)
		}
		return eng
	}
	eng := open()
	sess := eng.NewSession("")

	tests := []struct{ sql, want string }{
		{`SELECT year, count(*), sum(v) FROM "my source".sales GROUP BY year ORDER BY year`,
			"year|count|sum\n2023|3|6\n2024|2|30\n"},
		{`SELECT sum(v) FROM "my source"."x.parquet"`, "sum\n45\n"},
		{`SELECT v FROM "my source".sub.deep`, "v\n42\n"},
		{`SELECT count(*) FROM "my source".sales WHERE year = 2024 AND v > 10`, "count\n1\n"},
	}
	for _, tt := range tests {
		if got := mustQuery(t, sess, tt.sql); got != tt.want {
			t.Errorf("%s:\ngot  %q\nwant %q", tt.sql, got, tt.want)
		}
	}
	// Partition pruning and min/max pruning show in EXPLAIN.
	plan := mustQuery(t, sess, `EXPLAIN SELECT v FROM "my source".sales WHERE year = 2024`)
	if !strings.Contains(plan, "pruned=2") {
		t.Errorf("partition pruning missing:\n%s", plan)
	}
	plan = mustQuery(t, sess, `EXPLAIN SELECT v FROM "my source".x WHERE v >= 10`)
	if !strings.Contains(plan, "row_groups=2 pruned=1") {
		t.Errorf("row-group pruning missing:\n%s", plan)
	}
	// EXPLAIN ANALYZE reports rows per operator.
	plan = mustQuery(t, sess, `EXPLAIN ANALYZE SELECT count(*) FROM "my source".x WHERE v >= 10`)
	if !strings.Contains(plan, "rows=2 batches=2") {
		t.Errorf("EXPLAIN ANALYZE lacks operator figures:\n%s", plan)
	}

	// A rewritten file is noticed automatically; a new file in a folder
	// dataset too; ALTER TABLE … REFRESH METADATA works.
	writeInts(t, filepath.Join(root, "x.parquet"), 2, 1, 1)
	if got := mustQuery(t, sess, `SELECT sum(v) FROM "my source".x`); got != "sum\n2\n" {
		t.Errorf("after rewrite: %q", got)
	}
	writeInts(t, filepath.Join(root, "sales", "year=2025", "part0.parquet"), 2, 100)
	if got := mustQuery(t, sess, `SELECT count(*) FROM "my source".sales`); got != "count\n6\n" {
		t.Errorf("after adding a partition: %q", got)
	}
	mustQuery(t, sess, `ALTER TABLE "my source".sales REFRESH METADATA`)

	// A deleted file: the table is gone, with a clear error, and the next
	// query works.
	os.Remove(filepath.Join(root, "sub", "deep.parquet"))
	_, err := query(t.Context(), sess, `SELECT v FROM "my source".sub.deep`)
	if sqlerr.Code(err) != sqlerr.UndefinedTable {
		t.Errorf("deleted file: got %v, want 42P01", err)
	}
	if got := mustQuery(t, sess, `SELECT count(*) FROM "my source".sales`); got != "count\n6\n" {
		t.Errorf("after error: %q", got)
	}

	// The catalog survives a restart.
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	eng2, err := Open(Config{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	defer eng2.Close()
	if got := mustQuery(t, eng2.NewSession("my source"), `SELECT count(*) FROM sales`); got != "count\n6\n" {
		t.Errorf("after restart: %q", got)
	}
}

// TestCreateTableAs writes query results as a Parquet dataset in a source
// folder (then readable as a table, also after a restart) and as a memory
// table when no source is named.
func TestCreateTableAs(t *testing.T) {
	root := t.TempDir()
	writeInts(t, filepath.Join(root, "src.parquet"), 2, 1, 2, 3, 4, 5)
	eng := newEngine(t, "", SourceSpec{Name: "lake", Path: root})
	sess := eng.NewSession("lake")
	if got := mustQuery(t, sess, `CREATE TABLE big AS SELECT v, v * 2 AS w, CAST(v AS DECIMAL(10,2)) / 4 AS q FROM src WHERE v > 2`); got != "" {
		t.Logf("CTAS output %q", got)
	}
	if _, err := os.Stat(filepath.Join(root, "big")); err != nil {
		t.Fatalf("no folder written: %v", err)
	}
	if got := mustQuery(t, sess, `SELECT sum(w), count(*), min(q) FROM lake.big`); got != "sum|count|min\n24|3|0.75\n" {
		t.Errorf("reading the new table: %q", got)
	}
	_, err := query(t.Context(), sess, `CREATE TABLE big AS SELECT 1`)
	if sqlerr.Code(err) != sqlerr.DuplicateTable {
		t.Errorf("second CTAS: got %v, want 42P07", err)
	}
	// A failing query leaves nothing behind.
	_, err = query(t.Context(), sess, `CREATE TABLE bad AS SELECT v / (v - 3) FROM src`)
	if sqlerr.Code(err) != sqlerr.DivisionByZero {
		t.Errorf("failing CTAS: got %v, want 22012", err)
	}
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || e.Name() == "bad" {
			t.Errorf("failed CTAS left %s behind", e.Name())
		}
	}
	// Without a source: a memory table.
	mem := eng.NewSession("")
	mustQuery(t, mem, `CREATE TABLE m AS SELECT 1 AS one UNION ALL SELECT 2`)
	if got := mustQuery(t, mem, `SELECT sum(one) FROM m`); got != "sum\n3\n" {
		t.Errorf("memory CTAS: %q", got)
	}
}
