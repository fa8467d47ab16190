// Package server runs Quarry's front doors for an engine in embedded mode:
// the HTTP API now; PostgreSQL wire and Arrow Flight SQL when they land.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/quarrydb/quarry/coordinator"
	"github.com/quarrydb/quarry/coordinator/httpapi"
)

// Options name the addresses to listen on (empty: that front door is off).
type Options struct {
	HTTPAddr   string
	PGAddr     string
	FlightAddr string
	// Banner receives the how-to-connect text (nil: not printed).
	Banner io.Writer
}

// Serve serves eng until ctx is done, then shuts down gracefully.
func Serve(ctx context.Context, eng *coordinator.Engine, opts Options, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	if opts.PGAddr != "" {
		log.Info("PostgreSQL wire front door is not implemented yet; flag accepted", "addr", opts.PGAddr)
	}
	if opts.FlightAddr != "" {
		log.Info("Arrow Flight SQL front door is not implemented yet; flag accepted", "addr", opts.FlightAddr)
	}
	if opts.HTTPAddr == "" {
		return errors.New("no front door to serve: give an HTTP address")
	}
	ln, err := net.Listen("tcp", opts.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", opts.HTTPAddr, err)
	}
	srv := &http.Server{
		Handler:           httpapi.Handler(eng, log),
		ReadHeaderTimeout: 10 * time.Second,
	}
	addr := ln.Addr().String()
	log.Info("HTTP API listening", "addr", addr)
	if opts.Banner != nil {
		fmt.Fprintf(opts.Banner, `Quarry is serving (embedded mode).
  HTTP API:  http://%[1]s/api/v1/health
  Query:     curl -s http://%[1]s/api/v1/sql -d '{"sql": "SELECT 1 AS one"}'
  Shell:     quarry sql --data-dir <another dir> --source NAME=PATH -e 'SELECT ...'
             (the catalog in a data dir is locked by the process that opened it)
Press Ctrl-C to stop.
`, addr)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return err
	}
	return nil
}
