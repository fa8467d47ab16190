package coordinator

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/coordinator/resultfmt"
	"github.com/quarrydb/quarry/planner/physical"
)

// runPrepared executes ps with values and returns its rows as PSV.
func runPrepared(t *testing.T, sess *Session, ps *Prepared, values ...any) (string, error) {
	t.Helper()
	var b strings.Builder
	w := resultfmt.NewDelimited(&b, '|', false)
	err := sess.ExecutePrepared(context.Background(), ps, values, w)
	return b.String(), err
}

func typeNames(ts []arrow.DataType) string {
	var out []string
	for _, t := range ts {
		out = append(out, physical.TypeName(t))
	}
	return strings.Join(out, ",")
}

func TestPrepareInfersAndRuns(t *testing.T) {
	eng := newEngine(t, "")
	sess := eng.NewSession("")
	mustQuery(t, sess, `CREATE TABLE p (a INTEGER, b VARCHAR, c DATE);
		INSERT INTO p VALUES (1, 'x', DATE '2020-01-01'), (2, NULL, DATE '2021-06-30'), (3, 'z', NULL)`)
	ctx := context.Background()

	cases := []struct {
		sql      string
		declared []arrow.DataType
		types    string // parameter types after Prepare
		cols     string // result columns
		values   []any
		want     string
	}{
		{"SELECT a, b FROM p WHERE a = $1", nil, "INTEGER", "a,b", []any{"2"}, "a|b\n2|\n"},
		{"SELECT a FROM p WHERE a > $1 AND c < $2 ORDER BY a", nil, "INTEGER,DATE", "a", []any{int32(0), "2021-01-01"}, "a\n1\n"},
		{"SELECT $1 AS x", nil, "VARCHAR", "x", []any{"hello"}, "x\nhello\n"},
		{"SELECT $1 + 1 AS y", []arrow.DataType{physical.Int64}, "BIGINT", "y", []any{int64(41)}, "y\n42\n"},
		{"SELECT count(*) AS n FROM p WHERE b = $1 OR $1 IS NULL", nil, "VARCHAR", "n", []any{nil}, "n\n3\n"},
		{"SELECT CAST($2 AS integer) - CAST($1 AS integer) AS d", nil, "INTEGER,INTEGER", "d", []any{"1", "10"}, "d\n9\n"},
	}
	for _, c := range cases {
		ps, err := sess.Prepare(ctx, c.sql, c.declared)
		if err != nil {
			t.Errorf("%s: prepare: %v", c.sql, err)
			continue
		}
		if got := typeNames(ps.ParamTypes); got != c.types {
			t.Errorf("%s: parameter types %s, want %s", c.sql, got, c.types)
		}
		var cols []string
		for _, f := range ps.Schema.Fields() {
			cols = append(cols, f.Name)
		}
		if strings.Join(cols, ",") != c.cols {
			t.Errorf("%s: columns %v, want %s", c.sql, cols, c.cols)
		}
		// Run it several times: the prepared form is reusable.
		for i := 0; i < 3; i++ {
			got, err := runPrepared(t, sess, ps, c.values...)
			if err != nil {
				t.Errorf("%s: run: %v", c.sql, err)
				break
			}
			if got != c.want {
				t.Errorf("%s: got %q, want %q", c.sql, got, c.want)
				break
			}
		}
	}
}

func TestPrepareErrors(t *testing.T) {
	eng := newEngine(t, "")
	sess := eng.NewSession("")
	ctx := context.Background()
	_, err := sess.Prepare(ctx, "SELECT 1; SELECT 2", nil)
	wantCode(t, err, sqlerr.SyntaxError)
	_, err = sess.Prepare(ctx, "SELECT * FROM nowhere WHERE x = $1", nil)
	wantCode(t, err, sqlerr.UndefinedTable)

	ps, err := sess.Prepare(ctx, "SELECT $1 + $2 AS s", []arrow.DataType{physical.Int32, physical.Int32})
	if err != nil {
		t.Fatal(err)
	}
	_, err = runPrepared(t, sess, ps, int32(1))
	wantCode(t, err, sqlerr.ProtocolViolation)
	got, err := runPrepared(t, sess, ps, int32(1), nil)
	if err != nil || got != "s\n\n" {
		t.Errorf("1 + NULL: %q %v", got, err)
	}
	_, err = runPrepared(t, sess, ps, "x", "1")
	wantCode(t, err, sqlerr.InvalidTextRep)

	// Without a parameter context $n is an error in plain Execute.
	_, err = query(ctx, sess, "SELECT $1")
	wantCode(t, err, sqlerr.UndefinedParameter)

	// Empty text prepares as an empty statement.
	ps, err = sess.Prepare(ctx, "  ", nil)
	if err != nil || !ps.Empty {
		t.Fatalf("empty: %+v %v", ps, err)
	}
}

func TestPrepareSetAppliesOnlyWhenRun(t *testing.T) {
	eng := newEngine(t, "")
	sess := eng.NewSession("")
	ctx := context.Background()
	ps, err := sess.Prepare(ctx, "USE tpch", nil)
	if err != nil {
		t.Skipf("USE not plannable here: %v", err)
	}
	if sess.DefaultSchema() == "tpch" {
		t.Fatal("Prepare applied USE")
	}
	if _, err := runPrepared(t, sess, ps); err != nil {
		t.Fatal(err)
	}
	if sess.DefaultSchema() != "tpch" {
		t.Fatalf("run did not apply USE: %q", sess.DefaultSchema())
	}
}

// TestPrepareQuestionMarks checks JDBC/ODBC-style ? placeholders: numbered
// in order, and left alone inside strings (E” ones included).
func TestPrepareQuestionMarks(t *testing.T) {
	eng := newEngine(t, "")
	sess := eng.NewSession("")
	ctx := context.Background()
	ps, err := sess.Prepare(ctx, `SELECT E'\'?' AS s, ? + 1 AS a, ? AS b`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps.ParamTypes) != 2 {
		t.Fatalf("%d parameters, want 2", len(ps.ParamTypes))
	}
	c := &RowCollector{}
	if err := sess.ExecutePrepared(ctx, ps, []any{int64(41), "x"}, c); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(c.Rows()); got != "[['? 42 x]]" {
		t.Errorf("rows %s", got)
	}
}
