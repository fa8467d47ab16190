package planner_test

import (
	"strings"
	"testing"
)

// TestWindowColumnNames checks that window function calls name their
// output columns after the function, as PostgreSQL does (also where the
// pre-parse layer rewrites the call), and that an alias still wins.
func TestWindowColumnNames(t *testing.T) {
	p := newPlanner(t)
	cases := []struct {
		sel  string
		want string
	}{
		{"sum(l_quantity) OVER ()", "sum"},
		{"count(*) OVER (PARTITION BY l_returnflag)", "count"},
		{"count(DISTINCT l_linenumber) OVER (PARTITION BY l_returnflag)", "count"},
		{"rank() OVER (ORDER BY l_orderkey)", "rank"},
		{"ROW_NUMBER() OVER (ORDER BY l_orderkey)", "row_number"},
		{"dense_rank() OVER (ORDER BY l_orderkey)", "dense_rank"},
		{"lag(l_quantity) OVER (ORDER BY l_orderkey)", "lag"},
		{"first_value(l_quantity) OVER (ORDER BY l_orderkey)", "first_value"},
		{"avg(l_quantity) OVER w", "avg"},
		{"stddev(l_quantity) OVER ()", "stddev"},
		{"variance(l_quantity) OVER ()", "variance"},
		{"stddev_pop(l_quantity) OVER ()", "stddev_pop"},
		{"var_samp(l_quantity) OVER ()", "var_samp"},
		{"corr(l_quantity, l_discount) OVER ()", "corr"},
		{"regr_slope(l_quantity, l_discount) OVER (PARTITION BY l_returnflag)", "regr_slope"},
		{"regr_count(l_quantity, l_discount) OVER ()", "regr_count"},
		{"bool_and(l_quantity > 1) OVER ()", "bool_and"},
		{"every(l_quantity > 1) OVER ()", "every"},
		{"bool_or(l_quantity > 1) OVER ()", "bool_or"},
		{"string_agg(l_comment, ',') OVER (ORDER BY l_orderkey)", "string_agg"},
		{"sum(l_quantity) FILTER (WHERE l_discount > 0) OVER ()", "sum"},
		{"(sum(l_quantity) OVER ())", "sum"},
		{"sum(l_quantity) OVER () AS total", "total"},
		{"sum(l_quantity) OVER () + 1", "?column?"},
	}
	for _, tc := range cases {
		sql := "SELECT " + tc.sel + " FROM lineitem WINDOW w AS (PARTITION BY l_returnflag)"
		st, err := planOne(t, p, sql)
		if err != nil {
			t.Errorf("%s: %v", sql, err)
			continue
		}
		if got := strings.Join(st.Plan.Names, ","); got != tc.want {
			t.Errorf("%s: column %q, want %q", sql, got, tc.want)
		}
	}
}
