package exec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// cell renders row i of arr as SQL text output.
func cell(arr arrow.Array, i int) string {
	if arr.IsNull(i) {
		return "NULL"
	}
	switch a := arr.(type) {
	case *array.Boolean:
		return physical.FormatValue(a.Value(i), a.DataType())
	case *array.Int32:
		return physical.FormatValue(a.Value(i), a.DataType())
	case *array.Int64:
		return physical.FormatValue(a.Value(i), a.DataType())
	case *array.Float64:
		return physical.FormatValue(a.Value(i), a.DataType())
	case *array.Decimal128:
		return physical.FormatValue(a.Value(i), a.DataType())
	case *array.String:
		return a.Value(i)
	case *array.Date32:
		return physical.FormatValue(a.Value(i), a.DataType())
	case *array.Timestamp:
		return physical.FormatValue(a.Value(i), a.DataType())
	}
	return fmt.Sprintf("?%s", arr.DataType())
}

func recordRows(recs []arrow.Record) [][]string {
	var out [][]string
	for _, r := range recs {
		for i := 0; i < int(r.NumRows()); i++ {
			row := make([]string, r.NumCols())
			for c := range row {
				row[c] = cell(r.Column(c), i)
			}
			out = append(out, row)
		}
	}
	return out
}

// drain pulls op to the end and returns its rows; it checks that no batch
// is empty.
func drain(t testing.TB, ctx context.Context, next func(context.Context) (arrow.Record, error)) ([][]string, error) {
	t.Helper()
	var recs []arrow.Record
	defer func() { releaseAll(recs) }()
	for {
		b, err := next(ctx)
		if errors.Is(err, io.EOF) {
			return recordRows(recs), nil
		}
		if err != nil {
			return recordRows(recs), err
		}
		if b.NumRows() == 0 {
			t.Errorf("operator returned an empty batch")
		}
		recs = append(recs, b)
	}
}

// runOp opens, drains and closes op.
func runOp(t testing.TB, op Operator) ([][]string, error) {
	t.Helper()
	ctx := context.Background()
	if err := op.Open(ctx); err != nil {
		op.Close()
		return nil, err
	}
	rows, err := drain(t, ctx, op.Next)
	if cerr := op.Close(); cerr != nil {
		t.Errorf("Close: %v", cerr)
	}
	if cerr := op.Close(); cerr != nil {
		t.Errorf("second Close: %v", cerr)
	}
	return rows, err
}

// runPlan runs plan through the runtime and returns its rows.
func runPlan(t testing.TB, plan *physical.Plan, opts Options) ([][]string, *Execution, error) {
	t.Helper()
	ctx := context.Background()
	e, err := Run(ctx, plan, opts)
	if err != nil {
		return nil, nil, err
	}
	rows, err := drain(t, ctx, e.Next)
	if cerr := e.Close(); cerr != nil {
		t.Errorf("Close: %v", cerr)
	}
	e.Close()
	return rows, e, err
}

func equalRows(t testing.TB, got, want [][]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d\ngot:  %v\nwant: %v", len(got), len(want), head(got), head(want))
	}
	for i := range got {
		if fmt.Sprint(got[i]) != fmt.Sprint(want[i]) {
			t.Fatalf("row %d: got %v, want %v\ngot:  %v\nwant: %v", i, got[i], want[i], head(got), head(want))
		}
	}
}

func head(rows [][]string) [][]string {
	if len(rows) > 20 {
		return rows[:20]
	}
	return rows
}

func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want SQLSTATE %s", code)
	}
	var se *sqlerr.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *sqlerr.Error", err, err)
	}
	if se.Code != code {
		t.Fatalf("got %v, want SQLSTATE %s", err, code)
	}
}

// scanBatches runs scan with allocator mem and hands fn each batch (and
// the operator), released after fn; an error fails the test. The scan is
// closed when it returns.
func scanBatches(t testing.TB, scan *physical.ParquetScan, mem memory.Allocator, fn func(op *scanOp, rec arrow.Record)) {
	t.Helper()
	op := newScanOp(scan, newScanShare(scan, NewSplitQueue(scan)), mem)
	if err := op.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer op.Close()
	for {
		rec, err := op.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		fn(op, rec)
		rec.Release()
	}
}

// ---- building inputs ----

func fields(fs ...arrow.Field) *arrow.Schema { return arrow.NewSchema(fs, nil) }

func f(name string, t arrow.DataType) arrow.Field {
	return arrow.Field{Name: name, Type: t, Nullable: true}
}

func col(i int, t arrow.DataType) *physical.ColRef { return &physical.ColRef{Index: i, T: t} }

// record builds a batch from Go column values (nil entries are NULL).
func record(t testing.TB, mem memory.Allocator, schema *arrow.Schema, cols ...any) arrow.Record {
	t.Helper()
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	n := -1
	for c, vals := range cols {
		fb := b.Field(c)
		switch vals := vals.(type) {
		case []any:
			n = len(vals)
			for _, v := range vals {
				appendAny(t, fb, v)
			}
		default:
			t.Fatalf("column %d: want []any", c)
		}
	}
	_ = n
	return b.NewRecordBatch()
}

func appendAny(t testing.TB, b array.Builder, v any) {
	t.Helper()
	if v == nil {
		b.AppendNull()
		return
	}
	switch b := b.(type) {
	case *array.BooleanBuilder:
		b.Append(v.(bool))
	case *array.Int32Builder:
		b.Append(int32(v.(int)))
	case *array.Int64Builder:
		b.Append(int64(v.(int)))
	case *array.Float64Builder:
		b.Append(v.(float64))
	case *array.StringBuilder:
		b.Append(v.(string))
	case *array.Date32Builder:
		b.Append(arrow.Date32(v.(int)))
	case *array.Decimal128Builder:
		switch v := v.(type) {
		case int:
			b.Append(decimal128.FromI64(int64(v)))
		case decimal128.Num:
			b.Append(v)
		}
	case *array.TimestampBuilder:
		b.Append(arrow.Timestamp(v.(int)))
	default:
		t.Fatalf("appendAny: %T", b)
	}
}

// ---- plans ----

var nextID = 1000

func base(out *arrow.Schema) physical.Base {
	nextID++
	return physical.Base{ID: nextID, Out: out}
}

func onePlan(root physical.Node) *physical.Plan {
	return &physical.Plan{Fragments: []*physical.Fragment{{ID: 0, Root: root, Parallelism: 1, Consumer: -1}}}
}

// ---- Parquet test data ----

// testTable describes the rows writeTestParquet writes: n rows in row
// groups of rg rows with columns
//
//	0 id int64, 1 grp string (NULL every 11th), 2 d date32,
//	3 amt decimal(12,2), 4 qty int64 (NULL every 7th), 5 ts timestamp(ns),
//	6 flag bool
type testRow struct {
	id    int64
	grp   *string
	d     int32
	amt   int64 // cents
	qty   *int64
	ts    int64 // ns
	flag  bool
	valid bool
}

var testSchema = fields(
	f("id", arrow.PrimitiveTypes.Int64),
	f("grp", arrow.BinaryTypes.String),
	f("d", arrow.FixedWidthTypes.Date32),
	f("amt", &arrow.Decimal128Type{Precision: 12, Scale: 2}),
	f("qty", arrow.PrimitiveTypes.Int64),
	f("ts", &arrow.TimestampType{Unit: arrow.Nanosecond}),
	f("flag", arrow.FixedWidthTypes.Boolean),
)

func testRows(n int) []testRow {
	groups := []string{"apple", "banana", "cherry", "a-much-longer-group-name-than-the-others"}
	rows := make([]testRow, n)
	for i := range rows {
		r := &rows[i]
		r.id = int64(i)
		if i%11 != 0 {
			g := groups[i%len(groups)]
			r.grp = &g
		}
		r.d = int32(9000 + i%50)
		r.amt = int64((i*7919)%100000) - 20000
		if i%7 != 0 {
			q := int64(i % 50)
			r.qty = &q
		}
		r.ts = int64(i)*1_000_001_000 + 123
		r.flag = i%3 == 0
	}
	return rows
}

func writeTestParquet(t testing.TB, dir string, n, rg int) string {
	t.Helper()
	mem := memory.NewGoAllocator()
	b := array.NewRecordBuilder(mem, testSchema)
	defer b.Release()
	for _, r := range testRows(n) {
		b.Field(0).(*array.Int64Builder).Append(r.id)
		if r.grp == nil {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.StringBuilder).Append(*r.grp)
		}
		b.Field(2).(*array.Date32Builder).Append(arrow.Date32(r.d))
		b.Field(3).(*array.Decimal128Builder).Append(decimal128.FromI64(r.amt))
		if r.qty == nil {
			b.Field(4).AppendNull()
		} else {
			b.Field(4).(*array.Int64Builder).Append(*r.qty)
		}
		b.Field(5).(*array.TimestampBuilder).Append(arrow.Timestamp(r.ts))
		b.Field(6).(*array.BooleanBuilder).Append(r.flag)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	tbl := array.NewTableFromRecords(testSchema, []arrow.Record{rec})
	defer tbl.Release()
	path := filepath.Join(dir, fmt.Sprintf("t_%d_%d.parquet", n, rg))
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	props := parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(int64(rg)))
	if err := pqarrow.WriteTable(tbl, out, int64(rg), props, pqarrow.DefaultWriterProps()); err != nil {
		t.Fatal(err)
	}
	out.Close() // WriteTable already closed it
	return path
}

func allRowGroups(n, rg int) []int {
	var out []int
	for i := 0; i*rg < n; i++ {
		out = append(out, i)
	}
	return out
}

// checkGoroutines waits for the goroutine count to return to base.
func checkGoroutines(t testing.TB, base int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			n := runtime.Stack(buf, true)
			t.Fatalf("goroutines: %d, baseline %d\n%s", runtime.NumGoroutine(), base, buf[:n])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
