package catalog

import (
	"fmt"
	"testing"
	"time"
)

func TestJobs(t *testing.T) {
	c, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if jobs, err := c.Jobs(10); err != nil || len(jobs) != 0 {
		t.Fatalf("empty catalog: %v, %v", jobs, err)
	}
	var batch []Job
	for i := range MaxJobs + 5 {
		batch = append(batch, Job{Query: fmt.Sprintf("SELECT %d", i), Started: time.Unix(int64(i), 0).UTC(), State: JobCompleted, Rows: 1})
	}
	if err := c.AppendJobs(batch[:3]); err != nil {
		t.Fatal(err)
	}
	if err := c.AppendJobs(batch[3:]); err != nil {
		t.Fatal(err)
	}
	jobs, err := c.Jobs(MaxJobs * 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != MaxJobs {
		t.Fatalf("kept %d jobs, want %d", len(jobs), MaxJobs)
	}
	newest, oldest := jobs[0], jobs[len(jobs)-1]
	if newest.ID != MaxJobs+5 || newest.Query != fmt.Sprintf("SELECT %d", MaxJobs+4) {
		t.Errorf("newest job %+v", newest)
	}
	if oldest.ID != 6 || oldest.Query != "SELECT 5" {
		t.Errorf("oldest job %+v", oldest)
	}
	if got, _ := c.Jobs(2); len(got) != 2 || got[1].ID != MaxJobs+4 {
		t.Errorf("Jobs(2) = %+v", got)
	}
}
