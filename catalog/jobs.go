package catalog

import (
	"encoding/binary"
	"encoding/json"
	"time"

	"github.com/quarrydb/quarry/catalog/sqlerr"
	bolt "go.etcd.io/bbolt"
)

// bucketJobs holds big-endian job ID → JSON Job. It is created by the
// first AppendJobs.
var bucketJobs = []byte("jobs")

// MaxJobs is how many job records the catalog keeps; older ones are
// dropped as new ones arrive.
const MaxJobs = 10000

// Job states.
const (
	JobCompleted = "completed"
	JobFailed    = "failed"
	JobCanceled  = "canceled"
)

// Job is the record of one statement the engine ran.
type Job struct {
	ID       uint64        `json:"id"`
	Query    string        `json:"query"`
	User     string        `json:"user,omitempty"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration"`
	State    string        `json:"state"`
	// Code and Error are the SQLSTATE and message of a failed job.
	Code  string `json:"code,omitempty"`
	Error string `json:"error,omitempty"`
	Rows  int64  `json:"rows"`
	// MemoryPeak sums the peaks of every process that ran a part of it.
	MemoryPeak int64 `json:"memory_peak"`
	// Exchanged is the bytes that moved between fragments.
	Exchanged int64 `json:"exchanged"`
	// Profile is the plan with each operator's figures (EXPLAIN ANALYZE).
	Profile string `json:"profile,omitempty"`
}

// AppendJobs stores jobs, giving each the next ID, and drops the oldest
// beyond MaxJobs.
func (c *Catalog) AppendJobs(jobs []Job) error {
	if len(jobs) == 0 {
		return nil
	}
	return c.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketJobs)
		if err != nil {
			return err
		}
		for i := range jobs {
			id, err := b.NextSequence()
			if err != nil {
				return err
			}
			jobs[i].ID = id
			v, err := json.Marshal(&jobs[i])
			if err != nil {
				return err
			}
			if err := b.Put(jobKey(id), v); err != nil {
				return err
			}
		}
		last := b.Sequence()
		if last <= MaxJobs {
			return nil
		}
		// Collect first: deleting under a cursor makes it skip keys.
		var old [][]byte
		cur := b.Cursor()
		for k, _ := cur.First(); k != nil && binary.BigEndian.Uint64(k) <= last-MaxJobs; k, _ = cur.Next() {
			old = append(old, k)
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// Jobs returns up to limit job records, newest first.
func (c *Catalog) Jobs(limit int) ([]Job, error) {
	var out []Job
	err := c.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketJobs)
		if b == nil {
			return nil
		}
		cur := b.Cursor()
		for k, v := cur.Last(); k != nil && len(out) < limit; k, v = cur.Prev() {
			var j Job
			if err := json.Unmarshal(v, &j); err != nil {
				return sqlerr.Wrap(sqlerr.DataCorrupted, err, "job record %d", binary.BigEndian.Uint64(k))
			}
			out = append(out, j)
		}
		return nil
	})
	return out, err
}

func jobKey(id uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, id)
}
