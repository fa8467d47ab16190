package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/quarrydb/quarry/coordinator"
	"github.com/quarrydb/quarry/coordinator/httpapi"
)

// startHTTP opens the HTTP API door.
func startHTTP(eng *coordinator.Engine, addr string, log *slog.Logger) (*door, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: httpapi.Handler(eng, log), ReadHeaderTimeout: 10 * time.Second}
	a := ln.Addr().String()
	return &door{
		name: "HTTP API",
		addr: a,
		howTo: fmt.Sprintf("  HTTP API:  http://%[1]s/api/v1/health\n"+
			"  Query:     curl -s http://%[1]s/api/v1/sql -d '{\"sql\": \"SELECT 1 AS one\"}'\n", a),
		serve: func() error {
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
		shutdown: func(ctx context.Context) error {
			if err := srv.Shutdown(ctx); err != nil {
				srv.Close()
				return err
			}
			return nil
		},
	}, nil
}
