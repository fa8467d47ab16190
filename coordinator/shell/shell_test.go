package shell

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/quarrydb/quarry/coordinator"
)

func TestComplete(t *testing.T) {
	cases := map[string]bool{
		"SELECT 1;":                       true,
		"SELECT 1; -- done":               true,
		"SELECT 1":                        false,
		"SELECT ';'":                      false,
		"SELECT 'a;":                      false,
		"SELECT 'it''s';":                 true,
		"SELECT 1 /* ; */":                false,
		"SELECT 1 /* unterminated ;":      false,
		"SELECT \"x;\" FROM t;":           true,
		"SELECT 1 -- comment;":            false,
		"SELECT 1;\nSELECT 2;   \n\t":     true,
		"/* c */ SELECT 1 /* c */ ; /**/": true,
	}
	for text, want := range cases {
		if got := Complete(text); got != want {
			t.Errorf("Complete(%q) = %v, want %v", text, got, want)
		}
	}
}

func TestScript(t *testing.T) {
	eng, err := coordinator.Open(coordinator.Config{DataDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	var out, errs strings.Builder
	sh, err := New(eng.NewSession(""), Options{Format: "psv", Out: &out, Err: &errs})
	if err != nil {
		t.Fatal(err)
	}
	script := "SELECT 1 AS a;\nSELECT * FROM nope;\nSELECT\n  2 AS b; -- trailing\n\\q\nSELECT 3;\n"
	err = sh.Script(context.Background(), strings.NewReader(script))
	if err == nil {
		t.Error("want the script's first error")
	}
	if got := out.String(); got != "a\n1\nb\n2\n" {
		t.Errorf("stdout %q", got)
	}
	if got := errs.String(); !strings.HasPrefix(got, "ERROR 42P01: ") {
		t.Errorf("stderr %q", got)
	}
}

// TestPreparedStatements checks that PREPARE, EXECUTE and DEALLOCATE keep
// their statements across the shell's inputs (one session).
func TestPreparedStatements(t *testing.T) {
	eng, err := coordinator.Open(coordinator.Config{DataDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	var out, errs strings.Builder
	sh, err := New(eng.NewSession(""), Options{Format: "psv", Out: &out, Err: &errs})
	if err != nil {
		t.Fatal(err)
	}
	script := "PREPARE sq (int) AS SELECT $1 * $1 AS sq;\nEXECUTE sq(3);\nEXECUTE sq(4);\nDEALLOCATE sq;\nEXECUTE sq(5);\n"
	if err := sh.Script(context.Background(), strings.NewReader(script)); err == nil {
		t.Error("EXECUTE after DEALLOCATE ran")
	}
	if got := out.String(); !strings.Contains(got, "sq\n9\n") || !strings.Contains(got, "sq\n16\n") {
		t.Errorf("stdout %q", got)
	}
	if got := errs.String(); !strings.HasPrefix(got, "ERROR 26000: ") {
		t.Errorf("stderr %q", got)
	}
}
