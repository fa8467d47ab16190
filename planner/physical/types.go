package physical

import (
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// SQL types as Arrow types.
var (
	Boolean   arrow.DataType = arrow.FixedWidthTypes.Boolean
	Int32     arrow.DataType = arrow.PrimitiveTypes.Int32
	Int64     arrow.DataType = arrow.PrimitiveTypes.Int64
	Float64   arrow.DataType = arrow.PrimitiveTypes.Float64
	String    arrow.DataType = arrow.BinaryTypes.String
	Date      arrow.DataType = arrow.FixedWidthTypes.Date32
	Timestamp arrow.DataType = &arrow.TimestampType{Unit: arrow.Microsecond}
	Interval  arrow.DataType = arrow.FixedWidthTypes.MonthDayNanoInterval
	Null      arrow.DataType = arrow.Null
)

// Decimal returns DECIMAL(p,s).
func Decimal(p, s int32) arrow.DataType { return &arrow.Decimal128Type{Precision: p, Scale: s} }

// TypeName is the SQL name of an Arrow type.
func TypeName(t arrow.DataType) string {
	switch t := t.(type) {
	case *arrow.BooleanType:
		return "BOOLEAN"
	case *arrow.Int8Type, *arrow.Int16Type:
		return "SMALLINT"
	case *arrow.Int32Type:
		return "INTEGER"
	case *arrow.Int64Type:
		return "BIGINT"
	case *arrow.Float32Type:
		return "REAL"
	case *arrow.Float64Type:
		return "DOUBLE"
	case *arrow.Decimal128Type:
		return fmt.Sprintf("DECIMAL(%d,%d)", t.Precision, t.Scale)
	case *arrow.StringType, *arrow.LargeStringType:
		return "VARCHAR"
	case *arrow.Date32Type:
		return "DATE"
	case *arrow.TimestampType:
		return "TIMESTAMP"
	case *arrow.MonthDayNanoIntervalType:
		return "INTERVAL"
	case *arrow.NullType:
		return "NULL"
	}
	return t.String()
}

// FormatValue renders a Literal-style Go value of type t as SQL text output
// (decimals at their scale, dates YYYY-MM-DD, timestamps
// YYYY-MM-DD HH:MM:SS[.ffffff], doubles in shortest round-trip form).
func FormatValue(v any, t arrow.DataType) string {
	if v == nil {
		return "NULL"
	}
	switch v := v.(type) {
	case bool:
		if v {
			return "true"
		}
		return "false"
	case int32:
		return strconv.FormatInt(int64(v), 10)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return FormatFloat(v)
	case decimal128.Num:
		scale := int32(0)
		if dt, ok := t.(*arrow.Decimal128Type); ok {
			scale = dt.Scale
		}
		return FormatDecimal(v, scale)
	case string:
		return v
	case arrow.Date32:
		return v.FormattedString()
	case arrow.Timestamp:
		return FormatTimestamp(v)
	case arrow.MonthDayNanoInterval:
		return string(AppendInterval(nil, v))
	}
	return fmt.Sprint(v)
}

// AppendInterval writes v as PostgreSQL's default (postgres style)
// interval text: "1 year 2 mons 3 days 04:05:06.5", "-00:00:01", "00:00:00".
func AppendInterval(dst []byte, v arrow.MonthDayNanoInterval) []byte {
	start := len(dst)
	unit := func(n int64, name string) {
		if n == 0 {
			return
		}
		if len(dst) > start {
			dst = append(dst, ' ')
		}
		dst = strconv.AppendInt(dst, n, 10)
		dst = append(dst, ' ')
		dst = append(dst, name...)
		if n != 1 {
			dst = append(dst, 's')
		}
	}
	unit(int64(v.Months/12), "year")
	unit(int64(v.Months%12), "mon")
	unit(int64(v.Days), "day")
	us := v.Nanoseconds / 1000
	if us == 0 && len(dst) > start {
		return dst
	}
	if len(dst) > start {
		dst = append(dst, ' ')
	}
	if us < 0 {
		dst = append(dst, '-')
		us = -us
	}
	return AppendClock(dst, us)
}

// AppendClock writes a non-negative time of microseconds as HH:MM:SS and a
// fraction without trailing zeros (hours may exceed 24).
func AppendClock(dst []byte, us int64) []byte {
	sec, frac := us/1_000_000, us%1_000_000
	two := func(n int64) {
		if n < 10 {
			dst = append(dst, '0')
		}
		dst = strconv.AppendInt(dst, n, 10)
	}
	two(sec / 3600)
	dst = append(dst, ':')
	two(sec / 60 % 60)
	dst = append(dst, ':')
	two(sec % 60)
	if frac != 0 {
		f := []byte{'.', '0', '0', '0', '0', '0', '0'}
		for k := 6; k >= 1; k-- {
			f[k] = byte('0' + frac%10)
			frac /= 10
		}
		n := len(f)
		for f[n-1] == '0' {
			n--
		}
		dst = append(dst, f[:n]...)
	}
	return dst
}

// FormatFloat renders a double with up to 17 significant digits, shortest
// form that round-trips.
func FormatFloat(f float64) string {
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// FormatDecimal renders n at scale, e.g. 12345 at scale 2 → "123.45".
func FormatDecimal(n decimal128.Num, scale int32) string {
	neg := n.Sign() < 0
	if neg {
		n = n.Negate()
	}
	digits := n.BigInt().String()
	if scale > 0 {
		for int32(len(digits)) <= scale {
			digits = "0" + digits
		}
		digits = digits[:int32(len(digits))-scale] + "." + digits[int32(len(digits))-scale:]
	}
	if neg {
		return "-" + digits
	}
	return digits
}

// FormatTimestamp renders microseconds since the epoch as
// YYYY-MM-DD HH:MM:SS with fractional seconds when non-zero.
func FormatTimestamp(ts arrow.Timestamp) string {
	t := ts.ToTime(arrow.Microsecond).UTC()
	if t.Nanosecond() == 0 {
		return t.Format("2006-01-02 15:04:05")
	}
	return t.Format("2006-01-02 15:04:05.999999")
}
