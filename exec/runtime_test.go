package exec

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/exec/kernels"
	"github.com/quarrydb/quarry/planner/physical"
)

var tsMicro = &arrow.TimestampType{Unit: arrow.Microsecond}

func scanNode(path string, rowGroups []int, cols []physical.ScanColumn) *physical.ParquetScan {
	var fs []arrow.Field
	for _, c := range cols {
		fs = append(fs, f(c.Name, c.T))
	}
	return &physical.ParquetScan{
		Base:    base(fields(fs...)),
		Table:   "t",
		Files:   []physical.ScanFile{{Path: path, RowGroups: rowGroups, PartitionValues: []any{"p=2024"}}},
		Columns: cols,
		Limit:   -1,
	}
}

var (
	scId   = physical.ScanColumn{Name: "id", FileColumn: 0, T: i64}
	scGrp  = physical.ScanColumn{Name: "grp", FileColumn: 1, T: str}
	scD    = physical.ScanColumn{Name: "d", FileColumn: 2, T: date}
	scAmt  = physical.ScanColumn{Name: "amt", FileColumn: 3, T: dec(12, 2)}
	scQty  = physical.ScanColumn{Name: "qty", FileColumn: 4, T: i64}
	scTs   = physical.ScanColumn{Name: "ts", FileColumn: 5, T: tsMicro}
	scFlag = physical.ScanColumn{Name: "flag", FileColumn: 6, T: bln}
	scPart = physical.ScanColumn{Name: "part", FileColumn: -1, Partition: 0, T: str}
)

// gatherPlan runs producer as a fragment of par instances gathered into a
// root fragment that applies root (given the exchange source).
func gatherPlan(producer physical.Node, par int, root func(src physical.Node) physical.Node) *physical.Plan {
	src := &physical.ExchangeSource{Base: base(producer.Schema()), Fragment: 0}
	return &physical.Plan{Fragments: []*physical.Fragment{
		{ID: 0, Root: producer, Parallelism: par, Consumer: 1, Output: physical.Gather},
		{ID: 1, Root: root(src), Consumer: -1},
	}}
}

func sortBy(cols ...int) func(physical.Node) physical.Node {
	return func(in physical.Node) physical.Node {
		var keys []physical.SortKey
		for _, c := range cols {
			keys = append(keys, physical.SortKey{Col: c})
		}
		return &physical.Sort{Base: base(in.Schema()), Input: in, Keys: keys}
	}
}

func rowCell(r testRow, c physical.ScanColumn) string {
	switch c.Name {
	case "id":
		return strconv.FormatInt(r.id, 10)
	case "grp":
		if r.grp == nil {
			return "NULL"
		}
		return *r.grp
	case "d":
		return arrow.Date32(r.d).FormattedString()
	case "amt":
		return physical.FormatDecimal(decimal128.FromI64(r.amt), 2)
	case "qty":
		if r.qty == nil {
			return "NULL"
		}
		return strconv.FormatInt(*r.qty, 10)
	case "ts":
		return physical.FormatTimestamp(arrow.Timestamp(r.ts / 1000))
	case "flag":
		return strconv.FormatBool(r.flag)
	case "part":
		return "p=2024"
	}
	panic(c.Name)
}

func TestParquetScan(t *testing.T) {
	const n, rg = 5000, 1000
	path := writeTestParquet(t, t.TempDir(), n, rg)
	rows := testRows(n)
	expect := func(cols []physical.ScanColumn, groups []int, keep func(testRow) bool) [][]string {
		var out [][]string
		for _, g := range groups {
			for _, r := range rows[g*rg : min((g+1)*rg, n)] {
				if keep != nil && !keep(r) {
					continue
				}
				row := make([]string, len(cols))
				for i, c := range cols {
					row[i] = rowCell(r, c)
				}
				out = append(out, row)
			}
		}
		return out
	}
	all := []physical.ScanColumn{scId, scGrp, scD, scAmt, scQty, scTs, scFlag, scPart}
	cases := []struct {
		name   string
		cols   []physical.ScanColumn
		groups []int
		filter physical.Expr
		keep   func(testRow) bool
		par    int
	}{
		{name: "all columns", cols: all, groups: allRowGroups(n, rg), par: 4},
		{name: "some row groups", cols: []physical.ScanColumn{scId, scTs}, groups: []int{1, 3}, par: 2},
		{name: "reordered and repeated", cols: []physical.ScanColumn{scId, scQty, scGrp, scQty}, groups: []int{4, 0}, par: 3},
		{name: "filter", cols: []physical.ScanColumn{scId, scFlag, scPart}, groups: allRowGroups(n, rg), par: 4,
			filter: col(1, bln), keep: func(r testRow) bool { return r.flag }},
		{name: "one instance", cols: []physical.ScanColumn{scId, scAmt}, groups: allRowGroups(n, rg), par: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			s := scanNode(path, tc.groups, tc.cols)
			s.Filter = tc.filter
			got, _, err := runPlan(t, gatherPlan(s, tc.par, sortBy(0)), Options{Alloc: mem})
			if err != nil {
				t.Fatal(err)
			}
			want := expect(tc.cols, tc.groups, tc.keep)
			sort.SliceStable(want, func(i, j int) bool {
				a, _ := strconv.Atoi(want[i][0])
				b, _ := strconv.Atoi(want[j][0])
				return a < b
			})
			equalRows(t, got, want)
			mem.AssertSize(t, 0)
		})
	}
}

func TestParquetScanLimitAndPartitionOnly(t *testing.T) {
	const n, rg = 5000, 1000
	path := writeTestParquet(t, t.TempDir(), n, rg)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())

	s := scanNode(path, allRowGroups(n, rg), []physical.ScanColumn{scId, scGrp})
	s.Limit = 25
	got, _, err := runPlan(t, gatherPlan(s, 4, sortBy(0)), Options{Alloc: mem})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 25 {
		t.Fatalf("limit 25: got %d rows", len(got))
	}

	s = scanNode(path, []int{0, 2, 4}, []physical.ScanColumn{scPart})
	cnt := func(in physical.Node) physical.Node {
		return aggNode(in, physical.AggSingle, nil, call(physical.AggCountStar, nil, i64), call(physical.AggMin, col(0, str), str))
	}
	got, _, err = runPlan(t, gatherPlan(s, 2, cnt), Options{Alloc: mem})
	if err != nil {
		t.Fatal(err)
	}
	equalRows(t, got, [][]string{{"3000", "p=2024"}})
	mem.AssertSize(t, 0)
}

type groupStats struct {
	count, amt, qtySum, qtyCount int64
	qtyMin                       int64
	dMax                         int32
	hasQty                       bool
}

// TestMultiFragmentAggregate runs scan (4 instances) → partial aggregate →
// gather → final aggregate → sort, and compares with Go.
func TestMultiFragmentAggregate(t *testing.T) {
	const n, rg = 20000, 1500
	path := writeTestParquet(t, t.TempDir(), n, rg)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())

	cols := []physical.ScanColumn{scGrp, scAmt, scQty, scD}
	scan := scanNode(path, allRowGroups(n, rg), cols)
	aggs := []physical.AggCall{
		call(physical.AggCountStar, nil, i64),
		call(physical.AggSum, col(1, dec(12, 2)), dec(38, 2)),
		call(physical.AggAvg, col(2, i64), f64),
		call(physical.AggMin, col(2, i64), i64),
		call(physical.AggMax, col(3, date), date),
		call(physical.AggCount, col(2, i64), i64),
	}
	partial := aggNode(scan, physical.AggPartial, []physical.Expr{col(0, str)}, aggs...)
	plan := gatherPlan(partial, 4, func(src physical.Node) physical.Node {
		final := aggNode(src, physical.AggFinal, []physical.Expr{col(0, str)}, aggs...)
		return &physical.Sort{Base: base(final.Schema()), Input: final, Keys: []physical.SortKey{{Col: 0}}}
	})
	plan.Names = []string{"grp", "cnt", "amt", "avg_qty", "min_qty", "max_d", "cnt_qty"}
	got, e, err := runPlan(t, plan, Options{Alloc: mem})
	if err != nil {
		t.Fatal(err)
	}
	if name := e.Schema().Field(3).Name; name != "avg_qty" {
		t.Errorf("schema names: got %q", name)
	}

	stats := map[string]*groupStats{}
	var keys []string
	for _, r := range testRows(n) {
		k := "NULL"
		if r.grp != nil {
			k = *r.grp
		}
		g := stats[k]
		if g == nil {
			g = &groupStats{}
			stats[k] = g
			keys = append(keys, k)
		}
		g.count++
		g.amt += r.amt
		if r.qty != nil {
			if !g.hasQty || *r.qty < g.qtyMin {
				g.qtyMin = *r.qty
			}
			g.hasQty = true
			g.qtySum += *r.qty
			g.qtyCount++
		}
		g.dMax = max(g.dMax, r.d)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[j] == "NULL" {
			return keys[i] != "NULL"
		}
		return keys[i] != "NULL" && keys[i] < keys[j]
	})
	var want [][]string
	for _, k := range keys {
		g := stats[k]
		want = append(want, []string{k, strconv.FormatInt(g.count, 10), physical.FormatDecimal(decimal128.FromI64(g.amt), 2),
			physical.FormatFloat(float64(g.qtySum) / float64(g.qtyCount)), strconv.FormatInt(g.qtyMin, 10),
			arrow.Date32(g.dMax).FormattedString(), strconv.FormatInt(g.qtyCount, 10)})
	}
	equalRows(t, got, want)

	st := e.Stats()
	if s := st[scan.ID]; s.Rows != n || s.Batches < int64(len(allRowGroups(n, rg))) || s.Nanos <= 0 {
		t.Errorf("scan stats: %+v", s)
	}
	if s := st[partial.ID]; s.Rows < int64(len(keys)) || s.Rows > 4*int64(len(keys)) {
		t.Errorf("partial stats: %+v", s)
	}
	if s := st[plan.Root().Root.NodeID()]; s.Rows != int64(len(keys)) || s.Batches != 1 {
		t.Errorf("sort stats: %+v", s)
	}
	mem.AssertSize(t, 0)
}

// TestExchangeDistributions sends a scan through each distribution to a
// two-instance middle fragment and checks the per-group counts.
func TestExchangeDistributions(t *testing.T) {
	const n, rg = 12000, 1000
	path := writeTestParquet(t, t.TempDir(), n, rg)
	counts := map[string]int{}
	for _, r := range testRows(n) {
		k := "NULL"
		if r.grp != nil {
			k = *r.grp
		}
		counts[k]++
	}
	var keys []string
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys) // "NULL" sorts among the names; fixed below
	cases := []struct {
		dist  physical.Distribution
		mode  physical.AggMode // of the middle fragment
		times int              // each group appears this many times
		mult  int              // with this multiple of its count
	}{
		{physical.HashPartition, physical.AggSingle, 1, 1},
		{physical.Broadcast, physical.AggSingle, 2, 1},
		{physical.RoundRobin, physical.AggPartial, 1, 1},
	}
	for _, tc := range cases {
		t.Run(tc.dist.String(), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			scan := scanNode(path, allRowGroups(n, rg), []physical.ScanColumn{scId, scGrp})
			aggs := []physical.AggCall{call(physical.AggCountStar, nil, i64)}
			src0 := &physical.ExchangeSource{Base: base(scan.Schema()), Fragment: 0}
			mid := aggNode(src0, tc.mode, []physical.Expr{col(1, str)}, aggs...)
			src1 := &physical.ExchangeSource{Base: base(mid.Schema()), Fragment: 1}
			var top physical.Node = src1
			if tc.mode == physical.AggPartial {
				top = aggNode(src1, physical.AggFinal, []physical.Expr{col(0, str)}, aggs...)
			}
			root := &physical.Sort{Base: base(top.Schema()), Input: top, Keys: []physical.SortKey{{Col: 0, NullsFirst: true}, {Col: 1}}}
			plan := &physical.Plan{Fragments: []*physical.Fragment{
				{ID: 0, Root: scan, Parallelism: 3, Consumer: 1, Output: tc.dist, OutputKeys: []int{1}},
				{ID: 1, Root: mid, Parallelism: 2, Consumer: 2, Output: physical.Gather},
				{ID: 2, Root: root, Consumer: -1},
			}}
			got, _, err := runPlan(t, plan, Options{Alloc: mem})
			if err != nil {
				t.Fatal(err)
			}
			var want [][]string
			ordered := append([]string{"NULL"}, keys...)
			for _, k := range ordered {
				if k == "NULL" && len(want) > 0 {
					continue
				}
				if _, ok := counts[k]; !ok || (k == "NULL" && len(want) > 0) {
					continue
				}
				for i := 0; i < tc.times; i++ {
					want = append(want, []string{k, strconv.Itoa(counts[k] * tc.mult)})
				}
			}
			// drop the second NULL listing produced by sorting keys
			want = dedupNull(want, tc.times)
			equalRows(t, got, want)
			mem.AssertSize(t, 0)
		})
	}
}

func dedupNull(rows [][]string, times int) [][]string {
	var out [][]string
	nulls := 0
	for _, r := range rows {
		if r[0] == "NULL" {
			nulls++
			if nulls > times {
				continue
			}
		}
		out = append(out, r)
	}
	return out
}

func bigScanPlan(t *testing.T, dir string) (*physical.Plan, int) {
	const n, rg = 200000, 10000
	path := writeTestParquet(t, dir, n, rg)
	scan := scanNode(path, allRowGroups(n, rg), []physical.ScanColumn{scId, scGrp, scAmt, scTs})
	return gatherPlan(scan, 4, func(src physical.Node) physical.Node { return src }), n
}

func TestEarlyClose(t *testing.T) {
	plan, _ := bigScanPlan(t, t.TempDir())
	for _, reads := range []int{0, 1, 3} {
		t.Run(strconv.Itoa(reads), func(t *testing.T) {
			baseline := runtime.NumGoroutine()
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			e, err := Run(context.Background(), plan, Options{Alloc: mem, Parallelism: 4})
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < reads; i++ {
				b, err := e.Next(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				b.Release()
			}
			e.Close()
			e.Close()
			checkGoroutines(t, baseline)
			mem.AssertSize(t, 0)
		})
	}
}

func TestCancel(t *testing.T) {
	plan, _ := bigScanPlan(t, t.TempDir())
	baseline := runtime.NumGoroutine()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	ctx, cancel := context.WithCancel(context.Background())
	e, err := Run(ctx, plan, Options{Alloc: mem})
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b.Release()
	cancel()
	for {
		b, err := e.Next(context.Background())
		if err != nil {
			wantCode(t, err, sqlerr.QueryCanceled)
			break
		}
		b.Release()
	}
	e.Close()
	checkGoroutines(t, baseline)
	mem.AssertSize(t, 0)

	// A canceled Next context fails that call only.
	e, err = Run(context.Background(), plan, Options{Alloc: mem})
	if err != nil {
		t.Fatal(err)
	}
	done, cancel2 := context.WithCancel(context.Background())
	cancel2()
	_, err = e.Next(done)
	wantCode(t, err, sqlerr.QueryCanceled)
	e.Close()
	checkGoroutines(t, baseline)
	mem.AssertSize(t, 0)
}

func TestScanErrors(t *testing.T) {
	dir := t.TempDir()
	good := writeTestParquet(t, dir, 3000, 1000)
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.parquet")
	os.WriteFile(garbage, []byte(strings.Repeat("not parquet at all ", 100)), 0o644)
	truncated := filepath.Join(dir, "truncated.parquet")
	os.WriteFile(truncated, data[:len(data)/2], 0o644)
	cases := []struct {
		name, path, code string
		groups           []int
	}{
		{"missing", filepath.Join(dir, "nope.parquet"), sqlerr.IOError, []int{0}},
		{"garbage", garbage, sqlerr.DataCorrupted, []int{0}},
		{"truncated", truncated, sqlerr.DataCorrupted, []int{0}},
		{"no such row group", good, sqlerr.DataCorrupted, []int{7}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			baseline := runtime.NumGoroutine()
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			scan := scanNode(tc.path, tc.groups, []physical.ScanColumn{scId, scGrp})
			_, _, err := runPlan(t, gatherPlan(scan, 2, sortBy(0)), Options{Alloc: mem})
			wantCode(t, err, tc.code)
			if tc.code != sqlerr.IOError && !strings.Contains(err.Error(), filepath.Base(tc.path)) {
				t.Errorf("error does not name the file: %v", err)
			}
			checkGoroutines(t, baseline)
			mem.AssertSize(t, 0)
		})
	}
}

func TestMemoryLimit(t *testing.T) {
	plan, _ := bigScanPlan(t, t.TempDir())
	baseline := runtime.NumGoroutine()
	root := plan.Root()
	root.Root = sortBy(0)(root.Root)
	_, _, err := runPlan(t, plan, Options{MemoryLimit: 1 << 20})
	wantCode(t, err, sqlerr.OutOfMemory)
	if !strings.Contains(err.Error(), "memory limit of 1048576 bytes") {
		t.Errorf("message: %v", err)
	}
	checkGoroutines(t, baseline)

	// The same plan fits a generous limit.
	_, e, err := runPlan(t, plan, Options{MemoryLimit: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	if e.MemoryPeak() <= 0 {
		t.Errorf("peak: %d", e.MemoryPeak())
	}
}

func TestRootLimitStopsProducers(t *testing.T) {
	plan, _ := bigScanPlan(t, t.TempDir())
	baseline := runtime.NumGoroutine()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	root := plan.Root()
	root.Root = &physical.Limit{Base: base(root.Root.Schema()), Input: root.Root, N: 10}
	got, _, err := runPlan(t, plan, Options{Alloc: mem})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 10 {
		t.Fatalf("got %d rows", len(got))
	}
	checkGoroutines(t, baseline)
	mem.AssertSize(t, 0)
}

// kernelsReady reports whether kernels.Eval handles calls yet.
func kernelsReady() bool {
	mem := memory.NewGoAllocator()
	rec := record(&testing.T{}, mem, fields(f("a", i64)), []any{1, 2})
	defer rec.Release()
	arr, err := kernels.Eval(mem, &physical.Call{Fn: physical.FnGt, Args: []physical.Expr{col(0, i64), &physical.Literal{Value: int64(1), T: i64}}, T: bln}, rec)
	if err != nil {
		return false
	}
	arr.Release()
	return true
}

func TestScanFilterWithKernels(t *testing.T) {
	if !kernelsReady() {
		t.Skip("kernels.Eval does not evaluate calls yet")
	}
	const n, rg = 5000, 1000
	path := writeTestParquet(t, t.TempDir(), n, rg)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	scan := scanNode(path, allRowGroups(n, rg), []physical.ScanColumn{scId, scQty})
	scan.Filter = &physical.Call{Fn: physical.FnGt, Args: []physical.Expr{col(1, i64), &physical.Literal{Value: int64(45), T: i64}}, T: bln}
	proj := func(src physical.Node) physical.Node {
		p := &physical.Project{Base: base(fields(f("id", i64), f("q2", i64))), Input: src,
			Exprs: []physical.Expr{col(0, i64), &physical.Call{Fn: physical.FnMul, Args: []physical.Expr{col(1, i64), &physical.Literal{Value: int64(2), T: i64}}, T: i64}}}
		return &physical.Sort{Base: base(p.Schema()), Input: p, Keys: []physical.SortKey{{Col: 0}}}
	}
	got, _, err := runPlan(t, gatherPlan(scan, 3, proj), Options{Alloc: mem})
	if err != nil {
		t.Fatal(err)
	}
	var want [][]string
	for _, r := range testRows(n) {
		if r.qty != nil && *r.qty > 45 {
			want = append(want, []string{strconv.FormatInt(r.id, 10), strconv.FormatInt(*r.qty*2, 10)})
		}
	}
	equalRows(t, got, want)
	mem.AssertSize(t, 0)
}

// TestValuesSplitOverInstances checks that a Values leaf in a fragment of
// several instances emits each batch once.
func TestValuesSplitOverInstances(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	schema := fields(f("a", i64))
	var batches []arrow.Record
	for i := 0; i < 5; i++ {
		batches = append(batches, record(t, mem, schema, []any{i, i + 10}))
	}
	v := valuesNode(schema, batches...)
	plan := gatherPlan(v, 3, func(src physical.Node) physical.Node {
		return aggNode(src, physical.AggSingle, nil, call(physical.AggCountStar, nil, i64), call(physical.AggSum, col(0, i64), i64))
	})
	got, _, err := runPlan(t, plan, Options{Alloc: mem})
	if err != nil {
		t.Fatal(err)
	}
	equalRows(t, got, [][]string{{"10", "70"}})
	releaseAll(batches)
	mem.AssertSize(t, 0)
}

// sharedPlan reads a scan of n rows through two ports of one shared
// fragment: fragment 1 counts the rows of port 1; the root reads port 0
// only after that count (a union reads its inputs in turn), so port 0
// must buffer all of its rows meanwhile.
func sharedPlan(t *testing.T, dir string) (*physical.Plan, int) {
	const n, rg = 60000, 1000 // far more batches than a channel holds
	path := writeTestParquet(t, dir, n, rg)
	scan := scanNode(path, allRowGroups(n, rg), []physical.ScanColumn{scId})
	// Computed, so that the batches come from the query's allocator (a
	// scan may hand out cached row groups).
	shared := &physical.Project{Base: base(scan.Schema()), Input: scan,
		Exprs: []physical.Expr{&physical.Call{Fn: physical.FnMul, Args: []physical.Expr{col(0, i64), &physical.Literal{Value: int64(1), T: i64}}, T: i64}}}
	port1 := &physical.ExchangeSource{Base: base(scan.Schema()), Fragment: 0, Port: 1}
	count := aggNode(port1, physical.AggSingle, nil, call(physical.AggCountStar, nil, i64))
	counted := &physical.ExchangeSource{Base: base(count.Schema()), Fragment: 1}
	port0 := &physical.ExchangeSource{Base: base(scan.Schema()), Fragment: 0}
	root := &physical.UnionAll{Base: base(count.Schema()), Inputs: []physical.Node{
		counted, aggNode(port0, physical.AggSingle, nil, call(physical.AggSum, col(0, i64), i64))}}
	return &physical.Plan{Fragments: []*physical.Fragment{
		{ID: 0, Root: shared, Parallelism: 3, Consumer: 2, Ports: []int{2, 1}, Output: physical.RoundRobin},
		{ID: 1, Root: count, Parallelism: 1, Consumer: 2},
		{ID: 2, Root: root, Consumer: -1},
	}}, n
}

func TestSharedFragment(t *testing.T) {
	if !kernelsReady() {
		t.Skip("kernels.Eval does not evaluate calls yet")
	}
	plan, n := sharedPlan(t, t.TempDir())
	baseline := runtime.NumGoroutine()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e, err := Run(ctx, plan, Options{Alloc: mem})
	if err != nil {
		t.Fatal(err)
	}
	got, err := drain(t, ctx, e.Next)
	e.Close()
	if err != nil {
		t.Fatal(err)
	}
	equalRows(t, got, [][]string{{strconv.Itoa(n)}, {strconv.Itoa(n * (n - 1) / 2)}})
	if e.MemoryPeak() < int64(n*8*3/4) {
		t.Errorf("peak %d bytes: port 0 was not buffered", e.MemoryPeak())
	}
	mem.AssertSize(t, 0)
	checkGoroutines(t, baseline)

	// What port 0 buffers counts against the memory limit.
	_, _, err = runPlan(t, plan, Options{MemoryLimit: 64 << 10})
	wantCode(t, err, sqlerr.OutOfMemory)
	checkGoroutines(t, baseline)

	// Closed early, the buffered batches are released.
	mem = memory.NewCheckedAllocator(memory.NewGoAllocator())
	e, err = Run(context.Background(), plan, Options{Alloc: mem})
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b.Release()
	e.Close()
	mem.AssertSize(t, 0)
	checkGoroutines(t, baseline)
}
