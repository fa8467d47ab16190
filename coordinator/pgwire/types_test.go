package pgwire

import (
	"encoding/binary"
	"fmt"
	"github.com/quarrydb/quarry/exec/kernels"
	"github.com/quarrydb/quarry/planner/physical"
	"math"
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/jackc/pgx/v5/pgtype"
)

// value strips the length prefix of one encoded value.
func value(t *testing.T, b []byte) []byte {
	t.Helper()
	n := int32(binary.BigEndian.Uint32(b))
	if n < 0 {
		return nil
	}
	if int(n) != len(b)-4 {
		t.Fatalf("length prefix %d, value %d bytes", n, len(b)-4)
	}
	return b[4:]
}

func TestNumericEncoding(t *testing.T) {
	m := pgtype.NewMap()
	cases := []struct {
		n     string
		scale int32
	}{
		{"0", 0}, {"0", 2}, {"1", 0}, {"-1", 0}, {"12345", 2}, {"-12345", 2}, {"1", 4}, {"100000000", 0},
		{"10000", 0}, {"99990000", 4}, {"5", 5}, {"123456789012345678", 3}, {"-9223372036854775808", 1},
		{"18446744073709551616", 0}, {"-99999999999999999999999999999999999999", 38},
		{"12345678901234567890123456789", 10}, {"70", 1},
	}
	for _, c := range cases {
		bi, _ := new(big.Int).SetString(c.n, 10)
		num := decimal128.FromBigInt(bi)
		text := string(appendDecimal(nil, num, c.scale))
		want := new(big.Rat).SetFrac(bi, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(c.scale)), nil))
		if got, _ := new(big.Rat).SetString(text); got.Cmp(want) != 0 {
			t.Errorf("text %s scale %d = %s", c.n, c.scale, text)
		}
		bin := appendNumericBinary(nil, num, c.scale)
		var dec pgtype.Numeric
		if err := m.Scan(oidNumeric, pgtype.BinaryFormatCode, bin, &dec); err != nil {
			t.Errorf("%s scale %d: decode: %v", c.n, c.scale, err)
			continue
		}
		dv, _ := dec.Value()
		if got, _ := new(big.Rat).SetString(dv.(string)); got == nil || got.Cmp(want) != 0 {
			t.Errorf("binary %s scale %d decodes as %v (text %s)", c.n, c.scale, dv, text)
		}
		if dscale := binary.BigEndian.Uint16(bin[6:]); int32(dscale) != c.scale {
			t.Errorf("dscale %d, want %d", dscale, c.scale)
		}
		// And back, as a binary parameter.
		if s, ok := numericText(bin); !ok || s != text {
			t.Errorf("numericText(%s scale %d) = %q, want %q", c.n, c.scale, s, text)
		}
	}
}

func TestTextFormats(t *testing.T) {
	for _, c := range []struct {
		f    float64
		bits int
		want string
	}{
		{1000000, 64, "1000000"}, {1e15, 64, "1e+15"}, {1e14, 64, "100000000000000"},
		{123456789012345678, 64, "1.2345678901234568e+17"}, {0.0001, 64, "0.0001"}, {0.00001, 64, "1e-05"},
		{math.Inf(1), 64, "Infinity"}, {math.Inf(-1), 32, "-Infinity"}, {math.NaN(), 64, "NaN"},
		{1000000, 32, "1e+06"}, {123456, 32, "123456"}, {1.5, 32, "1.5"}, {0.1, 64, "0.1"},
	} {
		if got := string(appendFloat(nil, c.f, c.bits)); got != c.want {
			t.Errorf("float%d %v = %s, want %s", c.bits, c.f, got, c.want)
		}
	}
	for _, c := range []struct {
		days int64
		want string
	}{
		{0, "1970-01-01"}, {-1, "1969-12-31"}, {pgEpochDays, "2000-01-01"}, {19782, "2024-02-29"},
		{kernels.DaysFromCivil(-43, 3, 15), "0044-03-15 BC"}, {2932896, "9999-12-31"},
	} {
		if got := string(appendDate(nil, c.days)); got != c.want {
			t.Errorf("date %d = %s, want %s", c.days, got, c.want)
		}
		if d := kernels.DaysFromCivil(kernels.Civil(c.days)); d != c.days {
			t.Errorf("DaysFromCivil(Civil(%d)) = %d", c.days, d)
		}
	}
	for _, c := range []struct {
		us   int64
		want string
	}{
		{0, "1970-01-01 00:00:00"}, {-1, "1969-12-31 23:59:59.999999"},
		{time.Date(2024, 1, 2, 3, 4, 5, 120000000, time.UTC).UnixMicro(), "2024-01-02 03:04:05.12"},
	} {
		if got := string(appendTimestamp(nil, c.us)); got != c.want {
			t.Errorf("timestamp %d = %s, want %s", c.us, got, c.want)
		}
	}
	iv := arrow.MonthDayNanoInterval{Months: 14, Days: 3, Nanoseconds: (4*3600 + 5*60 + 6) * 1e9}
	if got := string(physical.AppendInterval(nil, iv)); got != "1 year 2 mons 3 days 04:05:06" {
		t.Errorf("interval = %s", got)
	}
}

// TestEncoders checks a batch's text and binary encodings against pgx's
// decoders.
func TestEncoders(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	ts := &arrow.TimestampType{Unit: arrow.Microsecond}
	tstz := &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	dec := &arrow.Decimal128Type{Precision: 15, Scale: 2}
	at := time.Date(2021, 6, 7, 8, 9, 10, 11000, time.UTC)
	cols := []struct {
		typ  arrow.DataType
		fill func(b array.Builder)
		want any
		text string
	}{
		{arrow.FixedWidthTypes.Boolean, func(b array.Builder) { b.(*array.BooleanBuilder).Append(true) }, true, "t"},
		{arrow.PrimitiveTypes.Int16, func(b array.Builder) { b.(*array.Int16Builder).Append(-3) }, int16(-3), "-3"},
		{arrow.PrimitiveTypes.Int32, func(b array.Builder) { b.(*array.Int32Builder).Append(42) }, int32(42), "42"},
		{arrow.PrimitiveTypes.Int64, func(b array.Builder) { b.(*array.Int64Builder).Append(-1 << 40) }, int64(-1 << 40), "-1099511627776"},
		{arrow.PrimitiveTypes.Float32, func(b array.Builder) { b.(*array.Float32Builder).Append(0.5) }, float32(0.5), "0.5"},
		{arrow.PrimitiveTypes.Float64, func(b array.Builder) { b.(*array.Float64Builder).Append(-2.25) }, -2.25, "-2.25"},
		{dec, func(b array.Builder) { b.(*array.Decimal128Builder).Append(decimal128.FromI64(-123456)) }, "-1234.56", "-1234.56"},
		{arrow.BinaryTypes.String, func(b array.Builder) { b.(*array.StringBuilder).Append("ünï") }, "ünï", "ünï"},
		{arrow.FixedWidthTypes.Date32, func(b array.Builder) { b.(*array.Date32Builder).Append(arrow.Date32(-1)) },
			time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), "1969-12-31"},
		{ts, func(b array.Builder) { b.(*array.TimestampBuilder).Append(arrow.Timestamp(at.UnixMicro())) }, at, "2021-06-07 08:09:10.000011"},
		{tstz, func(b array.Builder) { b.(*array.TimestampBuilder).Append(arrow.Timestamp(at.UnixMicro())) }, at, "2021-06-07 08:09:10.000011+00"},
	}
	m := pgtype.NewMap()
	for _, c := range cols {
		b := array.NewBuilder(mem, c.typ)
		c.fill(b)
		b.AppendNull()
		arr := b.NewArray()
		b.Release()
		oid := typeOID(c.typ)
		for _, format := range []int16{formatText, formatBinary} {
			enc := newEncoder(arr, oid, format)
			v0 := value(t, enc(nil, 0))
			if null := value(t, enc(nil, 1)); null != nil {
				t.Errorf("%s: NULL encoded as %q", c.typ, null)
			}
			if format == formatText && string(v0) != c.text {
				t.Errorf("%s text = %q, want %q", c.typ, v0, c.text)
			}
			typ, ok := m.TypeForOID(oid)
			if !ok {
				t.Fatalf("pgx knows no oid %d", oid)
			}
			got, err := typ.Codec.DecodeValue(m, oid, format, v0)
			if err != nil {
				t.Errorf("%s format %d: decode %q: %v", c.typ, format, v0, err)
				continue
			}
			if n, isNum := got.(pgtype.Numeric); isNum {
				v, _ := n.Value()
				got = v
			}
			if tm, isTime := got.(time.Time); isTime {
				got = tm.UTC()
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("%s format %d: got %#v, want %#v", c.typ, format, got, c.want)
			}
		}
		arr.Release()
	}
}

func TestParams(t *testing.T) {
	ts := &arrow.TimestampType{Unit: arrow.Microsecond}
	for _, c := range []struct {
		data   []byte
		format int16
		oid    uint32
		typ    arrow.DataType
		want   any
	}{
		{[]byte("t"), formatText, oidBool, arrow.FixedWidthTypes.Boolean, true},
		{[]byte("42"), formatText, oidInt4, arrow.PrimitiveTypes.Int32, "42"},
		{[]byte{0, 0, 0, 42}, formatBinary, oidInt4, arrow.PrimitiveTypes.Int64, int64(42)},
		{[]byte{0, 0, 0, 0, 0, 0, 0, 42}, formatBinary, oidInt8, arrow.PrimitiveTypes.Int32, int32(42)},
		{[]byte{0, 7}, formatBinary, oidInt2, arrow.PrimitiveTypes.Float64, 7.0},
		{[]byte("1998-09-02"), formatText, 0, arrow.FixedWidthTypes.Date32, arrow.Date32(10471)},
		{[]byte("1998-09-02 01:02:03.5+02"), formatText, oidTimestampTZ, ts,
			arrow.Timestamp(time.Date(1998, 9, 1, 23, 2, 3, 500000000, time.UTC).UnixMicro())},
		{[]byte("1998-09-02 01:02:03+02"), formatText, 0, ts,
			arrow.Timestamp(time.Date(1998, 9, 2, 1, 2, 3, 0, time.UTC).UnixMicro())},
		{[]byte("not a date"), formatText, 0, arrow.FixedWidthTypes.Date32, "not a date"},
		{nil, formatBinary, oidInt4, arrow.PrimitiveTypes.Int32, nil},
		{[]byte{0, 0, 0, 0}, formatBinary, oidDate, arrow.FixedWidthTypes.Date32, arrow.Date32(pgEpochDays)},
	} {
		got, err := decodeParam(c.data, c.format, c.oid, c.typ)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("decodeParam(%q, %d, %d, %s) = %#v, %v; want %#v", c.data, c.format, c.oid, c.typ, got, err, c.want)
		}
	}
	if _, err := decodeParam([]byte{1, 2}, formatBinary, oidInt4, arrow.PrimitiveTypes.Int32); err == nil {
		t.Error("short int4 accepted")
	}
}

func TestSplitAndClassify(t *testing.T) {
	got := splitStatements(`SELECT 'a;b'; SELECT "x;y" FROM t -- c;d
		; /* e; /* nested; */ f; */ SELECT $$g;h$$;;SELECT E'i\';j'`)
	want := []string{`SELECT 'a;b'`, `SELECT "x;y" FROM t -- c;d`, `/* e; /* nested; */ f; */ SELECT $$g;h$$`, `SELECT E'i\';j'`}
	if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		t.Errorf("split:\n got %q\nwant %q", got, want)
	}
	for _, c := range []struct {
		sql  string
		kind protoKind
		name string
	}{
		{"DEALLOCATE foo", protoDeallocate, "foo"},
		{`deallocate prepare "Foo"`, protoDeallocate, "Foo"},
		{"DEALLOCATE ALL", protoDeallocate, ""},
		{"discard all", protoDiscardAll, ""},
		{"-- x\nCOPY (SELECT 1) TO STDOUT", protoCopyOut, ""},
		{"COPY t FROM STDIN", protoCopyIn, ""},
		{"SELECT 1", protoNone, ""},
		{"copyright", protoNone, ""},
	} {
		ps, err := classify(c.sql)
		if err != nil {
			t.Errorf("%s: %v", c.sql, err)
			continue
		}
		k, name := protoNone, ""
		if ps != nil {
			k, name = ps.kind, ps.name
		}
		if k != c.kind || name != c.name {
			t.Errorf("%s: kind %d name %q", c.sql, k, name)
		}
	}
	cc, err := parseCopy(`COPY (SELECT a FROM t) TO STDOUT WITH (FORMAT csv, HEADER true, DELIMITER ';', NULL 'nil')`)
	if err != nil || cc.query != "SELECT a FROM t" || !cc.csv || !cc.header || cc.delim != ';' || cc.null != "nil" {
		t.Errorf("parseCopy: %+v %v", cc, err)
	}
	cc, err = parseCopy(`COPY "my t" (a, b) TO STDOUT CSV HEADER`)
	if err != nil || cc.query != `SELECT a, b FROM "my t"` || !cc.csv || !cc.header || cc.delim != ',' || cc.null != "" {
		t.Errorf("parseCopy table: %+v %v", cc, err)
	}
	opts := parseOptions(`-c search_path=tpch --application-name=x\ y -cstatement_timeout=0`)
	if opts["search_path"] != "tpch" || opts["application_name"] != "x y" || opts["statement_timeout"] != "0" {
		t.Errorf("parseOptions: %v", opts)
	}
	for tag, want := range map[string]string{"SELECT": "SELECT 3", "INSERT": "INSERT 0 3", "CREATE TABLE AS": "SELECT 3", "BEGIN": "BEGIN", "USE": "SET"} {
		if got := string(commandTag(tag, 3)); got != want {
			t.Errorf("commandTag(%s) = %s, want %s", tag, got, want)
		}
	}
}
