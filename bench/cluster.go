package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/quarrydb/quarry/coordinator/cluster"
)

// registerTimeout bounds how long the executors may take to register.
const registerTimeout = 30 * time.Second

// localCluster is a coordinator's cluster endpoint in this process and its
// executors, `quarry executor` processes on this machine.
type localCluster struct {
	cl     *cluster.Cluster
	bin    string
	stop   context.CancelFunc
	served chan struct{}
	execs  []*executorProc
	logDir string

	once  sync.Once
	peaks []int64
}

// executorProc is one executor process. Its output goes to log.
type executorProc struct {
	addr string
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed once the process exited
	err  error         // how it exited, once done is closed

	kill   sync.Once
	killed atomic.Bool // by us; set before the kill
}

// exited tells whether the process ended, other than by being killed here.
func (p *executorProc) exited() bool {
	select {
	case <-p.done:
		return !p.killed.Load()
	default:
		return false
	}
}

func (p *executorProc) stop() {
	p.kill.Do(func() {
		p.killed.Store(true)
		p.cmd.Process.Kill()
	})
	<-p.done
}

// interrupted is what to do on SIGINT or SIGTERM before exiting: kill
// the executors, remove temporary folders. (On Linux executors also die
// with this process when it cannot clean up: see childAttr.)
var interrupted struct {
	sync.Mutex
	fns     []func()
	handled bool
}

// atInterrupt registers fn to run, last registered first, when SIGINT or
// SIGTERM ends the run; the first call installs the handler.
func atInterrupt(fn func()) {
	interrupted.Lock()
	defer interrupted.Unlock()
	interrupted.fns = append(interrupted.fns, fn)
	if interrupted.handled {
		return
	}
	interrupted.handled = true
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-sigc
		interrupted.Lock()
		fns := interrupted.fns
		interrupted.Unlock()
		for i := len(fns) - 1; i >= 0; i-- {
			fns[i]()
		}
		fmt.Fprintf(os.Stderr, "\nbench: %v\n", sig)
		os.Exit(130)
	}()
}

// spawner starts the executors from one goroutine locked to its thread for
// the life of the process, so that the thread Pdeathsig watches never ends
// before the process does.
var spawner struct {
	once sync.Once
	reqs chan spawnReq
}

type spawnReq struct {
	cmd  *exec.Cmd
	errc chan error
}

func startChild(cmd *exec.Cmd) error {
	spawner.once.Do(func() {
		spawner.reqs = make(chan spawnReq)
		go func() {
			runtime.LockOSThread()
			for r := range spawner.reqs {
				r.errc <- r.cmd.Start()
			}
		}()
	})
	errc := make(chan error, 1)
	spawner.reqs <- spawnReq{cmd, errc}
	return <-errc
}

// startLocalCluster opens a cluster endpoint on a loopback port with a
// random secret, starts n executors of threads threads each (their
// GOMAXPROCS too) with bin, and waits until all of them are active.
func startLocalCluster(bin string, n, threads int) (*localCluster, error) {
	bin, err := findQuarryBin(bin)
	if err != nil {
		return nil, err
	}
	var key [16]byte
	rand.Read(key[:])
	secret := hex.EncodeToString(key[:])
	cl, err := cluster.Listen(cluster.Config{Addr: "127.0.0.1:0", Secret: secret, Logger: warnLogger()})
	if err != nil {
		return nil, err
	}
	ctx, stop := context.WithCancel(context.Background())
	lc := &localCluster{cl: cl, bin: bin, stop: stop, served: make(chan struct{})}
	go func() {
		defer close(lc.served)
		if err := cl.Serve(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "bench: cluster endpoint:", err)
		}
	}()
	if err := lc.start(secret, n, threads); err != nil {
		lc.Close(true)
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "cluster: coordinator at %s, %d executor(s) of %d thread(s) active (%s)\n",
		cl.Addr(), n, threads, bin)
	return lc, nil
}

func (lc *localCluster) start(secret string, n, threads int) error {
	addrs, err := freeAddrs(n)
	if err != nil {
		return err
	}
	if lc.logDir, err = os.MkdirTemp("", "quarry-bench-executors-"); err != nil {
		return err
	}
	atInterrupt(func() { os.RemoveAll(lc.logDir) })
	t := strconv.Itoa(threads)
	for i, addr := range addrs {
		p := &executorProc{addr: addr, log: filepath.Join(lc.logDir, fmt.Sprintf("executor-%d.log", i+1)), done: make(chan struct{})}
		f, err := os.Create(p.log)
		if err != nil {
			return err
		}
		// The secret goes by the environment, out of process listings.
		p.cmd = exec.Command(lc.bin, "executor", "--coordinator", lc.cl.Addr(), "--listen", addr, "--threads", t)
		p.cmd.Env = append(os.Environ(), "GOMAXPROCS="+t, "QUARRY_CLUSTER_SECRET="+secret)
		p.cmd.Stdout, p.cmd.Stderr = f, f
		p.cmd.SysProcAttr = childAttr()
		err = startChild(p.cmd)
		f.Close() // the child has its own descriptor
		if err != nil {
			return fmt.Errorf("start executor %d: %w", i+1, err)
		}
		lc.execs = append(lc.execs, p)
		atInterrupt(p.stop)
		go func() {
			p.err = p.cmd.Wait()
			close(p.done)
		}()
	}
	deadline := time.Now().Add(registerTimeout)
	for {
		if active := lc.active(); active == n {
			return nil
		} else if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d executors registered within %v", active, n, registerTimeout)
		}
		for i, p := range lc.execs {
			if p.exited() {
				return fmt.Errorf("executor %d (%s) exited before registering: %v", i+1, p.addr, p.err)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// active counts the active executors.
func (lc *localCluster) active() int {
	k := 0
	for _, nd := range lc.cl.Membership().Nodes() {
		if nd.State == cluster.StateActive {
			k++
		}
	}
	return k
}

// Close kills the executors and closes the endpoint; it returns each
// executor's peak RSS. With showLogs, or if an executor had exited by
// itself, it prints the executors' logs to stderr and keeps them. Only the
// first call acts.
func (lc *localCluster) Close(showLogs bool) []int64 {
	lc.once.Do(func() {
		for _, p := range lc.execs {
			if p.exited() {
				fmt.Fprintf(os.Stderr, "bench: executor %s exited by itself: %v\n", p.addr, p.err)
				showLogs = true
			}
			if p.cmd.Process != nil {
				lc.peaks = append(lc.peaks, peakRSSOf(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid)))
			}
		}
		for _, p := range lc.execs {
			p.stop()
		}
		lc.stop()
		<-lc.served
		lc.cl.Close()
		if lc.logDir == "" {
			return
		}
		if !showLogs {
			os.RemoveAll(lc.logDir)
			return
		}
		for _, p := range lc.execs {
			b, _ := os.ReadFile(p.log)
			fmt.Fprintf(os.Stderr, "\n== %s (executor %s, %v)\n%s", p.log, p.addr, p.err, tail(b, 60))
		}
		fmt.Fprintf(os.Stderr, "(executor logs kept in %s)\n", lc.logDir)
	})
	return lc.peaks
}

// tail is the last n lines of b.
func tail(b []byte, n int) []byte {
	lines := bytes.SplitAfter(b, []byte("\n"))
	if len(lines) > n+1 {
		lines = append([][]byte{[]byte("…\n")}, lines[len(lines)-n-1:]...)
	}
	return bytes.Join(lines, nil)
}

// freeAddrs returns n distinct free loopback addresses: all are held open
// until the last is chosen.
func freeAddrs(n int) ([]string, error) {
	var out []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		out = append(out, l.Addr().String())
	}
	return out, nil
}

// findQuarryBin returns the quarry binary to run executors with: flagValue,
// else the first of ../bin/quarry (run from bench/), bin/quarry (run from
// the repository root, as make does) and quarry next to this program.
func findQuarryBin(flagValue string) (string, error) {
	cands := []string{flagValue}
	if flagValue == "" {
		cands = []string{filepath.Join("..", "bin", "quarry"), filepath.Join("bin", "quarry")}
		if exe, err := os.Executable(); err == nil {
			cands = append(cands, filepath.Join(filepath.Dir(exe), "quarry"))
		}
	}
	for _, c := range cands {
		if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() {
			return filepath.Abs(c)
		}
	}
	return "", fmt.Errorf("no quarry binary at %s (run `make build` or pass --quarry-bin)", strings.Join(cands, ", "))
}

// exchangeStats is what EXPLAIN ANALYZE reports as sent between fragments.
type exchangeStats struct {
	Rows  int64  `json:"rows"`
	Bytes int64  `json:"bytes"` // from the figure as printed (4 digits)
	Text  string `json:"text"`  // as printed, e.g. 163.5MiB
	Error string `json:"error,omitempty"`
}

var exchangedLine = regexp.MustCompile(`(?m)^Exchanged between fragments: rows=(\d+) bytes=(([0-9.]+)([KMGTPE]i)?B)\s*$`)

// parseExchanged finds the "Exchanged between fragments" line of an
// EXPLAIN ANALYZE plan.
func parseExchanged(plan string) (*exchangeStats, error) {
	m := exchangedLine.FindStringSubmatch(plan)
	if m == nil {
		return nil, errors.New(`EXPLAIN ANALYZE has no "Exchanged between fragments: rows=N bytes=S" line`)
	}
	rows, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return nil, err
	}
	f, err := strconv.ParseFloat(m[3], 64)
	if err != nil {
		return nil, fmt.Errorf("exchanged bytes %q: %w", m[2], err)
	}
	if m[4] != "" {
		f *= float64(int64(1) << (10 * (strings.IndexByte("KMGTPE", m[4][0]) + 1)))
	}
	return &exchangeStats{Rows: rows, Bytes: int64(f + 0.5), Text: m[2]}, nil
}
