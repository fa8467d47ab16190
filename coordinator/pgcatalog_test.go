package coordinator

import (
	"bufio"
	"context"
	"github.com/quarrydb/quarry/coordinator/internal/testenv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/quarrydb/quarry/catalog/pgcatalog"
)

// capturedQuery is one statement a real PostgreSQL client sent, from the
// captures in shared/clients.
type capturedQuery struct {
	where  string // file:line
	sql    string
	params []string // extended protocol: text parameters
	ext    bool     // sent with the extended protocol
}

// readCaptures parses pg-client-queries.txt (psql -E blocks between
// "********* QUERY **********" and a line of stars; JDBC "-- [<unnamed>] sql"
// lines with "--   parameters: $1 = 'v'") and pgcli-queries.txt ("FE Query:"
// and "FE Parse … sql=" blocks up to the next "FE " line, Bind params
// b'…').
func readCaptures(t *testing.T, path string) []capturedQuery {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	name := filepath.Base(path)
	var out []capturedQuery
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		where := name + ":" + strconv.Itoa(i+1)
		switch {
		case strings.HasPrefix(l, "********* QUERY"):
			var b []string
			for i++; i < len(lines) && !strings.HasPrefix(lines[i], "*****"); i++ {
				b = append(b, lines[i])
			}
			out = append(out, capturedQuery{where: where, sql: strings.Join(b, "\n")})
		case strings.HasPrefix(l, "-- [<unnamed>] "):
			q := capturedQuery{where: where, sql: strings.TrimPrefix(l, "-- [<unnamed>] "), ext: true}
			for i+2 < len(lines) && strings.TrimSpace(lines[i+1]) == "" && strings.HasPrefix(lines[i+2], "--   parameters:") {
				for _, p := range strings.Split(strings.TrimPrefix(lines[i+2], "--   parameters:"), ", $") {
					_, v, _ := strings.Cut(p, " = ")
					q.params = append(q.params, strings.Trim(strings.TrimSpace(v), "'"))
				}
				i += 2
			}
			out = append(out, q)
		case strings.HasPrefix(l, "FE Query:"), strings.HasPrefix(l, "FE Parse "):
			first := strings.TrimPrefix(l, "FE Query:")
			ext := strings.HasPrefix(l, "FE Parse ")
			if ext {
				_, first, _ = strings.Cut(l, "sql=")
			}
			b := []string{first}
			for i+1 < len(lines) && !strings.HasPrefix(lines[i+1], "FE ") {
				i++
				b = append(b, lines[i])
			}
			q := capturedQuery{where: where, sql: strings.Join(b, "\n"), ext: ext}
			if ext && i+1 < len(lines) && strings.HasPrefix(lines[i+1], "FE Bind ") {
				i++
				_, ps, _ := strings.Cut(lines[i], "params=[")
				ps, _, _ = strings.Cut(ps, "]")
				for _, p := range strings.Split(ps, ", ") {
					q.params = append(q.params, strings.TrimSuffix(strings.TrimPrefix(p, "b'"), "'"))
				}
			}
			out = append(out, q)
		}
	}
	return out
}

// pgEngine is an engine on the TPC-H sample (default schema tpch) with the
// capture's test table t1 as a memory table.
func pgEngine(t *testing.T) (*Engine, *Session) {
	t.Helper()
	eng := newEngine(t, "tpch", SourceSpec{Name: "tpch", Path: abs(t, sampleTPCH)})
	sess := eng.NewSession("")
	mustQuery(t, sess, "CREATE TABLE t1 (id INTEGER, name VARCHAR, price DECIMAL(10,2), created TIMESTAMP)")
	mustQuery(t, sess, "INSERT INTO t1 VALUES (1, 'one', 1.50, TIMESTAMP '2024-01-02 03:04:05'), (2, 'two', NULL, NULL)")
	return eng, sess
}

// runCaptured runs q on sess (simple or extended protocol, as captured).
func runCaptured(ctx context.Context, sess *Session, q capturedQuery) (string, error) {
	if !q.ext {
		return query(ctx, sess, q.sql)
	}
	ps, err := sess.Prepare(ctx, q.sql, nil)
	if err != nil {
		return "", err
	}
	vals := make([]any, len(q.params))
	for i, p := range q.params {
		vals[i] = p
	}
	var b strings.Builder
	sink := &lastResult{w: &b}
	sink.StartStatement(0, 1)
	err = sess.ExecutePrepared(ctx, ps, vals, sink)
	return b.String(), err
}

// TestPGClientCaptures runs every catalog query the captured PostgreSQL
// clients sent (psql, PgJDBC, psqlODBC, pgcli), with the capture's oid of
// t1 replaced by Quarry's, and checks that each runs.
func TestPGClientCaptures(t *testing.T) {
	dir := filepath.Join(testenv.SharedDir(t), "clients")
	var qs []capturedQuery
	for _, f := range []string{"pg-client-queries.txt", "pgcli-queries.txt"} {
		qs = append(qs, readCaptures(t, filepath.Join(dir, f))...)
	}
	// Section 3 of the capture describes these in prose (psqlODBC, pgcli).
	for _, sql := range []string{
		"SET DateStyle = 'ISO';SET extra_float_digits = 2;show transaction_isolation",
		"select oid, typbasetype from pg_type where typname = 'lo'",
		`PREPARE "_PLAN0x55d5c1a0e2b0" AS SELECT 1; DEALLOCATE "_PLAN0x55d5c1a0e2b0"`,
		"SELECT * FROM unnest(current_schemas(true))",
	} {
		qs = append(qs, capturedQuery{where: "prose", sql: sql})
	}
	if len(qs) < 30 {
		t.Fatalf("parsed only %d captured queries", len(qs))
	}
	_, sess := pgEngine(t)
	ctx := context.Background()
	t1 := strconv.FormatInt(pgcatalog.RelationOid("mem", "t1"), 10)
	for _, q := range qs {
		for _, oid := range []string{"16387", t1} {
			q := q
			q.sql = strings.ReplaceAll(q.sql, "16387", oid)
			for i, p := range q.params {
				if p == "16387" {
					q.params[i] = oid
				}
			}
			if strings.Contains(q.sql, "generate_subscripts(confkey") {
				// pgcli's foreign-key listing: set-returning functions in
				// a SELECT list over correlated arrays, array_agg(… ORDER
				// BY …). Quarry has no foreign keys; not supported yet.
				if _, err := runCaptured(ctx, sess, q); err == nil {
					t.Errorf("%s: now runs; drop it from the known failures", q.where)
				}
				continue
			}
			if _, err := runCaptured(ctx, sess, q); err != nil {
				t.Errorf("%s (oid %s): %v\n%s", q.where, oid, err, q.sql)
			}
		}
	}
}

// findCapture returns the captured query containing marker.
func findCapture(t *testing.T, qs []capturedQuery, marker string) capturedQuery {
	t.Helper()
	for _, q := range qs {
		if strings.Contains(q.sql, marker) {
			return q
		}
	}
	t.Fatalf("no captured query contains %q", marker)
	return capturedQuery{}
}

// TestPGCatalogAnswers checks that the key client queries give the answers
// a PostgreSQL user expects of the TPC-H sample.
func TestPGCatalogAnswers(t *testing.T) {
	dir := filepath.Join(testenv.SharedDir(t), "clients")
	qs := readCaptures(t, filepath.Join(dir, "pg-client-queries.txt"))
	_, sess := pgEngine(t)
	ctx := context.Background()
	run := func(q capturedQuery, replace ...string) string {
		t.Helper()
		r := strings.NewReplacer(replace...)
		q.sql = r.Replace(q.sql)
		for i := range q.params {
			q.params[i] = r.Replace(q.params[i])
		}
		out, err := runCaptured(ctx, sess, q)
		if err != nil {
			t.Fatalf("%s: %v", q.where, err)
		}
		return out
	}
	lineitem := strconv.FormatInt(pgcatalog.RelationOid("tpch", "lineitem"), 10)

	// psql \dt: the tables visible on the search path (tpch, then mem).
	dt := run(findCapture(t, qs, "WHEN 'r' THEN 'table'"))
	var want strings.Builder
	want.WriteString("Schema|Name|Type|Owner\nmem|t1|table|quarry\n")
	for _, n := range []string{"customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier"} {
		want.WriteString("tpch|" + n + "|table|quarry\n")
	}
	if dt != want.String() {
		t.Errorf("\\dt:\n%s\nwant\n%s", dt, want.String())
	}

	// psql \d lineitem: find the oid, then the columns with their types.
	find := run(findCapture(t, qs, "OPERATOR(pg_catalog.~) '^(t1)$'"), "^(t1)$", "^(lineitem)$")
	if find != "oid|nspname|relname\n"+lineitem+"|tpch|lineitem\n" {
		t.Errorf("\\d lineitem lookup:\n%s", find)
	}
	cols := run(findCapture(t, qs, "pg_catalog.format_type(a.atttypid, a.atttypmod)"), "16387", lineitem)
	for _, line := range []string{
		"l_orderkey|bigint||false|||", "l_partkey|integer||false|||", "l_quantity|numeric(15,2)||false|||",
		"l_returnflag|character varying||false|||", "l_shipdate|date||false|||",
	} {
		if !strings.Contains(cols, "\n"+line+"\n") {
			t.Errorf("\\d lineitem columns lack %q:\n%s", line, cols)
		}
	}
	if n := strings.Count(cols, "\n"); n != 17 {
		t.Errorf("\\d lineitem: %d lines, want header + 16 columns:\n%s", n, cols)
	}
	if rel := run(findCapture(t, qs, "c.relchecks, c.relkind"), "16387", lineitem); !strings.Contains(rel, "|r|") || !strings.HasSuffix(rel, "|heap\n") {
		t.Errorf("\\d lineitem relation:\n%s", rel)
	}

	// psql \l and \dn.
	if l := run(findCapture(t, qs, "d.datname as \"Name\"")); !strings.Contains(l, "\nquarry|quarry|UTF8|") {
		t.Errorf("\\l:\n%s", l)
	}
	if dn := run(findCapture(t, qs, "n.nspname AS \"Name\"")); dn != "Name|Owner\nmem|quarry\ntpch|quarry\n" {
		t.Errorf("\\dn:\n%s", dn)
	}

	// PgJDBC getTables / getColumns / getSchemas.
	tables := run(findCapture(t, qs, "AS TABLE_CAT, n.nspname AS TABLE_SCHEM"))
	if !strings.Contains(tables, "|tpch|lineitem|TABLE|") || strings.Contains(tables, "pg_class") {
		t.Errorf("getTables:\n%s", tables)
	}
	columns := run(findCapture(t, qs, "row_number() OVER (PARTITION BY a.attrelid"),
		"n.nspname LIKE 'public'", "n.nspname LIKE 'tpch'", "c.relname LIKE 't1'", "c.relname LIKE 'nation'")
	if !strings.Contains(columns, "tpch|nation|n_nationkey|23|false|-1|4|-1|1|") ||
		!strings.Contains(columns, "tpch|nation|n_comment|1043|") {
		t.Errorf("getColumns:\n%s", columns)
	}
	if schemas := run(findCapture(t, qs, "AS TABLE_CATALOG FROM pg_catalog.pg_namespace")); schemas !=
		"TABLE_SCHEM|TABLE_CATALOG\ninformation_schema|\nmem|\npg_catalog|\ntpch|\n" {
		t.Errorf("getSchemas:\n%s", schemas)
	}
	// TypeInfoCache: the type of an oid and whether its schema is on the path.
	if ti := run(findCapture(t, qs, "n.nspname = ANY(current_schemas(true))")); ti != "?column?|nspname|typname\ntrue|pg_catalog|jsonb\n" {
		t.Errorf("TypeInfoCache:\n%s", ti)
	}
	if ti := run(findCapture(t, qs, "typinput='pg_catalog.array_in'::regproc"), "3802", "1007"); ti != "is_array|typtype|typname|oid\ntrue|b|_int4|1007\n" {
		t.Errorf("TypeInfoCache array:\n%s", ti)
	}

	// SET / SHOW as psqlODBC sends them.
	if out := mustQuery(t, sess, "SET DateStyle = 'ISO';SET extra_float_digits = 2;show transaction_isolation"); out != "transaction_isolation\nread committed\n" {
		t.Errorf("psqlODBC startup:\n%s", out)
	}
	if out := mustQuery(t, sess, "SHOW DateStyle"); out != "DateStyle\nISO\n" {
		t.Errorf("SHOW DateStyle:\n%s", out)
	}
	if out := mustQuery(t, sess, "SELECT setting FROM pg_settings WHERE name = 'extra_float_digits'"); out != "setting\n2\n" {
		t.Errorf("pg_settings after SET:\n%s", out)
	}
	if out := mustQuery(t, sess, "SHOW search_path"); out != "search_path\ntpch\n" {
		t.Errorf("SHOW search_path:\n%s", out)
	}
	if out := mustQuery(t, sess, "select oid, typbasetype from pg_type where typname = 'lo'"); out != "oid|typbasetype\n" {
		t.Errorf("pg_type lo:\n%s", out)
	}
	if out := mustQuery(t, sess, "SELECT version() LIKE 'PostgreSQL 15.%Quarry%', current_schema(), current_database()"); out != "?column?|current_schema|current_database\ntrue|tpch|quarry\n" {
		t.Errorf("version():\n%s", out)
	}
}
