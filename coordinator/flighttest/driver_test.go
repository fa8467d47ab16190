package flighttest

import (
	"database/sql"
	"fmt"
	"github.com/quarrydb/quarry/coordinator/internal/testenv"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	_ "github.com/apache/arrow-go/v18/arrow/flight/flightsql/driver"
)

// TestDatabaseSQLDriver drives the door with arrow-go's database/sql
// driver, user and password sent as Basic auth on every call.
func TestDatabaseSQLDriver(t *testing.T) {
	srv := startServer(t, true)
	ctx := testCtx(t)
	db, err := sql.Open("flightsql", fmt.Sprintf("flightsql://%s:%s@%s", testUser, testPassword, srv.addr))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	q1, answer := tpchQuery(t, 1)
	rows, err := db.QueryContext(ctx, q1)
	if err != nil {
		t.Fatal(err)
	}
	compareAnswer(t, scanRows(t, rows), answer, true)

	// A prepared statement with a parameter, run 10 times.
	stmt, err := db.PrepareContext(ctx, "SELECT count(*) FROM orders WHERE o_custkey = $1")
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	for k := 1; k <= 10; k++ {
		var got, want int64
		if err := stmt.QueryRowContext(ctx, int64(k)).Scan(&got); err != nil {
			t.Fatalf("custkey %d: %v", k, err)
		}
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM orders WHERE o_custkey = "+strconv.Itoa(k)).Scan(&want); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("custkey %d: %d orders, want %d", k, got, want)
		}
	}
	// Exec runs DDL.
	if _, err := db.ExecContext(ctx, "CREATE VIEW v AS SELECT r_name FROM region"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM v").Scan(&n); err != nil || n != 5 {
		t.Fatalf("view: %d, %v", n, err)
	}
	// Wrong credentials fail.
	bad, err := sql.Open("flightsql", fmt.Sprintf("flightsql://%s:wrong@%s", testUser, srv.addr))
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if err := bad.QueryRowContext(ctx, "SELECT 1").Scan(&n); err == nil {
		t.Fatal("wrong password accepted")
	}
}

// scanRows reads rows as text cells the way compareAnswer wants them.
func scanRows(t testing.TB, rows *sql.Rows) *result {
	t.Helper()
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	r := &result{kinds: make([]testenv.Kind, len(cols))} // Text unless a number shows
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			switch v := v.(type) {
			case nil:
			case float64: // the driver reads decimals as doubles too
				row[i] = strconv.FormatFloat(v, 'g', -1, 64)
				r.kinds[i] = testenv.Float
			case int64, int32:
				row[i] = fmt.Sprint(v)
				r.kinds[i] = testenv.Exact
			case []byte:
				row[i] = string(v)
			case arrow.Date32:
				row[i] = v.FormattedString()
			default:
				row[i] = fmt.Sprint(v)
			}
		}
		r.rows = append(r.rows, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return r
}
