// Package physical is the contract between the planner and the executors: the
// physical plan nodes, the scalar and aggregate expressions they carry, and the
// fragments a plan is cut into. It is plain data — no execution — so a fragment
// can be serialized and shipped to an executor, which builds operators from it
// with package exec.
//
// Expressions address their input by column position in the child's output
// schema. Types are Arrow types; the SQL types map onto them as:
//
//	BOOLEAN → Boolean   INTEGER → Int32   BIGINT → Int64   DOUBLE → Float64
//	DECIMAL(p,s) → Decimal128(p,s)   VARCHAR → String   DATE → Date32
//	TIMESTAMP → Timestamp(µs, no zone)   INTERVAL → MonthDayNanoInterval
//
// The planner guarantees that every expression it emits is well typed: the
// arguments of a comparison or of add/sub have the same type (it inserts
// casts), NULL literals carry the type their context needs, and each Call's T
// is the type the kernel must produce.
package physical

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Expr is a physical scalar expression.
type Expr interface {
	// Type is the Arrow type of the values the expression produces.
	Type() arrow.DataType
	String() string
}

// ColRef reads column Index of the input record.
type ColRef struct {
	Index int
	T     arrow.DataType
	Name  string // for EXPLAIN only
}

// Literal is a constant. Value is nil for NULL, otherwise the Go value for T:
// bool, int32, int64, float64, decimal128.Num, string, arrow.Date32,
// arrow.Timestamp, arrow.MonthDayNanoInterval.
type Literal struct {
	Value any
	T     arrow.DataType
}

// Call applies a scalar function (see the Fn* names) to its arguments and
// produces values of type T.
type Call struct {
	Fn   string
	Args []Expr
	T    arrow.DataType
}

// Case is a searched CASE: the first When that is true picks its Then; Else
// (a typed NULL literal when absent) otherwise. Whens, Thens and Else have the
// types the planner unified; T is the result type.
type Case struct {
	Whens []Expr
	Thens []Expr
	Else  Expr
	T     arrow.DataType
}

func (c *ColRef) Type() arrow.DataType  { return c.T }
func (l *Literal) Type() arrow.DataType { return l.T }
func (c *Call) Type() arrow.DataType    { return c.T }
func (c *Case) Type() arrow.DataType    { return c.T }

func (c *ColRef) String() string {
	if c.Name != "" {
		return fmt.Sprintf("%s#%d", c.Name, c.Index)
	}
	return fmt.Sprintf("#%d", c.Index)
}

func (l *Literal) String() string {
	if l.Value == nil {
		return "NULL"
	}
	switch v := l.Value.(type) {
	case string:
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	case arrow.Date32:
		return "DATE '" + v.FormattedString() + "'"
	}
	return FormatValue(l.Value, l.T)
}

func (c *Call) String() string {
	args := make([]string, len(c.Args))
	for i, a := range c.Args {
		args[i] = a.String()
	}
	if c.Fn == FnCast {
		return fmt.Sprintf("CAST(%s AS %s)", args[0], TypeName(c.T))
	}
	return fmt.Sprintf("%s(%s)", c.Fn, strings.Join(args, ", "))
}

func (c *Case) String() string {
	var b strings.Builder
	b.WriteString("CASE")
	for i := range c.Whens {
		fmt.Fprintf(&b, " WHEN %s THEN %s", c.Whens[i], c.Thens[i])
	}
	if c.Else != nil {
		fmt.Fprintf(&b, " ELSE %s", c.Else)
	}
	b.WriteString(" END")
	return b.String()
}

// Scalar function names understood by exec's kernels. Argument and result
// typing rules the planner applies are noted per group.
const (
	// Arithmetic. add, sub, mul, div, mod: both args of the same numeric type
	// (int32, int64, float64) or both decimal128; for decimals add/sub rescale
	// both args to T's scale, mul produces scale s1+s2 (= T's scale), div on
	// decimals is not emitted (the planner casts to float64). Integer div
	// truncates toward zero. Division or modulo by zero is error 22012.
	// Integer overflow is error 22003. neg: unary minus; abs: absolute value.
	// add/sub also take (date32, interval) → date32 or timestamp, and
	// (timestamp, interval) → timestamp; sub takes (date32, date32) → int32
	// days.
	FnAdd = "add"
	FnSub = "sub"
	FnMul = "mul"
	FnDiv = "div"
	FnMod = "mod"
	FnNeg = "neg"
	FnAbs = "abs"
	// round(x) or round(x, digits int32 literal): float64 or decimal (decimal
	// result keeps T's scale).
	FnRound = "round"
	// DOUBLE PRECISION math: one argument, power two.
	FnFloor = "floor"
	FnCeil  = "ceil"
	FnSqrt  = "sqrt"
	FnCbrt  = "cbrt"
	FnExp   = "exp"
	FnLn    = "ln"
	FnLog10 = "log10"
	FnSign  = "sign"
	FnPower = "power"
	// FnToChar formats a date or timestamp with a constant PostgreSQL
	// template: to_char(value, template) → text.
	FnToChar = "to_char"

	// Comparison: both args of the same type (any orderable type), result
	// boolean, NULL if either is NULL.
	FnEq = "eq"
	FnNe = "ne"
	FnLt = "lt"
	FnLe = "le"
	FnGt = "gt"
	FnGe = "ge"

	// Boolean logic with SQL three-valued semantics (Kleene).
	FnAnd = "and"
	FnOr  = "or"
	FnNot = "not"

	// is_null / is_not_null: never NULL. is_true, is_false, is_not_true,
	// is_not_false: never NULL.
	FnIsNull     = "is_null"
	FnIsNotNull  = "is_not_null"
	FnIsTrue     = "is_true"
	FnIsFalse    = "is_false"
	FnIsNotTrue  = "is_not_true"
	FnIsNotFalse = "is_not_false"

	// in(x, v1, v2, ...): all of the same type; true if x equals some vi, NULL
	// if not found and x or some vi is NULL, false otherwise.
	FnIn = "in"

	// like(s, pattern[, escape]), ilike(...): SQL LIKE with % and _; the
	// escape defaults to backslash.
	FnLike  = "like"
	FnILike = "ilike"

	// regexp_like(s, pattern): RE2 match anywhere in s.
	FnRegexpLike = "regexp_like"

	// coalesce(a, b, ...): first non-NULL; nullif(a, b): NULL if a = b else a.
	FnCoalesce = "coalesce"
	FnNullIf   = "nullif"

	// cast(x) to T. Numeric ↔ numeric (decimal rescale rounds half away from
	// zero; overflow 22003), numeric/date/timestamp/bool → string, string →
	// any (bad text: 22P02 / 22007), date ↔ timestamp, float → int rounds
	// half away from zero (as PostgreSQL), bool ↔ int.
	FnCast = "cast"

	// extract(field string literal, date32|timestamp) → int64. Fields: year,
	// quarter, month, day, hour, minute, second, dow (0 = Sunday), doy, week,
	// epoch.
	FnExtract = "extract"

	// Strings (UTF-8, positions in characters). substring(s, start[, len]) with
	// SQL semantics (1-based, start may be ≤ 0); upper, lower; trim, ltrim,
	// rtrim (optional second arg: characters to remove); length → int32 chars;
	// concat(a, b, ...) skips NULLs; concat_op(a, b) is ||: NULL if either is
	// NULL. Args of concat/concat_op are strings (the planner casts).
	FnSubstring = "substring"
	FnUpper     = "upper"
	FnLower     = "lower"
	FnTrim      = "trim"
	FnLTrim     = "ltrim"
	FnRTrim     = "rtrim"
	FnLength    = "length"
	FnConcat    = "concat"
	FnConcatOp  = "concat_op"
)

// More functions. position(sub, s) → int32 (1-based characters, 0 when
// absent); replace(s, from, to); left(s, n) / right(s, n) with n int64
// (negative: all but |n| characters); lpad / rpad(s, n int64[, fill]);
// split_part(s, delim, n int64) (negative n counts from the end);
// date_trunc(field string literal, date|timestamp) → the input's type;
// greatest / least(a, b, …) of one type, ignoring NULLs.
const (
	FnPosition  = "position"
	FnReplace   = "replace"
	FnLeft      = "left"
	FnRight     = "right"
	FnLPad      = "lpad"
	FnRPad      = "rpad"
	FnSplitPart = "split_part"
	FnDateTrunc = "date_trunc"
	FnGreatest  = "greatest"
	FnLeast     = "least"
)

// PostgreSQL catalog functions. Arrays are VARCHARs in PostgreSQL's text
// form ('{a,b}').
const (
	FnPgFormatType    = "pg_format_type"     // format_type(oid BIGINT, typmod INTEGER)
	FnPgArrayToString = "pg_array_to_string" // (array, sep[, null text])
	FnPgArrayLength   = "pg_array_length"    // (array, 'array_upper'|'array_length'|'cardinality'|'array_lower'|'array_ndims')
	FnPgArrayElem     = "pg_array_elem"      // (array, 1-based index BIGINT) → VARCHAR
	FnPgArrayContains = "pg_array_contains"  // (array, value VARCHAR) → BOOLEAN (= ANY)
	FnPgArrayBuild    = "pg_array_build"     // (elem VARCHAR…) → array
	FnPgRegtypeArray  = "pg_regtype_array"   // oid array or oidvector → array of type names
	FnPgRandomUUID    = "pg_random_uuid"     // gen_random_uuid(): a version 4 UUID as text
)

// Further string, math and date functions (exec/kernels/scalarfuncs.go).
// initcap, reverse, translate(s, from, to), md5 → text; repeat(s, n int64)
// (n ≤ 0: the empty string); ascii(s) → int32 (0 for the empty string); chr(n int64) → text;
// starts_with(s, prefix) → boolean; octet_length, bit_length → int32;
// concat_ws(sep, a, …) of strings skips NULL args, NULL when sep is NULL
// (not strict); regexp_replace(s, pattern, replacement[, flags]) with RE2
// and PostgreSQL's replacement syntax (\1..\9, \&) and flags g and i.
// log_base(b, x) and width_bucket(x, lo, hi float64, n int64) → float64 /
// int32; trunc(x, digits int32) types as round. make_date(y, m, d int64) →
// date; to_date / to_timestamp(text, template) → date / timestamp;
// date_diff(part string literal, a, b timestamp) → int64 (DuckDB: boundaries
// crossed).
const (
	FnInitcap       = "initcap"
	FnReverse       = "reverse"
	FnRepeat        = "repeat"
	FnASCII         = "ascii"
	FnChr           = "chr"
	FnTranslate     = "translate"
	FnStartsWith    = "starts_with"
	FnOctetLength   = "octet_length"
	FnBitLength     = "bit_length"
	FnConcatWs      = "concat_ws"
	FnMd5           = "md5"
	FnRegexpReplace = "regexp_replace"
	FnLogBase       = "log_base"
	FnTrunc         = "trunc"
	FnWidthBucket   = "width_bucket"
	FnMakeDate      = "make_date"
	FnToDate        = "to_date"
	FnToTimestamp   = "to_timestamp"
	FnDateDiff      = "date_diff"
)

// More functions (exec/kernels/formatfuncs.go): to_char_num(x, template) is
// to_char of an int32, int64, float64 or decimal with PostgreSQL's numeric
// template patterns; random() → float64 in [0, 1), volatile (never folded);
// age(a, b timestamp) → interval with PostgreSQL's field normalization;
// isfinite(x) → boolean; format(fmt, args… string) → text (not strict:
// %s of NULL is empty, %L of NULL is NULL).
const (
	FnToCharNum = "to_char_num"
	FnRandom    = "random"
	FnAge       = "age"
	FnIsFinite  = "isfinite"
	FnFormat    = "format"
)
