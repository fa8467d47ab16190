package flight

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// paramName names the i-th (0-based) parameter in a parameter schema.
func paramName(i int) string { return "$" + strconv.Itoa(i+1) }

// readParams reads bound parameters: one row per execution, column i is
// $i+1, each value converted to the parameter's type. It returns nil when
// the stream holds no rows.
func readParams(rdr flight.MessageReader, types []arrow.DataType) ([][]any, error) {
	var rows [][]any
	for rdr.Next() {
		rec := rdr.RecordBatch()
		for r := 0; r < int(rec.NumRows()); r++ {
			row := make([]any, rec.NumCols())
			for c := range row {
				var want arrow.DataType
				if c < len(types) {
					want = types[c]
				}
				v, err := paramValue(rec.Column(c), r, want)
				if err != nil {
					return nil, status.Errorf(codes.InvalidArgument, "ERROR 22023: parameter %s: %v", paramName(c), err)
				}
				row[c] = v
			}
			rows = append(rows, row)
		}
	}
	if err := rdr.Err(); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "reading parameters: %v", err)
	}
	return rows, nil
}

// paramValue returns row i of arr in the engine's literal form for a
// parameter of type want (nil: whatever the value is). Values whose type
// is not want's exactly go as text, which the engine casts to want.
func paramValue(arr arrow.Array, i int, want arrow.DataType) (any, error) {
	if arr.IsNull(i) {
		return nil, nil
	}
	var wantID arrow.Type = arrow.NULL
	if want != nil {
		wantID = want.ID()
	}
	switch a := arr.(type) {
	case *array.Boolean:
		if want == nil || wantID == arrow.BOOL {
			return a.Value(i), nil
		}
		return strconv.FormatBool(a.Value(i)), nil
	case *array.Int8:
		return intParam(int64(a.Value(i)), want)
	case *array.Int16:
		return intParam(int64(a.Value(i)), want)
	case *array.Int32:
		return intParam(int64(a.Value(i)), want)
	case *array.Int64:
		return intParam(a.Value(i), want)
	case *array.Uint8:
		return intParam(int64(a.Value(i)), want)
	case *array.Uint16:
		return intParam(int64(a.Value(i)), want)
	case *array.Uint32:
		return intParam(int64(a.Value(i)), want)
	case *array.Uint64:
		if a.Value(i) > math.MaxInt64 {
			return strconv.FormatUint(a.Value(i), 10), nil
		}
		return intParam(int64(a.Value(i)), want)
	case *array.Float32:
		return floatParam(float64(a.Value(i)), want)
	case *array.Float64:
		return floatParam(a.Value(i), want)
	case *array.String:
		return a.Value(i), nil
	case *array.LargeString:
		return a.Value(i), nil
	case *array.StringView:
		return a.Value(i), nil
	case *array.Binary:
		return string(a.Value(i)), nil
	case *array.Decimal128:
		scale := a.DataType().(*arrow.Decimal128Type).Scale
		n := a.Value(i)
		if d, ok := want.(*arrow.Decimal128Type); ok {
			if r, err := n.Rescale(scale, d.Scale); err == nil && r.FitsInPrecision(d.Precision) {
				return r, nil
			}
		}
		return n.ToString(scale), nil
	case *array.Date32:
		return dateParam(a.Value(i), want), nil
	case *array.Date64:
		return dateParam(arrow.Date32(int64(a.Value(i))/86_400_000), want), nil
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		t := a.Value(i).ToTime(unit)
		if want == nil || wantID == arrow.TIMESTAMP {
			return arrow.Timestamp(t.UnixMicro()), nil
		}
		return t.UTC().Format("2006-01-02 15:04:05.999999"), nil
	case *array.Null:
		return nil, nil
	}
	if s := arr.ValueStr(i); s != "" {
		return s, nil
	}
	return nil, fmt.Errorf("values of type %s are not supported", arr.DataType())
}

func intParam(v int64, want arrow.DataType) (any, error) {
	if want == nil {
		return v, nil
	}
	switch want.ID() {
	case arrow.INT64:
		return v, nil
	case arrow.INT32:
		if v >= math.MinInt32 && v <= math.MaxInt32 {
			return int32(v), nil
		}
	case arrow.FLOAT64:
		return float64(v), nil
	case arrow.DECIMAL128:
		d := want.(*arrow.Decimal128Type)
		n, err := decimal128.FromI64(v).Rescale(0, d.Scale)
		if err == nil && n.FitsInPrecision(d.Precision) {
			return n, nil
		}
	}
	return strconv.FormatInt(v, 10), nil
}

func floatParam(v float64, want arrow.DataType) (any, error) {
	if want == nil || want.ID() == arrow.FLOAT64 {
		return v, nil
	}
	return strconv.FormatFloat(v, 'g', -1, 64), nil
}

func dateParam(d arrow.Date32, want arrow.DataType) any {
	if want == nil || want.ID() == arrow.DATE32 {
		return d
	}
	if want.ID() == arrow.TIMESTAMP {
		return arrow.Timestamp(d.ToTime().UnixMicro())
	}
	return d.ToTime().Format(time.DateOnly)
}
