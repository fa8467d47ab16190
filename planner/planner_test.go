package planner_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarrydb/quarry/catalog"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/exec/kernels"
	"github.com/quarrydb/quarry/planner"
)

var update = flag.Bool("update", false, "rewrite golden plans in testdata/plans")

// sampleDir is the TPC-H scale 0.01 sample checked into testdata.
const sampleDir = "../testdata/tpch/sf0.01"

func newPlanner(t *testing.T) *planner.Planner {
	t.Helper()
	if _, err := os.Stat(filepath.Join(sampleDir, "lineitem.parquet")); err != nil {
		t.Fatalf("TPC-H sample missing: %v", err)
	}
	cat, err := catalog.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	if err := cat.AddSource("tpch", sampleDir); err != nil {
		t.Fatal(err)
	}
	return &planner.Planner{Catalog: cat, Eval: kernels.EvalConst, Parallelism: 2} // plans must not depend on the machine
}

func planOne(t *testing.T, p *planner.Planner, sql string) (*planner.Statement, error) {
	t.Helper()
	ps, err := planner.ParseAll(sql)
	if err != nil {
		return nil, err
	}
	if len(ps) != 1 {
		t.Fatalf("%q: %d statements", sql, len(ps))
	}
	return p.Plan(context.Background(), &planner.Session{DefaultSchema: "tpch"}, ps[0])
}

// TestGoldenPlans plans every testdata/plans/*.sql and compares EXPLAIN
// output (fragments, operators, rules fired) with the .plan file beside it.
func TestGoldenPlans(t *testing.T) {
	p := newPlanner(t)
	files, _ := filepath.Glob("../testdata/plans/*.sql")
	if len(files) == 0 {
		t.Fatal("no golden plan inputs")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".sql")
		t.Run(name, func(t *testing.T) {
			sql, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			st, err := planOne(t, p, string(sql))
			if err != nil {
				t.Fatal(err)
			}
			got := "-- logical\n" + st.Logical + "-- physical\n" + planner.Explain(st, nil)
			golden := strings.TrimSuffix(f, ".sql") + ".plan"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./planner -update)", err)
			}
			if got != string(want) {
				t.Errorf("plan differs from %s:\n--- got\n%s\n--- want\n%s", golden, got, want)
			}
		})
	}
}

func TestPlanErrors(t *testing.T) {
	p := newPlanner(t)
	tests := []struct {
		sql  string
		code string
		pos  int
		msg  string
	}{
		{"select * from nosuch", sqlerr.UndefinedTable, 15, `"nosuch"`},
		{"select * from tpch.nosuch", sqlerr.UndefinedTable, 20, `nosuch`},
		{"select l_foo from lineitem", sqlerr.UndefinedColumn, 8, `"l_foo"`},
		{"select 1 from lineitem where l_comment + 1 > 0", sqlerr.UndefinedFunction, 30, "VARCHAR + INTEGER"},
		{"select l_comment = 1 from lineitem", sqlerr.UndefinedFunction, 8, "VARCHAR = INTEGER"},
		{"selec 1", sqlerr.SyntaxError, 1, `"selec"`},
		{"select 1 from lineitem where", sqlerr.SyntaxError, 0, "syntax error"},
		{"select l_orderkey, count(*) from lineitem", sqlerr.GroupingError, 8, "GROUP BY"},
		{"select count(*) from lineitem where count(*) > 1", sqlerr.GroupingError, 37, "not allowed"},
		{"select 1 from lineitem where l_quantity", sqlerr.DatatypeMismatch, 30, "WHERE must be type BOOLEAN"},
		{"select cast(1 as frob)", sqlerr.UndefinedObject, 8, "frob"},
		{"select nosuchfn(1)", sqlerr.UndefinedFunction, 8, "nosuchfn"},
		// Positions survive the pre-parse rewrites (CAST, long names).
		{"select cast(1 as integer), nosuch from lineitem", sqlerr.UndefinedColumn, 28, `"nosuch"`},
		{"select cast(1 as integer) from tpch.a.b", sqlerr.UndefinedTable, 32, `b`},
	}
	for _, tt := range tests {
		_, err := planOne(t, p, tt.sql)
		if err == nil {
			t.Errorf("%q: no error", tt.sql)
			continue
		}
		e := sqlerr.As(err)
		if e.Code != tt.code || (tt.pos > 0 && e.Pos != tt.pos) || !strings.Contains(e.Msg, tt.msg) {
			t.Errorf("%q: got %s (pos %d), want code %s pos %d containing %q", tt.sql, e.Error(), e.Pos, tt.code, tt.pos, tt.msg)
		}
	}
}

func TestRulesFire(t *testing.T) {
	p := newPlanner(t)
	st, err := planOne(t, p, "select l_orderkey from lineitem where l_orderkey < 1 + 2 limit 3")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{planner.RuleConstantFolding, planner.RulePredicatePushdown, planner.RuleProjectionPruning} {
		if st.Rules[r] == 0 {
			t.Errorf("rule %s did not fire; fired: %v", r, st.Rules)
		}
	}
	// Disabling a rule by name keeps it from firing.
	p.Disabled = map[string]bool{planner.RulePredicatePushdown: true}
	st, err = planOne(t, p, "select l_orderkey from lineitem where l_orderkey = 1")
	if err != nil {
		t.Fatal(err)
	}
	if st.Rules[planner.RulePredicatePushdown] != 0 {
		t.Errorf("disabled rule fired")
	}
}
