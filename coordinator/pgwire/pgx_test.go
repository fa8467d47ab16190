package pgwire

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"github.com/quarrydb/quarry/coordinator/internal/testenv"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"
)

// modes are the pgx execution modes the tests run in: the default
// (extended protocol, cached named statements, binary results) and the
// simple protocol.
var modes = []struct {
	name string
	mode pgx.QueryExecMode
}{
	{"extended", pgx.QueryExecModeCacheStatement},
	{"simple", pgx.QueryExecModeSimpleProtocol},
}

func eachMode(t *testing.T, srv *testServer, f func(t *testing.T, conn *pgx.Conn)) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			cfg, err := pgx.ParseConfig(srv.connString(""))
			if err != nil {
				t.Fatal(err)
			}
			cfg.DefaultQueryExecMode = m.mode
			f(t, srv.connectConfig(t, cfg))
		})
	}
}

// textValue renders a pgx value for comparison with the answers.
func textValue(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(v), 'g', -1, 32)
	case time.Time:
		if v.Hour() == 0 && v.Minute() == 0 && v.Second() == 0 && v.Nanosecond() == 0 {
			return v.Format("2006-01-02")
		}
		return v.Format("2006-01-02 15:04:05.999999")
	case driver.Valuer:
		dv, err := v.Value()
		if err != nil {
			return fmt.Sprintf("!%v", err)
		}
		return textValue(dv)
	}
	return fmt.Sprint(v)
}

// sameNumber compares answer text numerically (exactly, or within a
// relative 1e-6 for doubles).
func sameText(got, want string, float bool) bool {
	if got == want {
		return true
	}
	g, ok1 := new(big.Rat).SetString(got)
	w, ok2 := new(big.Rat).SetString(want)
	if !ok1 || !ok2 {
		return false
	}
	if g.Cmp(w) == 0 {
		return true
	}
	if !float {
		return false
	}
	gf, _ := g.Float64()
	wf, _ := w.Float64()
	return math.Abs(gf-wf) <= 1e-6*math.Max(math.Abs(gf), math.Abs(wf))
}

// queryText runs sql and returns its rows as text plus the column oids.
func queryText(t *testing.T, conn *pgx.Conn, sql string, args ...any) ([][]string, []uint32) {
	t.Helper()
	rows, err := conn.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatalf("%s: values: %v", sql, err)
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			row[i] = textValue(v)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	var oids []uint32
	for _, f := range rows.FieldDescriptions() {
		oids = append(oids, f.DataTypeOID)
	}
	return out, oids
}

func TestPgxQueries(t *testing.T) {
	srv := startServer(t)
	eachMode(t, srv, func(t *testing.T, conn *pgx.Conn) {
		ctx := context.Background()
		var one int64
		if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
			t.Fatalf("SELECT 1: %v %v", one, err)
		}
		rows, oids := queryText(t, conn, `SELECT l_orderkey, l_quantity, l_extendedprice, l_shipdate, l_returnflag,
			l_comment, l_quantity > 10 AS big, CAST(l_discount AS DOUBLE) AS disc, CAST(l_linenumber AS INTEGER) AS ln
			FROM lineitem WHERE l_orderkey = 1 ORDER BY l_linenumber LIMIT 2`)
		want := [][]string{
			{"1", "17.00", "24710.35", "1996-03-13", "N", "to beans x-ray carefull", "true", "0.04", "1"},
			{"1", "36.00", "56688.12", "1996-04-12", "N", " according to the final foxes. qui", "true", "0.09", "2"},
		}
		if fmt.Sprint(rows) != fmt.Sprint(want) {
			t.Errorf("rows:\n got %q\nwant %q", rows, want)
		}
		wantOIDs := []uint32{oidInt8, oidNumeric, oidNumeric, oidDate, oidVarchar, oidVarchar, oidBool, oidFloat8, oidInt4}
		if fmt.Sprint(oids) != fmt.Sprint(wantOIDs) {
			t.Errorf("oids = %v, want %v", oids, wantOIDs)
		}

		// Parameters of several types, inferred from their context.
		var n int64
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM lineitem WHERE l_orderkey = $1", 1).Scan(&n); err != nil || n != 6 {
			t.Errorf("int parameter: %d %v", n, err)
		}
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM lineitem WHERE l_returnflag = $1 AND l_shipdate <= $2",
			"R", time.Date(1994, 1, 1, 0, 0, 0, 0, time.UTC)).Scan(&n); err != nil || n != 8337 {
			t.Errorf("text and date parameters: %d %v", n, err)
		}
		var qty pgtype.Numeric
		qty.Scan("49.50")
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM lineitem WHERE l_quantity > $1", qty).Scan(&n); err != nil || n != 1192 {
			t.Errorf("numeric parameter: %d %v", n, err)
		}
		var s string
		if err := conn.QueryRow(ctx, "SELECT n_name FROM nation WHERE n_nationkey = $1", int32(7)).Scan(&s); err != nil || s != "GERMANY" {
			t.Errorf("int4 parameter: %q %v", s, err)
		}
		// NULL results and parameters.
		var ns *string
		if err := conn.QueryRow(ctx, "SELECT max(n_name) FROM nation WHERE n_nationkey = $1", nil).Scan(&ns); err != nil || ns != nil {
			t.Errorf("NULL parameter: %v %v", ns, err)
		}
		// A statement without rows, then an empty result.
		if _, err := conn.Exec(ctx, "SET application_name = 'pgx test'"); err != nil {
			t.Errorf("SET: %v", err)
		}
		if got := conn.PgConn().ParameterStatus("application_name"); got != "pgx test" {
			t.Errorf("application_name reported as %q", got)
		}
		for name, want := range map[string]string{"server_version": ServerVersion, "client_encoding": "UTF8",
			"DateStyle": "ISO, MDY", "integer_datetimes": "on", "standard_conforming_strings": "on", "TimeZone": "UTC"} {
			if got := conn.PgConn().ParameterStatus(name); got != want {
				t.Errorf("%s = %q, want %q", name, got, want)
			}
		}
		if got, _ := queryText(t, conn, "SELECT n_name FROM nation WHERE n_nationkey < 0"); len(got) != 0 {
			t.Errorf("empty result: %v", got)
		}
	})
}

func TestPgxTPCHQ1(t *testing.T) {
	shared := testenv.SharedDir(t)
	text, err := os.ReadFile(filepath.Join(shared, "tpch", "queries", "q01.sql"))
	if err != nil {
		t.Fatal(err)
	}
	answer, err := os.ReadFile(filepath.Join(shared, "tpch", "answers", "sf0.01", "q01.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(answer)), "\n")
	srv := startServer(t)
	eachMode(t, srv, func(t *testing.T, conn *pgx.Conn) {
		got, oids := queryText(t, conn, string(text))
		if len(got) != len(lines)-1 {
			t.Fatalf("got %d rows, want %d: %v", len(got), len(lines)-1, got)
		}
		for i, line := range lines[1:] {
			want := strings.Split(line, "|")
			for j := range want {
				float := oids[j] == oidFloat8 || oids[j] == oidNumeric && strings.Contains(lines[0], "avg")
				if !sameText(got[i][j], want[j], float) {
					t.Errorf("row %d column %d: got %s, want %s", i+1, j+1, got[i][j], want[j])
				}
			}
		}
	})
}

// TestPgxBinaryTypes sends every supported type as a parameter and reads it
// back, in binary (extended) and text (simple) form.
func TestPgxBinaryTypes(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	setup := srv.connect(t, "")
	for _, sql := range []string{
		`CREATE TABLE mem.types (b BOOLEAN, i INTEGER, bi BIGINT, d DOUBLE, n DECIMAL(12,3), s VARCHAR, dt DATE, ts TIMESTAMP)`,
		`INSERT INTO mem.types VALUES (true, -7, 9000000000, 2.5, -12345.678, 'héllo', CAST('1999-12-31' AS DATE),
			CAST('2000-01-01 12:34:56.789' AS TIMESTAMP)),
			(false, 0, 0, -0.001, 0.001, '', CAST('2024-02-29' AS DATE), CAST('1969-07-20 20:17:00' AS TIMESTAMP)),
			(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
	} {
		if _, err := setup.Exec(ctx, sql, pgx.QueryExecModeSimpleProtocol); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	want := [][]string{
		{"true", "-7", "9000000000", "2.5", "-12345.678", "héllo", "1999-12-31", "2000-01-01 12:34:56.789"},
		{"false", "0", "0", "-0.001", "0.001", "", "2024-02-29", "1969-07-20 20:17:00"},
		{"", "", "", "", "", "", "", ""},
	}
	eachMode(t, srv, func(t *testing.T, conn *pgx.Conn) {
		got, oids := queryText(t, conn, "SELECT * FROM mem.types ORDER BY i NULLS LAST")
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("rows:\n got %q\nwant %q", got, want)
		}
		wantOIDs := []uint32{oidBool, oidInt4, oidInt8, oidFloat8, oidNumeric, oidVarchar, oidDate, oidTimestamp}
		if fmt.Sprint(oids) != fmt.Sprint(wantOIDs) {
			t.Errorf("oids = %v, want %v", oids, wantOIDs)
		}
		// Each value as a parameter finds its row.
		var n pgtype.Numeric
		n.Scan("-12345.678")
		for _, c := range []struct {
			col string
			arg any
		}{
			{"b", true}, {"i", int32(-7)}, {"bi", int64(9000000000)}, {"d", 2.5}, {"n", n}, {"s", "héllo"},
			{"dt", time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC)},
			{"ts", time.Date(2000, 1, 1, 12, 34, 56, 789000000, time.UTC)},
		} {
			var i int32
			err := conn.QueryRow(ctx, "SELECT i FROM mem.types WHERE "+c.col+" = $1", c.arg).Scan(&i)
			if err != nil || i != -7 {
				t.Errorf("WHERE %s = %v: got %d, %v", c.col, c.arg, i, err)
			}
		}
	})
}

func TestPgxErrors(t *testing.T) {
	srv := startServer(t)
	eachMode(t, srv, func(t *testing.T, conn *pgx.Conn) {
		ctx := context.Background()
		for _, c := range []struct {
			sql, code string
			pos       int32
		}{
			{"SELECT * FROM no_such_table", "42P01", 0},
			{"SELECT no_such_column FROM nation", "42703", 0},
			{"SELECT n_name FROM nation WHERE", "42601", 32},
			{"SELECT 1/0", "22012", 0},
		} {
			_, err := conn.Exec(ctx, c.sql)
			var pe *pgconn.PgError
			if !errors.As(err, &pe) {
				t.Errorf("%s: want a PgError, got %v", c.sql, err)
				continue
			}
			if pe.Code != c.code || pe.Severity != "ERROR" || (c.pos > 0 && pe.Position != c.pos) {
				t.Errorf("%s: got %s %s at %d (%s), want %s at %d", c.sql, pe.Severity, pe.Code, pe.Position, pe.Message, c.code, c.pos)
			}
			// The connection stays usable.
			var one int64
			if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
				t.Fatalf("after %s: %v", c.sql, err)
			}
		}
	})
}

func TestTransactionStatus(t *testing.T) {
	srv := startServer(t)
	conn := srv.connect(t, "")
	pc := conn.PgConn()
	ctx := context.Background()
	exec := func(sql string) error {
		_, err := pc.Exec(ctx, sql).ReadAll()
		return err
	}
	steps := []struct {
		sql    string
		fails  bool
		status byte
	}{
		{"SELECT 1", false, 'I'},
		{"BEGIN", false, 'T'},
		{"SELECT 1", false, 'T'},
		{"SELECT * FROM no_such_table", true, 'E'},
		{"SELECT 1", true, 'E'}, // 25P02 until the block ends
		{"ROLLBACK", false, 'I'},
		{"BEGIN; SELECT 1", false, 'T'},
		{"COMMIT", false, 'I'},
	}
	for _, s := range steps {
		err := exec(s.sql)
		if (err != nil) != s.fails {
			t.Fatalf("%s: err = %v", s.sql, err)
		}
		if got := pc.TxStatus(); got != s.status {
			t.Fatalf("after %s: status %c, want %c", s.sql, got, s.status)
		}
	}
	// Several statements in one Query: one result each; an empty query.
	res, err := pc.Exec(ctx, "SELECT 1 AS a; SELECT n_name FROM nation WHERE n_nationkey = 1; ;").ReadAll()
	if err != nil || len(res) != 2 || string(res[1].Rows[0][0]) != "ARGENTINA" || res[0].CommandTag.String() != "SELECT 1" {
		t.Fatalf("multi-statement query: %v %+v", err, res)
	}
	// Error positions count from the start of the query string.
	for sql, want := range map[string]int32{
		"SELECT 1; SELECT nope FROM nation":           18,
		"  SELECT nope FROM nation":                   10,
		"SELECT 1;\n SELECT n_name FROM nation WHERE": 43,
		"SELECT 'é'; SELECT nope FROM nation":         20,
	} {
		_, err := pc.Exec(ctx, sql).ReadAll()
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Position != want {
			t.Errorf("%q: want position %d, got %v (%d)", sql, want, err, pe.Position)
		}
	}
	res, err = pc.Exec(ctx, "  ").ReadAll()
	if err != nil || len(res) != 1 || len(res[0].Rows) != 0 {
		t.Fatalf("empty query: %v %+v", err, res)
	}
}

func TestCancel(t *testing.T) {
	srv := startServer(t)
	const slow = "SELECT count(*) FROM lineitem a, lineitem b WHERE a.l_comment < b.l_comment"
	t.Run("context", func(t *testing.T) {
		conn := srv.connect(t, "")
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := conn.Exec(ctx, slow)
		if err == nil {
			t.Fatal("slow query finished")
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("cancel took %s", time.Since(start))
		}
		// pgx closes the connection after a context cancel; a new one works.
		conn2 := srv.connect(t, "")
		var one int64
		if err := conn2.QueryRow(context.Background(), "SELECT 1").Scan(&one); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("request", func(t *testing.T) {
		conn := srv.connect(t, "")
		go func() {
			time.Sleep(300 * time.Millisecond)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := conn.PgConn().CancelRequest(ctx); err != nil {
				t.Errorf("cancel request: %v", err)
			}
		}()
		_, err := conn.Exec(context.Background(), slow)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "57014" {
			t.Fatalf("want 57014, got %v", err)
		}
		// The same connection goes on.
		var one int64
		if err := conn.QueryRow(context.Background(), "SELECT 1").Scan(&one); err != nil || one != 1 {
			t.Fatalf("after cancel: %v", err)
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		conn := srv.connect(t, "")
		pid := conn.PgConn().PID()
		if srv.srv.keys.cancel(&pgproto3.CancelRequest{ProcessID: pid, SecretKey: []byte{1, 2, 3}}) {
			t.Fatal("cancel with a wrong secret was accepted")
		}
		if srv.srv.keys.cancel(&pgproto3.CancelRequest{ProcessID: pid + 1000, SecretKey: []byte{1, 2, 3, 4}}) {
			t.Fatal("cancel of an unknown backend was accepted")
		}
	})
}

// TestRowDescriptionOrigin: a column copied from a table names the table's
// oid (as pg_class has it) and its attnum; a computed column names none.
func TestRowDescriptionOrigin(t *testing.T) {
	srv := startServer(t)
	conn := srv.connect(t, "")
	ctx := context.Background()
	rr := conn.PgConn().ExecParams(ctx, "SELECT n_name, n_nationkey + 1 AS k FROM nation WHERE n_nationkey = 1", nil, nil, nil, nil)
	fds := append([]pgconn.FieldDescription(nil), rr.FieldDescriptions()...) // pgx reuses them
	if _, err := rr.Close(); err != nil {
		t.Fatal(err)
	}
	var oid int64
	if err := conn.QueryRow(ctx, "SELECT oid FROM pg_class WHERE relname = 'nation'").Scan(&oid); err != nil {
		t.Fatal(err)
	}
	if len(fds) != 2 || fds[0].TableOID != uint32(oid) || fds[0].TableAttributeNumber != 2 {
		t.Errorf("n_name: table oid %d attnum %d, want %d and 2", fds[0].TableOID, fds[0].TableAttributeNumber, oid)
	}
	if fds[1].TableOID != 0 || fds[1].TableAttributeNumber != 0 {
		t.Errorf("computed column: table oid %d attnum %d, want 0", fds[1].TableOID, fds[1].TableAttributeNumber)
	}
}
