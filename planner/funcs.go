package planner

import (
	"errors"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// bindFunc binds a scalar function call.
func (b *binder) bindFunc(e *ast.FuncCallExpr, sc *scope, allowAgg bool) (Expr, error) {
	name := e.FnName.L
	p := pos(e)
	// Literal forms the parser turns into calls: DATE '…', TIMESTAMP '…'.
	if strings.HasSuffix(name, "(dateliteral") || strings.HasSuffix(name, "(timestampliteral") {
		t := physical.Date
		if strings.HasSuffix(name, "(timestampliteral") {
			t = physical.Timestamp
		}
		v, ok := e.Args[0].(*test_driver.ValueExpr)
		if !ok {
			return nil, sqlerr.At(sqlerr.SyntaxError, p, "bad literal")
		}
		return b.fold(castTo(&Const{Value: v.Datum.GetString(), T: physical.String}, t), p)
	}
	if name == "__param" {
		return b.bindParam(e)
	}
	if name == "grouping" {
		var args []Expr
		for _, a := range e.Args {
			x, err := b.bindExpr(a, sc, false)
			if err != nil {
				return nil, err
			}
			args = append(args, x)
		}
		if len(args) == 0 || len(args) > 31 {
			return nil, sqlerr.At(sqlerr.UndefinedFunction, p, "GROUPING takes 1 to 31 arguments")
		}
		if !allowAgg {
			return nil, sqlerr.At(sqlerr.GroupingError, p, "GROUPING is not allowed here")
		}
		return &Func{Fn: groupingCallFn, Arg: args, T: physical.Int32}, nil
	}
	var args []Expr
	for _, a := range e.Args {
		switch a.(type) {
		case *ast.TimeUnitExpr, *ast.TrimDirectionExpr:
			continue
		}
		x, err := b.bindExpr(a, sc, allowAgg)
		if err != nil {
			return nil, err
		}
		args = append(args, x)
	}
	arity := func(lo, hi int) error {
		if len(args) < lo || len(args) > hi {
			return sqlerr.At(sqlerr.UndefinedFunction, p, "function %s with %d arguments does not exist", name, len(args))
		}
		return nil
	}
	str := func(i int) error {
		if c, ok := args[i].(*Const); ok && c.untypedString {
			args[i] = c.typed()
		}
		switch args[i].Type().ID() {
		case arrow.STRING:
		case arrow.NULL:
			args[i] = castTo(args[i], physical.String)
		default:
			return sqlerr.At(sqlerr.UndefinedFunction, p, "function %s(%s) does not exist", name, physical.TypeName(args[i].Type()))
		}
		return nil
	}
	integer := func(i int) error {
		if c, ok := args[i].(*Const); ok && c.untypedString {
			args[i] = castTo(c.typed(), physical.Int64)
		}
		if !isInteger(args[i].Type()) && !isNull(args[i].Type()) {
			return sqlerr.At(sqlerr.UndefinedFunction, p, "function %s: argument %d must be an integer, not %s", name, i+1, physical.TypeName(args[i].Type()))
		}
		args[i] = castTo(args[i], physical.Int64)
		return nil
	}
	switch name {
	case "__cast":
		if err := arity(2, 2); err != nil {
			return nil, err
		}
		tn, ok := args[1].(*Const)
		if !ok {
			return nil, sqlerr.At(sqlerr.SyntaxError, p, "bad CAST")
		}
		if x, ok, err := b.pgCast(args[0], e, tn.Value.(string), p); ok {
			return x, err
		}
		t, err := parseTypeName(tn.Value.(string))
		if err != nil {
			return nil, sqlerr.At(sqlerr.UndefinedObject, p, "%s", err.(*sqlerr.Error).Msg)
		}
		return b.fold(b.cast(args[0], t), p)
	case "__interval":
		// PostgreSQL's interval 'n unit [n unit …] [hh:mm[:ss]]'.
		c, ok := args[0].(*Const)
		if len(args) != 1 || !ok {
			return nil, sqlerr.At(sqlerr.SyntaxError, p, "interval literal expected")
		}
		text, _ := c.Value.(string)
		return b.intervalText(text, p)
	case "date_add", "date_sub", "adddate", "subdate":
		if len(args) != 2 {
			return nil, sqlerr.At(sqlerr.UndefinedFunction, p, "function %s with %d arguments does not exist", name, len(args))
		}
		unit := "DAY"
		for _, a := range e.Args {
			if tu, ok := a.(*ast.TimeUnitExpr); ok {
				unit = tu.Unit.String()
			}
		}
		iv, err := b.intervalConst(args[1], unit, p)
		if err != nil {
			return nil, err
		}
		d := args[0]
		if c, ok := d.(*Const); ok && c.untypedString {
			s, _ := c.Value.(string)
			t := physical.Date
			if len(strings.TrimSpace(s)) > 10 {
				t = physical.Timestamp
			}
			d = castTo(&Const{Value: s, T: c.T}, t)
		}
		if !isTemporal(d.Type()) {
			return nil, sqlerr.At(sqlerr.UndefinedFunction, p, "operator does not exist: %s + INTERVAL", physical.TypeName(d.Type()))
		}
		fn := physical.FnAdd
		if name == "date_sub" || name == "subdate" {
			fn = physical.FnSub
		}
		return b.fold(&Func{Fn: fn, Arg: []Expr{d, iv}, T: dateIntervalType(d.Type(), iv)}, p)
	case "extract", "date_part":
		field := ""
		for _, a := range e.Args {
			if tu, ok := a.(*ast.TimeUnitExpr); ok {
				field = strings.ToLower(tu.Unit.String())
			}
		}
		if name == "date_part" {
			if err := arity(2, 2); err != nil {
				return nil, err
			}
			c, ok := args[0].(*Const)
			if !ok || c.Value == nil {
				return nil, sqlerr.At(sqlerr.InvalidParameterValue, p, "date_part field must be a constant")
			}
			field, args = strings.ToLower(c.Value.(string)), args[1:]
		}
		if len(args) != 1 {
			return nil, sqlerr.At(sqlerr.UndefinedFunction, p, "EXTRACT needs one argument")
		}
		d := args[0]
		if c, ok := d.(*Const); ok && c.untypedString {
			d = castTo(c.typed(), physical.Timestamp)
		}
		if d.Type().ID() == arrow.INTERVAL_MONTH_DAY_NANO {
			switch field {
			case "millennium", "century", "decade", "year", "quarter", "month", "day", "hour", "minute", "second",
				"millisecond", "milliseconds", "microsecond", "microseconds", "epoch":
			default:
				return nil, sqlerr.At(sqlerr.InvalidParameterValue, p, "unit %q not supported for type INTERVAL", field)
			}
			return &Func{Fn: physical.FnExtract, Arg: []Expr{&Const{Value: field, T: physical.String}, d}, T: physical.Int64}, nil
		}
		if !isTemporal(d.Type()) && !isNull(d.Type()) {
			return nil, sqlerr.At(sqlerr.UndefinedFunction, p, "function extract(%s) does not exist", physical.TypeName(d.Type()))
		}
		switch field {
		case "year", "quarter", "month", "day", "hour", "minute", "second", "dow", "doy", "week", "epoch",
			"isodow", "isoyear", "decade", "century", "millisecond", "milliseconds", "microsecond", "microseconds":
		default:
			return nil, sqlerr.At(sqlerr.InvalidParameterValue, p, "unit %q not supported by EXTRACT", field)
		}
		return &Func{Fn: physical.FnExtract, Arg: []Expr{&Const{Value: field, T: physical.String}, castTo(d, physical.Timestamp)}, T: physical.Int64}, nil
	case "substring", "substr":
		if err := arity(2, 3); err != nil {
			return nil, err
		}
		if err := str(0); err != nil {
			return nil, err
		}
		for i := 1; i < len(args); i++ {
			if err := integer(i); err != nil {
				return nil, err
			}
		}
		return &Func{Fn: physical.FnSubstring, Arg: args, T: physical.String}, nil
	case "upper", "ucase", "lower", "lcase":
		if err := arity(1, 1); err != nil {
			return nil, err
		}
		if err := str(0); err != nil {
			return nil, err
		}
		fn := physical.FnUpper
		if name == "lower" || name == "lcase" {
			fn = physical.FnLower
		}
		return &Func{Fn: fn, Arg: args, T: physical.String}, nil
	case "trim", "ltrim", "rtrim", "btrim":
		if err := arity(1, 2); err != nil {
			return nil, err
		}
		for i := range args {
			if err := str(i); err != nil {
				return nil, err
			}
		}
		fn := map[string]string{"trim": physical.FnTrim, "btrim": physical.FnTrim, "ltrim": physical.FnLTrim, "rtrim": physical.FnRTrim}[name]
		for _, a := range e.Args {
			if td, ok := a.(*ast.TrimDirectionExpr); ok {
				switch td.Direction {
				case ast.TrimLeading:
					fn = physical.FnLTrim
				case ast.TrimTrailing:
					fn = physical.FnRTrim
				}
			}
		}
		return &Func{Fn: fn, Arg: args, T: physical.String}, nil
	case "length", "char_length", "character_length":
		if err := arity(1, 1); err != nil {
			return nil, err
		}
		if err := str(0); err != nil {
			return nil, err
		}
		return &Func{Fn: physical.FnLength, Arg: args, T: physical.Int32}, nil
	case "concat":
		if len(args) == 0 {
			return nil, sqlerr.At(sqlerr.UndefinedFunction, p, "function concat() does not exist")
		}
		for i := range args {
			args[i] = b.cast(args[i], physical.String)
		}
		// `a || b` reaches us as concat(a, b); only the function form skips NULLs.
		fn := physical.FnConcatOp
		if off := e.OriginTextPosition(); off >= 0 && off+6 <= len(b.text) && strings.EqualFold(b.text[off:off+6], "concat") {
			fn = physical.FnConcat
		}
		if fn == physical.FnConcatOp && len(args) != 2 {
			fn = physical.FnConcat
		}
		return &Func{Fn: fn, Arg: args, T: physical.String}, nil
	case "coalesce", "ifnull", "nvl":
		if len(args) == 0 {
			return nil, sqlerr.At(sqlerr.UndefinedFunction, p, "function coalesce() does not exist")
		}
		args, t, err := unify("COALESCE", p, args...)
		if err != nil {
			return nil, err
		}
		return &Func{Fn: physical.FnCoalesce, Arg: args, T: t}, nil
	case "nullif":
		if err := arity(2, 2); err != nil {
			return nil, err
		}
		args, t, err := unify("NULLIF", p, args...)
		if err != nil {
			return nil, err
		}
		return &Func{Fn: physical.FnNullIf, Arg: args, T: t}, nil
	case "abs":
		if err := arity(1, 1); err != nil {
			return nil, err
		}
		if !isNumeric(args[0].Type()) && !isNull(args[0].Type()) {
			return nil, sqlerr.At(sqlerr.UndefinedFunction, p, "function abs(%s) does not exist", physical.TypeName(args[0].Type()))
		}
		if isNull(args[0].Type()) {
			args[0] = castTo(args[0], physical.Int32)
		}
		return &Func{Fn: physical.FnAbs, Arg: args, T: args[0].Type()}, nil
	case "round":
		if err := arity(1, 2); err != nil {
			return nil, err
		}
		x := args[0]
		if isNull(x.Type()) {
			x = castTo(x, physical.Float64)
		}
		if !isNumeric(x.Type()) {
			return nil, sqlerr.At(sqlerr.UndefinedFunction, p, "function round(%s) does not exist", physical.TypeName(x.Type()))
		}
		digits := int32(0)
		if len(args) == 2 {
			c, ok := args[1].(*Const)
			if !ok || !isInteger(c.T) {
				return nil, sqlerr.At(sqlerr.FeatureNotSupported, p, "round: the number of digits must be an integer constant")
			}
			switch v := c.Value.(type) {
			case int32:
				digits = v
			case int64:
				digits = int32(v)
			}
		}
		out := []Expr{x, &Const{Value: digits, T: physical.Int32}}
		switch t := x.Type().(type) {
		case *arrow.Int32Type, *arrow.Int64Type:
			if digits >= 0 {
				return x, nil
			}
			return &Func{Fn: physical.FnRound, Arg: out, T: t}, nil
		case *arrow.Decimal128Type:
			s := max(0, min(t.Scale, digits))
			return &Func{Fn: physical.FnRound, Arg: out, T: physical.Decimal(t.Precision, s)}, nil
		}
		return &Func{Fn: physical.FnRound, Arg: out, T: physical.Float64}, nil
	case "__mode", "mode":
		// mode() WITHIN GROUP (ORDER BY x) in its pre-parse form, and
		// DuckDB's mode(x).
		if err := arity(1, 1); err != nil {
			return nil, err
		}
		if err := aggregateHere(args[0], allowAgg, p); err != nil {
			return nil, err
		}
		x := args[0]
		if c, ok := x.(*Const); ok && c.untypedString {
			x = c.typed()
		}
		return &aggCall{agg: AggExpr{Fn: physical.AggMostFrequent, Arg: x, T: x.Type()}}, nil
	case "median", "quantile_cont", "quantile_disc", "__percentile_cont", "__percentile_disc":
		// median(x), quantile_cont(x, f) (DuckDB), and the pre-parse form
		// of percentile_cont(f) WITHIN GROUP (ORDER BY x).
		if name == "median" {
			if err := arity(1, 1); err != nil {
				return nil, err
			}
		} else if err := arity(2, 2); err != nil {
			return nil, err
		}
		if err := aggregateHere(args[0], allowAgg, p); err != nil {
			return nil, err
		}
		frac := 0.5
		if len(args) == 2 {
			folded, err := b.fold(args[1], p)
			if err != nil {
				return nil, err
			}
			c, ok := folded.(*Const)
			var f float64
			var v any
			if ok {
				v = c.Value
			}
			switch v := v.(type) {
			case float64:
				f = v
			case int32:
				f = float64(v)
			case int64:
				f = float64(v)
			case decimal128.Num:
				f = v.ToFloat64(c.T.(*arrow.Decimal128Type).Scale)
			default:
				ok = false
			}
			if !ok {
				return nil, sqlerr.At(sqlerr.FeatureNotSupported, p, "%s: the fraction must be a constant", strings.TrimPrefix(name, "__"))
			}
			if f < 0 || f > 1 {
				return nil, sqlerr.At(sqlerr.NumericOutOfRange, p, "percentile value %g is not between 0 and 1", f)
			}
			frac = f
		}
		x := args[0]
		if c, ok := x.(*Const); ok && c.untypedString {
			x = castTo(c.typed(), physical.Float64)
		}
		if !isNumeric(x.Type()) && !isNull(x.Type()) {
			return nil, sqlerr.At(sqlerr.UndefinedFunction, p, "function %s(%s) does not exist", strings.TrimPrefix(name, "__"), physical.TypeName(x.Type()))
		}
		fn := physical.AggPercentileCont
		if strings.HasSuffix(name, "_disc") {
			fn = physical.AggPercentileDisc
		}
		return &aggCall{agg: AggExpr{Fn: fn, Arg: castTo(x, physical.Float64), T: physical.Float64, Frac: frac}}, nil
	case "to_char":
		if err := arity(2, 2); err != nil {
			return nil, err
		}
		v := args[0]
		if c, ok := v.(*Const); ok && c.untypedString {
			v = castTo(c.typed(), physical.Timestamp)
		}
		if isNumeric(v.Type()) {
			if err := str(1); err != nil {
				return nil, err
			}
			if _, ok := args[1].(*Const); !ok {
				return nil, sqlerr.At(sqlerr.FeatureNotSupported, p, "to_char: the template must be a constant")
			}
			return b.fold(&Func{Fn: physical.FnToCharNum, Arg: []Expr{v, args[1]}, T: physical.String}, p)
		}
		if !isTemporal(v.Type()) && !isNull(v.Type()) {
			return nil, sqlerr.At(sqlerr.UndefinedFunction, p, "function to_char(%s, text) does not exist", physical.TypeName(v.Type()))
		}
		if err := str(1); err != nil {
			return nil, err
		}
		if _, ok := args[1].(*Const); !ok {
			return nil, sqlerr.At(sqlerr.FeatureNotSupported, p, "to_char: the template must be a constant")
		}
		return b.fold(&Func{Fn: physical.FnToChar, Arg: []Expr{v, args[1]}, T: physical.String}, p)
	case "bool_and", "every", "bool_or":
		if err := arity(1, 1); err != nil {
			return nil, err
		}
		if err := aggregateHere(args[0], allowAgg, p); err != nil {
			return nil, err
		}
		a, err := aggSignature(name, args[0], false, p)
		if err != nil {
			return nil, err
		}
		return &aggCall{agg: a}, nil
	case "floor", "ceil", "ceiling", "sqrt", "cbrt", "exp", "ln", "log10", "sign", "power", "pow":
		fn := map[string]string{"floor": physical.FnFloor, "ceil": physical.FnCeil, "ceiling": physical.FnCeil,
			"sqrt": physical.FnSqrt, "cbrt": physical.FnCbrt, "exp": physical.FnExp, "ln": physical.FnLn,
			"log10": physical.FnLog10, "sign": physical.FnSign, "power": physical.FnPower, "pow": physical.FnPower}[name]
		want := 1
		if fn == physical.FnPower {
			want = 2
		}
		if err := arity(want, want); err != nil {
			return nil, err
		}
		for i, a := range args {
			if c, ok := a.(*Const); ok && c.untypedString {
				a = castTo(c.typed(), physical.Float64)
			}
			if (fn == physical.FnFloor || fn == physical.FnCeil) && isInteger(a.Type()) {
				return a, nil // already whole
			}
			if !isNumeric(a.Type()) && !isNull(a.Type()) {
				return nil, sqlerr.At(sqlerr.UndefinedFunction, p, "function %s(%s) does not exist", name, physical.TypeName(a.Type()))
			}
			args[i] = castTo(a, physical.Float64)
		}
		return b.fold(&Func{Fn: fn, Arg: args, T: physical.Float64}, p)
	case "locate", "strpos", "position", "instr":
		if err := arity(2, 2); err != nil {
			return nil, err
		}
		for i := range args {
			if err := str(i); err != nil {
				return nil, err
			}
		}
		if name == "strpos" || name == "instr" { // strpos(s, sub)
			args[0], args[1] = args[1], args[0]
		}
		return &Func{Fn: physical.FnPosition, Arg: args, T: physical.Int32}, nil
	case "replace":
		if err := arity(3, 3); err != nil {
			return nil, err
		}
		for i := range args {
			if err := str(i); err != nil {
				return nil, err
			}
		}
		return &Func{Fn: physical.FnReplace, Arg: args, T: physical.String}, nil
	case "left", "right":
		if err := arity(2, 2); err != nil {
			return nil, err
		}
		if err := str(0); err != nil {
			return nil, err
		}
		if err := integer(1); err != nil {
			return nil, err
		}
		return &Func{Fn: map[string]string{"left": physical.FnLeft, "right": physical.FnRight}[name], Arg: args, T: physical.String}, nil
	case "lpad", "rpad":
		if err := arity(2, 3); err != nil {
			return nil, err
		}
		if err := str(0); err != nil {
			return nil, err
		}
		if err := integer(1); err != nil {
			return nil, err
		}
		if len(args) == 3 {
			if err := str(2); err != nil {
				return nil, err
			}
		}
		return &Func{Fn: map[string]string{"lpad": physical.FnLPad, "rpad": physical.FnRPad}[name], Arg: args, T: physical.String}, nil
	case "split_part":
		if err := arity(3, 3); err != nil {
			return nil, err
		}
		for i := 0; i < 2; i++ {
			if err := str(i); err != nil {
				return nil, err
			}
		}
		if err := integer(2); err != nil {
			return nil, err
		}
		return &Func{Fn: physical.FnSplitPart, Arg: args, T: physical.String}, nil
	case "date_trunc":
		if err := arity(2, 2); err != nil {
			return nil, err
		}
		c, ok := args[0].(*Const)
		if !ok || c.Value == nil {
			return nil, sqlerr.At(sqlerr.InvalidParameterValue, p, "date_trunc field must be a constant")
		}
		field := strings.ToLower(c.Value.(string))
		switch field {
		case "year", "quarter", "month", "week", "day", "hour", "minute", "second", "decade", "century":
		default:
			return nil, sqlerr.At(sqlerr.InvalidParameterValue, p, "unit %q not recognized by date_trunc", field)
		}
		d := args[1]
		if k, ok := d.(*Const); ok && k.untypedString {
			d = castTo(&Const{Value: k.Value, T: k.T}, physical.Timestamp)
		}
		if !isTemporal(d.Type()) {
			return nil, sqlerr.At(sqlerr.UndefinedFunction, p, "function date_trunc(%s) does not exist", physical.TypeName(d.Type()))
		}
		return &Func{Fn: physical.FnDateTrunc, Arg: []Expr{&Const{Value: field, T: physical.String}, d}, T: d.Type()}, nil
	case "greatest", "least":
		if len(args) == 0 {
			return nil, sqlerr.At(sqlerr.UndefinedFunction, p, "function %s() does not exist", name)
		}
		args, t, err := unify(strings.ToUpper(name), p, args...)
		if err != nil {
			return nil, err
		}
		if isNull(t) {
			return &Const{T: physical.Int32}, nil
		}
		return &Func{Fn: map[string]string{"greatest": physical.FnGreatest, "least": physical.FnLeast}[name], Arg: args, T: t}, nil
	case "current_date", "curdate", "today":
		if err := arity(0, 0); err != nil {
			return nil, err
		}
		b.momentary()
		now := time.Now().UTC()
		return &Const{Value: arrow.Date32FromTime(now), T: physical.Date}, nil
	case "now", "current_timestamp", "localtimestamp":
		b.momentary()
		now := time.Now().UTC()
		return &Const{Value: arrow.Timestamp(now.UnixMicro()), T: physical.Timestamp}, nil
	case "regexp_like":
		if err := arity(2, 2); err != nil {
			return nil, err
		}
		for i := range args {
			if err := str(i); err != nil {
				return nil, err
			}
		}
		return &Func{Fn: physical.FnRegexpLike, Arg: args, T: physical.Boolean}, nil
	}
	if x, ok, err := b.bindScalarFunc(name, args, p, arity, str, integer); ok {
		return x, err
	}
	if x, ok, err := b.bindFormatFunc(name, args, p, arity, str, integer); ok {
		return x, err
	}
	if x, ok, err := b.bindPgFunc(name, args, e, sc, allowAgg, p); ok {
		b.momentary() // they read the session and the catalog
		return x, err
	}
	return nil, sqlerr.At(sqlerr.UndefinedFunction, p, "function %s does not exist", name)
}

// intervalText parses PostgreSQL's interval input: quantity-unit pairs
// (year, month/mon, week, day, hour, minute/min, second/sec, plural or
// not) and an optional [-]hh:mm[:ss] part.
func (b *binder) intervalText(text string, p int) (Expr, error) {
	bad := func() error {
		return sqlerr.At(sqlerr.InvalidDatetimeFormat, p, "invalid input syntax for type interval: %q", text)
	}
	units := map[string]string{"year": "YEAR", "years": "YEAR", "y": "YEAR", "mon": "MONTH", "mons": "MONTH",
		"month": "MONTH", "months": "MONTH", "week": "WEEK", "weeks": "WEEK", "w": "WEEK", "day": "DAY", "days": "DAY",
		"d": "DAY", "hour": "HOUR", "hours": "HOUR", "h": "HOUR", "minute": "MINUTE", "minutes": "MINUTE",
		"min": "MINUTE", "mins": "MINUTE", "m": "MINUTE", "second": "SECOND", "seconds": "SECOND", "sec": "SECOND",
		"secs": "SECOND", "s": "SECOND", "quarter": "QUARTER", "quarters": "QUARTER"}
	var sum arrow.MonthDayNanoInterval
	fields := strings.Fields(strings.ToLower(text))
	if len(fields) == 0 {
		return nil, bad()
	}
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if strings.Contains(f, ":") {
			neg := strings.HasPrefix(f, "-")
			parts := strings.Split(strings.TrimLeft(f, "+-"), ":")
			if len(parts) < 2 || len(parts) > 3 {
				return nil, bad()
			}
			var ns int64
			for j, unit := range []int64{3600e9, 60e9, 1e9}[:len(parts)] {
				n, err := strconv.ParseInt(parts[j], 10, 64)
				if err != nil {
					return nil, bad()
				}
				ns += n * unit
			}
			if neg {
				ns = -ns
			}
			sum.Nanoseconds += ns
			continue
		}
		if i+1 >= len(fields) {
			return nil, bad()
		}
		unit, ok := units[fields[i+1]]
		if !ok {
			return nil, bad()
		}
		iv, err := b.intervalConst(&Const{Value: f, T: physical.String}, unit, p)
		if err != nil {
			return nil, bad()
		}
		v := iv.(*Const).Value.(arrow.MonthDayNanoInterval)
		sum.Months += v.Months
		sum.Days += v.Days
		sum.Nanoseconds += v.Nanoseconds
		i++
	}
	return &Const{Value: sum, T: physical.Interval}, nil
}

// intervalConst builds INTERVAL 'n' unit as a constant.
func (b *binder) intervalConst(v Expr, unit string, p int) (Expr, error) {
	c, ok := v.(*Const)
	if !ok || c.Value == nil {
		return nil, sqlerr.At(sqlerr.FeatureNotSupported, p, "INTERVAL needs a constant quantity")
	}
	var n int64
	switch x := c.Value.(type) {
	case int32:
		n = int64(x)
	case int64:
		n = x
	case string:
		var err error
		n, err = parseIntervalQuantity(x)
		if err != nil {
			return nil, sqlerr.At(sqlerr.InvalidDatetimeFormat, p, "invalid input syntax for type interval: %q", x)
		}
	default:
		return nil, sqlerr.At(sqlerr.FeatureNotSupported, p, "INTERVAL quantity must be an integer")
	}
	var iv arrow.MonthDayNanoInterval
	switch strings.ToUpper(unit) {
	case "YEAR":
		iv.Months = int32(12 * n)
	case "QUARTER":
		iv.Months = int32(3 * n)
	case "MONTH":
		iv.Months = int32(n)
	case "WEEK":
		iv.Days = int32(7 * n)
	case "DAY":
		iv.Days = int32(n)
	case "HOUR":
		iv.Nanoseconds = n * 3600e9
	case "MINUTE":
		iv.Nanoseconds = n * 60e9
	case "SECOND":
		iv.Nanoseconds = n * 1e9
	default:
		return nil, sqlerr.At(sqlerr.FeatureNotSupported, p, "interval unit %s is not supported", unit)
	}
	return &Const{Value: iv, T: physical.Interval}, nil
}

func parseIntervalQuantity(s string) (int64, error) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	if s == "" {
		return 0, sqlerr.New(sqlerr.InvalidDatetimeFormat, "empty interval")
	}
	var n int64
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, sqlerr.New(sqlerr.InvalidDatetimeFormat, "bad interval")
		}
		n = n*10 + int64(r-'0')
	}
	if neg {
		n = -n
	}
	return n, nil
}

// aggregateHere checks that an aggregate may stand where it is bound
// and that its argument arg holds no aggregate.
func aggregateHere(arg Expr, allowAgg bool, p int) error {
	if !allowAgg {
		return sqlerr.At(sqlerr.GroupingError, p, "aggregate functions are not allowed here")
	}
	if hasAgg(arg) {
		return sqlerr.At(sqlerr.GroupingError, p, "aggregate function calls cannot be nested")
	}
	return nil
}

// evalConst evaluates e now when it is foldable and an evaluator is
// available; it returns nil and no error when e is left as it is.
func (p *Planner) evalConst(e Expr) (*Const, error) {
	if c, ok := e.(*Const); ok {
		return c, nil
	}
	if p.Eval == nil || !foldable(e) {
		return nil, nil
	}
	pe, err := toPhysicalExpr(e, nil)
	if err != nil {
		return nil, nil
	}
	v, err := p.Eval(pe)
	if err != nil {
		return nil, err
	}
	return &Const{Value: v, T: e.Type()}, nil
}

// fold evaluates a constant expression now when an evaluator is available;
// an evaluation error is returned with the expression's position.
func (b *binder) fold(e Expr, p int) (Expr, error) {
	c, err := b.p.evalConst(e)
	if err != nil {
		if se, ok := err.(*sqlerr.Error); ok && se.Pos == 0 {
			c := *se
			c.Pos = p
			return nil, &c
		}
		return nil, err
	}
	if c == nil {
		return e, nil
	}
	return c, nil
}

// coerceArg casts args[i] of function name to `to`: an untyped string
// literal is read as `to`; any other argument must be of a type accepts
// (or NULL).
func coerceArg(args []Expr, i int, to arrow.DataType, accepts func(arrow.DataType) bool, name string, p int) error {
	a := args[i]
	if c, ok := a.(*Const); ok && c.untypedString {
		a = castTo(c.typed(), to)
	}
	if !accepts(a.Type()) && !isNull(a.Type()) {
		return sqlerr.At(sqlerr.UndefinedFunction, p, "function %s(%s) does not exist", name, physical.TypeName(a.Type()))
	}
	args[i] = castTo(a, to)
	return nil
}

// bindScalarFunc binds the string, math and date functions of
// exec/kernels/scalarfuncs.go; ok is false when name is none of them.
func (b *binder) bindScalarFunc(name string, args []Expr, p int, arity func(lo, hi int) error,
	str, integer func(i int) error) (x Expr, ok bool, err error) {
	strs := func(lo, hi int) error {
		if err := arity(lo, hi); err != nil {
			return err
		}
		for i := range args {
			if err := str(i); err != nil {
				return err
			}
		}
		return nil
	}
	float := func(i int) error { return coerceArg(args, i, physical.Float64, isNumeric, name, p) }
	temporal := func(i int) error { return coerceArg(args, i, physical.Timestamp, isTemporal, name, p) }
	call := func(fn string, t arrow.DataType) (Expr, bool, error) {
		return &Func{Fn: fn, Arg: args, T: t}, true, nil
	}
	switch name {
	case "initcap", "reverse", "md5":
		if err := strs(1, 1); err != nil {
			return nil, true, err
		}
		return call(map[string]string{"initcap": physical.FnInitcap, "reverse": physical.FnReverse, "md5": physical.FnMd5}[name], physical.String)
	case "ascii", "octet_length", "bit_length":
		if err := strs(1, 1); err != nil {
			return nil, true, err
		}
		return call(map[string]string{"ascii": physical.FnASCII, "octet_length": physical.FnOctetLength, "bit_length": physical.FnBitLength}[name], physical.Int32)
	case "translate":
		if err := strs(3, 3); err != nil {
			return nil, true, err
		}
		return call(physical.FnTranslate, physical.String)
	case "starts_with":
		if err := strs(2, 2); err != nil {
			return nil, true, err
		}
		return call(physical.FnStartsWith, physical.Boolean)
	case "regexp_replace":
		if err := strs(3, 4); err != nil {
			return nil, true, err
		}
		return call(physical.FnRegexpReplace, physical.String)
	case "repeat":
		if err := arity(2, 2); err != nil {
			return nil, true, err
		}
		if err := str(0); err != nil {
			return nil, true, err
		}
		if err := integer(1); err != nil {
			return nil, true, err
		}
		return call(physical.FnRepeat, physical.String)
	case "chr":
		if err := arity(1, 1); err != nil {
			return nil, true, err
		}
		if err := integer(0); err != nil {
			return nil, true, err
		}
		return call(physical.FnChr, physical.String)
	case "concat_ws":
		if len(args) < 2 {
			return nil, true, sqlerr.At(sqlerr.UndefinedFunction, p, "function concat_ws with %d arguments does not exist", len(args))
		}
		if err := str(0); err != nil {
			return nil, true, err
		}
		for i := 1; i < len(args); i++ {
			args[i] = b.cast(args[i], physical.String)
		}
		return call(physical.FnConcatWs, physical.String)
	case "pi":
		if err := arity(0, 0); err != nil {
			return nil, true, err
		}
		return &Const{Value: math.Pi, T: physical.Float64}, true, nil
	case "log":
		// log(x) is log10; log(b, x) is the base-b logarithm, computed in
		// DOUBLE PRECISION (PostgreSQL: numeric).
		if err := arity(1, 2); err != nil {
			return nil, true, err
		}
		for i := range args {
			if err := float(i); err != nil {
				return nil, true, err
			}
		}
		fn := physical.FnLog10
		if len(args) == 2 {
			fn = physical.FnLogBase
		}
		x, err := b.fold(&Func{Fn: fn, Arg: args, T: physical.Float64}, p)
		return x, true, err
	case "width_bucket":
		if err := arity(4, 4); err != nil {
			return nil, true, err
		}
		for i := 0; i < 3; i++ {
			if err := float(i); err != nil {
				return nil, true, err
			}
		}
		if err := integer(3); err != nil {
			return nil, true, err
		}
		return call(physical.FnWidthBucket, physical.Int32)
	case "trunc":
		// Typed as round: integers stay integers, decimals keep
		// min(scale, digits) digits, anything else is DOUBLE PRECISION.
		if err := arity(1, 2); err != nil {
			return nil, true, err
		}
		x := args[0]
		if c, ok := x.(*Const); ok && c.untypedString {
			x = castTo(c.typed(), physical.Float64)
		}
		if isNull(x.Type()) {
			x = castTo(x, physical.Float64)
		}
		if !isNumeric(x.Type()) {
			return nil, true, sqlerr.At(sqlerr.UndefinedFunction, p, "function trunc(%s) does not exist", physical.TypeName(x.Type()))
		}
		digits := int32(0)
		if len(args) == 2 {
			c, ok := args[1].(*Const)
			if !ok || !isInteger(c.T) {
				return nil, true, sqlerr.At(sqlerr.FeatureNotSupported, p, "trunc: the number of digits must be an integer constant")
			}
			switch v := c.Value.(type) {
			case int32:
				digits = v
			case int64:
				digits = int32(max(min(v, 1000), -1000))
			}
		}
		out := []Expr{x, &Const{Value: digits, T: physical.Int32}}
		switch t := x.Type().(type) {
		case *arrow.Int32Type, *arrow.Int64Type:
			if digits >= 0 {
				return x, true, nil
			}
			return &Func{Fn: physical.FnTrunc, Arg: out, T: t}, true, nil
		case *arrow.Decimal128Type:
			s := max(0, min(t.Scale, digits))
			return &Func{Fn: physical.FnTrunc, Arg: out, T: physical.Decimal(t.Precision, s)}, true, nil
		}
		return &Func{Fn: physical.FnTrunc, Arg: out, T: physical.Float64}, true, nil
	case "make_date":
		if err := arity(3, 3); err != nil {
			return nil, true, err
		}
		for i := range args {
			if err := integer(i); err != nil {
				return nil, true, err
			}
		}
		x, err := b.fold(&Func{Fn: physical.FnMakeDate, Arg: args, T: physical.Date}, p)
		return x, true, err
	case "to_date", "to_timestamp":
		if name == "to_timestamp" && len(args) == 1 {
			// to_timestamp(epoch seconds)
			if err := float(0); err != nil {
				return nil, true, err
			}
			return call(physical.FnToTimestamp, physical.Timestamp)
		}
		if err := strs(2, 2); err != nil {
			return nil, true, err
		}
		if name == "to_date" {
			return call(physical.FnToDate, physical.Date)
		}
		return call(physical.FnToTimestamp, physical.Timestamp)
	case "date_diff", "datediff":
		if err := arity(3, 3); err != nil {
			return nil, true, err
		}
		c, ok := args[0].(*Const)
		if !ok || c.Value == nil {
			return nil, true, sqlerr.At(sqlerr.InvalidParameterValue, p, "%s: the date part must be a constant", name)
		}
		part, _ := c.Value.(string)
		part = strings.ToLower(part)
		switch part {
		case "day", "days", "d", "dayofmonth":
			part = "day"
		case "week", "weeks", "w":
			part = "week"
		case "month", "months", "mon":
			part = "month"
		case "quarter", "quarters":
			part = "quarter"
		case "year", "years", "y", "yr", "yrs":
			part = "year"
		case "hour", "hours", "h", "hr", "hrs":
			part = "hour"
		case "minute", "minutes", "m", "min", "mins":
			part = "minute"
		case "second", "seconds", "s", "sec", "secs":
			part = "second"
		default:
			return nil, true, sqlerr.At(sqlerr.InvalidParameterValue, p, "unit %q not recognized by %s", part, name)
		}
		args[0] = &Const{Value: part, T: physical.String}
		for i := 1; i < 3; i++ {
			if err := temporal(i); err != nil {
				return nil, true, err
			}
		}
		return call(physical.FnDateDiff, physical.Int64)
	}
	return nil, false, nil
}

// foldable reports whether e can be evaluated while planning: it reads no
// column, no aggregate and no statement parameter, and calls no function
// that gives a new value per evaluation (random, gen_random_uuid).
func foldable(e Expr) bool {
	ok := true
	visitExpr(e, func(x Expr) {
		switch x := x.(type) {
		case *ColRef, *aggCall:
			ok = false
		case *Func:
			switch x.Fn {
			case physical.FnRandom, physical.FnPgRandomUUID, physical.FnParam:
				ok = false
			}
		}
	})
	return ok
}

// pgTypeName is the name pg_typeof gives t.
func pgTypeName(t arrow.DataType) string {
	switch t.(type) {
	case *arrow.BooleanType:
		return "boolean"
	case *arrow.Int8Type, *arrow.Int16Type:
		return "smallint"
	case *arrow.Int32Type:
		return "integer"
	case *arrow.Int64Type:
		return "bigint"
	case *arrow.Float32Type:
		return "real"
	case *arrow.Float64Type:
		return "double precision"
	case *arrow.Decimal128Type:
		return "numeric"
	case *arrow.StringType, *arrow.LargeStringType:
		return "text"
	case *arrow.Date32Type:
		return "date"
	case *arrow.TimestampType:
		return "timestamp without time zone"
	case *arrow.MonthDayNanoIntervalType:
		return "interval"
	case *arrow.NullType:
		return "unknown"
	}
	return strings.ToLower(physical.TypeName(t))
}

// bindFormatFunc binds to_char's siblings of exec/kernels/formatfuncs.go
// (random, age, isfinite, format), pg_typeof and typeof (folded from the
// argument's type) and overlay (from substring and ||); ok is false when
// name is none of them.
func (b *binder) bindFormatFunc(name string, args []Expr, p int, arity func(lo, hi int) error,
	str, integer func(i int) error) (x Expr, ok bool, err error) {
	timestamp := func(i int) error { return coerceArg(args, i, physical.Timestamp, isTemporal, name, p) }
	switch name {
	case "random":
		if err := arity(0, 0); err != nil {
			return nil, true, err
		}
		return &Func{Fn: physical.FnRandom, T: physical.Float64}, true, nil
	case "pg_typeof", "typeof":
		if err := arity(1, 1); err != nil {
			return nil, true, err
		}
		a := args[0]
		c, lit := a.(*Const)
		var s string
		switch {
		case name == "pg_typeof" && lit && c.untypedString:
			s = "unknown"
		case name == "pg_typeof":
			s = pgTypeName(a.Type())
		case lit && c.untypedString:
			s = "VARCHAR"
		default:
			s = physical.TypeName(a.Type())
		}
		return &Const{Value: s, T: physical.String}, true, nil
	case "age":
		if err := arity(1, 2); err != nil {
			return nil, true, err
		}
		if len(args) == 1 {
			// age(x) is age(current_date, x): from today's midnight.
			b.momentary()
			today := arrow.Date32FromTime(time.Now().UTC())
			args = append([]Expr{castTo(&Const{Value: today, T: physical.Date}, physical.Timestamp)}, args...)
		}
		for i := range args {
			if err := timestamp(i); err != nil {
				return nil, true, err
			}
		}
		x, err := b.fold(&Func{Fn: physical.FnAge, Arg: args, T: physical.Interval}, p)
		return x, true, err
	case "isfinite":
		if err := arity(1, 1); err != nil {
			return nil, true, err
		}
		if err := timestamp(0); err != nil {
			return nil, true, err
		}
		return &Func{Fn: physical.FnIsFinite, Arg: args, T: physical.Boolean}, true, nil
	case "format":
		if len(args) < 1 {
			return nil, true, sqlerr.At(sqlerr.UndefinedFunction, p, "function format() does not exist")
		}
		if err := str(0); err != nil {
			return nil, true, err
		}
		for i := 1; i < len(args); i++ {
			if c, ok := args[i].(*Const); ok && c.untypedString {
				args[i] = c.typed()
			}
			args[i] = b.cast(args[i], physical.String)
		}
		x, err := b.fold(&Func{Fn: physical.FnFormat, Arg: args, T: physical.String}, p)
		return x, true, err
	case "__similar_re":
		if err := arity(1, 1); err != nil {
			return nil, true, err
		}
		if err := str(0); err != nil {
			return nil, true, err
		}
		c, ok := args[0].(*Const)
		if !ok {
			return nil, true, sqlerr.At(sqlerr.FeatureNotSupported, p, "SIMILAR TO: the pattern must be a constant")
		}
		if c.Value == nil {
			return c, true, nil
		}
		re, err := similarToRE2(c.Value.(string))
		if err != nil {
			return nil, true, sqlerr.At(sqlerr.InvalidParameterValue, p, "%s", err.Error())
		}
		return &Const{Value: re, T: physical.String}, true, nil
	case "overlay":
		// overlay(s PLACING r FROM n [FOR m]), pre-parsed to overlay(s, r,
		// n[, m]): substring(s, 1, n-1) || r || substring(s, n+m), m
		// defaulting to length(r).
		if err := arity(3, 4); err != nil {
			return nil, true, err
		}
		for i := 0; i < 2; i++ {
			if err := str(i); err != nil {
				return nil, true, err
			}
		}
		for i := 2; i < len(args); i++ {
			if err := integer(i); err != nil {
				return nil, true, err
			}
		}
		s, r, n := args[0], args[1], args[2]
		var m Expr
		if len(args) == 4 {
			m = args[3]
		} else {
			m = castTo(&Func{Fn: physical.FnLength, Arg: []Expr{r}, T: physical.Int32}, physical.Int64)
		}
		one := &Const{Value: int64(1), T: physical.Int64}
		head := &Func{Fn: physical.FnSubstring, Arg: []Expr{s, one, &Func{Fn: physical.FnSub, Arg: []Expr{n, one}, T: physical.Int64}}, T: physical.String}
		tail := &Func{Fn: physical.FnSubstring, Arg: []Expr{s, &Func{Fn: physical.FnAdd, Arg: []Expr{n, m}, T: physical.Int64}}, T: physical.String}
		cat := &Func{Fn: physical.FnConcatOp, Arg: []Expr{&Func{Fn: physical.FnConcatOp, Arg: []Expr{head, r}, T: physical.String}, tail}, T: physical.String}
		x, err := b.fold(cat, p)
		return x, true, err
	}
	return nil, false, nil
}

// similarToRE2 translates a SQL regular expression (SIMILAR TO; escape
// character \) to an anchored RE2 pattern: % is .*, _ is ., a bare . $ ^
// is literal, the rest (| * + ? {m,n} ( ) [ ]) means what it means in RE2.
func similarToRE2(p string) (string, error) {
	var b strings.Builder
	b.WriteString("^(?s:")
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\':
			if i+1 >= len(p) {
				return "", errors.New("invalid escape sequence at the end of a SIMILAR TO pattern")
			}
			i++
			b.WriteString(regexp.QuoteMeta(p[i : i+1]))
		case inClass:
			if c == ']' {
				inClass = false
			}
			b.WriteByte(c)
		case c == '[':
			inClass = true
			b.WriteByte(c)
			if i+1 < len(p) && p[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' {
				b.WriteString("\\]")
				i++
			}
		case c == '%':
			b.WriteString(".*")
		case c == '_':
			b.WriteByte('.')
		case c == '.' || c == '$' || c == '^':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteString(")$")
	return b.String(), nil
}
