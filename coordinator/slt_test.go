package coordinator

import (
	"bufio"
	"context"
	"fmt"
	"github.com/quarrydb/quarry/coordinator/internal/testenv"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quarrydb/quarry/coordinator/slt"
)

const sltDir = "../testdata/slt"

// TestSLT runs every testdata/slt/**/*.slt file on a fresh engine (source
// tpch = the scale 0.01 sample, no default schema); every record must pass.
func TestSLT(t *testing.T) {
	runSLT(t, func(t *testing.T) *Engine {
		return newEngine(t, "", SourceSpec{Name: "tpch", Path: abs(t, sampleTPCH)})
	})
}

// TestSLTCluster runs the same files on a coordinator with three
// executors (in this process, talking gRPC and Flight over loopback); the
// results must be the same as embedded.
func TestSLTCluster(t *testing.T) {
	cl := startCluster(t, 3, 1)
	runSLT(t, func(t *testing.T) *Engine {
		return newClusterEngine(t, cl, "", SourceSpec{Name: "tpch", Path: abs(t, sampleTPCH)})
	})
}

func runSLT(t *testing.T, newEng func(t *testing.T) *Engine) {
	var files []string
	err := filepath.WalkDir(sltDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".slt") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no .slt files under " + sltDir)
	}
	for _, file := range files {
		rel, _ := filepath.Rel(sltDir, file)
		t.Run(rel, func(t *testing.T) {
			eng := newEng(t)
			r := &slt.Runner{DB: &SLTDB{Session: eng.NewSession("")}, Timeout: time.Minute}
			res, err := r.RunFile(context.Background(), file)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range res.Failures {
				t.Errorf("%s", f)
			}
			t.Logf("%s: %d passed, %d failed, %d skipped", rel, res.Passed, res.Failed, res.Skipped)
		})
	}
}

// sqliteCorpus are the files of SQLite's sqllogictest corpus run by
// TestSQLiteCorpus, relative to shared/slt/sqlite/test.
var sqliteCorpus = []string{
	"select1.test", "select2.test", "select3.test", "select4.test", "select5.test",
	"evidence/in1.test", "evidence/in2.test", "evidence/slt_lang_aggfunc.test",
	"random/aggregates/slt_good_0.test", "random/expr/slt_good_0.test",
	"random/groupby/slt_good_0.test", "random/select/slt_good_0.test",
}

// sqliteBaseline holds, per corpus file, the minimum number of records that
// must pass; raise it as the engine improves.
const sqliteBaseline = "../testdata/slt/sqlite-baseline.txt"

// TestSQLiteCorpus runs SQLite's sqllogictest files, each record passing or
// failing on its own, and fails only when a file passes fewer records than
// its baseline. Set QUARRY_SLT_FAILURES=N to log the first N failures of
// each file. Records are guarded by skipif/onlyif as database "mysql", as
// shared/slt/README.md asks (the files carry MySQL variants using DIV and
// CAST(… AS SIGNED)); QUARRY_SLT_DATABASE overrides it.
func TestSQLiteCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("corpus skipped in -short mode")
	}
	root := filepath.Join(testenv.SharedDir(t), "slt", "sqlite", "test")
	baseline, err := readBaseline(sqliteBaseline)
	if err != nil {
		t.Fatal(err)
	}
	showFailures, _ := strconv.Atoi(os.Getenv("QUARRY_SLT_FAILURES"))
	var summary []string
	totalPass, totalRecs := 0, 0
	for _, name := range sqliteCorpus {
		t.Run(name, func(t *testing.T) {
			eng := newEngine(t, "")
			db := os.Getenv("QUARRY_SLT_DATABASE")
			if db == "" {
				db = "mysql"
			}
			r := &slt.Runner{DB: &SLTDB{Session: eng.NewSession("")}, Timeout: 20 * time.Second, Database: db}
			start := time.Now()
			res, err := r.RunFile(context.Background(), filepath.Join(root, name))
			if err != nil {
				t.Fatal(err)
			}
			ran := res.Passed + res.Failed
			totalPass += res.Passed
			totalRecs += ran
			line := fmt.Sprintf("%-34s %6d/%-6d passed (%d skipped) in %s", name, res.Passed, ran, res.Skipped,
				time.Since(start).Round(time.Millisecond))
			if res.Aborted != "" {
				line += " ABORTED: " + res.Aborted
			}
			summary = append(summary, line)
			t.Log(line)
			for i, f := range res.Failures {
				if i >= showFailures {
					break
				}
				t.Logf("%s", f)
			}
			if min := baseline[name]; res.Passed < min {
				t.Errorf("%s: %d records passed, below the baseline of %d in %s", name, res.Passed, min, sqliteBaseline)
			}
		})
	}
	t.Logf("SQLite corpus summary: %d/%d records passed\n%s", totalPass, totalRecs, strings.Join(summary, "\n"))
}

// readBaseline reads "file minimum" lines; # starts a comment.
func readBaseline(path string) (map[string]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]int{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 {
			return nil, fmt.Errorf("%s:%d: want \"file minimum\"", path, n)
		}
		v, err := strconv.Atoi(fields[1])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, n, err)
		}
		out[fields[0]] = v
	}
	return out, sc.Err()
}
