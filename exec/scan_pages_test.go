package exec

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/quarrydb/quarry/planner/physical"
)

// writePages writes n rows of columns that exercise pageColumn: strings
// (a required column, nullable ones with empty strings, a low-cardinality
// one and a high-cardinality one whose dictionary overflows into plain
// pages, one all NULL) and integers, dates and integer decimals likewise,
// plus a boolean column that pqarrow reads.
func writePages(t *testing.T, n int, props *parquet.WriterProperties) (string, arrow.Record) {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "req", Type: arrow.BinaryTypes.String},
		{Name: "opt", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "low", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "high", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "nulls", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "i32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "big", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "dec", Type: &arrow.Decimal128Type{Precision: 15, Scale: 2}, Nullable: true},
		{Name: "dec9", Type: &arrow.Decimal128Type{Precision: 9, Scale: 2}},
		{Name: "flag", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "nulli", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	r := rand.New(rand.NewPCG(5, 6))
	b := array.NewRecordBuilder(memory.NewGoAllocator(), schema)
	defer b.Release()
	modes := []string{"AIR", "REG AIR", "TRUCK", "", "MAIL", "x"}
	for i := 0; i < n; i++ {
		b.Field(0).(*array.StringBuilder).Append(modes[i%len(modes)] + fmt.Sprint(i%3))
		if r.IntN(5) == 0 {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.StringBuilder).Append(strings.Repeat("é", r.IntN(4)))
		}
		if i%1000 < 300 {
			b.Field(2).AppendNull() // long runs of NULLs
		} else {
			b.Field(2).(*array.StringBuilder).Append(modes[r.IntN(len(modes))])
		}
		b.Field(3).(*array.Int64Builder).Append(int64(i))
		if r.IntN(50) == 0 {
			b.Field(4).AppendNull()
		} else {
			b.Field(4).(*array.StringBuilder).Append(fmt.Sprintf("comment %d %s", r.Int64(), strings.Repeat("z", r.IntN(60))))
		}
		b.Field(5).AppendNull()
		if i%1000 < 300 {
			b.Field(6).AppendNull()
		} else {
			b.Field(6).(*array.Int32Builder).Append(int32(r.IntN(40)) - 20)
		}
		if r.IntN(30) == 0 {
			b.Field(7).AppendNull()
		} else {
			b.Field(7).(*array.Int64Builder).Append(r.Int64() >> r.IntN(64))
		}
		if r.IntN(9) == 0 {
			b.Field(8).AppendNull()
		} else {
			b.Field(8).(*array.Date32Builder).Append(arrow.Date32(8000 + i/50))
		}
		if r.IntN(11) == 0 {
			b.Field(9).AppendNull()
		} else {
			b.Field(9).(*array.Decimal128Builder).Append(decimal128.FromI64(r.Int64N(2e14) - 1e14))
		}
		b.Field(10).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(r.IntN(1000)) - 500))
		if i%3 == 0 {
			b.Field(11).AppendNull()
		} else {
			b.Field(11).(*array.BooleanBuilder).Append(i%5 == 0)
		}
		b.Field(12).AppendNull()
	}
	rec := b.NewRecordBatch()
	path := filepath.Join(t.TempDir(), "p.parquet")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	tbl := array.NewTableFromRecords(schema, []arrow.Record{rec})
	defer tbl.Release()
	if err := pqarrow.WriteTable(tbl, out, props.MaxRowGroupLength(), props, pqarrow.DefaultWriterProps()); err != nil {
		t.Fatal(err)
	}
	return path, rec
}

// TestScanReadsPages checks the columns pageColumn decodes against the
// written values, over row groups and batches that span many pages,
// dictionary and plain pages, data pages V1 and V2, and NULLs.
func TestScanReadsPages(t *testing.T) {
	const n = 150_000
	for _, tc := range []struct {
		name  string
		props *parquet.WriterProperties
	}{
		{"dictionary", parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(100_000),
			parquet.WithStoreDecimalAsInteger(true))},
		{"small-pages", parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(70_000),
			parquet.WithDataPageSize(4<<10), parquet.WithDictionaryPageSizeLimit(16<<10),
			parquet.WithStoreDecimalAsInteger(true), parquet.WithCompression(compress.Codecs.Zstd))},
		{"plain", parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(n), parquet.WithDictionaryDefault(false),
			parquet.WithStoreDecimalAsInteger(true))},
		{"v2-pages", parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(100_000),
			parquet.WithDataPageVersion(parquet.DataPageV2), parquet.WithDataPageSize(8<<10),
			parquet.WithStoreDecimalAsInteger(true), parquet.WithCompression(compress.Codecs.Snappy))},
		{"fixed-decimals", parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(100_000))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, want := writePages(t, n, tc.props)
			defer want.Release()
			pf, err := file.OpenParquetFile(path, false)
			if err != nil {
				t.Fatal(err)
			}
			var rgs []int
			for i := 0; i < pf.NumRowGroups(); i++ {
				rgs = append(rgs, i)
			}
			pf.Close()

			// Every column, one twice.
			outCols := []int{5, 0, 1, 2, 3, 4, 1, 6, 7, 8, 9, 10, 11, 12}
			var cols []physical.ScanColumn
			var fields []arrow.Field
			for _, c := range outCols {
				f := want.Schema().Field(c)
				cols = append(cols, physical.ScanColumn{Name: f.Name, FileColumn: c, T: f.Type})
				fields = append(fields, arrow.Field{Name: f.Name, Type: f.Type, Nullable: true})
			}
			checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer checked.AssertSize(t, 0)
			scan := &physical.ParquetScan{
				Base:    base(arrow.NewSchema(fields, nil)),
				Table:   "t",
				Files:   []physical.ScanFile{{Path: path, RowGroups: rgs}},
				Columns: cols,
				Limit:   -1,
			}
			row := 0
			scanBatches(t, scan, checked, func(op *scanOp, rec arrow.Record) {
				if want := pageLeaves(op); op.fr != nil && len(op.pageLeaves) != want {
					t.Fatalf("%d columns decoded by pages, want %d", len(op.pageLeaves), want)
				}
				for j, c := range outCols {
					got, exp := rec.Column(j), want.Column(c)
					if !arrow.TypeEqual(got.DataType(), exp.DataType()) {
						t.Fatalf("column %d: type %s, want %s", j, got.DataType(), exp.DataType())
					}
					sl := array.NewSlice(exp, int64(row), int64(row)+rec.NumRows())
					if !array.Equal(got, sl) {
						for i := 0; i < got.Len(); i++ {
							if got.IsNull(i) != sl.IsNull(i) || got.ValueStr(i) != sl.ValueStr(i) {
								t.Fatalf("column %d row %d: got %q (null %v), want %q (null %v)", j, row+i,
									got.ValueStr(i), got.IsNull(i), sl.ValueStr(i), sl.IsNull(i))
							}
						}
						t.Fatalf("column %d rows %d..: arrays differ", j, row)
					}
					if got.NullN() != sl.NullN() {
						t.Fatalf("column %d rows %d..: %d nulls, want %d", j, row, got.NullN(), sl.NullN())
					}
					sl.Release()
				}
				row += int(rec.NumRows())
			})
			if row != n {
				t.Fatalf("read %d rows, want %d", row, n)
			}
		})
	}
}

// pageLeaves is how many leaves of op's file pageColumns should decode:
// all but the boolean, and the decimals unless stored as integers.
func pageLeaves(op *scanOp) int {
	n := 12
	if op.pf.MetaData().Schema.Column(9).PhysicalType() == parquet.Types.FixedLenByteArray {
		n -= 2
	}
	return n
}

// TestScanPagesOnly reads a page-decoded column alone (no pqarrow reader
// sets the batch size) through the row-group cache and without it.
func TestScanPagesOnly(t *testing.T) {
	for _, n := range []int{1000, 150_000} {
		path, want := writePages(t, n, parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(70_000)))
		scan := &physical.ParquetScan{
			Base:    base(arrow.NewSchema([]arrow.Field{{Name: "high", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)),
			Table:   "t",
			Files:   []physical.ScanFile{{Path: path, RowGroups: allRowGroups(n, 70_000)}},
			Columns: []physical.ScanColumn{{Name: "high", FileColumn: 4, T: arrow.BinaryTypes.String}},
			Limit:   -1,
		}
		for pass := 0; pass < 2; pass++ { // the second may come from the cache
			checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
			row := 0
			exp := want.Column(4).(*array.String)
			scanBatches(t, scan, checked, func(_ *scanOp, rec arrow.Record) {
				got := rec.Column(0).(*array.String)
				for i := 0; i < got.Len(); i++ {
					if got.IsNull(i) != exp.IsNull(row+i) || got.Value(i) != exp.Value(row+i) {
						t.Fatalf("n=%d row %d: got %q, want %q", n, row+i, got.Value(i), exp.Value(row+i))
					}
				}
				row += got.Len()
			})
			if row != n {
				t.Fatalf("n=%d: read %d rows", n, row)
			}
			checked.AssertSize(t, 0)
		}
		want.Release()
	}
}
