package coordinator

import (
	"context"
	"strings"
	"testing"
)

// TestLimitParams runs a prepared statement whose LIMIT and OFFSET are
// parameters with several values: each run must use its own values (the
// plan folds them, so no generic plan is kept), NULL means no limit, and
// negative values fail as in PostgreSQL.
func TestLimitParams(t *testing.T) {
	eng := newEngine(t, "tpch", SourceSpec{Name: "tpch", Path: abs(t, sampleTPCH)})
	sess := eng.NewSession("tpch")
	ctx := context.Background()
	ps, err := sess.Prepare(ctx, "SELECT n_nationkey FROM nation ORDER BY n_nationkey LIMIT $1 OFFSET $2", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := typeNames(ps.ParamTypes); got != "BIGINT,BIGINT" {
		t.Fatalf("parameter types %s, want BIGINT,BIGINT", got)
	}
	for _, r := range []struct {
		values []any
		want   string
	}{
		{[]any{int64(3), int64(0)}, "0\n1\n2\n"},
		{[]any{"2", "5"}, "5\n6\n"},
		{[]any{nil, int64(23)}, "23\n24\n"},
		{[]any{int64(1), nil}, "0\n"},
		{[]any{int64(0), int64(0)}, ""},
		{[]any{"4", "22"}, "22\n23\n24\n"},
	} {
		got, err := runPrepared(t, sess, ps, r.values...)
		if err != nil {
			t.Errorf("%v: %v", r.values, err)
			continue
		}
		if got != "n_nationkey\n"+r.want {
			t.Errorf("%v: got %q, want %q", r.values, got, r.want)
		}
		ps.mu.Lock()
		g := ps.generic
		ps.mu.Unlock()
		if g != nil {
			t.Errorf("%v: a generic plan with a parameter LIMIT was kept", r.values)
		}
	}
	_, err = runPrepared(t, sess, ps, int64(-1), int64(0))
	wantCode(t, err, "2201W")
	_, err = runPrepared(t, sess, ps, int64(1), "-3")
	wantCode(t, err, "2201X")

	// FETCH FIRST $1 ROWS WITH TIES, in a subquery.
	ps, err = sess.Prepare(ctx, `SELECT count(*) FROM (SELECT n_regionkey FROM nation ORDER BY n_regionkey
		FETCH FIRST $1 ROWS WITH TIES) t`, nil)
	if err != nil {
		t.Fatal(err)
	}
	for v, want := range map[string]string{"1": "5\n", "5": "5\n", "6": "10\n", "0": "0\n"} {
		if got, err := runPrepared(t, sess, ps, v); err != nil || got != "count\n"+want {
			t.Errorf("WITH TIES %s: got %q, %v; want %q", v, got, err, want)
		}
	}
}

// TestSQLPrepare runs PREPARE, EXECUTE and DEALLOCATE on a session: the
// statements persist across texts, EXECUTE reuses a generic plan, and
// the errors are PostgreSQL's.
func TestSQLPrepare(t *testing.T) {
	eng := newEngine(t, "tpch", SourceSpec{Name: "tpch", Path: abs(t, sampleTPCH)})
	sess := eng.NewSession("tpch")
	ctx := context.Background()
	mustQuery(t, sess, "PREPARE nat (int) AS SELECT n_name FROM nation WHERE n_nationkey = $1")
	for arg, want := range map[string]string{"7": "GERMANY\n", "'6'": "FRANCE\n", "6.6": "GERMANY\n", "NULL": "", "CAST('3' AS bigint)": "CANADA\n"} {
		if got := mustQuery(t, sess, "EXECUTE nat("+arg+")"); got != "n_name\n"+want {
			t.Errorf("EXECUTE nat(%s) = %q, want %q", arg, got, want)
		}
	}
	if sess.named["nat"].generic == nil {
		t.Errorf("EXECUTE kept no generic plan")
	}
	// Types inferred from the statement; several statements in one text.
	got := mustQuery(t, sess, `PREPARE cnt AS SELECT count(*) FROM nation WHERE n_regionkey = $1 AND n_name LIKE $2;
		EXECUTE cnt(1, 'A%')`)
	if got != "count\n1\n" {
		t.Errorf("EXECUTE cnt = %q", got)
	}
	if got := mustQuery(t, sess, "EXECUTE cnt(0, '%')"); got != "count\n5\n" {
		t.Errorf("EXECUTE cnt again = %q", got)
	}
	mustQuery(t, sess, "PREPARE lim AS SELECT n_nationkey FROM nation ORDER BY 1 LIMIT $1")
	if got := mustQuery(t, sess, "EXECUTE lim(2)"); got != "n_nationkey\n0\n1\n" {
		t.Errorf("EXECUTE lim(2) = %q", got)
	}

	for _, c := range []struct{ sql, code string }{
		{"PREPARE nat AS SELECT 1", "42P05"},
		{"EXECUTE nope", "26000"},
		{"EXECUTE nat", "42601"},
		{"EXECUTE nat(1, 2)", "42601"},
		{"EXECUTE nat('x')", "22P02"},
		{"EXECUTE nat(n_name)", "42703"},
		{"EXECUTE lim(-1)", "2201W"},
		{"DEALLOCATE nope", "26000"},
		{"PREPARE bad AS SELECT * FROM no_such_table", "42P01"},
		{"PREPARE bad (no_such_type) AS SELECT $1", "42704"},
		{"PREPARE bad AS SHOW search_path", "42601"},
	} {
		_, err := query(ctx, sess, c.sql)
		wantCode(t, err, c.code)
	}
	// The error position counts from the PREPARE.
	_, err := query(ctx, sess, "PREPARE bad AS SELECT * FROM no_such_table")
	if e := wantCode(t, err, "42P01"); e.Pos != strings.Index("PREPARE bad AS SELECT * FROM no_such_table", "no_such")+1 {
		t.Errorf("position %d", e.Pos)
	}

	mustQuery(t, sess, "DEALLOCATE PREPARE nat")
	_, err = query(ctx, sess, "EXECUTE nat(1)")
	wantCode(t, err, "26000")
	mustQuery(t, sess, `DEALLOCATE ALL; PREPARE "Nat" AS SELECT 1`)
	_, err = query(ctx, sess, "EXECUTE cnt(1, 'x')")
	wantCode(t, err, "26000")
	if got := mustQuery(t, sess, `EXECUTE "Nat"`); got != "?column?\n1\n" {
		t.Errorf(`EXECUTE "Nat" = %q`, got)
	}
	_, err = query(ctx, sess, "EXECUTE nat")
	wantCode(t, err, "26000")
	mustQuery(t, sess, "DISCARD ALL")
	_, err = query(ctx, sess, `EXECUTE "Nat"`)
	wantCode(t, err, "26000")

	// Another session has its own statements.
	mustQuery(t, sess, "PREPARE mine AS SELECT 1")
	_, err = query(ctx, eng.NewSession("tpch"), "EXECUTE mine")
	wantCode(t, err, "26000")
}
