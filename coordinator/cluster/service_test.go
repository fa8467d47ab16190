package cluster

import (
	"reflect"
	"testing"

	"github.com/quarrydb/quarry/exec"
	"github.com/quarrydb/quarry/planner/physical"
)

// TestSplitQueueLocality checks that an executor declaring a local path
// first gets the splits of files under it, that others take the rest in
// order, and that every split is handed out exactly once.
func TestSplitQueueLocality(t *testing.T) {
	scan := &physical.ParquetScan{Files: []physical.ScanFile{
		{Path: "/a/1.parquet", RowGroups: []int{0, 1}},
		{Path: "/b/2.parquet", RowGroups: []int{0, 1, 2}},
		{Path: "/a/3.parquet", RowGroups: []int{4}},
	}}
	q := newSplitQueue(scan)
	steps := []struct {
		prefixes []string
		n        int
		want     []exec.Split
		done     bool
	}{
		{[]string{"/b/"}, 2, []exec.Split{{File: 1, RowGroup: 0}, {File: 1, RowGroup: 1}}, false},
		{nil, 3, []exec.Split{{File: 0, RowGroup: 0}, {File: 0, RowGroup: 1}, {File: 1, RowGroup: 2}}, false},
		{[]string{"/b/"}, 2, []exec.Split{{File: 2, RowGroup: 4}}, true},
		{nil, 2, nil, true},
	}
	for i, s := range steps {
		got, done := q.take(s.prefixes, s.n)
		if !reflect.DeepEqual(got, s.want) || done != s.done {
			t.Errorf("step %d: take(%v, %d) = %v, %v; want %v, %v", i, s.prefixes, s.n, got, done, s.want, s.done)
		}
	}
}

// TestPlace checks the placement of fragments over executors: parallel
// fragments get each executor's threads, the root the coordinator.
func TestPlace(t *testing.T) {
	plan := &physical.Plan{Fragments: []*physical.Fragment{
		{ID: 0, Consumer: 2},
		{ID: 1, Parallelism: 3, Consumer: 2},
		{ID: 2, Parallelism: 1, Consumer: -1},
	}}
	nodes := []*Node{{ID: "a", Address: "h:1", Threads: 2}, {ID: "b", Address: "h:2", Threads: 1}}
	pl, addrs := place(plan, nodes)
	want := exec.Placement{0: {"a", "a", "b"}, 1: {"a", "b", "a"}, 2: {CoordinatorNode}}
	if !reflect.DeepEqual(pl, want) {
		t.Errorf("placement %v, want %v", pl, want)
	}
	if addrs["a"] != "h:1" || addrs["b"] != "h:2" {
		t.Errorf("addresses %v", addrs)
	}
}
