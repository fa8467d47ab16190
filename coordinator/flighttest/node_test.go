package flighttest

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/quarrydb/quarry/coordinator/internal/testenv"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// nodeResult is one command's outcome as the scripts print it.
type nodeResult struct {
	Columns []struct {
		Name   string `json:"name"`
		TypeID int    `json:"typeId"`
	} `json:"columns"`
	Rows  [][]*string `json:"rows"`
	Error string      `json:"error"`
}

func (n nodeResult) result() *result {
	r := &result{}
	for _, c := range n.Columns {
		switch c.TypeID {
		case 3: // Float
			r.kinds = append(r.kinds, testenv.Float)
		case 2, 7: // Int, Decimal
			r.kinds = append(r.kinds, testenv.Exact)
		default:
			r.kinds = append(r.kinds, testenv.Text)
		}
	}
	for _, row := range n.Rows {
		cells := make([]string, len(row))
		for i, v := range row {
			if v != nil {
				cells[i] = *v
			}
		}
		r.rows = append(r.rows, cells)
	}
	return r
}

// runNode runs a script of testdata with the npm clients on NODE_PATH.
func runNode(t *testing.T, modules, script string, args ...string) []nodeResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{filepath.Join("testdata", script)}, args...)...)
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", script, err, stderr.String())
	}
	var res []nodeResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("node %s output: %v\n%s\n%s", script, err, out, stderr.String())
	}
	return res
}

func commands(t *testing.T, cmds ...map[string]any) string {
	t.Helper()
	b, err := json.Marshal(cmds)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestNodeLakehouse drives the door with @lakehouse-rs/flight-sql-client
// (Rust arrow-flight): handshake, queries (which it prepares), listings.
func TestNodeLakehouse(t *testing.T) {
	modules := testenv.NodeModules(t, "@lakehouse-rs/flight-sql-client", "apache-arrow")
	srv := startServer(t, true)
	q1, a1 := tpchQuery(t, 1)
	q3, a3 := tpchQuery(t, 3)
	cmds := []map[string]any{
		{"query": q1},
		{"query": q3},
		{"tables": map[string]any{}},
		{"tables": map[string]any{"tableNameFilterPattern": "line%", "includeSchema": true}},
		{"schemas": map[string]any{}},
	}
	// The client has no parameter binding; its query() prepares, so the
	// prepared path runs 10 times with different values.
	for k := 0; k < 10; k++ {
		cmds = append(cmds, map[string]any{"query": fmt.Sprintf("SELECT n_name FROM nation WHERE n_nationkey = %d", k)})
	}
	host, port, _ := strings.Cut(srv.addr, ":")
	res := runNode(t, modules, "lakehouse.js", host, port, testUser, testPassword, commands(t, cmds...))
	for i, r := range res {
		if r.Error != "" {
			t.Fatalf("command %d: %s", i, r.Error)
		}
	}
	compareAnswer(t, res[0].result(), a1, true)
	compareAnswer(t, res[1].result(), a3, true)
	var tables []string
	for _, row := range res[2].result().rows {
		tables = append(tables, row[1]+"."+row[2])
	}
	if got := strings.Join(tables, " "); got != "tpch.customer tpch.lineitem tpch.nation tpch.orders tpch.part tpch.partsupp tpch.region tpch.supplier" {
		t.Errorf("tables: %s", got)
	}
	if rows := res[3].rows(); len(rows) != 1 || rows[0][2] != "lineitem" || len(res[3].Columns) != 5 {
		t.Errorf("tables like line%%: %v", rows)
	}
	if rows := res[4].rows(); len(rows) != 1 || rows[0][1] != "tpch" {
		t.Errorf("schemas: %v", rows)
	}
	nations := []string{"ALGERIA", "ARGENTINA", "BRAZIL", "CANADA", "EGYPT", "ETHIOPIA", "FRANCE", "GERMANY", "INDIA", "INDONESIA"}
	for k := 0; k < 10; k++ {
		if rows := res[5+k].rows(); len(rows) != 1 || rows[0][0] != nations[k] {
			t.Errorf("nation %d: %v", k, rows)
		}
	}
}

func (n nodeResult) rows() [][]string { return n.result().rows }

// TestNodeLanceDB drives the door with @lancedb/arrow-flight-sql-client
// (TypeScript, grpc-js), which needs the bearer token from the handshake.
func TestNodeLanceDB(t *testing.T) {
	modules := testenv.NodeModules(t, "@lancedb/arrow-flight-sql-client")
	srv := startServer(t, true)
	q1, a1 := tpchQuery(t, 1)
	q3, a3 := tpchQuery(t, 3)
	cmds := []map[string]any{{"query": q1}, {"query": q3}}
	for k := 0; k < 10; k++ {
		cmds = append(cmds, map[string]any{"query": fmt.Sprintf("SELECT r_name FROM region WHERE r_regionkey = %d", k%5)})
	}
	res := runNode(t, modules, "lancedb.js", srv.addr, testUser, testPassword, commands(t, cmds...))
	for i, r := range res {
		if r.Error != "" {
			t.Fatalf("command %d: %s", i, r.Error)
		}
	}
	compareAnswer(t, res[0].result(), a1, true)
	compareAnswer(t, res[1].result(), a3, true)
	regions := []string{"AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"}
	for k := 0; k < 10; k++ {
		if rows := res[2+k].rows(); len(rows) != 1 || rows[0][0] != regions[k%5] {
			t.Errorf("region %d: %v", k%5, rows)
		}
	}
	// A wrong password fails the handshake.
	cmd := exec.Command("node", filepath.Join("testdata", "lancedb.js"), srv.addr, testUser, "wrong", commands(t, map[string]any{"query": "SELECT 1"}))
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("wrong password accepted: %s", out)
	}
}
