package planner

import "testing"

func TestRewriteGroupingSets(t *testing.T) {
	tests := []struct{ sql, want string }{
		{"select a, sum(v) from t group by rollup(a, b) order by a",
			"select a, sum(v) from t group by a, b, __grouping_sets('0,1;0;') order by a"},
		{"select 1 from t group by cube(a, (b, c)) having count(*) > 1",
			"select 1 from t group by a, b, c, __grouping_sets('0,1,2;0;1,2;') having count(*) > 1"},
		{"select 1 from t group by grouping sets ((a), (b), ())",
			"select 1 from t group by a, b, __grouping_sets('0;1;')"},
		{"select 1 from t group by x, rollup(y)",
			"select 1 from t group by x, y, __grouping_sets('0,1;0')"},
		{"select 1 from t group by grouping sets (a + 1, (A  + 1, b))",
			"select 1 from t group by a + 1, b, __grouping_sets('0;0,1')"},
		// Plain lists and functions named like the keywords stay as written.
		{"select 1 from t group by a, rollup_id", "select 1 from t group by a, rollup_id"},
		{"select 1 from (select a from t group by a) s group by cube(a)",
			"select 1 from (select a from t group by a) s group by a, __grouping_sets('0;')"},
	}
	for _, tt := range tests {
		if got := rewrite(tt.sql).text; got != tt.want {
			t.Errorf("rewrite(%q)\n got %q\nwant %q", tt.sql, got, tt.want)
		}
	}
}
