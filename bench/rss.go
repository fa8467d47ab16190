package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// peakRSS returns the process's peak resident set size (VmHWM) in bytes, or
// 0 where /proc is not there.
func peakRSS() int64 { return peakRSSOf("/proc/self/status") }

// peakRSSOf reads VmHWM from a /proc/PID/status file (0 if it cannot).
func peakRSSOf(statusFile string) int64 {
	f, err := os.Open(statusFile)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// resetPeakRSS hands freed Go memory back to the OS and then resets VmHWM to
// the current RSS (Linux: writing 5 to clear_refs), so the next peakRSS is
// the peak of what runs in between. It reports whether the reset worked;
// where it did not, peaks are the process's since its start.
func resetPeakRSS() bool {
	runtime.GC()
	debug.FreeOSMemory()
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

func formatBytes(n int64) string {
	switch {
	case n <= 0:
		return "-"
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	}
	return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
}
