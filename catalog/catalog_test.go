package catalog

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	bolt "go.etcd.io/bbolt"

	"github.com/quarrydb/quarry/catalog/sqlerr"
)

var dec152 = &arrow.Decimal128Type{Precision: 15, Scale: 2}

// statsColumns returns n rows of test data with NULLs sprinkled in, and the
// normalized Arrow type and stats value conversion of each column.
func statsColumns(n int) []column {
	cols := []column{
		{"c_i32", arrow.PrimitiveTypes.Int32, nil},
		{"c_i64", arrow.PrimitiveTypes.Int64, nil},
		{"c_f64", arrow.PrimitiveTypes.Float64, nil},
		{"c_dec", dec152, nil},
		{"c_str", arrow.BinaryTypes.String, nil},
		{"c_date", arrow.FixedWidthTypes.Date32, nil},
		{"c_bool", arrow.FixedWidthTypes.Boolean, nil},
		{"c_ts", &arrow.TimestampType{Unit: arrow.Millisecond}, nil},
		{"c_allnull", arrow.PrimitiveTypes.Int64, nil},
	}
	for r := 0; r < n; r++ {
		val := func(null bool, v any) any {
			if null {
				return nil
			}
			return v
		}
		cols[0].vals = append(cols[0].vals, val(r%4 == 3, int32((r*7)%11-5)))
		cols[1].vals = append(cols[1].vals, val(false, int64(r*r-20)*1_000_000_000))
		cols[2].vals = append(cols[2].vals, val(r == 0, float64(r)*1.5-3))
		cols[3].vals = append(cols[3].vals, val(r%5 == 4, decimal128.FromI64(int64(r*12345-50000))))
		cols[4].vals = append(cols[4].vals, val(r%3 == 2, fmt.Sprintf("s%02d", (r*3)%10)))
		cols[5].vals = append(cols[5].vals, val(r == 9, arrow.Date32(19000+r*(1-2*(r%2)))))
		cols[6].vals = append(cols[6].vals, val(false, r%3 == 0))
		cols[7].vals = append(cols[7].vals, val(false, arrow.Timestamp(1_700_000_000_000-int64(r)*1500)))
		cols[8].vals = append(cols[8].vals, nil)
	}
	return cols
}

func less(a, b any) bool {
	switch x := a.(type) {
	case int32:
		return x < b.(int32)
	case int64:
		return x < b.(int64)
	case float64:
		return x < b.(float64)
	case string:
		return x < b.(string)
	case arrow.Date32:
		return x < b.(arrow.Date32)
	case arrow.Timestamp:
		return x < b.(arrow.Timestamp)
	case bool:
		return !x && b.(bool)
	case decimal128.Num:
		return x.Less(b.(decimal128.Num))
	}
	panic(fmt.Sprintf("less: %T", a))
}

// expectStats computes what the catalog should report for vals[lo:hi].
func expectStats(vals []any, lo, hi int, ms bool) ColumnStats {
	cs := ColumnStats{}
	for _, v := range vals[lo:hi] {
		if v == nil {
			cs.NullCount++
			continue
		}
		if ms {
			v = arrow.Timestamp(int64(v.(arrow.Timestamp)) * 1000)
		}
		if !cs.HasMinMax {
			cs.HasMinMax, cs.Min, cs.Max = true, v, v
			continue
		}
		if less(v, cs.Min) {
			cs.Min = v
		}
		if less(cs.Max, v) {
			cs.Max = v
		}
	}
	return cs
}

func TestRowGroupStatistics(t *testing.T) {
	const n, rgLen = 10, 4
	cases := []struct {
		name string
		opts []parquet.WriterProperty
	}{
		{"decimal as fixed_len_byte_array", nil},
		{"decimal as integer", []parquet.WriterProperty{parquet.WithStoreDecimalAsInteger(true)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			cols := statsColumns(n)
			rec := buildRecord(t, memory.DefaultAllocator, cols)
			defer rec.Release()
			writeParquet(t, filepath.Join(root, "stats.parquet"), rec, rgLen, tc.opts...)

			c := openCatalog(t, t.TempDir())
			if err := c.AddSource("src", root); err != nil {
				t.Fatal(err)
			}
			ds := lookup(t, c, "src", "stats")
			if ds.Rows != n || len(ds.Files) != 1 {
				t.Fatalf("rows=%d files=%d, want %d and 1", ds.Rows, len(ds.Files), n)
			}
			f := ds.Files[0]
			if len(f.RowGroups) != 3 {
				t.Fatalf("%d row groups, want 3", len(f.RowGroups))
			}
			wantTypes := map[string]arrow.DataType{
				"c_ts": &arrow.TimestampType{Unit: arrow.Microsecond},
			}
			for i, c := range cols {
				got := ds.Schema.Field(i)
				want := c.typ
				if w, ok := wantTypes[c.name]; ok {
					want = w
				}
				if got.Name != c.name || !arrow.TypeEqual(got.Type, want) {
					t.Errorf("field %d = %s %s, want %s %s", i, got.Name, got.Type, c.name, want)
				}
				if f.ColumnIndex[i] != i {
					t.Errorf("ColumnIndex[%d] = %d", i, f.ColumnIndex[i])
				}
			}
			for g, rg := range f.RowGroups {
				lo, hi := g*rgLen, min((g+1)*rgLen, n)
				if rg.Rows != int64(hi-lo) {
					t.Errorf("row group %d has %d rows, want %d", g, rg.Rows, hi-lo)
				}
				for i, c := range cols {
					want := expectStats(c.vals, lo, hi, c.name == "c_ts")
					if !reflect.DeepEqual(rg.Columns[i], want) {
						t.Errorf("row group %d column %s: got %+v, want %+v", g, c.name, rg.Columns[i], want)
					}
				}
			}

			// The same statistics come back from bbolt after a restart.
			dir := t.TempDir()
			c2, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			if err := c2.AddSource("src", root); err != nil {
				t.Fatal(err)
			}
			first := lookup(t, c2, "src", "stats")
			c2.Close()
			c3 := openCatalog(t, dir)
			again := lookup(t, c3, "src", "stats")
			if !reflect.DeepEqual(first.Files, again.Files) || !first.Schema.Equal(again.Schema) {
				t.Errorf("metadata after restart differs:\n%+v\n%+v", first.Files, again.Files)
			}
			if !again.RefreshedAt.Equal(first.RefreshedAt) {
				t.Errorf("file was re-read after restart (RefreshedAt %v → %v)", first.RefreshedAt, again.RefreshedAt)
			}
		})
	}
}

func TestHivePartitions(t *testing.T) {
	root := t.TempDir()
	writeInts(t, filepath.Join(root, "sales", "year=2023", "part0.parquet"), 3, 0)
	writeInts(t, filepath.Join(root, "sales", "year=2023", "part1.parquet"), 2, 100)
	writeInts(t, filepath.Join(root, "sales", "year=2024", "part0.parquet"), 4, 10)
	writeInts(t, filepath.Join(root, "sales", "year=__HIVE_DEFAULT_PARTITION__", "x.parquet"), 1, 50)
	if err := os.WriteFile(filepath.Join(root, "sales", "_SUCCESS"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	writeInts(t, filepath.Join(root, "events", "day=2024-01-01", "kind=a b", "p.parquet"), 1, 0)
	writeInts(t, filepath.Join(root, "events", "day=2024-01-02", "kind=c", "p.parquet"), 1, 0)
	writeInts(t, filepath.Join(root, "ratio", "r=0.5", "p.parquet"), 1, 0)
	writeInts(t, filepath.Join(root, "ratio", "r=2", "p.parquet"), 1, 0)

	c := openCatalog(t, t.TempDir())
	if err := c.AddSource("s", root); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		table      string
		schema     string
		partitions []string
		rows       int64
		values     [][]any // per file, files sorted by path
	}{
		{"sales", "id:int64,year:int64", []string{"year"}, 10,
			[][]any{{int64(2023)}, {int64(2023)}, {int64(2024)}, {nil}}},
		{"events", "id:int64,day:date32,kind:utf8", []string{"day", "kind"}, 2,
			[][]any{{arrow.Date32(19723), "a b"}, {arrow.Date32(19724), "c"}}},
		{"ratio", "id:int64,r:float64", []string{"r"}, 2,
			[][]any{{float64(0.5)}, {float64(2)}}},
	}
	for _, tc := range cases {
		t.Run(tc.table, func(t *testing.T) {
			ds := lookup(t, c, "s", tc.table)
			if got := fieldNames(ds.Schema); got != tc.schema {
				t.Errorf("schema %s, want %s", got, tc.schema)
			}
			if !reflect.DeepEqual(ds.PartitionColumns, tc.partitions) {
				t.Errorf("partitions %v, want %v", ds.PartitionColumns, tc.partitions)
			}
			if ds.Rows != tc.rows {
				t.Errorf("rows %d, want %d", ds.Rows, tc.rows)
			}
			if ds.Location != filepath.Join(root, tc.table) {
				t.Errorf("location %s", ds.Location)
			}
			if len(ds.Files) != len(tc.values) {
				t.Fatalf("%d files, want %d", len(ds.Files), len(tc.values))
			}
			for i, f := range ds.Files {
				if !reflect.DeepEqual(f.PartitionValues, tc.values[i]) {
					t.Errorf("file %s partition values %#v, want %#v", f.Path, f.PartitionValues, tc.values[i])
				}
				if len(f.ColumnIndex) != 1 || f.ColumnIndex[0] != 0 || len(f.RowGroups[0].Columns) != 1 {
					t.Errorf("file %s: ColumnIndex %v, %d stats columns", f.Path, f.ColumnIndex, len(f.RowGroups[0].Columns))
				}
			}
		})
	}
}

func TestInferPartitionType(t *testing.T) {
	s := func(v ...string) []*string {
		out := make([]*string, len(v))
		for i := range v {
			if v[i] != "NULL" {
				out[i] = &v[i]
			}
		}
		return out
	}
	cases := []struct {
		vals []*string
		want arrow.DataType
	}{
		{s("1", "-2", "NULL"), arrow.PrimitiveTypes.Int64},
		{s("1", "2.5"), arrow.PrimitiveTypes.Float64},
		{s("2024-01-01", "1999-12-31"), arrow.FixedWidthTypes.Date32},
		{s("2024-01-01", "x"), arrow.BinaryTypes.String},
		{s("2024-1-1"), arrow.BinaryTypes.String},
		{s("NULL"), arrow.BinaryTypes.String},
	}
	for _, tc := range cases {
		if got, _ := inferPartitionType(tc.vals); !arrow.TypeEqual(got, tc.want) {
			t.Errorf("inferPartitionType(%v) = %s, want %s", tc.vals, got, tc.want)
		}
	}
}

func TestNameResolution(t *testing.T) {
	root := t.TempDir()
	other := t.TempDir()
	writeInts(t, filepath.Join(root, "top.parquet"), 1, 0)
	writeInts(t, filepath.Join(root, "sub", "t.parquet"), 2, 0)
	writeInts(t, filepath.Join(root, "sub", "deeper", "Mixed.PARQ"), 3, 0)
	writeInts(t, filepath.Join(root, "sub", "folderds", "a.parquet"), 4, 0)
	writeInts(t, filepath.Join(root, ".hidden", "h.parquet"), 1, 0)
	writeInts(t, filepath.Join(other, "x.parquet"), 5, 0)
	if err := os.MkdirAll(filepath.Join(root, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}

	c := openCatalog(t, t.TempDir())
	if err := c.AddSource("src", root); err != nil {
		t.Fatal(err)
	}
	if err := c.AddSource("my source", other); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     []string
		schema   string
		wantPath string // dotted Dataset.Path, "" for an error
		wantRows int64
		wantErr  string
	}{
		{[]string{"src", "top"}, "", "src.top", 1, ""},
		{[]string{"SRC", "TOP"}, "", "src.top", 1, ""},
		{[]string{"src", "top.parquet"}, "", "src.top", 1, ""},
		{[]string{"src", "sub", "t"}, "", "src.sub.t", 2, ""},
		{[]string{"t"}, "src.sub", "src.sub.t", 2, ""},
		{[]string{"T"}, "SRC.Sub", "src.sub.t", 2, ""},
		{[]string{"top"}, "src", "src.top", 1, ""},
		{[]string{"src", "sub", "deeper", "mixed"}, "", "src.sub.deeper.Mixed", 3, ""},
		{[]string{"src", "sub", "folderds"}, "", "src.sub.folderds", 4, ""},
		{[]string{"my source", "x.parquet"}, "", "my source.x", 5, ""},
		{[]string{"x"}, "my source", "my source.x", 5, ""},
		{[]string{"src", "nope"}, "", "", 0, `table "src.nope" does not exist`},
		{[]string{"nosrc", "t"}, "", "", 0, `table "nosrc.t" does not exist`},
		{[]string{"t"}, "", "", 0, `table "t" does not exist`},
		{[]string{"src", "sub"}, "", "src.sub", 2, ""},
		{[]string{"src", "sub", "folderds", "a"}, "", "src.sub.folderds.a", 4, ""},
		{[]string{"src", "sub", "folderds", "a", "b"}, "", "", 0, `table "src.sub.folderds.a.b" does not exist`},
		{[]string{"src", "empty"}, "", "", 0, `table "src.empty" does not exist`},
		{[]string{"src", "hidden", "h"}, "", "", 0, `table "src.hidden.h" does not exist`},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.name, "."), func(t *testing.T) {
			ds, err := c.Lookup(context.Background(), tc.name, tc.schema)
			if tc.wantErr != "" {
				se := wantCode(t, err, sqlerr.UndefinedTable)
				if se.Msg != tc.wantErr {
					t.Errorf("message %q, want %q", se.Msg, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(ds.Path, "."); got != tc.wantPath || ds.Rows != tc.wantRows {
				t.Errorf("got %s (%d rows), want %s (%d rows)", got, ds.Rows, tc.wantPath, tc.wantRows)
			}
		})
	}

	got, err := c.ListDatasets(context.Background(), "SRC")
	if err != nil {
		t.Fatal(err)
	}
	// The files of a dataset folder are its parts: reachable by name (see
	// the lookups above) but not listed; its sub-folders are listed.
	want := [][]string{
		{"src", "sub"}, {"src", "sub", "deeper"}, {"src", "sub", "folderds"}, {"src", "top"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ListDatasets = %v, want %v", got, want)
	}
	_, err = c.ListDatasets(context.Background(), "nosrc")
	wantCode(t, err, sqlerr.InvalidSchemaName)
}

func TestSources(t *testing.T) {
	root := t.TempDir()
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	for _, d := range []string{a, b} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeInts(t, filepath.Join(a, "ta.parquet"), 1, 0)
	writeInts(t, filepath.Join(b, "tb.parquet"), 1, 0)
	if err := os.WriteFile(filepath.Join(root, "file"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c := openCatalog(t, dir)

	errCases := []struct {
		name, path, code string
	}{
		{"x", filepath.Join(root, "missing"), sqlerr.IOError},
		{"x", filepath.Join(root, "file"), sqlerr.IOError},
		{"mem", a, sqlerr.InvalidName},
		{"", a, sqlerr.InvalidName},
	}
	for _, tc := range errCases {
		wantCode(t, c.AddSource(tc.name, tc.path), tc.code)
	}
	for _, step := range []struct{ name, path string }{{"Zeta", a}, {"zeta", a}, {"alpha", b}} {
		if err := c.AddSource(step.name, step.path); err != nil {
			t.Fatal(err)
		}
	}
	srcs, _ := c.Sources()
	if want := []Source{{"alpha", b}, {"Zeta", a}}; !reflect.DeepEqual(srcs, want) {
		t.Fatalf("Sources = %v, want %v", srcs, want)
	}
	lookup(t, c, "zeta", "ta")
	// Re-pointing a source takes effect at once.
	if err := c.AddSource("ZETA", b); err != nil {
		t.Fatal(err)
	}
	lookup(t, c, "zeta", "tb")
	_, err := c.Lookup(context.Background(), []string{"zeta", "ta"}, "")
	wantCode(t, err, sqlerr.UndefinedTable)
	if err := c.DropSource("alpha"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, c.DropSource("alpha"), sqlerr.InvalidSchemaName)
	c.Close()

	// A second process (here: a second Open) fails fast with a clear error.
	c2 := openCatalog(t, dir)
	start := time.Now()
	_, err = Open(dir)
	se := wantCode(t, err, sqlerr.IOError)
	if !strings.Contains(se.Msg, "locked") || time.Since(start) > 5*time.Second {
		t.Errorf("second Open: %v after %v", err, time.Since(start))
	}
	srcs, _ = c2.Sources()
	if want := []Source{{"ZETA", b}}; !reflect.DeepEqual(srcs, want) {
		t.Fatalf("Sources after reopen = %v, want %v", srcs, want)
	}
}

func TestFreshness(t *testing.T) {
	root := t.TempDir()
	single := filepath.Join(root, "single.parquet")
	writeInts(t, single, 3, 0)
	writeInts(t, filepath.Join(root, "folder", "a.parquet"), 2, 0)
	c := openCatalog(t, t.TempDir())
	if err := c.AddSource("s", root); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rows := func(name string) int64 {
		t.Helper()
		return lookup(t, c, "s", name).Rows
	}
	before := lookup(t, c, "s", "single")
	if again := lookup(t, c, "s", "single"); again != before {
		t.Error("unchanged dataset was rebuilt")
	}

	steps := []struct {
		desc   string
		change func()
		table  string
		rows   int64
	}{
		{"rewrite single file", func() { writeInts(t, single, 7, 0); bumpMTime(t, single, time.Second) }, "single", 7},
		{"add file to folder", func() { writeInts(t, filepath.Join(root, "folder", "b.parquet"), 5, 0) }, "folder", 7},
		{"add partition folder file", func() { writeInts(t, filepath.Join(root, "folder", "k=1", "c.parquet"), 1, 0) }, "folder", 8},
		{"remove file from folder", func() { os.Remove(filepath.Join(root, "folder", "a.parquet")) }, "folder", 6},
	}
	for _, st := range steps {
		st.change()
		if got := rows(st.table); got != st.rows {
			t.Errorf("after %s: %d rows, want %d", st.desc, got, st.rows)
		}
	}
	ds := lookup(t, c, "s", "folder")
	if fieldNames(ds.Schema) != "id:int64,k:int64" || len(ds.Files) != 2 {
		t.Errorf("folder schema %s with %d files", fieldNames(ds.Schema), len(ds.Files))
	}

	// Refresh re-reads even when nothing changed.
	old := lookup(t, c, "s", "single")
	time.Sleep(2 * time.Millisecond)
	fresh, err := c.Refresh(ctx, []string{"single"}, "s")
	if err != nil {
		t.Fatal(err)
	}
	if !fresh.RefreshedAt.After(old.RefreshedAt) || fresh.Rows != 7 {
		t.Errorf("Refresh: RefreshedAt %v → %v, rows %d", old.RefreshedAt, fresh.RefreshedAt, fresh.Rows)
	}

	// Deleting every file makes the dataset disappear.
	os.Remove(single)
	_, err = c.Lookup(ctx, []string{"s", "single"}, "")
	wantCode(t, err, sqlerr.UndefinedTable)
	os.RemoveAll(filepath.Join(root, "folder"))
	_, err = c.Lookup(ctx, []string{"s", "folder"}, "")
	wantCode(t, err, sqlerr.UndefinedTable)
}

func TestCorruptFiles(t *testing.T) {
	root := t.TempDir()
	good := filepath.Join(root, "good.parquet")
	writeInts(t, good, 3, 0)
	valid, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	writeInts(t, filepath.Join(root, "later.parquet"), 4, 0)
	dir := t.TempDir()
	c := openCatalog(t, dir)
	if err := c.AddSource("s", root); err != nil {
		t.Fatal(err)
	}
	lookup(t, c, "s", "later")

	cases := []struct {
		name    string
		content []byte
	}{
		{"garbage", []byte("this is not a parquet file at all, just some bytes")},
		{"truncated", valid[:len(valid)/2]},
		{"bad footer", append(append([]byte{}, valid[:len(valid)-8]...), 0xff, 0xff, 0xff, 0x7f, 'P', 'A', 'R', '1')},
		{"magic only", []byte("PAR1PAR1")},
		{"empty", nil},
		{"folder member", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := strings.ReplaceAll(tc.name, " ", "_")
			p := filepath.Join(root, name+".parquet")
			table := []string{"s", name}
			if tc.name == "folder member" {
				writeInts(t, filepath.Join(root, "fold", "ok.parquet"), 1, 0)
				p = filepath.Join(root, "fold", "bad.parquet")
				tc.content = []byte("garbage")
				table = []string{"s", "fold"}
			}
			if err := os.WriteFile(p, tc.content, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := c.Lookup(context.Background(), table, "")
			se := wantCode(t, err, sqlerr.DataCorrupted)
			if !strings.Contains(se.Msg, p) {
				t.Errorf("message %q does not name %s", se.Msg, p)
			}
			lookup(t, c, "s", "good")
		})
	}

	// A dataset that was fine and is then overwritten with garbage fails,
	// and works again once repaired; the others are unaffected.
	later := filepath.Join(root, "later.parquet")
	os.WriteFile(later, []byte("garbage"), 0o644)
	_, err = c.Lookup(context.Background(), []string{"s", "later"}, "")
	wantCode(t, err, sqlerr.DataCorrupted)
	writeInts(t, later, 6, 0)
	bumpMTime(t, later, time.Second)
	if ds := lookup(t, c, "s", "later"); ds.Rows != 6 {
		t.Errorf("repaired file: %d rows", ds.Rows)
	}
	c.Close()
	c2 := openCatalog(t, dir)
	if ds := lookup(t, c2, "s", "good"); ds.Rows != 3 {
		t.Errorf("after reopen: %d rows", ds.Rows)
	}
}

func TestSchemaMismatch(t *testing.T) {
	root := t.TempDir()
	writeInts(t, filepath.Join(root, "mixed", "a.parquet"), 1, 0)
	rec := buildRecord(t, memory.DefaultAllocator, []column{{"id", arrow.BinaryTypes.String, []any{"x"}}})
	writeParquet(t, filepath.Join(root, "mixed", "b.parquet"), rec, 10)
	rec.Release()
	writeInts(t, filepath.Join(root, "union", "a.parquet"), 2, 0)
	rec = buildRecord(t, memory.DefaultAllocator, []column{
		{"extra", arrow.BinaryTypes.String, []any{"x", "y", nil}},
		{"id", arrow.PrimitiveTypes.Int64, []any{int64(1), int64(2), int64(3)}},
	})
	writeParquet(t, filepath.Join(root, "union", "b.parquet"), rec, 10)
	rec.Release()

	c := openCatalog(t, t.TempDir())
	if err := c.AddSource("s", root); err != nil {
		t.Fatal(err)
	}
	_, err := c.Lookup(context.Background(), []string{"s", "mixed"}, "")
	se := wantCode(t, err, sqlerr.DatatypeMismatch)
	if !strings.Contains(se.Msg, filepath.Join(root, "mixed", "b.parquet")) {
		t.Errorf("message %q does not name the file", se.Msg)
	}

	ds := lookup(t, c, "s", "union")
	if got := fieldNames(ds.Schema); got != "id:int64,extra:utf8" {
		t.Fatalf("union schema %s", got)
	}
	if want := [][]int{{0, -1}, {1, 0}}; !reflect.DeepEqual([][]int{ds.Files[0].ColumnIndex, ds.Files[1].ColumnIndex}, want) {
		t.Errorf("ColumnIndex %v %v, want %v", ds.Files[0].ColumnIndex, ds.Files[1].ColumnIndex, want)
	}
	if cs := ds.Files[0].RowGroups[0].Columns[1]; cs.NullCount != 2 || cs.HasMinMax {
		t.Errorf("absent column stats %+v, want all NULL", cs)
	}
	if cs := ds.Files[1].RowGroups[0].Columns[1]; cs.NullCount != 1 || cs.Min != "x" || cs.Max != "y" {
		t.Errorf("extra column stats %+v", cs)
	}
}

func TestConcurrentLookups(t *testing.T) {
	root := t.TempDir()
	for i := 0; i < 4; i++ {
		writeInts(t, filepath.Join(root, fmt.Sprintf("t%d.parquet", i)), i+1, 0)
		writeInts(t, filepath.Join(root, "folder", fmt.Sprintf("p%d.parquet", i)), 1, 0)
	}
	c := openCatalog(t, t.TempDir())
	if err := c.AddSource("s", root); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateMemTable([]string{"m"}, arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int64}}, nil), false); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				n := (g + i) % 4
				ds, err := c.Lookup(context.Background(), []string{fmt.Sprintf("T%d", n)}, "s")
				if err == nil && ds.Rows != int64(n+1) {
					err = fmt.Errorf("t%d has %d rows", n, ds.Rows)
				}
				if err == nil {
					ds, err = c.Lookup(context.Background(), []string{"s", "folder"}, "")
					if err == nil && ds.Rows != 4 {
						err = fmt.Errorf("folder has %d rows", ds.Rows)
					}
				}
				if err == nil {
					_, err = c.Lookup(context.Background(), []string{"m"}, "s")
				}
				if err == nil && i%10 == 0 {
					_, err = c.Refresh(context.Background(), []string{"s", "folder"}, "")
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestCanceledLookup(t *testing.T) {
	root := t.TempDir()
	writeInts(t, filepath.Join(root, "t.parquet"), 1, 0)
	c := openCatalog(t, t.TempDir())
	if err := c.AddSource("s", root); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Lookup(ctx, []string{"s", "t"}, "")
	wantCode(t, err, sqlerr.QueryCanceled)
}

func TestTPCH(t *testing.T) {
	dir := "/work/shared/tpch/data/sf0.01"
	if _, err := os.Stat(filepath.Join(dir, "lineitem.parquet")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("TPC-H data missing in CI: %v", err)
		}
		t.Skipf("TPC-H sf0.01 data not found at %s: %v", dir, err)
	}
	c := openCatalog(t, t.TempDir())
	if err := c.AddSource("tpch", dir); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ds := lookup(t, c, "tpch", "lineitem")
	t.Logf("lineitem metadata read in %v (%d files, %d row groups in the first)", time.Since(start), len(ds.Files), len(ds.Files[0].RowGroups))
	if ds.Rows != 60175 {
		t.Errorf("lineitem has %d rows, want 60175", ds.Rows)
	}
	i := ds.Schema.FieldIndices("l_extendedprice")
	if len(i) != 1 {
		t.Fatalf("no l_extendedprice in %s", ds.Schema)
	}
	if typ := ds.Schema.Field(i[0]).Type; !arrow.TypeEqual(typ, dec152) {
		t.Errorf("l_extendedprice is %s, want decimal(15, 2)", typ)
	}
	for _, rg := range ds.Files[0].RowGroups {
		cs := rg.Columns[i[0]]
		if !cs.HasMinMax || cs.NullCount != 0 {
			t.Fatalf("l_extendedprice stats %+v", cs)
		}
		lo, hi := cs.Min.(decimal128.Num), cs.Max.(decimal128.Num)
		if lo.Sign() <= 0 || hi.Less(lo) {
			t.Errorf("l_extendedprice stats %v..%v", lo, hi)
		}
	}
	j := ds.Schema.FieldIndices("l_shipdate")
	if cs := ds.Files[0].RowGroups[0].Columns[j[0]]; !cs.HasMinMax || cs.Min.(arrow.Date32) < 8000 {
		t.Errorf("l_shipdate stats %+v", cs)
	}
	start = time.Now()
	lookup(t, c, "tpch", "lineitem")
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("cached lookup took %v", d)
	}
	names, err := c.ListDatasets(context.Background(), "tpch")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		lookup(t, c, n...)
	}
}

// TestSurvivesKill adds a source and loads a dataset in a child process
// that then kills itself with SIGKILL; everything committed must be there.
func TestSurvivesKill(t *testing.T) {
	if dir := os.Getenv("QUARRY_CATALOG_KILL_DIR"); dir != "" {
		c, err := Open(dir)
		if err != nil {
			fmt.Println(err)
			os.Exit(2)
		}
		if err := c.AddSource("s", os.Getenv("QUARRY_CATALOG_KILL_SRC")); err != nil {
			fmt.Println(err)
			os.Exit(2)
		}
		if _, err := c.Lookup(context.Background(), []string{"s", "t"}, ""); err != nil {
			fmt.Println(err)
			os.Exit(2)
		}
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	root := t.TempDir()
	writeInts(t, filepath.Join(root, "t.parquet"), 4, 0)
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSurvivesKill$")
	cmd.Env = append(os.Environ(), "QUARRY_CATALOG_KILL_DIR="+dir, "QUARRY_CATALOG_KILL_SRC="+root)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die by SIGKILL: %v\n%s", err, out)
	}
	c := openCatalog(t, dir)
	srcs, err := c.Sources()
	if err != nil || len(srcs) != 1 || srcs[0].Path != root {
		t.Fatalf("sources after kill: %v %v", srcs, err)
	}
	var stored int
	c.db.View(func(tx *bolt.Tx) error { stored = tx.Bucket(bucketFiles).Stats().KeyN; return nil })
	if stored != 1 {
		t.Errorf("%d file records after kill, want 1", stored)
	}
	if ds := lookup(t, c, "s", "t"); ds.Rows != 4 {
		t.Errorf("rows %d", ds.Rows)
	}
}

func TestEncodedValues(t *testing.T) {
	cases := []any{
		int32(-7), int64(1) << 60, float64(-0.1), math.Inf(1), true, "héllo:world",
		arrow.Date32(-3), arrow.Timestamp(-1_000_001), decimal128.FromI64(-123456789), decimal128.New(1<<40, 12345),
	}
	for _, v := range cases {
		tv, err := encodeValue(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeValue(tv)
		if err != nil || !reflect.DeepEqual(got, v) {
			t.Errorf("round trip of %#v: %#v, %v", v, got, err)
		}
	}
	conv := []struct {
		v    int64
		unit arrow.TimeUnit
		want arrow.Timestamp
	}{
		{5, arrow.Second, 5_000_000}, {5, arrow.Millisecond, 5000}, {5, arrow.Microsecond, 5},
		{5999, arrow.Nanosecond, 5}, {-1, arrow.Nanosecond, -1}, {-1000, arrow.Nanosecond, -1},
	}
	for _, tc := range conv {
		if got := toMicros(tc.v, tc.unit); got != tc.want {
			t.Errorf("toMicros(%d, %s) = %d, want %d", tc.v, tc.unit, got, tc.want)
		}
	}
	be := []struct {
		b    []byte
		want decimal128.Num
	}{
		{[]byte{0x01, 0x00}, decimal128.FromI64(256)},
		{[]byte{0xff}, decimal128.FromI64(-1)},
		{[]byte{0xff, 0x38}, decimal128.FromI64(-200)},
		{[]byte{0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2}, decimal128.New(1, 2)},
	}
	for _, tc := range be {
		if got, ok := decimalFromBigEndian(tc.b); !ok || got != tc.want {
			t.Errorf("decimalFromBigEndian(%x) = %v", tc.b, got)
		}
	}
}
