// Package clusterpb is the wire contract between a coordinator and its
// executors: the gRPC control plane (registration, heartbeats, splits,
// tasks), generated from cluster.proto, and the shared-secret check every
// cluster connection passes.
package clusterpb

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Version is the cluster protocol version; a coordinator refuses executors
// of another version, since plans and tasks are only understood by the
// build that made them.
const Version = "quarry-cluster-1"

// secretHeader carries the cluster secret on every call.
const secretHeader = "x-quarry-cluster-secret"

// ServerOptions make a gRPC server refuse calls without the cluster
// secret.
func ServerOptions(secret string) []grpc.ServerOption {
	check := func(ctx context.Context) error {
		md, _ := metadata.FromIncomingContext(ctx)
		got := md.Get(secretHeader)
		if len(got) != 1 || subtle.ConstantTimeCompare([]byte(got[0]), []byte(secret)) != 1 {
			return status.Error(codes.Unauthenticated, "wrong or missing cluster secret")
		}
		return nil
	}
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			if err := check(ctx); err != nil {
				return nil, err
			}
			return h(ctx, req)
		}),
		grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			if err := check(ss.Context()); err != nil {
				if info.FullMethod != flightDoGet {
					return err
				}
				// A client outside the cluster may read a result with a
				// ticket the coordinator signed; the handler checks it.
				return h(srv, untrustedStream{ss})
			}
			return h(srv, ss)
		}),
	}
}

// flightDoGet is the Flight method clients outside the cluster may call.
const flightDoGet = "/arrow.flight.protocol.FlightService/DoGet"

type untrustedKey struct{}

// untrustedStream marks a call made without the cluster secret.
type untrustedStream struct{ grpc.ServerStream }

func (s untrustedStream) Context() context.Context {
	return context.WithValue(s.ServerStream.Context(), untrustedKey{}, true)
}

// Trusted reports whether the call of ctx carried the cluster secret.
func Trusted(ctx context.Context) bool {
	return ctx.Value(untrustedKey{}) == nil
}

// TicketKey is the key exchange tickets handed to clients are signed with,
// derived from the cluster secret.
func TicketKey(secret string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("quarry exchange tickets"))
	return m.Sum(nil)
}

// DialOptions make a gRPC client send the cluster secret (over plain TCP:
// the cluster network is trusted to be private; the secret keeps strangers
// and misconfigured nodes out).
func DialOptions(secret string) []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(secretCreds(secret)),
		// Nodes come back within seconds (restarts); do not let a
		// connection back off for the default two minutes.
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
			MinConnectTimeout: 2 * time.Second,
		}),
	}
}

type secretCreds string

func (s secretCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{secretHeader: string(s)}, nil
}

func (secretCreds) RequireTransportSecurity() bool { return false }
