// Package resultfmt renders query results as text: aligned tables, CSV,
// pipe-separated values and JSON lines. Every writer is a result sink that
// formats one batch at a time, column by column, so a result is never held in
// memory whole (the table writer buffers only its first rows to size the
// columns).
package resultfmt

import (
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/quarrydb/quarry/planner/physical"
)

// Column appends the text form of one column's values. It is built once per
// batch and column, so the type switch happens per column, not per value.
type Column struct {
	IsNull func(i int) bool
	// Append appends the SQL text of row i (never called for NULLs).
	Append func(dst []byte, i int) []byte
	// Numeric says whether values are numbers (right-aligned in tables,
	// unquoted in JSON when JSONRaw is set).
	Numeric bool
	// JSONRaw says whether Append's output of row i is a JSON literal as it
	// stands (ints, finite doubles, booleans); other values become JSON
	// strings — decimals too, to keep them exact.
	JSONRaw func(i int) bool
}

// NewColumn returns the formatter of arr.
func NewColumn(arr arrow.Array) Column {
	c := Column{IsNull: arr.IsNull, JSONRaw: func(int) bool { return false }}
	yes := func(int) bool { return true }
	switch a := arr.(type) {
	case *array.Boolean:
		c.JSONRaw = yes
		c.Append = func(dst []byte, i int) []byte { return strconv.AppendBool(dst, a.Value(i)) }
	case *array.Int8:
		c.Numeric, c.JSONRaw = true, yes
		c.Append = func(dst []byte, i int) []byte { return strconv.AppendInt(dst, int64(a.Value(i)), 10) }
	case *array.Int16:
		c.Numeric, c.JSONRaw = true, yes
		c.Append = func(dst []byte, i int) []byte { return strconv.AppendInt(dst, int64(a.Value(i)), 10) }
	case *array.Int32:
		c.Numeric, c.JSONRaw = true, yes
		c.Append = func(dst []byte, i int) []byte { return strconv.AppendInt(dst, int64(a.Value(i)), 10) }
	case *array.Int64:
		c.Numeric, c.JSONRaw = true, yes
		c.Append = func(dst []byte, i int) []byte { return strconv.AppendInt(dst, a.Value(i), 10) }
	case *array.Uint8:
		c.Numeric, c.JSONRaw = true, yes
		c.Append = func(dst []byte, i int) []byte { return strconv.AppendUint(dst, uint64(a.Value(i)), 10) }
	case *array.Uint16:
		c.Numeric, c.JSONRaw = true, yes
		c.Append = func(dst []byte, i int) []byte { return strconv.AppendUint(dst, uint64(a.Value(i)), 10) }
	case *array.Uint32:
		c.Numeric, c.JSONRaw = true, yes
		c.Append = func(dst []byte, i int) []byte { return strconv.AppendUint(dst, uint64(a.Value(i)), 10) }
	case *array.Uint64:
		c.Numeric, c.JSONRaw = true, yes
		c.Append = func(dst []byte, i int) []byte { return strconv.AppendUint(dst, a.Value(i), 10) }
	case *array.Float32:
		c.Numeric = true
		c.JSONRaw = func(i int) bool { return finite(float64(a.Value(i))) }
		c.Append = func(dst []byte, i int) []byte { return append(dst, physical.FormatFloat(float64(a.Value(i)))...) }
	case *array.Float64:
		c.Numeric = true
		c.JSONRaw = func(i int) bool { return finite(a.Value(i)) }
		c.Append = func(dst []byte, i int) []byte { return append(dst, physical.FormatFloat(a.Value(i))...) }
	case *array.Decimal128:
		scale := a.DataType().(*arrow.Decimal128Type).Scale
		c.Numeric = true
		c.Append = func(dst []byte, i int) []byte { return append(dst, physical.FormatDecimal(a.Value(i), scale)...) }
	case *array.String:
		c.Append = func(dst []byte, i int) []byte { return append(dst, a.Value(i)...) }
	case *array.LargeString:
		c.Append = func(dst []byte, i int) []byte { return append(dst, a.Value(i)...) }
	case *array.Date32:
		c.Append = func(dst []byte, i int) []byte { return append(dst, a.Value(i).FormattedString()...) }
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		c.Append = func(dst []byte, i int) []byte {
			t := a.Value(i).ToTime(unit).UTC()
			if t.Nanosecond() == 0 {
				return t.AppendFormat(dst, "2006-01-02 15:04:05")
			}
			return t.AppendFormat(dst, "2006-01-02 15:04:05.999999")
		}
	case *array.MonthDayNanoInterval:
		c.Append = func(dst []byte, i int) []byte { return physical.AppendInterval(dst, a.Value(i)) }
	case *array.Null:
		// A NULL array has no validity bitmap, so IsNull would say false.
		c.IsNull = func(int) bool { return true }
		c.Append = func(dst []byte, i int) []byte { return dst }
	default:
		c.Append = func(dst []byte, i int) []byte { return append(dst, arr.ValueStr(i)...) }
	}
	return c
}

// Columns returns the formatters of rec's columns.
func Columns(rec arrow.Record) []Column {
	cols := make([]Column, rec.NumCols())
	for i := range cols {
		cols[i] = NewColumn(rec.Column(i))
	}
	return cols
}

func finite(f float64) bool { return f-f == 0 }
