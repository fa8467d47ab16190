package resultfmt

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// sample returns a two-row batch covering the types results carry; the
// second row is all NULL except the text, which is empty.
func sample(t *testing.T, mem memory.Allocator) arrow.Record {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "i", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "big", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "d", Type: &arrow.Decimal128Type{Precision: 15, Scale: 2}, Nullable: true},
		{Name: "f", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "dt", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond}, Nullable: true},
		{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Field(0).(*array.Int32Builder).AppendValues([]int32{-5, 0}, []bool{true, false})
	b.Field(1).(*array.Int64Builder).AppendValues([]int64{1 << 40, 0}, []bool{true, false})
	b.Field(2).(*array.Decimal128Builder).AppendValues([]decimal128.Num{decimal128.FromI64(-105), {}}, []bool{true, false})
	b.Field(3).(*array.Float64Builder).AppendValues([]float64{tenth + 0.2, 0}, []bool{true, false})
	b.Field(4).(*array.StringBuilder).AppendValues([]string{`a,"b"|c`, ""}, nil)
	day := arrow.Date32FromTime(time.Date(1998, 9, 2, 0, 0, 0, 0, time.UTC))
	b.Field(5).(*array.Date32Builder).AppendValues([]arrow.Date32{day, 0}, []bool{true, false})
	ts := arrow.Timestamp(time.Date(2024, 1, 2, 3, 4, 5, 600000000, time.UTC).UnixMicro())
	b.Field(6).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{ts, 0}, []bool{true, false})
	b.Field(7).(*array.BooleanBuilder).AppendValues([]bool{true, false}, []bool{true, false})
	return b.NewRecord()
}

var tenth = 0.1

func render(t *testing.T, format string) string {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rec := sample(t, mem)
	defer rec.Release()
	var out bytes.Buffer
	w, err := New(format, &out)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Begin(rec.Schema()); err != nil {
		t.Fatal(err)
	}
	if err := w.Batch(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.End("SELECT", rec.NumRows()); err != nil {
		t.Fatal(err)
	}
	if err := w.End("CREATE TABLE", 0); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestPSV(t *testing.T) {
	want := "i|big|d|f|s|dt|ts|b\n" +
		"-5|1099511627776|-1.05|0.30000000000000004|a,\"b\"|c|1998-09-02|2024-01-02 03:04:05.6|true\n" +
		"|||||||\n"
	if got := render(t, "psv"); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestCSV(t *testing.T) {
	want := "i,big,d,f,s,dt,ts,b\n" +
		"-5,1099511627776,-1.05,0.30000000000000004,\"a,\"\"b\"\"|c\",1998-09-02,2024-01-02 03:04:05.6,true\n" +
		",,,,\"\",,,\n"
	if got := render(t, "csv"); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestJSONLines(t *testing.T) {
	got := render(t, "json")
	lines := bytes.Split(bytes.TrimSpace([]byte(got)), []byte("\n"))
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got %q", got)
	}
	var row map[string]any
	if err := json.Unmarshal(lines[0], &row); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"i": -5.0, "big": 1099511627776.0, "d": "-1.05", "f": 0.30000000000000004,
		"s": `a,"b"|c`, "dt": "1998-09-02", "ts": "2024-01-02 03:04:05.6", "b": true}
	for k, v := range want {
		if row[k] != v {
			t.Errorf("%s: got %#v want %#v", k, row[k], v)
		}
	}
	if string(lines[1]) != `{"i":null,"big":null,"d":null,"f":null,"s":"","dt":null,"ts":null,"b":null}` {
		t.Errorf("null row: %s", lines[1])
	}
}

func TestTable(t *testing.T) {
	want := "" +
		" i  |      big      |   d   |          f          |    s    |     dt     |          ts           |  b\n" +
		"----+---------------+-------+---------------------+---------+------------+-----------------------+------\n" +
		" -5 | 1099511627776 | -1.05 | 0.30000000000000004 | a,\"b\"|c | 1998-09-02 | 2024-01-02 03:04:05.6 | true\n" +
		"    |               |       |                     |         |            |                       |\n" +
		"(2 rows)\n\n" +
		"CREATE TABLE\n"
	if got := render(t, "table"); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestJSONString(t *testing.T) {
	got := string(AppendJSONString(nil, "a\"\\\n\x01é\u2028\xff"))
	want := `"a\"\\\n\u0001é\u2028\ufffd"`
	if got != want {
		t.Errorf("got %s want %s", got, want)
	}
}

// A NULL-typed column (SELECT NULL) has no validity bitmap but is all NULL.
func TestNullColumn(t *testing.T) {
	arr := array.NewNull(2)
	defer arr.Release()
	if c := NewColumn(arr); !c.IsNull(0) || !c.IsNull(1) {
		t.Error("NULL-typed column: IsNull is false")
	}
}
