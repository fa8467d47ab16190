package pgwire

import (
	"encoding/binary"
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/quarrydb/quarry/catalog/pgcatalog"
	"github.com/quarrydb/quarry/exec/kernels"
	"github.com/quarrydb/quarry/planner/physical"
)

// PostgreSQL type oids (pg_type.oid) of the types Quarry sends and takes.
const (
	oidBool        = 16
	oidBytea       = 17
	oidChar        = 18
	oidName        = 19
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidText        = 25
	oidOID         = 26
	oidFloat4      = 700
	oidFloat8      = 701
	oidUnknown     = 705
	oidBPChar      = 1042
	oidVarchar     = 1043
	oidDate        = 1082
	oidTimestamp   = 1114
	oidTimestampTZ = 1184
	oidInterval    = 1186
	oidNumeric     = 1700
)

// Wire formats of a value.
const (
	formatText   = 0
	formatBinary = 1
)

// pgEpochDays is 2000-01-01 (PostgreSQL's binary date and timestamp epoch)
// in days since 1970-01-01.
const pgEpochDays = 10957

const usPerDay = 86_400_000_000

// typeOID maps an Arrow type to the PostgreSQL type reported for it.
func typeOID(t arrow.DataType) uint32 {
	switch t := t.(type) {
	case *arrow.BooleanType:
		return oidBool
	case *arrow.Int8Type, *arrow.Int16Type, *arrow.Uint8Type:
		return oidInt2
	case *arrow.Int32Type, *arrow.Uint16Type:
		return oidInt4
	case *arrow.Int64Type, *arrow.Uint32Type:
		return oidInt8
	case *arrow.Uint64Type:
		return oidNumeric
	case *arrow.Float16Type, *arrow.Float32Type:
		return oidFloat4
	case *arrow.Float64Type:
		return oidFloat8
	case *arrow.Decimal128Type:
		return oidNumeric
	case *arrow.StringType, *arrow.LargeStringType, *arrow.StringViewType:
		return oidVarchar // as pg_catalog.pg_attribute reports VARCHAR columns
	case *arrow.BinaryType, *arrow.LargeBinaryType:
		return oidBytea
	case *arrow.Date32Type, *arrow.Date64Type:
		return oidDate
	case *arrow.TimestampType:
		if t.TimeZone != "" {
			return oidTimestampTZ
		}
		return oidTimestamp
	case *arrow.MonthDayNanoIntervalType:
		return oidInterval
	}
	return oidText
}

// typeSize is pg_type.typlen of oid (-1: variable length).
func typeSize(oid uint32) int16 {
	switch oid {
	case oidBool, oidChar:
		return 1
	case oidInt2:
		return 2
	case oidInt4, oidFloat4, oidDate, oidOID:
		return 4
	case oidInt8, oidFloat8, oidTimestamp, oidTimestampTZ:
		return 8
	case oidInterval:
		return 16
	case oidName:
		return 64
	}
	return -1
}

// typeModifier is the atttypmod reported for t (numeric carries its
// precision and scale; -1 elsewhere).
func typeModifier(t arrow.DataType) int32 {
	if d, ok := t.(*arrow.Decimal128Type); ok {
		return (d.Precision<<16 | d.Scale) + 4
	}
	return -1
}

// declaredType maps a parameter oid from Parse to the Arrow type the
// planner should assume (nil: infer it from the context).
func declaredType(oid uint32) arrow.DataType {
	switch oid {
	case oidBool:
		return arrow.FixedWidthTypes.Boolean
	case oidInt2, oidInt4:
		return arrow.PrimitiveTypes.Int32
	case oidInt8:
		return arrow.PrimitiveTypes.Int64
	case oidFloat4, oidFloat8:
		return arrow.PrimitiveTypes.Float64
	case oidText, oidVarchar, oidBPChar, oidName, oidChar:
		return arrow.BinaryTypes.String
	case oidDate:
		return arrow.FixedWidthTypes.Date32
	case oidTimestamp, oidTimestampTZ:
		return &arrow.TimestampType{Unit: arrow.Microsecond}
	}
	return nil
}

// fieldDescriptions describes schema's columns with the given result
// format codes (see formatFor).
func fieldDescriptions(schema *arrow.Schema, formats []int16) []pgproto3.FieldDescription {
	fs := make([]pgproto3.FieldDescription, schema.NumFields())
	for i, f := range schema.Fields() {
		oid := typeOID(f.Type)
		fs[i] = pgproto3.FieldDescription{
			Name:         []byte(f.Name),
			DataTypeOID:  oid,
			DataTypeSize: typeSize(oid),
			TypeModifier: typeModifier(f.Type),
			Format:       formatFor(formats, i),
		}
		// The table column it is a copy of, as pg_attribute numbers it.
		if table, ok := f.Metadata.GetValue(physical.MetaTableName); ok {
			schema, _ := f.Metadata.GetValue(physical.MetaSchemaName)
			num, _ := f.Metadata.GetValue(physical.MetaColumnNum)
			if n, err := strconv.Atoi(num); err == nil && n > 0 {
				fs[i].TableOID = uint32(pgcatalog.RelationOid(schema, table))
				fs[i].TableAttributeNumber = uint16(n)
			}
		}
	}
	return fs
}

// formatFor applies the protocol's format-code rule: no codes means text,
// one code applies to every column, else one code per column.
func formatFor(formats []int16, i int) int16 {
	switch {
	case len(formats) == 0:
		return formatText
	case len(formats) == 1:
		return formats[0]
	case i < len(formats):
		return formats[i]
	}
	return formatText
}

// encoder appends one value of a column, with its int32 length prefix, to
// dst. Encoders are built per batch and column so that the type switch runs
// once per column, not per value.
type encoder func(dst []byte, i int) []byte

// newEncoder returns the encoder of arr in the given format; oid is the type
// announced for the column (binary integers are written at its width).
func newEncoder(arr arrow.Array, oid uint32, format int16) encoder {
	var enc encoder
	if format == formatBinary {
		enc = binaryEncoder(arr, oid)
	}
	if enc == nil {
		enc = textEncoder(arr)
	}
	if arr.NullN() == 0 {
		return enc
	}
	return func(dst []byte, i int) []byte {
		if arr.IsNull(i) {
			return append(dst, 0xff, 0xff, 0xff, 0xff)
		}
		return enc(dst, i)
	}
}

// varlen wraps an appender: it reserves the length prefix and patches it
// afterwards.
func varlen(f appender) encoder {
	return func(dst []byte, i int) []byte {
		at := len(dst)
		dst = append(dst, 0, 0, 0, 0)
		dst = f(dst, i)
		binary.BigEndian.PutUint32(dst[at:], uint32(len(dst)-at-4))
		return dst
	}
}

// textEncoder writes values in PostgreSQL's text output form.
func textEncoder(arr arrow.Array) encoder {
	switch a := arr.(type) {
	case *array.Null:
		return func(dst []byte, i int) []byte { return append(dst, 0xff, 0xff, 0xff, 0xff) }
	case *array.Boolean:
		return func(dst []byte, i int) []byte {
			if a.Value(i) {
				return append(dst, 0, 0, 0, 1, 't')
			}
			return append(dst, 0, 0, 0, 1, 'f')
		}
	case *array.String:
		return func(dst []byte, i int) []byte {
			v := a.Value(i)
			dst = binary.BigEndian.AppendUint32(dst, uint32(len(v)))
			return append(dst, v...)
		}
	}
	return varlen(textAppender(arr))
}

// appender appends the text of row i without a length prefix (never
// called for NULLs).
type appender func(dst []byte, i int) []byte

// textAppender returns arr's text appender: bool t/f, floats and dates as
// PostgreSQL prints them (DateStyle ISO), numerics at their scale.
func textAppender(arr arrow.Array) appender {
	switch a := arr.(type) {
	case *array.Boolean:
		return func(dst []byte, i int) []byte {
			if a.Value(i) {
				return append(dst, 't')
			}
			return append(dst, 'f')
		}
	case *array.Int8:
		return func(dst []byte, i int) []byte { return strconv.AppendInt(dst, int64(a.Value(i)), 10) }
	case *array.Int16:
		return func(dst []byte, i int) []byte { return strconv.AppendInt(dst, int64(a.Value(i)), 10) }
	case *array.Int32:
		return func(dst []byte, i int) []byte { return strconv.AppendInt(dst, int64(a.Value(i)), 10) }
	case *array.Int64:
		return func(dst []byte, i int) []byte { return strconv.AppendInt(dst, a.Value(i), 10) }
	case *array.Uint8:
		return func(dst []byte, i int) []byte { return strconv.AppendUint(dst, uint64(a.Value(i)), 10) }
	case *array.Uint16:
		return func(dst []byte, i int) []byte { return strconv.AppendUint(dst, uint64(a.Value(i)), 10) }
	case *array.Uint32:
		return func(dst []byte, i int) []byte { return strconv.AppendUint(dst, uint64(a.Value(i)), 10) }
	case *array.Uint64:
		return func(dst []byte, i int) []byte { return strconv.AppendUint(dst, a.Value(i), 10) }
	case *array.Float32:
		return func(dst []byte, i int) []byte { return appendFloat(dst, float64(a.Value(i)), 32) }
	case *array.Float64:
		return func(dst []byte, i int) []byte { return appendFloat(dst, a.Value(i), 64) }
	case *array.Decimal128:
		scale := a.DataType().(*arrow.Decimal128Type).Scale
		return func(dst []byte, i int) []byte { return appendDecimal(dst, a.Value(i), scale) }
	case *array.String:
		return func(dst []byte, i int) []byte { return append(dst, a.Value(i)...) }
	case *array.LargeString:
		return func(dst []byte, i int) []byte { return append(dst, a.Value(i)...) }
	case *array.Binary:
		return func(dst []byte, i int) []byte { return appendBytea(dst, a.Value(i)) }
	case *array.Date32:
		return func(dst []byte, i int) []byte { return appendDate(dst, int64(a.Value(i))) }
	case *array.Date64:
		return func(dst []byte, i int) []byte { return appendDate(dst, floorDiv(int64(a.Value(i)), 86_400_000)) }
	case *array.Timestamp:
		tt := a.DataType().(*arrow.TimestampType)
		toMicros := microsFactor(tt.Unit)
		if tt.TimeZone != "" {
			return func(dst []byte, i int) []byte {
				return append(appendTimestamp(dst, toMicros(int64(a.Value(i)))), "+00"...)
			}
		}
		return func(dst []byte, i int) []byte { return appendTimestamp(dst, toMicros(int64(a.Value(i)))) }
	case *array.MonthDayNanoInterval:
		return func(dst []byte, i int) []byte { return physical.AppendInterval(dst, a.Value(i)) }
	}
	return func(dst []byte, i int) []byte { return append(dst, arr.ValueStr(i)...) }
}

func binaryEncoder(arr arrow.Array, oid uint32) encoder {
	switch a := arr.(type) {
	case *array.Boolean:
		return func(dst []byte, i int) []byte {
			if a.Value(i) {
				return append(dst, 0, 0, 0, 1, 1)
			}
			return append(dst, 0, 0, 0, 1, 0)
		}
	case *array.Int8:
		return intEncoder(oid, func(i int) int64 { return int64(a.Value(i)) })
	case *array.Int16:
		return intEncoder(oid, func(i int) int64 { return int64(a.Value(i)) })
	case *array.Int32:
		if oid == oidInt4 {
			return func(dst []byte, i int) []byte {
				dst = append(dst, 0, 0, 0, 4)
				return binary.BigEndian.AppendUint32(dst, uint32(a.Value(i)))
			}
		}
		return intEncoder(oid, func(i int) int64 { return int64(a.Value(i)) })
	case *array.Int64:
		if oid == oidInt8 {
			return func(dst []byte, i int) []byte {
				dst = append(dst, 0, 0, 0, 8)
				return binary.BigEndian.AppendUint64(dst, uint64(a.Value(i)))
			}
		}
		return intEncoder(oid, a.Value)
	case *array.Uint8:
		return intEncoder(oid, func(i int) int64 { return int64(a.Value(i)) })
	case *array.Uint16:
		return intEncoder(oid, func(i int) int64 { return int64(a.Value(i)) })
	case *array.Uint32:
		return intEncoder(oid, func(i int) int64 { return int64(a.Value(i)) })
	case *array.Float32:
		return floatEncoder(oid, func(i int) float64 { return float64(a.Value(i)) })
	case *array.Float64:
		return floatEncoder(oid, a.Value)
	case *array.Decimal128:
		if oid != oidNumeric {
			return nil
		}
		scale := a.DataType().(*arrow.Decimal128Type).Scale
		return varlen(func(dst []byte, i int) []byte { return appendNumericBinary(dst, a.Value(i), scale) })
	case *array.String, *array.LargeString:
		return nil // the text form is the binary form
	case *array.Binary:
		return func(dst []byte, i int) []byte {
			v := a.Value(i)
			dst = binary.BigEndian.AppendUint32(dst, uint32(len(v)))
			return append(dst, v...)
		}
	case *array.Date32:
		return func(dst []byte, i int) []byte {
			dst = append(dst, 0, 0, 0, 4)
			return binary.BigEndian.AppendUint32(dst, uint32(int32(a.Value(i))-pgEpochDays))
		}
	case *array.Timestamp:
		toMicros := microsFactor(a.DataType().(*arrow.TimestampType).Unit)
		return func(dst []byte, i int) []byte {
			dst = append(dst, 0, 0, 0, 8)
			return binary.BigEndian.AppendUint64(dst, uint64(toMicros(int64(a.Value(i)))-pgEpochDays*usPerDay))
		}
	case *array.MonthDayNanoInterval:
		return func(dst []byte, i int) []byte {
			v := a.Value(i)
			dst = append(dst, 0, 0, 0, 16)
			dst = binary.BigEndian.AppendUint64(dst, uint64(v.Nanoseconds/1000))
			dst = binary.BigEndian.AppendUint32(dst, uint32(v.Days))
			return binary.BigEndian.AppendUint32(dst, uint32(v.Months))
		}
	}
	return nil
}

// intEncoder writes integers at the width of oid.
func intEncoder(oid uint32, val func(int) int64) encoder {
	switch oid {
	case oidInt2:
		return func(dst []byte, i int) []byte {
			dst = append(dst, 0, 0, 0, 2)
			return binary.BigEndian.AppendUint16(dst, uint16(val(i)))
		}
	case oidInt4:
		return func(dst []byte, i int) []byte {
			dst = append(dst, 0, 0, 0, 4)
			return binary.BigEndian.AppendUint32(dst, uint32(val(i)))
		}
	case oidInt8:
		return func(dst []byte, i int) []byte {
			dst = append(dst, 0, 0, 0, 8)
			return binary.BigEndian.AppendUint64(dst, uint64(val(i)))
		}
	case oidNumeric:
		return varlen(func(dst []byte, i int) []byte { return appendNumericBinary(dst, decimal128.FromI64(val(i)), 0) })
	}
	return nil
}

func floatEncoder(oid uint32, val func(int) float64) encoder {
	switch oid {
	case oidFloat4:
		return func(dst []byte, i int) []byte {
			dst = append(dst, 0, 0, 0, 4)
			return binary.BigEndian.AppendUint32(dst, math.Float32bits(float32(val(i))))
		}
	case oidFloat8:
		return func(dst []byte, i int) []byte {
			dst = append(dst, 0, 0, 0, 8)
			return binary.BigEndian.AppendUint64(dst, math.Float64bits(val(i)))
		}
	}
	return nil
}

func microsFactor(u arrow.TimeUnit) func(int64) int64 {
	switch u {
	case arrow.Second:
		return func(v int64) int64 { return v * 1_000_000 }
	case arrow.Millisecond:
		return func(v int64) int64 { return v * 1000 }
	case arrow.Nanosecond:
		return func(v int64) int64 { return floorDiv(v, 1000) }
	}
	return func(v int64) int64 { return v }
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// appendFloat writes a float as PostgreSQL 12+ does with the default
// extra_float_digits: the shortest text that reads back exactly, in
// exponent form below 1e-4 and from 1e15 (1e6 for real) on.
func appendFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	}
	limit := 1e15
	if bits == 32 {
		limit = 1e6
	}
	if a := math.Abs(f); a != 0 && (a < 1e-4 || a >= limit) {
		return strconv.AppendFloat(dst, f, 'e', -1, bits)
	}
	return strconv.AppendFloat(dst, f, 'f', -1, bits)
}

// decimalDigits writes |n|'s decimal digits into buf and reports the sign.
func decimalDigits(buf []byte, n decimal128.Num) ([]byte, bool) {
	neg := n.Sign() < 0
	hi, lo := n.HighBits(), n.LowBits()
	switch {
	case hi == 0:
		return strconv.AppendUint(buf, lo, 10), false
	case hi == -1 && lo != 0:
		return strconv.AppendUint(buf, -lo, 10), true
	}
	if neg {
		n = n.Negate()
	}
	return n.BigInt().Append(buf, 10), neg
}

// appendDecimal writes n at scale as text (12345 at scale 2: 123.45).
func appendDecimal(dst []byte, n decimal128.Num, scale int32) []byte {
	var buf [48]byte
	digits, neg := decimalDigits(buf[:0], n)
	if neg {
		dst = append(dst, '-')
	}
	if scale <= 0 {
		dst = append(dst, digits...)
		for ; scale < 0; scale++ {
			dst = append(dst, '0')
		}
		return dst
	}
	s := int(scale)
	if len(digits) <= s {
		dst = append(dst, '0', '.')
		for k := len(digits); k < s; k++ {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	dst = append(dst, digits[:len(digits)-s]...)
	dst = append(dst, '.')
	return append(dst, digits[len(digits)-s:]...)
}

// appendNumericBinary writes n at scale in PostgreSQL's binary numeric form:
// ndigits, weight, sign, dscale, then base-10000 digits.
func appendNumericBinary(dst []byte, n decimal128.Num, scale int32) []byte {
	var buf [48]byte
	digits, neg := decimalDigits(buf[:0], n)
	if scale < 0 { // no negative dscale on the wire: append the zeros
		for ; scale < 0; scale++ {
			digits = append(digits, '0')
		}
	}
	s := int(scale)
	intLen := len(digits) - s
	// Group from the decimal point: integer digits leftwards, fraction
	// digits rightwards, each group 4 decimal digits.
	intGroups := 0
	if intLen > 0 {
		intGroups = (intLen + 3) / 4
	}
	fracGroups := (s + 3) / 4
	var groups [12]int16
	g := groups[:0]
	digitAt := func(pos int) int16 { // pos counts from the decimal point: ..., -2, -1 | 0, 1, ...
		k := intLen + pos
		if k < 0 || k >= len(digits) {
			return 0
		}
		return int16(digits[k] - '0')
	}
	for gi := intGroups; gi > 0; gi-- {
		start := -4 * gi
		g = append(g, digitAt(start)*1000+digitAt(start+1)*100+digitAt(start+2)*10+digitAt(start+3))
	}
	for gi := 0; gi < fracGroups; gi++ {
		start := 4 * gi
		g = append(g, digitAt(start)*1000+digitAt(start+1)*100+digitAt(start+2)*10+digitAt(start+3))
	}
	weight := intGroups - 1
	for len(g) > 0 && g[0] == 0 {
		g = g[1:]
		weight--
	}
	for len(g) > 0 && g[len(g)-1] == 0 {
		g = g[:len(g)-1]
	}
	sign := uint16(0)
	if len(g) == 0 {
		weight = 0
	} else if neg {
		sign = 0x4000
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(g)))
	dst = binary.BigEndian.AppendUint16(dst, uint16(int16(weight)))
	dst = binary.BigEndian.AppendUint16(dst, sign)
	dst = binary.BigEndian.AppendUint16(dst, uint16(s))
	for _, d := range g {
		dst = binary.BigEndian.AppendUint16(dst, uint16(d))
	}
	return dst
}

func append2(dst []byte, v int) []byte { return append(dst, byte('0'+v/10), byte('0'+v%10)) }

func appendYear(dst []byte, y int64) []byte {
	switch {
	case y < 10:
		dst = append(dst, "000"...)
	case y < 100:
		dst = append(dst, "00"...)
	case y < 1000:
		dst = append(dst, '0')
	}
	return strconv.AppendInt(dst, y, 10)
}

// appendDate writes ISO YYYY-MM-DD (with " BC" before year 1).
func appendDate(dst []byte, days int64) []byte {
	dst, bc := appendDay(dst, days)
	if bc {
		dst = append(dst, " BC"...)
	}
	return dst
}

// appendTimestamp writes YYYY-MM-DD HH:MM:SS[.ffffff] without trailing
// zeros in the fraction.
func appendTimestamp(dst []byte, us int64) []byte {
	days := floorDiv(us, usPerDay)
	dst, bc := appendDay(dst, days)
	dst = append(dst, ' ')
	dst = physical.AppendClock(dst, us-days*usPerDay)
	if bc {
		dst = append(dst, " BC"...)
	}
	return dst
}

// appendDay writes the YYYY-MM-DD of days and reports whether it is a BC
// date, whose " BC" PostgreSQL writes after the whole value.
func appendDay(dst []byte, days int64) ([]byte, bool) {
	y, m, d := kernels.Civil(days)
	bc := y <= 0
	if bc {
		y = 1 - y
	}
	dst = appendYear(dst, y)
	dst = append(dst, '-')
	dst = append2(dst, m)
	dst = append(dst, '-')
	dst = append2(dst, d)
	return dst, bc
}

func appendBytea(dst []byte, v []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '\\', 'x')
	for _, b := range v {
		dst = append(dst, hex[b>>4], hex[b&15])
	}
	return dst
}
