package exec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/planner/physical"
)

// runJoinSide builds and drains a join over Values inputs with a checked
// allocator, checking that no batch exceeds batchRows and nothing leaks,
// and reports whether the join built on its left input.
func runJoinSide(t *testing.T, s refSpec, lschema, rschema *arrow.Schema, left, right [][]any, per int, resid physical.Expr) ([][]string, bool) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	lb := rowsToRecords(t, mem, lschema, left, per)
	rb := rowsToRecords(t, mem, rschema, right, per)
	var lk, rk []physical.Expr
	for i := range s.lk {
		lk = append(lk, col(s.lk[i], lschema.Field(s.lk[i]).Type))
		rk = append(rk, col(s.rk[i], rschema.Field(s.rk[i]).Type))
	}
	n := hashJoinNode(s.typ, valuesNode(lschema, lb...), valuesNode(rschema, rb...), lk, rk, resid)
	n.NullsEqual = s.nullsEqual
	n.MarkNullAware = s.markNA
	op := buildOp(t, n, mem)
	ctx := context.Background()
	if err := op.Open(ctx); err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for {
		b, err := op.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			op.Close()
			t.Fatal(err)
		}
		if b.NumRows() == 0 || b.NumRows() > batchRows {
			t.Errorf("batch of %d rows", b.NumRows())
		}
		if !b.Schema().Equal(n.Out) {
			t.Errorf("batch schema %s, want %s", b.Schema(), n.Out)
		}
		got = append(got, recordRows([]arrow.Record{b})...)
		b.Release()
	}
	var swapped bool
	if j, ok := op.(*hashJoinOp); ok {
		swapped = j.swapped
	} else {
		t.Fatalf("operator is %T", op)
	}
	if err := op.Close(); err != nil {
		t.Fatal(err)
	}
	releaseAll(lb)
	releaseAll(rb)
	mem.AssertSize(t, 0)
	return got, swapped
}

// TestHashJoinBuildSide runs every join type with the smaller input on
// either side: inner, left, semi and anti joins build on a left side that
// ends first, the others never do, and the results are the same.
func TestHashJoinBuildSide(t *testing.T) {
	// More right rows: duplicates of jRight and keys that match nothing.
	bigRight := append([][]any{}, jRight...)
	for i := 0; i < 40; i++ {
		bigRight = append(bigRight, []any{i % 7, string(rune('a' + i%4)), i})
	}
	bigLeft := append([][]any{}, jLeft...)
	for i := 0; i < 40; i++ {
		bigLeft = append(bigLeft, []any{i % 9, string(rune('a' + i%5)), i})
	}
	residLT := &physical.Call{Fn: physical.FnLt, Args: []physical.Expr{col(2, i32), col(5, i32)}, T: bln}
	resids := []struct {
		name string
		e    physical.Expr
		fn   func(l, r []any) bool
	}{
		{"none", nil, nil},
		{"both-sides", residLT, ltVW},
	}
	inputs := []struct {
		name        string
		left, right [][]any
		leftFirst   bool
	}{
		{"small-left", jLeft, bigRight, true},
		{"small-right", bigLeft, jRight, false},
		{"empty-left", nil, bigRight, true},
		{"empty-right", bigLeft, nil, false},
	}
	keys := []struct {
		name   string
		lk, rk []int
	}{
		{"int64", []int{0}, []int{0}},
		{"string", []int{1}, []int{1}},
		{"multi", []int{0, 1}, []int{0, 1}},
	}
	for _, typ := range allJoinTypes {
		for _, k := range keys {
			for _, rs := range resids {
				for _, in := range inputs {
					for _, ne := range []bool{false, true} {
						for _, per := range []int{1, 4, 100} {
							name := fmt.Sprintf("%s/%s/%s/%s/ne=%v/per=%d", typ, k.name, rs.name, in.name, ne, per)
							t.Run(name, func(t *testing.T) {
								s := refSpec{typ: typ, lk: k.lk, rk: k.rk, resid: rs.fn, nullsEqual: ne, markNA: ne}
								want := refJoin(s, in.left, in.right, jlSchema, jrSchema)
								got, swapped := runJoinSide(t, s, jlSchema, jrSchema, in.left, in.right, per, rs.e)
								equalRows(t, sortRows(got), sortRows(want))
								canSwap := typ == physical.InnerJoin || typ == physical.LeftJoin || typ == physical.SemiJoin || typ == physical.AntiJoin
								if swapped != (canSwap && in.leftFirst) {
									t.Errorf("swapped = %v", swapped)
								}
							})
						}
					}
				}
			}
		}
	}
}

// TestHashJoinExistenceRounds checks semi, anti and mark joins with a
// residual over full probe batches, each row with a chain of candidates.
func TestHashJoinExistenceRounds(t *testing.T) {
	var left, right [][]any
	for i := 0; i < 3*batchRows/2; i++ {
		left = append(left, []any{i % 10, "a", i % 50})
	}
	for i := 0; i < 40; i++ {
		// Chains of four rows per key, in decreasing w: a row matches at
		// its first, a later or no candidate.
		right = append(right, []any{i % 10, "b", 60 - i})
	}
	residLT := &physical.Call{Fn: physical.FnLt, Args: []physical.Expr{col(2, i32), col(5, i32)}, T: bln}
	for _, typ := range []physical.JoinType{physical.SemiJoin, physical.AntiJoin, physical.MarkJoin, physical.NullAwareAntiJoin} {
		t.Run(typ.String(), func(t *testing.T) {
			s := refSpec{typ: typ, lk: []int{0}, rk: []int{0}, resid: ltVW}
			want := refJoin(s, left, right, jlSchema, jrSchema)
			got, swapped := runJoinSide(t, s, jlSchema, jrSchema, left, right, batchRows, residLT)
			if swapped {
				t.Fatal("built on the larger side")
			}
			equalRows(t, sortRows(got), sortRows(want))
		})
	}
}

// TestJoinTableIntKeys covers the dense and the hashed index of integer
// keys: narrow and wide ranges, negative and extreme values, runs of equal
// keys and NULLs.
func TestJoinTableIntKeys(t *testing.T) {
	one := fields(f("k", i64), f("v", i32))
	one32 := fields(f("k", i32), f("v", i32))
	cases := []struct {
		name   string
		schema *arrow.Schema
		keys   []any // build keys; probe keys are these and their neighbours
		dense  bool
	}{
		{"narrow", one, []any{5, 6, 6, 6, 9, nil, 7, 5}, true},
		{"negative", one, []any{-3, -1, -1, nil, 0, 2}, true},
		{"sparse-runs", one, []any{1, 1, 1, 1 << 40, 1 << 40, -(1 << 40), 7, 7, nil, 7}, false},
		{"extremes", one, []any{math.MinInt64, math.MaxInt64, 0, math.MaxInt64, nil}, false},
		{"int32-extremes", one32, []any{math.MinInt32, math.MaxInt32, 0, 0}, false},
		{"int32-narrow", one32, []any{math.MaxInt32, math.MaxInt32 - 3, math.MaxInt32 - 1}, true},
		{"all-null", one, []any{nil, nil}, true},
	}
	for _, c := range cases {
		var right, left [][]any
		for i, k := range c.keys {
			right = append(right, []any{k, i})
			left = append(left, []any{k, i})
			if x, ok := k.(int); ok {
				if x != math.MaxInt64 && x != math.MaxInt32 {
					left = append(left, []any{x + 1, -i})
				}
				if x != math.MinInt64 && x != math.MinInt32 {
					left = append(left, []any{x - 1, -i})
				}
			}
		}
		for _, typ := range []physical.JoinType{physical.InnerJoin, physical.RightJoin, physical.AntiJoin} {
			for _, ne := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/ne=%v", c.name, typ, ne), func(t *testing.T) {
					s := refSpec{typ: typ, lk: []int{0}, rk: []int{0}, nullsEqual: ne}
					want := refJoin(s, left, right, c.schema, c.schema)
					got := runJoin(t, s, c.schema, c.schema, left, right, 3, nil)
					equalRows(t, sortRows(got), sortRows(want))
				})
			}
		}
		t.Run(c.name+"/index", func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			recs := rowsToRecords(t, mem, c.schema, right, len(right))
			jt := newJoinTable(mem, []arrow.DataType{c.schema.Field(0).Type}, false)
			if err := jt.build([][]arrow.Array{{recs[0].Column(0)}}, []int{len(right)}); err != nil {
				t.Fatal(err)
			}
			if (jt.dense != nil) != c.dense {
				t.Errorf("dense index: %v, want %v", jt.dense != nil, c.dense)
			}
			jt.release()
			releaseAll(recs)
			mem.AssertSize(t, 0)
		})
	}
}

// TestJoinTableFilter looks up sparse keys in a table large enough for a
// filter, in batches that mostly miss (filter on) and mostly match (filter
// switched off), against a Go map.
func TestJoinTableFilter(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	const n = 20_000
	b := array.NewInt64Builder(mem)
	want := map[int64]int32{}
	for i := 0; i < n; i++ {
		k := int64(i) * 1_000_003
		if i%5 == 0 {
			k = int64(i-1) * 1_000_003 // a run of two equal keys
		}
		b.Append(k)
		if _, ok := want[k]; !ok {
			want[k] = int32(i)
		}
	}
	keys := b.NewArray()
	jt := newJoinTable(mem, []arrow.DataType{i64}, false)
	if err := jt.build([][]arrow.Array{{keys}}, []int{n}); err != nil {
		t.Fatal(err)
	}
	if jt.ints == nil || jt.ints.filter == nil {
		t.Fatal("no filtered hash table")
	}
	for round, hitEvery := range []int{50, 50, 1, 1, 1, 50, 2} {
		for i := 0; i < 4000; i++ {
			x := int64(round*4000+i) * 1_000_003
			if i%hitEvery != 0 {
				x += 17 // no such key
			}
			b.Append(x % (n * 1_000_003))
		}
		probe := b.NewArray()
		heads := make([]int32, probe.Len())
		null := make([]bool, probe.Len())
		if err := jt.lookup([]arrow.Array{probe}, heads, null); err != nil {
			t.Fatal(err)
		}
		for i, h := range heads {
			k := probe.(*array.Int64).Value(i)
			w, ok := want[k]
			if !ok {
				w = -1
			}
			if h != w {
				t.Fatalf("round %d: key %d: head %d, want %d", round, k, h, w)
			}
		}
		probe.Release()
	}
	b.Release()
	keys.Release()
	jt.release()
	mem.AssertSize(t, 0)
}

// TestJoinPackedKeys joins on two integer columns, packed into one key
// when the build side's ranges allow and byte-encoded when not.
func TestJoinPackedKeys(t *testing.T) {
	schema := fields(f("a", i32), f("b", i64), f("v", i32))
	rng := rand.New(rand.NewSource(9))
	gen := func(n int, wide bool) [][]any {
		var rows [][]any
		for i := 0; i < n; i++ {
			var a, b any
			if rng.Intn(10) != 0 {
				a = rng.Intn(7) - 3
			}
			if rng.Intn(10) != 0 {
				b = rng.Intn(5) * 1_000_000_007
				if wide && rng.Intn(4) == 0 {
					b = []int{math.MinInt64, math.MaxInt64}[rng.Intn(2)]
				}
			}
			rows = append(rows, []any{a, b, i})
		}
		return rows
	}
	for _, wide := range []bool{false, true} {
		left, right := gen(300, true), gen(120, wide) // probe values beyond the build range
		for _, typ := range []physical.JoinType{physical.InnerJoin, physical.LeftJoin, physical.FullJoin, physical.AntiJoin, physical.MarkJoin} {
			t.Run(fmt.Sprintf("wide=%v/%s", wide, typ), func(t *testing.T) {
				s := refSpec{typ: typ, lk: []int{0, 1}, rk: []int{0, 1}, markNA: true}
				want := refJoin(s, left, right, schema, schema)
				got := runJoin(t, s, schema, schema, left, right, 50, nil)
				equalRows(t, sortRows(got), sortRows(want))
			})
		}
		t.Run(fmt.Sprintf("wide=%v/kind", wide), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			recs := rowsToRecords(t, mem, schema, right, len(right))
			jt := newJoinTable(mem, []arrow.DataType{i32, i64}, false)
			if err := jt.build([][]arrow.Array{{recs[0].Column(0), recs[0].Column(1)}}, []int{len(right)}); err != nil {
				t.Fatal(err)
			}
			if want := map[bool]tableKind{false: kindPacked, true: kindGeneric}[wide]; jt.kind != want {
				t.Errorf("kind %d, want %d", jt.kind, want)
			}
			jt.release()
			releaseAll(recs)
			mem.AssertSize(t, 0)
		})
	}
}
