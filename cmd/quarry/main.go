// Command quarry is Quarry's one binary: serve (embedded mode), coordinator
// and executor (cluster mode), sql (shell) and tpch (data generation). It parses flags and calls into coordinator.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/quarrydb/quarry/coordinator"
	"github.com/quarrydb/quarry/coordinator/cluster"
	"github.com/quarrydb/quarry/coordinator/server"
	"github.com/quarrydb/quarry/coordinator/shell"
	"github.com/quarrydb/quarry/coordinator/tpchgen"
)

const usage = `usage: quarry <command> [flags]

commands:
  serve        run the engine in embedded mode with its front doors
  coordinator  run the front doors and plan queries for a cluster of executors
  executor     run fragments for a coordinator
  sql          run SQL from -e / -f, or an interactive shell
  tpch         write the TPC-H tables as Parquet
  user         add or drop a PostgreSQL login user (for serve --auth scram)

Run 'quarry <command> -h' for a command's flags.
`

// defaultGOGC trades memory for less garbage collection: operators reuse
// pooled buffers, and at the runtime's default of 100 the collector still
// took a measurable share of TPC-H Q1 (set GOGC to override).
const defaultGOGC = 200

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGOGC)
	}
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "sql":
		err = sql(os.Args[2:])
	case "tpch":
		err = tpch(os.Args[2:])
	case "user":
		err = user(os.Args[2:])
	case "coordinator":
		err = coordinatorCmd(os.Args[2:])
	case "executor":
		err = executorCmd(os.Args[2:])
	case "-h", "--help", "help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "quarry: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		if !errors.Is(err, errReported) {
			fmt.Fprintln(os.Stderr, "quarry:", err)
		}
		os.Exit(1)
	}
}

// errReported is an error already printed (as SQL errors are).
var errReported = errors.New("reported")

type sourceFlags []coordinator.SourceSpec

func (s *sourceFlags) String() string { return fmt.Sprint(*s) }
func (s *sourceFlags) Set(v string) error {
	spec, err := coordinator.ParseSource(v)
	if err != nil {
		return err
	}
	*s = append(*s, spec)
	return nil
}

// engineFlags are the flags that configure an engine.
type engineFlags struct {
	dataDir     string
	sources     sourceFlags
	schema      string
	memoryLimit byteSize
	parallelism int
	verbose     bool
	pprofAddr   string
}

func (e *engineFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&e.dataDir, "data-dir", coordinator.DefaultDataDir, "folder holding the catalog")
	fs.Var(&e.sources, "source", "register a source `NAME=PATH` (a folder of Parquet files); repeatable")
	fs.StringVar(&e.schema, "schema", "", "default schema for unqualified table names (e.g. a source name)")
	fs.Var(&e.memoryLimit, "memory-limit", "per-query memory limit, e.g. 4GiB (0: half the machine's memory)")
	fs.IntVar(&e.parallelism, "parallelism", 0, "scan instances per fragment (0: number of cores)")
	fs.BoolVar(&e.verbose, "v", false, "verbose logging")
	fs.StringVar(&e.pprofAddr, "pprof-addr", "", "serve Go's profiler (net/http/pprof) on this address, e.g. 127.0.0.1:6060")
}

func (e *engineFlags) logger(logLevel slog.Level) *slog.Logger {
	if e.verbose {
		logLevel = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel}))
	slog.SetDefault(log)
	servePprof(e.pprofAddr, log)
	return log
}

func (e *engineFlags) open(logLevel slog.Level) (*coordinator.Engine, *slog.Logger, error) {
	log := e.logger(logLevel)
	eng, err := e.openWith(log, nil)
	return eng, log, err
}

// openWith opens the engine, running queries on cl's executors if cl is
// not nil.
func (e *engineFlags) openWith(log *slog.Logger, cl *cluster.Cluster) (*coordinator.Engine, error) {
	return coordinator.Open(coordinator.Config{
		DataDir:       e.dataDir,
		Sources:       e.sources,
		DefaultSchema: e.schema,
		MemoryLimit:   int64(e.memoryLimit),
		Parallelism:   e.parallelism,
		Logger:        log,
		Cluster:       cl,
	})
}

// doorFlags are the front doors' flags (serve, coordinator).
type doorFlags struct {
	httpAddr, pgAddr, flightAddr string
	tlsCert, tlsKey, auth        string
}

func (d *doorFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.httpAddr, "http-addr", "127.0.0.1:9047", "HTTP API address")
	fs.StringVar(&d.pgAddr, "pg-addr", "127.0.0.1:15432", "PostgreSQL wire address (empty: off)")
	fs.StringVar(&d.flightAddr, "flight-addr", "127.0.0.1:32010", "Arrow Flight SQL address (empty: off)")
	fs.StringVar(&d.tlsCert, "tls-cert", "", "TLS certificate file (PEM) for the PostgreSQL and Flight SQL doors")
	fs.StringVar(&d.tlsKey, "tls-key", "", "TLS private key file (PEM)")
	fs.StringVar(&d.auth, "auth", "trust", "authentication: trust (no password) or scram (users in the catalog)")
}

func (d *doorFlags) options() server.Options {
	return server.Options{
		HTTPAddr: d.httpAddr, PGAddr: d.pgAddr, FlightAddr: d.flightAddr,
		TLSCertFile: d.tlsCert, TLSKeyFile: d.tlsKey, Auth: d.auth, Banner: os.Stdout,
	}
}

func serve(args []string) error {
	fs := flag.NewFlagSet("quarry serve", flag.ContinueOnError)
	var ef engineFlags
	ef.register(fs)
	var df doorFlags
	df.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	eng, log, err := ef.open(slog.LevelInfo)
	if err != nil {
		return err
	}
	defer eng.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return server.Serve(ctx, eng, df.options(), log)
}

func sql(args []string) error {
	fs := flag.NewFlagSet("quarry sql", flag.ContinueOnError)
	var ef engineFlags
	ef.register(fs)
	expr := fs.String("e", "", "SQL text to run")
	file := fs.String("f", "", "file of SQL statements to run ('-' for stdin)")
	format := fs.String("format", "table", "output format: table, csv, psv, json (JSON lines)")
	timing := fs.Bool("timing", false, "print each statement's elapsed time to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (quote SQL and pass it with -e)", fs.Args())
	}
	eng, _, err := ef.open(slog.LevelWarn)
	if err != nil {
		return err
	}
	defer eng.Close()
	sh, err := shell.New(eng.NewSession(""), shell.Options{Format: *format, Timing: *timing})
	if err != nil {
		return err
	}
	ctx := context.Background()
	switch {
	case *expr != "":
		err = sh.ExecInterruptible(ctx, *expr)
	case *file == "-":
		err = sh.Script(ctx, os.Stdin)
	case *file != "":
		f, ferr := os.Open(*file)
		if ferr != nil {
			return ferr
		}
		defer f.Close()
		err = sh.Script(ctx, f)
	default:
		return sh.Interactive(ctx, os.Stdin)
	}
	if err != nil {
		return errReported
	}
	return nil
}

func tpch(args []string) error {
	fs := flag.NewFlagSet("quarry tpch", flag.ContinueOnError)
	sf := fs.Float64("sf", 1, "scale factor (whole numbers are generated; fractional ones are copied from --reference)")
	out := fs.String("out", "", "output folder (default ./tpch-data/sf<N>)")
	ref := fs.String("reference", "../shared/tpch/data,testdata/tpch",
		"comma-separated folders holding sf<N>/ reference data, for fractional scale factors")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join("tpch-data", tpchgen.DirName(*sf))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return tpchgen.Generate(ctx, tpchgen.Options{
		ScaleFactor: *sf, OutDir: dir, ReferenceDirs: strings.Split(*ref, ","),
	})
}
