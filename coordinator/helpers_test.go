package coordinator

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/coordinator/resultfmt"
)

func abs(t testing.TB, path string) string {
	t.Helper()
	p, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// sampleTPCH is the checked-in TPC-H sample at scale 0.01.
const sampleTPCH = "../testdata/tpch/sf0.01"

// newEngine opens an engine on a fresh data dir with the given sources.
func newEngine(t testing.TB, schema string, sources ...SourceSpec) *Engine {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	eng, err := Open(Config{DataDir: t.TempDir(), Sources: sources, DefaultSchema: schema, Logger: log})
	if err != nil {
		t.Fatalf("open engine: %v", err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

// query runs sql on sess and returns its last result set as PSV text
// (header line included).
func query(ctx context.Context, sess *Session, sql string) (string, error) {
	var b strings.Builder
	err := sess.Execute(ctx, sql, &lastResult{w: &b})
	return b.String(), err
}

// lastResult renders only the last statement's result as PSV.
type lastResult struct {
	w    *strings.Builder
	last bool
	psv  resultfmt.Writer
}

func (l *lastResult) StartStatement(i, n int) {
	l.last = i == n-1
	if l.last {
		l.w.Reset()
		l.psv = resultfmt.NewDelimited(l.w, '|', false)
	}
}

func (l *lastResult) Begin(s *arrow.Schema) error {
	if !l.last {
		return nil
	}
	return l.psv.Begin(s)
}

func (l *lastResult) Batch(rec arrow.Record) error {
	if !l.last {
		return nil
	}
	return l.psv.Batch(rec)
}

func (l *lastResult) End(tag string, rows int64) error {
	if !l.last {
		return nil
	}
	return l.psv.End(tag, rows)
}

// mustQuery is query that fails the test on error.
func mustQuery(t *testing.T, sess *Session, sql string) string {
	t.Helper()
	out, err := query(context.Background(), sess, sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

// wantCode fails unless err is a SQL error with code.
func wantCode(t *testing.T, err error, code string) *sqlerr.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("want error %s, got success", code)
	}
	e := sqlerr.As(err)
	if e.Code != code {
		t.Fatalf("want error %s, got %s: %s", code, e.Code, e.Msg)
	}
	return e
}
