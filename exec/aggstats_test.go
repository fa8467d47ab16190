package exec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/planner/physical"
)

var varFns = []string{physical.AggVarSamp, physical.AggVarPop, physical.AggStddevSamp, physical.AggStddevPop}

// aggResult maps a group key (rendered, "" for a global aggregate) to its
// aggregate values: float64, int64 or nil for NULL.
type aggResult map[string][]any

// runAggPhases aggregates cols (column 0 the key, column 1 the argument)
// grouped by the key or globally. With parts == 0 it runs one AggSingle
// aggregate; otherwise it cuts the rows into parts contiguous pieces (some
// empty when there are fewer rows), aggregates each in AggPartial mode and
// merges the states with one AggFinal aggregate. Inputs come in batches of
// 7 rows.
func runAggPhases(t *testing.T, mem memory.Allocator, schema *arrow.Schema, keys, vals []any, grouped bool, aggs []physical.AggCall, parts int) aggResult {
	t.Helper()
	return runAggPhasesCols(t, mem, schema, [][]any{keys, vals}, grouped, aggs, parts)
}

// runAggPhasesCols is runAggPhases over any number of columns, the key
// first.
func runAggPhasesCols(t *testing.T, mem memory.Allocator, schema *arrow.Schema, cols [][]any, grouped bool, aggs []physical.AggCall, parts int) aggResult {
	t.Helper()
	keys := cols[0]
	batchesOf := func(lo, hi int) []arrow.Record {
		var out []arrow.Record
		for s := lo; s < hi; s += 7 {
			e := min(s+7, hi)
			part := make([]any, len(cols))
			for c, vs := range cols {
				part[c] = vs[s:e]
			}
			out = append(out, record(t, mem, schema, part...))
		}
		return out
	}
	var gb []physical.Expr
	if grouped {
		gb = []physical.Expr{col(0, schema.Field(0).Type)}
	}
	var root physical.Node
	var inputs []arrow.Record
	defer func() { releaseAll(inputs) }()
	if parts == 0 {
		inputs = batchesOf(0, len(keys))
		root = aggNode(valuesNode(schema, inputs...), physical.AggSingle, gb, aggs...)
	} else {
		var partials []arrow.Record
		for p := 0; p < parts; p++ {
			b := batchesOf(p*len(keys)/parts, (p+1)*len(keys)/parts)
			inputs = append(inputs, b...)
			partials = append(partials, collect(t, buildOp(t, aggNode(valuesNode(schema, b...), physical.AggPartial, gb, aggs...), mem))...)
		}
		inputs = append(inputs, partials...)
		pschema := aggNode(valuesNode(schema), physical.AggPartial, gb, aggs...).Schema()
		var fgb []physical.Expr
		if grouped {
			fgb = []physical.Expr{col(0, schema.Field(0).Type)}
		}
		root = aggNode(valuesNode(pschema, partials...), physical.AggFinal, fgb, aggs...)
	}
	out := collect(t, buildOp(t, root, mem))
	defer releaseAll(out)
	res := aggResult{}
	nk := len(gb)
	for _, r := range out {
		for i := 0; i < int(r.NumRows()); i++ {
			key := ""
			if nk > 0 {
				key = cell(r.Column(0), i)
			}
			if _, dup := res[key]; dup {
				t.Fatalf("group %q twice", key)
			}
			var row []any
			for c := nk; c < int(r.NumCols()); c++ {
				switch a := r.Column(c).(type) {
				case *array.Float64:
					if a.IsNull(i) {
						row = append(row, nil)
					} else {
						row = append(row, a.Value(i))
					}
				case *array.Int64:
					if a.IsNull(i) {
						row = append(row, nil)
					} else {
						row = append(row, a.Value(i))
					}
				default:
					t.Fatalf("output column %d: %s", c, r.Column(c).DataType())
				}
			}
			res[key] = row
		}
	}
	return res
}

// collect runs op to the end and returns its batches.
func collect(t *testing.T, op Operator) []arrow.Record {
	t.Helper()
	ctx := context.Background()
	if err := op.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer op.Close()
	var out []arrow.Record
	for {
		r, err := op.Next(ctx)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			releaseAll(out)
			t.Fatal(err)
		}
		out = append(out, r)
	}
}

// exactVar computes fn of xs exactly (in rationals) and rounds once; ok is
// false for NULL.
func exactVar(fn string, xs []float64) (float64, bool) {
	n := int64(len(xs))
	samp := fn == physical.AggVarSamp || fn == physical.AggStddevSamp
	if n == 0 || samp && n < 2 {
		return 0, false
	}
	sum := new(big.Rat)
	for _, x := range xs {
		sum.Add(sum, new(big.Rat).SetFloat64(x))
	}
	mean := sum.Quo(sum, big.NewRat(n, 1))
	m2 := new(big.Rat)
	d := new(big.Rat)
	for _, x := range xs {
		d.Sub(new(big.Rat).SetFloat64(x), mean)
		m2.Add(m2, d.Mul(d, d))
	}
	div := n
	if samp {
		div--
	}
	v, _ := m2.Quo(m2, big.NewRat(div, 1)).Float64()
	if fn == physical.AggStddevSamp || fn == physical.AggStddevPop {
		v = math.Sqrt(v)
	}
	return v, true
}

// asFloat is the float64 an argument value is aggregated as.
func asFloat(v any, t arrow.DataType) float64 {
	switch v := v.(type) {
	case int:
		if d, ok := t.(*arrow.Decimal128Type); ok {
			return decToFloat(decimal128.FromI64(int64(v)), d.Scale)
		}
		return float64(v)
	case float64:
		return v
	case decimal128.Num:
		return decToFloat(v, t.(*arrow.Decimal128Type).Scale)
	}
	panic(fmt.Sprintf("asFloat %T", v))
}

func closeTo(got, want, tol float64) bool {
	if want == 0 {
		return got == 0
	}
	return math.Abs(got-want) <= tol*math.Abs(want)
}

// mergeTol is the relative error allowed of the variance of xs after
// merging partial states. A state carries its mean as a float64, so the
// difference of two merged means is off by up to an ulp of the mean, and
// M2 gains na·nb/n·2δ·ulp: relatively about ulp(mean)/(σ√n). Within one
// aggregate (no merge), or for data not far from zero relative to its
// spread, 1e-9 holds.
func mergeTol(xs []float64) float64 {
	if len(xs) < 2 {
		return 1e-9
	}
	var mean float64
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	var m2 float64
	for _, x := range xs {
		m2 += (x - mean) * (x - mean)
	}
	sigma := math.Sqrt(m2 / float64(len(xs)))
	if sigma == 0 {
		return 1e-9
	}
	return max(1e-9, 4*0x1p-52*math.Abs(mean)/(sigma*math.Sqrt(float64(len(xs)))))
}

func TestVarianceAggregates(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	// gen makes n rows over keys 0..nkeys-1 (and NULL keys) with a
	// fraction nulls of NULL arguments.
	gen := func(n, nkeys int, nulls float64, val func(i int) any) ([]any, []any) {
		keys, vals := make([]any, n), make([]any, n)
		for i := range keys {
			if k := r.IntN(nkeys + 1); k < nkeys {
				keys[i] = k
			}
			if r.Float64() >= nulls {
				vals[i] = val(i)
			}
		}
		return keys, vals
	}
	type tcase struct {
		name       string
		t          arrow.DataType
		keys, vals []any
	}
	var cases []tcase
	add := func(name string, t arrow.DataType, keys, vals []any) {
		cases = append(cases, tcase{name, t, keys, vals})
	}
	k, v := gen(500, 3, 0.2, func(int) any { return r.IntN(2001) - 1000 })
	add("int64 with nulls", i64, k, v)
	k, v = gen(300, 4, 0.1, func(int) any { return r.IntN(1<<31) - 1<<30 })
	add("int32", i32, k, v)
	k, v = gen(400, 2, 0.3, func(int) any { return r.NormFloat64()*1e3 + 5 })
	add("float64", f64, k, v)
	k, v = gen(400, 3, 0.25, func(int) any { return r.IntN(2_000_000) - 1_000_000 })
	add("decimal(12,2)", dec(12, 2), k, v)
	k, v = gen(100, 2, 0, func(int) any { return decimal128.New(r.Int64N(1<<20), r.Uint64()) })
	add("decimal(38,4) beyond int64", dec(38, 4), k, v)
	add("single row", i64, []any{1}, []any{42})
	add("all null", f64, []any{1, 1, 2}, []any{nil, nil, nil})
	add("empty", i64, []any{}, []any{})
	add("constant", f64, []any{1, 1, 1, 1, 2, 2}, []any{0.1, 0.1, 0.1, 0.1, 3.0, 3.0})
	// Far from zero with a small spread: a naive sum of squares loses all
	// digits, and even Welford's update without a shift would lose some.
	k, v = gen(20000, 2, 0.05, func(int) any { return 1e9 + float64(r.IntN(1000))*0.001 })
	add("hard float64 near 1e9", f64, k, v)
	k, v = gen(20000, 2, 0.05, func(int) any { return 1_000_000_000 + r.IntN(3) })
	add("hard int64 near 1e9", i64, k, v)
	k, v = gen(5000, 2, 0, func(int) any { return 100_000_000_000 + r.IntN(100) })
	add("hard decimal near 1e9", dec(15, 2), k, v)
	k, v = gen(5000, 1, 0, func(int) any { return -1e12 + float64(r.IntN(7)) })
	add("hard negative", f64, k, v)

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			schema := fields(f("k", i64), f("v", tc.t))
			var aggs []physical.AggCall
			for _, fn := range varFns {
				aggs = append(aggs, call(fn, col(1, tc.t), f64))
			}
			for _, grouped := range []bool{false, true} {
				// Expected values from the raw rows.
				byKey := map[string][]float64{}
				distinct := map[string][]float64{}
				seen := map[string]bool{}
				if !grouped {
					byKey[""], distinct[""] = nil, nil
				}
				for i, kv := range tc.keys {
					key := ""
					if grouped {
						key = "NULL"
						if kv != nil {
							key = strconv.Itoa(kv.(int))
						}
						if _, ok := byKey[key]; !ok {
							byKey[key], distinct[key] = nil, nil
						}
					}
					if tc.vals[i] == nil {
						continue
					}
					x := asFloat(tc.vals[i], tc.t)
					byKey[key] = append(byKey[key], x)
					if sk := key + "|" + strconv.FormatFloat(x, 'g', -1, 64); !seen[sk] {
						seen[sk] = true
						distinct[key] = append(distinct[key], x)
					}
				}
				check := func(t *testing.T, got aggResult, want map[string][]float64, merged bool) {
					t.Helper()
					if len(got) != len(want) {
						t.Fatalf("%d groups, want %d", len(got), len(want))
					}
					for key, xs := range want {
						row, ok := got[key]
						if !ok {
							t.Fatalf("group %q missing", key)
						}
						tol := 1e-9
						if merged {
							tol = mergeTol(xs)
						}
						for j, fn := range varFns {
							w, valid := exactVar(fn, xs)
							switch {
							case !valid && row[j] != nil:
								t.Errorf("group %q %s = %v, want NULL", key, fn, row[j])
							case valid && row[j] == nil:
								t.Errorf("group %q %s = NULL, want %v", key, fn, w)
							case valid && !closeTo(row[j].(float64), w, tol):
								t.Errorf("group %q %s = %v, want %v (rel err %.3g)", key, fn, row[j], w, math.Abs(row[j].(float64)-w)/w)
							}
						}
					}
				}
				for _, parts := range []int{0, 1, 3, 8} {
					t.Run(fmt.Sprintf("grouped=%v/parts=%d", grouped, parts), func(t *testing.T) {
						mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
						defer mem.AssertSize(t, 0)
						check(t, runAggPhases(t, mem, schema, tc.keys, tc.vals, grouped, aggs, parts), byKey, parts > 1)
					})
				}
				t.Run(fmt.Sprintf("grouped=%v/distinct", grouped), func(t *testing.T) {
					mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
					defer mem.AssertSize(t, 0)
					daggs := make([]physical.AggCall, len(aggs))
					for i, a := range aggs {
						a.Distinct = true
						daggs[i] = a
					}
					check(t, runAggPhases(t, mem, schema, tc.keys, tc.vals, grouped, daggs, 0), distinct, false)
				})
			}
		})
	}
}

// TestVariancePartialState checks the (count, mean, m2) state a partial
// aggregate emits, including an empty group.
func TestVariancePartialState(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := fields(f("k", i64), f("v", f64))
	b := record(t, mem, schema, []any{1, 1, 1, 2}, []any{1e9 + 1, 1e9 + 2, 1e9 + 6, nil})
	defer b.Release()
	n := aggNode(valuesNode(schema, b), physical.AggPartial, []physical.Expr{col(0, i64)}, call(physical.AggVarSamp, col(1, f64), f64))
	rows, err := runOp(t, buildOp(t, n, mem))
	if err != nil {
		t.Fatal(err)
	}
	equalRows(t, rows, [][]string{{"1", "3", "1.000000003e+09", "14"}, {"2", "0", "0", "0"}})
}

func TestApproxCountDistinct(t *testing.T) {
	type tcase struct {
		name       string
		t          arrow.DataType
		keys, vals []any
		// tol is the allowed relative error of each group's estimate; 0
		// wants small counts nearly exact (linear counting): exact up to
		// 10, then within 1 + 3%.
		tol float64
	}
	r := rand.New(rand.NewPCG(3, 4))
	var cases []tcase
	// distinctRows makes rows with ndistinct[k] distinct values of group k
	// (from val), each repeated, shuffled, with some NULLs.
	distinctRows := func(ndistinct []int, val func(i int) any) ([]any, []any) {
		var keys, vals []any
		next := 0
		for k, n := range ndistinct {
			for i := 0; i < n; i++ {
				v := val(next + i)
				for rep := 0; rep < 1+i%3; rep++ {
					keys, vals = append(keys, k), append(vals, v)
				}
			}
			next += n / 2 // groups share half their values
			keys, vals = append(keys, k), append(vals, nil)
		}
		r.Shuffle(len(keys), func(i, j int) {
			keys[i], keys[j] = keys[j], keys[i]
			vals[i], vals[j] = vals[j], vals[i]
		})
		return keys, vals
	}
	small := []int{0, 1, 2, 3, 5, 10, 17, 40, 64, 99}
	k, v := distinctRows(small, func(i int) any { return i*7919 - 50000 })
	cases = append(cases, tcase{"small int64", i64, k, v, 0})
	k, v = distinctRows(small, func(i int) any { return "s" + strconv.Itoa(i) })
	cases = append(cases, tcase{"small strings", str, k, v, 0})
	k, v = distinctRows(small, func(i int) any { return float64(i) / 3 })
	cases = append(cases, tcase{"small float64", f64, k, v, 0})
	k, v = distinctRows(small, func(i int) any { return i - 30 })
	cases = append(cases, tcase{"small decimal", dec(10, 3), k, v, 0})
	k, v = distinctRows(small, func(i int) any { return i * 1000 })
	cases = append(cases, tcase{"small int32", i32, k, v, 0})
	k, v = distinctRows([]int{1, 2}, func(i int) any { return i%2 == 0 })
	cases = append(cases, tcase{"bool", bln, k, v, 0})
	// Groups around the sparse-to-dense switch and past linear counting.
	k, v = distinctRows([]int{200, 300, 1000, 5000, 20000}, func(i int) any { return int(r.Uint64() >> 1) })
	cases = append(cases, tcase{"medium int64", i64, k, v, 0.03})
	// 100k distinct values, as int64 and as strings.
	n := 100_000
	keys := make([]any, n+n/2)
	ints := make([]any, len(keys))
	strs := make([]any, len(keys))
	for i := range keys {
		keys[i] = 0
		ints[i] = (i % n) * 104729
		strs[i] = fmt.Sprintf("user-%08d@example.com", i%n)
	}
	cases = append(cases, tcase{"100k int64", i64, keys, ints, 0.03}, tcase{"100k strings", str, keys, strs, 0.03})

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			schema := fields(f("k", i64), f("v", tc.t))
			aggs := []physical.AggCall{call(physical.AggApproxCountDistinct, col(1, tc.t), i64)}
			for _, grouped := range []bool{false, true} {
				want := map[string]int{}
				seen := map[string]bool{}
				if !grouped {
					want[""] = 0
				}
				for i, kv := range tc.keys {
					key := ""
					if grouped {
						key = strconv.Itoa(kv.(int))
						if _, ok := want[key]; !ok {
							want[key] = 0
						}
					}
					if tc.vals[i] == nil {
						continue
					}
					if sk := fmt.Sprintf("%s|%v", key, tc.vals[i]); !seen[sk] {
						seen[sk] = true
						want[key]++
					}
				}
				var single aggResult
				for _, parts := range []int{0, 1, 4} {
					t.Run(fmt.Sprintf("grouped=%v/parts=%d", grouped, parts), func(t *testing.T) {
						mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
						defer mem.AssertSize(t, 0)
						got := runAggPhases(t, mem, schema, tc.keys, tc.vals, grouped, aggs, parts)
						if len(got) != len(want) {
							t.Fatalf("%d groups, want %d", len(got), len(want))
						}
						for key, w := range want {
							est := got[key][0].(int64)
							allowed := tc.tol * float64(w)
							if tc.tol == 0 && w > 10 {
								allowed = 1 + 0.03*float64(w)
							}
							if d := math.Abs(float64(est - int64(w))); d > allowed {
								t.Errorf("group %q: estimate %d, want %d (within %g)", key, est, w, tc.tol)
							}
						}
						// Merging sketches is exact: any split estimates
						// what one sketch of all rows does.
						if parts == 0 {
							single = got
						} else if single != nil {
							for key, row := range single {
								if got[key][0] != row[0] {
									t.Errorf("group %q: %d after merging %d partials, %d in one phase", key, got[key][0], parts, row[0])
								}
							}
						}
					})
				}
			}
		})
	}
}

// TestApproxCountDistinctDistinctFlag checks that DISTINCT is accepted, and
// in partial mode, without changing the estimate.
func TestApproxCountDistinctDistinctFlag(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := fields(f("k", i64), f("v", str))
	keys, vals := []any{1, 1, 1, 2, 2}, []any{"a", "b", "a", nil, "c"}
	plain := []physical.AggCall{call(physical.AggApproxCountDistinct, col(1, str), i64)}
	dist := []physical.AggCall{{Fn: physical.AggApproxCountDistinct, Arg: col(1, str), T: i64, Distinct: true}}
	for _, parts := range []int{0, 2} {
		want := runAggPhases(t, mem, schema, keys, vals, true, plain, parts)
		got := runAggPhases(t, mem, schema, keys, vals, true, dist, parts)
		if fmt.Sprint(got) != fmt.Sprint(want) || want["1"][0] != int64(2) || want["2"][0] != int64(1) {
			t.Errorf("parts %d: DISTINCT %v, plain %v", parts, got, want)
		}
	}
}

// TestStatsUpdateSel checks the in-place selection loops against folding
// the gathered rows.
func TestStatsUpdateSel(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const n = 1000
	mk := func(mem memory.Allocator, dt arrow.DataType) arrow.Array {
		b := array.NewBuilder(mem, dt)
		defer b.Release()
		for i := 0; i < n; i++ {
			if r.IntN(6) == 0 {
				b.AppendNull()
				continue
			}
			x := r.Int64N(1000)
			switch b := b.(type) {
			case *array.Int64Builder:
				b.Append(1e9 + x)
			case *array.Int32Builder:
				b.Append(int32(x))
			case *array.Float64Builder:
				b.Append(float64(x) / 7)
			case *array.Decimal128Builder:
				b.Append(decimal128.FromI64(x))
			case *array.StringBuilder:
				b.Append("v" + strconv.FormatInt(x, 10))
			}
		}
		return b.NewArray()
	}
	var sel []int32
	for i := 0; i < n; i++ {
		if r.IntN(4) != 0 {
			sel = append(sel, int32(i))
		}
	}
	gids := make([]uint32, len(sel))
	for j := range gids {
		gids[j] = uint32(r.IntN(5))
	}
	cases := []struct {
		fn string
		dt arrow.DataType
	}{
		{physical.AggVarSamp, i64}, {physical.AggStddevPop, i32}, {physical.AggVarPop, f64}, {physical.AggStddevSamp, dec(9, 2)},
		{physical.AggApproxCountDistinct, i64}, {physical.AggApproxCountDistinct, str}, {physical.AggApproxCountDistinct, dec(9, 2)},
	}
	for _, tc := range cases {
		t.Run(tc.fn+"/"+tc.dt.String(), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			c := call(tc.fn, col(0, tc.dt), f64)
			outT := arrow.DataType(f64)
			if tc.fn == physical.AggApproxCountDistinct {
				outT = i64
			}
			arr := mk(mem, tc.dt)
			defer arr.Release()
			inPlace, err := newAggregator(&c, physical.AggSingle, tc.dt, mem)
			if err != nil {
				t.Fatal(err)
			}
			inPlace.grow(5)
			done, err := inPlace.(selUpdater).updateSel(gids, sel, []arrow.Array{arr})
			if err != nil || !done {
				t.Fatalf("updateSel: %v, %v", done, err)
			}
			gathered, err := newAggregator(&c, physical.AggSingle, tc.dt, mem)
			if err != nil {
				t.Fatal(err)
			}
			gathered.grow(5)
			g, err := gatherArrays(mem, []arrow.Array{arr}, sel)
			if err != nil {
				t.Fatal(err)
			}
			err = gathered.update(gids, g)
			releaseAll(g)
			if err != nil {
				t.Fatal(err)
			}
			got, err := inPlace.result(mem, 5, []arrow.DataType{outT})
			if err != nil {
				t.Fatal(err)
			}
			defer releaseAll(got)
			want, err := gathered.result(mem, 5, []arrow.DataType{outT})
			if err != nil {
				t.Fatal(err)
			}
			defer releaseAll(want)
			if !array.Equal(got[0], want[0]) {
				t.Errorf("in place %v, gathered %v", got[0], want[0])
			}
		})
	}
}

// TestStatsAggScanSelection runs the new aggregates over a filtering scan
// (rows reach the aggregate as a selection) and over a Filter node (rows
// copied) and wants the same answer.
func TestStatsAggScanSelection(t *testing.T) {
	dir := t.TempDir()
	path := writeTestParquet(t, dir, 30000, 7000)
	cols := []physical.ScanColumn{scId, scGrp, scAmt, scQty, scFlag}
	lit := func(v int64) physical.Expr { return &physical.Literal{Value: v, T: i64} }
	mod := &physical.Call{Fn: physical.FnMod, Args: []physical.Expr{col(0, i64), lit(3)}, T: i64}
	pred := &physical.Call{Fn: physical.FnNe, Args: []physical.Expr{mod, lit(0)}, T: bln}
	toF64 := func(e physical.Expr) physical.Expr {
		return &physical.Call{Fn: physical.FnCast, Args: []physical.Expr{e}, T: f64}
	}
	checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer checked.AssertSize(t, 0)
	run := func(inScan bool) [][]string {
		scan := scanNode(path, allRowGroups(30000, 7000), cols)
		var in physical.Node = scan
		if inScan {
			scan.Filter = pred
		} else {
			in = &physical.Filter{Base: base(scan.Schema()), Input: scan, Pred: pred}
		}
		agg := aggNode(in, physical.AggSingle, []physical.Expr{col(1, str)},
			call(physical.AggVarSamp, col(2, dec(12, 2)), f64),
			call(physical.AggStddevPop, col(3, i64), f64),
			call(physical.AggApproxCountDistinct, col(0, i64), i64),
			call(physical.AggApproxCountDistinct, col(3, i64), i64),
			regrCallOf(physical.AggCorr, toF64(col(2, dec(12, 2))), toF64(col(3, i64))),
			regrCallOf(physical.AggRegrIntercept, toF64(col(3, i64)), toF64(col(0, i64))),
			regrCallOf(physical.AggRegrCount, toF64(col(2, dec(12, 2))), toF64(col(3, i64))),
		)
		srt := &physical.Sort{Base: base(agg.Schema()), Input: agg, Keys: []physical.SortKey{{Col: 0}}}
		rows, _, err := runPlan(t, onePlan(srt), Options{Alloc: checked, Parallelism: 2})
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	got, want := run(true), run(false)
	if len(want) < 2 {
		t.Fatalf("only %d groups", len(want))
	}
	equalRows(t, got, want)
}

var regrFns = []string{
	physical.AggCorr, physical.AggCovarPop, physical.AggCovarSamp, physical.AggRegrSlope,
	physical.AggRegrIntercept, physical.AggRegrR2, physical.AggRegrCount, physical.AggRegrAvgX,
	physical.AggRegrAvgY, physical.AggRegrSXX, physical.AggRegrSYY, physical.AggRegrSXY,
}

// regrCall is fn(y, x) over float64 columns y and x.
func regrCall(fn string, y, x int) physical.AggCall {
	return regrCallOf(fn, col(y, f64), col(x, f64))
}

// regrCallOf is fn(y, x) over float64 expressions.
func regrCallOf(fn string, y, x physical.Expr) physical.AggCall {
	t := f64
	if fn == physical.AggRegrCount {
		t = i64
	}
	pair := &physical.Call{Fn: physical.AggArgPair, Args: []physical.Expr{y, x}, T: f64}
	return physical.AggCall{Fn: fn, Arg: pair, T: t}
}

// exactRegr computes fn over the pairs (ys[i], xs[i]) exactly (in
// rationals, a square root last), with PostgreSQL's NULL rules; ok is false
// for NULL. scale is the magnitude the result's error is measured against:
// a difference of large terms (an intercept, a co-moment of uncorrelated
// data) can be exactly 0 or tiny where the terms are not.
func exactRegr(fn string, ys, xs []float64) (want any, scale float64, ok bool) {
	n := int64(len(xs))
	if fn == physical.AggRegrCount {
		return n, 0, true
	}
	if n == 0 || fn == physical.AggCovarSamp && n < 2 {
		return nil, 0, false
	}
	rat := func(v float64) *big.Rat { return new(big.Rat).SetFloat64(v) }
	mean := func(vs []float64) *big.Rat {
		s := new(big.Rat)
		for _, v := range vs {
			s.Add(s, rat(v))
		}
		return s.Quo(s, big.NewRat(n, 1))
	}
	mx, my := mean(xs), mean(ys)
	sxx, syy, sxy := new(big.Rat), new(big.Rat), new(big.Rat)
	for i := range xs {
		dx := new(big.Rat).Sub(rat(xs[i]), mx)
		dy := new(big.Rat).Sub(rat(ys[i]), my)
		sxx.Add(sxx, new(big.Rat).Mul(dx, dx))
		syy.Add(syy, new(big.Rat).Mul(dy, dy))
		sxy.Add(sxy, new(big.Rat).Mul(dx, dy))
	}
	fl := func(r *big.Rat) float64 { v, _ := r.Float64(); return v }
	nf := float64(n)
	fxx, fyy, fxy := fl(sxx), fl(syy), fl(sxy)
	// The size of a co-moment's terms: |Sxy| <= sqrt(Sxx Syy).
	cscale := math.Sqrt(fxx) * math.Sqrt(fyy)
	switch fn {
	case physical.AggCovarPop:
		return fl(new(big.Rat).Quo(sxy, big.NewRat(n, 1))), cscale / nf, true
	case physical.AggCovarSamp:
		return fl(new(big.Rat).Quo(sxy, big.NewRat(n-1, 1))), cscale / (nf - 1), true
	case physical.AggRegrSXY:
		return fxy, cscale, true
	case physical.AggRegrSXX:
		return fxx, fxx, true
	case physical.AggRegrSYY:
		return fyy, fyy, true
	case physical.AggRegrAvgX:
		return fl(mx), math.Abs(fl(mx)), true
	case physical.AggRegrAvgY:
		return fl(my), math.Abs(fl(my)), true
	}
	if sxx.Sign() == 0 || fn == physical.AggCorr && syy.Sign() == 0 {
		return nil, 0, false
	}
	slope := new(big.Rat).Quo(sxy, sxx)
	switch fn {
	case physical.AggCorr:
		return fxy / (math.Sqrt(fxx) * math.Sqrt(fyy)), 1, true
	case physical.AggRegrR2:
		if syy.Sign() == 0 {
			return 1.0, 1, true
		}
		return fl(new(big.Rat).Quo(new(big.Rat).Mul(sxy, slope), syy)), 1, true
	case physical.AggRegrSlope:
		return fl(slope), math.Sqrt(fyy / fxx), true
	case physical.AggRegrIntercept:
		ic := new(big.Rat).Sub(my, new(big.Rat).Mul(mx, slope))
		return fl(ic), math.Abs(fl(my)) + math.Abs(fl(mx))*math.Sqrt(fyy/fxx), true
	}
	panic("exactRegr " + fn)
}

func TestRegressionAggregates(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	type tcase struct {
		name        string
		keys, ys, x []any
	}
	var cases []tcase
	// gen makes n rows over keys 0..nkeys-1 (and NULL keys); y and x are
	// each NULL with probability nulls.
	gen := func(name string, n, nkeys int, nulls float64, pair func() (float64, float64)) {
		c := tcase{name: name, keys: make([]any, n), ys: make([]any, n), x: make([]any, n)}
		for i := 0; i < n; i++ {
			if k := r.IntN(nkeys + 1); k < nkeys {
				c.keys[i] = k
			}
			y, x := pair()
			if r.Float64() >= nulls {
				c.ys[i] = y
			}
			if r.Float64() >= nulls {
				c.x[i] = x
			}
		}
		cases = append(cases, c)
	}
	gen("correlated with nulls", 600, 3, 0.15, func() (float64, float64) {
		x := r.NormFloat64() * 10
		return 3*x + 7 + r.NormFloat64(), x
	})
	gen("independent", 400, 2, 0.1, func() (float64, float64) { return r.NormFloat64(), r.NormFloat64() * 100 })
	gen("integers", 300, 4, 0, func() (float64, float64) {
		return float64(r.IntN(2001) - 1000), float64(r.IntN(50))
	})
	// Far from zero with a small spread: without the shift the moments
	// would lose their digits.
	gen("hard near 1e9", 20000, 2, 0.05, func() (float64, float64) {
		x := float64(r.IntN(1000)) * 0.001
		return 1e9 - 2*x + float64(r.IntN(3))*0.001, 1e9 + x
	})
	gen("constant x", 50, 2, 0.1, func() (float64, float64) { return r.NormFloat64(), 4.25 })
	gen("constant y", 50, 2, 0.1, func() (float64, float64) { return -1e6, r.NormFloat64() })
	gen("constant both", 30, 1, 0, func() (float64, float64) { return 1, 2 })
	cases = append(cases,
		tcase{"single row", []any{1}, []any{2.0}, []any{3.0}},
		tcase{"two rows", []any{1, 1}, []any{2.0, 5.0}, []any{3.0, 4.0}},
		tcase{"no complete pair", []any{1, 1, 2}, []any{nil, 1.0, nil}, []any{1.0, nil, nil}},
		tcase{"empty", []any{}, []any{}, []any{}},
		// Sxx·Syy overflows, resp. underflows, though corr and regr_r2 do not.
		tcase{"huge", []any{1, 1, 1}, []any{1e100, 3e100, 2e100}, []any{1e100, 2e100, 3e100}},
		tcase{"tiny", []any{1, 1, 1}, []any{1e-100, 3e-100, 2e-100}, []any{1e-100, 2e-100, 3e-100}},
	)
	schema := fields(f("k", i64), f("y", f64), f("x", f64))
	var aggs []physical.AggCall
	for _, fn := range regrFns {
		aggs = append(aggs, regrCall(fn, 1, 2))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, grouped := range []bool{false, true} {
				ys, xs := map[string][]float64{}, map[string][]float64{}
				if !grouped {
					ys[""], xs[""] = nil, nil
				}
				for i, kv := range tc.keys {
					key := ""
					if grouped {
						key = "NULL"
						if kv != nil {
							key = strconv.Itoa(kv.(int))
						}
						if _, ok := ys[key]; !ok {
							ys[key], xs[key] = nil, nil
						}
					}
					if tc.ys[i] == nil || tc.x[i] == nil {
						continue
					}
					ys[key] = append(ys[key], tc.ys[i].(float64))
					xs[key] = append(xs[key], tc.x[i].(float64))
				}
				for _, parts := range []int{0, 1, 3, 8} {
					t.Run(fmt.Sprintf("grouped=%v/parts=%d", grouped, parts), func(t *testing.T) {
						mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
						defer mem.AssertSize(t, 0)
						got := runAggPhasesCols(t, mem, schema, [][]any{tc.keys, tc.ys, tc.x}, grouped, aggs, parts)
						if len(got) != len(ys) {
							t.Fatalf("%d groups, want %d", len(got), len(ys))
						}
						for key := range ys {
							row, ok := got[key]
							if !ok {
								t.Fatalf("group %q missing", key)
							}
							tol := 1e-9
							if parts > 1 {
								tol = max(mergeTol(xs[key]), mergeTol(ys[key]))
							}
							for j, fn := range regrFns {
								want, scale, valid := exactRegr(fn, ys[key], xs[key])
								switch {
								case !valid && row[j] != nil:
									t.Errorf("group %q %s = %v, want NULL", key, fn, row[j])
								case valid && row[j] == nil:
									t.Errorf("group %q %s = NULL, want %v", key, fn, want)
								case !valid:
								case fn == physical.AggRegrCount:
									if row[j] != want {
										t.Errorf("group %q %s = %v, want %v", key, fn, row[j], want)
									}
								default:
									g, w := row[j].(float64), want.(float64)
									if math.Abs(g-w) > tol*scale {
										t.Errorf("group %q %s = %v, want %v (error %.3g of scale %.3g)", key, fn, g, w, math.Abs(g-w), scale)
									}
								}
							}
						}
					})
				}
			}
		})
	}
}

// TestRegressionPartialState checks the (count, mean x, mean y, m2 x, m2
// y, co-moment) state a partial aggregate emits, including an empty group
// and pairs with one NULL side.
func TestRegressionPartialState(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := fields(f("k", i64), f("y", f64), f("x", f64))
	b := record(t, mem, schema, []any{1, 1, 1, 1, 2}, []any{1e9 + 2, 1e9 + 4, 1e9 + 9, 5.0, nil}, []any{1.0, 2.0, 3.0, nil, 1.0})
	defer b.Release()
	n := aggNode(valuesNode(schema, b), physical.AggPartial, []physical.Expr{col(0, i64)}, regrCall(physical.AggCorr, 1, 2))
	rows, err := runOp(t, buildOp(t, n, mem))
	if err != nil {
		t.Fatal(err)
	}
	// x: mean 2, m2 2; y: mean 1e9+5, m2 26; co-moment (-1)(-3)+0+(1)(4) = 7.
	equalRows(t, rows, [][]string{{"1", "3", "2", "1.000000005e+09", "2", "26", "7"}, {"2", "0", "0", "0", "0", "0", "0"}})
}
