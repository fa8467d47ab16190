package exec

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/quarrydb/quarry/exec/kernels"
	"github.com/quarrydb/quarry/planner/physical"
)

// writeIntDecimals writes n rows of a DECIMAL(18,2) and a DECIMAL(9,3)
// column stored as INT64 and INT32, with NULLs and extreme values.
func writeIntDecimals(t *testing.T, n int) (string, *arrow.Schema, arrow.Record) {
	t18 := &arrow.Decimal128Type{Precision: 18, Scale: 2}
	t9 := &arrow.Decimal128Type{Precision: 9, Scale: 3}
	schema := arrow.NewSchema([]arrow.Field{{Name: "a", Type: t18, Nullable: true}, {Name: "b", Type: t9, Nullable: true}}, nil)
	r := rand.New(rand.NewPCG(3, 4))
	b := array.NewRecordBuilder(memory.NewGoAllocator(), schema)
	defer b.Release()
	ab, bb := b.Field(0).(*array.Decimal128Builder), b.Field(1).(*array.Decimal128Builder)
	for i := 0; i < n; i++ {
		switch {
		case r.IntN(10) == 0:
			ab.AppendNull()
		case i%97 == 0:
			ab.Append(decimal128.FromI64(999_999_999_999_999_999))
		case i%89 == 0:
			ab.Append(decimal128.FromI64(-999_999_999_999_999_999))
		default:
			ab.Append(decimal128.FromI64(r.Int64N(20_000_001) - 10_000_000))
		}
		switch {
		case r.IntN(7) == 0:
			bb.AppendNull()
		case i%83 == 0:
			bb.Append(decimal128.FromI64(-999_999_999))
		default:
			bb.Append(decimal128.FromI64(r.Int64N(2001) - 1000))
		}
	}
	rec := b.NewRecordBatch()
	path := filepath.Join(t.TempDir(), "dec.parquet")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	tbl := array.NewTableFromRecords(schema, []arrow.Record{rec})
	defer tbl.Release()
	props := parquet.NewWriterProperties(parquet.WithStoreDecimalAsInteger(true), parquet.WithMaxRowGroupLength(int64(n/2)))
	if err := pqarrow.WriteTable(tbl, out, int64(n/2), props, pqarrow.DefaultWriterProps()); err != nil {
		t.Fatal(err)
	}
	return path, schema, rec
}

// TestScanWidensIntDecimals checks that decimals stored as integers read
// the same as arrow's own conversion, and that the bound recorded for
// each batch covers every slot.
func TestScanWidensIntDecimals(t *testing.T) {
	const n = 150_000
	path, schema, want := writeIntDecimals(t, n)
	defer want.Release()

	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	pf, err := file.NewParquetReader(f)
	if err != nil {
		t.Fatal(err)
	}
	for c := 0; c < 2; c++ {
		pt := pf.MetaData().Schema.Column(c).PhysicalType()
		if pt != parquet.Types.Int64 && pt != parquet.Types.Int32 {
			t.Fatalf("column %d stored as %s, want an integer", c, pt)
		}
	}
	pf.Close()

	checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer checked.AssertSize(t, 0)
	scan := &physical.ParquetScan{
		Base:  base(schema),
		Table: "t",
		Files: []physical.ScanFile{{Path: path, RowGroups: []int{0, 1}}},
		Columns: []physical.ScanColumn{
			{Name: "a", FileColumn: 0, T: schema.Field(0).Type},
			{Name: "b", FileColumn: 1, T: schema.Field(1).Type},
		},
		Limit: -1,
	}
	row := 0
	scanBatches(t, scan, checked, func(_ *scanOp, rec arrow.Record) {
		for c := 0; c < 2; c++ {
			got := rec.Column(c).(*array.Decimal128)
			exp := want.Column(c).(*array.Decimal128)
			for i := 0; i < got.Len(); i++ {
				if got.IsNull(i) != exp.IsNull(row+i) || got.IsValid(i) && got.Value(i) != exp.Value(row+i) {
					t.Fatalf("column %d row %d: got %v, want %v", c, row+i, got.GetOneForMarshal(i), exp.GetOneForMarshal(row+i))
				}
			}
			m, ok := kernels.DecBound(got)
			if !ok {
				t.Fatalf("column %d: no bound recorded", c)
			}
			vals := arrow.Decimal128Traits.CastFromBytes(got.Data().Buffers()[1].Bytes())
			for i, v := range vals {
				x := int64(v.LowBits())
				if v.HighBits() != x>>63 || uint64(max(x, -x)) > m || x == math.MinInt64 {
					t.Fatalf("column %d slot %d: %v not within bound %d", c, i, v.BigInt(), m)
				}
			}
		}
		row += int(rec.NumRows())
	})
	if row != n {
		t.Fatalf("read %d rows, want %d", row, n)
	}
}

func TestWidenDecimalsSlicedAndExtremes(t *testing.T) {
	checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer checked.AssertSize(t, 0)
	dt := &arrow.Decimal128Type{Precision: 38, Scale: 0}
	b := array.NewInt64Builder(checked)
	vals := []int64{math.MaxInt64, math.MinInt64, 0, -1, 1}
	for i := 0; i < 1000; i++ {
		if i%13 == 0 {
			b.AppendNull()
			continue
		}
		b.Append(vals[i%len(vals)])
	}
	full := b.NewArray()
	b.Release()
	defer full.Release()
	for _, sl := range [][2]int64{{0, 1000}, {7, 993}, {300, 301}} {
		arr := array.NewSlice(full, sl[0], sl[1])
		w, err := widenDecimals(checked, arr, dt)
		if err != nil {
			t.Fatal(err)
		}
		got := w.(*array.Decimal128)
		src := arr.(*array.Int64)
		for i := 0; i < arr.Len(); i++ {
			if got.IsNull(i) != src.IsNull(i) || got.IsValid(i) && got.Value(i) != decimal128.FromI64(src.Value(i)) {
				t.Fatalf("slice %v row %d: got %v, want %d", sl, i, got.GetOneForMarshal(i), src.Value(i))
			}
		}
		// The bound covers every slot; MinInt64's magnitude, 2^63, gets none.
		var wantM uint64
		hasMin := false
		for _, x := range src.Int64Values() {
			hasMin = hasMin || x == math.MinInt64
			if x != math.MinInt64 {
				wantM = max(wantM, uint64(max(x, -x)))
			}
		}
		m, ok := kernels.DecBound(got)
		if ok == hasMin || ok && m != wantM {
			t.Fatalf("slice %v: bound %d, %v; want %d, %v", sl, m, ok, wantM, !hasMin)
		}
		w.Release()
		arr.Release()
	}
}
