package exec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"math/rand"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// ---- the test table ----

// Columns of the window test table.
const (
	wID  = iota // int64, unique
	wP          // int32 partition key, NULLs
	wQ          // string partition key, NULLs
	wO          // int64 order key with ties, NULLs
	wD          // date32 order key, NULLs
	wV          // int64 value, NULLs
	wX          // float64 value, NULLs
	wM          // decimal(12,2) value, NULLs
	wS          // string value, NULLs
	wV32        // int32 value
	wB          // boolean value, NULLs
)

var winDec = dec(12, 2)

var winSchema = fields(
	f("id", i64), f("p", i32), f("q", str), f("o", i64), f("d", date),
	f("v", i64), f("x", f64), f("m", winDec), f("s", str), f("v32", i32), f("b", arrow.FixedWidthTypes.Boolean),
)

// winRows makes n rows of small domains (many ties) with NULLs; cells are
// int64 (integers, dates, decimal units), float64 or string, nil for NULL.
func winRows(seed int64, n int) [][]any {
	r := rand.New(rand.NewSource(seed))
	maybe := func(pct int, v any) any {
		if r.Intn(100) < pct {
			return nil
		}
		return v
	}
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{
			int64(i),
			maybe(10, int64(r.Intn(4))),
			maybe(15, []string{"a", "b"}[r.Intn(2)]),
			maybe(12, int64(r.Intn(12))),
			maybe(10, int64(19000+r.Intn(15))),
			maybe(15, int64(r.Intn(201)-100)),
			maybe(15, float64(r.Intn(2001)-1000)/8),
			maybe(15, int64(r.Intn(2_000_001)-1_000_000)),
			maybe(15, fmt.Sprintf("s%02d", r.Intn(30))),
			int64(r.Intn(50)),
			maybe(15, r.Intn(3) > 0),
		}
	}
	return rows
}

// winBatches splits rows into batches of the given sizes (the rest in a
// last batch).
func winBatches(t testing.TB, mem memory.Allocator, rows [][]any, sizes []int) []arrow.Record {
	var out []arrow.Record
	for len(rows) > 0 {
		k := len(rows)
		if len(sizes) > 0 {
			k = min(sizes[0], len(rows))
			sizes = sizes[1:]
		}
		cols := make([]any, winSchema.NumFields())
		for c := range cols {
			vals := make([]any, k)
			for i, row := range rows[:k] {
				switch v := row[c].(type) {
				case int64:
					vals[i] = int(v)
				default:
					vals[i] = v
				}
			}
			cols[c] = vals
		}
		out = append(out, record(t, mem, winSchema, cols...))
		rows = rows[k:]
	}
	return out
}

// ---- building functions ----

func ref(c int) *physical.ColRef { return col(c, winSchema.Field(c).Type) }

func lit(v any, t arrow.DataType) *physical.Literal { return &physical.Literal{Value: v, T: t} }

func rowsFrame(s physical.BoundKind, so int64, e physical.BoundKind, eo int64) physical.Frame {
	return physical.Frame{Unit: physical.FrameRows,
		Start: physical.FrameBound{Kind: s, Offset: so}, End: physical.FrameBound{Kind: e, Offset: eo}}
}

func rangeFrame(s physical.BoundKind, so any, e physical.BoundKind, eo any) physical.Frame {
	return physical.Frame{Unit: physical.FrameRange,
		Start: physical.FrameBound{Kind: s, Offset: so}, End: physical.FrameBound{Kind: e, Offset: eo}}
}

var (
	fWhole  = rowsFrame(physical.UnboundedPreceding, 0, physical.UnboundedFollowing, 0)
	fRun    = rangeFrame(physical.UnboundedPreceding, nil, physical.CurrentRow, nil)
	fRows11 = rowsFrame(physical.Preceding, 1, physical.Following, 1)
)

// wf builds a function typed as the planner types it.
func wf(fn string, frame physical.Frame, args ...physical.Expr) physical.WindowFunc {
	var t arrow.DataType
	switch fn {
	case physical.WinRowNumber, physical.WinRank, physical.WinDenseRank, physical.WinNtile,
		physical.AggCount, physical.AggCountStar:
		t = i64
	case physical.WinPercentRank, physical.WinCumeDist, physical.AggAvg,
		physical.AggVarSamp, physical.AggVarPop, physical.AggStddevSamp, physical.AggStddevPop:
		t = f64
	case physical.AggRegrCount:
		t = i64
	case physical.AggStringAgg:
		t = str
	case physical.AggSum:
		switch at := args[0].Type().(type) {
		case *arrow.Decimal128Type:
			t = dec(38, at.Scale)
		case *arrow.Float64Type:
			t = f64
		default:
			t = i64
		}
	default:
		t = args[0].Type()
		if physical.TwoArg(fn) {
			t = f64
		}
	}
	return physical.WindowFunc{Fn: fn, Args: args, Frame: frame, T: t}
}

func distinct(f physical.WindowFunc) physical.WindowFunc { f.Distinct = true; return f }

func windowNode(input physical.Node, part []int, order []physical.SortKey, funcs []physical.WindowFunc) *physical.Window {
	fs := append([]arrow.Field(nil), input.Schema().Fields()...)
	for i, fn := range funcs {
		fs = append(fs, f(fmt.Sprintf("w%d", i), fn.T))
	}
	return &physical.Window{Base: base(arrow.NewSchema(fs, nil)), Input: input, PartitionBy: part, OrderBy: order, Funcs: funcs}
}

// ---- the reference ----

func refCmp(a, b any) int {
	switch a := a.(type) {
	case int64:
		b := b.(int64)
		switch {
		case a < b:
			return -1
		case a > b:
			return 1
		}
		return 0
	case float64:
		return floatCmp(a, b.(float64))
	case string:
		b := b.(string)
		switch {
		case a < b:
			return -1
		case a > b:
			return 1
		}
		return 0
	case bool:
		switch b := b.(bool); {
		case a == b:
			return 0
		case !a:
			return -1
		}
		return 1
	}
	panic(fmt.Sprintf("refCmp %T", a))
}

// refKeyCmp orders by one sort key with SQL NULL placement.
func refKeyCmp(a, b any, k physical.SortKey) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		if k.NullsFirst {
			return -1
		}
		return 1
	case b == nil:
		if k.NullsFirst {
			return 1
		}
		return -1
	}
	c := refCmp(a, b)
	if k.Desc {
		c = -c
	}
	return c
}

func refEval(e physical.Expr, row []any) any {
	switch e := e.(type) {
	case *physical.ColRef:
		return row[e.Index]
	case *physical.Literal:
		switch v := e.Value.(type) {
		case int32:
			return int64(v)
		case arrow.Date32:
			return int64(v)
		case decimal128.Num:
			return v.BigInt().Int64()
		}
		return e.Value
	}
	panic(fmt.Sprintf("refEval %T", e))
}

// refOut converts a reference cell of type t to the form outValue gives.
func refOut(v any, t arrow.DataType) any {
	if v == nil {
		return nil
	}
	if dt, ok := t.(*arrow.Decimal128Type); ok {
		switch v := v.(type) {
		case int64:
			return physical.FormatDecimal(decimal128.FromI64(v), dt.Scale)
		case *big.Int:
			return physical.FormatDecimal(decimal128.FromBigInt(v), dt.Scale)
		}
	}
	return v
}

func outValue(arr arrow.Array, i int) any {
	if arr.IsNull(i) {
		return nil
	}
	switch a := arr.(type) {
	case *array.Int64:
		return a.Value(i)
	case *array.Int32:
		return int64(a.Value(i))
	case *array.Date32:
		return int64(a.Value(i))
	case *array.Float64:
		return a.Value(i)
	case *array.Decimal128:
		return physical.FormatDecimal(a.Value(i), a.DataType().(*arrow.Decimal128Type).Scale)
	case *array.String:
		return a.Value(i)
	case *array.Boolean:
		return a.Value(i)
	}
	panic(fmt.Sprintf("outValue %T", arr))
}

func sameValue(a, b any) bool {
	x, ok1 := a.(float64)
	y, ok2 := b.(float64)
	if ok1 && ok2 {
		if x != x || y != y {
			return x != x && y != y
		}
		return x == y || math.Abs(x-y) <= 1e-9*math.Max(1, math.Max(math.Abs(x), math.Abs(y)))
	}
	return a == b
}

// refWindow computes w over rows the slow, obvious way: result[i][k] is
// function k at input row i.
func refWindow(rows [][]any, w *physical.Window) [][]any {
	parts := map[string][]int{}
	var names []string
	for i, row := range rows {
		key := ""
		for _, c := range w.PartitionBy {
			key += fmt.Sprintf("%v|", row[c])
		}
		if _, ok := parts[key]; !ok {
			names = append(names, key)
		}
		parts[key] = append(parts[key], i)
	}
	out := make([][]any, len(rows))
	for _, name := range names {
		p := parts[name]
		sort.SliceStable(p, func(x, y int) bool {
			for _, k := range w.OrderBy {
				if c := refKeyCmp(rows[p[x]][k.Col], rows[p[y]][k.Col], k); c != 0 {
					return c < 0
				}
			}
			return false
		})
		peer := func(x, y int) bool {
			for _, k := range w.OrderBy {
				if refKeyCmp(rows[p[x]][k.Col], rows[p[y]][k.Col], k) != 0 {
					return false
				}
			}
			return true
		}
		for i := range p {
			vals := make([]any, len(w.Funcs))
			for k := range w.Funcs {
				vals[k] = refFunc(rows, p, i, peer, w, &w.Funcs[k])
			}
			out[p[i]] = vals
		}
	}
	return out
}

func refFunc(rows [][]any, p []int, i int, peer func(x, y int) bool, w *physical.Window, f *physical.WindowFunc) any {
	n := len(p)
	firstPeer, lastPeer := i, i
	for firstPeer > 0 && peer(firstPeer-1, i) {
		firstPeer--
	}
	for lastPeer < n-1 && peer(lastPeer+1, i) {
		lastPeer++
	}
	arg := func(k, r int) any { return refEval(f.Args[k], rows[p[r]]) }
	switch f.Fn {
	case physical.WinRowNumber:
		return int64(i + 1)
	case physical.WinRank:
		return int64(firstPeer + 1)
	case physical.WinDenseRank:
		d := int64(1)
		for r := 1; r <= i; r++ {
			if !peer(r-1, r) {
				d++
			}
		}
		return d
	case physical.WinPercentRank:
		if n == 1 {
			return 0.0
		}
		return float64(firstPeer) / float64(n-1)
	case physical.WinCumeDist:
		return float64(lastPeer+1) / float64(n)
	case physical.WinNtile:
		buckets := int(refEval(f.Args[0], nil).(int64))
		per, rem := n/buckets, n%buckets
		r, b := 0, 1
		for {
			size := per
			if b <= rem {
				size++
			}
			if i < r+size {
				return int64(b)
			}
			r += size
			b++
		}
	case physical.WinLag, physical.WinLead:
		off := int64(1)
		if len(f.Args) > 1 {
			o := refEval(f.Args[1], nil)
			if o == nil {
				return nil
			}
			off = o.(int64)
		}
		if f.Fn == physical.WinLag {
			off = -off
		}
		j := int64(i) + off
		if j >= 0 && j < int64(n) {
			return refOut(arg(0, int(j)), f.T)
		}
		if len(f.Args) > 2 {
			return refOut(arg(2, i), f.T)
		}
		return nil
	}
	// Functions over the frame.
	fs, fe := refFrame(rows, p, i, firstPeer, lastPeer, w, f.Frame)
	var frame []int
	for r := fs; r < fe; r++ {
		frame = append(frame, r)
	}
	switch f.Fn {
	case physical.WinFirstValue:
		if len(frame) == 0 {
			return nil
		}
		return refOut(arg(0, frame[0]), f.T)
	case physical.WinLastValue:
		if len(frame) == 0 {
			return nil
		}
		return refOut(arg(0, frame[len(frame)-1]), f.T)
	case physical.WinNthValue:
		k := int(refEval(f.Args[1], nil).(int64))
		if k > len(frame) {
			return nil
		}
		return refOut(arg(0, frame[k-1]), f.T)
	case physical.AggCountStar:
		return int64(len(frame))
	}
	if physical.TwoArg(f.Fn) {
		var ys, xs []float64
		for _, r := range frame {
			y, x := arg(0, r), arg(1, r)
			if y != nil && x != nil {
				ys, xs = append(ys, refFloat(y, f.Args[0].Type())), append(xs, refFloat(x, f.Args[1].Type()))
			}
		}
		return refRegr(f.Fn, ys, xs)
	}
	var vals []any
	for _, r := range frame {
		if v := arg(0, r); v != nil {
			dup := false
			if f.Distinct {
				for _, u := range vals {
					dup = dup || refCmp(u, v) == 0
				}
			}
			if !dup {
				vals = append(vals, v)
			}
		}
	}
	if f.Distinct {
		sort.Slice(vals, func(x, y int) bool { return refCmp(vals[x], vals[y]) < 0 })
	}
	switch f.Fn {
	case physical.AggCount:
		return int64(len(vals))
	case physical.AggStringAgg:
		if len(vals) == 0 {
			return nil
		}
		s := ""
		for k, v := range vals {
			if k > 0 {
				s += refEval(f.Args[1], nil).(string)
			}
			s += v.(string)
		}
		return s
	case physical.AggVarSamp, physical.AggVarPop, physical.AggStddevSamp, physical.AggStddevPop:
		xs := make([]float64, len(vals))
		for k, v := range vals {
			xs[k] = refFloat(v, f.Args[0].Type())
		}
		return refVar(f.Fn, xs)
	case physical.AggMin, physical.AggMax:
		var best any
		for _, v := range vals {
			if best == nil || (f.Fn == physical.AggMin && refCmp(v, best) < 0) || (f.Fn == physical.AggMax && refCmp(v, best) > 0) {
				best = v
			}
		}
		return refOut(best, f.T)
	}
	if len(vals) == 0 {
		return nil
	}
	argT := f.Args[0].Type()
	if argT.ID() == arrow.FLOAT64 {
		s := 0.0
		for _, v := range vals {
			s += v.(float64)
		}
		if f.Fn == physical.AggAvg {
			return s / float64(len(vals))
		}
		return s
	}
	s := new(big.Int)
	for _, v := range vals {
		s.Add(s, big.NewInt(v.(int64)))
	}
	if f.Fn == physical.AggAvg {
		den := big.NewInt(int64(len(vals)))
		if dt, ok := argT.(*arrow.Decimal128Type); ok {
			den.Mul(den, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(dt.Scale)), nil))
		}
		x, _ := new(big.Rat).SetFrac(s, den).Float64()
		return x
	}
	if argT.ID() == arrow.DECIMAL128 {
		return refOut(s, f.T)
	}
	return s.Int64()
}

// refFrame returns position i's frame [fs, fe) by scanning, following
// PostgreSQL's description of frame starts and ends.
func refFrame(rows [][]any, p []int, i, firstPeer, lastPeer int, w *physical.Window, fr physical.Frame) (int, int) {
	if fr == (physical.Frame{}) {
		fr = fRun
	}
	n := len(p)
	if len(w.OrderBy) == 0 && fr.Unit == physical.FrameRange {
		firstPeer, lastPeer = 0, n-1
	}
	// before/after: is row r before (after) the bound of row i moved by
	// off, in the window order? NULL keys are only in range of NULLs.
	var key physical.SortKey
	if len(w.OrderBy) > 0 {
		key = w.OrderBy[0]
	}
	moved := func(back bool, off any) any {
		cur := rows[p[i]][key.Col]
		if cur == nil {
			return nil
		}
		if back != key.Desc {
			switch c := cur.(type) {
			case int64:
				return c - refEval(lit(off, nil), nil).(int64)
			case float64:
				return c - off.(float64)
			}
		}
		switch c := cur.(type) {
		case int64:
			return c + refEval(lit(off, nil), nil).(int64)
		case float64:
			return c + off.(float64)
		}
		panic("moved")
	}
	start := func(b physical.FrameBound) int {
		switch b.Kind {
		case physical.UnboundedPreceding:
			return 0
		case physical.UnboundedFollowing:
			return n
		case physical.CurrentRow:
			if fr.Unit == physical.FrameRows {
				return i
			}
			return firstPeer
		}
		if fr.Unit == physical.FrameRows {
			o := int(b.Offset.(int64))
			if b.Kind == physical.Preceding {
				return max(i-o, 0)
			}
			return min(i+o, n)
		}
		bound := moved(b.Kind == physical.Preceding, b.Offset)
		r := 0
		for r < n && refKeyCmp(rows[p[r]][key.Col], bound, key) < 0 {
			r++
		}
		return r
	}
	end := func(b physical.FrameBound) int {
		switch b.Kind {
		case physical.UnboundedPreceding:
			return 0
		case physical.UnboundedFollowing:
			return n
		case physical.CurrentRow:
			if fr.Unit == physical.FrameRows {
				return i + 1
			}
			return lastPeer + 1
		}
		if fr.Unit == physical.FrameRows {
			o := int(b.Offset.(int64))
			if b.Kind == physical.Preceding {
				return max(i-o+1, 0)
			}
			return min(i+o+1, n)
		}
		bound := moved(b.Kind == physical.Preceding, b.Offset)
		r := 0
		for r < n && refKeyCmp(rows[p[r]][key.Col], bound, key) <= 0 {
			r++
		}
		return r
	}
	return start(fr.Start), end(fr.End)
}

// ---- running ----

// runWindow runs w over batches with a checked allocator and returns the
// output rows, checking batch sizes and that nothing leaked.
func runWindow(t *testing.T, rows [][]any, sizes []int, part []int, order []physical.SortKey, funcs []physical.WindowFunc) ([][]any, *physical.Window, error) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	batches := winBatches(t, mem, rows, sizes)
	w := windowNode(valuesNode(winSchema, batches...), part, order, funcs)
	op, err := Build(w, &Env{Alloc: mem})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := op.Open(ctx); err != nil {
		t.Fatal(err)
	}
	var out [][]any
	var runErr error
	for {
		b, err := op.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			runErr = err
			break
		}
		if b.NumRows() == 0 || b.NumRows() > batchRows {
			t.Errorf("batch of %d rows", b.NumRows())
		}
		if !b.Schema().Equal(w.Out) {
			t.Errorf("batch schema %s, want %s", b.Schema(), w.Out)
		}
		for i := 0; i < int(b.NumRows()); i++ {
			row := make([]any, b.NumCols())
			for c := range row {
				row[c] = outValue(b.Column(c), i)
			}
			out = append(out, row)
		}
		b.Release()
	}
	op.Close()
	op.Close()
	releaseAll(batches)
	mem.AssertSize(t, 0)
	return out, w, runErr
}

// checkWindow compares the operator with the reference.
func checkWindow(t *testing.T, rows [][]any, sizes []int, part []int, order []physical.SortKey, funcs []physical.WindowFunc) {
	t.Helper()
	got, w, err := runWindow(t, rows, sizes, part, order, funcs)
	if err != nil {
		t.Fatal(err)
	}
	want := refWindow(rows, w)
	if len(got) != len(rows) {
		t.Fatalf("got %d rows, want %d", len(got), len(rows))
	}
	seen := make([]bool, len(rows))
	width := winSchema.NumFields()
	bad := 0
	for _, g := range got {
		id := g[wID].(int64)
		if seen[id] {
			t.Fatalf("row %d twice", id)
		}
		seen[id] = true
		for c := 0; c < width; c++ {
			if !sameValue(g[c], refOut(rows[id][c], winSchema.Field(c).Type)) {
				t.Fatalf("row %d column %d: got %v, want %v", id, c, g[c], rows[id][c])
			}
		}
		for k := range funcs {
			if !sameValue(g[width+k], want[id][k]) {
				if bad++; bad <= 10 {
					t.Errorf("row %d (p=%v q=%v o=%v d=%v) %s: got %v, want %v", id, rows[id][wP], rows[id][wQ],
						rows[id][wO], rows[id][wD], describe(&funcs[k]), g[width+k], want[id][k])
				}
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d wrong values", bad)
	}
}

func describe(f *physical.WindowFunc) string {
	s := f.Fn + "("
	for i, a := range f.Args {
		if i > 0 {
			s += ", "
		}
		s += a.String()
	}
	return s + fmt.Sprintf(") frame %+v", f.Frame)
}

func asc(c int) physical.SortKey  { return physical.SortKey{Col: c} }
func desc(c int) physical.SortKey { return physical.SortKey{Col: c, Desc: true, NullsFirst: true} }

func TestWindowAgainstReference(t *testing.T) {
	P, F, C := physical.Preceding, physical.Following, physical.CurrentRow
	UP, UF := physical.UnboundedPreceding, physical.UnboundedFollowing
	ranking := []physical.WindowFunc{
		wf(physical.WinRowNumber, fRun), wf(physical.WinRank, fRun), wf(physical.WinDenseRank, fRun),
		wf(physical.WinPercentRank, fRun), wf(physical.WinCumeDist, fRun),
		wf(physical.WinNtile, fRun, lit(int64(3), i64)), wf(physical.WinNtile, fRun, lit(int64(40), i64)),
	}
	values := func(fr physical.Frame) []physical.WindowFunc {
		return []physical.WindowFunc{
			wf(physical.AggSum, fr, ref(wV)), wf(physical.AggSum, fr, ref(wM)), wf(physical.AggSum, fr, ref(wX)),
			wf(physical.AggSum, fr, ref(wV32)),
			wf(physical.AggAvg, fr, ref(wV)), wf(physical.AggAvg, fr, ref(wM)), wf(physical.AggAvg, fr, ref(wX)),
			wf(physical.AggCount, fr, ref(wV)), wf(physical.AggCountStar, fr),
			wf(physical.AggMin, fr, ref(wV)), wf(physical.AggMax, fr, ref(wV)),
			wf(physical.AggMin, fr, ref(wS)), wf(physical.AggMax, fr, ref(wM)), wf(physical.AggMax, fr, ref(wX)),
			wf(physical.WinFirstValue, fr, ref(wV)), wf(physical.WinLastValue, fr, ref(wS)),
			wf(physical.WinNthValue, fr, ref(wM), lit(int64(2), i64)),
			wf(physical.AggVarSamp, fr, ref(wV)), wf(physical.AggStddevPop, fr, ref(wX)),
			wf(physical.AggStddevSamp, fr, ref(wM)), wf(physical.AggVarPop, fr, ref(wV32)),
			wf(physical.AggCorr, fr, ref(wX), ref(wV)), wf(physical.AggRegrCount, fr, ref(wX), ref(wV)),
			wf(physical.AggCovarSamp, fr, ref(wV), ref(wM)), wf(physical.AggRegrIntercept, fr, ref(wX), ref(wV32)),
			wf(physical.AggRegrR2, fr, ref(wV), ref(wX)), wf(physical.AggRegrAvgX, fr, ref(wX), ref(wM)),
			wf(physical.AggStringAgg, fr, ref(wS), lit(",", str)),
			wf(physical.AggMin, fr, ref(wB)), wf(physical.AggMax, fr, ref(wB)),
		}
	}
	lagLead := []physical.WindowFunc{
		wf(physical.WinLag, fRun, ref(wV)), wf(physical.WinLead, fRun, ref(wV)),
		wf(physical.WinLead, fRun, ref(wS), lit(int64(2), i64)),
		wf(physical.WinLag, fRun, ref(wV), lit(int64(1), i64), lit(int64(-1), i64)),
		wf(physical.WinLead, fRun, ref(wM), lit(int64(3), i64), lit(decimal128.FromI64(99), winDec)),
		wf(physical.WinLag, fRun, ref(wV), lit(int64(2), i64), ref(wID)), // per-row default
		wf(physical.WinLag, fRun, ref(wX), lit(int64(0), i64)),
		wf(physical.WinLag, fRun, ref(wV), lit(int64(-2), i64)), // a negative lag leads
		wf(physical.WinLead, fRun, ref(wV), lit(nil, i64)),
	}
	cases := []struct {
		name  string
		part  []int
		order []physical.SortKey
		funcs []physical.WindowFunc
	}{
		{"ranking", []int{wP}, []physical.SortKey{asc(wO)}, ranking},
		{"ranking-two-keys", []int{wP, wQ}, []physical.SortKey{desc(wO), asc(wD)}, ranking},
		{"ranking-no-partition", nil, []physical.SortKey{asc(wD)}, ranking},
		{"ranking-no-order", []int{wQ}, nil, ranking},
		{"lag-lead", []int{wP}, []physical.SortKey{asc(wO), asc(wID)}, lagLead},
		{"lag-lead-no-partition", nil, []physical.SortKey{desc(wD)}, lagLead},
		{"default-frame-peers", []int{wP}, []physical.SortKey{asc(wO)}, values(physical.Frame{})},
		{"range-running-peers", []int{wQ}, []physical.SortKey{desc(wO)}, values(fRun)},
		{"rows-running", []int{wP}, []physical.SortKey{asc(wO)}, values(rowsFrame(UP, 0, C, 0))},
		{"rows-running-unique-order", []int{wP}, []physical.SortKey{asc(wO), asc(wID)}, values(rowsFrame(UP, 0, C, 0))},
		{"rows-1-1", []int{wP}, []physical.SortKey{asc(wD)}, values(fRows11)},
		{"rows-2p-1p", []int{wP}, []physical.SortKey{asc(wO)}, values(rowsFrame(P, 2, P, 1))},
		{"rows-1f-3f", []int{wQ}, []physical.SortKey{asc(wO)}, values(rowsFrame(F, 1, F, 3))},
		{"rows-3p-uf", nil, []physical.SortKey{asc(wO)}, values(rowsFrame(P, 3, UF, 0))},
		{"rows-empty-frames", []int{wP}, []physical.SortKey{asc(wO)}, values(rowsFrame(F, 2, P, 1))},
		{"rows-whole", []int{wP}, []physical.SortKey{asc(wO)}, values(fWhole)},
		{"rows-wide", []int{wP}, []physical.SortKey{asc(wID)}, values(rowsFrame(P, 7, F, 5))},
		{"range-cr-uf", []int{wP}, []physical.SortKey{asc(wO)}, values(rangeFrame(C, nil, UF, nil))},
		{"range-int-2p-1f", []int{wP}, []physical.SortKey{asc(wO)}, values(rangeFrame(P, int64(2), F, int64(1)))},
		{"range-int-desc-nulls-first", []int{wQ}, []physical.SortKey{desc(wO)}, values(rangeFrame(P, int64(2), F, int64(1)))},
		{"range-int-1f-3f", []int{wP}, []physical.SortKey{asc(wO)}, values(rangeFrame(F, int64(1), F, int64(3)))},
		{"range-int-up-1p", []int{wP}, []physical.SortKey{{Col: wO, NullsFirst: true}}, values(rangeFrame(UP, nil, P, int64(1)))},
		{"range-int-2p-uf", nil, []physical.SortKey{{Col: wO, Desc: true}}, values(rangeFrame(P, int64(2), UF, nil))},
		{"range-int-0p-0f", []int{wP}, []physical.SortKey{asc(wO)}, values(rangeFrame(P, int64(0), F, int64(0)))},
		{"range-date-3p-cr", []int{wP}, []physical.SortKey{asc(wD)}, values(rangeFrame(P, int64(3), C, nil))},
		{"range-date-desc", []int{wQ}, []physical.SortKey{desc(wD)}, values(rangeFrame(P, int64(1), F, int64(4)))},
		{"range-no-order", []int{wP}, nil, values(fRun)},
		{"whole-no-partition-no-order", nil, nil, append(values(fRun), ranking...)},
		{"distinct", []int{wP}, nil, []physical.WindowFunc{
			distinct(wf(physical.AggCount, fRun, ref(wV32))), distinct(wf(physical.AggSum, fRun, ref(wV32))),
			distinct(wf(physical.AggAvg, fRun, ref(wM))), distinct(wf(physical.AggSum, fRun, ref(wX))),
			distinct(wf(physical.AggMax, fRun, ref(wS))), wf(physical.AggCount, fRun, ref(wV32)),
			distinct(wf(physical.AggVarSamp, fRun, ref(wV32))), distinct(wf(physical.AggStringAgg, fRun, ref(wS), lit("|", str))),
			distinct(wf(physical.AggMin, fRun, ref(wB))),
		}},
		{"distinct-whole-ordered", []int{wQ}, []physical.SortKey{asc(wO)}, []physical.WindowFunc{
			distinct(wf(physical.AggCount, fWhole, ref(wO))), distinct(wf(physical.AggSum, fWhole, ref(wV32))),
			distinct(wf(physical.AggMin, fRun, ref(wV32))),
		}},
	}
	datasets := []struct {
		name  string
		rows  [][]any
		sizes []int
	}{
		{"one-batch", winRows(1, 120), nil},
		{"batches", winRows(2, 300), []int{7, 1, 50, 13, 100, 2}},
		{"tiny", winRows(3, 3), []int{1, 1}},
	}
	for _, tc := range cases {
		for _, ds := range datasets {
			t.Run(tc.name+"/"+ds.name, func(t *testing.T) {
				checkWindow(t, ds.rows, ds.sizes, tc.part, tc.order, tc.funcs)
			})
		}
	}
}

func TestWindowFloatOrderKeyRange(t *testing.T) {
	// x as the ORDER BY key with a float offset.
	rows := winRows(4, 200)
	fr := rangeFrame(physical.Preceding, 10.5, physical.Following, 2.25)
	funcs := []physical.WindowFunc{wf(physical.AggCountStar, fr), wf(physical.AggSum, fr, ref(wV)), wf(physical.WinFirstValue, fr, ref(wID))}
	checkWindow(t, rows, []int{60, 60}, []int{wP}, []physical.SortKey{asc(wX)}, funcs)
	checkWindow(t, rows, []int{60, 60}, []int{wP}, []physical.SortKey{desc(wX)}, funcs)
}

// winTable runs funcs over explicit rows and renders the function columns.
func winTable(t *testing.T, rows [][]any, sizes []int, part []int, order []physical.SortKey, funcs ...physical.WindowFunc) ([][]string, error) {
	t.Helper()
	got, _, err := runWindow(t, rows, sizes, part, order, funcs)
	if err != nil {
		return nil, err
	}
	sort.Slice(got, func(i, j int) bool { return got[i][wID].(int64) < got[j][wID].(int64) })
	out := make([][]string, len(got))
	width := winSchema.NumFields()
	for i, g := range got {
		for _, v := range g[width:] {
			if v == nil {
				out[i] = append(out[i], "NULL")
			} else {
				out[i] = append(out[i], fmt.Sprint(v))
			}
		}
	}
	return out, nil
}

// row makes a test table row with the given id, partition p, order key o,
// value v and decimal m (units of 0.01); other columns NULL or zero.
func row(id int, p, o, v, m any) []any {
	conv := func(x any) any {
		if i, ok := x.(int); ok {
			return int64(i)
		}
		return x
	}
	return []any{int64(id), conv(p), nil, conv(o), nil, conv(v), nil, conv(m), nil, int64(0), nil}
}

func TestWindowExplicit(t *testing.T) {
	rows := [][]any{
		row(0, 1, 10, 5, 100),
		row(1, 1, 10, nil, 250),
		row(2, 1, 20, 7, nil),
		row(3, 1, nil, 1, 1),
		row(4, 2, 5, 3, 3),
		row(5, nil, 1, 2, 2),
		row(6, nil, 1, 4, 4),
	}
	order := []physical.SortKey{asc(wO)}
	got, err := winTable(t, rows, []int{2, 3}, []int{wP}, order,
		wf(physical.WinRowNumber, fRun),
		wf(physical.WinRank, fRun),
		wf(physical.WinDenseRank, fRun),
		wf(physical.AggSum, physical.Frame{}, ref(wV)),
		wf(physical.AggSum, fRows11, ref(wM)),
		wf(physical.WinLag, fRun, ref(wV), lit(int64(1), i64), lit(int64(-1), i64)),
		wf(physical.WinLead, fRun, ref(wV)),
		wf(physical.AggAvg, physical.Frame{}, ref(wV)),
		wf(physical.WinCumeDist, fRun),
	)
	if err != nil {
		t.Fatal(err)
	}
	// Partition 1 ordered by o: ids 0, 1 (peers at 10), 2, 3 (NULL last).
	want := [][]string{
		{"1", "1", "1", "5", "3.50", "-1", "NULL", "5", "0.5"},
		{"2", "1", "1", "5", "3.50", "5", "7", "5", "0.5"},
		{"3", "3", "2", "12", "2.51", "NULL", "1", "6", "0.75"},
		{"4", "4", "3", "13", "0.01", "7", "NULL", "4.333333333333333", "1"},
		{"1", "1", "1", "3", "0.03", "-1", "NULL", "3", "1"},
		{"1", "1", "1", "6", "0.06", "-1", "4", "3", "1"},
		{"2", "1", "1", "6", "0.06", "2", "NULL", "3", "1"},
	}
	equalRows(t, got, want)
}

// decRecord is a batch of (id int64, m t) rows.
func decRecord(mem memory.Allocator, t arrow.DataType, vals ...decimal128.Num) arrow.Record {
	b := array.NewRecordBuilder(mem, fields(f("id", i64), f("m", t)))
	defer b.Release()
	for i, v := range vals {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.Decimal128Builder).Append(v)
	}
	return b.NewRecordBatch()
}

// decSums runs sum(m) over each frame, ordered by id.
func decSums(t *testing.T, t38 arrow.DataType, vals []decimal128.Num, frames ...physical.Frame) ([][]string, error) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	rec := decRecord(mem, t38, vals...)
	defer func() { mem.AssertSize(t, 0) }()
	defer rec.Release()
	out := []arrow.Field{f("id", i64), f("m", t38)}
	var funcs []physical.WindowFunc
	for i, fr := range frames {
		funcs = append(funcs, physical.WindowFunc{Fn: physical.AggSum, Args: []physical.Expr{col(1, t38)}, Frame: fr, T: t38})
		out = append(out, f(fmt.Sprintf("s%d", i), t38))
	}
	w := &physical.Window{Base: base(arrow.NewSchema(out, nil)), Input: valuesNode(rec.Schema(), rec),
		OrderBy: []physical.SortKey{asc(0)}, Funcs: funcs}
	return runOp(t, buildOp(t, w, mem))
}

func TestWindowDecimalSumExact(t *testing.T) {
	// 2^53+1 hundredths: a float64 cannot hold these sums.
	big1 := decimal128.FromI64(9007199254740993)
	one := decimal128.FromI64(1)
	t38 := dec(38, 2)
	got, err := decSums(t, t38, []decimal128.Num{big1, one, big1, one, big1, one},
		rowsFrame(physical.Preceding, 1, physical.CurrentRow, 0), fRun)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"0", "90071992547409.93", "90071992547409.93", "90071992547409.93"},
		{"1", "0.01", "90071992547409.94", "90071992547409.94"},
		{"2", "90071992547409.93", "90071992547409.94", "180143985094819.87"},
		{"3", "0.01", "90071992547409.94", "180143985094819.88"},
		{"4", "90071992547409.93", "90071992547409.94", "270215977642229.81"},
		{"5", "0.01", "90071992547409.94", "270215977642229.82"},
	}
	equalRows(t, got, want)
}

func TestWindowDecimalOverflow(t *testing.T) {
	t38 := dec(38, 0)
	nines, err := decimal128.FromString("90000000000000000000000000000000000000", 38, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, fr := range []physical.Frame{fRun, fRows11, fWhole} {
		_, err := decSums(t, t38, []decimal128.Num{nines, nines, nines}, fr)
		wantCode(t, err, sqlerr.NumericOutOfRange)
	}
	// Every frame sum fits although the running sum wraps around 128 bits
	// between adding the new row and removing the old one.
	got, err := decSums(t, t38, []decimal128.Num{nines, {}, nines, {}},
		rowsFrame(physical.Preceding, 1, physical.CurrentRow, 0))
	if err != nil {
		t.Fatal(err)
	}
	n := "90000000000000000000000000000000000000"
	equalRows(t, got, [][]string{{"0", n, n}, {"1", "0", n}, {"2", n, n}, {"3", "0", n}})
}

func TestWindowFloatSpecials(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	schema := fields(f("id", i64), f("x", f64))
	vals := []any{1e20, 1.0, -1e20, 2.0, math.Inf(1), 3.0, 4.0, math.NaN(), 5.0, nil, 6.0}
	ids := make([]any, len(vals))
	for i := range ids {
		ids[i] = i
	}
	rec := record(t, mem, schema, ids, vals)
	fr := rowsFrame(physical.Preceding, 1, physical.CurrentRow, 0)
	w := &physical.Window{Base: base(fields(f("id", i64), f("x", f64), f("s", f64), f("a", f64))), Input: valuesNode(schema, rec),
		OrderBy: []physical.SortKey{asc(0)},
		Funcs: []physical.WindowFunc{
			{Fn: physical.AggSum, Args: []physical.Expr{col(1, f64)}, Frame: fr, T: f64},
			{Fn: physical.AggAvg, Args: []physical.Expr{col(1, f64)}, Frame: fr, T: f64},
		}}
	got, err := runOp(t, buildOp(t, w, mem))
	rec.Release()
	if err != nil {
		t.Fatal(err)
	}
	mem.AssertSize(t, 0)
	want := [][]string{
		{"0", "1e+20", "1e+20", "1e+20"},
		{"1", "1", "1e+20", "5e+19"},
		{"2", "-1e+20", "-1e+20", "-5e+19"},
		{"3", "2", "-1e+20", "-5e+19"},
		{"4", "+Inf", "+Inf", "+Inf"},
		{"5", "3", "+Inf", "+Inf"},
		{"6", "4", "7", "3.5"},
		{"7", "NaN", "NaN", "NaN"},
		{"8", "5", "NaN", "NaN"},
		{"9", "NULL", "5", "5"},
		{"10", "6", "6", "6"},
	}
	equalRows(t, got, want)
}

func TestWindowEmptyInput(t *testing.T) {
	got, err := winTable(t, nil, nil, []int{wP}, []physical.SortKey{asc(wO)},
		wf(physical.WinRowNumber, fRun), wf(physical.AggSum, fRun, ref(wM)))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("got %v", got)
	}
}

func TestWindowErrors(t *testing.T) {
	rows := winRows(5, 20)
	order := []physical.SortKey{asc(wO)}
	cases := []struct {
		name  string
		order []physical.SortKey
		f     physical.WindowFunc
		code  string
	}{
		{"ntile-zero", order, wf(physical.WinNtile, fRun, lit(int64(0), i64)), "22014"},
		{"nth-zero", order, wf(physical.WinNthValue, fRun, ref(wV), lit(int64(0), i64)), "22016"},
		{"rows-negative", order, wf(physical.AggSum, rowsFrame(physical.Preceding, -1, physical.CurrentRow, 0), ref(wV)), "22013"},
		{"range-negative", order, wf(physical.AggSum, rangeFrame(physical.Preceding, int64(-1), physical.CurrentRow, nil), ref(wV)), "22013"},
		{"range-two-keys", []physical.SortKey{asc(wO), asc(wD)}, wf(physical.AggSum, rangeFrame(physical.Preceding, int64(1), physical.CurrentRow, nil), ref(wV)), sqlerr.FeatureNotSupported},
		{"range-string-key", []physical.SortKey{asc(wS)}, wf(physical.AggSum, rangeFrame(physical.Preceding, int64(1), physical.CurrentRow, nil), ref(wV)), sqlerr.FeatureNotSupported},
		{"distinct-sliding", order, distinct(wf(physical.AggSum, fRows11, ref(wV))), sqlerr.FeatureNotSupported},
		{"unknown", order, physical.WindowFunc{Fn: "median", Args: []physical.Expr{ref(wV)}, T: i64}, sqlerr.FeatureNotSupported},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runWindow(t, rows, []int{5}, []int{wP}, tc.order, []physical.WindowFunc{tc.f})
			wantCode(t, err, tc.code)
		})
	}
	t.Run("ntile-null", func(t *testing.T) {
		got, err := winTable(t, rows[:2], nil, nil, order, wf(physical.WinNtile, fRun, lit(nil, i64)))
		if err != nil {
			t.Fatal(err)
		}
		equalRows(t, got, [][]string{{"NULL"}, {"NULL"}})
	})
}

func TestWindowLarge(t *testing.T) {
	// More rows than one output batch holds, over several input batches.
	const n = 150_000
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	schema := fields(f("id", i64), f("g", i64))
	var batches []arrow.Record
	for start := 0; start < n; start += 40_000 {
		ids, gs := make([]any, 0, 40_000), make([]any, 0, 40_000)
		for i := start; i < min(start+40_000, n); i++ {
			ids = append(ids, n-1-i) // descending, so the sort reorders
			gs = append(gs, (n-1-i)%3)
		}
		batches = append(batches, record(t, mem, schema, ids, gs))
	}
	w := &physical.Window{
		Base:        base(fields(f("id", i64), f("g", i64), f("rn", i64), f("s", i64), f("mx", i64))),
		Input:       valuesNode(schema, batches...),
		PartitionBy: []int{1},
		OrderBy:     []physical.SortKey{asc(0)},
		Funcs: []physical.WindowFunc{
			{Fn: physical.WinRowNumber, T: i64},
			{Fn: physical.AggSum, Args: []physical.Expr{col(0, i64)}, Frame: rowsFrame(physical.Preceding, 2, physical.CurrentRow, 0), T: i64},
			{Fn: physical.AggMax, Args: []physical.Expr{col(0, i64)}, Frame: rowsFrame(physical.Preceding, 1000, physical.Following, 10), T: i64},
		},
	}
	op := buildOp(t, w, mem)
	ctx := context.Background()
	if err := op.Open(ctx); err != nil {
		t.Fatal(err)
	}
	total := 0
	for {
		b, err := op.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if b.NumRows() > batchRows {
			t.Fatalf("batch of %d rows", b.NumRows())
		}
		ids := b.Column(0).(*array.Int64).Int64Values()
		rn := b.Column(2).(*array.Int64).Int64Values()
		s := b.Column(3).(*array.Int64).Int64Values()
		mx := b.Column(4).(*array.Int64).Int64Values()
		for i, id := range ids {
			k := id / 3 // position within its partition
			if rn[i] != k+1 {
				t.Fatalf("id %d: row_number %d", id, rn[i])
			}
			want := id
			if k >= 1 {
				want += id - 3
			}
			if k >= 2 {
				want += id - 6
			}
			if s[i] != want {
				t.Fatalf("id %d: sum %d, want %d", id, s[i], want)
			}
			last := id + 30
			for last >= n {
				last -= 3
			}
			if mx[i] != last {
				t.Fatalf("id %d: max %d, want %d", id, mx[i], last)
			}
		}
		total += int(b.NumRows())
		b.Release()
	}
	if total != n {
		t.Fatalf("%d rows, want %d", total, n)
	}
	op.Close()
	releaseAll(batches)
	mem.AssertSize(t, 0)
}

func TestWindowCanceled(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	batches := winBatches(t, mem, winRows(6, 100), []int{30})
	w := windowNode(valuesNode(winSchema, batches...), []int{wP}, []physical.SortKey{asc(wO)},
		[]physical.WindowFunc{wf(physical.WinRowNumber, fRun)})
	op := buildOp(t, w, mem)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := op.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := op.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want cancellation", err)
	}
	op.Close()
	op.Close()
	releaseAll(batches)
	mem.AssertSize(t, 0)
}

func TestWindowThroughRuntime(t *testing.T) {
	rows := winRows(7, 50)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	batches := winBatches(t, mem, rows, []int{20})
	w := windowNode(valuesNode(winSchema, batches...), []int{wP}, []physical.SortKey{asc(wO)},
		[]physical.WindowFunc{wf(physical.WinRank, fRun), wf(physical.AggSum, fRun, ref(wM))})
	got, _, err := runPlan(t, onePlan(w), Options{Alloc: mem})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(rows) {
		t.Fatalf("got %d rows", len(got))
	}
	releaseAll(batches)
	mem.AssertSize(t, 0)
}

func TestWindowFloatKeyEncoding(t *testing.T) {
	// -0 and 0 are peers, NaNs are peers after +Inf, NULLs go where the
	// key says, as makeCmp orders them.
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	schema := fields(f("id", i64), f("x", f64))
	rec := record(t, mem, schema, []any{0, 1, 2, 3, 4, 5, 6},
		[]any{math.NaN(), 0.0, math.Copysign(0, -1), nil, math.Inf(1), math.NaN(), -1.5})
	defer rec.Release()
	for _, k := range []physical.SortKey{asc(1), desc(1)} {
		w := &physical.Window{Base: base(fields(f("id", i64), f("x", f64), f("r", i64))), Input: valuesNode(schema, rec),
			OrderBy: []physical.SortKey{k}, Funcs: []physical.WindowFunc{{Fn: physical.WinRank, T: i64}}}
		got, err := runOp(t, buildOp(t, w, mem))
		if err != nil {
			t.Fatal(err)
		}
		want := [][]string{{"6", "-1.5", "1"}, {"1", "0", "2"}, {"2", "-0", "2"}, {"4", "+Inf", "4"},
			{"0", "NaN", "5"}, {"5", "NaN", "5"}, {"3", "NULL", "7"}}
		if k.Desc {
			want = [][]string{{"3", "NULL", "1"}, {"0", "NaN", "2"}, {"5", "NaN", "2"}, {"4", "+Inf", "4"},
				{"1", "0", "5"}, {"2", "-0", "5"}, {"6", "-1.5", "7"}}
		}
		equalRows(t, got, want)
	}
}

// refFloat converts a reference cell of type t to float64.
func refFloat(v any, t arrow.DataType) float64 {
	switch v := v.(type) {
	case float64:
		return v
	case int64:
		if dt, ok := t.(*arrow.Decimal128Type); ok {
			return float64(v) / math.Pow10(int(dt.Scale))
		}
		return float64(v)
	}
	panic(fmt.Sprintf("refFloat %T", v))
}

// refMoments returns the count, mean and sums of squared deviations and
// cross deviations of xs and ys in two passes.
func refMoments(ys, xs []float64) (n, mx, my, sxx, syy, sxy float64) {
	n = float64(len(xs))
	for k := range xs {
		mx += xs[k]
		my += ys[k]
	}
	mx, my = mx/n, my/n
	for k := range xs {
		dx, dy := xs[k]-mx, ys[k]-my
		sxx += dx * dx
		syy += dy * dy
		sxy += dx * dy
	}
	return
}

func refVar(fn string, xs []float64) any {
	n, _, _, sxx, _, _ := refMoments(xs, xs)
	d := n
	if fn == physical.AggVarSamp || fn == physical.AggStddevSamp {
		d--
	}
	if d <= 0 {
		return nil
	}
	if fn == physical.AggStddevSamp || fn == physical.AggStddevPop {
		return math.Sqrt(sxx / d)
	}
	return sxx / d
}

// refRegr follows PostgreSQL's float8_regr_* and float8_corr.
func refRegr(fn string, ys, xs []float64) any {
	if fn == physical.AggRegrCount {
		return int64(len(xs))
	}
	if len(xs) == 0 {
		return nil
	}
	n, mx, my, sxx, syy, sxy := refMoments(ys, xs)
	switch fn {
	case physical.AggCovarPop:
		return sxy / n
	case physical.AggCovarSamp:
		if n < 2 {
			return nil
		}
		return sxy / (n - 1)
	case physical.AggCorr:
		if sxx == 0 || syy == 0 {
			return nil
		}
		return sxy / math.Sqrt(sxx*syy)
	case physical.AggRegrR2:
		if sxx == 0 {
			return nil
		}
		if syy == 0 {
			return 1.0
		}
		return sxy * sxy / (sxx * syy)
	case physical.AggRegrSlope:
		if sxx == 0 {
			return nil
		}
		return sxy / sxx
	case physical.AggRegrIntercept:
		if sxx == 0 {
			return nil
		}
		return my - mx*sxy/sxx
	case physical.AggRegrAvgX:
		return mx
	case physical.AggRegrAvgY:
		return my
	case physical.AggRegrSXX:
		return sxx
	case physical.AggRegrSYY:
		return syy
	case physical.AggRegrSXY:
		return sxy
	}
	panic("refRegr " + fn)
}

func TestWindowStatsSpecials(t *testing.T) {
	// NaN and infinities make the sums they enter NaN, also alone (as
	// PostgreSQL's float8_accum), and leave no trace once out of the frame.
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	schema := fields(f("id", i64), f("x", f64), f("y", f64))
	inf := math.Inf(1)
	rec := record(t, mem, schema, []any{0, 1, 2, 3, 4, 5, 6, 7, 8},
		[]any{1.0, 2.0, inf, 3.0, 4.0, math.NaN(), 5.0, nil, 6.0},
		[]any{2.0, 4.0, 6.0, 8.0, -inf, 12.0, 14.0, 16.0, 18.0})
	pair := rowsFrame(physical.Preceding, 1, physical.CurrentRow, 0)
	cur := rowsFrame(physical.CurrentRow, 0, physical.CurrentRow, 0)
	x, y := col(1, f64), col(2, f64)
	w := &physical.Window{Base: base(fields(f("id", i64), f("x", f64), f("y", f64),
		f("vp", f64), f("v1", f64), f("sd", f64), f("slope", f64), f("n", i64))),
		Input: valuesNode(schema, rec), OrderBy: []physical.SortKey{asc(0)},
		Funcs: []physical.WindowFunc{
			{Fn: physical.AggVarPop, Args: []physical.Expr{x}, Frame: pair, T: f64},
			{Fn: physical.AggVarPop, Args: []physical.Expr{x}, Frame: cur, T: f64},
			{Fn: physical.AggStddevSamp, Args: []physical.Expr{x}, Frame: cur, T: f64},
			{Fn: physical.AggRegrSlope, Args: []physical.Expr{y, x}, Frame: pair, T: f64},
			{Fn: physical.AggRegrCount, Args: []physical.Expr{y, x}, Frame: pair, T: i64},
		}}
	got, err := runOp(t, buildOp(t, w, mem))
	rec.Release()
	if err != nil {
		t.Fatal(err)
	}
	mem.AssertSize(t, 0)
	want := [][]string{
		{"0", "1", "2", "0", "0", "NULL", "NULL", "1"},
		{"1", "2", "4", "0.25", "0", "NULL", "2", "2"},
		{"2", "+Inf", "6", "NaN", "NaN", "NULL", "NaN", "2"},
		{"3", "3", "8", "NaN", "0", "NULL", "NaN", "2"},
		{"4", "4", "-Inf", "0.25", "0", "NULL", "NaN", "2"},
		{"5", "NaN", "12", "NaN", "NaN", "NULL", "NaN", "2"},
		{"6", "5", "14", "NaN", "0", "NULL", "NaN", "2"},
		{"7", "NULL", "16", "0", "NULL", "NULL", "NULL", "1"},
		{"8", "6", "18", "0", "0", "NULL", "NULL", "1"},
	}
	equalRows(t, got, want)
}

// TestWindowStatsSlidingPrecision slides variance and regression frames
// over many rows far from zero with a small spread: results must match a
// two-pass computation of each frame, with no drift from values that left.
func TestWindowStatsSlidingPrecision(t *testing.T) {
	const n, half = 50_000, 8
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	schema := fields(f("id", i64), f("x", f64), f("y", f64))
	ids, xs, ys := make([]any, n), make([]any, n), make([]any, n)
	r := rand.New(rand.NewSource(9))
	for i := range ids {
		ids[i] = i
		x := 1e9 + float64(r.Intn(1000))/64
		xs[i], ys[i] = x, 3*x+float64(r.Intn(100))/16
		if i%13 == 5 {
			xs[i] = nil
		}
		if i == n/2 {
			xs[i] = 1e300 // a huge value passes through the frame
		}
	}
	rec := record(t, mem, schema, ids, xs, ys)
	fr := rowsFrame(physical.Preceding, half, physical.Following, half)
	x, y := col(1, f64), col(2, f64)
	w := &physical.Window{Base: base(fields(f("id", i64), f("x", f64), f("y", f64), f("v", f64), f("s", f64), f("c", f64))),
		Input: valuesNode(schema, rec), OrderBy: []physical.SortKey{asc(0)},
		Funcs: []physical.WindowFunc{
			{Fn: physical.AggVarSamp, Args: []physical.Expr{x}, Frame: fr, T: f64},
			{Fn: physical.AggRegrSlope, Args: []physical.Expr{y, x}, Frame: fr, T: f64},
			{Fn: physical.AggCorr, Args: []physical.Expr{y, x}, Frame: fr, T: f64},
		}}
	op := buildOp(t, w, mem)
	ctx := context.Background()
	if err := op.Open(ctx); err != nil {
		t.Fatal(err)
	}
	row := 0
	for {
		b, err := op.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < int(b.NumRows()); k, row = k+1, row+1 {
			var fx, fy []float64
			for j := max(row-half, 0); j <= min(row+half, n-1); j++ {
				if xs[j] != nil {
					fx, fy = append(fx, xs[j].(float64)), append(fy, ys[j].(float64))
				}
			}
			for c, want := range []any{refVar(physical.AggVarSamp, fx), refRegr(physical.AggRegrSlope, fy, fx), refRegr(physical.AggCorr, fy, fx)} {
				got := outValue(b.Column(3+c), k)
				g, w := got.(float64), want.(float64)
				if math.Abs(g-w) > 1e-6*math.Abs(w) {
					t.Fatalf("row %d function %d: got %v, want %v", row, c, g, w)
				}
			}
		}
		b.Release()
	}
	op.Close()
	rec.Release()
	mem.AssertSize(t, 0)
}

func TestWindowStringAggSliding(t *testing.T) {
	// Long values over a sliding frame: the accumulated text is cut at
	// its front and moved down many times.
	const n, back = 3000, 50
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	schema := fields(f("id", i64), f("s", str))
	ids, ss := make([]any, n), make([]any, n)
	for i := range ids {
		ids[i] = i
		ss[i] = fmt.Sprintf("%d:%s", i, strings.Repeat("x", i%150))
		if i%11 == 3 {
			ss[i] = nil
		}
	}
	rec := record(t, mem, schema, ids, ss)
	w := &physical.Window{Base: base(fields(f("id", i64), f("s", str), f("a", str))),
		Input: valuesNode(schema, rec), OrderBy: []physical.SortKey{asc(0)},
		Funcs: []physical.WindowFunc{{Fn: physical.AggStringAgg, Args: []physical.Expr{col(1, str), lit(", ", str)},
			Frame: rowsFrame(physical.Preceding, back, physical.CurrentRow, 0), T: str}}}
	got, err := runOp(t, buildOp(t, w, mem))
	rec.Release()
	if err != nil {
		t.Fatal(err)
	}
	mem.AssertSize(t, 0)
	for i, g := range got {
		var parts []string
		for j := max(i-back, 0); j <= i; j++ {
			if ss[j] != nil {
				parts = append(parts, ss[j].(string))
			}
		}
		want := "NULL"
		if len(parts) > 0 {
			want = strings.Join(parts, ", ")
		}
		if g[2] != want {
			t.Fatalf("row %d: got %q, want %q", i, g[2], want)
		}
	}
}
