// Package testenv gives tests what lies outside the repository: the shared
// folder (TPC-H queries and answers, the SQLite corpus, client captures)
// and the real client programs. A test whose prerequisite is missing is
// skipped, except under CI (which installs everything: see .ci/run), where
// it fails. It also compares result sets with the TPC-H answers.
package testenv

import (
	"fmt"
	"math"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

// Missing skips t, or fails it under CI, for a prerequisite not found.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf(format+" (CI installs it: see .ci/run)", args...)
	}
	t.Skipf(format, args...)
}

// RepoRoot is the repository's root: the nearest folder above the working
// directory holding this module's go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(mod), "module github.com/quarrydb/quarry\n") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("repository root (go.mod of github.com/quarrydb/quarry) not found above the working directory")
		}
		dir = parent
	}
}

// SharedDir is the project's shared folder: $QUARRY_SHARED, else shared/
// beside the repository.
func SharedDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("QUARRY_SHARED")
	if dir == "" {
		dir = filepath.Join(RepoRoot(t), "..", "shared")
	}
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("shared folder %s not found (CI runs with shared/ beside the repository): %v", dir, err)
		}
		t.Skipf("shared folder %s not found; set QUARRY_SHARED", dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// NeedTool returns the path of a client program.
func NeedTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, "%s not installed", name)
	}
	return p
}

// NeedFile returns path, a file a test needs (a driver, a jar).
func NeedFile(t testing.TB, path string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		Missing(t, "%s not found", path)
	}
	return path
}

// NodeModules returns the folder of the npm clients .ci/run installs
// (.ci/node/node_modules), checking that node and pkgs are there.
func NodeModules(t testing.TB, pkgs ...string) string {
	t.Helper()
	NeedTool(t, "node")
	dir := filepath.Join(RepoRoot(t), ".ci", "node", "node_modules")
	for _, p := range pkgs {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			Missing(t, "npm package %s not installed in %s: %v", p, dir, err)
		}
	}
	return dir
}

// Kind is how a column's values compare with the answers.
type Kind int

const (
	Text  Kind = iota // exactly
	Exact             // as exact numbers (integers, decimals)
	Float             // as doubles, within a relative 1e-6
)

// KindOf is the comparison kind of a column of type t.
func KindOf(t arrow.DataType) Kind {
	switch t.ID() {
	case arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64:
		return Float
	case arrow.DECIMAL128, arrow.DECIMAL256, arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
		return Exact
	}
	return Text
}

// CompareAnswer compares rows of text cells (empty = NULL) with a
// reference answer (pipe-separated, a header line) and returns what
// differs, or "". names label the columns in messages (nil: numbers).
// Without ordered, rows are compared as multisets.
func CompareAnswer(got [][]string, kinds []Kind, names []string, answer string, ordered bool) string {
	// Every line after the header is a row, even an empty one: that is a
	// single NULL column (Q17 at scale 0.01).
	lines := strings.Split(strings.TrimSuffix(answer, "\n"), "\n")
	want := [][]string{}
	for _, l := range lines[1:] {
		want = append(want, strings.Split(l, "|"))
	}
	got = append([][]string(nil), got...)
	if len(got) != len(want) {
		return fmt.Sprintf("got %d rows, want %d\ngot:  %v\nwant: %v", len(got), len(want), head(got), head(want))
	}
	if !ordered {
		sortRows(got)
		sortRows(want)
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			return fmt.Sprintf("row %d: got %d columns, want %d", i+1, len(got[i]), len(want[i]))
		}
		for j := range want[i] {
			if !SameValue(kinds[j], got[i][j], want[i][j]) {
				col := strconv.Itoa(j + 1)
				if j < len(names) {
					col = names[j]
				}
				return fmt.Sprintf("row %d column %s: got %q, want %q\ngot row:  %v\nwant row: %v",
					i+1, col, got[i][j], want[i][j], got[i], want[i])
			}
		}
	}
	return ""
}

// SameValue reports whether two cells of kind k are equal.
func SameValue(k Kind, got, want string) bool {
	if got == want {
		return true
	}
	if got == "" || want == "" {
		return false
	}
	switch k {
	case Float:
		g, err1 := strconv.ParseFloat(got, 64)
		w, err2 := strconv.ParseFloat(want, 64)
		return err1 == nil && err2 == nil && math.Abs(g-w) <= 1e-6*math.Max(math.Abs(g), math.Abs(w))
	case Exact:
		g, ok1 := new(big.Rat).SetString(got)
		w, ok2 := new(big.Rat).SetString(want)
		return ok1 && ok2 && g.Cmp(w) == 0
	}
	return false
}

func head(rows [][]string) [][]string {
	if len(rows) > 5 {
		return rows[:5]
	}
	return rows
}

func sortRows(rows [][]string) {
	sort.Slice(rows, func(a, b int) bool { return strings.Join(rows[a], "|") < strings.Join(rows[b], "|") })
}
