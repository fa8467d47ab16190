// Package flighttest drives Quarry's Arrow Flight SQL door with real
// clients: arrow-go's flightsql.Client and database/sql driver, the ADBC Go
// Flight SQL driver and two npm clients. It holds tests only.
package flighttest
