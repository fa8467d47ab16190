package kernels

import (
	"fmt"
	"math/rand"
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/planner/physical"
)

// TestAndOrSelective compares AND and OR, evaluated argument by argument
// on the rows left undecided, with three-valued logic row by row, for
// first arguments that decide none, some, most or all of the rows.
func TestAndOrSelective(t *testing.T) {
	const n = 1000
	rng := rand.New(rand.NewSource(3))
	var a, b []any
	for i := 0; i < n; i++ {
		var x, y any
		if rng.Intn(10) != 0 {
			x = int64(rng.Intn(100))
		}
		if rng.Intn(10) != 0 {
			y = int64(rng.Intn(100))
		}
		a, b = append(a, x), append(b, y)
	}
	cols := []colSpec{cs(tI64, a...), cs(tI64, b...)}
	// lt(col, v) row by row: nil for NULL.
	ltRef := func(v []any, k int64) []any {
		out := make([]any, n)
		for i, x := range v {
			if x != nil {
				out[i] = x.(int64) < k
			}
		}
		return out
	}
	and3 := func(x, y any) any {
		if x == false || y == false {
			return false
		}
		if x == nil || y == nil {
			return nil
		}
		return true
	}
	or3 := func(x, y any) any {
		if x == true || y == true {
			return true
		}
		if x == nil || y == nil {
			return nil
		}
		return false
	}
	zip := func(f func(x, y any) any, xs, ys []any) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = f(xs[i], ys[i])
		}
		return out
	}
	lt := func(c int, k int64) physical.Expr { return call("lt", tBool, col(c, tI64), lit(k, tI64)) }
	var cases []evalCase
	for _, k := range []int64{0, 5, 20, 50, 95, 101} {
		for _, j := range []int64{10, 60} {
			ra, rb := ltRef(a, k), ltRef(b, j)
			notA := make([]any, n)
			for i, x := range ra {
				if x != nil {
					notA[i] = !x.(bool)
				}
			}
			cases = append(cases,
				evalCase{name: fmt.Sprintf("and/%d/%d", k, j), cols: cols, e: call("and", tBool, lt(0, k), lt(1, j)), want: zip(and3, ra, rb)},
				evalCase{name: fmt.Sprintf("or/%d/%d", k, j), cols: cols, e: call("or", tBool, call("not", tBool, lt(0, k)), lt(1, j)), want: zip(or3, notA, rb)},
				evalCase{
					name: fmt.Sprintf("nested/%d/%d", k, j), cols: cols,
					e:    call("and", tBool, lt(0, k), call("or", tBool, lt(1, j), lt(0, k/2)), lt(1, 90)),
					want: zip(and3, zip(and3, ra, zip(or3, rb, ltRef(a, k/2))), ltRef(b, 90)),
				},
			)
		}
	}
	runCases(t, cases)

	// Rows the first conjunct decides never evaluate the second: no
	// division by zero for b = 0 when only b > 90 is looked at.
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := buildRecord(t, mem, cols, n)
	defer rec.Release()
	e := call("and", tBool, call("gt", tBool, col(1, tI64), lit(90, tI64)),
		call("gt", tBool, call("div", tI64, lit(100, tI64), col(1, tI64)), lit(0, tI64)))
	got, err := Eval(mem, e, rec)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Release()
	want := make([]any, n)
	for i, y := range b {
		if y != nil {
			want[i] = y.(int64) > 90 && 100/y.(int64) > 0
		}
	}
	if gv := values(got); !reflect.DeepEqual(gv, want) {
		t.Fatalf("got %v\nwant %v", gv, want)
	}
}

// TestLikeColumnScan compares LIKE over a whole column (the first literal
// searched across the value buffer) with matching row by row, on short
// random strings whose literals often straddle row boundaries, sliced or
// not.
func TestLikeColumnScan(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewSource(11))
	b := array.NewStringBuilder(mem)
	var rows []string
	for i := 0; i < 500; i++ {
		if rng.Intn(15) == 0 {
			b.AppendNull()
			rows = append(rows, "")
			continue
		}
		s := make([]byte, rng.Intn(6))
		for j := range s {
			s[j] = "abc"[rng.Intn(3)]
		}
		b.Append(string(s))
		rows = append(rows, string(s))
	}
	full := b.NewArray().(*array.String)
	b.Release()
	defer full.Release()
	for _, p := range []string{"%ab%", "ab%", "%ba", "a%b%c", "%abc%a%", "%cc", "c%", "%a%", "aa", "%b%b"} {
		m, err := compileLike(p, `\`, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, sl := range [][2]int{{0, 500}, {7, 431}} {
			a := array.NewSlice(full, int64(sl[0]), int64(sl[1])).(*array.String)
			out := make([]byte, (a.Len()+7)/8)
			m.matchColumn(a, out)
			for i := 0; i < a.Len(); i++ {
				got := out[i>>3]&(1<<(i&7)) != 0
				if want := m.match(rows[sl[0]+i]); got != want && a.IsValid(i) {
					t.Fatalf("%q on row %d %q: %v, want %v", p, sl[0]+i, rows[sl[0]+i], got, want)
				}
			}
			a.Release()
		}
	}
}
