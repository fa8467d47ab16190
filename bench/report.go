package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
)

// side is one of the two engines a report compares.
type side struct {
	name string
	get  func(*queryResult) *engineResult // nil if the engine did not run
}

// sides are the engine measured and the one it is compared with (ratio =
// measured / reference; the measured one's rows are checked against the
// reference's): Quarry and DuckDB, or with --cluster the cluster and
// embedded Quarry.
func (rep *report) sides() (measured, reference side) {
	embedded := func(r *queryResult) *engineResult { return &r.Quarry }
	if rep.Cluster != nil {
		return side{"Cluster", func(r *queryResult) *engineResult { return r.Cluster }}, side{"Embedded", embedded}
	}
	return side{"Quarry", embedded}, side{"DuckDB", func(r *queryResult) *engineResult { return r.DuckDB }}
}

// summarize fills in each query's ratio and agreement check and the geometric
// means. Queries that failed on either engine have no ratio and are left out
// of the means.
func summarize(rep *report) {
	measured, reference := rep.sides()
	var logSum, logSumPass float64
	for i := range rep.Queries {
		r := &rep.Queries[i]
		r.Check = "-"
		a, b := measured.get(r), reference.get(r)
		if a == nil || b == nil || a.Error != "" || b.Error != "" {
			continue
		}
		if msg := compareResults(a.rows, b.rows, r.Ordered); msg == "" {
			r.Check = "pass"
		} else {
			r.Check, r.Detail = "FAIL", msg
		}
		if a.MedianMS > 0 && b.MedianMS > 0 {
			r.Ratio = a.MedianMS / b.MedianMS
			logSum += math.Log(r.Ratio)
			rep.GeomeanN++
			if r.Check == "pass" {
				logSumPass += math.Log(r.Ratio)
				rep.GeomeanPassN++
			}
		}
	}
	if rep.GeomeanN > 0 {
		rep.Geomean = math.Exp(logSum / float64(rep.GeomeanN))
	}
	if rep.GeomeanPassN > 0 {
		rep.GeomeanPass = math.Exp(logSumPass / float64(rep.GeomeanPassN))
	}
}

func printReport(w io.Writer, rep *report) {
	measured, reference := rep.sides()
	cl := rep.Cluster
	compared := cl != nil || rep.DuckDBVersion != ""
	switch {
	case cl != nil:
		fmt.Fprintf(w, "\nTPC-H on %s: median of %d run(s) after 1 warm-up, timeout %gs per run; each query runs embedded, then on the cluster\n",
			rep.Data, rep.Runs, rep.TimeoutS)
		fmt.Fprintf(w, "Cluster: coordinator in this process (GOMAXPROCS %d) + %d `quarry executor` process(es) of %d thread(s)\n"+
			"(--threads and GOMAXPROCS) over loopback, vs Embedded Quarry with %d thread(s); %s\n",
			rep.Threads, cl.Executors, cl.ExecutorThreads, rep.Threads, rep.GoVersion)
	default:
		fmt.Fprintf(w, "\nTPC-H on %s: %d thread(s), median of %d run(s) after 1 warm-up, timeout %gs per run\n",
			rep.Data, rep.Threads, rep.Runs, rep.TimeoutS)
		if rep.DuckDBVersion != "" {
			fmt.Fprintf(w, "Quarry (embedded, %s) vs DuckDB %s (duckdb-go, views over the same Parquet files)\n", rep.GoVersion, rep.DuckDBVersion)
		} else {
			fmt.Fprintf(w, "Quarry (embedded, %s); DuckDB skipped\n", rep.GoVersion)
		}
	}
	rssHead := "peak RSS"
	if !rep.PerQueryRSS {
		rssHead = "peak RSS*"
	}
	exHead, exWidth := "", 0
	if cl != nil {
		exHead, exWidth = "exchanged", 10
	}
	line := func(q, ams, bms, ratio, rows, check, ex, arss, brss string) {
		if exWidth > 0 {
			ex = fmt.Sprintf(" %*s", exWidth, ex)
		}
		fmt.Fprintf(w, "%-5s %12s %12s %9s %8s %5s%s  %-16s %s\n", q, ams, bms, ratio, rows, check, ex, arss, brss)
	}
	ruler := strings.Repeat("-", 88+exWidth+min(exWidth, 1))
	fmt.Fprintln(w)
	line("query", measured.name+" ms", reference.name+" ms", "ratio", "rows", "check", exHead,
		measured.name+" "+rssHead, reference.name+" "+rssHead)
	fmt.Fprintln(w, ruler)
	for i := range rep.Queries {
		r := &rep.Queries[i]
		a, b := measured.get(r), reference.get(r)
		ams, bms, ratio, rows, ex := "-", "-", "-", "-", ""
		arss, brss := "-", "-"
		if a != nil {
			ams = "ERROR"
			if a.Error == "" {
				ams = fmt.Sprintf("%.1f", a.MedianMS)
				rows = fmt.Sprint(a.Rows)
			}
			arss = formatBytes(a.PeakRSSBytes)
		}
		if b != nil {
			bms = "ERROR"
			if b.Error == "" {
				bms = fmt.Sprintf("%.1f", b.MedianMS)
				if a == nil || a.Error != "" {
					rows = fmt.Sprint(b.Rows)
				} else if b.Rows != a.Rows {
					rows = fmt.Sprintf("%d/%d", a.Rows, b.Rows)
				}
			}
			brss = formatBytes(b.PeakRSSBytes)
		}
		if r.Ratio > 0 {
			ratio = fmt.Sprintf("%.2fx", r.Ratio)
		}
		if cl != nil {
			ex = "-"
			if r.Exchanged != nil {
				ex = r.Exchanged.Text
				if r.Exchanged.Error != "" {
					ex = "ERROR"
				}
			}
		}
		line(r.Query, ams, bms, ratio, rows, r.Check, ex, arss, brss)
	}
	fmt.Fprintln(w, ruler)

	var failed, notChecked, passed []string
	for _, r := range rep.Queries {
		switch r.Check {
		case "pass":
			passed = append(passed, r.Query)
		case "FAIL":
			failed = append(failed, r.Query)
		default:
			notChecked = append(notChecked, r.Query)
		}
	}
	if compared {
		fmt.Fprintf(w, "geomean %s/%s: %s over %d queries", measured.name, reference.name, ratioText(rep.Geomean), rep.GeomeanN)
		if rep.GeomeanPassN != rep.GeomeanN {
			fmt.Fprintf(w, "; %s over the %d that agree", ratioText(rep.GeomeanPass), rep.GeomeanPassN)
		}
		fmt.Fprintln(w, " (queries that failed on either engine are excluded)")
		fmt.Fprintf(w, "agreement of %s with %s: %d pass", measured.name, reference.name, len(passed))
		if len(failed) > 0 {
			fmt.Fprintf(w, ", %d FAIL (%s)", len(failed), strings.Join(failed, " "))
		}
		if len(notChecked) > 0 {
			fmt.Fprintf(w, ", %d not checked (%s)", len(notChecked), strings.Join(notChecked, " "))
		}
		fmt.Fprintln(w)
	}
	if cl != nil {
		fmt.Fprintf(w, "exchanged between fragments (EXPLAIN ANALYZE, one more run each): %s in all\n", formatBytes(cl.ExchangedBytes))
	}
	fmt.Fprintf(w, "peak RSS (VmHWM) of the process: %s", formatBytes(rep.PeakRSS))
	if rep.DuckDBVersion != "" {
		fmt.Fprintf(w, " (%s by the end of the Quarry queries, which run first)", formatBytes(rep.PeakRSSQuarry))
	}
	fmt.Fprintln(w)
	if cl != nil {
		peaks := make([]string, len(cl.ExecutorPeakRSS))
		for i, p := range cl.ExecutorPeakRSS {
			peaks[i] = formatBytes(p)
		}
		fmt.Fprintf(w, "Cluster peak RSS is the coordinator's (this process); executors' peaks over the whole run: %s\n", strings.Join(peaks, ", "))
	}
	if !rep.PerQueryRSS {
		fmt.Fprintln(w, "* VmHWM could not be reset here: per-query peaks are the process's peak so far")
	} else {
		fmt.Fprintln(w, "per-query peak RSS: VmHWM reset before the query's warm-up, read after its last run (includes the Go heap left over)")
	}

	var notes []string
	for _, r := range rep.Queries {
		for _, s := range []side{measured, reference} {
			if e := s.get(&r); e != nil && e.Error != "" {
				notes = append(notes, fmt.Sprintf("  %s %s error: %s", r.Query, s.name, e.Error))
			}
		}
		if r.Exchanged != nil && r.Exchanged.Error != "" {
			notes = append(notes, fmt.Sprintf("  %s EXPLAIN ANALYZE on the cluster: %s", r.Query, r.Exchanged.Error))
		}
		if r.Check == "FAIL" {
			notes = append(notes, fmt.Sprintf("  %s results differ: %s", r.Query, r.Detail))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(w, "\nproblems:")
		for _, n := range notes {
			fmt.Fprintln(w, n)
		}
	}
}

func ratioText(r float64) string {
	if r <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", r)
}

func writeJSON(path string, rep *report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
