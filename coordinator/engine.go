// Package coordinator owns sessions and the query lifecycle: it parses and
// plans statements, runs their fragments through the executor, and streams
// result batches to a sink (a text formatter, the HTTP API, later pgwire and
// Flight SQL). In embedded mode the one executor is in process.
package coordinator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/coordinator/cluster"
	"github.com/quarrydb/quarry/exec"
	"github.com/quarrydb/quarry/exec/kernels"
	"github.com/quarrydb/quarry/planner"
	"github.com/quarrydb/quarry/planner/physical"
)

// DefaultDataDir is where the catalog lives unless Config.DataDir says
// otherwise.
const DefaultDataDir = "./quarry-data"

// SourceSpec names a folder of Parquet datasets.
type SourceSpec struct {
	Name string
	Path string
}

// Config configures an Engine.
type Config struct {
	// DataDir holds the catalog (DefaultDataDir if empty).
	DataDir string
	// Sources are registered at Open (idempotently).
	Sources []SourceSpec
	// DefaultSchema is the default schema of new sessions that do not name
	// one.
	DefaultSchema string
	// MemoryLimit bounds each query's memory in bytes (0: half of the
	// machine's memory, so that a runaway query fails with 53200 instead of
	// taking the process down; negative: no limit).
	MemoryLimit int64
	// Parallelism is the number of instances per scan fragment (0:
	// GOMAXPROCS).
	Parallelism int
	// Logger receives the engine's logs (slog.Default() if nil).
	Logger *slog.Logger
	// Alloc allocates query memory (memory.DefaultAllocator if nil); tests
	// pass a checked allocator.
	Alloc memory.Allocator
	// Cluster, if set, runs queries on its executors (the root fragment
	// here); otherwise they run in this process (embedded mode).
	Cluster *cluster.Cluster
}

// ParseSource parses NAME=PATH.
func ParseSource(s string) (SourceSpec, error) {
	name, path, ok := strings.Cut(s, "=")
	if !ok || name == "" || path == "" {
		return SourceSpec{}, fmt.Errorf("source %q: want NAME=PATH", s)
	}
	return SourceSpec{Name: name, Path: path}, nil
}

// Engine is an embedded Quarry: a catalog, a planner and the in-process
// executor. It is safe for concurrent use by many sessions.
type Engine struct {
	cfg     Config
	cat     *catalog.Catalog
	log     *slog.Logger
	alloc   memory.Allocator
	planner *planner.Planner
	started time.Time
	running runningSet
	jobs    *jobLog
}

// Open opens the catalog in cfg.DataDir and registers cfg.Sources.
func Open(cfg Config) (*Engine, error) {
	if cfg.DataDir == "" {
		cfg.DataDir = DefaultDataDir
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Alloc == nil {
		cfg.Alloc = memory.DefaultAllocator
	}
	switch {
	case cfg.MemoryLimit == 0:
		cfg.MemoryLimit = defaultMemoryLimit()
	case cfg.MemoryLimit < 0:
		cfg.MemoryLimit = 0
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	cat, err := catalog.Open(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("open catalog in %s: %w", cfg.DataDir, err)
	}
	for _, s := range cfg.Sources {
		if p, err := filepath.Abs(s.Path); err == nil {
			s.Path = p
		}
		if err := cat.AddSource(s.Name, s.Path); err != nil {
			cat.Close()
			return nil, fmt.Errorf("source %s=%s: %w", s.Name, s.Path, err)
		}
		cfg.Logger.Info("source registered", "name", s.Name, "path", s.Path)
	}
	e := &Engine{cfg: cfg, cat: cat, log: cfg.Logger, alloc: cfg.Alloc, started: time.Now()}
	e.jobs = newJobLog(cat, cfg.Logger)
	cat.AddGeneratedTable("sys", "nodes", e.sysNodes)
	cat.AddGeneratedTable("sys", "jobs", e.sysJobs)
	e.planner = &planner.Planner{Catalog: cat, Eval: kernels.EvalConst, Parallelism: cfg.Parallelism}
	if cfg.Cluster != nil {
		e.planner.Instances = cfg.Cluster.Membership().Threads
	}
	return e, nil
}

// Close closes the catalog. Sessions must not be used afterwards.
func (e *Engine) Close() error {
	e.jobs.close()
	return e.cat.Close()
}

// Cluster returns the cluster the engine runs queries on (nil in
// embedded mode).
func (e *Engine) Cluster() *cluster.Cluster { return e.cfg.Cluster }

// Catalog returns the engine's catalog.
func (e *Engine) Catalog() *catalog.Catalog { return e.cat }

// DefaultSchema is the default schema of new sessions.
func (e *Engine) DefaultSchema() string { return e.cfg.DefaultSchema }

// Sources lists the registered sources, sorted by name.
func (e *Engine) Sources() ([]catalog.Source, error) {
	srcs, err := e.cat.Sources()
	sort.Slice(srcs, func(i, j int) bool { return srcs[i].Name < srcs[j].Name })
	return srcs, err
}

// ResultSink receives a statement's outcome. For a statement that returns
// rows Execute calls Begin, Batch for each batch (the sink must not keep rec
// past the call unless it retains it), then End with the command tag and the
// row count; for one that returns no rows only End is called.
type ResultSink interface {
	Begin(schema *arrow.Schema) error
	Batch(rec arrow.Record) error
	End(tag string, rows int64) error
}

// StatementObserver is an optional interface of a ResultSink: Execute tells
// it, before each statement, its index and the number of statements.
type StatementObserver interface {
	StartStatement(index, count int)
}

// Session is one client's state (default schema, SET values). A session runs
// one text at a time; Execute calls are serialised.
type Session struct {
	eng  *Engine
	mu   sync.Mutex
	sess planner.Session
	job  jobFigures // of the statement running
	// named are the SQL-level prepared statements (PREPARE), by name;
	// protoStmts looks up the front door's (SetProtocolStatements).
	named      map[string]*Prepared
	protoStmts func(name string) (*Prepared, bool)
}

// NewSession returns a session whose unqualified names resolve in
// defaultSchema (the engine's default if empty).
func (e *Engine) NewSession(defaultSchema string) *Session {
	if defaultSchema == "" {
		defaultSchema = e.cfg.DefaultSchema
	}
	return &Session{eng: e, sess: planner.Session{DefaultSchema: defaultSchema}}
}

// DefaultSchema is the session's current default schema.
func (s *Session) DefaultSchema() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sess.DefaultSchema
}

// Execute runs each statement of sql in order, streaming results to sink.
// The first failing statement stops the text; its error is returned as a
// *sqlerr.Error. The session stays usable afterwards. Cancelling ctx stops
// the running statement with 57014.
func (s *Session) Execute(ctx context.Context, sql string, sink ResultSink) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	parsed, err := planner.ParseAll(sql)
	if err != nil {
		s.eng.log.Debug("parse failed", "err", err)
		return sqlerr.As(err)
	}
	obs, _ := sink.(StatementObserver)
	for i, p := range parsed {
		if obs != nil {
			obs.StartStatement(i, len(parsed))
		}
		if err := s.executeOne(ctx, p, func() (*planner.Statement, error) {
			return s.eng.planner.Plan(ctx, &s.sess, p)
		}, sink); err != nil {
			return err
		}
	}
	return nil
}

func (s *Session) executeOne(ctx context.Context, p *planner.Parsed, plan func() (*planner.Statement, error), sink ResultSink) (err error) {
	start := time.Now()
	log := s.eng.log
	s.job = jobFigures{}
	defer func() { s.recordJob(p.Text, start, err) }()
	defer func() {
		if r := recover(); r != nil {
			// No panics across package boundaries: turn them into XX000.
			err = sqlerr.New(sqlerr.InternalError, "internal error: %v", r)
			log.Error("statement panicked", "sql", p.Text, "panic", r)
		}
		if err != nil {
			if ctx.Err() != nil {
				err = &sqlerr.Error{Code: sqlerr.QueryCanceled, Msg: "canceling statement due to user request", Err: err}
			}
			e := sqlerr.As(err)
			log.Info("statement failed", "sql", abbreviate(p.Text), "code", e.Code, "err", e.Msg,
				"elapsed", time.Since(start))
			err = e
			return
		}
		log.Debug("statement done", "sql", abbreviate(p.Text), "elapsed", time.Since(start))
	}()
	if err := ctx.Err(); err != nil {
		return err
	}
	stmt, err := plan()
	if err != nil {
		return err
	}
	stmt, done, err := s.runPrepCommand(ctx, stmt, sink)
	if done || err != nil {
		return err
	}
	if stmt.Plan != nil {
		defer stmt.Plan.Release()
	}
	switch stmt.Kind {
	case planner.StmtQuery:
		if err := sink.Begin(stmt.Plan.Schema()); err != nil {
			return err
		}
		res, err := s.run(ctx, stmt.Plan, func(rec arrow.Record) error { return sink.Batch(rec) })
		if err != nil {
			return err
		}
		return sink.End(tagOr(stmt.Tag, "SELECT"), res.rows)
	case planner.StmtExplain:
		var stats map[int]physical.OperatorStats
		if stmt.Analyze {
			res, err := s.run(ctx, stmt.Plan, func(arrow.Record) error { return nil })
			if err != nil {
				return err
			}
			stats = res.stats
		}
		return s.eng.emitText(sink, "plan", planner.Explain(stmt, stats), tagOr(stmt.Tag, "EXPLAIN"))
	case planner.StmtCreateTable:
		if err := s.eng.cat.CreateMemTable(stmt.Table, stmt.TableSchema, stmt.IfNotExists); err != nil {
			return err
		}
		return sink.End(tagOr(stmt.Tag, "CREATE TABLE"), 0)
	case planner.StmtInsert:
		ds, err := s.eng.cat.Lookup(ctx, stmt.Table, s.sess.DefaultSchema)
		if err != nil {
			return err
		}
		if ds.Kind != catalog.MemoryDataset || ds.Memory == nil {
			return sqlerr.New(sqlerr.FeatureNotSupported, "INSERT into %s: only tables created with CREATE TABLE accept rows",
				strings.Join(stmt.Table, "."))
		}
		res, err := s.run(ctx, stmt.Plan, ds.Memory.Append)
		if err != nil {
			return err
		}
		return sink.End(tagOr(stmt.Tag, "INSERT"), res.rows)
	case planner.StmtDelete, planner.StmtUpdate, planner.StmtTruncate, planner.StmtAlterTable:
		return s.replaceRows(ctx, stmt, sink)
	case planner.StmtDropTable:
		if err := s.eng.cat.DropTable(stmt.Table, stmt.IfExists); err != nil {
			return err
		}
		return sink.End(tagOr(stmt.Tag, "DROP TABLE"), 0)
	case planner.StmtRefreshMetadata:
		if _, err := s.eng.cat.Refresh(ctx, stmt.Table, s.sess.DefaultSchema); err != nil {
			return err
		}
		return sink.End(tagOr(stmt.Tag, "ALTER TABLE"), 0)
	case planner.StmtCreateTableAs:
		return s.createTableAs(ctx, stmt, sink)
	case planner.StmtCreateView:
		if err := s.eng.cat.CreateView(*stmt.View, stmt.OrReplace); err != nil {
			return err
		}
		return sink.End(tagOr(stmt.Tag, "CREATE VIEW"), 0)
	case planner.StmtDropView:
		if err := s.eng.cat.DropView(stmt.Table, s.sess.DefaultSchema, stmt.IfExists); err != nil {
			return err
		}
		return sink.End(tagOr(stmt.Tag, "DROP VIEW"), 0)
	case planner.StmtSet, planner.StmtNoop:
		return sink.End(tagOr(stmt.Tag, "SET"), 0)
	}
	return sqlerr.New(sqlerr.InternalError, "unknown statement kind %d", stmt.Kind)
}

// replaceRows runs DELETE, UPDATE and TRUNCATE on a memory table: the
// plan's rows become the table's (planner/dml.go).
func (s *Session) replaceRows(ctx context.Context, stmt *planner.Statement, sink ResultSink) error {
	ds, err := s.eng.cat.Lookup(ctx, stmt.Table, s.sess.DefaultSchema)
	if err != nil {
		return err
	}
	if ds.Kind != catalog.MemoryDataset || ds.Memory == nil || len(ds.Path) == 0 || ds.Path[0] != catalog.MemSource {
		return sqlerr.New(sqlerr.FeatureNotSupported, "%s %s: only tables created with CREATE TABLE can change",
			stmt.Tag, strings.Join(stmt.Table, "."))
	}
	m := ds.Memory
	if stmt.NewName != nil {
		if err := s.eng.cat.RenameMemTable(stmt.Table, stmt.NewName); err != nil {
			return err
		}
		return sink.End(stmt.Tag, 0)
	}
	version := stmt.TableVersion
	if stmt.Kind == planner.StmtTruncate {
		version = m.Version()
	}
	schema := m.Schema()
	if stmt.Kind == planner.StmtAlterTable {
		schema = stmt.TableSchema
	}
	var keep []arrow.Record
	defer func() {
		for _, r := range keep {
			r.Release()
		}
	}()
	changed := int64(0)
	if stmt.Plan != nil {
		width := schema.NumFields()
		_, err := s.run(ctx, stmt.Plan, func(rec arrow.Record) error {
			if stmt.Kind == planner.StmtUpdate {
				// The last column flags the changed rows.
				flags := rec.Column(width).(*array.Boolean)
				for i := 0; i < flags.Len(); i++ {
					if flags.IsValid(i) && flags.Value(i) {
						changed++
					}
				}
				rec = array.NewRecordBatch(schema, rec.Columns()[:width], rec.NumRows())
			} else {
				rec = array.NewRecordBatch(schema, rec.Columns(), rec.NumRows())
			}
			keep = append(keep, rec)
			return nil
		})
		if err != nil {
			return err
		}
	}
	before := m.Rows()
	if stmt.Kind == planner.StmtAlterTable {
		if stmt.Plan == nil {
			keep = nil // the rows stay
		}
		if err := m.Reshape(schema, keep, version); err != nil {
			return err
		}
		return sink.End(stmt.Tag, 0)
	}
	if err := m.Replace(keep, version); err != nil {
		return err
	}
	if stmt.Kind != planner.StmtUpdate {
		changed = before - m.Rows()
	}
	if stmt.Kind == planner.StmtTruncate {
		changed = 0 // PostgreSQL's tag: TRUNCATE TABLE
	}
	return sink.End(stmt.Tag, changed)
}

// execution is a running plan: in this process (exec.Execution) or on
// the cluster (cluster.Run).
type execution interface {
	exec.Stream
	Close() error
	Stats() map[int]physical.OperatorStats
	MemoryPeak() int64
	MemoryUsed() int64
}

// runningSet is the executions in progress (for sys.nodes).
type runningSet struct {
	mu  sync.Mutex
	set map[execution]struct{}
}

func (r *runningSet) add(x execution) {
	r.mu.Lock()
	if r.set == nil {
		r.set = map[execution]struct{}{}
	}
	r.set[x] = struct{}{}
	r.mu.Unlock()
}

func (r *runningSet) remove(x execution) {
	r.mu.Lock()
	delete(r.set, x)
	r.mu.Unlock()
}

func (r *runningSet) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.set)
}

func (r *runningSet) memory() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var n int64
	for x := range r.set {
		n += x.MemoryUsed()
	}
	return n
}

// tracked is an execution listed in its engine's running set until closed.
type tracked struct {
	execution
	set  *runningSet
	once sync.Once
}

func (t *tracked) Close() error {
	t.once.Do(func() { t.set.remove(t.execution) })
	return t.execution.Close()
}

// start runs plan where the engine runs queries.
func (e *Engine) start(ctx context.Context, plan *physical.Plan) (execution, error) {
	opts := exec.Options{Alloc: e.alloc, Parallelism: e.cfg.Parallelism, MemoryLimit: e.cfg.MemoryLimit}
	var x execution
	var err error
	if e.cfg.Cluster != nil {
		x, err = e.cfg.Cluster.Run(ctx, plan, opts)
	} else {
		x, err = exec.Run(ctx, plan, opts)
	}
	if err != nil {
		return nil, err
	}
	e.running.add(x)
	return &tracked{execution: x, set: &e.running}, nil
}

// runResult is what running a plan measured.
type runResult struct {
	rows       int64
	stats      map[int]physical.OperatorStats
	memoryPeak int64
}

// run executes plan, handing each batch to fn (which must retain what it
// keeps), and returns the row count and the operators' statistics. The
// figures also go to the session's job record.
func (s *Session) run(ctx context.Context, plan *physical.Plan, fn func(arrow.Record) error) (runResult, error) {
	start := time.Now()
	res, err := s.eng.run(ctx, plan, fn)
	s.job.add(plan, res, time.Since(start))
	return res, err
}

func (e *Engine) run(ctx context.Context, plan *physical.Plan, fn func(arrow.Record) error) (runResult, error) {
	x, err := e.start(ctx, plan)
	if err != nil {
		return runResult{}, err
	}
	var res runResult
	for {
		rec, err := x.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			x.Close()
			res.memoryPeak = x.MemoryPeak()
			return res, err
		}
		n := rec.NumRows()
		if n > 0 {
			err = fn(rec)
		}
		rec.Release()
		if err != nil {
			x.Close()
			res.memoryPeak = x.MemoryPeak()
			return res, err
		}
		res.rows += n
	}
	res.stats = x.Stats()
	err = x.Close()
	res.memoryPeak = x.MemoryPeak()
	return res, err
}

// emitText sends text as a one-column result, one row per line.
func (e *Engine) emitText(sink ResultSink, column, text, tag string) error {
	schema := arrow.NewSchema([]arrow.Field{{Name: column, Type: arrow.BinaryTypes.String}}, nil)
	if err := sink.Begin(schema); err != nil {
		return err
	}
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if text == "" {
		lines = nil
	}
	b := array.NewStringBuilder(e.alloc)
	defer b.Release()
	b.AppendValues(lines, nil)
	col := b.NewArray()
	defer col.Release()
	rec := array.NewRecord(schema, []arrow.Array{col}, int64(len(lines)))
	defer rec.Release()
	if len(lines) > 0 {
		if err := sink.Batch(rec); err != nil {
			return err
		}
	}
	return sink.End(tag, int64(len(lines)))
}

func tagOr(tag, def string) string {
	if tag == "" {
		return def
	}
	return tag
}

func abbreviate(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// createTableAs writes a query's rows as a new Parquet dataset in a source
// folder, or as a memory table when the name does not reach a source.
func (s *Session) createTableAs(ctx context.Context, stmt *planner.Statement, sink ResultSink) error {
	dir, toSource, err := s.eng.cat.TableLocation(stmt.Table, s.sess.DefaultSchema)
	if err != nil {
		return err
	}
	if toSource {
		x, err := s.eng.start(ctx, stmt.Plan)
		if err != nil {
			return err
		}
		defer x.Close()
		rows, err := exec.WriteParquet(ctx, x, dir)
		s.job.rows = rows
		if err != nil {
			return err
		}
		return sink.End(tagOr(stmt.Tag, "CREATE TABLE AS"), rows)
	}
	if err := s.eng.cat.CreateMemTable(stmt.Table, stmt.Plan.Schema(), false); err != nil {
		return err
	}
	ds, err := s.eng.cat.Lookup(ctx, stmt.Table, s.sess.DefaultSchema)
	if err != nil {
		return err
	}
	res, err := s.run(ctx, stmt.Plan, ds.Memory.Append)
	if err != nil {
		s.eng.cat.DropTable(stmt.Table, true)
		return err
	}
	return sink.End(tagOr(stmt.Tag, "CREATE TABLE AS"), res.rows)
}

// defaultMemoryLimit is half of the machine's memory (MemTotal of
// /proc/meminfo), or 4 GiB where that cannot be read.
func defaultMemoryLimit() int64 {
	const fallback = 4 << 30
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return fallback
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil || kb <= 0 {
				return fallback
			}
			return kb * 1024 / 2
		}
	}
	return fallback
}
