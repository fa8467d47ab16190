// Package reflections will own reflections: their definitions, the
// materialization jobs that write them as Parquet (CTAS), refresh scheduling
// and freshness, and the matcher the planner calls to substitute a plan
// subtree by a scan of a reflection. It does not own the planner.
package reflections
