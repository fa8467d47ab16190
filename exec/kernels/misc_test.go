package kernels

import (
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// TestSlicedInputs checks that every kernel honours array offsets: results
// over a slice of a record equal the slice of the results over the record.
func TestSlicedInputs(t *testing.T) {
	const n = 45
	var ci, cb, cs_, cd, cdt, cf []any
	for i := 0; i < n; i++ {
		if i%7 == 3 {
			ci, cb, cs_, cd, cdt, cf = append(ci, nil), append(cb, nil), append(cs_, nil), append(cd, nil), append(cdt, nil), append(cf, nil)
			continue
		}
		ci = append(ci, int64(i*3-40))
		cb = append(cb, i%3 == 0)
		cs_ = append(cs_, fmt.Sprintf("s%dx", i))
		cd = append(cd, decimal128.FromI64(int64(i*101-300)))
		cdt = append(cdt, arrow.Date32(19000+i*17))
		cf = append(cf, float64(i)/4)
	}
	cols := []colSpec{cs(tI64, ci...), cs(tBool, cb...), cs(tStr, cs_...), cs(tD152, cd...), cs(tDate, cdt...), cs(tF64, cf...)}
	i64, b, s, d, dt, f := col(0, tI64), col(1, tBool), col(2, tStr), col(3, tD152), col(4, tDate), col(5, tF64)
	exprs := []physical.Expr{
		i64,
		call("add", tI64, i64, lit(5, tI64)),
		call("mul", tI64, i64, i64),
		call("lt", tBool, i64, lit(0, tI64)),
		call("ge", tBool, i64, call("neg", tI64, i64)),
		call("eq", tBool, s, lit("s10x", tStr)),
		call("and", tBool, b, call("gt", tBool, i64, lit(0, tI64))),
		call("or", tBool, b, call("is_null", tBool, i64)),
		call("not", tBool, b),
		call("is_true", tBool, b),
		call("in", tBool, i64, lit(-40, tI64), lit(-37, tI64), lit(2, tI64)),
		call("like", tBool, s, lit("s1%", tStr)),
		call("like", tBool, s, lit("s_x", tStr)),
		call("substring", tStr, s, lit(2, tI64), lit(1, tI64)),
		call("upper", tStr, s),
		call("length", tI32, s),
		call("concat", tStr, s, call("cast", tStr, i64)),
		call("mul", tD154, d, d),
		call("add", tD152, d, lit(d152("1.00"), tD152)),
		call("lt", tBool, d, lit(d152("0"), tD152)),
		call("cast", tF64, d),
		call("cast", tStr, d),
		call("cast", tI64, f),
		call("round", tF64, f, lit(1, tI32)),
		call("extract", tI64, lit("month", tStr), dt),
		call("add", tDate, dt, lit(arrow.MonthDayNanoInterval{Months: 1}, tIv)),
		call("coalesce", tI64, i64, lit(0, tI64)),
		call("nullif", tI64, i64, lit(-40, tI64)),
		&physical.Case{Whens: []physical.Expr{b}, Thens: []physical.Expr{s}, Else: call("cast", tStr, f), T: tStr},
		&physical.Case{Whens: []physical.Expr{call("ne", tBool, i64, lit(-1, tI64))}, Thens: []physical.Expr{call("div", tI64, lit(100, tI64), call("add", tI64, i64, lit(1, tI64)))}, Else: lit(nil, tI64), T: tI64},
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := buildRecord(t, mem, cols, n)
	defer rec.Release()
	for _, e := range exprs {
		full, err := Eval(mem, e, rec)
		if err != nil {
			t.Fatalf("%s: %v", e, err)
		}
		want := values(full)
		full.Release()
		for _, off := range []int{1, 3, 8, 13} {
			for _, l := range []int{0, 1, 9, n - 13} {
				sl := rec.NewSlice(int64(off), int64(off+l))
				got, err := Eval(mem, e, sl)
				sl.Release()
				if err != nil {
					t.Fatalf("%s [%d:%d]: %v", e, off, off+l, err)
				}
				if gv := values(got); !reflect.DeepEqual(gv, want[off:off+l]) && !(l == 0 && len(gv) == 0) {
					t.Errorf("%s [%d:%d]:\n got  %v\n want %v", e, off, off+l, gv, want[off:off+l])
				}
				got.Release()
			}
		}
	}
}

func TestEvalConst(t *testing.T) {
	for _, c := range []struct {
		e    physical.Expr
		want any
		code string
	}{
		{call("add", tI64, lit(1, tI64), lit(2, tI64)), int64(3), ""},
		{call("div", tI64, lit(1, tI64), lit(0, tI64)), nil, sqlerr.DivisionByZero},
		{call("add", tI64, lit(1, tI64), lit(nil, tI64)), nil, ""},
		{call("cast", tDate, lit("2024-02-29", tStr)), arrow.Date32(19782), ""},
		{call("upper", tStr, lit("abc", tStr)), "ABC", ""},
		{call("and", tBool, lit(nil, tBool), lit(false, tBool)), false, ""},
		{call("or", tBool, lit(nil, tBool), lit(false, tBool)), nil, ""},
		{call("coalesce", tI64, lit(nil, tI64), lit(7, tI64)), int64(7), ""},
		{call("in", tBool, lit(2, tI64), lit(1, tI64), lit(2, tI64)), true, ""},
		{call("mul", tD154, lit(d152("1.10"), tD152), lit(d152("2.00"), tD152)), dec("2.2000", 31, 4), ""},
		{&physical.Case{Whens: []physical.Expr{lit(false, tBool)}, Thens: []physical.Expr{call("div", tI64, lit(1, tI64), lit(0, tI64))}, Else: lit(5, tI64), T: tI64}, int64(5), ""},
		{lit(7, tI32), int32(7), ""},
		{call("add", tTS, lit(date("2024-01-31"), tDate), lit(arrow.MonthDayNanoInterval{Months: 1, Nanoseconds: 1000}, tIv)), ts("2024-02-29 00:00:00.000001"), ""},
	} {
		got, err := EvalConst(c.e)
		if c.code != "" {
			if sqlerr.Code(err) != c.code {
				t.Errorf("%s: want error %s, got %v, %v", c.e, c.code, got, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s = %#v, %v; want %#v", c.e, got, err, c.want)
		}
	}
}

func TestValueHelpers(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for _, c := range []struct {
		v any
		t arrow.DataType
	}{
		{true, tBool}, {int32(-3), tI32}, {int64(1) << 40, tI64}, {2.5, tF64}, {d152("12.34"), tD152},
		{"héllo", tStr}, {date("2020-02-02"), tDate}, {ts("2020-02-02 02:02:02"), tTS},
		{arrow.MonthDayNanoInterval{Months: 1, Days: 2, Nanoseconds: 3}, tIv}, {nil, tI64}, {nil, tStr}, {nil, tBool},
	} {
		arr, err := MakeArray(mem, c.v, c.t, 3)
		if err != nil {
			t.Fatalf("MakeArray(%v): %v", c.v, err)
		}
		if !arrow.TypeEqual(arr.DataType(), c.t) || arr.Len() != 3 {
			t.Errorf("MakeArray(%v): type %s len %d", c.v, arr.DataType(), arr.Len())
		}
		for i := 0; i < 3; i++ {
			if got := ValueAt(arr, i); !reflect.DeepEqual(got, c.v) {
				t.Errorf("ValueAt = %#v, want %#v", got, c.v)
			}
		}
		arr.Release()
	}
	if _, err := MakeArray(mem, "x", tI64, 1); err == nil {
		t.Error("MakeArray with mismatched value should fail")
	}
	for _, c := range []struct {
		a, b any
		t    arrow.DataType
		want int
	}{
		{false, true, tBool, -1}, {int32(3), int32(3), tI32, 0}, {int64(5), int64(-5), tI64, 1},
		{1.5, math.NaN(), tF64, -1}, {math.NaN(), math.NaN(), tF64, 0}, {d152("-1"), d152("0.01"), tD152, -1},
		{"b", "abc", tStr, 1}, {date("2020-01-01"), date("2020-01-02"), tDate, -1}, {ts("2020-01-01"), ts("2020-01-01"), tTS, 0},
		{arrow.MonthDayNanoInterval{Months: 1}, arrow.MonthDayNanoInterval{Days: 29}, tIv, 1},
	} {
		if got := Compare(c.a, c.b, c.t); got != c.want {
			t.Errorf("Compare(%v, %v) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
	for _, c := range []struct {
		s    string
		t    arrow.DataType
		want any
		code string
	}{
		{"42", tI32, int32(42), ""}, {"x", tI32, nil, sqlerr.InvalidTextRep}, {"9999999999", tI32, nil, sqlerr.NumericOutOfRange},
		{"-1.5e1", tF64, -15.0, ""}, {"3.14159", tD152, d152("3.14"), ""}, {"-3.145", tD152, d152("-3.15"), ""},
		{"2024-12-31", tDate, date("2024-12-31"), ""}, {"2024-13-01", tDate, nil, sqlerr.DatetimeOverflow},
		{"2024-12-31 23:59:59.999999", tTS, arrow.Timestamp(1735689599999999), ""}, {"yes", tBool, true, ""},
		{"abc", tStr, "abc", ""}, {"2 hours 30 minutes", tIv, arrow.MonthDayNanoInterval{Nanoseconds: 9000e9}, ""},
		{"1 mon", tIv, arrow.MonthDayNanoInterval{Months: 1}, ""},
	} {
		got, err := ParseValue(c.s, c.t)
		if c.code != "" {
			if sqlerr.Code(err) != c.code {
				t.Errorf("ParseValue(%q, %s): want %s, got %v, %v", c.s, c.t, c.code, got, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseValue(%q, %s) = %#v, %v; want %#v", c.s, c.t, got, err, c.want)
		}
	}
}

func TestColRefIsRetainedNotCopied(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := buildRecord(t, mem, []colSpec{cs(tI64, 1, 2, 3)}, 3)
	defer rec.Release()
	got, err := Eval(mem, col(0, tI64), rec)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Release()
	if got != rec.Column(0) {
		t.Error("ColRef should return the input column itself")
	}
}

func TestUnsupported(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := buildRecord(t, mem, []colSpec{cs(tI64, 1), cs(tStr, "a")}, 1)
	defer rec.Release()
	for _, e := range []physical.Expr{
		call("frobnicate", tI64, col(0, tI64)),
		call("add", tI64, col(0, tI64), col(1, tStr)),
		call("cast", tDate, col(0, tI64)),
	} {
		_, err := Eval(mem, e, rec)
		if sqlerr.Code(err) != sqlerr.FeatureNotSupported {
			t.Errorf("%s: want 0A000, got %v", e, err)
		}
	}
}

func benchRecord(b *testing.B, mem memory.Allocator, n int, t arrow.DataType, gen func(i int) any) arrow.Record {
	bld := array.NewBuilder(mem, t)
	defer bld.Release()
	bld.Reserve(n)
	for i := 0; i < n; i++ {
		switch bb := bld.(type) {
		case *array.Int64Builder:
			bb.Append(gen(i).(int64))
		case *array.Decimal128Builder:
			bb.Append(gen(i).(decimal128.Num))
		case *array.StringBuilder:
			bb.Append(gen(i).(string))
		}
	}
	arr := bld.NewArray()
	defer arr.Release()
	return array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "a", Type: t}, {Name: "b", Type: t}}, nil), []arrow.Array{arr, arr}, int64(n))
}

func runBench(b *testing.B, rec arrow.Record, e physical.Expr) {
	mem := memory.NewGoAllocator()
	n := int(rec.NumRows())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := Eval(mem, e, rec)
		if err != nil {
			b.Fatal(err)
		}
		r.Release()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/row")
}

const benchRows = 1 << 20

func BenchmarkCompareInt64(b *testing.B) {
	rec := benchRecord(b, memory.NewGoAllocator(), benchRows, tI64, func(i int) any { return int64(i*7919) % 1000 })
	defer rec.Release()
	b.Run("scalar", func(b *testing.B) { runBench(b, rec, call("lt", tBool, col(0, tI64), lit(500, tI64))) })
	b.Run("arrays", func(b *testing.B) { runBench(b, rec, call("le", tBool, col(0, tI64), col(1, tI64))) })
}

func BenchmarkMulDecimal(b *testing.B) {
	rec := benchRecord(b, memory.NewGoAllocator(), benchRows, tD152, func(i int) any { return decimal128.FromI64(int64(i%100000) + 1) })
	defer rec.Release()
	b.Run("arrays", func(b *testing.B) { runBench(b, rec, call("mul", tD154, col(0, tD152), col(1, tD152))) })
	b.Run("price*(1-discount)", func(b *testing.B) {
		runBench(b, rec, call("mul", tD154, col(0, tD152), call("sub", tD152, lit(d152("1.00"), tD152), col(1, tD152))))
	})
}

func BenchmarkAddInt64(b *testing.B) {
	rec := benchRecord(b, memory.NewGoAllocator(), benchRows, tI64, func(i int) any { return int64(i) })
	defer rec.Release()
	runBench(b, rec, call("add", tI64, col(0, tI64), lit(1, tI64)))
}

func BenchmarkLike(b *testing.B) {
	rec := benchRecord(b, memory.NewGoAllocator(), benchRows, tStr, func(i int) any { return fmt.Sprintf("customer %d special requests", i) })
	defer rec.Release()
	b.Run("infix", func(b *testing.B) {
		runBench(b, rec, call("like", tBool, col(0, tStr), lit("%special%requests%", tStr)))
	})
	b.Run("underscore", func(b *testing.B) { runBench(b, rec, call("like", tBool, col(0, tStr), lit("customer _%", tStr))) })
}

func BenchmarkInList(b *testing.B) {
	rec := benchRecord(b, memory.NewGoAllocator(), benchRows, tI64, func(i int) any { return int64(i % 100) })
	defer rec.Release()
	args := []physical.Expr{col(0, tI64)}
	for i := 0; i < 10; i++ {
		args = append(args, lit(i*3, tI64))
	}
	runBench(b, rec, call("in", tBool, args...))
}
