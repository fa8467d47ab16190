package planner_test

import (
	"strings"
	"testing"
)

// TestMaterializedCTE checks WITH … AS [NOT] MATERIALIZED: MATERIALIZED
// computes the query once however often it is read, NOT MATERIALIZED binds
// it at each reference unless it is volatile (as PostgreSQL).
func TestMaterializedCTE(t *testing.T) {
	agg := "(SELECT l_suppkey AS k, sum(l_quantity) AS q FROM lineitem GROUP BY l_suppkey) "
	scan := "(SELECT l_suppkey AS k FROM lineitem WHERE l_quantity > 5) "
	tests := []struct {
		name  string
		sql   string
		ports int // of the shared fragment; 0: nothing shared; 1: shared in the logical plan only
	}{
		{"materialized once", "WITH s AS MATERIALIZED " + agg + "SELECT k FROM s WHERE q > 10", 1},
		{"materialized scan twice", "WITH s AS MATERIALIZED " + scan + "SELECT count(*) FROM s a, s b WHERE a.k = b.k", 2},
		{"materialized with columns", "WITH s (x, y) AS MATERIALIZED " + agg + "SELECT count(*) FROM s a, s b WHERE a.x = b.y", 2},
		{"not materialized twice", "WITH s AS NOT MATERIALIZED " + agg + "SELECT k FROM s WHERE q = (SELECT max(q) FROM s)", 0},
		{"not materialized volatile", "WITH r AS NOT MATERIALIZED (SELECT n_nationkey, random() AS x FROM nation) SELECT count(*) FROM r a, r b WHERE a.x = b.x", 2},
		{"mixed", "WITH s AS NOT MATERIALIZED " + agg + ", m AS MATERIALIZED (SELECT 1 AS one) SELECT count(*) FROM s a, s b, m WHERE a.k = b.k", 1},
		{"name materialized", `WITH "materialized" AS (SELECT 1 AS x) SELECT x FROM "materialized"`, 0},
	}
	p := newPlanner(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := planOne(t, p, tc.sql)
			if err != nil {
				t.Fatal(err)
			}
			shared := sharedFragments(st)
			if tc.ports == 0 {
				if len(shared) != 0 || strings.Contains(st.Logical, "SharedScan") {
					t.Fatalf("shared, want not:\n%s", st.Logical)
				}
				return
			}
			if tc.ports == 1 {
				// Read once, the shared plan runs where it is read.
				if !strings.Contains(st.Logical, "SharedScan") {
					t.Fatalf("not shared:\n%s", st.Logical)
				}
				return
			}
			if len(shared) != 1 || len(shared[0].Ports) != tc.ports {
				t.Fatalf("want one shared fragment with %d ports:\n%s", tc.ports, st.Logical)
			}
		})
	}
}
