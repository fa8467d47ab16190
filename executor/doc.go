// Package executor is the executor process: it registers with the
// coordinator and heartbeats, receives plan fragments over gRPC, runs them
// with package exec, and serves their outputs to consumer fragments over
// Arrow Flight. It never plans queries. (Embedded mode runs the same
// fragments in process; this package arrives with the distributed mode.)
package executor
