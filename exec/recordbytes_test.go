package exec

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestRecordBytes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "s", Type: arrow.BinaryTypes.String},
		{Name: "i", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"ab", "cde", "", "fghi"}, nil)
	b.Field(1).(*array.Int64Builder).AppendValues([]int64{1, 2, 3, 4}, nil)
	rec := b.NewRecord()
	defer rec.Release()
	tests := []struct {
		name string
		rec  arrow.Record
		want int64
	}{
		{"whole", rec, (9 + 4*4) + 4*8},
		{"slice", rec.NewSlice(1, 3), (3 + 2*4) + 2*8},
		{"empty", rec.NewSlice(2, 2), 0},
	}
	for _, tc := range tests {
		if got := recordBytes(tc.rec, tc.rec.NumRows()); got != tc.want {
			t.Errorf("%s: recordBytes = %d, want %d", tc.name, got, tc.want)
		}
		if tc.rec != rec {
			tc.rec.Release()
		}
	}
}

// TestSettleNullCounts checks that a broadcast record's null counts are
// computed before consumers share it, for nested and plain columns.
func TestSettleNullCounts(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	lb := array.NewListBuilder(mem, arrow.PrimitiveTypes.Int64)
	defer lb.Release()
	vb := lb.ValueBuilder().(*array.Int64Builder)
	lb.Append(true)
	vb.AppendValues([]int64{1, 2}, []bool{true, false})
	lb.AppendNull()
	list := lb.NewArray()
	defer list.Release()
	schema := arrow.NewSchema([]arrow.Field{{Name: "l", Type: list.DataType(), Nullable: true}}, nil)
	rec := array.NewRecord(schema, []arrow.Array{list}, 2)
	defer rec.Release()
	settleNullCounts(rec)
	if got := rec.Column(0).NullN(); got != 1 {
		t.Errorf("list nulls = %d, want 1", got)
	}
	if got := rec.Column(0).Data().Children()[0].NullN(); got != 1 {
		t.Errorf("value nulls = %d, want 1", got)
	}
}
