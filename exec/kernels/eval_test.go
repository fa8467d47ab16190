package kernels

import (
	"math"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

func d152(s string) decimal128.Num { return dec(s, 15, 2) }

var (
	tD152 = physical.Decimal(15, 2)
	tD154 = physical.Decimal(31, 4)
	tD102 = physical.Decimal(10, 2)
	tD52  = physical.Decimal(5, 2)
)

func TestColRefAndLiteral(t *testing.T) {
	runCases(t, []evalCase{
		{name: "colref", cols: []colSpec{cs(tI64, 1, nil, 3)}, e: col(0, tI64), want: []any{1, nil, 3}},
		{name: "literal", cols: []colSpec{cs(tI64, 1, 2)}, e: lit("x", tStr), want: []any{"x", "x"}},
		{name: "null literal", cols: []colSpec{cs(tI64, 1, 2)}, e: lit(nil, tD152), want: []any{nil, nil}},
		{name: "null-typed column", cols: []colSpec{cs(arrow.Null, nil, nil)}, e: call("add", tI64, col(0, tI64), lit(1, tI64)), want: []any{nil, nil}},
	})
}

func TestArithmetic(t *testing.T) {
	i32 := cs(tI32, 7, -7, nil, 0, math.MaxInt32)
	runCases(t, []evalCase{
		{name: "add int32", cols: []colSpec{i32, cs(tI32, 1, 2, 3, nil, -1)}, e: call("add", tI32, col(0, tI32), col(1, tI32)), want: []any{8, -5, nil, nil, math.MaxInt32 - 1}},
		{name: "add int32 overflow", cols: []colSpec{i32}, e: call("add", tI32, col(0, tI32), lit(1, tI32)), code: sqlerr.NumericOutOfRange},
		{name: "add overflow on NULL row is fine", cols: []colSpec{cs(tI64, nil, 1), cs(tI64, int64(math.MaxInt64), 1)}, e: call("add", tI64, col(1, tI64), col(0, tI64)), want: []any{nil, 2}},
		{name: "sub int64 overflow", cols: []colSpec{cs(tI64, int64(math.MinInt64))}, e: call("sub", tI64, col(0, tI64), lit(1, tI64)), code: sqlerr.NumericOutOfRange},
		{name: "scalar minus column", cols: []colSpec{cs(tI64, 1, 2, nil)}, e: call("sub", tI64, lit(10, tI64), col(0, tI64)), want: []any{9, 8, nil}},
		{name: "mul int32 overflow", cols: []colSpec{cs(tI32, 65536)}, e: call("mul", tI32, col(0, tI32), col(0, tI32)), code: sqlerr.NumericOutOfRange},
		{name: "mul int64", cols: []colSpec{cs(tI64, 3, -4, 1<<31, nil)}, e: call("mul", tI64, col(0, tI64), lit(int64(1)<<31, tI64)), want: []any{int64(3) << 31, int64(-4) << 31, int64(1) << 62, nil}},
		{name: "mul int64 overflow", cols: []colSpec{cs(tI64, int64(1)<<32)}, e: call("mul", tI64, col(0, tI64), col(0, tI64)), code: sqlerr.NumericOutOfRange},
		{name: "mul int64 min", cols: []colSpec{cs(tI64, int64(1)<<62)}, e: call("mul", tI64, col(0, tI64), lit(-2, tI64)), want: []any{int64(math.MinInt64)}},
		{name: "div truncates", cols: []colSpec{cs(tI32, 7, -7, 7, -7)}, e: call("div", tI32, col(0, tI32), call("cast", tI32, lit(2, tI64))), want: []any{3, -3, 3, -3}},
		{name: "mod sign of dividend", cols: []colSpec{cs(tI32, 7, -7), cs(tI32, -2, 2)}, e: call("mod", tI32, col(0, tI32), col(1, tI32)), want: []any{1, -1}},
		{name: "div by zero", cols: []colSpec{cs(tI64, 1, 2), cs(tI64, 1, 0)}, e: call("div", tI64, col(0, tI64), col(1, tI64)), code: sqlerr.DivisionByZero},
		{name: "div by zero on NULL row", cols: []colSpec{cs(tI64, 1, nil), cs(tI64, 1, 0)}, e: call("div", tI64, col(0, tI64), col(1, tI64)), want: []any{1, nil}},
		{name: "div by NULL zero", cols: []colSpec{cs(tI64, 1, 5), cs(tI64, 1, nil)}, e: call("div", tI64, col(0, tI64), col(1, tI64)), want: []any{1, nil}},
		{name: "mod by zero", cols: []colSpec{cs(tI32, 1)}, e: call("mod", tI32, col(0, tI32), lit(0, tI32)), code: sqlerr.DivisionByZero},
		{name: "div minint by -1", cols: []colSpec{cs(tI32, math.MinInt32)}, e: call("div", tI32, col(0, tI32), lit(-1, tI32)), code: sqlerr.NumericOutOfRange},
		{name: "float ops", cols: []colSpec{cs(tF64, 1.5, nil, -3.0)}, e: call("div", tF64, call("mul", tF64, col(0, tF64), lit(2.0, tF64)), lit(4.0, tF64)), want: []any{0.75, nil, -1.5}},
		{name: "float div by zero", cols: []colSpec{cs(tF64, 1.5)}, e: call("div", tF64, col(0, tF64), lit(0.0, tF64)), code: sqlerr.DivisionByZero},
		{name: "float mod", cols: []colSpec{cs(tF64, 7.5, -7.5)}, e: call("mod", tF64, col(0, tF64), lit(2.0, tF64)), want: []any{1.5, -1.5}},
		{name: "neg abs", cols: []colSpec{cs(tI64, 5, -5, nil)}, e: call("abs", tI64, call("neg", tI64, col(0, tI64))), want: []any{5, 5, nil}},
		{name: "neg overflow", cols: []colSpec{cs(tI32, math.MinInt32)}, e: call("neg", tI32, col(0, tI32)), code: sqlerr.NumericOutOfRange},
		{name: "abs float dec", cols: []colSpec{cs(tF64, -2.5), cs(tD152, d152("-1.25"))}, e: call("abs", tD152, col(1, tD152)), want: []any{d152("1.25")}},
		{name: "round float", cols: []colSpec{cs(tF64, 2.5, -2.5, 1.2345, nil)}, e: call("round", tF64, col(0, tF64)), want: []any{3.0, -3.0, 1.0, nil}},
		{name: "round float digits", cols: []colSpec{cs(tF64, 1.2345, -1.2355, 1234.5)}, e: call("round", tF64, col(0, tF64), lit(2, tI32)), want: []any{1.23, -1.24, 1234.5}},
		{name: "round float negative digits", cols: []colSpec{cs(tF64, 1250.0, 1249.0)}, e: call("round", tF64, col(0, tF64), lit(-2, tI32)), want: []any{1300.0, 1200.0}},
		{name: "round decimal", cols: []colSpec{cs(physical.Decimal(10, 3), dec("1.245", 10, 3), dec("-1.245", 10, 3), dec("1.244", 10, 3), nil)}, e: call("round", physical.Decimal(10, 3), col(0, physical.Decimal(10, 3)), lit(2, tI32)), want: []any{dec("1.250", 10, 3), dec("-1.250", 10, 3), dec("1.240", 10, 3), nil}},
		{name: "round decimal to int scale", cols: []colSpec{cs(tD152, d152("2.50"), d152("-2.50"), d152("2.49"))}, e: call("round", physical.Decimal(15, 0), col(0, tD152)), want: []any{dec("3", 15, 0), dec("-3", 15, 0), dec("2", 15, 0)}},
	})
}

func TestDecimalArithmetic(t *testing.T) {
	runCases(t, []evalCase{
		{name: "0.1+0.2", cols: []colSpec{cs(physical.Decimal(2, 1), dec("0.1", 2, 1)), cs(physical.Decimal(2, 1), dec("0.2", 2, 1))},
			e: call("add", physical.Decimal(3, 1), col(0, physical.Decimal(2, 1)), col(1, physical.Decimal(2, 1))), want: []any{dec("0.3", 3, 1)}},
		{name: "add rescales", cols: []colSpec{cs(tD152, d152("1.25"), nil), cs(physical.Decimal(10, 0), dec("3", 10, 0), dec("1", 10, 0))},
			e: call("add", physical.Decimal(16, 2), col(0, tD152), col(1, physical.Decimal(10, 0))), want: []any{d152("4.25"), nil}},
		{name: "sub decimal", cols: []colSpec{cs(tD152, d152("1.00"), d152("-5.55"))},
			e: call("sub", tD152, lit(d152("0.01"), tD152), col(0, tD152)), want: []any{d152("-0.99"), d152("5.56")}},
		{name: "extendedprice*(1-discount)", cols: []colSpec{cs(tD152, d152("901.00"), d152("1234.56"), nil), cs(tD152, d152("0.05"), d152("0.10"), d152("0.00"))},
			e:    call("mul", tD154, col(0, tD152), call("sub", tD152, lit(d152("1.00"), tD152), col(1, tD152))),
			want: []any{dec("855.9500", 31, 4), dec("1111.1040", 31, 4), nil}},
		{name: "mul precision overflow", cols: []colSpec{cs(tD52, dec("999.99", 5, 2))},
			e: call("mul", physical.Decimal(5, 4), col(0, tD52), col(0, tD52)), code: sqlerr.NumericOutOfRange},
		{name: "add precision overflow", cols: []colSpec{cs(tD52, dec("999.99", 5, 2))},
			e: call("add", tD52, col(0, tD52), col(0, tD52)), code: sqlerr.NumericOutOfRange},
		{name: "big mul", cols: []colSpec{cs(physical.Decimal(38, 0), dec("12345678901234567890", 38, 0))},
			e: call("mul", physical.Decimal(38, 0), col(0, physical.Decimal(38, 0)), col(0, physical.Decimal(38, 0))), code: sqlerr.NumericOutOfRange},
		{name: "big mul fits", cols: []colSpec{cs(physical.Decimal(38, 0), dec("1234567890123456789", 38, 0))},
			e: call("mul", physical.Decimal(38, 0), col(0, physical.Decimal(38, 0)), col(0, physical.Decimal(38, 0))), want: []any{dec("1524157875323883675019051998750190521", 38, 0)}},
		{name: "decimal div", cols: []colSpec{cs(tD152, d152("10.00"), d152("2.00"))},
			e: call("div", physical.Decimal(20, 4), col(0, tD152), lit(d152("3.00"), tD152)), want: []any{dec("3.3333", 20, 4), dec("0.6667", 20, 4)}},
		{name: "decimal div zero", cols: []colSpec{cs(tD152, d152("10.00"))},
			e: call("div", physical.Decimal(20, 4), col(0, tD152), lit(d152("0"), tD152)), code: sqlerr.DivisionByZero},
		{name: "decimal mod", cols: []colSpec{cs(tD152, d152("10.50"), d152("-10.50"))},
			e: call("mod", tD152, col(0, tD152), lit(d152("3.00"), tD152)), want: []any{d152("1.50"), d152("-1.50")}},
		{name: "add rounds wider arg to T's scale", cols: []colSpec{cs(tD154, dec("1.2345", 31, 4), dec("-1.2350", 31, 4))},
			e: call("add", tD152, col(0, tD154), lit(d152("1.00"), tD152)), want: []any{d152("2.23"), d152("-0.24")}},
		{name: "neg decimal", cols: []colSpec{cs(tD152, d152("10.50"), nil)},
			e: call("neg", tD152, col(0, tD152)), want: []any{d152("-10.50"), nil}},
	})
}

func TestComparisons(t *testing.T) {
	ints := cs(tI64, 1, 2, 3, nil)
	var cases []evalCase
	for _, c := range []struct {
		fn   string
		want []any
		rev  []any // 2 fn col
	}{
		{"eq", []any{false, true, false, nil}, []any{false, true, false, nil}},
		{"ne", []any{true, false, true, nil}, []any{true, false, true, nil}},
		{"lt", []any{true, false, false, nil}, []any{false, false, true, nil}},
		{"le", []any{true, true, false, nil}, []any{false, true, true, nil}},
		{"gt", []any{false, false, true, nil}, []any{true, false, false, nil}},
		{"ge", []any{false, true, true, nil}, []any{true, true, false, nil}},
	} {
		cases = append(cases,
			evalCase{name: c.fn + " int64 scalar", cols: []colSpec{ints}, e: call(c.fn, tBool, col(0, tI64), lit(2, tI64)), want: c.want},
			evalCase{name: c.fn + " int64 scalar left", cols: []colSpec{ints}, e: call(c.fn, tBool, lit(2, tI64), col(0, tI64)), want: c.rev},
			evalCase{name: c.fn + " int64 arrays", cols: []colSpec{ints, cs(tI64, 2, 2, 2, 2)}, e: call(c.fn, tBool, col(0, tI64), col(1, tI64)), want: c.want},
			evalCase{name: c.fn + " int32", cols: []colSpec{cs(tI32, 1, 2, 3, nil)}, e: call(c.fn, tBool, col(0, tI32), lit(2, tI32)), want: c.want},
			evalCase{name: c.fn + " float", cols: []colSpec{cs(tF64, 1.0, 2.0, 3.0, nil)}, e: call(c.fn, tBool, col(0, tF64), lit(2.0, tF64)), want: c.want},
			evalCase{name: c.fn + " string", cols: []colSpec{cs(tStr, "a", "b", "c", nil)}, e: call(c.fn, tBool, col(0, tStr), lit("b", tStr)), want: c.want},
			evalCase{name: c.fn + " string arrays", cols: []colSpec{cs(tStr, "a", "b", "c", nil), cs(tStr, "b", "b", "b", "b")}, e: call(c.fn, tBool, col(0, tStr), col(1, tStr)), want: c.want},
			evalCase{name: c.fn + " decimal", cols: []colSpec{cs(tD152, d152("1"), d152("2"), d152("3"), nil)}, e: call(c.fn, tBool, col(0, tD152), lit(d152("2"), tD152)), want: c.want},
			evalCase{name: c.fn + " decimal scales", cols: []colSpec{cs(tD152, d152("-1"), d152("2"), d152("3"), nil)}, e: call(c.fn, tBool, col(0, tD152), lit(dec("2", 10, 0), physical.Decimal(10, 0))), want: c.want},
			evalCase{name: c.fn + " date", cols: []colSpec{cs(tDate, date("2024-01-01"), date("2024-01-02"), date("2024-01-03"), nil)}, e: call(c.fn, tBool, col(0, tDate), lit(date("2024-01-02"), tDate)), want: c.want},
			evalCase{name: c.fn + " timestamp", cols: []colSpec{cs(tTS, ts("2024-01-01"), ts("2024-01-02"), ts("2024-01-03"), nil)}, e: call(c.fn, tBool, col(0, tTS), lit(ts("2024-01-02"), tTS)), want: c.want},
			evalCase{name: c.fn + " bool", cols: []colSpec{cs(tBool, false, true, true, nil)}, e: call(c.fn, tBool, col(0, tBool), lit(true, tBool)), want: map[string][]any{"eq": {false, true, true, nil}, "ne": {true, false, false, nil}, "lt": {true, false, false, nil}, "le": {true, true, true, nil}, "gt": {false, false, false, nil}, "ge": {false, true, true, nil}}[c.fn]},
		)
	}
	// Longer input exercises the 8-at-a-time loops.
	var long, want []any
	for i := 0; i < 37; i++ {
		long = append(long, int64(i))
		want = append(want, i < 20)
	}
	cases = append(cases, evalCase{name: "long lt", cols: []colSpec{cs(tI64, long...)}, e: call("lt", tBool, col(0, tI64), lit(20, tI64)), want: want})
	cases = append(cases, evalCase{name: "compare with null literal", cols: []colSpec{ints}, e: call("lt", tBool, col(0, tI64), lit(nil, tI64)), want: []any{nil, nil, nil, nil}})
	cases = append(cases, evalCase{name: "interval eq", cols: []colSpec{cs(tIv, arrow.MonthDayNanoInterval{Months: 1}, arrow.MonthDayNanoInterval{Days: 31})}, e: call("eq", tBool, col(0, tIv), lit(arrow.MonthDayNanoInterval{Days: 30}, tIv)), want: []any{true, false}})
	runCases(t, cases)
}

func TestKleene(t *testing.T) {
	// All nine combinations of {true, false, NULL}².
	a := cs(tBool, true, true, true, false, false, false, nil, nil, nil)
	b := cs(tBool, true, false, nil, true, false, nil, true, false, nil)
	runCases(t, []evalCase{
		{name: "and", cols: []colSpec{a, b}, e: call("and", tBool, col(0, tBool), col(1, tBool)), want: []any{true, false, nil, false, false, false, nil, false, nil}},
		{name: "or", cols: []colSpec{a, b}, e: call("or", tBool, col(0, tBool), col(1, tBool)), want: []any{true, true, true, true, false, nil, true, nil, nil}},
		{name: "not", cols: []colSpec{a}, e: call("not", tBool, col(0, tBool)), want: []any{false, false, false, true, true, true, nil, nil, nil}},
		{name: "and null literal", cols: []colSpec{a}, e: call("and", tBool, col(0, tBool), lit(nil, tBool)), want: []any{nil, nil, nil, false, false, false, nil, nil, nil}},
		{name: "or null literal", cols: []colSpec{a}, e: call("or", tBool, lit(nil, tBool), col(0, tBool)), want: []any{true, true, true, nil, nil, nil, nil, nil, nil}},
		{name: "and false literal", cols: []colSpec{a}, e: call("and", tBool, col(0, tBool), lit(false, tBool)), want: []any{false, false, false, false, false, false, false, false, false}},
		{name: "and three", cols: []colSpec{a, b}, e: call("and", tBool, col(0, tBool), col(1, tBool), lit(true, tBool)), want: []any{true, false, nil, false, false, false, nil, false, nil}},
		{name: "is_null", cols: []colSpec{a}, e: call("is_null", tBool, col(0, tBool)), want: []any{false, false, false, false, false, false, true, true, true}},
		{name: "is_not_null", cols: []colSpec{a}, e: call("is_not_null", tBool, col(0, tBool)), want: []any{true, true, true, true, true, true, false, false, false}},
		{name: "is_true", cols: []colSpec{a}, e: call("is_true", tBool, col(0, tBool)), want: []any{true, true, true, false, false, false, false, false, false}},
		{name: "is_false", cols: []colSpec{a}, e: call("is_false", tBool, col(0, tBool)), want: []any{false, false, false, true, true, true, false, false, false}},
		{name: "is_not_true", cols: []colSpec{a}, e: call("is_not_true", tBool, col(0, tBool)), want: []any{false, false, false, true, true, true, true, true, true}},
		{name: "is_not_false", cols: []colSpec{a}, e: call("is_not_false", tBool, col(0, tBool)), want: []any{true, true, true, false, false, false, true, true, true}},
		{name: "is_null int", cols: []colSpec{cs(tI64, 1, nil)}, e: call("is_null", tBool, col(0, tI64)), want: []any{false, true}},
		{name: "is_null literal", cols: []colSpec{cs(tI64, 1, nil)}, e: call("is_null", tBool, lit(nil, tI64)), want: []any{true, true}},
	})
}

func TestInCoalesceNullIf(t *testing.T) {
	x := cs(tI64, 1, 2, 3, nil)
	var many []physical.Expr
	many = append(many, col(0, tI64))
	for i := 10; i < 20; i++ {
		many = append(many, lit(i, tI64))
	}
	many = append(many, lit(3, tI64))
	runCases(t, []evalCase{
		{name: "in", cols: []colSpec{x}, e: call("in", tBool, col(0, tI64), lit(1, tI64), lit(3, tI64)), want: []any{true, false, true, nil}},
		{name: "in with null", cols: []colSpec{x}, e: call("in", tBool, col(0, tI64), lit(1, tI64), lit(nil, tI64)), want: []any{true, nil, nil, nil}},
		{name: "in hash set", cols: []colSpec{x}, e: call("in", tBool, many...), want: []any{false, false, true, nil}},
		{name: "in strings", cols: []colSpec{cs(tStr, "a", "b", nil)}, e: call("in", tBool, col(0, tStr), lit("b", tStr), lit("c", tStr)), want: []any{false, true, nil}},
		{name: "in decimals", cols: []colSpec{cs(tD152, d152("1.5"), d152("2"))}, e: call("in", tBool, col(0, tD152), lit(d152("2"), tD152)), want: []any{false, true}},
		{name: "in columns", cols: []colSpec{x, cs(tI64, 5, 2, nil, 1)}, e: call("in", tBool, col(0, tI64), col(1, tI64), lit(1, tI64)), want: []any{true, true, nil, nil}},
		{name: "in dates", cols: []colSpec{cs(tDate, date("2024-01-01"), date("2024-01-02"))}, e: call("in", tBool, col(0, tDate), lit(date("2024-01-02"), tDate)), want: []any{false, true}},
		{name: "coalesce", cols: []colSpec{cs(tI64, 1, nil, nil), cs(tI64, 5, 6, nil)}, e: call("coalesce", tI64, col(0, tI64), col(1, tI64), lit(0, tI64)), want: []any{1, 6, 0}},
		{name: "coalesce strings", cols: []colSpec{cs(tStr, "a", nil, nil), cs(tStr, "x", "y", nil)}, e: call("coalesce", tStr, col(0, tStr), col(1, tStr)), want: []any{"a", "y", nil}},
		{name: "coalesce no nulls", cols: []colSpec{cs(tI64, 1, 2)}, e: call("coalesce", tI64, col(0, tI64), lit(0, tI64)), want: []any{1, 2}},
		{name: "coalesce bool", cols: []colSpec{cs(tBool, nil, false, nil)}, e: call("coalesce", tBool, col(0, tBool), lit(true, tBool)), want: []any{true, false, true}},
		{name: "nullif", cols: []colSpec{cs(tI64, 1, 2, nil)}, e: call("nullif", tI64, col(0, tI64), lit(2, tI64)), want: []any{1, nil, nil}},
		{name: "nullif null", cols: []colSpec{cs(tI64, 1, 2, nil)}, e: call("nullif", tI64, col(0, tI64), lit(nil, tI64)), want: []any{1, 2, nil}},
		{name: "nullif strings", cols: []colSpec{cs(tStr, "", "a")}, e: call("nullif", tStr, col(0, tStr), lit("", tStr)), want: []any{nil, "a"}},
	})
}

func TestCase(t *testing.T) {
	a := cs(tI64, 10, 20, 30, nil, 50)
	b := cs(tI64, 2, 0, 3, 1, 0)
	runCases(t, []evalCase{
		{name: "no division by zero", cols: []colSpec{a, b}, e: &physical.Case{
			Whens: []physical.Expr{call("ne", tBool, col(1, tI64), lit(0, tI64))},
			Thens: []physical.Expr{call("div", tI64, col(0, tI64), col(1, tI64))},
			Else:  lit(nil, tI64), T: tI64}, want: []any{5, nil, 10, nil, nil}},
		{name: "multi branch", cols: []colSpec{a}, e: &physical.Case{
			Whens: []physical.Expr{call("lt", tBool, col(0, tI64), lit(15, tI64)), call("lt", tBool, col(0, tI64), lit(35, tI64))},
			Thens: []physical.Expr{lit("small", tStr), call("cast", tStr, col(0, tI64))},
			Else:  lit("big", tStr), T: tStr}, want: []any{"small", "20", "30", "big", "big"}},
		{name: "all one branch", cols: []colSpec{a}, e: &physical.Case{
			Whens: []physical.Expr{lit(true, tBool)},
			Thens: []physical.Expr{col(0, tI64)},
			Else:  lit(nil, tI64), T: tI64}, want: []any{10, 20, 30, nil, 50}},
		{name: "nested case", cols: []colSpec{a, b}, e: &physical.Case{
			Whens: []physical.Expr{call("gt", tBool, col(0, tI64), lit(15, tI64))},
			Thens: []physical.Expr{&physical.Case{
				Whens: []physical.Expr{call("ne", tBool, col(1, tI64), lit(0, tI64))},
				Thens: []physical.Expr{call("div", tI64, col(0, tI64), col(1, tI64))},
				Else:  lit(-1, tI64), T: tI64}},
			Else: lit(0, tI64), T: tI64}, want: []any{0, -1, 10, 0, -1}},
		{name: "bool result", cols: []colSpec{a}, e: &physical.Case{
			Whens: []physical.Expr{call("is_null", tBool, col(0, tI64))},
			Thens: []physical.Expr{lit(nil, tBool)},
			Else:  call("gt", tBool, col(0, tI64), lit(25, tI64)), T: tBool}, want: []any{false, false, true, nil, true}},
		{name: "date float interval results", cols: []colSpec{cs(tDate, date("2024-01-01"), nil, date("2024-01-03"))}, e: call("concat", tStr,
			call("cast", tStr, &physical.Case{Whens: []physical.Expr{call("is_null", tBool, col(0, tDate))}, Thens: []physical.Expr{lit(date("1999-01-01"), tDate)}, Else: col(0, tDate), T: tDate}),
			call("cast", tStr, &physical.Case{Whens: []physical.Expr{call("is_null", tBool, col(0, tDate))}, Thens: []physical.Expr{lit(1.5, tF64)}, Else: lit(nil, tF64), T: tF64}),
			call("cast", tStr, &physical.Case{Whens: []physical.Expr{call("gt", tBool, col(0, tDate), lit(date("2024-01-02"), tDate))}, Thens: []physical.Expr{lit(arrow.MonthDayNanoInterval{Days: 1}, tIv)}, Else: lit(nil, tIv), T: tIv}),
			call("cast", tStr, &physical.Case{Whens: []physical.Expr{call("is_null", tBool, col(0, tDate))}, Thens: []physical.Expr{lit(ts("2000-01-01 10:00:00"), tTS)}, Else: call("cast", tTS, col(0, tDate)), T: tTS}),
		), want: []any{"2024-01-012024-01-01 00:00:00", "1999-01-011.52000-01-01 10:00:00", "2024-01-031 day2024-01-03 00:00:00"}},
		{name: "decimal result", cols: []colSpec{cs(tD152, d152("1.50"), nil)}, e: &physical.Case{
			Whens: []physical.Expr{call("is_not_null", tBool, col(0, tD152))},
			Thens: []physical.Expr{col(0, tD152)},
			Else:  lit(d152("0"), tD152), T: tD152}, want: []any{d152("1.50"), d152("0")}},
	})
}

func TestStrings(t *testing.T) {
	s := cs(tStr, "hello", "Wörld", nil, "")
	runCases(t, []evalCase{
		{name: "substring", cols: []colSpec{s}, e: call("substring", tStr, col(0, tStr), lit(2, tI64), lit(3, tI64)), want: []any{"ell", "örl", nil, ""}},
		{name: "substring no len", cols: []colSpec{s}, e: call("substring", tStr, col(0, tStr), lit(3, tI32)), want: []any{"llo", "rld", nil, ""}},
		{name: "substring start 0", cols: []colSpec{cs(tStr, "abc")}, e: call("substring", tStr, col(0, tStr), lit(0, tI64), lit(2, tI64)), want: []any{"a"}},
		{name: "substring start -5", cols: []colSpec{cs(tStr, "abc")}, e: call("substring", tStr, col(0, tStr), lit(-5, tI64), lit(7, tI64)), want: []any{"a"}},
		{name: "substring past end", cols: []colSpec{cs(tStr, "abc")}, e: call("substring", tStr, col(0, tStr), lit(5, tI64)), want: []any{""}},
		{name: "substring negative length", cols: []colSpec{cs(tStr, "abc")}, e: call("substring", tStr, col(0, tStr), lit(1, tI64), lit(-1, tI64)), code: "22011"},
		{name: "upper", cols: []colSpec{s}, e: call("upper", tStr, col(0, tStr)), want: []any{"HELLO", "WÖRLD", nil, ""}},
		{name: "lower", cols: []colSpec{s}, e: call("lower", tStr, col(0, tStr)), want: []any{"hello", "wörld", nil, ""}},
		{name: "length", cols: []colSpec{s}, e: call("length", tI32, col(0, tStr)), want: []any{5, 5, nil, 0}},
		{name: "length as bigint", cols: []colSpec{s}, e: call("length", tI64, col(0, tStr)), want: []any{5, 5, nil, 0}},
		{name: "trim", cols: []colSpec{cs(tStr, "  a b  ", nil)}, e: call("trim", tStr, col(0, tStr)), want: []any{"a b", nil}},
		{name: "ltrim", cols: []colSpec{cs(tStr, "  a b  ")}, e: call("ltrim", tStr, col(0, tStr)), want: []any{"a b  "}},
		{name: "rtrim chars", cols: []colSpec{cs(tStr, "xxaxyx")}, e: call("rtrim", tStr, col(0, tStr), lit("xy", tStr)), want: []any{"xxa"}},
		{name: "trim chars", cols: []colSpec{cs(tStr, "xxaxyx")}, e: call("trim", tStr, col(0, tStr), lit("x", tStr)), want: []any{"axy"}},
		{name: "concat skips nulls", cols: []colSpec{s, cs(tStr, "!", nil, "?", nil)}, e: call("concat", tStr, col(0, tStr), lit("-", tStr), col(1, tStr)), want: []any{"hello-!", "Wörld-", "-?", "-"}},
		{name: "concat_op", cols: []colSpec{s, cs(tStr, "!", nil, "?", "x")}, e: call("concat_op", tStr, col(0, tStr), col(1, tStr)), want: []any{"hello!", nil, nil, "x"}},
		{name: "concat_op null literal", cols: []colSpec{s}, e: call("concat_op", tStr, col(0, tStr), lit(nil, tStr)), want: []any{nil, nil, nil, nil}},
		{name: "regexp_like", cols: []colSpec{s}, e: call("regexp_like", tBool, col(0, tStr), lit("l+o$", tStr)), want: []any{true, false, nil, false}},
		{name: "regexp_like bad", cols: []colSpec{s}, e: call("regexp_like", tBool, col(0, tStr), lit("(", tStr)), code: "2201B"},
		{name: "constant folding", cols: []colSpec{s}, e: call("upper", tStr, lit("abc", tStr)), want: []any{"ABC", "ABC", "ABC", "ABC"}},
	})
}

func TestLike(t *testing.T) {
	strs := []any{"abc", "abcabc", "xabcx", "ab", "a_c", "a%c", `a\c`, "", "ABC", nil}
	s := cs(tStr, strs...)
	like := func(p string) physical.Expr { return call("like", tBool, col(0, tStr), lit(p, tStr)) }
	runCases(t, []evalCase{
		{name: "exact", cols: []colSpec{s}, e: like("abc"), want: []any{true, false, false, false, false, false, false, false, false, nil}},
		{name: "prefix", cols: []colSpec{s}, e: like("ab%"), want: []any{true, true, false, true, false, false, false, false, false, nil}},
		{name: "suffix", cols: []colSpec{s}, e: like("%bc"), want: []any{true, true, false, false, false, false, false, false, false, nil}},
		{name: "infix", cols: []colSpec{s}, e: like("%bc%"), want: []any{true, true, true, false, false, false, false, false, false, nil}},
		{name: "general", cols: []colSpec{s}, e: like("a%b%c"), want: []any{true, true, false, false, false, false, false, false, false, nil}},
		{name: "overlap", cols: []colSpec{s}, e: like("abc%abc"), want: []any{false, true, false, false, false, false, false, false, false, nil}},
		{name: "underscore", cols: []colSpec{s}, e: like("a_c"), want: []any{true, false, false, false, true, true, true, false, false, nil}},
		{name: "underscore percent", cols: []colSpec{s}, e: like("_b%"), want: []any{true, true, false, true, false, false, false, false, false, nil}},
		{name: "escaped underscore", cols: []colSpec{s}, e: like(`a\_c`), want: []any{false, false, false, false, true, false, false, false, false, nil}},
		{name: "escaped percent", cols: []colSpec{s}, e: like(`a\%c`), want: []any{false, false, false, false, false, true, false, false, false, nil}},
		{name: "escaped backslash", cols: []colSpec{s}, e: like(`a\\c`), want: []any{false, false, false, false, false, false, true, false, false, nil}},
		{name: "custom escape", cols: []colSpec{s}, e: call("like", tBool, col(0, tStr), lit("a#%c", tStr), lit("#", tStr)), want: []any{false, false, false, false, false, true, false, false, false, nil}},
		{name: "no escape", cols: []colSpec{s}, e: call("like", tBool, col(0, tStr), lit(`a\c`, tStr), lit("", tStr)), want: []any{false, false, false, false, false, false, true, false, false, nil}},
		{name: "percent only", cols: []colSpec{s}, e: like("%"), want: []any{true, true, true, true, true, true, true, true, true, nil}},
		{name: "empty", cols: []colSpec{s}, e: like(""), want: []any{false, false, false, false, false, false, false, true, false, nil}},
		{name: "regex chars literal", cols: []colSpec{cs(tStr, "a.c", "abc")}, e: like("a.c"), want: []any{true, false}},
		{name: "regex chars with _", cols: []colSpec{cs(tStr, "a.c(", "abc(")}, e: like("a.c_"), want: []any{true, false}},
		{name: "ilike", cols: []colSpec{s}, e: call("ilike", tBool, col(0, tStr), lit("aB%", tStr)), want: []any{true, true, false, true, false, false, false, false, true, nil}},
		{name: "ilike underscore", cols: []colSpec{s}, e: call("ilike", tBool, col(0, tStr), lit("A_C", tStr)), want: []any{true, false, false, false, true, true, true, false, true, nil}},
		{name: "trailing escape", cols: []colSpec{s}, e: like(`ab\`), code: "22025"},
		{name: "pattern column", cols: []colSpec{cs(tStr, "abc", "abc", "abc"), cs(tStr, "a%", "b%", nil)}, e: call("like", tBool, col(0, tStr), col(1, tStr)), want: []any{true, false, nil}},
		{name: "multibyte underscore", cols: []colSpec{cs(tStr, "aöc")}, e: like("a_c"), want: []any{true}},
		{name: "tpch", cols: []colSpec{cs(tStr, "foo special bar requests", "requests special")}, e: like("%special%requests%"), want: []any{true, false}},
	})
}

func TestCast(t *testing.T) {
	cast := func(e physical.Expr, to arrow.DataType) physical.Expr { return call("cast", to, e) }
	runCases(t, []evalCase{
		{name: "int32->int64", cols: []colSpec{cs(tI32, 1, nil)}, e: cast(col(0, tI32), tI64), want: []any{1, nil}},
		{name: "int64->int32 overflow", cols: []colSpec{cs(tI64, int64(1)<<40)}, e: cast(col(0, tI64), tI32), code: sqlerr.NumericOutOfRange},
		{name: "int64->int32 overflow on NULL", cols: []colSpec{cs(tI64, 5, nil)}, e: cast(col(0, tI64), tI32), want: []any{5, nil}},
		{name: "float->int half even", cols: []colSpec{cs(tF64, 2.5, 3.5, -2.5, 2.6, nil)}, e: cast(col(0, tF64), tI32), want: []any{2, 4, -2, 3, nil}},
		{name: "float->int overflow", cols: []colSpec{cs(tF64, 1e10)}, e: cast(col(0, tF64), tI32), code: sqlerr.NumericOutOfRange},
		{name: "float->bigint NaN", cols: []colSpec{cs(tF64, math.NaN())}, e: cast(col(0, tF64), tI64), code: sqlerr.NumericOutOfRange},
		{name: "int->float", cols: []colSpec{cs(tI64, 3)}, e: cast(col(0, tI64), tF64), want: []any{3.0}},
		{name: "int->decimal", cols: []colSpec{cs(tI32, 3, -4)}, e: cast(col(0, tI32), tD152), want: []any{d152("3"), d152("-4")}},
		{name: "int->decimal overflow", cols: []colSpec{cs(tI32, 1000)}, e: cast(col(0, tI32), tD52), code: sqlerr.NumericOutOfRange},
		{name: "decimal->int rounds half away", cols: []colSpec{cs(tD152, d152("2.50"), d152("-2.50"), d152("2.49"))}, e: cast(col(0, tD152), tI64), want: []any{3, -3, 2}},
		{name: "decimal->int32 overflow", cols: []colSpec{cs(tD152, d152("3000000000"))}, e: cast(col(0, tD152), tI32), code: sqlerr.NumericOutOfRange},
		{name: "decimal->float", cols: []colSpec{cs(tD152, d152("0.10"), d152("-12.34"))}, e: cast(col(0, tD152), tF64), want: []any{0.1, -12.34}},
		{name: "float->decimal", cols: []colSpec{cs(tF64, 0.1, 1.005, -2.675, 1e20)}, e: cast(col(0, tF64), physical.Decimal(38, 2)), want: []any{dec("0.10", 38, 2), dec("1.01", 38, 2), dec("-2.68", 38, 2), dec("100000000000000000000", 38, 2)}},
		{name: "decimal rescale down", cols: []colSpec{cs(tD154, dec("1.2345", 31, 4), dec("-1.2350", 31, 4))}, e: cast(col(0, tD154), tD102), want: []any{dec("1.23", 10, 2), dec("-1.24", 10, 2)}},
		{name: "decimal rescale up", cols: []colSpec{cs(tD102, dec("1.23", 10, 2))}, e: cast(col(0, tD102), tD154), want: []any{dec("1.2300", 31, 4)}},
		{name: "decimal precision overflow", cols: []colSpec{cs(tD152, d152("1000.00"))}, e: cast(col(0, tD152), tD52), code: sqlerr.NumericOutOfRange},
		{name: "bool->int", cols: []colSpec{cs(tBool, true, false, nil)}, e: cast(col(0, tBool), tI32), want: []any{1, 0, nil}},
		{name: "int->bool", cols: []colSpec{cs(tI32, 5, 0, nil)}, e: cast(col(0, tI32), tBool), want: []any{true, false, nil}},
		{name: "date->timestamp", cols: []colSpec{cs(tDate, date("2024-03-01"))}, e: cast(col(0, tDate), tTS), want: []any{ts("2024-03-01 00:00:00")}},
		{name: "timestamp->date", cols: []colSpec{cs(tTS, ts("1969-12-31 23:00:00"), ts("2024-03-01 12:00:00"))}, e: cast(col(0, tTS), tDate), want: []any{date("1969-12-31"), date("2024-03-01")}},
		{name: "to string", cols: []colSpec{cs(tI64, -42, nil), cs(tF64, 0.1, 1e21), cs(tD152, d152("-0.05"), d152("12")), cs(tDate, date("2024-02-29"), date("0900-01-01")), cs(tTS, ts("2024-02-29 01:02:03.5"), ts("2024-02-29")), cs(tBool, true, false)},
			e:    call("concat", tStr, cast(col(0, tI64), tStr), lit("|", tStr), cast(col(1, tF64), tStr), lit("|", tStr), cast(col(2, tD152), tStr), lit("|", tStr), cast(col(3, tDate), tStr), lit("|", tStr), cast(col(4, tTS), tStr), lit("|", tStr), cast(col(5, tBool), tStr)),
			want: []any{"-42|0.1|-0.05|2024-02-29|2024-02-29 01:02:03.5|true", "|1e+21|12.00|0900-01-01|2024-02-29 00:00:00|false"}},
		{name: "string->int", cols: []colSpec{cs(tStr, " 42 ", "-7", "+3", nil)}, e: cast(col(0, tStr), tI32), want: []any{42, -7, 3, nil}},
		{name: "string->int bad", cols: []colSpec{cs(tStr, "abc")}, e: cast(col(0, tStr), tI32), code: sqlerr.InvalidTextRep},
		{name: "string->int range", cols: []colSpec{cs(tStr, "3000000000")}, e: cast(col(0, tStr), tI32), code: sqlerr.NumericOutOfRange},
		{name: "string->bigint", cols: []colSpec{cs(tStr, "3000000000")}, e: cast(col(0, tStr), tI64), want: []any{3000000000}},
		{name: "string->float", cols: []colSpec{cs(tStr, "1.5", " -2e3 ", "Infinity")}, e: cast(col(0, tStr), tF64), want: []any{1.5, -2000.0, math.Inf(1)}},
		{name: "string->float bad", cols: []colSpec{cs(tStr, "1.5x")}, e: cast(col(0, tStr), tF64), code: sqlerr.InvalidTextRep},
		{name: "string->decimal", cols: []colSpec{cs(tStr, "1.235", "-0.005", " 12 ", "1e2", ".5")}, e: cast(col(0, tStr), tD102), want: []any{dec("1.24", 10, 2), dec("-0.01", 10, 2), dec("12", 10, 2), dec("100", 10, 2), dec("0.5", 10, 2)}},
		{name: "string->decimal bad", cols: []colSpec{cs(tStr, "1.2.3")}, e: cast(col(0, tStr), tD102), code: sqlerr.InvalidTextRep},
		{name: "string->decimal overflow", cols: []colSpec{cs(tStr, "123456789012")}, e: cast(col(0, tStr), tD102), code: sqlerr.NumericOutOfRange},
		{name: "string->bool", cols: []colSpec{cs(tStr, "true", "F", " yes ", "no", "1", "0", "On", nil)}, e: cast(col(0, tStr), tBool), want: []any{true, false, true, false, true, false, true, nil}},
		{name: "string->bool bad", cols: []colSpec{cs(tStr, "maybe")}, e: cast(col(0, tStr), tBool), code: sqlerr.InvalidTextRep},
		{name: "string->date", cols: []colSpec{cs(tStr, "2024-02-29", "1970-01-01", "1969-12-31")}, e: cast(col(0, tStr), tDate), want: []any{arrow.Date32(19782), arrow.Date32(0), arrow.Date32(-1)}},
		{name: "string->date bad", cols: []colSpec{cs(tStr, "2024/02/29")}, e: cast(col(0, tStr), tDate), code: sqlerr.InvalidDatetimeFormat},
		{name: "string->date out of range", cols: []colSpec{cs(tStr, "2023-02-29")}, e: cast(col(0, tStr), tDate), code: sqlerr.DatetimeOverflow},
		{name: "string->timestamp", cols: []colSpec{cs(tStr, "2024-01-02", "2024-01-02 03:04:05", "2024-01-02 03:04:05.123456", "1970-01-01T00:00:01.5")}, e: cast(col(0, tStr), tTS),
			want: []any{arrow.Timestamp(1704153600000000), arrow.Timestamp(1704153600000000 + 11045000000), arrow.Timestamp(1704153600000000 + 11045123456), arrow.Timestamp(1500000)}},
		{name: "string->timestamp bad", cols: []colSpec{cs(tStr, "2024-01-02 3pm")}, e: cast(col(0, tStr), tTS), code: sqlerr.InvalidDatetimeFormat},
		{name: "string->interval", cols: []colSpec{cs(tStr, "1 year 2 months", "3 days 04:00:00", "1 day ago")}, e: cast(col(0, tStr), tIv),
			want: []any{arrow.MonthDayNanoInterval{Months: 14}, arrow.MonthDayNanoInterval{Days: 3, Nanoseconds: 4 * 3600e9}, arrow.MonthDayNanoInterval{Days: -1}}},
		{name: "bad cast on NULL row", cols: []colSpec{cs(tStr, "1", nil)}, e: cast(col(0, tStr), tI32), want: []any{1, nil}},
		{name: "bool->float,decimal", cols: []colSpec{cs(tBool, true, false, nil)}, e: call("add", tF64, cast(col(0, tBool), tF64), cast(cast(col(0, tBool), tD152), tF64)), want: []any{2.0, 0.0, nil}},
		{name: "float specials->string", cols: []colSpec{cs(tF64, math.Inf(1), math.Inf(-1), math.NaN(), -0.5)}, e: cast(col(0, tF64), tStr), want: []any{"Infinity", "-Infinity", "NaN", "-0.5"}},
		{name: "interval->string", cols: []colSpec{cs(tIv, arrow.MonthDayNanoInterval{Months: 1, Days: 2, Nanoseconds: 3})}, e: cast(col(0, tIv), tStr), want: []any{"1 mon 2 days"}},
		{name: "null cast", cols: []colSpec{cs(tI32, 1)}, e: cast(lit(nil, tStr), tI32), want: []any{nil}},
		{name: "same type", cols: []colSpec{cs(tI32, 1)}, e: cast(col(0, tI32), tI32), want: []any{1}},
	})
}

func TestDates(t *testing.T) {
	iv := func(m, d int32, ns int64) arrow.MonthDayNanoInterval {
		return arrow.MonthDayNanoInterval{Months: m, Days: d, Nanoseconds: ns}
	}
	dates := cs(tDate, date("2024-01-31"), date("2023-01-31"), date("2024-03-31"), nil, date("2024-12-15"))
	runCases(t, []evalCase{
		{name: "date + 1 month clamps", cols: []colSpec{dates}, e: call("add", tDate, col(0, tDate), lit(iv(1, 0, 0), tIv)),
			want: []any{date("2024-02-29"), date("2023-02-28"), date("2024-04-30"), nil, date("2025-01-15")}},
		{name: "date - 1 month", cols: []colSpec{dates}, e: call("sub", tDate, col(0, tDate), lit(iv(1, 0, 0), tIv)),
			want: []any{date("2023-12-31"), date("2022-12-31"), date("2024-02-29"), nil, date("2024-11-15")}},
		{name: "date + days", cols: []colSpec{dates}, e: call("add", tDate, col(0, tDate), lit(iv(0, 1, 0), tIv)),
			want: []any{date("2024-02-01"), date("2023-02-01"), date("2024-04-01"), nil, date("2024-12-16")}},
		{name: "interval + date", cols: []colSpec{dates}, e: call("add", tDate, lit(iv(12, 0, 0), tIv), col(0, tDate)),
			want: []any{date("2025-01-31"), date("2024-01-31"), date("2025-03-31"), nil, date("2025-12-15")}},
		{name: "date + hours → timestamp", cols: []colSpec{dates}, e: call("add", tTS, col(0, tDate), lit(iv(0, 0, 3600e9), tIv)),
			want: []any{ts("2024-01-31 01:00:00"), ts("2023-01-31 01:00:00"), ts("2024-03-31 01:00:00"), nil, ts("2024-12-15 01:00:00")}},
		{name: "timestamp + interval", cols: []colSpec{cs(tTS, ts("2024-01-31 10:30:00"), ts("1969-12-31 23:00:00"))}, e: call("add", tTS, col(0, tTS), lit(iv(1, 1, 90*60e9), tIv)),
			want: []any{ts("2024-03-01 12:00:00"), ts("1970-02-02 00:30:00")}},
		{name: "date - date", cols: []colSpec{dates}, e: call("sub", tI32, col(0, tDate), lit(date("2024-01-01"), tDate)), want: []any{30, -335, 90, nil, 349}},
		{name: "date col + interval col", cols: []colSpec{cs(tDate, date("2024-01-31")), cs(tIv, iv(1, 0, 0))}, e: call("add", tDate, col(0, tDate), col(1, tIv)), want: []any{date("2024-02-29")}},
	})
	ex := func(f string, e physical.Expr) physical.Expr { return call("extract", tI64, lit(f, tStr), e) }
	tsc := cs(tTS, ts("2024-02-29 13:45:56.789"), ts("1969-12-31 23:59:59"), ts("2021-01-03 00:00:00"), nil)
	dc := cs(tDate, date("2024-02-29"), date("1969-12-31"), date("2021-01-03"), nil)
	runCases(t, []evalCase{
		{name: "year", cols: []colSpec{tsc}, e: ex("year", col(0, tTS)), want: []any{2024, 1969, 2021, nil}},
		{name: "quarter", cols: []colSpec{tsc}, e: ex("quarter", col(0, tTS)), want: []any{1, 4, 1, nil}},
		{name: "month", cols: []colSpec{dc}, e: ex("month", col(0, tDate)), want: []any{2, 12, 1, nil}},
		{name: "day", cols: []colSpec{dc}, e: ex("day", col(0, tDate)), want: []any{29, 31, 3, nil}},
		{name: "hour", cols: []colSpec{tsc}, e: ex("hour", col(0, tTS)), want: []any{13, 23, 0, nil}},
		{name: "minute", cols: []colSpec{tsc}, e: ex("minute", col(0, tTS)), want: []any{45, 59, 0, nil}},
		{name: "second", cols: []colSpec{tsc}, e: ex("SECOND", col(0, tTS)), want: []any{56, 59, 0, nil}},
		{name: "dow", cols: []colSpec{dc}, e: ex("dow", col(0, tDate)), want: []any{4, 3, 0, nil}},
		{name: "doy", cols: []colSpec{dc}, e: ex("doy", col(0, tDate)), want: []any{60, 365, 3, nil}},
		{name: "week", cols: []colSpec{dc}, e: ex("week", col(0, tDate)), want: []any{9, 1, 53, nil}},
		{name: "epoch", cols: []colSpec{tsc}, e: ex("epoch", col(0, tTS)), want: []any{1709214356, -1, 1609632000, nil}},
		{name: "epoch date", cols: []colSpec{dc}, e: ex("epoch", col(0, tDate)), want: []any{1709164800, -86400, 1609632000, nil}},
		{name: "bad field", cols: []colSpec{dc}, e: ex("fortnight", col(0, tDate)), code: sqlerr.InvalidParameterValue},
	})
}
