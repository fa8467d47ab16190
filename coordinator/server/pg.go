package server

import (
	"crypto/tls"
	"log/slog"

	"github.com/quarrydb/quarry/coordinator"
)

// startPG opens the PostgreSQL wire door (not implemented yet: nil door).
func startPG(eng *coordinator.Engine, opts Options, tlsConf *tls.Config, log *slog.Logger) (*door, error) {
	log.Info("PostgreSQL wire front door is not implemented yet; flag accepted", "addr", opts.PGAddr)
	return nil, nil
}
