package flight

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"runtime/debug"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	pb "github.com/apache/arrow-go/v18/arrow/flight/gen/flight"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

const handshakeMethod = "/arrow.flight.protocol.FlightService/Handshake"

// client is one authenticated client: its user and its engine session.
// Clients are keyed by their bearer token, or by user and connection for
// Basic auth on every call, or by connection when nothing authenticates
// them (trust).
type client struct {
	key      string
	user     string
	sess     Session
	lastUsed time.Time
}

type clientKey struct{}

// clientFrom returns the client the auth interceptor attached to ctx.
func clientFrom(ctx context.Context) (*client, error) {
	c, ok := ctx.Value(clientKey{}).(*client)
	if !ok {
		return nil, status.Error(codes.Unauthenticated, "no session: authenticate first")
	}
	return c, nil
}

func (s *Server) unaryAuth(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (_ any, err error) {
	defer s.recoverCall(info.FullMethod, &err)
	ctx, err = s.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

func (s *Server) streamAuth(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	defer s.recoverCall(info.FullMethod, &err)
	if info.FullMethod == handshakeMethod {
		return handler(srv, ss) // the handshake authenticates itself
	}
	ctx, err := s.authenticate(ss.Context())
	if err != nil {
		return err
	}
	return handler(srv, &authedStream{ServerStream: ss, ctx: ctx})
}

// recoverCall turns a panic in a call into an internal error: a bug in one
// call must not take the server down.
func (s *Server) recoverCall(method string, err *error) {
	if r := recover(); r != nil {
		s.log.Error("Flight SQL call panicked", "method", method, "panic", r, "stack", string(debug.Stack()))
		*err = status.Errorf(codes.Internal, "ERROR XX000: internal error: %v", r)
	}
}

type authedStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (a *authedStream) Context() context.Context { return a.ctx }

// authenticate finds the caller's client from its authorization header:
// a bearer token from the handshake, or Basic credentials.
func (s *Server) authenticate(ctx context.Context) (context.Context, error) {
	scheme, cred := authorization(ctx)
	var key, user string
	switch scheme {
	case "bearer":
		s.mu.Lock()
		k, ok := s.tokens[cred]
		s.mu.Unlock()
		switch {
		case ok:
			key = k
		case s.auth != nil:
			return nil, status.Error(codes.Unauthenticated, "invalid or expired token: authenticate again")
		default:
			// Trust: a token from before a restart is as good as any.
			key = "token:" + cred
		}
	case "basic":
		u, pass, err := decodeBasic(cred)
		if err != nil {
			return nil, status.Error(codes.Unauthenticated, err.Error())
		}
		if err := s.checkPassword(ctx, u, pass); err != nil {
			return nil, err
		}
		user, key = u, "basic:"+u+"@"+peerAddr(ctx)
	default:
		if s.auth != nil {
			return nil, status.Error(codes.Unauthenticated, "authentication required: handshake or send Basic credentials")
		}
		key = "peer:" + peerAddr(ctx)
	}
	return context.WithValue(ctx, clientKey{}, s.client(key, user)), nil
}

// client returns the client under key, creating it.
func (s *Server) client(key, user string) *client {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[key]
	if !ok {
		s.sweepLocked(now)
		c = &client{key: key, user: user, sess: s.backend.NewSession(user)}
		s.clients[key] = c
	}
	c.lastUsed = now
	return c
}

// sweepLocked forgets clients, tokens, tickets and prepared statements left
// unused too long.
func (s *Server) sweepLocked(now time.Time) {
	for k, c := range s.clients {
		if now.Sub(c.lastUsed) > clientTTL {
			delete(s.clients, k)
		}
	}
	for t, k := range s.tokens {
		if _, ok := s.clients[k]; !ok {
			delete(s.tokens, t)
		}
	}
	for h, q := range s.queries {
		if q.cancel == nil && now.Sub(q.created) > ticketTTL {
			delete(s.queries, h)
		}
	}
	for h, p := range s.prepared {
		if now.Sub(p.lastUsed) > preparedTTL {
			delete(s.prepared, h)
		}
	}
}

func (s *Server) checkPassword(ctx context.Context, user, password string) error {
	if s.auth == nil {
		return nil
	}
	if err := s.auth(ctx, user, password); err != nil {
		s.log.Info("Flight SQL authentication failed", "user", user, "peer", peerAddr(ctx), "err", err)
		return status.Errorf(codes.Unauthenticated, "password authentication failed for user %q", user)
	}
	return nil
}

// handshake authenticates with Basic credentials (in the authorization
// header, or a BasicAuth message as payload) and answers a bearer token,
// both in the authorization header and as the response payload.
func (s *Server) handshake(stream flight.FlightService_HandshakeServer) error {
	ctx := stream.Context()
	// arrow-go sends no request and closes; others send one and wait for
	// the answer without closing.
	req, err := stream.Recv()
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	var user, pass string
	have := false
	if scheme, cred := authorization(ctx); scheme == "basic" {
		if user, pass, err = decodeBasic(cred); err != nil {
			return status.Error(codes.Unauthenticated, err.Error())
		}
		have = true
	} else if req != nil && len(req.GetPayload()) > 0 {
		var basic pb.BasicAuth
		if proto.Unmarshal(req.GetPayload(), &basic) == nil && basic.GetUsername() != "" {
			user, pass, have = basic.GetUsername(), basic.GetPassword(), true
		}
	}
	if !have && s.auth != nil {
		return status.Error(codes.Unauthenticated, "handshake needs Basic credentials (username and password)")
	}
	if err := s.checkPassword(ctx, user, pass); err != nil {
		return err
	}
	token := newHandle()
	key := "token:" + token
	s.client(key, user)
	s.mu.Lock()
	s.tokens[token] = key
	s.mu.Unlock()
	if err := stream.SetHeader(metadata.Pairs("authorization", "Bearer "+token)); err != nil {
		return err
	}
	return stream.Send(&flight.HandshakeResponse{Payload: []byte(token)})
}

// authorization returns the scheme (lower case) and credentials of the
// call's authorization header.
func authorization(ctx context.Context) (scheme, cred string) {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		sch, c, ok := strings.Cut(strings.TrimSpace(v), " ")
		if ok {
			return strings.ToLower(sch), strings.TrimSpace(c)
		}
	}
	return "", ""
}

// decodeBasic decodes user:password, base64 with or without padding.
func decodeBasic(cred string) (user, password string, err error) {
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(cred, "="))
	if err != nil {
		return "", "", errors.New("malformed Basic credentials")
	}
	user, password, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", "", errors.New("malformed Basic credentials: want user:password")
	}
	return user, password, nil
}

func peerAddr(ctx context.Context) string {
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		return p.Addr.String()
	}
	return "unknown"
}
