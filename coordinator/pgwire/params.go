package pgwire

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/exec/kernels"
)

// decodeParam turns one Bind parameter into the Literal.Value form the
// engine takes: bool, int32, int64, float64, arrow.Date32, arrow.Timestamp,
// or a string that the engine converts to the parameter's type t. oid is the
// type the client encoded (declared in Parse, or reported in
// ParameterDescription). A nil data is NULL.
func decodeParam(data []byte, format int16, oid uint32, t arrow.DataType) (any, error) {
	if data == nil {
		return nil, nil
	}
	if format == formatText {
		return textParam(string(data), oid, t), nil
	}
	if format != formatBinary {
		return nil, sqlerr.New(sqlerr.ProtocolViolation, "unsupported format code: %d", format)
	}
	v, err := binaryParam(data, oid)
	if err != nil {
		return nil, err
	}
	return coerce(v, t), nil
}

// textParam converts what the engine's text conversion may not take as
// PostgreSQL clients write it (t/f booleans, timestamps with a zone).
func textParam(s string, oid uint32, t arrow.DataType) any {
	switch t.(type) {
	case *arrow.BooleanType:
		if b, ok := parseBool(s); ok {
			return b
		}
	case *arrow.Date32Type:
		if days, _, ok := parseTimestamp(s, false); ok {
			return arrow.Date32(floorDiv(days, usPerDay))
		}
	case *arrow.TimestampType:
		if us, _, ok := parseTimestamp(s, oid == oidTimestampTZ); ok {
			return arrow.Timestamp(us)
		}
	}
	return s
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "t", "true", "y", "yes", "on", "1":
		return true, true
	case "f", "false", "n", "no", "off", "0":
		return false, true
	}
	return false, false
}

// parseTimestamp reads YYYY-MM-DD[( |T)HH:MM[:SS[.ffffff]]][zone] into
// microseconds since 1970-01-01. The zone (Z, ±HH, ±HH:MM, ±HHMM) shifts the
// value to UTC when applyZone is set and is ignored otherwise, as a cast to
// timestamp without time zone ignores it.
func parseTimestamp(s string, applyZone bool) (us int64, hasTime bool, ok bool) {
	s = strings.TrimSpace(s)
	num := func(n int) (int, bool) {
		if len(s) < n {
			return 0, false
		}
		v := 0
		for k := 0; k < n; k++ {
			c := s[k]
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		s = s[n:]
		return v, true
	}
	sep := func(c byte) bool {
		if len(s) > 0 && s[0] == c {
			s = s[1:]
			return true
		}
		return false
	}
	y, ok1 := num(4)
	if !ok1 || !sep('-') {
		return 0, false, false
	}
	m, ok2 := num(2)
	if !ok2 || !sep('-') {
		return 0, false, false
	}
	d, ok3 := num(2)
	if !ok3 || m < 1 || m > 12 || d < 1 || d > 31 {
		return 0, false, false
	}
	us = kernels.DaysFromCivil(int64(y), m, d) * usPerDay
	if s == "" {
		return us, false, true
	}
	if !sep(' ') && !sep('T') {
		return 0, false, false
	}
	hh, okh := num(2)
	if !okh || !sep(':') {
		return 0, false, false
	}
	mi, okm := num(2)
	if !okm || hh > 24 || mi > 59 {
		return 0, false, false
	}
	sec := 0
	if sep(':') {
		var oks bool
		if sec, oks = num(2); !oks || sec > 60 {
			return 0, false, false
		}
		if sep('.') {
			frac, scale := int64(0), int64(1_000_000)
			for len(s) > 0 && s[0] >= '0' && s[0] <= '9' {
				if scale > 1 {
					scale /= 10
					frac += int64(s[0]-'0') * scale
				}
				s = s[1:]
			}
			us += frac
		}
	}
	us += (int64(hh)*3600 + int64(mi)*60 + int64(sec)) * 1_000_000
	s = strings.TrimSpace(s)
	if s == "" {
		return us, true, true
	}
	if s == "Z" || s == "z" || strings.EqualFold(s, "UTC") {
		return us, true, true
	}
	neg := s[0] == '-'
	if !neg && s[0] != '+' {
		return 0, false, false
	}
	s = s[1:]
	zh, okz := num(2)
	if !okz {
		return 0, false, false
	}
	zm := 0
	sep(':')
	if len(s) >= 2 {
		if zm, okz = num(2); !okz {
			return 0, false, false
		}
	}
	if s != "" {
		return 0, false, false
	}
	if applyZone {
		off := int64(zh*3600+zm*60) * 1_000_000
		if neg {
			off = -off
		}
		us -= off
	}
	return us, true, true
}

// binaryParam decodes a binary parameter of type oid into a Go value.
func binaryParam(b []byte, oid uint32) (any, error) {
	bad := func() (any, error) {
		return nil, sqlerr.New("22P03", "incorrect binary data format in bind parameter of type oid %d", oid)
	}
	switch oid {
	case oidBool:
		if len(b) != 1 {
			return bad()
		}
		return b[0] != 0, nil
	case oidInt2:
		if len(b) != 2 {
			return bad()
		}
		return int64(int16(binary.BigEndian.Uint16(b))), nil
	case oidInt4:
		if len(b) != 4 {
			return bad()
		}
		return int64(int32(binary.BigEndian.Uint32(b))), nil
	case oidInt8:
		if len(b) != 8 {
			return bad()
		}
		return int64(binary.BigEndian.Uint64(b)), nil
	case oidFloat4:
		if len(b) != 4 {
			return bad()
		}
		return float64(math.Float32frombits(binary.BigEndian.Uint32(b))), nil
	case oidFloat8:
		if len(b) != 8 {
			return bad()
		}
		return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
	case oidNumeric:
		s, ok := numericText(b)
		if !ok {
			return bad()
		}
		return s, nil
	case oidDate:
		if len(b) != 4 {
			return bad()
		}
		return arrow.Date32(int32(binary.BigEndian.Uint32(b)) + pgEpochDays), nil
	case oidTimestamp, oidTimestampTZ:
		if len(b) != 8 {
			return bad()
		}
		return arrow.Timestamp(int64(binary.BigEndian.Uint64(b)) + pgEpochDays*usPerDay), nil
	case 0, oidText, oidVarchar, oidBPChar, oidName, oidChar, oidUnknown, oidBytea:
		return string(b), nil
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "binary format for parameters of type oid %d is not supported", oid)
}

// numericText renders a binary numeric as decimal text.
func numericText(b []byte) (string, bool) {
	if len(b) < 8 {
		return "", false
	}
	n := int(binary.BigEndian.Uint16(b))
	weight := int(int16(binary.BigEndian.Uint16(b[2:])))
	sign := binary.BigEndian.Uint16(b[4:])
	dscale := int(binary.BigEndian.Uint16(b[6:]))
	if len(b) != 8+2*n {
		return "", false
	}
	switch sign {
	case 0xC000:
		return "NaN", true
	case 0xD000:
		return "Infinity", true
	case 0xF000:
		return "-Infinity", true
	}
	digit := func(k int) int { // group k (0 = the one of weight `weight`)
		if k < 0 || k >= n {
			return 0
		}
		return int(binary.BigEndian.Uint16(b[8+2*k:]))
	}
	var sb strings.Builder
	if sign == 0x4000 {
		sb.WriteByte('-')
	}
	if weight < 0 {
		sb.WriteByte('0')
	} else {
		for k := 0; k <= weight; k++ {
			g := digit(k)
			if k == 0 {
				sb.WriteString(strconv.Itoa(g))
			} else {
				sb.WriteString(pad4(g))
			}
		}
	}
	if dscale > 0 {
		sb.WriteByte('.')
		frac := make([]byte, 0, dscale+4)
		for k := weight + 1; len(frac) < dscale; k++ {
			frac = append(frac, pad4(digit(k))...)
		}
		sb.Write(frac[:dscale])
	}
	return sb.String(), true
}

func pad4(g int) string {
	s := strconv.Itoa(g)
	return strings.Repeat("0", 4-len(s)) + s
}

// coerce converts a decoded binary value to the parameter's Arrow type
// where the two differ (an int8 sent for an int4 parameter, a number for a
// decimal one); the engine reports what remains incompatible.
func coerce(v any, t arrow.DataType) any {
	switch x := v.(type) {
	case int64:
		switch t.(type) {
		case *arrow.Int32Type, *arrow.Int16Type, *arrow.Int8Type:
			if x >= math.MinInt32 && x <= math.MaxInt32 {
				return int32(x)
			}
			return strconv.FormatInt(x, 10)
		case *arrow.Int64Type:
			return x
		case *arrow.Float64Type, *arrow.Float32Type:
			return float64(x)
		case *arrow.Decimal128Type:
			return decimal128.FromI64(x).Mul(decimal128.GetScaleMultiplier(int(t.(*arrow.Decimal128Type).Scale)))
		}
		return strconv.FormatInt(x, 10)
	case float64:
		switch t.(type) {
		case *arrow.Float64Type, *arrow.Float32Type:
			return x
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		if _, ok := t.(*arrow.BooleanType); ok {
			return x
		}
		return strconv.FormatBool(x)
	case arrow.Date32:
		switch t.(type) {
		case *arrow.Date32Type:
			return x
		case *arrow.TimestampType:
			return arrow.Timestamp(int64(x) * usPerDay)
		}
		return string(appendDate(nil, int64(x)))
	case arrow.Timestamp:
		switch t.(type) {
		case *arrow.TimestampType:
			return x
		case *arrow.Date32Type:
			return arrow.Date32(floorDiv(int64(x), usPerDay))
		}
		return string(appendTimestamp(nil, int64(x)))
	}
	return v
}
