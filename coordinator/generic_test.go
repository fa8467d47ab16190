package coordinator

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarrydb/quarry/planner/physical"
)

// TestGenericPlans runs prepared statements over the TPC-H sample with
// several sets of values: each run must give what the same query with the
// values written in gives, and statements that can be kept must keep one
// generic plan while those that fold the clock or read memory tables are
// planned per run.
func TestGenericPlans(t *testing.T) {
	eng := newEngine(t, "tpch", SourceSpec{Name: "tpch", Path: abs(t, sampleTPCH)})
	sess := eng.NewSession("tpch")
	mustQuery(t, sess, `CREATE TABLE memt (k INTEGER, s VARCHAR); INSERT INTO memt VALUES (1, 'a'), (2, 'b'), (3, NULL)`)
	ctx := context.Background()

	type run struct {
		values  []any
		literal string // the same query with the values written in
	}
	cases := []struct {
		sql  string
		kept bool
		runs []run
	}{
		{"SELECT count(*), sum(l_quantity) FROM lineitem WHERE l_orderkey BETWEEN $1 AND $2", true, []run{
			{[]any{int64(1), int64(1000)}, "SELECT count(*), sum(l_quantity) FROM lineitem WHERE l_orderkey BETWEEN 1 AND 1000"},
			{[]any{"30000", "60000"}, "SELECT count(*), sum(l_quantity) FROM lineitem WHERE l_orderkey BETWEEN 30000 AND 60000"},
			{[]any{int64(7), nil}, "SELECT count(*), sum(l_quantity) FROM lineitem WHERE l_orderkey BETWEEN 7 AND NULL"},
		}},
		{"SELECT n_name FROM nation WHERE n_nationkey = $1", true, []run{
			{[]any{"3"}, "SELECT n_name FROM nation WHERE n_nationkey = 3"},
			{[]any{int32(24)}, "SELECT n_name FROM nation WHERE n_nationkey = 24"},
			{[]any{nil}, "SELECT n_name FROM nation WHERE n_nationkey = NULL"},
			{[]any{"99"}, "SELECT n_name FROM nation WHERE n_nationkey = 99"},
		}},
		{"SELECT c_name, n_name FROM customer JOIN nation ON c_nationkey = n_nationkey WHERE n_name = $1 ORDER BY c_name LIMIT 3", true, []run{
			{[]any{"GERMANY"}, "SELECT c_name, n_name FROM customer JOIN nation ON c_nationkey = n_nationkey WHERE n_name = 'GERMANY' ORDER BY c_name LIMIT 3"},
			{[]any{"FRANCE"}, "SELECT c_name, n_name FROM customer JOIN nation ON c_nationkey = n_nationkey WHERE n_name = 'FRANCE' ORDER BY c_name LIMIT 3"},
		}},
		{"SELECT o_orderpriority, count(*) FROM orders WHERE o_orderdate >= $1 AND o_orderdate < $2 GROUP BY 1 ORDER BY 1", true, []run{
			{[]any{"1995-01-01", "1995-04-01"}, "SELECT o_orderpriority, count(*) FROM orders WHERE o_orderdate >= DATE '1995-01-01' AND o_orderdate < DATE '1995-04-01' GROUP BY 1 ORDER BY 1"},
			{[]any{"1993-07-01", "1993-10-01"}, "SELECT o_orderpriority, count(*) FROM orders WHERE o_orderdate >= DATE '1993-07-01' AND o_orderdate < DATE '1993-10-01' GROUP BY 1 ORDER BY 1"},
		}},
		{"SELECT l_returnflag, sum(CASE WHEN l_discount > $1 THEN 1 ELSE 0 END), max($2 || l_shipmode) FROM lineitem GROUP BY 1 ORDER BY 1", true, []run{
			{[]any{"0.05", "via "}, "SELECT l_returnflag, sum(CASE WHEN l_discount > 0.05 THEN 1 ELSE 0 END), max('via ' || l_shipmode) FROM lineitem GROUP BY 1 ORDER BY 1"},
			{[]any{"0.09", "by "}, "SELECT l_returnflag, sum(CASE WHEN l_discount > 0.09 THEN 1 ELSE 0 END), max('by ' || l_shipmode) FROM lineitem GROUP BY 1 ORDER BY 1"},
		}},
		{"SELECT count(*) FROM orders WHERE o_totalprice > (SELECT avg(o_totalprice) * $1 FROM orders)", true, []run{
			{[]any{"1.5"}, "SELECT count(*) FROM orders WHERE o_totalprice > (SELECT avg(o_totalprice) * 1.5 FROM orders)"},
			{[]any{"0.5"}, "SELECT count(*) FROM orders WHERE o_totalprice > (SELECT avg(o_totalprice) * 0.5 FROM orders)"},
		}},
		// Not kept: the clock, memory tables, system tables.
		{"SELECT count(*) FROM nation WHERE n_nationkey < $1 AND current_date > DATE '2000-01-01'", false, []run{
			{[]any{"5"}, "SELECT count(*) FROM nation WHERE n_nationkey < 5"},
			{[]any{"10"}, "SELECT count(*) FROM nation WHERE n_nationkey < 10"},
		}},
		{"SELECT s FROM memt WHERE k = $1", false, []run{
			{[]any{"2"}, "SELECT s FROM memt WHERE k = 2"},
			{[]any{"3"}, "SELECT s FROM memt WHERE k = 3"},
		}},
		{"SELECT count(*) FROM pg_catalog.pg_class WHERE relname = $1", false, []run{
			{[]any{"nation"}, "SELECT count(*) FROM pg_catalog.pg_class WHERE relname = 'nation'"},
			{[]any{"nope"}, "SELECT count(*) FROM pg_catalog.pg_class WHERE relname = 'nope'"},
		}},
	}
	for _, c := range cases {
		ps, err := sess.Prepare(ctx, c.sql, nil)
		if err != nil {
			t.Errorf("%s: prepare: %v", c.sql, err)
			continue
		}
		var first any
		for i, r := range c.runs {
			got, err := runPrepared(t, sess, ps, r.values...)
			if err != nil {
				t.Errorf("%s %v: %v", c.sql, r.values, err)
				continue
			}
			if want := mustQuery(t, sess, r.literal); got != want {
				t.Errorf("%s %v:\ngot  %q\nwant %q", c.sql, r.values, got, want)
			}
			ps.mu.Lock()
			g := ps.generic
			ps.mu.Unlock()
			if (g != nil) != c.kept {
				t.Errorf("%s: generic plan kept = %v, want %v", c.sql, g != nil, c.kept)
			}
			if i == 0 {
				first = g
			} else if g != first {
				t.Errorf("%s: run %d planned again", c.sql, i+1)
			}
		}
	}
}

// TestGenericPlanFollowsCatalog checks that a kept plan is planned again
// when what it read changes: a rewritten file, a view shadowing a name.
// Scans prune their row groups by each run's values.
func TestGenericPlanFollowsCatalog(t *testing.T) {
	root := t.TempDir()
	writeInts(t, filepath.Join(root, "x.parquet"), 2, 1, 2, 3, 4, 5, 6)
	eng := newEngine(t, "src", SourceSpec{Name: "src", Path: root})
	sess := eng.NewSession("src")
	ctx := context.Background()
	ps, err := sess.Prepare(ctx, "SELECT count(*), sum(v) FROM x WHERE v >= $1", nil)
	if err != nil {
		t.Fatal(err)
	}
	check := func(v any, want string) {
		t.Helper()
		got, err := runPrepared(t, sess, ps, v)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("v >= %v: got %q, want %q", v, got, want)
		}
	}
	check("5", "count|sum\n2|11\n")
	check("1", "count|sum\n6|21\n")
	g := ps.generic
	if g == nil {
		t.Fatal("no generic plan kept")
	}
	// Pruning by the run's values: three row groups of two rows.
	for _, c := range []struct {
		value  any
		groups int
	}{{int64(5), 1}, {int64(3), 2}, {int64(0), 3}, {int64(7), 0}} {
		plan, err := eng.planner.BindParams(g, []any{c.value})
		if err != nil {
			t.Fatal(err)
		}
		groups := 0
		for _, f := range plan.Fragments {
			physical.Walk(f.Root, func(n physical.Node) {
				if s, ok := n.(*physical.ParquetScan); ok {
					for _, sf := range s.Files {
						groups += len(sf.RowGroups)
					}
				}
			})
		}
		plan.Release()
		if groups != c.groups {
			t.Errorf("v >= %v reads %d row groups, want %d", c.value, groups, c.groups)
		}
	}

	// A rewritten file: the next run reads the new rows.
	writeInts(t, filepath.Join(root, "x.parquet"), 2, 10, 20)
	check("1", "count|sum\n2|30\n")
	if ps.generic == g {
		t.Error("the plan of the old file was kept")
	}
	// A view of the same name under the default schema shadows the file.
	g = ps.generic
	mustQuery(t, sess, `CREATE VIEW src.x AS SELECT CAST(100 AS BIGINT) AS v`)
	check("1", "count|sum\n1|100\n")
	if ps.generic == g {
		t.Error("the plan from before the view was kept")
	}
	// A wrong value is a clear error, and the statement still runs.
	_, err = runPrepared(t, sess, ps, "abc")
	if err == nil || !strings.Contains(err.Error(), "abc") {
		t.Errorf("bad value: %v", err)
	}
	check("100", "count|sum\n1|100\n")
}
