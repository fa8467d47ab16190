package planner

import (
	"context"
	"strings"
	"testing"

	"github.com/quarrydb/quarry/catalog/sqlerr"
)

func TestFilterOnWindowFunction(t *testing.T) {
	sql := "SELECT x, rank() FILTER (WHERE x > 1) OVER (ORDER BY x) FROM t"
	e, ok := pgSpell(sql).err.(*sqlerr.Error)
	if !ok || e.Code != sqlerr.FeatureNotSupported || e.Pos != strings.Index(sql, "rank")+1 {
		t.Errorf("got %v, want 0A000 at rank", e)
	}
	if err := pgSpell("SELECT rank(x) FILTER (WHERE x > 1) FROM t").err; err != nil {
		t.Errorf("without OVER: %v", err)
	}
}

func TestPgSpell(t *testing.T) {
	cases := []struct{ in, want string }{
		{"SELECT x::int FROM t", "SELECT __cast(x, 'int') FROM t"},
		{"SELECT a.b::pg_catalog.regtype::pg_catalog.text", "SELECT __cast(__cast(a.b, 'pg_catalog.regtype'), 'pg_catalog.text')"},
		{"SELECT '{1,2}'::int[]", "SELECT __cast('{1,2}', 'int[]')"},
		{"SELECT f(x)::numeric(10,2) + 1", "SELECT __cast(f(x), 'numeric(10,2)') + 1"},
		{"SELECT (a + b)::double precision", "SELECT __cast((a + b), 'double precision')"},
		{"SELECT x::timestamp without time zone", "SELECT __cast(x, 'timestamp without time zone')"},
		{"SELECT '::'::text", "SELECT __cast('::', 'text')"},
		{"SELECT E'a\\nb\\'c'", "SELECT 'a\nb''c'"},
		{"SELECT e'\\x41\\101'", "SELECT 'AA'"},
		{"WHERE c.relname OPERATOR(pg_catalog.~) '^(t1)$' COLLATE pg_catalog.default", "WHERE (regexp_like(c.relname, '^(t1)$')) "},
		{"WHERE n !~ '^pg_' AND m ~* 'X'", "WHERE (NOT regexp_like(n, '^pg_')) AND (regexp_like(m, '(?i)' || 'X'))"},
		{"WHERE a IS DISTINCT FROM b", "WHERE (NOT (a <=> b))"},
		{"WHERE a IS NOT DISTINCT FROM f(b)", "WHERE (a <=> f(b))"},
		{"WHERE x = ANY(current_schemas(true))", "WHERE __any(x, current_schemas(true))"},
		{"WHERE x <> ALL ($1)", "WHERE (NOT __any(x, $1))"},
		{"WHERE x = ANY (SELECT y FROM t)", "WHERE x = ANY (SELECT y FROM t)"},
		{"SELECT (current_schemas(false))[s.r]", "SELECT __subscript((current_schemas(false)), s.r)"},
		{"SELECT ARRAY[1, 2]", "SELECT __array(1, 2)"},
		{"SELECT array(select 1)", "SELECT __array_sub((select 1))"},
		{"SELECT (f(x)).n", "SELECT __field(f(x), 'n')"},
		{"SELECT pg_catalog.format_type(a, b) AS default", `SELECT format_type(a, b) AS "default"`},
		{"SELECT * FROM unnest(current_schemas(true))", "SELECT * FROM (SELECT __tfn('unnest', current_schemas(true))) AS \"unnest\""},
		{"SELECT * FROM generate_series(1, 3) AS s(r), t", "SELECT * FROM (SELECT __tfn('generate_series', 1, 3)) AS s(r), t"},
		{"SELECT * FROM t, pg_catalog.unnest(a) x WHERE true", "SELECT * FROM t, (SELECT __tfn('unnest', a)) AS x WHERE true"},
		{"SELECT count(*) FILTER (WHERE x > 1) FROM t", "SELECT count(CASE WHEN x > 1 THEN 1 END) FROM t"},
		{"SELECT sum(DISTINCT y) FILTER (WHERE x) FROM t", "SELECT sum(DISTINCT CASE WHEN x THEN y END) FROM t"},
		// Only the aggregated value is filtered: not string_agg's
		// separator, not an aggregate ORDER BY; both of corr's arguments.
		{"SELECT string_agg(s, ',') FILTER (WHERE c) FROM t", "SELECT string_agg(CASE WHEN c THEN s END, ',') FROM t"},
		{"SELECT string_agg(s, f(',', 1) ORDER BY s DESC) FILTER (WHERE c) OVER () FROM t",
			"SELECT string_agg(CASE WHEN c THEN s END, f(',', 1) ORDER BY s DESC) OVER () FROM t"},
		{"SELECT corr(y, x) FILTER (WHERE c) FROM t", "SELECT corr(CASE WHEN c THEN y END, CASE WHEN c THEN x END) FROM t"},
		{"SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x DESC) FILTER (WHERE c) FROM t",
			"SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY CASE WHEN c THEN x END DESC) FROM t"},
		{"SELECT d + interval '2 days'", "SELECT d + __interval('2 days')"},
		{"SELECT current_user, session_user", "SELECT __pg_current_user(), __pg_session_user()"},
		{"SELECT 'a::b', \"x::y\"", "SELECT 'a::b', \"x::y\""},
	}
	for _, c := range cases {
		got := pgSpell(c.in)
		if got.err != nil {
			t.Errorf("pgSpell(%q): %v", c.in, got.err)
		}
		if got.text != c.want {
			t.Errorf("pgSpell(%q)\n got %q\nwant %q", c.in, got.text, c.want)
		}
		if len(got.origin) != len(got.text)+1 {
			t.Errorf("pgSpell(%q): origin has %d entries for %d bytes", c.in, len(got.origin), len(got.text))
		}
	}
}

func TestPgSpellErrorPosition(t *testing.T) {
	// The syntax error after a rewritten cast points into the user's text.
	ps := parseOne("SELECT x::int FROM t WHERE )")
	if ps.err == nil {
		t.Fatal("expected a syntax error")
	}
	if got := ps.err.Error(); !containsPos(got, 28) {
		t.Errorf("error %q: want position 28", got)
	}
}

func containsPos(msg string, p int) bool {
	for _, s := range []string{"position 28", "28"} {
		if len(msg) > 0 && contains(msg, s) {
			return true
		}
	}
	return false
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestPgCommands(t *testing.T) {
	p := &Planner{}
	sess := &Session{DefaultSchema: "tpch"}
	run := func(sql string) *Statement {
		t.Helper()
		ps := parseOne(sql)
		if ps.err != nil {
			t.Fatalf("%s: %v", sql, ps.err)
		}
		if ps.pg == nil {
			t.Fatalf("%s: not recognised", sql)
		}
		st, err := p.planPgCommand(context.Background(), sess, &Statement{Text: sql}, ps.pg)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return st
	}
	for sql, tag := range map[string]string{
		"BEGIN": "BEGIN", "BEGIN READ ONLY": "BEGIN", "BEGIN ISOLATION LEVEL SERIALIZABLE": "BEGIN",
		"START TRANSACTION READ ONLY": "START TRANSACTION", "COMMIT": "COMMIT", "END": "COMMIT",
		"ROLLBACK": "ROLLBACK", "ABORT": "ROLLBACK", "DISCARD ALL": "DISCARD ALL",
		"SET extra_float_digits = 3": "SET", "SET SESSION TIME ZONE 'UTC'": "SET", "RESET ALL": "RESET",
	} {
		if st := run(sql); st.Tag != tag {
			t.Errorf("%s: tag %q, want %q", sql, st.Tag, tag)
		}
	}
	run("SET application_name TO 'psql'")
	if v, _ := sess.Setting("application_name"); v != "psql" {
		t.Errorf("application_name = %q", v)
	}
	run("SET search_path TO \"$user\", public")
	if v, _ := sess.Setting("search_path"); v != `"$user", public` {
		t.Errorf("search_path = %q", v)
	}
	copyOf := *sess
	run("SET DateStyle = 'ISO, DMY'")
	if copyOf.Settings["datestyle"] != "" {
		t.Errorf("SET changed a copied session's settings")
	}
	run("RESET DateStyle")
	if v, _ := sess.Setting("DateStyle"); v != "ISO, MDY" {
		t.Errorf("DateStyle after RESET = %q", v)
	}
	for _, sql := range []string{"DISCARD", "SET x", "SHOW"} {
		if ps := parseOne(sql); ps.err == nil {
			t.Errorf("%s: expected a syntax error", sql)
		}
	}
	if ps := parseOne("SHOW no_such_setting"); ps.pg == nil {
		t.Fatal("SHOW not recognised")
	} else if _, err := p.planPgCommand(context.Background(), sess, &Statement{}, ps.pg); err == nil || !contains(err.Error(), "42704") {
		t.Errorf("SHOW unknown: %v, want 42704", err)
	}
}
