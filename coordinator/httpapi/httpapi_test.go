package httpapi

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarrydb/quarry/coordinator"
)

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	sample, err := filepath.Abs("../../testdata/tpch/sf0.01")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := coordinator.Open(coordinator.Config{
		DataDir: t.TempDir(), Logger: log,
		Sources: []coordinator.SourceSpec{{Name: "tpch", Path: sample}},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Handler(eng, log))
	t.Cleanup(func() { srv.Close(); eng.Close() })
	return srv
}

func post(t *testing.T, srv *httptest.Server, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(srv.URL+"/api/v1/sql", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("response is not one JSON object: %v\n%s", err, raw)
	}
	return resp.StatusCode, out
}

func TestHealth(t *testing.T) {
	srv := newServer(t)
	resp, err := http.Get(srv.URL + "/api/v1/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != 200 || out["status"] != "ok" {
		t.Errorf("health: %d %v", resp.StatusCode, out)
	}
}

func TestSQL(t *testing.T) {
	srv := newServer(t)
	code, out := post(t, srv, `{"sql": "SELECT n_nationkey, n_name FROM nation WHERE n_nationkey < 2 ORDER BY n_nationkey", "schema": "tpch"}`)
	if code != 200 {
		t.Fatalf("status %d: %v", code, out)
	}
	b, _ := json.Marshal(out)
	want := `{"columns":[{"name":"n_nationkey","type":"INTEGER"},{"name":"n_name","type":"VARCHAR"}],` +
		`"rowCount":2,"rows":[[0,"ALGERIA"],[1,"ARGENTINA"]],"tag":"SELECT"}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}

	// Decimals are strings at their scale; several statements show the last.
	code, out = post(t, srv, `{"sql": "CREATE TABLE m (a INTEGER); INSERT INTO m VALUES (1); SELECT CAST(1.5 AS DECIMAL(10,2)) AS d, a FROM m"}`)
	b, _ = json.Marshal(out)
	if code != 200 || string(b) != `{"columns":[{"name":"d","type":"DECIMAL(10,2)"},{"name":"a","type":"INTEGER"}],"rowCount":1,"rows":[["1.50",1]],"tag":"SELECT"}` {
		t.Errorf("status %d: %s", code, b)
	}
}

func TestSQLErrors(t *testing.T) {
	srv := newServer(t)
	code, out := post(t, srv, `{"sql": "SELECT * FROM no_such_table"}`)
	e, _ := out["error"].(map[string]any)
	if code != 400 || e["code"] != "42P01" || e["message"] == "" {
		t.Errorf("unknown table: %d %v", code, out)
	}
	code, out = post(t, srv, `{"sql": "SELECT FROM WHERE"}`)
	e, _ = out["error"].(map[string]any)
	if code != 400 || e["code"] != "42601" || e["position"] == nil {
		t.Errorf("syntax error: %d %v", code, out)
	}
	// An error while running, before any row was sent, is still a 400.
	code, out = post(t, srv, `{"sql": "SELECT 1 / (n_nationkey - 5) AS x FROM tpch.nation"}`)
	e, _ = out["error"].(map[string]any)
	if code != 400 || e["code"] != "22012" {
		t.Errorf("division by zero: %d %v", code, out)
	}
	code, out = post(t, srv, `not json`)
	if code != 400 || out["error"] == nil {
		t.Errorf("bad body: %d %v", code, out)
	}
}
