package exec

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// randomColumns builds one column per supported type with n rows, some
// NULL when nulls is set.
func randomColumns(mem memory.Allocator, r *rand.Rand, n int, nulls bool) arrow.Record {
	fields := []arrow.Field{
		{Name: "i32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "i64", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "f64", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "dec", Type: &arrow.Decimal128Type{Precision: 38, Scale: 2}, Nullable: true},
		{Name: "date", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "bool", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "str", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "list", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32), Nullable: true},
	}
	b := array.NewRecordBuilder(mem, arrow.NewSchema(fields, nil))
	defer b.Release()
	for i := 0; i < n; i++ {
		null := nulls && r.IntN(5) == 0
		for c, f := range b.Fields() {
			if null && c%2 == i%2 {
				f.AppendNull()
				continue
			}
			switch f := f.(type) {
			case *array.Int32Builder:
				f.Append(r.Int32())
			case *array.Int64Builder:
				f.Append(r.Int64())
			case *array.Float64Builder:
				f.Append(r.Float64())
			case *array.Decimal128Builder:
				f.Append(decimal128.New(r.Int64(), r.Uint64()))
			case *array.Date32Builder:
				f.Append(arrow.Date32(r.Int32()))
			case *array.BooleanBuilder:
				f.Append(r.IntN(2) == 0)
			case *array.StringBuilder:
				f.Append([]string{"", "A", "NO", "long string value"}[r.IntN(4)])
			case *array.ListBuilder:
				f.Append(true)
				f.ValueBuilder().(*array.Int32Builder).Append(int32(i))
			}
		}
	}
	return b.NewRecordBatch()
}

func TestFilterColumnsMatchesArrow(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		n, off, len int
		nulls       bool
		density     float64
	}{
		{100, 0, 100, false, 0.5},
		{100, 0, 100, true, 0.98},
		{1000, 3, 997, true, 0.5},
		{1000, 13, 500, true, 0.02},
		{1000, 8, 64, false, 1},
		{17, 5, 12, true, 0.5},
	} {
		t.Run(fmt.Sprintf("%d_%d_%d_%v_%v", tc.n, tc.off, tc.len, tc.nulls, tc.density), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			pool := newPoolAllocator(mem)
			defer pool.close()
			full := randomColumns(mem, r, tc.n, tc.nulls)
			defer full.Release()
			rec := full.NewSlice(int64(tc.off), int64(tc.off+tc.len))
			defer rec.Release()

			mb := array.NewBooleanBuilder(mem)
			for i := 0; i < tc.n; i++ {
				if tc.nulls && r.IntN(7) == 0 {
					mb.AppendNull()
				} else {
					mb.Append(r.Float64() < tc.density)
				}
			}
			fullMask := mb.NewBooleanArray()
			mb.Release()
			defer fullMask.Release()
			mask := array.NewSlice(fullMask, int64(tc.off), int64(tc.off+tc.len)).(*array.Boolean)
			defer mask.Release()

			var sel selection
			k := sel.fromMask(mask)
			cctx := computeCtx(context.Background(), mem)
			want, err := compute.FilterRecordBatch(cctx, rec, mask, compute.DefaultFilterOptions())
			if err != nil {
				t.Fatal(err)
			}
			defer want.Release()
			if int64(k) != want.NumRows() {
				t.Fatalf("selection has %d rows, arrow keeps %d", k, want.NumRows())
			}
			got, err := filterColumns(cctx, newAccountingAllocator(pool, 0), rec, sel.idx, mask)
			if err != nil {
				t.Fatal(err)
			}
			defer got.Release()
			for c, col := range rec.Columns() {
				typed := takeColumn(mem, col, sel.idx)
				if handled := typed != nil; handled != (rec.ColumnName(c) != "list") {
					t.Errorf("column %s: typed gather used: %v", rec.ColumnName(c), handled)
				}
				if typed != nil {
					typed.Release()
				}
			}
			for c := range got.Columns() {
				if !array.Equal(got.Column(c), want.Column(c)) {
					t.Errorf("column %s:\n got %v\nwant %v", rec.ColumnName(c), got.Column(c), want.Column(c))
				}
				if got.Column(c).NullN() != want.Column(c).NullN() {
					t.Errorf("column %s: %d nulls, want %d", rec.ColumnName(c), got.Column(c).NullN(), want.Column(c).NullN())
				}
			}
		})
	}
}

func TestPoolAllocatorReuseAndDrain(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	p := newPoolAllocator(mem)
	a := p.Allocate(5000)
	for i := range a {
		a[i] = 0xAB
	}
	if len(a) != 5000 || cap(a) != 5000 {
		t.Fatalf("len %d cap %d, want 5000 5000", len(a), cap(a))
	}
	p.Free(a)
	b := p.Allocate(6000) // same 8 KiB class: recycled, and zeroed
	if &b[0] != &a[0] {
		t.Errorf("buffer not recycled")
	}
	for i, x := range b {
		if x != 0 {
			t.Fatalf("byte %d of a recycled buffer is %#x", i, x)
		}
	}
	b = p.Reallocate(8000, b) // grows within its class, zeroing the tail
	for i, x := range b[6000:] {
		if x != 0 {
			t.Fatalf("byte %d of the grown tail is %#x", i, x)
		}
	}
	b = p.Reallocate(20000, b) // moves to the next class
	small := p.Allocate(100)
	small = p.Reallocate(200, small)
	u := p.AllocateUninit(20000)
	p.Free(small)
	p.Free(b)
	p.close()
	p.Free(u) // after close: straight to the underlying allocator
	mem.AssertSize(t, 0)
}

func TestDecodeStringDictionary(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	pool := newPoolAllocator(mem)
	defer pool.close()
	db := array.NewStringBuilder(mem)
	db.AppendValues([]string{"skip", "A", "", "longer value", "N"}, nil)
	dictFull := db.NewArray()
	db.Release()
	defer dictFull.Release()
	dict := array.NewSlice(dictFull, 1, 5) // dictionary data not at offset 0
	defer dict.Release()
	ib := array.NewInt32Builder(mem)
	ib.AppendValues([]int32{0, 3, 1, 2, 0, 0, 3, 2}, []bool{true, true, true, true, false, true, true, true})
	idxFull := ib.NewArray()
	ib.Release()
	defer idxFull.Release()
	idx := array.NewSlice(idxFull, 1, 8)
	defer idx.Release()
	dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	d := array.NewDictionaryArray(dt, idx, dict)
	defer d.Release()
	got := decodeStringDictionary(newAccountingAllocator(pool, 0), d, arrow.BinaryTypes.String)
	defer got.Release()
	want := []string{"N", "", "longer value", "NULL", "A", "N", "longer value"}
	s := got.(*array.String)
	if s.Len() != len(want) || s.NullN() != 1 {
		t.Fatalf("got %v (%d nulls), want %v", s, s.NullN(), want)
	}
	for i, w := range want {
		if g := cellOrNull(s, i); (w == "NULL" && g != "NULL") || (w != "NULL" && g != fmt.Sprintf("%q", w)) {
			t.Errorf("row %d: got %s, want %q", i, g, w)
		}
	}
}
