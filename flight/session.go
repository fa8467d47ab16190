package flight

import (
	"context"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/flight"
	pb "github.com/apache/arrow-go/v18/arrow/flight/gen/flight"
)

// Session options: "schema" is the client's default schema (when its
// Session is a SchemaSession); "catalog" is always "" (Quarry has none).

func (s *Server) SetSessionOptions(ctx context.Context, req *flight.SetSessionOptionsRequest) (*flight.SetSessionOptionsResult, error) {
	c, err := clientFrom(ctx)
	if err != nil {
		return nil, err
	}
	res := &flight.SetSessionOptionsResult{Errors: map[string]*flight.SetSessionOptionsResultError{}}
	fail := func(name string, v pb.SetSessionOptionsResult_ErrorValue) {
		res.Errors[name] = &flight.SetSessionOptionsResultError{Value: v}
	}
	for name, v := range req.GetSessionOptions() {
		str, isString := v.GetOptionValue().(*pb.SessionOptionValue_StringValue)
		switch strings.ToLower(name) {
		case "catalog":
			if !isString || str.StringValue != "" {
				fail(name, pb.SetSessionOptionsResult_INVALID_VALUE)
			}
		case "schema":
			ss, ok := c.sess.(SchemaSession)
			if !ok {
				fail(name, pb.SetSessionOptionsResult_ERROR)
				continue
			}
			if !isString {
				fail(name, pb.SetSessionOptionsResult_INVALID_VALUE)
				continue
			}
			schema, ok, err := s.findSchema(ctx, str.StringValue)
			if err != nil {
				return nil, toStatus(err)
			}
			if !ok {
				fail(name, pb.SetSessionOptionsResult_INVALID_VALUE)
				continue
			}
			ss.SetDefaultSchema(schema)
		default:
			fail(name, pb.SetSessionOptionsResult_INVALID_NAME)
		}
	}
	return res, nil
}

// findSchema returns the schema called name (case-insensitively).
func (s *Server) findSchema(ctx context.Context, name string) (string, bool, error) {
	names, err := s.schemaNames(ctx)
	if err != nil {
		return "", false, err
	}
	for _, n := range names {
		if strings.EqualFold(n, name) {
			return n, true, nil
		}
	}
	return "", false, nil
}

func (s *Server) GetSessionOptions(ctx context.Context, _ *flight.GetSessionOptionsRequest) (*flight.GetSessionOptionsResult, error) {
	c, err := clientFrom(ctx)
	if err != nil {
		return nil, err
	}
	opts := map[string]any{"catalog": ""}
	if ss, ok := c.sess.(SchemaSession); ok {
		opts["schema"] = ss.DefaultSchema()
	}
	values, err := flight.NewSessionOptionValues(opts)
	if err != nil {
		return nil, toStatus(err)
	}
	return &flight.GetSessionOptionsResult{SessionOptions: values}, nil
}

// CloseSession forgets the caller's session (and its token).
func (s *Server) CloseSession(ctx context.Context, _ *flight.CloseSessionRequest) (*flight.CloseSessionResult, error) {
	c, err := clientFrom(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	delete(s.clients, c.key)
	for t, k := range s.tokens {
		if k == c.key {
			delete(s.tokens, t)
		}
	}
	s.mu.Unlock()
	return &flight.CloseSessionResult{Status: flight.CloseSessionResultClosed}, nil
}
