// Package sqlerr defines Quarry's typed error: a SQLSTATE code, a message and,
// for errors in SQL text, a 1-based position. Every layer (catalog, planner,
// exec, front doors) returns these so clients see one consistent error shape.
package sqlerr

import (
	"errors"
	"fmt"
)

// SQLSTATE codes used by Quarry, named as PostgreSQL names them.
const (
	SyntaxError            = "42601"
	UndefinedTable         = "42P01"
	UndefinedColumn        = "42703"
	UndefinedFunction      = "42883"
	AmbiguousColumn        = "42702"
	DatatypeMismatch       = "42804"
	GroupingError          = "42803"
	DuplicateTable         = "42P07"
	DuplicateObject        = "42710"
	InvalidSchemaName      = "3F000"
	FeatureNotSupported    = "0A000"
	DivisionByZero         = "22012"
	NumericOutOfRange      = "22003"
	InvalidTextRep         = "22P02"
	InvalidDatetimeFormat  = "22007"
	DatetimeOverflow       = "22008"
	StringDataRightTrunc   = "22001"
	InvalidParameterValue  = "22023"
	DataException          = "22000"
	CardinalityViolation   = "21000"
	QueryCanceled          = "57014"
	OutOfMemory            = "53200"
	IOError                = "58030"
	DataCorrupted          = "XX001"
	InternalError          = "XX000"
	UndefinedObject        = "42704"
	InvalidName            = "42602"
	UndefinedParameter     = "42P02"
	IndeterminateDatatype  = "42P18"
	ProtocolViolation      = "08P01"
	WindowingError         = "42P20"
	InvalidColumnReference = "42P10"
	NotNullViolation       = "23502"
	DuplicateColumn        = "42701"
	InvalidRecursion       = "42P19"
	SerializationFailure   = "40001"
)

// Error is a SQL error with a SQLSTATE code. Pos is the 1-based character
// offset into the statement text the error refers to, or 0 when unknown.
type Error struct {
	Code string
	Msg  string
	Pos  int
	Err  error // optional cause
}

func (e *Error) Error() string {
	if e.Pos > 0 {
		return fmt.Sprintf("ERROR %s: %s (at position %d)", e.Code, e.Msg, e.Pos)
	}
	return fmt.Sprintf("ERROR %s: %s", e.Code, e.Msg)
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an Error with code and a formatted message.
func New(code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// At returns an Error with code, position and a formatted message.
func At(code string, pos int, format string, args ...any) *Error {
	return &Error{Code: code, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// Wrap returns an Error with code whose cause is err.
func Wrap(code string, err error, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...) + ": " + err.Error(), Err: err}
}

// As returns err as an *Error. Errors that are not SQL errors become
// internal errors (XX000), cancellations become 57014.
func As(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if isCanceled(err) {
		return &Error{Code: QueryCanceled, Msg: "canceling statement due to user request", Err: err}
	}
	return &Error{Code: InternalError, Msg: err.Error(), Err: err}
}

// Code returns the SQLSTATE of err (XX000 for non-SQL errors).
func Code(err error) string { return As(err).Code }
