package tpchgen

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

const sample = "../../testdata/tpch/sf0.01"

func fileSchema(t *testing.T, path string) string {
	t.Helper()
	r, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	fr, err := pqarrow.NewFileReader(r, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	s, err := fr.Schema()
	if err != nil {
		t.Fatal(err)
	}
	return fieldsOf(s)
}

// fieldsOf lists names, types and nullability, without metadata.
func fieldsOf(s *arrow.Schema) string {
	var b strings.Builder
	for _, f := range s.Fields() {
		fmt.Fprintf(&b, "%s %s %v; ", f.Name, f.Type, f.Nullable)
	}
	return b.String()
}

// The schemas we write are those of the reference data.
func TestSchemasMatchReference(t *testing.T) {
	for _, tbl := range Tables {
		got := fieldsOf(Schemas[tbl])
		want := fileSchema(t, filepath.Join(sample, tbl+".parquet"))
		if got != want {
			t.Errorf("%s:\n got %s\nwant %s", tbl, got, want)
		}
	}
}

func TestFractionalCopiesReference(t *testing.T) {
	out := t.TempDir()
	err := Generate(context.Background(), Options{ScaleFactor: 0.01, OutDir: out, ReferenceDirs: []string{"/nonexistent", "../../testdata/tpch"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tbl := range Tables {
		if _, err := os.Stat(filepath.Join(out, tbl+".parquet")); err != nil {
			t.Error(err)
		}
	}
	if err := Generate(context.Background(), Options{ScaleFactor: 0.5, OutDir: out}); err == nil {
		t.Error("sf 0.5 without reference data: want an error")
	}
}

// TestGenerateSF1 generates scale factor 1 (a minute or two); set
// QUARRY_TPCH_SF1 to a folder to run it.
func TestGenerateSF1(t *testing.T) {
	out := os.Getenv("QUARRY_TPCH_SF1")
	if out == "" {
		t.Skip("set QUARRY_TPCH_SF1=<dir> to generate scale factor 1")
	}
	if err := Generate(context.Background(), Options{ScaleFactor: 1, OutDir: out}); err != nil {
		t.Fatal(err)
	}
	for _, tbl := range Tables {
		if got, want := fileSchema(t, filepath.Join(out, tbl+".parquet")), fieldsOf(Schemas[tbl]); got != want {
			t.Errorf("%s: got %s want %s", tbl, got, want)
		}
	}
}
