package kernels

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// colSpec is one input column of a test.
type colSpec struct {
	t    arrow.DataType
	vals []any
}

func cs(t arrow.DataType, vals ...any) colSpec { return colSpec{t: t, vals: vals} }

func buildArray(t testing.TB, mem memory.Allocator, c colSpec) arrow.Array {
	t.Helper()
	if c.t.ID() == arrow.NULL {
		return array.NewNull(len(c.vals))
	}
	b := array.NewBuilder(mem, c.t)
	defer b.Release()
	for _, v := range c.vals {
		v = normalize(v, c.t)
		if v == nil {
			b.AppendNull()
			continue
		}
		switch b := b.(type) {
		case *array.BooleanBuilder:
			b.Append(v.(bool))
		case *array.Int32Builder:
			b.Append(v.(int32))
		case *array.Int64Builder:
			b.Append(v.(int64))
		case *array.Float64Builder:
			b.Append(v.(float64))
		case *array.Decimal128Builder:
			b.Append(v.(decimal128.Num))
		case *array.StringBuilder:
			b.Append(v.(string))
		case *array.Date32Builder:
			b.Append(v.(arrow.Date32))
		case *array.TimestampBuilder:
			b.Append(v.(arrow.Timestamp))
		case *array.MonthDayNanoIntervalBuilder:
			b.Append(v.(arrow.MonthDayNanoInterval))
		default:
			t.Fatalf("unsupported builder %T", b)
		}
	}
	return b.NewArray()
}

func buildRecord(t testing.TB, mem memory.Allocator, cols []colSpec, rows int) arrow.Record {
	t.Helper()
	fields := make([]arrow.Field, len(cols))
	arrs := make([]arrow.Array, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: fmt.Sprintf("c%d", i), Type: c.t, Nullable: true}
		arrs[i] = buildArray(t, mem, c)
		rows = arrs[i].Len()
	}
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, int64(rows))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}

func values(arr arrow.Array) []any {
	out := make([]any, arr.Len())
	for i := range out {
		out[i] = ValueAt(arr, i)
	}
	return out
}

// Expression constructors.
func col(i int, t arrow.DataType) physical.Expr { return &physical.ColRef{Index: i, T: t} }
func lit(v any, t arrow.DataType) physical.Expr {
	return &physical.Literal{Value: normalize(v, t), T: t}
}
func call(fn string, t arrow.DataType, args ...physical.Expr) physical.Expr {
	return &physical.Call{Fn: fn, T: t, Args: args}
}

func dec(s string, p, sc int32) decimal128.Num {
	n, err := parseDecimal(s, p, sc)
	if err != nil {
		panic(err)
	}
	return n
}

func date(s string) arrow.Date32 {
	d, err := parseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func ts(s string) arrow.Timestamp {
	v, err := parseTimestamp(s)
	if err != nil {
		panic(err)
	}
	return v
}

var (
	tBool = physical.Boolean
	tI32  = physical.Int32
	tI64  = physical.Int64
	tF64  = physical.Float64
	tStr  = physical.String
	tDate = physical.Date
	tTS   = physical.Timestamp
	tIv   = physical.Interval
)

// evalCase is a table row: evaluate e over cols and expect want or an error
// with SQLSTATE code.
type evalCase struct {
	name string
	cols []colSpec
	rows int // for records without columns
	e    physical.Expr
	want []any
	code string
}

func runCases(t *testing.T, cases []evalCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			rows := c.rows
			if rows == 0 && len(c.cols) == 0 {
				rows = len(c.want)
			}
			rec := buildRecord(t, mem, c.cols, rows)
			defer rec.Release()
			got, err := Eval(mem, c.e, rec)
			if c.code != "" {
				if err == nil {
					got.Release()
					t.Fatalf("%s: want error %s, got none", c.e, c.code)
				}
				if sqlerr.Code(err) != c.code {
					t.Fatalf("%s: want error %s, got %v", c.e, c.code, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s: %v", c.e, err)
			}
			defer got.Release()
			if got.Len() != int(rec.NumRows()) {
				t.Fatalf("%s: got %d rows, want %d", c.e, got.Len(), rec.NumRows())
			}
			if !arrow.TypeEqual(got.DataType(), c.e.Type()) {
				t.Fatalf("%s: got type %s, want %s", c.e, got.DataType(), c.e.Type())
			}
			gv := values(got)
			want := make([]any, len(c.want))
			for i, w := range c.want {
				want[i] = normalize(w, c.e.Type())
			}
			if !reflect.DeepEqual(gv, want) {
				t.Fatalf("%s:\n got  %v\n want %v", c.e, fmtVals(gv, got.DataType()), fmtVals(want, got.DataType()))
			}
		})
	}
}

func fmtVals(vs []any, t arrow.DataType) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = physical.FormatValue(v, t)
	}
	return out
}
