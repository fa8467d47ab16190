// Package flight will hold the Arrow Flight plumbing: the Flight SQL front
// door (embedding arrow-go's flightsql.BaseServer) and the internal data
// plane that streams exchange batches between executors. It never parses
// SQL.
package flight
