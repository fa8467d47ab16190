// Package flight owns Quarry's Arrow Flight plumbing: the Arrow Flight SQL
// front door (Server, embedding arrow-go's flightsql.BaseServer: auth,
// statements, prepared statements, cancellation and the metadata listings)
// and, later, the internal data plane that streams exchange batches between
// executors. It never parses SQL: statements go to a Backend that the
// coordinator provides.
package flight
