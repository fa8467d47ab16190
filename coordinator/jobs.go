package coordinator

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner"
	"github.com/quarrydb/quarry/planner/physical"
)

// jobLog writes job records to the catalog in the background, a batch per
// transaction, so that recording a job costs a statement no disk write.
type jobLog struct {
	cat     *catalog.Catalog
	log     *slog.Logger
	mu      sync.RWMutex // closed and sends on ch
	closed  bool
	ch      chan catalog.Job
	done    chan struct{}
	dropped atomic.Int64

	// queued counts records sent to ch; written those the writer has
	// handled (stored or failed), under wmu, signalled on wrote.
	queued  atomic.Int64
	wmu     sync.Mutex
	written int64
	wrote   *sync.Cond
}

// jobBacklog is how many records may wait for the writer before new ones
// are dropped (counted, and logged).
const jobBacklog = 4096

func newJobLog(cat *catalog.Catalog, log *slog.Logger) *jobLog {
	j := &jobLog{cat: cat, log: log, ch: make(chan catalog.Job, jobBacklog), done: make(chan struct{})}
	j.wrote = sync.NewCond(&j.wmu)
	go j.write()
	return j
}

func (j *jobLog) record(job catalog.Job) {
	j.mu.RLock()
	defer j.mu.RUnlock()
	if j.closed {
		return
	}
	select {
	case j.ch <- job:
		j.queued.Add(1)
	default:
		if j.dropped.Add(1)%1000 == 1 {
			j.log.Warn("job history is behind; dropping records", "dropped", j.dropped.Load())
		}
	}
}

func (j *jobLog) write() {
	defer close(j.done)
	for job := range j.ch {
		// Gather what arrives in the next moment into one transaction: a
		// bbolt transaction costs far more than the records in it.
		batch := []catalog.Job{job}
		linger := time.NewTimer(jobLinger)
	more:
		for len(batch) < jobBatch {
			select {
			case next, ok := <-j.ch:
				if !ok {
					break more
				}
				batch = append(batch, next)
			case <-linger.C:
				break more
			}
		}
		linger.Stop()
		if err := j.cat.AppendJobs(batch); err != nil {
			j.log.Warn("cannot record jobs", "err", err, "jobs", len(batch))
		}
		j.wmu.Lock()
		j.written += int64(len(batch))
		j.wrote.Broadcast()
		j.wmu.Unlock()
	}
}

// jobLinger and jobBatch bound how long and how many records the writer
// gathers into one transaction.
const (
	jobLinger = 100 * time.Millisecond
	jobBatch  = 8192
)

// flush waits (at most a second) until the records queued before the call
// are stored, so that sys.jobs shows the statements just run.
func (j *jobLog) flush() {
	target := j.queued.Load()
	deadline := time.AfterFunc(time.Second, func() {
		j.wmu.Lock()
		j.wrote.Broadcast()
		j.wmu.Unlock()
	})
	defer deadline.Stop()
	start := time.Now()
	j.wmu.Lock()
	defer j.wmu.Unlock()
	for j.written < target && time.Since(start) < time.Second {
		j.wrote.Wait()
	}
}

// close writes what is pending and stops the writer.
func (j *jobLog) close() {
	j.mu.Lock()
	if !j.closed {
		j.closed = true
		close(j.ch)
	}
	j.mu.Unlock()
	<-j.done
}

// jobFigures are what the runs of one statement measured.
type jobFigures struct {
	rows, memoryPeak, exchanged int64
	profile                     string
}

// add adds the figures of a run of plan that took d.
func (f *jobFigures) add(plan *physical.Plan, res runResult, d time.Duration) {
	f.rows += res.rows
	f.memoryPeak = max(f.memoryPeak, res.memoryPeak)
	if res.stats != nil {
		_, f.exchanged = planner.Exchanged(plan, res.stats)
		if d >= profileMin {
			f.profile = planner.Explain(&planner.Statement{Plan: plan}, res.stats)
		}
	}
}

// profileMin is the shortest statement whose profile is kept: rendering
// one costs a point query a good share of its time, and a statement that
// quick has little to show.
var profileMin = 20 * time.Millisecond

// recordJob files the record of the statement text that started at start
// and ended with err.
func (s *Session) recordJob(text string, start time.Time, err error) {
	job := jobRecord(text, s.sess.Settings["user"], start, err)
	job.Rows = s.job.rows
	job.MemoryPeak = s.job.memoryPeak
	job.Exchanged = s.job.exchanged
	job.Profile = s.job.profile
	s.eng.jobs.record(job)
}

// jobRecord is the record of a statement that started at start and ended
// now with err.
func jobRecord(text, user string, start time.Time, err error) catalog.Job {
	job := catalog.Job{
		Query:    text,
		User:     user,
		Started:  start.UTC(),
		Duration: time.Since(start),
		State:    catalog.JobCompleted,
	}
	if err != nil {
		e := sqlerr.As(err)
		job.State, job.Code, job.Error = catalog.JobFailed, e.Code, e.Msg
		if e.Code == sqlerr.QueryCanceled {
			job.State = catalog.JobCanceled
		}
	}
	return job
}

// sysJobsLimit is how many of the newest jobs sys.jobs shows.
const sysJobsLimit = 1000

var sysJobsSchema = arrow.NewSchema([]arrow.Field{
	{Name: "job_id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "query", Type: arrow.BinaryTypes.String},
	{Name: "user_name", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "state", Type: arrow.BinaryTypes.String},
	{Name: "started", Type: &arrow.TimestampType{Unit: arrow.Microsecond}},
	{Name: "duration_ms", Type: arrow.PrimitiveTypes.Float64},
	{Name: "row_count", Type: arrow.PrimitiveTypes.Int64},
	{Name: "memory_peak", Type: arrow.PrimitiveTypes.Int64},
	{Name: "exchanged_bytes", Type: arrow.PrimitiveTypes.Int64},
	{Name: "error_code", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "error", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "profile", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

// sysJobs generates sys.jobs: the newest job records, newest first.
func (e *Engine) sysJobs(context.Context) (*arrow.Schema, []arrow.Record, error) {
	e.jobs.flush()
	jobs, err := e.cat.Jobs(sysJobsLimit)
	if err != nil {
		return nil, nil, err
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, sysJobsSchema)
	defer b.Release()
	str := func(i int, v string) {
		if v == "" {
			b.Field(i).AppendNull()
			return
		}
		b.Field(i).(*array.StringBuilder).Append(v)
	}
	for _, j := range jobs {
		b.Field(0).(*array.Int64Builder).Append(int64(j.ID))
		b.Field(1).(*array.StringBuilder).Append(j.Query)
		str(2, j.User)
		b.Field(3).(*array.StringBuilder).Append(j.State)
		b.Field(4).(*array.TimestampBuilder).Append(arrow.Timestamp(j.Started.UnixMicro()))
		b.Field(5).(*array.Float64Builder).Append(float64(j.Duration.Microseconds()) / 1000)
		b.Field(6).(*array.Int64Builder).Append(j.Rows)
		b.Field(7).(*array.Int64Builder).Append(j.MemoryPeak)
		b.Field(8).(*array.Int64Builder).Append(j.Exchanged)
		str(9, j.Code)
		str(10, j.Error)
		str(11, j.Profile)
	}
	return sysJobsSchema, []arrow.Record{b.NewRecord()}, nil
}
