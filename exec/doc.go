// Package exec runs physical plans: vectorized operators over arrow.Record
// batches (scan, filter, project, hash aggregate, sort, top-N, limit,
// exchange) and the in-process fragment runtime that connects fragment
// instances through bounded in-memory exchanges with per-query memory
// accounting.
package exec
