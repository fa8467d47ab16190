package clustertest

import (
	"context"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quarrydb/quarry/coordinator"
	qcluster "github.com/quarrydb/quarry/coordinator/cluster"
	"github.com/quarrydb/quarry/coordinator/internal/testenv"
	"github.com/quarrydb/quarry/coordinator/slt"
)

// TestSLTOnExecutorProcesses runs every testdata/slt file on a
// coordinator (in this process, so the harness drives its sessions
// directly) whose queries run on three executor processes.
func TestSLTOnExecutorProcesses(t *testing.T) {
	root := testenv.RepoRoot(t)
	var files []string
	err := filepath.WalkDir(filepath.Join(root, "testdata", "slt"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".slt") {
			files = append(files, path)
		}
		return err
	})
	if err != nil || len(files) == 0 {
		t.Fatalf("no .slt files: %v", err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cl, err := qcluster.Listen(qcluster.Config{Addr: "127.0.0.1:0", Secret: secret, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { defer close(served); cl.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-served
		cl.Close()
	})
	dir := t.TempDir()
	for _, name := range []string{"slt-executor-0", "slt-executor-1", "slt-executor-2"} {
		startProc(t, name, filepath.Join(dir, name+".log"), secret,
			"executor", "--coordinator", cl.Addr(), "--listen", freeAddr(t), "--threads", "1")
	}
	deadline := time.Now().Add(20 * time.Second)
	for cl.Membership().Threads() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d of 3 executors registered", cl.Membership().Threads())
		}
		time.Sleep(20 * time.Millisecond)
	}
	sample := filepath.Join(root, "testdata", "tpch", "sf0.01")
	for _, file := range files {
		rel, _ := filepath.Rel(filepath.Join(root, "testdata", "slt"), file)
		t.Run(rel, func(t *testing.T) {
			eng, err := coordinator.Open(coordinator.Config{DataDir: t.TempDir(), Logger: log, Cluster: cl,
				Sources: []coordinator.SourceSpec{{Name: "tpch", Path: sample}}})
			if err != nil {
				t.Fatal(err)
			}
			defer eng.Close()
			r := &slt.Runner{DB: &coordinator.SLTDB{Session: eng.NewSession("")}, Timeout: time.Minute}
			res, err := r.RunFile(context.Background(), file)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range res.Failures {
				t.Errorf("%s", f)
			}
			if res.Passed == 0 {
				t.Errorf("%s: no record passed", rel)
			}
		})
	}
}
