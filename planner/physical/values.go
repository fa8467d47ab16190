package physical

import (
	"cmp"
	"fmt"
	"math"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// AppendValue appends a value in Literal.Value form (nil: NULL) to a
// builder of the matching Arrow type.
func AppendValue(b array.Builder, v any) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	var ok bool
	switch b := b.(type) {
	case *array.BooleanBuilder:
		var x bool
		if x, ok = v.(bool); ok {
			b.Append(x)
		}
	case *array.Int32Builder:
		var x int32
		if x, ok = v.(int32); ok {
			b.Append(x)
		}
	case *array.Int64Builder:
		var x int64
		if x, ok = v.(int64); ok {
			b.Append(x)
		}
	case *array.Float64Builder:
		var x float64
		if x, ok = v.(float64); ok {
			b.Append(x)
		}
	case *array.Decimal128Builder:
		var x decimal128.Num
		if x, ok = v.(decimal128.Num); ok {
			b.Append(x)
		}
	case *array.StringBuilder:
		var x string
		if x, ok = v.(string); ok {
			b.Append(x)
		}
	case *array.Date32Builder:
		var x arrow.Date32
		if x, ok = v.(arrow.Date32); ok {
			b.Append(x)
		}
	case *array.TimestampBuilder:
		var x arrow.Timestamp
		if x, ok = v.(arrow.Timestamp); ok {
			b.Append(x)
		}
	case *array.MonthDayNanoIntervalBuilder:
		var x arrow.MonthDayNanoInterval
		if x, ok = v.(arrow.MonthDayNanoInterval); ok {
			b.Append(x)
		}
	case *array.NullBuilder:
		b.AppendNull()
		ok = true
	default:
		return fmt.Errorf("cannot build values of type %s", b.Type())
	}
	if !ok {
		return fmt.Errorf("value %v (%T) does not fit a %s column", v, v, b.Type())
	}
	return nil
}

// CompareValues orders two values in Literal.Value form: -1, 0 or 1, and
// false when they are not of the same comparable type. NaN sorts above
// every other double; intervals compare with a month as 30 days, as in
// PostgreSQL.
func CompareValues(a, b any) (int, bool) {
	switch x := a.(type) {
	case bool:
		y, ok := b.(bool)
		if !ok {
			return 0, false
		}
		switch {
		case x == y:
			return 0, true
		case !x:
			return -1, true
		}
		return 1, true
	case int32:
		y, ok := b.(int32)
		return cmp.Compare(x, y), ok
	case int64:
		y, ok := b.(int64)
		return cmp.Compare(x, y), ok
	case float64:
		y, ok := b.(float64)
		return compareFloat(x, y), ok
	case decimal128.Num:
		y, ok := b.(decimal128.Num)
		return x.Cmp(y), ok
	case string:
		y, ok := b.(string)
		return strings.Compare(x, y), ok
	case arrow.Date32:
		y, ok := b.(arrow.Date32)
		return cmp.Compare(x, y), ok
	case arrow.Timestamp:
		y, ok := b.(arrow.Timestamp)
		return cmp.Compare(x, y), ok
	case arrow.MonthDayNanoInterval:
		y, ok := b.(arrow.MonthDayNanoInterval)
		return compareInterval(x, y), ok
	}
	return 0, false
}

func compareFloat(x, y float64) int {
	xn, yn := math.IsNaN(x), math.IsNaN(y)
	switch {
	case xn && yn:
		return 0
	case xn:
		return 1
	case yn:
		return -1
	}
	return cmp.Compare(x, y)
}

const nanosPerDay = 86400 * 1_000_000_000

func compareInterval(x, y arrow.MonthDayNanoInterval) int {
	nx, dx := normInterval(x)
	ny, dy := normInterval(y)
	if c := cmp.Compare(dx, dy); c != 0 {
		return c
	}
	return cmp.Compare(nx, ny)
}

func normInterval(v arrow.MonthDayNanoInterval) (nanos, days int64) {
	days = int64(v.Months)*30 + int64(v.Days) + v.Nanoseconds/nanosPerDay
	nanos = v.Nanoseconds % nanosPerDay
	if nanos < 0 {
		nanos += nanosPerDay
		days--
	}
	return nanos, days
}
