// Command bench runs the 22 TPC-H queries on embedded Quarry and on DuckDB
// over the same Parquet files, checks that both agree, and reports median
// wall times, their ratio and peak memory. It is its own module so that the
// main module stays free of cgo; run it with `make bench SF=1`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/quarrydb/quarry/catalog/sqlerr"
)

type options struct {
	data        string
	queriesDir  string
	catalogDir  string
	threads     int
	runs        int
	timeout     time.Duration
	jsonFile    string
	queries     []int
	memoryLimit int64
	skipDuckDB  bool
	// cluster is the number of `quarry executor` processes to compare
	// embedded Quarry with (0: compare with DuckDB instead).
	cluster         int
	executorThreads int
	quarryBin       string
}

func main() {
	opt, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if err := run(opt); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (*options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	opt := &options{}
	var queries string
	fs.StringVar(&opt.data, "data", "", "folder with the eight TPC-H tables as Parquet (required), e.g. ../bench-data/sf1")
	fs.StringVar(&opt.queriesDir, "queries-dir", "", "folder of q01.sql … q22.sql (default: $QUARRY_SHARED/tpch/queries, then ../shared or ../../shared)")
	fs.StringVar(&opt.catalogDir, "catalog", "", "Quarry catalog folder (default: a temporary one, removed afterwards)")
	fs.IntVar(&opt.threads, "threads", 2, "threads of each engine (Quarry Parallelism and GOMAXPROCS, DuckDB SET threads)")
	fs.IntVar(&opt.runs, "runs", 3, "timed runs per query and engine, after one warm-up; the median is reported")
	fs.DurationVar(&opt.timeout, "timeout", 120*time.Second, "per-run timeout (cancels the query through its context)")
	fs.StringVar(&opt.jsonFile, "json", "", "also write the results as JSON to this file")
	fs.StringVar(&queries, "queries", "1-22", "queries to run, e.g. 1,3,5-7")
	fs.Int64Var(&opt.memoryLimit, "memory-limit", 0, "Quarry per-query memory limit in bytes (0: none)")
	fs.BoolVar(&opt.skipDuckDB, "skip-duckdb", false, "run Quarry only (no times to compare, no agreement check)")
	fs.IntVar(&opt.cluster, "cluster", 0, "compare embedded Quarry with a local cluster of this many `quarry executor` processes\n"+
		"(coordinator in this process; DuckDB is skipped); 0: off")
	fs.IntVar(&opt.executorThreads, "executor-threads", 1, "with --cluster: threads of each executor (its --threads and GOMAXPROCS)")
	fs.StringVar(&opt.quarryBin, "quarry-bin", "", "with --cluster: the quarry binary to run executors with\n"+
		"(default: ../bin/quarry, bin/quarry, or quarry next to this program)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if opt.data == "" {
		return nil, errors.New("--data is required")
	}
	if opt.threads < 1 || opt.runs < 1 || opt.timeout <= 0 {
		return nil, errors.New("--threads and --runs must be at least 1, --timeout positive")
	}
	if opt.cluster < 0 || opt.executorThreads < 1 {
		return nil, errors.New("--cluster must not be negative, --executor-threads must be at least 1")
	}
	var err error
	if opt.queries, err = parseQueryList(queries); err != nil {
		return nil, err
	}
	if opt.queriesDir == "" {
		opt.queriesDir = findQueriesDir()
	}
	return opt, nil
}

// parseQueryList parses "1,3,5-7" into query numbers between 1 and 22.
func parseQueryList(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("--queries %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				return nil, fmt.Errorf("--queries %q: %w", s, err)
			}
		}
		if a < 1 || b > 22 || a > b {
			return nil, fmt.Errorf("--queries %q: queries are 1 to 22", s)
		}
		for q := a; q <= b; q++ {
			if !slices.Contains(out, q) {
				out = append(out, q)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

func findQueriesDir() string {
	var cands []string
	if s := os.Getenv("QUARRY_SHARED"); s != "" {
		cands = append(cands, filepath.Join(s, "tpch", "queries"))
	}
	cands = append(cands, filepath.Join("..", "shared", "tpch", "queries"), filepath.Join("..", "..", "shared", "tpch", "queries"))
	for _, c := range cands {
		if _, err := os.Stat(filepath.Join(c, "q01.sql")); err == nil {
			return c
		}
	}
	return cands[0]
}

// engineResult is one engine's outcome for one query.
type engineResult struct {
	Error        string    `json:"error,omitempty"`
	WarmupMS     float64   `json:"warmup_ms,omitempty"`
	RunsMS       []float64 `json:"runs_ms,omitempty"`
	MedianMS     float64   `json:"median_ms,omitempty"`
	Rows         int       `json:"rows"`
	PeakRSSBytes int64     `json:"peak_rss_bytes,omitempty"`
	rows         [][]value
}

type queryResult struct {
	Query   string        `json:"query"`
	Ordered bool          `json:"ordered"`
	Quarry  engineResult  `json:"quarry"` // embedded Quarry
	DuckDB  *engineResult `json:"duckdb,omitempty"`
	// Cluster is Quarry on the local cluster (--cluster); its peak RSS is
	// the coordinator's (this process's).
	Cluster *engineResult `json:"cluster,omitempty"`
	// Exchanged is what EXPLAIN ANALYZE on the cluster reports as sent
	// between fragments (one extra run, --cluster only).
	Exchanged *exchangeStats `json:"exchanged,omitempty"`
	Ratio     float64        `json:"ratio,omitempty"` // Quarry / DuckDB median, or cluster / embedded with --cluster
	Check     string         `json:"check"`           // pass, FAIL or "-" (not checked)
	Detail    string         `json:"check_detail,omitempty"`
	text      string
}

type report struct {
	Data          string        `json:"data"`
	Threads       int           `json:"threads"`
	Runs          int           `json:"runs"`
	TimeoutS      float64       `json:"timeout_s"`
	GoVersion     string        `json:"go_version"`
	DuckDBVersion string        `json:"duckdb_version,omitempty"`
	Cluster       *clusterInfo  `json:"cluster,omitempty"`
	Started       time.Time     `json:"started"`
	Queries       []queryResult `json:"queries"`
	Geomean       float64       `json:"geomean_ratio,omitempty"`
	GeomeanN      int           `json:"geomean_queries"`
	GeomeanPass   float64       `json:"geomean_ratio_agreeing,omitempty"`
	GeomeanPassN  int           `json:"geomean_queries_agreeing"`
	PeakRSSQuarry int64         `json:"peak_rss_after_quarry_bytes,omitempty"`
	PeakRSS       int64         `json:"peak_rss_bytes,omitempty"`
	PerQueryRSS   bool          `json:"per_query_rss"`
}

// clusterInfo describes the cluster of a --cluster run.
type clusterInfo struct {
	Executors       int    `json:"executors"`
	ExecutorThreads int    `json:"executor_threads"`
	QuarryBin       string `json:"quarry_bin"`
	// ExecutorPeakRSS is each executor's VmHWM at the end of the run.
	ExecutorPeakRSS []int64 `json:"executor_peak_rss_bytes,omitempty"`
	ExchangedBytes  int64   `json:"exchanged_bytes_total"`
}

func run(opt *options) error {
	if err := checkData(opt.data); err != nil {
		return err
	}
	rep := &report{Data: opt.data, Threads: opt.threads, Runs: opt.runs, TimeoutS: opt.timeout.Seconds(),
		GoVersion: runtime.Version(), Started: time.Now()}
	for _, q := range opt.queries {
		name := fmt.Sprintf("q%02d", q)
		text, err := os.ReadFile(filepath.Join(opt.queriesDir, name+".sql"))
		if err != nil {
			return fmt.Errorf("query text (set --queries-dir or QUARRY_SHARED): %w", err)
		}
		rep.Queries = append(rep.Queries, queryResult{Query: fmt.Sprintf("Q%02d", q), Ordered: hasOrderBy(string(text)), text: string(text)})
	}
	// Quarry runs one fragment instance per thread; keep the Go scheduler to
	// as many cores as DuckDB gets (with --cluster: as the embedded engine
	// gets, the coordinator running in this process too).
	runtime.GOMAXPROCS(opt.threads)

	// The cluster starts first so that a failing one fails fast; its
	// executors idle while embedded Quarry runs.
	var lc *localCluster
	if opt.cluster > 0 {
		var err error
		if lc, err = startLocalCluster(opt.quarryBin, opt.cluster, opt.executorThreads); err != nil {
			return err
		}
		// The cluster is stopped below when all went well; stopping it here
		// means an error or a panic came first: show the executors' logs.
		defer lc.Close(true)
		rep.Cluster = &clusterInfo{Executors: opt.cluster, ExecutorThreads: opt.executorThreads, QuarryBin: lc.bin}
	}

	// Embedded Quarry runs first, then DuckDB, so that each per-query peak is
	// that engine's alone (DuckDB keeps its buffers). The cluster instead
	// runs each query right after embedded Quarry does: both are Quarry in
	// this process, and taking turns spreads load from elsewhere on the
	// machine over both.
	catalogDir := opt.catalogDir
	if catalogDir == "" {
		dir, err := os.MkdirTemp("", "quarry-bench-catalog-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		atInterrupt(func() { os.RemoveAll(dir) })
		catalogDir = dir
	}
	name, embeddedDir := "Quarry", catalogDir
	var c *quarry
	if lc != nil {
		// Each engine locks its catalog.
		name, embeddedDir = "Embedded", filepath.Join(catalogDir, "embedded")
		var err error
		if c, err = openQuarry("Cluster", opt.data, filepath.Join(catalogDir, "cluster"), opt.threads, opt.memoryLimit, lc.cl); err != nil {
			return fmt.Errorf("open Quarry on the cluster: %w", err)
		}
		defer func() {
			if c != nil { // not closed below: an error came first
				c.Close()
			}
		}()
	}
	q, err := openQuarry(name, opt.data, embeddedDir, opt.threads, opt.memoryLimit, nil)
	if err != nil {
		return fmt.Errorf("open Quarry: %w", err)
	}
	clusterFailed := false
	for i := range rep.Queries {
		r := &rep.Queries[i]
		r.Quarry, rep.PerQueryRSS = measure(q, r.Query, r.text, opt)
		if c != nil {
			res, _ := measure(c, r.Query, r.text, opt)
			r.Cluster = &res
			r.Exchanged = c.exchanged(r.text, opt.timeout)
			rep.Cluster.ExchangedBytes += r.Exchanged.Bytes
			clusterFailed = clusterFailed || res.Error != "" || r.Exchanged.Error != ""
		}
	}
	if err := q.Close(); err != nil {
		return fmt.Errorf("close Quarry: %w", err)
	}
	if c != nil {
		err := c.Close()
		if c = nil; err != nil {
			return fmt.Errorf("close Quarry on the cluster: %w", err)
		}
		rep.Cluster.ExecutorPeakRSS = lc.Close(clusterFailed)
	}
	rep.PeakRSSQuarry = peakRSSSinceStart(rep)

	if lc == nil && !opt.skipDuckDB {
		d, err := openDuckDB(context.Background(), opt.data, opt.threads)
		if err != nil {
			return fmt.Errorf("open DuckDB: %w", err)
		}
		rep.DuckDBVersion = d.version
		for i := range rep.Queries {
			r := &rep.Queries[i]
			res, _ := measure(d, r.Query, r.text, opt)
			r.DuckDB = &res
		}
		if err := d.Close(); err != nil {
			return fmt.Errorf("close DuckDB: %w", err)
		}
	}
	rep.PeakRSS = peakRSSSinceStart(rep)
	summarize(rep)
	printReport(os.Stdout, rep)
	if opt.jsonFile != "" {
		if err := writeJSON(opt.jsonFile, rep); err != nil {
			return err
		}
	}
	return nil
}

// peakRSSSinceStart is the largest peak seen so far: VmHWM is reset before
// each query when the kernel allows it, so the per-query peaks count too.
func peakRSSSinceStart(rep *report) int64 {
	p := peakRSS()
	for _, r := range rep.Queries {
		p = max(p, r.Quarry.PeakRSSBytes)
		for _, e := range []*engineResult{r.DuckDB, r.Cluster} {
			if e != nil {
				p = max(p, e.PeakRSSBytes)
			}
		}
	}
	return p
}

// measure runs a query once to warm up (its rows are the ones checked), then
// opt.runs times, and reports the median. A failing run ends the query.
func measure(e engine, name, text string, opt *options) (res engineResult, resetOK bool) {
	resetOK = resetPeakRSS()
	defer func() { res.PeakRSSBytes = peakRSS() }()
	fmt.Fprintf(os.Stderr, "%-8s %-4s", e.Name(), name)
	defer fmt.Fprintln(os.Stderr)

	once := func() ([][]any, time.Duration, error) {
		ctx, cancel := context.WithTimeout(context.Background(), opt.timeout)
		defer cancel()
		start := time.Now()
		rows, err := e.Query(ctx, text)
		d := time.Since(start)
		if err != nil && ctx.Err() != nil {
			err = fmt.Errorf("timed out after %v (%w)", opt.timeout, err)
		}
		return rows, d, err
	}
	rows, d, err := once()
	if err != nil {
		res.Error = errorText(err)
		fmt.Fprintf(os.Stderr, " error: %s", res.Error)
		return res, resetOK
	}
	res.WarmupMS = ms(d)
	res.Rows = len(rows)
	res.rows = make([][]value, len(rows))
	for i, row := range rows {
		res.rows[i] = make([]value, len(row))
		for j, x := range row {
			if res.rows[i][j], err = fromGo(x); err != nil {
				res.Error = err.Error()
				return res, resetOK
			}
		}
	}
	fmt.Fprintf(os.Stderr, " warm-up %8.1f ms, runs", res.WarmupMS)
	for i := 0; i < opt.runs; i++ {
		_, d, err := once()
		if err != nil {
			res.Error = fmt.Sprintf("run %d: %s", i+1, errorText(err))
			fmt.Fprintf(os.Stderr, " error: %s", res.Error)
			res.RunsMS = nil
			return res, resetOK
		}
		res.RunsMS = append(res.RunsMS, ms(d))
		fmt.Fprintf(os.Stderr, " %8.1f", ms(d))
	}
	res.MedianMS = median(res.RunsMS)
	fmt.Fprintf(os.Stderr, "  median %8.1f ms", res.MedianMS)
	return res, resetOK
}

// errorText is an error on one line; Quarry's SQL errors keep their SQLSTATE.
func errorText(err error) string {
	var se *sqlerr.Error
	s := err.Error()
	if errors.As(err, &se) && !strings.Contains(s, se.Code) {
		s = se.Code + ": " + s
	}
	return strings.Join(strings.Fields(s), " ")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
