package pgwire

import (
	"fmt"
	"github.com/quarrydb/quarry/coordinator/internal/testenv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Real PostgreSQL clients driven as subprocesses (../shared/clients). Each
// skips when its program is missing, and fails under CI, which installs
// them all (.ci/run).

func (s *testServer) psql(t *testing.T, args ...string) (string, error) {
	t.Helper()
	psql := testenv.NeedTool(t, "psql")
	env := []string{"PGHOST=" + s.addr.IP.String(), "PGPORT=" + strconv.Itoa(s.addr.Port), "PGUSER=psql",
		"PGDATABASE=quarry", "PGCONNECT_TIMEOUT=10", "PGAPPNAME=psql", "PSQLRC=/dev/null", "PGTZ=UTC"}
	return runClient(t, 60*time.Second, env, psql, append([]string{"-X", "-v", "ON_ERROR_STOP=1"}, args...)...)
}

func TestPsql(t *testing.T) {
	srv := startServer(t)
	out, err := srv.psql(t, "-c", "SELECT n_nationkey, n_name FROM nation WHERE n_nationkey < 3 ORDER BY 1")
	want := ` n_nationkey |  n_name   
-------------+-----------
           0 | ALGERIA
           1 | ARGENTINA
           2 | BRAZIL
(3 rows)`
	if err != nil || strings.TrimSpace(out) != strings.TrimSpace(want) {
		t.Errorf("aligned output (%v):\n%s\nwant:\n%s", err, out, want)
	}

	out, err = srv.psql(t, "-c", `\x`, "-c", "SELECT n_name, n_regionkey FROM nation WHERE n_nationkey = 7")
	if err != nil || !strings.Contains(out, "-[ RECORD 1 ]--------\nn_name      | GERMANY\nn_regionkey | 3") {
		t.Errorf(`\x output (%v):\n%s`, err, out)
	}

	out, err = srv.psql(t, "-c", `\copy (SELECT r_regionkey, r_name FROM region ORDER BY 1) to stdout with csv header`)
	if err != nil || out != "r_regionkey,r_name\n0,AFRICA\n1,AMERICA\n2,ASIA\n3,EUROPE\n4,MIDDLE EAST\n" {
		t.Errorf(`\copy output (%v):\n%q`, err, out)
	}

	out, err = srv.psql(t, "-c", "SELECT * FROM no_such_table")
	if err == nil || !strings.Contains(out, "ERROR:") || !strings.Contains(out, "no_such_table") {
		t.Errorf("error output (%v):\n%s", err, out)
	}

	// Several statements in one -c, and a multi-line script with a
	// transaction block.
	out, err = srv.psql(t, "-A", "-t", "-c", "SELECT 1; SELECT 2")
	if err != nil || out != "1\n2\n" {
		t.Errorf("multi-statement (%v): %q", err, out)
	}
	script := filepath.Join(t.TempDir(), "s.sql")
	os.WriteFile(script, []byte("BEGIN;\nSELECT count(*) FROM region;\nCOMMIT;\n"), 0o644)
	out, err = srv.psql(t, "-A", "-t", "-f", script)
	if err != nil || out != "BEGIN\n5\nCOMMIT\n" {
		t.Errorf("script (%v): %q", err, out)
	}
}

func TestPsqlTPCHQ1(t *testing.T) {
	shared := testenv.SharedDir(t)
	srv := startServer(t)
	out, err := srv.psql(t, "-A", "-F", "|", "-P", "footer=off", "-f", filepath.Join(shared, "tpch", "queries", "q01.sql"))
	if err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	answer, err := os.ReadFile(filepath.Join(shared, "tpch", "answers", "sf0.01", "q01.csv"))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSpace(out), "\n")
	want := strings.Split(strings.TrimSpace(string(answer)), "\n")
	if len(got) != len(want) || got[0] != want[0] {
		t.Fatalf("got:\n%s\nwant:\n%s", out, answer)
	}
	for i := 1; i < len(want); i++ {
		g, w := strings.Split(got[i], "|"), strings.Split(want[i], "|")
		for j := range w {
			if j >= len(g) || !sameText(g[j], w[j], true) {
				t.Errorf("row %d: got %s, want %s", i, got[i], want[i])
				break
			}
		}
	}
}

// TestPsqlMetaCommands runs psql's catalog meta-commands, which query
// pg_catalog (../shared/clients/pg-client-queries.txt).
func TestPsqlMetaCommands(t *testing.T) {
	srv := startServer(t)
	for _, c := range []struct {
		cmd  string
		want []string
	}{
		{`\dt`, []string{"List of relations", "lineitem"}},
		{`\d lineitem`, []string{"l_orderkey", "bigint"}},
		{`\l`, []string{"List of databases"}},
		{`\dn`, []string{"List of schemas", "tpch"}},
	} {
		out, err := srv.psql(t, "-c", c.cmd)
		if err != nil {
			t.Errorf("%s: %v\n%s", c.cmd, err, out)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", c.cmd, w, out)
			}
		}
	}
}

// checkLines reads PASS/FAIL lines of a client check program.
func checkLines(t *testing.T, out string, prefix string) (checked int) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "PASS "+prefix):
			checked++
		case strings.HasPrefix(line, "FAIL "+prefix):
			checked++
			t.Error(strings.TrimPrefix(line, "FAIL "))
		}
	}
	return checked
}

func TestJDBC(t *testing.T) {
	javac := testenv.NeedTool(t, "javac")
	java := testenv.NeedTool(t, "java")
	jar := testenv.NeedFile(t, "/usr/share/java/postgresql.jar")
	srv := startServer(t)
	dir := t.TempDir()
	src, err := filepath.Abs(filepath.Join("testdata", "PgJdbcCheck.java"))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := runClient(t, 120*time.Second, nil, javac, "-cp", jar, "-d", dir, src); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
	url := fmt.Sprintf("jdbc:postgresql://%s/quarry?user=jdbc&ApplicationName=quarry-test&socketTimeout=60", srv.addr)
	out, err := runClient(t, 120*time.Second, nil, java, "-cp", jar+string(os.PathListSeparator)+dir, "PgJdbcCheck", url)
	if err != nil || !strings.Contains(out, "DONE") {
		t.Fatalf("java: %v\n%s", err, out)
	}
	t.Run("core", func(t *testing.T) {
		if n := checkLines(t, out, "core "); n != 6 {
			t.Errorf("%d core checks ran, want 6:\n%s", n, out)
		}
	})
	// DatabaseMetaData and ResultSetMetaData's table lookups query
	// pg_catalog.
	t.Run("metadata", func(t *testing.T) {
		if n := checkLines(t, out, "metadata "); n != 5 {
			t.Errorf("%d metadata checks ran, want 5:\n%s", n, out)
		}
	})
}

func TestNodePg(t *testing.T) {
	modules := testenv.NodeModules(t, "pg")
	node := testenv.NeedTool(t, "node")
	srv := startServer(t)
	script, err := filepath.Abs(filepath.Join("testdata", "node_pg_check.js"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := runClient(t, 60*time.Second, []string{"NODE_PATH=" + modules}, node, script, srv.addr.IP.String(), strconv.Itoa(srv.addr.Port))
	if err != nil || !strings.Contains(out, "DONE") {
		t.Fatalf("node: %v\n%s", err, out)
	}
	if n := checkLines(t, out, ""); n != 5 {
		t.Errorf("%d checks ran, want 5:\n%s", n, out)
	}
}

func TestISQL(t *testing.T) {
	isql := testenv.NeedTool(t, "isql")
	drivers, _ := filepath.Glob("/usr/lib/*/odbc/psqlodbcw.so")
	if len(drivers) == 0 {
		drivers, _ = filepath.Glob("/usr/lib/odbc/psqlodbcw.so")
	}
	if len(drivers) == 0 {
		testenv.Missing(t, "psqlODBC driver (psqlodbcw.so) not found")
	}
	srv := startServer(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "odbcinst.ini"), []byte("[PostgreSQL Unicode]\nDriver="+drivers[0]+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "odbc.ini"), []byte(fmt.Sprintf(
		"[quarry]\nDriver=PostgreSQL Unicode\nServername=%s\nPort=%d\nDatabase=quarry\nUsername=odbc\nSSLmode=disable\n",
		srv.addr.IP, srv.addr.Port)), 0o644)
	env := []string{"ODBCSYSINI=" + dir, "ODBCINI=" + filepath.Join(dir, "odbc.ini")}
	in := filepath.Join(dir, "in.sql")
	os.WriteFile(in, []byte("SELECT n_name, n_regionkey FROM nation WHERE n_nationkey = 7\n"+
		"SELECT count(*) AS n FROM lineitem WHERE l_returnflag = 'R'\n"), 0o644)
	out, err := runClient(t, 60*time.Second, env, "sh", "-c", isql+" -b -d'|' quarry < "+in)
	if err != nil {
		t.Fatalf("isql: %v\n%s", err, out)
	}
	if !strings.Contains(out, "GERMANY|3") || !strings.Contains(out, "14902") {
		t.Errorf("isql output:\n%s", out)
	}
}

func TestPgbench(t *testing.T) {
	pgbench := testenv.NeedTool(t, "pgbench")
	srv := startServer(t)
	dir := t.TempDir()
	scripts := map[string]string{
		"select1.sql": "SELECT 1;\n",
		"point.sql":   "\\set k random(0, 24)\nSELECT n_name FROM nation WHERE n_nationkey = :k;\n",
	}
	for name, text := range scripts {
		os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644)
	}
	for _, mode := range []string{"simple", "extended", "prepared"} {
		for name := range scripts {
			out, err := runClient(t, 60*time.Second, []string{"PGUSER=bench", "PGCONNECT_TIMEOUT=10"}, pgbench, "-n",
				"-h", srv.addr.IP.String(), "-p", strconv.Itoa(srv.addr.Port), "-M", mode, "-c", "2", "-t", "20",
				"-f", filepath.Join(dir, name), "quarry")
			if err != nil || !strings.Contains(out, "number of transactions actually processed: 40/40") {
				t.Errorf("pgbench -M %s -f %s: %v\n%s", mode, name, err, out)
			}
		}
	}
}
