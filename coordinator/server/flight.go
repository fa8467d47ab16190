package server

import (
	"crypto/tls"
	"log/slog"

	"github.com/quarrydb/quarry/coordinator"
)

// startFlight opens the Arrow Flight SQL door (not implemented yet: nil door).
func startFlight(eng *coordinator.Engine, opts Options, tlsConf *tls.Config, log *slog.Logger) (*door, error) {
	log.Info("Arrow Flight SQL front door is not implemented yet; flag accepted", "addr", opts.FlightAddr)
	return nil, nil
}
