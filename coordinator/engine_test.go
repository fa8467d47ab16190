package coordinator

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quarrydb/quarry/catalog/sqlerr"
)

func TestParseSource(t *testing.T) {
	s, err := ParseSource("tpch=/data/x=y")
	if err != nil || s.Name != "tpch" || s.Path != "/data/x=y" {
		t.Errorf("got %+v, %v", s, err)
	}
	for _, bad := range []string{"tpch", "=x", "tpch="} {
		if _, err := ParseSource(bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

func TestSelectAndMemoryTables(t *testing.T) {
	eng := newEngine(t, "")
	sess := eng.NewSession("")
	if got := mustQuery(t, sess, "SELECT 1 AS one"); got != "one\n1\n" {
		t.Errorf("SELECT 1: %q", got)
	}
	got := mustQuery(t, sess, `CREATE TABLE t (a INTEGER, b VARCHAR(20));
		INSERT INTO t VALUES (1, 'x'), (2, NULL), (3, 'z');
		SELECT a, b FROM t ORDER BY a`)
	if want := "a|b\n1|x\n2|\n3|z\n"; got != want {
		t.Errorf("got %q want %q", got, want)
	}
	// INSERT reports its row count.
	var tags []string
	sink := &tagSink{tags: &tags}
	if err := sess.Execute(context.Background(), "INSERT INTO t VALUES (4, 'w'); DROP TABLE t", sink); err != nil {
		t.Fatal(err)
	}
	if strings.Join(tags, ",") != "INSERT 1,DROP TABLE 0" {
		t.Errorf("tags: %v", tags)
	}
	_, err := query(context.Background(), sess, "SELECT * FROM t")
	wantCode(t, err, sqlerr.UndefinedTable)
}

type tagSink struct{ tags *[]string }

func (s *tagSink) Begin(*arrow.Schema) error { return nil }
func (s *tagSink) Batch(arrow.Record) error  { return nil }
func (s *tagSink) End(tag string, rows int64) error {
	*s.tags = append(*s.tags, fmt.Sprintf("%s %d", tag, rows))
	return nil
}

func TestTPCHSampleScan(t *testing.T) {
	eng := newEngine(t, "tpch", SourceSpec{Name: "tpch", Path: abs(t, sampleTPCH)})
	sess := eng.NewSession("")
	if got := mustQuery(t, sess, "SELECT count(*) AS n FROM lineitem"); got != "n\n60175\n" {
		t.Errorf("count(*): %q", got)
	}
	if got := mustQuery(t, sess, "SELECT n_name FROM tpch.nation WHERE n_nationkey = 7"); got != "n_name\nGERMANY\n" {
		t.Errorf("nation 7: %q", got)
	}
	got := mustQuery(t, sess, "EXPLAIN SELECT count(*) FROM lineitem")
	if !strings.HasPrefix(got, "plan\n") || strings.Count(got, "\n") < 2 {
		t.Errorf("EXPLAIN: %q", got)
	}
}

// Each error has its SQLSTATE, and the session keeps working after it.
func TestErrors(t *testing.T) {
	corrupt := t.TempDir()
	if err := os.WriteFile(filepath.Join(corrupt, "broken.parquet"), []byte("this is not a parquet file, not at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	eng := newEngine(t, "tpch",
		SourceSpec{Name: "tpch", Path: abs(t, sampleTPCH)},
		SourceSpec{Name: "bad", Path: corrupt})
	sess := eng.NewSession("")
	cases := []struct {
		name, sql, code string
		pos             bool
	}{
		{"unknown table", "SELECT * FROM no_such_table", sqlerr.UndefinedTable, false},
		{"syntax error", "SELECT FROM WHERE 1", sqlerr.SyntaxError, true},
		{"division by zero", "SELECT 1 / 0", sqlerr.DivisionByZero, false},
		{"division by zero in rows", "SELECT n_nationkey / (n_regionkey - n_regionkey) FROM nation", sqlerr.DivisionByZero, false},
		{"corrupt parquet", "SELECT * FROM bad.broken", sqlerr.DataCorrupted, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := query(context.Background(), sess, c.sql)
			e := wantCode(t, err, c.code)
			if c.pos && e.Pos <= 0 {
				t.Errorf("want a position, got %d (%s)", e.Pos, e.Msg)
			}
			if got := mustQuery(t, sess, "SELECT 2 AS two"); got != "two\n2\n" {
				t.Errorf("after the error: %q", got)
			}
		})
	}
}

// The first failing statement stops the text; earlier ones took effect.
func TestFirstErrorStopsText(t *testing.T) {
	eng := newEngine(t, "")
	sess := eng.NewSession("")
	_, err := query(context.Background(), sess, "CREATE TABLE s (a INTEGER); SELECT * FROM nope; CREATE TABLE s2 (a INTEGER)")
	wantCode(t, err, sqlerr.UndefinedTable)
	mustQuery(t, sess, "SELECT a FROM s")
	_, err = query(context.Background(), sess, "SELECT a FROM s2")
	wantCode(t, err, sqlerr.UndefinedTable)
}

func TestCancelled(t *testing.T) {
	eng := newEngine(t, "tpch", SourceSpec{Name: "tpch", Path: abs(t, sampleTPCH)})
	sess := eng.NewSession("")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := query(ctx, sess, "SELECT count(*) FROM lineitem")
	wantCode(t, err, sqlerr.QueryCanceled)
	mustQuery(t, sess, "SELECT 1")
}

// TestMemoryLimit: a query over its limit fails with 53200 and the
// session keeps working.
func TestMemoryLimit(t *testing.T) {
	eng, err := Open(Config{DataDir: t.TempDir(), MemoryLimit: 1 << 20,
		Sources: []SourceSpec{{Name: "tpch", Path: abs(t, sampleTPCH)}}, DefaultSchema: "tpch"})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	sess := eng.NewSession("tpch")
	_, err = query(t.Context(), sess, "SELECT l_comment FROM lineitem ORDER BY l_comment")
	wantCode(t, err, sqlerr.OutOfMemory)
	mustQuery(t, sess, "SELECT count(*) FROM nation")
}

// TestCancelRunning: cancelling a long query stops it within a second and
// the session keeps working.
func TestCancelRunning(t *testing.T) {
	eng := newEngine(t, "tpch", SourceSpec{Name: "tpch", Path: abs(t, sampleTPCH)})
	sess := eng.NewSession("tpch")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		// A cross join of 60k × 60k rows: minutes of work.
		_, err := query(ctx, sess, "SELECT count(*) FROM lineitem a, lineitem b WHERE a.l_quantity + b.l_quantity > 1000")
		done <- err
	}()
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		wantCode(t, err, sqlerr.QueryCanceled)
		if d := time.Since(start); d > time.Second {
			t.Errorf("query stopped %v after cancel, want < 1s", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("query did not stop within 5s of cancel")
	}
	mustQuery(t, sess, "SELECT 1")
}
