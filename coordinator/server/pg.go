package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/quarrydb/quarry/coordinator"
	"github.com/quarrydb/quarry/coordinator/pgwire"
)

// startPG opens the PostgreSQL wire door.
func startPG(eng *coordinator.Engine, opts Options, tlsConf *tls.Config, log *slog.Logger) (*door, error) {
	auth := opts.Auth
	if auth == "" {
		auth = pgwire.AuthTrust
	}
	srv, err := pgwire.NewServer(pgwire.Config{Engine: eng, TLS: tlsConf, Auth: auth, Logger: log})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", opts.PGAddr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", opts.PGAddr, err)
	}
	a := ln.Addr().(*net.TCPAddr)
	if auth == pgwire.AuthTrust && !a.IP.IsLoopback() {
		log.Warn("PostgreSQL wire door trusts every client on a non-loopback address; use --auth scram", "addr", a.String())
	}
	sslmode := ""
	if tlsConf != nil {
		sslmode = " sslmode=require"
	}
	return &door{
		name: "PostgreSQL wire",
		addr: a.String(),
		howTo: fmt.Sprintf("  psql:      psql \"host=%s port=%d user=quarry dbname=quarry%s\"\n", a.IP, a.Port, sslmode) +
			fmt.Sprintf("  JDBC:      jdbc:postgresql://%s/quarry\n", a.String()),
		serve: func() error {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, net.ErrClosed) {
				return err
			}
			return nil
		},
		shutdown: func(ctx context.Context) error { return srv.Shutdown(ctx) },
	}, nil
}
