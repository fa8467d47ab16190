package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/quarrydb/quarry/coordinator/cluster"
	"github.com/quarrydb/quarry/coordinator/server"
	"github.com/quarrydb/quarry/executor"
	"github.com/quarrydb/quarry/flight/exchange"
)

// secretEnv is where the cluster secret is read from when no flag gives
// it (so it need not show in process listings).
const secretEnv = "QUARRY_CLUSTER_SECRET"

func clusterSecret(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	return os.Getenv(secretEnv)
}

// coordinatorCmd is serve plus the cluster endpoint: queries run on the
// executors that register there.
func coordinatorCmd(args []string) error {
	fs := flag.NewFlagSet("quarry coordinator", flag.ContinueOnError)
	var ef engineFlags
	ef.register(fs)
	var df doorFlags
	df.register(fs)
	clusterAddr := fs.String("cluster-addr", "127.0.0.1:45677", "address executors register at")
	secret := fs.String("cluster-secret", "", "shared secret of the cluster (default $"+secretEnv+")")
	endpoints := fs.String("flight-endpoints", server.EndpointsCoordinator,
		"where Flight SQL clients read results: coordinator, or executors (in parallel, from each executor; clients must follow endpoint locations)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *endpoints != server.EndpointsCoordinator && *endpoints != server.EndpointsExecutors {
		return fmt.Errorf("--flight-endpoints %q: want coordinator or executors", *endpoints)
	}
	log := ef.logger(slog.LevelInfo)
	cl, err := cluster.Listen(cluster.Config{Addr: *clusterAddr, Secret: clusterSecret(*secret), Logger: log})
	if err != nil {
		return err
	}
	defer cl.Close()
	eng, err := ef.openWith(log, cl)
	if err != nil {
		return err
	}
	defer eng.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		if err := cl.Serve(ctx); err != nil {
			log.Error("cluster endpoint failed", "err", err)
			stop()
		}
	}()
	fmt.Printf("Executors join with: quarry executor --coordinator %s --listen HOST:PORT (and the same cluster secret)\n", cl.Addr())
	opts := df.options()
	opts.FlightEndpoints = *endpoints
	return server.Serve(ctx, eng, opts, log)
}

func executorCmd(args []string) error {
	fs := flag.NewFlagSet("quarry executor", flag.ContinueOnError)
	coord := fs.String("coordinator", "127.0.0.1:45677", "the coordinator's cluster address")
	listen := fs.String("listen", "127.0.0.1:45678", "address to serve tasks and exchange streams on")
	advertise := fs.String("advertise", "", "address the coordinator and other executors use to reach this one (default: --listen)")
	secret := fs.String("cluster-secret", "", "shared secret of the cluster (default $"+secretEnv+")")
	threads := fs.Int("threads", 0, "fragment instances per parallel fragment (0: number of cores)")
	var memLimit byteSize
	fs.Var(&memLimit, "memory-limit", "per-query memory limit on this executor, e.g. 4GiB (0: the coordinator's)")
	var local multiFlag
	fs.Var(&local, "local-path", "a path prefix this executor reads locally: splits under it come here first; repeatable")
	compression := exchange.Auto
	fs.Var(&compression, "exchange-compression", "compression of exchange streams: auto (none to this machine, lz4 to others), none, lz4 or zstd")
	verbose := fs.Bool("v", false, "verbose logging")
	pprofAddr := fs.String("pprof-addr", "", "serve Go's profiler (net/http/pprof) on this address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(log)
	servePprof(*pprofAddr, log)
	x, err := executor.New(executor.Config{
		Coordinator: *coord, Listen: *listen, Advertise: *advertise, Secret: clusterSecret(*secret),
		Threads: *threads, MemoryLimit: int64(memLimit), LocalPaths: local, Compression: compression, Logger: log,
	})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Info("executor serving", "addr", x.Addr(), "coordinator", *coord)
	return x.Run(ctx)
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// byteSize is a flag of bytes, with an optional KB/MB/GB (powers of 1000)
// or KiB/MiB/GiB (powers of 1024) suffix.
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(v string) error {
	s := strings.TrimSpace(v)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}} {
		if len(s) > len(u.suffix) && strings.EqualFold(s[len(s)-len(u.suffix):], u.suffix) {
			s, mult = strings.TrimSpace(s[:len(s)-len(u.suffix)]), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 {
		return fmt.Errorf("%q is not a size such as 4GiB", v)
	}
	*b = byteSize(f * float64(mult))
	return nil
}

// servePprof serves net/http/pprof on addr (nothing when empty), for
// profiling a running server.
func servePprof(addr string, log *slog.Logger) {
	if addr == "" {
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	go func() {
		log.Info("profiler listening", "addr", addr)
		if err := http.ListenAndServe(addr, mux); err != nil {
			log.Error("profiler stopped", "err", err)
		}
	}()
}
