package exec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

var allJoinTypes = []physical.JoinType{
	physical.InnerJoin, physical.LeftJoin, physical.RightJoin, physical.FullJoin,
	physical.SemiJoin, physical.AntiJoin, physical.NullAwareAntiJoin, physical.MarkJoin,
}

// joinSchema is the output schema of a join of the given type.
func joinSchema(typ physical.JoinType, l, r *arrow.Schema) *arrow.Schema {
	var fs []arrow.Field
	for _, x := range l.Fields() {
		fs = append(fs, f("l_"+x.Name, x.Type))
	}
	switch typ {
	case physical.InnerJoin, physical.LeftJoin, physical.RightJoin, physical.FullJoin:
		for _, x := range r.Fields() {
			fs = append(fs, f("r_"+x.Name, x.Type))
		}
	case physical.MarkJoin:
		fs = append(fs, f("mark", bln))
	}
	return fields(fs...)
}

func hashJoinNode(typ physical.JoinType, l, r physical.Node, lk, rk []physical.Expr, resid physical.Expr) *physical.HashJoin {
	return &physical.HashJoin{
		Base: base(joinSchema(typ, l.Schema(), r.Schema())), Left: l, Right: r, Type: typ,
		LeftKeys: lk, RightKeys: rk, Residual: resid,
	}
}

// rowsToRecords builds batches of at most per rows from row-major values.
func rowsToRecords(t testing.TB, mem memory.Allocator, schema *arrow.Schema, rows [][]any, per int) []arrow.Record {
	var out []arrow.Record
	for start := 0; start < len(rows); start += per {
		end := min(start+per, len(rows))
		cols := make([]any, schema.NumFields())
		for c := range cols {
			vals := make([]any, 0, end-start)
			for _, r := range rows[start:end] {
				vals = append(vals, r[c])
			}
			cols[c] = vals
		}
		out = append(out, record(t, mem, schema, cols...))
	}
	return out
}

func fmtVal(v any) string { return fmtTyped(v, nil) }

// fmtTyped renders a test value of column type t as cell does.
func fmtTyped(v any, t arrow.DataType) string {
	if v == nil {
		return "NULL"
	}
	switch t := t.(type) {
	case *arrow.Date32Type:
		return arrow.Date32(v.(int)).FormattedString()
	case *arrow.TimestampType:
		return physical.FormatTimestamp(arrow.Timestamp(v.(int)))
	case *arrow.Decimal128Type:
		return physical.FormatDecimal(decimal128.FromI64(int64(v.(int))), t.Scale)
	}
	switch v := v.(type) {
	case int:
		return strconv.Itoa(v)
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return physical.FormatFloat(v)
	}
	return fmt.Sprint(v)
}

func keyEq(a, b any, nullsEqual bool) bool {
	if a == nil || b == nil {
		return nullsEqual && a == nil && b == nil
	}
	if x, ok := a.(float64); ok {
		y := b.(float64)
		return x == y || (x != x && y != y)
	}
	return a == b
}

// refSpec describes a join for refJoin; resid, if set, says whether a
// pair's residual is true.
type refSpec struct {
	typ        physical.JoinType
	lk, rk     []int
	resid      func(l, r []any) bool
	nullsEqual bool
	markNA     bool
}

// refJoin computes a join of row-major inputs the slow way.
func refJoin(s refSpec, left, right [][]any, ls, rs *arrow.Schema) [][]string {
	var out [][]string
	both := s.typ == physical.InnerJoin || s.typ == physical.LeftJoin || s.typ == physical.RightJoin || s.typ == physical.FullJoin
	row := func(l, r []any, extra ...string) []string {
		var x []string
		for i := 0; i < ls.NumFields(); i++ {
			var v any
			if l != nil {
				v = l[i]
			}
			x = append(x, fmtTyped(v, ls.Field(i).Type))
		}
		if both {
			for i := 0; i < rs.NumFields(); i++ {
				var v any
				if r != nil {
					v = r[i]
				}
				x = append(x, fmtTyped(v, rs.Field(i).Type))
			}
		}
		return append(x, extra...)
	}
	match := func(l, r []any) bool {
		for i := range s.lk {
			if !keyEq(l[s.lk[i]], r[s.rk[i]], s.nullsEqual) {
				return false
			}
		}
		return s.resid == nil || s.resid(l, r)
	}
	rightMatched := make([]bool, len(right))
	rightNull := false
	for _, r := range right {
		for _, k := range s.rk {
			if r[k] == nil {
				rightNull = true
			}
		}
	}
	for _, l := range left {
		matched := false
		for j, r := range right {
			if match(l, r) {
				matched = true
				rightMatched[j] = true
				if both {
					out = append(out, row(l, r))
				}
			}
		}
		leftNull := false
		for _, k := range s.lk {
			if l[k] == nil {
				leftNull = true
			}
		}
		switch s.typ {
		case physical.LeftJoin, physical.FullJoin:
			if !matched {
				out = append(out, row(l, nil))
			}
		case physical.SemiJoin:
			if matched {
				out = append(out, row(l, nil))
			}
		case physical.AntiJoin:
			if !matched {
				out = append(out, row(l, nil))
			}
		case physical.NullAwareAntiJoin:
			if len(right) == 0 || (!rightNull && !leftNull && !matched) {
				out = append(out, row(l, nil))
			}
		case physical.MarkJoin:
			m := "false"
			switch {
			case matched:
				m = "true"
			case s.markNA && len(right) > 0 && (leftNull || rightNull):
				m = "NULL"
			}
			out = append(out, row(l, nil, m))
		}
	}
	if s.typ == physical.RightJoin || s.typ == physical.FullJoin {
		for j, r := range right {
			if !rightMatched[j] {
				out = append(out, row(nil, r))
			}
		}
	}
	return out
}

func sortRows(rows [][]string) [][]string {
	sort.Slice(rows, func(i, j int) bool { return strings.Join(rows[i], "|") < strings.Join(rows[j], "|") })
	return rows
}

// runJoin builds and drains a join over Values inputs with a checked
// allocator, checking that no batch exceeds batchRows and nothing leaks.
func runJoin(t *testing.T, s refSpec, lschema, rschema *arrow.Schema, left, right [][]any, per int, resid physical.Expr) [][]string {
	t.Helper()
	got, _ := runJoinSide(t, s, lschema, rschema, left, right, per, resid)
	return got
}

var (
	jlSchema = fields(f("k", i64), f("s", str), f("v", i32))
	jrSchema = fields(f("k", i64), f("s", str), f("w", i32))
)

// Left and right rows with NULL keys and duplicates on both sides.
var (
	jLeft = [][]any{
		{1, "a", 10}, {2, "b", 20}, {2, "b", 21}, {3, "c", 30}, {nil, "a", 40},
		{4, nil, 50}, {nil, nil, 60}, {5, "e", nil}, {1, "x", 70},
	}
	jRight = [][]any{
		{1, "a", 5}, {1, "a", 15}, {2, "b", 25}, {2, "z", 1}, {nil, "a", 35},
		{4, nil, 45}, {nil, nil, 55}, {6, "f", 65}, {5, "e", 100},
	}
)

func ltVW(l, r []any) bool {
	if l[2] == nil || r[2] == nil {
		return false
	}
	return l[2].(int) < r[2].(int)
}

func TestHashJoinTypes(t *testing.T) {
	residLT := &physical.Call{Fn: physical.FnLt, Args: []physical.Expr{col(2, i32), col(5, i32)}, T: bln}
	residRight := &physical.Call{Fn: physical.FnGt, Args: []physical.Expr{col(5, i32), &physical.Literal{Value: int32(10), T: i32}}, T: bln}
	keys := []struct {
		name   string
		lk, rk []int
	}{
		{"int64", []int{0}, []int{0}},
		{"string", []int{1}, []int{1}},
		{"multi", []int{0, 1}, []int{0, 1}},
		{"int32", []int{2}, []int{2}},
		{"cross", nil, nil},
	}
	resids := []struct {
		name string
		e    physical.Expr
		fn   func(l, r []any) bool
	}{
		{"none", nil, nil},
		{"both-sides", residLT, ltVW},
		{"right-only", residRight, func(l, r []any) bool { return r[2] != nil && r[2].(int) > 10 }},
	}
	inputs := []struct {
		name        string
		left, right [][]any
	}{
		{"data", jLeft, jRight},
		{"empty-build", jLeft, nil},
		{"empty-probe", nil, jRight},
		{"both-empty", nil, nil},
	}
	for _, typ := range allJoinTypes {
		for _, k := range keys {
			for _, rs := range resids {
				for _, in := range inputs {
					for _, ne := range []bool{false, true} {
						for _, per := range []int{1, 4, 100} {
							if (ne && k.lk == nil) || (per != 4 && in.name != "data") {
								continue
							}
							name := fmt.Sprintf("%s/%s/%s/%s/ne=%v/per=%d", typ, k.name, rs.name, in.name, ne, per)
							t.Run(name, func(t *testing.T) {
								s := refSpec{typ: typ, lk: k.lk, rk: k.rk, resid: rs.fn, nullsEqual: ne, markNA: ne}
								want := refJoin(s, in.left, in.right, jlSchema, jrSchema)
								got := runJoin(t, s, jlSchema, jrSchema, in.left, in.right, per, rs.e)
								equalRows(t, sortRows(got), sortRows(want))
							})
						}
					}
				}
			}
		}
	}
}

// TestHashJoinKeyTypes joins on every key type, alone and combined.
func TestHashJoinKeyTypes(t *testing.T) {
	schema := fields(f("i", i32), f("l", i64), f("d", date), f("ts", tsMicro), f("dec", dec(12, 2)),
		f("s", str), f("b", bln), f("fl", f64))
	left := [][]any{
		{1, 10, 100, 1000, 5, "a", true, 0.0},
		{2, 20, 200, 2000, 6, "b", false, math.NaN()},
		{nil, nil, nil, nil, nil, nil, nil, nil},
		{3, 30, 300, 3000, -7, "", true, 1.5},
		{1, 10, 100, 1000, 5, "a", true, 2.5},
	}
	right := [][]any{
		{1, 10, 100, 1000, 5, "a", true, math.Copysign(0, -1)},
		{2, 20, 200, 2000, 6, "b", false, math.NaN()},
		{nil, nil, nil, nil, nil, nil, nil, nil},
		{3, 30, 300, 3000, -7, "", false, 1.5},
		{4, 40, 400, 4000, 8, "c", true, 3.5},
	}
	for c := 0; c < schema.NumFields(); c++ {
		for _, pair := range [][]int{{c}, {c, (c + 3) % schema.NumFields()}} {
			for _, ne := range []bool{false, true} {
				for _, typ := range []physical.JoinType{physical.InnerJoin, physical.FullJoin, physical.AntiJoin, physical.MarkJoin} {
					name := fmt.Sprintf("%v/ne=%v/%s", pair, ne, typ)
					t.Run(name, func(t *testing.T) {
						s := refSpec{typ: typ, lk: pair, rk: pair, nullsEqual: ne, markNA: true}
						want := refJoin(s, left, right, schema, schema)
						got := runJoin(t, s, schema, schema, left, right, 2, nil)
						equalRows(t, sortRows(got), sortRows(want))
					})
				}
			}
		}
	}
}

// TestHashJoinRandom compares with the reference on random inputs.
func TestHashJoinRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	gen := func(n int) [][]any {
		rows := make([][]any, n)
		for i := range rows {
			var k, s, v any
			if rng.Intn(8) != 0 {
				k = rng.Intn(12)
			}
			if rng.Intn(8) != 0 {
				s = string(rune('a' + rng.Intn(3)))
			}
			if rng.Intn(8) != 0 {
				v = rng.Intn(100)
			}
			rows[i] = []any{k, s, v}
		}
		return rows
	}
	residLT := &physical.Call{Fn: physical.FnLt, Args: []physical.Expr{col(2, i32), col(5, i32)}, T: bln}
	for iter := 0; iter < 12; iter++ {
		left, right := gen(rng.Intn(300)), gen(rng.Intn(200))
		per := 1 + rng.Intn(90)
		for _, typ := range allJoinTypes {
			for _, multi := range []bool{false, true} {
				lk := []int{0}
				if multi {
					lk = []int{0, 1}
				}
				ne := iter%3 == 0
				var resid physical.Expr
				var fn func(l, r []any) bool
				if iter%2 == 1 {
					resid, fn = residLT, ltVW
				}
				s := refSpec{typ: typ, lk: lk, rk: lk, resid: fn, nullsEqual: ne, markNA: iter%4 != 0}
				t.Run(fmt.Sprintf("%d/%s/%v", iter, typ, multi), func(t *testing.T) {
					want := refJoin(s, left, right, jlSchema, jrSchema)
					got := runJoin(t, s, jlSchema, jrSchema, left, right, per, resid)
					equalRows(t, sortRows(got), sortRows(want))
				})
			}
		}
	}
}

// TestMarkAndNullAwareAntiTruthTables spells out three-valued IN / NOT IN.
func TestMarkAndNullAwareAntiTruthTables(t *testing.T) {
	one := fields(f("k", i64))
	cases := []struct {
		name  string
		left  any // probe key
		right []any
		in    string // x IN (right), MarkNullAware
		inNA  string // mark without MarkNullAware
		notIn bool   // does NOT IN emit the row
	}{
		{"match", 1, []any{1, 2}, "true", "true", false},
		{"match-with-null", 1, []any{nil, 1}, "true", "true", false},
		{"no-match", 3, []any{1, 2}, "false", "false", true},
		{"no-match-right-null", 3, []any{1, nil}, "NULL", "false", false},
		{"left-null", nil, []any{1, 2}, "NULL", "false", false},
		{"left-null-right-null", nil, []any{nil}, "NULL", "false", false},
		{"right-empty", 3, nil, "false", "false", true},
		{"left-null-right-empty", nil, nil, "false", "false", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			left := [][]any{{c.left}}
			var right [][]any
			for _, v := range c.right {
				right = append(right, []any{v})
			}
			for _, na := range []bool{true, false} {
				s := refSpec{typ: physical.MarkJoin, lk: []int{0}, rk: []int{0}, markNA: na}
				got := runJoin(t, s, one, one, left, right, 2, nil)
				want := c.inNA
				if na {
					want = c.in
				}
				equalRows(t, got, [][]string{{fmtVal(c.left), want}})
			}
			s := refSpec{typ: physical.NullAwareAntiJoin, lk: []int{0}, rk: []int{0}}
			got := runJoin(t, s, one, one, left, right, 2, nil)
			var want [][]string
			if c.notIn {
				want = [][]string{{fmtVal(c.left)}}
			}
			equalRows(t, got, want)
		})
	}
}

// bigJoinInputs is n left and m right rows all with key 1.
func bigJoinInputs(n, m int) (left, right [][]any) {
	for i := 0; i < n; i++ {
		left = append(left, []any{1, "l", i})
	}
	for i := 0; i < m; i++ {
		right = append(right, []any{1, "r", i})
	}
	return left, right
}

func TestHashJoinExplodes(t *testing.T) {
	left, right := bigJoinInputs(400, 300) // 120,000 pairs from one probe batch
	for _, tc := range []struct {
		name   string
		keys   []int
		typ    physical.JoinType
		resid  physical.Expr
		expect int
	}{
		{"inner", []int{0}, physical.InnerJoin, nil, 120000},
		{"cross", nil, physical.InnerJoin, nil, 120000},
		{"full-resid", []int{0}, physical.FullJoin,
			&physical.Call{Fn: physical.FnLt, Args: []physical.Expr{col(2, i32), col(5, i32)}, T: bln}, 299*300/2 + 101 + 1},
		{"semi-resid", []int{0}, physical.SemiJoin,
			&physical.Call{Fn: physical.FnGe, Args: []physical.Expr{col(2, i32), col(5, i32)}, T: bln}, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var fn func(l, r []any) bool
			if tc.resid != nil {
				fn = ltVW
				if tc.typ == physical.SemiJoin {
					fn = func(l, r []any) bool { return l[2].(int) >= r[2].(int) }
				}
			}
			s := refSpec{typ: tc.typ, lk: tc.keys, rk: tc.keys, resid: fn}
			got := runJoin(t, s, jlSchema, jrSchema, left, right, 1000, tc.resid)
			if len(got) != tc.expect {
				t.Fatalf("got %d rows, want %d", len(got), tc.expect)
			}
			equalRows(t, sortRows(got), sortRows(refJoin(s, left, right, jlSchema, jrSchema)))
		})
	}
}

func TestEnforceSingleRowAndUnionAll(t *testing.T) {
	schema := fields(f("a", i64), f("b", str))
	out := fields(f("x", i64), f("y", str))
	cases := []struct {
		name    string
		batches [][][]any
		want    [][]string
		code    string
	}{
		{"none", nil, [][]string{{"NULL", "NULL"}}, ""},
		{"empty-batch", [][][]any{{}}, [][]string{{"NULL", "NULL"}}, ""},
		{"one", [][][]any{{}, {{7, "s"}}}, [][]string{{"7", "s"}}, ""},
		{"two-in-one-batch", [][][]any{{{1, "a"}, {2, "b"}}}, nil, sqlerr.CardinalityViolation},
		{"two-batches", [][][]any{{{1, "a"}}, {{2, "b"}}}, nil, sqlerr.CardinalityViolation},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			var recs []arrow.Record
			for _, b := range tc.batches {
				if len(b) == 0 {
					recs = append(recs, record(t, mem, schema, []any{}, []any{}))
					continue
				}
				recs = append(recs, rowsToRecords(t, mem, schema, b, 10)...)
			}
			n := &physical.EnforceSingleRow{Base: base(out), Input: valuesNode(schema, recs...)}
			got, err := runOp(t, buildOp(t, n, mem))
			if tc.code != "" {
				wantCode(t, err, tc.code)
			} else {
				if err != nil {
					t.Fatal(err)
				}
				equalRows(t, got, tc.want)
			}
			releaseAll(recs)
			mem.AssertSize(t, 0)
		})
	}

	t.Run("union", func(t *testing.T) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		a := rowsToRecords(t, mem, schema, [][]any{{1, "a"}, {2, "b"}, {3, "c"}}, 2)
		b := rowsToRecords(t, mem, schema, [][]any{{4, nil}}, 2)
		e := record(t, mem, schema, []any{}, []any{})
		n := &physical.UnionAll{Base: base(out), Inputs: []physical.Node{
			valuesNode(schema, a...), valuesNode(schema), valuesNode(schema, e), valuesNode(schema, b...), valuesNode(schema, a...)}}
		got, err := runOp(t, buildOp(t, n, mem))
		if err != nil {
			t.Fatal(err)
		}
		equalRows(t, got, [][]string{{"1", "a"}, {"2", "b"}, {"3", "c"}, {"4", "NULL"}, {"1", "a"}, {"2", "b"}, {"3", "c"}})
		releaseAll(a)
		releaseAll(b)
		e.Release()
		mem.AssertSize(t, 0)
	})
	t.Run("union-type-mismatch", func(t *testing.T) {
		n := &physical.UnionAll{Base: base(out), Inputs: []physical.Node{valuesNode(fields(f("a", i32), f("b", str)))}}
		if _, err := Build(n, &Env{}); err == nil {
			t.Fatal("no error")
		}
	})
}

func TestHashJoinEarlyCloseAndCancel(t *testing.T) {
	left, right := bigJoinInputs(400, 300)
	for _, reads := range []int{0, 1, 2} {
		t.Run(fmt.Sprintf("close-after-%d", reads), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			lb := rowsToRecords(t, mem, jlSchema, left, 64)
			rb := rowsToRecords(t, mem, jrSchema, right, 64)
			for _, typ := range []physical.JoinType{physical.FullJoin, physical.MarkJoin} {
				n := hashJoinNode(typ, valuesNode(jlSchema, lb...), valuesNode(jrSchema, rb...),
					[]physical.Expr{col(0, i64)}, []physical.Expr{col(0, i64)}, nil)
				op := buildOp(t, n, mem)
				if err := op.Open(context.Background()); err != nil {
					t.Fatal(err)
				}
				for i := 0; i < reads; i++ {
					b, err := op.Next(context.Background())
					if err != nil {
						t.Fatal(err)
					}
					b.Release()
				}
				op.Close()
				op.Close()
			}
			releaseAll(lb)
			releaseAll(rb)
			mem.AssertSize(t, 0)
		})
	}
	t.Run("cancel", func(t *testing.T) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		lb := rowsToRecords(t, mem, jlSchema, left, 400)
		rb := rowsToRecords(t, mem, jrSchema, right, 64)
		n := hashJoinNode(physical.InnerJoin, valuesNode(jlSchema, lb...), valuesNode(jrSchema, rb...), nil, nil, nil)
		op := buildOp(t, n, mem)
		ctx, cancel := context.WithCancel(context.Background())
		if err := op.Open(ctx); err != nil {
			t.Fatal(err)
		}
		b, err := op.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		b.Release()
		cancel()
		if _, err := op.Next(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
		op.Close()
		releaseAll(lb)
		releaseAll(rb)
		mem.AssertSize(t, 0)
	})
}

// ---- distributed joins through the runtime ----

// joinPlans returns the same join as one fragment, with both sides
// hash-partitioned on the key into a parallel join fragment, and with the
// build side broadcast to a parallel join fragment that scans the probe
// side itself.
func joinPlans(path string, n, rg int, typ physical.JoinType) (single, partitioned, broadcast *physical.Plan) {
	probeCols := []physical.ScanColumn{scId, scQty, scGrp}  // key: qty (1)
	buildCols := []physical.ScanColumn{scId, scAmt, scFlag} // key: id (0)
	probe := func() *physical.ParquetScan { return scanNode(path, allRowGroups(n, rg), probeCols) }
	build := func() *physical.ParquetScan {
		s := scanNode(path, allRowGroups(n, rg), buildCols)
		// Only ids below 40 (qty is 0..49): some probe rows stay unmatched.
		s.Filter = &physical.Call{Fn: physical.FnLt, Args: []physical.Expr{col(0, i64), &physical.Literal{Value: int64(40), T: i64}}, T: bln}
		return s
	}
	// Residual: amt > -100 (right side) or flag (right) or id < 1000 (left).
	resid := &physical.Call{Fn: physical.FnOr, T: bln, Args: []physical.Expr{
		&physical.Call{Fn: physical.FnGt, T: bln, Args: []physical.Expr{col(4, dec(12, 2)), &physical.Literal{Value: decimal128.FromI64(-10000), T: dec(12, 2)}}},
		&physical.Call{Fn: physical.FnLt, T: bln, Args: []physical.Expr{col(0, i64), &physical.Literal{Value: int64(1000), T: i64}}},
	}}
	mk := func(l, r physical.Node) *physical.HashJoin {
		return hashJoinNode(typ, l, r, []physical.Expr{col(1, i64)}, []physical.Expr{col(0, i64)}, resid)
	}
	sorted := func(in physical.Node) physical.Node {
		var keys []physical.SortKey
		for c := 0; c < in.Schema().NumFields(); c++ {
			keys = append(keys, physical.SortKey{Col: c})
		}
		return &physical.Sort{Base: base(in.Schema()), Input: in, Keys: keys}
	}

	single = onePlan(sorted(mk(probe(), build())))

	pa, pb := probe(), build()
	srcA := &physical.ExchangeSource{Base: base(pa.Schema()), Fragment: 0}
	srcB := &physical.ExchangeSource{Base: base(pb.Schema()), Fragment: 1}
	j := mk(srcA, srcB)
	srcJ := &physical.ExchangeSource{Base: base(j.Schema()), Fragment: 2}
	partitioned = &physical.Plan{Fragments: []*physical.Fragment{
		{ID: 0, Root: pa, Parallelism: 0, Consumer: 2, Output: physical.HashPartition, OutputKeys: []int{1}},
		{ID: 1, Root: pb, Parallelism: 3, Consumer: 2, Output: physical.HashPartition, OutputKeys: []int{0}},
		{ID: 2, Root: j, Parallelism: 0, Consumer: 3, Output: physical.Gather},
		{ID: 3, Root: sorted(srcJ), Consumer: -1},
	}}

	bb := build()
	srcB2 := &physical.ExchangeSource{Base: base(bb.Schema()), Fragment: 0}
	j2 := mk(probe(), srcB2)
	srcJ2 := &physical.ExchangeSource{Base: base(j2.Schema()), Fragment: 1}
	broadcast = &physical.Plan{Fragments: []*physical.Fragment{
		{ID: 0, Root: bb, Parallelism: 0, Consumer: 1, Output: physical.Broadcast},
		{ID: 1, Root: j2, Parallelism: 0, Consumer: 2, Output: physical.Gather},
		{ID: 2, Root: sorted(srcJ2), Consumer: -1},
	}}
	return single, partitioned, broadcast
}

func TestDistributedHashJoin(t *testing.T) {
	const n, rg = 6000, 500
	path := writeTestParquet(t, t.TempDir(), n, rg)
	for _, typ := range allJoinTypes {
		t.Run(typ.String(), func(t *testing.T) {
			single, part, bcast := joinPlans(path, n, rg, typ)
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			want, _, err := runPlan(t, single, Options{Alloc: mem, Parallelism: 4})
			if err != nil {
				t.Fatal(err)
			}
			if len(want) == 0 {
				t.Fatal("no rows")
			}
			// Right and full joins need a disjoint build side per instance
			// (no broadcast); null-aware anti (and null-aware mark) need to
			// see every build key (no hash partitioning).
			plans := map[string]*physical.Plan{}
			if typ != physical.NullAwareAntiJoin {
				plans["partitioned"] = part
			}
			if typ != physical.RightJoin && typ != physical.FullJoin {
				plans["broadcast"] = bcast
			}
			for name, p := range plans {
				got, e, err := runPlan(t, p, Options{Alloc: mem, Parallelism: 4})
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				equalRows(t, got, want)
				st := e.Stats()[p.Fragments[len(p.Fragments)-2].Root.NodeID()]
				if st.Rows != int64(len(want)) {
					t.Errorf("%s: join stats rows %d, want %d", name, st.Rows, len(want))
				}
			}
			mem.AssertSize(t, 0)
		})
	}
}

func TestDistributedHashJoinEarlyClose(t *testing.T) {
	const n, rg = 6000, 500
	path := writeTestParquet(t, t.TempDir(), n, rg)
	_, part, bcast := joinPlans(path, n, rg, physical.InnerJoin)
	for name, p := range map[string]*physical.Plan{"partitioned": part, "broadcast": bcast} {
		// Drop the sort so the root streams and Close happens mid-flight.
		root := p.Fragments[len(p.Fragments)-1]
		root.Root = root.Root.(*physical.Sort).Input
		t.Run(name, func(t *testing.T) {
			baseline := runtime.NumGoroutine()
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			e, err := Run(context.Background(), p, Options{Alloc: mem, Parallelism: 4})
			if err != nil {
				t.Fatal(err)
			}
			b, err := e.Next(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			b.Release()
			e.Close()
			checkGoroutines(t, baseline)
			mem.AssertSize(t, 0)
		})
	}
}

// BenchmarkHashJoinInt64 joins 1M probe rows with 100K build rows on an
// int64 key (each probe row matches one build row).
func BenchmarkHashJoinInt64(b *testing.B) {
	const probeRows, buildRows, per = 1 << 20, 100_000, 64 * 1024
	mem := memory.NewGoAllocator()
	ls := fields(f("k", i64), f("v", i64))
	rs := fields(f("k", i64), f("w", i64))
	rng := rand.New(rand.NewSource(1))
	mk := func(schema *arrow.Schema, n int, key func(i int) int64) []arrow.Record {
		var out []arrow.Record
		for start := 0; start < n; start += per {
			end := min(start+per, n)
			kb := array.NewInt64Builder(mem)
			vb := array.NewInt64Builder(mem)
			for i := start; i < end; i++ {
				kb.Append(key(i))
				vb.Append(int64(i))
			}
			k, v := kb.NewArray(), vb.NewArray()
			out = append(out, array.NewRecordBatch(schema, []arrow.Array{k, v}, int64(end-start)))
			k.Release()
			v.Release()
			kb.Release()
			vb.Release()
		}
		return out
	}
	perm := rng.Perm(buildRows)
	build := mk(rs, buildRows, func(i int) int64 { return int64(perm[i]) * 7 })
	probe := mk(ls, probeRows, func(int) int64 { return int64(rng.Intn(buildRows)) * 7 })
	defer releaseAll(build)
	defer releaseAll(probe)
	for _, typ := range []physical.JoinType{physical.InnerJoin, physical.SemiJoin} {
		b.Run(typ.String(), func(b *testing.B) {
			n := hashJoinNode(typ, valuesNode(ls, probe...), valuesNode(rs, build...),
				[]physical.Expr{col(0, i64)}, []physical.Expr{col(0, i64)}, nil)
			b.ReportAllocs()
			b.ResetTimer()
			for it := 0; it < b.N; it++ {
				op, err := Build(n, &Env{Alloc: mem})
				if err != nil {
					b.Fatal(err)
				}
				ctx := context.Background()
				if err := op.Open(ctx); err != nil {
					b.Fatal(err)
				}
				rows := 0
				for {
					r, err := op.Next(ctx)
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					rows += int(r.NumRows())
					r.Release()
				}
				op.Close()
				if rows != probeRows {
					b.Fatalf("%d rows", rows)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/probeRows, "ns/row")
		})
	}
}

// TestHashJoinExpressionKeys joins on computed keys (upper(s), k + 1).
func TestHashJoinExpressionKeys(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	lb := rowsToRecords(t, mem, jlSchema, [][]any{{1, "a", 1}, {2, "B", 2}, {nil, "c", 3}}, 2)
	rb := rowsToRecords(t, mem, jrSchema, [][]any{{2, "A", 10}, {3, "B", 20}, {3, "b", 30}, {1, "C", 40}}, 2)
	lk := []physical.Expr{
		&physical.Call{Fn: physical.FnAdd, Args: []physical.Expr{col(0, i64), &physical.Literal{Value: int64(1), T: i64}}, T: i64},
		&physical.Call{Fn: physical.FnUpper, Args: []physical.Expr{col(1, str)}, T: str},
	}
	rk := []physical.Expr{col(0, i64), &physical.Call{Fn: physical.FnUpper, Args: []physical.Expr{col(1, str)}, T: str}}
	for _, keys := range []int{1, 2} {
		n := hashJoinNode(physical.InnerJoin, valuesNode(jlSchema, lb...), valuesNode(jrSchema, rb...), lk[2-keys:], rk[2-keys:], nil)
		got, err := runOp(t, buildOp(t, n, mem))
		if err != nil {
			t.Fatal(err)
		}
		want := [][]string{{"1", "a", "1", "2", "A", "10"}, {"2", "B", "2", "3", "B", "20"}, {"2", "B", "2", "3", "b", "30"}}
		if keys == 1 { // upper(s) only
			want = [][]string{{"1", "a", "1", "2", "A", "10"}, {"2", "B", "2", "3", "B", "20"}, {"2", "B", "2", "3", "b", "30"}, {"NULL", "c", "3", "1", "C", "40"}}
		}
		equalRows(t, sortRows(got), sortRows(want))
	}
	releaseAll(lb)
	releaseAll(rb)
	mem.AssertSize(t, 0)
}

// TestHashJoinMemoryLimit fails a join whose table does not fit the
// query's memory limit, without leaking.
func TestHashJoinMemoryLimit(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	var rows [][]any
	for i := 0; i < 50_000; i++ {
		rows = append(rows, []any{i, "x", i})
	}
	rb := rowsToRecords(t, mem, jrSchema, rows, 10_000)
	// As many probe rows, so that the join does not build on them instead.
	lb := rowsToRecords(t, mem, jlSchema, rows, 10_000)
	n := hashJoinNode(physical.InnerJoin, valuesNode(jlSchema, lb...), valuesNode(jrSchema, rb...),
		[]physical.Expr{col(0, i64)}, []physical.Expr{col(0, i64)}, nil)
	baseline := runtime.NumGoroutine()
	// The table of 50,000 dense keys takes about 800 KB.
	_, _, err := runPlan(t, onePlan(n), Options{Alloc: mem, MemoryLimit: 1 << 19})
	wantCode(t, err, sqlerr.OutOfMemory)
	got, _, err := runPlan(t, onePlan(n), Options{Alloc: mem, MemoryLimit: 16 << 20})
	if err != nil || len(got) != len(rows) {
		t.Fatalf("%d rows, %v", len(got), err)
	}
	checkGoroutines(t, baseline)
	releaseAll(lb)
	releaseAll(rb)
	mem.AssertSize(t, 0)
}
