package pgwire

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// wantPgCode fails unless err is a PostgreSQL error with code.
func wantPgCode(t *testing.T, err error, code string) {
	t.Helper()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != code {
		t.Errorf("want error %s, got %v", code, err)
	}
}

// TestPgxLimitParams sends LIMIT, OFFSET and FETCH FIRST counts as
// parameters: each execution of the (cached) statement uses its values,
// NULL is no limit, negative values fail, and Describe reports int8.
func TestPgxLimitParams(t *testing.T) {
	srv := startServer(t)
	eachMode(t, srv, func(t *testing.T, conn *pgx.Conn) {
		ctx := context.Background()
		const q = "SELECT n_nationkey FROM nation ORDER BY n_nationkey LIMIT $1 OFFSET $2"
		for _, c := range []struct {
			limit, offset any
			want          string
		}{
			{int64(3), int64(0), "[[0] [1] [2]]"},
			{int64(2), int64(5), "[[5] [6]]"},
			{nil, int64(22), "[[22] [23] [24]]"},
			{int32(1), nil, "[[0]]"},
			{0, 0, "[]"},
		} {
			rows, _ := queryText(t, conn, q, c.limit, c.offset)
			if got := fmt.Sprint(rows); got != c.want {
				t.Errorf("LIMIT %v OFFSET %v: got %s, want %s", c.limit, c.offset, got, c.want)
			}
		}
		_, err := conn.Exec(ctx, q, -1, 0)
		wantPgCode(t, err, "2201W")
		_, err = conn.Exec(ctx, q, 1, -1)
		wantPgCode(t, err, "2201X")
		rows, _ := queryText(t, conn, "SELECT n_nationkey FROM nation ORDER BY n_nationkey OFFSET $1 ROWS FETCH FIRST $2 ROWS ONLY", 10, 2)
		if got := fmt.Sprint(rows); got != "[[10] [11]]" {
			t.Errorf("OFFSET/FETCH FIRST parameters: %s", got)
		}
		rows, _ = queryText(t, conn, "SELECT n_regionkey FROM nation ORDER BY n_regionkey DESC FETCH FIRST $1 ROWS WITH TIES", 2)
		if len(rows) != 5 {
			t.Errorf("WITH TIES parameter: %d rows, want 5", len(rows))
		}
	})
	conn := srv.connect(t, "")
	sd, err := conn.Prepare(context.Background(), "lim", "SELECT n_name FROM nation LIMIT $1 OFFSET $2")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(sd.ParamOIDs) != fmt.Sprint([]uint32{oidInt8, oidInt8}) {
		t.Errorf("parameter oids %v, want int8, int8", sd.ParamOIDs)
	}
}

// TestPgxSQLPrepare runs PREPARE, EXECUTE and DEALLOCATE over both
// protocols, and checks they share one name space with the protocol's
// named statements, as in PostgreSQL.
func TestPgxSQLPrepare(t *testing.T) {
	srv := startServer(t)
	eachMode(t, srv, func(t *testing.T, conn *pgx.Conn) {
		ctx := context.Background()
		if _, err := conn.Exec(ctx, "PREPARE nat (int) AS SELECT n_name, n_regionkey FROM nation WHERE n_nationkey = $1"); err != nil {
			t.Fatal(err)
		}
		for arg, want := range map[string]string{"7": "[[GERMANY 3]]", "'6'": "[[FRANCE 3]]", "NULL": "[]"} {
			rows, oids := queryText(t, conn, "EXECUTE nat("+arg+")")
			if got := fmt.Sprint(rows); got != want {
				t.Errorf("EXECUTE nat(%s): %s, want %s", arg, got, want)
			}
			if fmt.Sprint(oids) != fmt.Sprint([]uint32{oidVarchar, oidInt4}) {
				t.Errorf("EXECUTE nat(%s): column oids %v", arg, oids)
			}
		}
		_, err := conn.Exec(ctx, "PREPARE nat AS SELECT 1")
		wantPgCode(t, err, "42P05")
		_, err = conn.Exec(ctx, "EXECUTE nat(1, 2)")
		wantPgCode(t, err, "42601")
		if _, err := conn.Exec(ctx, "DEALLOCATE nat"); err != nil {
			t.Fatal(err)
		}
		_, err = conn.Exec(ctx, "EXECUTE nat(1)")
		wantPgCode(t, err, "26000")
		_, err = conn.Exec(ctx, "DEALLOCATE nat")
		wantPgCode(t, err, "26000")
		if _, err := conn.Exec(ctx, "PREPARE two AS SELECT 2; DEALLOCATE ALL"); err != nil {
			t.Fatal(err)
		}
		_, err = conn.Exec(ctx, "EXECUTE two")
		wantPgCode(t, err, "26000")
	})

	// One name space: a protocol statement runs with EXECUTE and cannot
	// be redefined with PREPARE; a PREPAREd one binds over the protocol.
	conn := srv.connect(t, "")
	ctx := context.Background()
	if _, err := conn.Prepare(ctx, "proto", "SELECT n_name FROM nation WHERE n_nationkey = $1"); err != nil {
		t.Fatal(err)
	}
	rows, _ := queryText(t, conn, "EXECUTE proto(24)")
	if fmt.Sprint(rows) != "[[UNITED STATES]]" {
		t.Errorf("EXECUTE of a protocol statement: %v", rows)
	}
	_, err := conn.Exec(ctx, "PREPARE proto AS SELECT 1")
	wantPgCode(t, err, "42P05")
	if _, err := conn.Exec(ctx, "PREPARE sqlp (bigint) AS SELECT n_name FROM nation WHERE n_nationkey = $1"); err != nil {
		t.Fatal(err)
	}
	res := conn.PgConn().ExecPrepared(ctx, "sqlp", [][]byte{[]byte("5")}, nil, nil).Read()
	if res.Err != nil || len(res.Rows) != 1 || string(res.Rows[0][0]) != "ETHIOPIA" {
		t.Errorf("Bind to a PREPAREd statement: %v %q", res.Err, res.Rows)
	}
	_, err = conn.Prepare(ctx, "sqlp", "SELECT 1")
	wantPgCode(t, err, "42P05")
}
