// Package server runs Quarry's front doors for an engine (embedded mode or
// a cluster's coordinator):
// the HTTP API, the PostgreSQL wire protocol and Arrow Flight SQL. Each
// front door lives in its own file and is started by Serve as a door.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/quarrydb/quarry/coordinator"
)

// Options name the addresses to listen on (empty: that front door is off)
// and the security settings shared by the doors.
type Options struct {
	HTTPAddr   string
	PGAddr     string
	FlightAddr string
	// TLSCertFile and TLSKeyFile, when both set, turn TLS on for the
	// PostgreSQL and Flight SQL doors.
	TLSCertFile string
	TLSKeyFile  string
	// Auth is "trust" (default: no password) or "scram" (users kept in the
	// catalog; PostgreSQL SCRAM-SHA-256 or cleartext, Flight SQL basic or
	// bearer token).
	Auth string
	// Banner receives the how-to-connect text (nil: not printed).
	Banner io.Writer
	// FlightEndpoints says where Flight SQL clients read query results:
	// EndpointsCoordinator (default) or, in cluster mode,
	// EndpointsExecutors (one endpoint per executor, read in parallel).
	FlightEndpoints string
}

// Where Flight SQL clients read results.
const (
	EndpointsCoordinator = "coordinator"
	EndpointsExecutors   = "executors"
)

// door is one running front door.
type door struct {
	name string
	addr string // the address it listens on
	// howTo is the banner line(s) telling a user how to connect.
	howTo string
	// serve blocks serving until the door stops; it returns nil after
	// shutdown.
	serve func() error
	// shutdown stops accepting, ends running work within ctx and returns.
	shutdown func(ctx context.Context) error
}

// Serve serves eng until ctx is done, then shuts down gracefully.
func Serve(ctx context.Context, eng *coordinator.Engine, opts Options, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	tlsConf, err := loadTLS(opts)
	if err != nil {
		return err
	}
	type starter struct {
		addr  string
		start func() (*door, error)
	}
	starters := []starter{
		{opts.HTTPAddr, func() (*door, error) { return startHTTP(eng, opts.HTTPAddr, log) }},
		{opts.PGAddr, func() (*door, error) { return startPG(eng, opts, tlsConf, log) }},
		{opts.FlightAddr, func() (*door, error) { return startFlight(eng, opts, tlsConf, log) }},
	}
	var doors []*door
	for _, s := range starters {
		if s.addr == "" {
			continue
		}
		d, err := s.start()
		if err != nil {
			shutdownAll(doors, log)
			return err
		}
		if d != nil {
			doors = append(doors, d)
		}
	}
	if len(doors) == 0 {
		return errors.New("no front door to serve: give at least one address")
	}
	if opts.Banner != nil {
		var b strings.Builder
		if cl := eng.Cluster(); cl != nil {
			fmt.Fprintf(&b, "Quarry is serving (coordinator; executors register at %s).\n", cl.Addr())
		} else {
			b.WriteString("Quarry is serving (embedded mode).\n")
		}
		for _, d := range doors {
			b.WriteString(d.howTo)
		}
		b.WriteString("  Shell:     quarry sql --data-dir <another dir> --source NAME=PATH -e 'SELECT ...'\n")
		b.WriteString("             (the catalog in a data dir is locked by the process that opened it)\n")
		b.WriteString("Press Ctrl-C to stop.\n")
		io.WriteString(opts.Banner, b.String())
	}
	errc := make(chan error, len(doors))
	for _, d := range doors {
		log.Info(d.name+" listening", "addr", d.addr)
		go func(d *door) {
			if err := d.serve(); err != nil {
				errc <- fmt.Errorf("%s: %w", d.name, err)
			}
		}(d)
	}
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	log.Info("shutting down")
	if serr := shutdownAll(doors, log); err == nil {
		err = serr
	}
	return err
}

// shutdownAll stops the doors in parallel, giving them 10 s.
func shutdownAll(doors []*door, log *slog.Logger) error {
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(doors))
	for i, d := range doors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := d.shutdown(sctx); err != nil {
				log.Warn("shutdown", "door", d.name, "err", err)
				errs[i] = err
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// loadTLS reads the certificate pair when one is configured.
func loadTLS(opts Options) (*tls.Config, error) {
	if opts.TLSCertFile == "" && opts.TLSKeyFile == "" {
		return nil, nil
	}
	if opts.TLSCertFile == "" || opts.TLSKeyFile == "" {
		return nil, errors.New("TLS needs both --tls-cert and --tls-key")
	}
	cert, err := tls.LoadX509KeyPair(opts.TLSCertFile, opts.TLSKeyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS key pair: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}
