package planner

import (
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"regexp"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

var typeNameRe = regexp.MustCompile(`^\s*([a-zA-Z_][a-zA-Z0-9_ ]*?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*(with(?:out)? time zone)?\s*$`)

// parseTypeName maps a SQL type name (PostgreSQL, MySQL, DuckDB spellings)
// to its Arrow type.
func parseTypeName(s string) (arrow.DataType, error) {
	m := typeNameRe.FindStringSubmatch(s)
	if m == nil {
		return nil, sqlerr.New(sqlerr.UndefinedObject, "type %q does not exist", s)
	}
	name := strings.Join(strings.Fields(strings.ToLower(m[1])), " ")
	switch name {
	case "boolean", "bool":
		return physical.Boolean, nil
	case "int", "integer", "int4", "smallint", "int2", "tinyint", "mediumint":
		return physical.Int32, nil
	case "bigint", "int8", "signed", "signed integer", "signed int", "unsigned", "unsigned integer", "long":
		return physical.Int64, nil
	case "double", "double precision", "float", "float8", "real", "float4":
		return physical.Float64, nil
	case "decimal", "numeric", "dec":
		p, sc := int32(38), int32(0)
		if m[2] != "" {
			v, _ := strconv.Atoi(m[2])
			p = int32(v)
			if p < 1 || p > 38 {
				return nil, sqlerr.New(sqlerr.InvalidParameterValue, "NUMERIC precision %d must be between 1 and 38", p)
			}
		} else {
			sc = 9 // unconstrained NUMERIC: keep fractions (DuckDB's DECIMAL(18,3) loses too much)
		}
		if m[3] != "" {
			v, _ := strconv.Atoi(m[3])
			sc = int32(v)
			if sc > p {
				return nil, sqlerr.New(sqlerr.InvalidParameterValue, "NUMERIC scale %d must be between 0 and precision %d", sc, p)
			}
		}
		return physical.Decimal(p, sc), nil
	case "varchar", "text", "char", "character", "character varying", "string", "nvarchar", "nchar", "bpchar", "clob":
		return physical.String, nil
	case "date":
		return physical.Date, nil
	case "timestamp", "datetime", "timestamptz":
		return physical.Timestamp, nil
	}
	return nil, sqlerr.New(sqlerr.UndefinedObject, "type %q does not exist", strings.TrimSpace(s))
}

func isInteger(t arrow.DataType) bool {
	return t.ID() == arrow.INT32 || t.ID() == arrow.INT64
}

func isDecimal(t arrow.DataType) bool { return t.ID() == arrow.DECIMAL128 }

func isNumeric(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT32, arrow.INT64, arrow.FLOAT64, arrow.DECIMAL128:
		return true
	}
	return false
}

func isNull(t arrow.DataType) bool { return t.ID() == arrow.NULL }

func isTemporal(t arrow.DataType) bool {
	return t.ID() == arrow.DATE32 || t.ID() == arrow.TIMESTAMP
}

// decimalOf is the decimal type that holds every value of a numeric type.
func decimalOf(t arrow.DataType) *arrow.Decimal128Type {
	switch t := t.(type) {
	case *arrow.Decimal128Type:
		return t
	case *arrow.Int32Type:
		return &arrow.Decimal128Type{Precision: 10}
	case *arrow.Int64Type:
		return &arrow.Decimal128Type{Precision: 19}
	}
	return &arrow.Decimal128Type{Precision: 38, Scale: 9}
}

// constDecimalOf types an integer constant by its digits (1 → DECIMAL(1,0))
// so that `1 - l_discount` stays narrow.
func constDecimalOf(e Expr) *arrow.Decimal128Type {
	if c, ok := e.(*Const); ok && c.Value != nil {
		var v int64
		switch x := c.Value.(type) {
		case int32:
			v = int64(x)
		case int64:
			v = x
		default:
			return decimalOf(e.Type())
		}
		if v < 0 {
			v = -v
		}
		digits := int32(len(strconv.FormatInt(v, 10)))
		return &arrow.Decimal128Type{Precision: digits}
	}
	return decimalOf(e.Type())
}

func minI(a, b int32) int32 {
	if a < b {
		return a
	}
	return b
}

func maxI(a, b int32) int32 {
	if a > b {
		return a
	}
	return b
}

// commonType is the type two values are compared or combined in, or nil if
// there is none.
func commonType(a, b arrow.DataType) arrow.DataType {
	if isNull(a) {
		return b
	}
	if isNull(b) || arrow.TypeEqual(a, b) {
		return a
	}
	if isNumeric(a) && isNumeric(b) {
		switch {
		case a.ID() == arrow.FLOAT64 || b.ID() == arrow.FLOAT64:
			return physical.Float64
		case isDecimal(a) || isDecimal(b):
			da, db := decimalOf(a), decimalOf(b)
			s := maxI(da.Scale, db.Scale)
			p := minI(38, maxI(da.Precision-da.Scale, db.Precision-db.Scale)+s)
			return physical.Decimal(p, s)
		default:
			return physical.Int64
		}
	}
	if isTemporal(a) && isTemporal(b) {
		return physical.Timestamp
	}
	return nil
}

// castTo converts e to type t, folding NULL and untyped literals directly.
func castTo(e Expr, t arrow.DataType) Expr {
	if arrow.TypeEqual(e.Type(), t) {
		return e
	}
	if c, ok := e.(*Const); ok && c.Value == nil {
		if c.param != nil {
			c.param.t = t
		}
		return &Const{T: t, param: c.param}
	}
	return &Func{Fn: physical.FnCast, Arg: []Expr{e}, T: t}
}

// coerceUntyped gives an untyped string literal the type of the other
// operand (as PostgreSQL does with unknown literals: date_col >= '1995-01-01').
func coerceUntyped(a, b Expr) (Expr, Expr) {
	if c, ok := a.(*Const); ok && c.untypedString && b.Type().ID() != arrow.STRING && !isNull(b.Type()) {
		return castTo(c.typed(), b.Type()), b
	}
	if c, ok := b.(*Const); ok && c.untypedString && a.Type().ID() != arrow.STRING && !isNull(a.Type()) {
		return a, castTo(c.typed(), a.Type())
	}
	return a, b
}

// unify casts all exprs to their common type; op names the construct in the
// error.
func unify(op string, pos int, exprs ...Expr) ([]Expr, arrow.DataType, error) {
	var t arrow.DataType = physical.Null
	for _, e := range exprs {
		if c, ok := e.(*Const); ok && c.untypedString {
			continue
		}
		nt := commonType(t, e.Type())
		if nt == nil {
			return nil, nil, sqlerr.At(sqlerr.DatatypeMismatch, pos, "%s types %s and %s cannot be matched",
				op, physical.TypeName(t), physical.TypeName(e.Type()))
		}
		t = nt
	}
	if isNull(t) {
		// Only untyped literals and NULLs: strings win.
		for _, e := range exprs {
			if !isNull(e.Type()) {
				t = e.Type()
				break
			}
		}
	}
	out := make([]Expr, len(exprs))
	for i, e := range exprs {
		if c, ok := e.(*Const); ok && c.untypedString {
			e = c.typed()
		}
		out[i] = castTo(e, t)
	}
	return out, t, nil
}

func typeErr(pos int, op string, a, b arrow.DataType) error {
	return sqlerr.At(sqlerr.UndefinedFunction, pos, "operator does not exist: %s %s %s",
		physical.TypeName(a), op, physical.TypeName(b))
}

// intervalArith binds the interval operators PostgreSQL has: interval ±
// interval, interval × number, number × interval, interval ÷ number (an
// integer factor stays exact, any other is DOUBLE), and timestamp −
// timestamp → interval.
func intervalArith(op opcode.Op, fn string, l, r Expr) (Expr, bool) {
	lt, rt := l.Type(), r.Type()
	isIv := func(t arrow.DataType) bool { return t.ID() == arrow.INTERVAL_MONTH_DAY_NANO }
	factor := func(e Expr) Expr {
		if isInteger(e.Type()) {
			return castTo(e, physical.Int64)
		}
		return castTo(e, physical.Float64)
	}
	switch {
	case isIv(lt) && (isIv(rt) || isNull(rt)) && (op == opcode.Plus || op == opcode.Minus):
		return &Func{Fn: fn, Arg: []Expr{l, castTo(r, physical.Interval)}, T: physical.Interval}, true
	case isNull(lt) && isIv(rt) && (op == opcode.Plus || op == opcode.Minus):
		return &Func{Fn: fn, Arg: []Expr{castTo(l, physical.Interval), r}, T: physical.Interval}, true
	case isIv(lt) && (isNumeric(rt) || isNull(rt)) && op == opcode.Mul:
		return &Func{Fn: fn, Arg: []Expr{l, factor(r)}, T: physical.Interval}, true
	case (isNumeric(lt) || isNull(lt)) && isIv(rt) && op == opcode.Mul:
		return &Func{Fn: fn, Arg: []Expr{r, factor(l)}, T: physical.Interval}, true
	case isIv(lt) && (isNumeric(rt) || isNull(rt)) && op == opcode.Div:
		return &Func{Fn: fn, Arg: []Expr{l, castTo(r, physical.Float64)}, T: physical.Interval}, true
	case lt.ID() == arrow.TIMESTAMP && rt.ID() == arrow.TIMESTAMP && op == opcode.Minus:
		return &Func{Fn: fn, Arg: []Expr{l, r}, T: physical.Interval}, true
	case lt.ID() == arrow.TIMESTAMP && rt.ID() == arrow.DATE32 && op == opcode.Minus:
		return &Func{Fn: fn, Arg: []Expr{l, castTo(r, physical.Timestamp)}, T: physical.Interval}, true
	case lt.ID() == arrow.DATE32 && rt.ID() == arrow.TIMESTAMP && op == opcode.Minus:
		return &Func{Fn: fn, Arg: []Expr{castTo(l, physical.Timestamp), r}, T: physical.Interval}, true
	}
	return nil, false
}
