package planner_test

import (
	"strings"
	"testing"

	"github.com/quarrydb/quarry/planner"
	"github.com/quarrydb/quarry/planner/physical"
)

// TestSharedCTE checks which WITH queries are computed once and that a
// shared one is one fragment with a port per reference.
func TestSharedCTE(t *testing.T) {
	agg := "WITH s AS (SELECT l_suppkey AS k, sum(l_quantity) AS q FROM lineitem GROUP BY l_suppkey) "
	tests := []struct {
		name  string
		sql   string
		ports int // of the shared fragment; 0: nothing shared
	}{
		{"aggregate twice", agg + "SELECT k FROM s WHERE q = (SELECT max(q) FROM s)", 2},
		{"aggregate three times", agg + "SELECT (SELECT count(*) FROM s), (SELECT min(k) FROM s), max(q) FROM s", 3},
		{"aggregate once", agg + "SELECT k FROM s WHERE q > 10", 0},
		{"named but unused", agg + "SELECT 1", 0},
		{"plain scan twice", "WITH s AS (SELECT l_suppkey AS k FROM lineitem WHERE l_quantity > 5) SELECT count(*) FROM s a, s b WHERE a.k = b.k AND a.k < 3", 0},
		{"join twice", "WITH j AS (SELECT n_name, r_name FROM nation, region WHERE n_regionkey = r_regionkey) SELECT count(*) FROM j a, j b WHERE a.r_name = b.r_name", 2},
		{"volatile scan twice", "WITH r AS (SELECT n_nationkey, random() AS x FROM nation) SELECT count(*) FROM r a, r b WHERE a.x = b.x", 2},
		{"self join", agg + "SELECT count(*) FROM s a JOIN s b ON a.q < b.q", 2},
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
			if len(shared) != 1 || len(shared[0].Ports) != tc.ports {
				t.Fatalf("want one shared fragment with %d ports:\n%s", tc.ports, st.Logical)
			}
			f := shared[0]
			// Each port is read by exactly one exchange source of the
			// fragment it names.
			for port, consumer := range f.Ports {
				readers := 0
				for _, c := range st.Plan.Fragments {
					physical.Walk(c.Root, func(n physical.Node) {
						if x, ok := n.(*physical.ExchangeSource); ok && x.Fragment == f.ID && x.Port == port {
							readers++
							if c.ID != consumer {
								t.Errorf("port %d read by fragment %d, not %d", port, c.ID, consumer)
							}
						}
					})
				}
				if readers != 1 {
					t.Errorf("port %d has %d readers", port, readers)
				}
			}
		})
	}
}

// sharedFragments are the fragments of st's plan with ports (shared WITH
// queries).
func sharedFragments(st *planner.Statement) []*physical.Fragment {
	var shared []*physical.Fragment
	for _, f := range st.Plan.Fragments {
		if len(f.Ports) > 0 {
			shared = append(shared, f)
		}
	}
	return shared
}
