package flight

import (
	"errors"
	"strings"

	"github.com/quarrydb/quarry/catalog/sqlerr"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// toStatus turns an engine error into a gRPC status whose message starts
// with the SQLSTATE ("ERROR 42P01: …"), so that clients show both.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		var se *sqlerr.Error
		if !errors.As(err, &se) {
			return err
		}
	}
	e := sqlerr.As(err)
	return status.Error(statusCode(e.Code), e.Error())
}

// statusCode maps a SQLSTATE to the nearest gRPC code.
func statusCode(state string) codes.Code {
	switch state {
	case sqlerr.QueryCanceled:
		return codes.Canceled
	case sqlerr.OutOfMemory:
		return codes.ResourceExhausted
	case sqlerr.UndefinedTable, sqlerr.InvalidSchemaName, sqlerr.UndefinedObject:
		return codes.NotFound
	case sqlerr.DuplicateTable, sqlerr.DuplicateObject:
		return codes.AlreadyExists
	case sqlerr.FeatureNotSupported:
		return codes.Unimplemented
	case sqlerr.ProtocolViolation:
		return codes.InvalidArgument
	}
	switch {
	case strings.HasPrefix(state, "42"), strings.HasPrefix(state, "22"), strings.HasPrefix(state, "21"):
		return codes.InvalidArgument
	case strings.HasPrefix(state, "53"):
		return codes.ResourceExhausted
	}
	return codes.Internal
}
