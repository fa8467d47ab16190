package planner

import (
	"reflect"
	"testing"
)

func TestSplitStatements(t *testing.T) {
	tests := []struct {
		sql  string
		want []string
	}{
		{"select 1; select 2", []string{"select 1", " select 2"}},
		{"select ';' ; -- c;\n", []string{"select ';' "}},
		{`select "a;b" from t;;`, []string{`select "a;b" from t`}},
		{"/* ; */ select 1", []string{"/* ; */ select 1"}},
		{"  ;  ", nil},
	}
	for _, tt := range tests {
		got, _ := splitStatements(tt.sql)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitStatements(%q) = %q, want %q", tt.sql, got, tt.want)
		}
	}
}

func TestRewrite(t *testing.T) {
	tests := []struct {
		sql, want string
		derived   map[string][][]string
	}{
		{"select cast(a as integer) from t", "select __cast(a , 'integer') from t", nil},
		{"select CAST(a AS double precision), cast('x' as varchar(10))", "select __cast(a , 'double precision'), __cast('x' , 'varchar(10)')", nil},
		{"select cast((a+b) as decimal(15,2))", "select __cast((a+b) , 'decimal(15,2)')", nil},
		{"select c from (select 1, 2) as t (x, y)", "select c from (select 1, 2) as t ", map[string][][]string{"t": {{"x", "y"}}}},
		{`select 'cast(a as int)' from t`, `select 'cast(a as int)' from t`, nil},
		{"select cast(a as varchar)", "select __cast(a , 'varchar')", nil},
		{"create table t (a varchar, b varchar(3), c character varying)", "create table t (a text, b varchar(3), c text)", nil},
		// ? placeholders are numbered; not inside strings, quoted names or
		// comments, and not when the statement numbers its own.
		{"select a from t where b = ? and c > ?", "select a from t where b = __param(1) and c > __param(2)", nil},
		{`select '?', "?" from t where b = ? -- ?`, `select '?', "?" from t where b = __param(1) -- ?`, nil},
		{"select ?::int", "select __param(1)::int", nil},
		{"select $2, $1", "select __param(2), __param(1)", nil},
		{"SELECT 'it''s ?' -- why?\n, ?", "SELECT 'it''s ?' -- why?\n, __param(1)", nil},
		{"SELECT /* ? */ ?", "SELECT /* ? */ __param(1)", nil},
		{"SELECT $1, ?", "SELECT __param(1), ?", nil},
		// Window aggregates TiDB has no OVER form of become a marker
		// inside sum(…) OVER; DISTINCT moves in front of the marker, an
		// aggregate ORDER BY is cut out and noted in the marker's name.
		{"select corr(y, x) over (partition by g) from t", "select sum(__win_corr(y, x)) over (partition by g) from t", nil},
		{"select count(distinct x) over () from t", "select sum(DISTINCT __win_count( x)) over () from t", nil},
		{"select count(DISTINCT x), corr(y, x) from t", "select count(DISTINCT x), corr(y, x) from t", nil},
		{"select string_agg(s, ',' order by cast(s as text)) over w from t", "select sum(__win_ordered_string_agg(s, ',' )) over w from t", nil},
		{"select string_agg(s, ',') over (order by s), string_agg(s, ',') from t",
			"select sum(__win_string_agg(s, ',')) over (order by s), group_concat(s SEPARATOR ',') from t", nil},
		{"select stddev(x) over (), stddev(x), sum(x) over () from t", "select sum(__win_stddev(x)) over (), stddev(x), sum(x) over () from t", nil},
		{"select every(b) over () from t", "select sum(__win_every(b)) over () from t", nil},
	}
	for _, tt := range tests {
		got := rewrite(tt.sql)
		if got.text != tt.want {
			t.Errorf("rewrite(%q) = %q, want %q", tt.sql, got.text, tt.want)
		}
		if !reflect.DeepEqual(got.derivedColumns, tt.derived) {
			t.Errorf("rewrite(%q) derived = %v, want %v", tt.sql, got.derivedColumns, tt.derived)
		}
	}
}

func TestRewriteLimitClause(t *testing.T) {
	tests := []struct {
		sql, want string
		marks     []string // operands set aside, in order; "ties:" marks WITH TIES
	}{
		{"select a from t limit 5", "select a from t LIMIT 5", nil},
		{"select a from t limit 5 offset 2", "select a from t LIMIT 5 OFFSET 2", nil},
		{"select a from t offset 2 rows fetch first 3 rows only", "select a from t LIMIT 3 OFFSET 2", nil},
		{"select a from t offset 2", "select a from t LIMIT " + noLimit + " OFFSET 2", nil},
		{"select a from t limit all offset 1", "select a from t LIMIT " + noLimit + " OFFSET 1", nil},
		{"select a from t fetch next row only", "select a from t LIMIT 1", nil},
		{"select a from t order by a fetch next row with ties", "select a from t order by a LIMIT ?", []string{"ties:1"}},
		{"select a from t limit $1 offset $2", "select a from t LIMIT ? OFFSET ?", []string{"$1", "$2"}},
		{"select a from t where b = ? limit ? offset ?", "select a from t where b = __param(1) LIMIT ? OFFSET ?", []string{"$2", "$3"}},
		{"select a from t limit null", "select a from t LIMIT ?", []string{"null"}},
		{"select a from t order by a fetch first 2 rows with ties", "select a from t order by a LIMIT ?", []string{"ties:2"}},
		{"select a from t order by a offset (1 + 1) rows fetch first $1 rows with ties", "select a from t order by a LIMIT ? OFFSET ?",
			[]string{"ties:$1", "(1 + 1)"}},
		{"select (select b from u limit 1 + 1) from t limit 3", "select (select b from u LIMIT ?) from t LIMIT 3", []string{"1 + 1"}},
		{"select a from t limit 2, 3", "select a from t limit 2, 3", nil},
		{"select t.limit from t", "select t.limit from t", nil},
	}
	for _, tt := range tests {
		got := rewrite(tt.sql)
		if got.text != tt.want {
			t.Errorf("rewrite(%q) = %q, want %q", tt.sql, got.text, tt.want)
		}
		var marks []string
		for i := 0; i < len(got.text); i++ {
			if m := got.limits[i]; m != nil {
				if m.ties {
					marks = append(marks, "ties:"+m.text)
				} else {
					marks = append(marks, m.text)
				}
			}
		}
		if !reflect.DeepEqual(marks, tt.marks) {
			t.Errorf("rewrite(%q) marks = %q, want %q", tt.sql, marks, tt.marks)
		}
	}
}

func TestRewriteMaterialized(t *testing.T) {
	sql := `WITH a AS MATERIALIZED (SELECT 1), "B" (x) AS NOT MATERIALIZED (SELECT 2), c AS (SELECT 3) SELECT 1`
	got := rewrite(sql)
	want := `WITH a AS              (SELECT 1), "B" (x) AS                  (SELECT 2), c AS (SELECT 3) SELECT 1`
	if got.text != want {
		t.Errorf("got  %q\nwant %q", got.text, want)
	}
	if !reflect.DeepEqual(got.materialized, map[string]bool{"a": true, "b": false}) {
		t.Errorf("materialized = %v", got.materialized)
	}
}

func TestParsePrepCommand(t *testing.T) {
	for _, tt := range []struct {
		sql   string
		kind  StatementKind
		name  string
		types []string
		args  int
	}{
		{"PREPARE p AS SELECT 1", StmtPrepare, "p", nil, 0},
		{`PREPARE "Q" (int, numeric(10, 2), double precision) AS SELECT $1, $2, $3`, StmtPrepare, "Q", []string{"int", "numeric(10, 2)", "double precision"}, 0},
		{"EXECUTE P", StmtExecute, "p", nil, 0},
		{"EXECUTE p (1, 'a', f(2, 3))", StmtExecute, "p", nil, 3},
		{"DEALLOCATE p", StmtDeallocate, "p", nil, 0},
		{"DEALLOCATE PREPARE ALL", StmtDeallocate, "", nil, 0},
		{`DEALLOCATE "All"`, StmtDeallocate, "All", nil, 0},
	} {
		ps := parseOne(tt.sql)
		if ps.err != nil || ps.prep == nil {
			t.Errorf("%s: %v", tt.sql, ps.err)
			continue
		}
		c := ps.prep
		st := &Statement{prep: c}
		if c.kind != tt.kind || c.name != tt.name || !reflect.DeepEqual(c.types, tt.types) || st.ExecuteArgCount() != tt.args {
			t.Errorf("%s: got %v %q %q %d", tt.sql, c.kind, c.name, c.types, st.ExecuteArgCount())
		}
	}
	for _, sql := range []string{"PREPARE p SELECT 1", "PREPARE p AS", "PREPARE p () AS SELECT 1", "EXECUTE", "EXECUTE p 1",
		"EXECUTE p ()", "DEALLOCATE", "DEALLOCATE a b", "PREPARE p AS SHOW x", "PREPARE p AS SELEC 1"} {
		if ps := parseOne(sql); ps.err == nil {
			t.Errorf("%s: no error", sql)
		}
	}
}

func TestFoldLongNames(t *testing.T) {
	got, _ := foldLongNames(`select * from src.sub."t.parquet" where x = 1`)
	want := "select * from \"src\x1fsub\x1ft.parquet\" where x = 1"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, _ := foldLongNames("select a.b.c from t"); got != "select a.b.c from t" {
		t.Errorf("column reference was folded: %q", got)
	}
}

func TestParseTypeName(t *testing.T) {
	for _, name := range []string{"INT", "integer", "BIGINT", "TEXT", "BOOLEAN", "NUMERIC", "numeric(10, 2)",
		"TIMESTAMP", "VARCHAR", "varchar(20)", "double precision", "DATE", "decimal(15,2)", "timestamp without time zone"} {
		if _, err := parseTypeName(name); err != nil {
			t.Errorf("parseTypeName(%q): %v", name, err)
		}
	}
	if _, err := parseTypeName("frobnicate"); err == nil {
		t.Error("parseTypeName accepted an unknown type")
	}
}
