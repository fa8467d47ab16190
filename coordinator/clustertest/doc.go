// Package clustertest runs Quarry in distributed mode as real processes — a
// coordinator and its executors on 127.0.0.1 — and checks the cluster from
// the outside: TPC-H answers, the slt suite, the loss of an executor,
// cancellation, failing fragments and strangers at the door. It holds tests
// only.
//
// The tests build cmd/quarry once, with -race if QUARRY_CLUSTERTEST_RACE is
// set (a data race in a process then fails its test).
package clustertest
