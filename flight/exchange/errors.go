package exchange

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/quarrydb/quarry/catalog/sqlerr"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"
)

// ConnectionFailure is the SQLSTATE (PostgreSQL's connection_failure) of
// the errors a Client returns when it cannot reach a node or loses it
// mid-stream.
const ConnectionFailure = "08006"

// UnavailableError is the cause of a transport failure: the peer at Addr
// could not be reached or the connection broke. Clients return it wrapped
// in a *sqlerr.Error with code ConnectionFailure.
type UnavailableError struct {
	Addr string
	Err  error
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("exchange: node %s unavailable: %v", e.Addr, e.Err)
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// IsUnavailable reports whether err comes from a transport failure seen by
// this process's Client (peer unreachable, connection reset), as opposed
// to an error the remote producer reported. Such an error, relayed by
// another node, arrives as a plain *sqlerr.Error with code
// ConnectionFailure.
func IsUnavailable(err error) bool {
	var u *UnavailableError
	return errors.As(err, &u)
}

func unavailable(addr string, err error) error {
	u := &UnavailableError{Addr: addr, Err: err}
	return &sqlerr.Error{Code: ConnectionFailure, Msg: u.Error(), Err: u}
}

// Status details of a SQL error: one structpb.Struct with these fields.
const (
	detailState   = "sqlstate"
	detailMessage = "message"
	detailPos     = "position"
)

// toStatus turns an engine error into a gRPC status whose message is the
// error's text and whose details carry its SQLSTATE, message and position
// (the cause is not carried).
func toStatus(err error) error {
	e := sqlerr.As(err)
	st := status.New(statusCode(e.Code), e.Error())
	withDetails, derr := st.WithDetails(&structpb.Struct{Fields: map[string]*structpb.Value{
		detailState:   structpb.NewStringValue(e.Code),
		detailMessage: structpb.NewStringValue(e.Msg),
		detailPos:     structpb.NewNumberValue(float64(e.Pos)),
	}})
	if derr != nil {
		return st.Err()
	}
	return withDetails.Err()
}

// sqlFromStatus returns the SQL error that toStatus put in st, or nil.
func sqlFromStatus(st *status.Status) *sqlerr.Error {
	for _, d := range st.Details() {
		s, ok := d.(*structpb.Struct)
		if !ok {
			continue
		}
		code := s.GetFields()[detailState].GetStringValue()
		if len(code) != 5 {
			continue
		}
		return &sqlerr.Error{
			Code: code,
			Msg:  s.GetFields()[detailMessage].GetStringValue(),
			Pos:  int(s.GetFields()[detailPos].GetNumberValue()),
		}
	}
	return nil
}

// fromCallError turns an error of a DoGet call to addr into the error the
// consumer sees: the producer's SQL error, the consumer's own
// cancellation (ctx), a transport failure, or an internal error.
func fromCallError(ctx context.Context, addr string, err error) error {
	st, ok := status.FromError(err)
	if !ok {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return sqlerr.Wrap(sqlerr.InternalError, err, "exchange: reading from %s", addr)
	}
	if e := sqlFromStatus(st); e != nil {
		return e
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	switch st.Code() {
	case codes.Unavailable:
		return unavailable(addr, err)
	case codes.Canceled, codes.DeadlineExceeded:
		return sqlerr.Wrap(sqlerr.QueryCanceled, err, "exchange: call to %s ended", addr)
	}
	return sqlerr.Wrap(sqlerr.InternalError, err, "exchange: call to %s failed", addr)
}

// statusCode maps a SQLSTATE to the nearest gRPC code (for logs and
// foreign clients; Quarry's clients read the details).
func statusCode(state string) codes.Code {
	switch {
	case state == sqlerr.QueryCanceled:
		return codes.Canceled
	case state == sqlerr.ProtocolViolation:
		return codes.InvalidArgument
	case strings.HasPrefix(state, "53"):
		return codes.ResourceExhausted
	case strings.HasPrefix(state, "22"), strings.HasPrefix(state, "42"), strings.HasPrefix(state, "21"):
		return codes.InvalidArgument
	}
	return codes.Internal
}
