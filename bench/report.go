package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
)

// summarize fills in each query's ratio and agreement check and the geometric
// means. Queries that failed on either engine have no ratio and are left out
// of the means.
func summarize(rep *report) {
	var logSum, logSumPass float64
	for i := range rep.Queries {
		r := &rep.Queries[i]
		r.Check = "-"
		if r.DuckDB == nil || r.Quarry.Error != "" || r.DuckDB.Error != "" {
			continue
		}
		if msg := compareResults(r.Quarry.rows, r.DuckDB.rows, r.Ordered); msg == "" {
			r.Check = "pass"
		} else {
			r.Check, r.Detail = "FAIL", msg
		}
		if r.Quarry.MedianMS > 0 && r.DuckDB.MedianMS > 0 {
			r.Ratio = r.Quarry.MedianMS / r.DuckDB.MedianMS
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
	fmt.Fprintf(w, "\nTPC-H on %s: %d thread(s), median of %d run(s) after 1 warm-up, timeout %gs per run\n",
		rep.Data, rep.Threads, rep.Runs, rep.TimeoutS)
	if rep.DuckDBVersion != "" {
		fmt.Fprintf(w, "Quarry (embedded, %s) vs DuckDB %s (duckdb-go, views over the same Parquet files)\n", rep.GoVersion, rep.DuckDBVersion)
	} else {
		fmt.Fprintf(w, "Quarry (embedded, %s); DuckDB skipped\n", rep.GoVersion)
	}
	rssHead := "peak RSS"
	if !rep.PerQueryRSS {
		rssHead = "peak RSS*"
	}
	fmt.Fprintf(w, "\n%-5s %12s %12s %9s %8s %5s  %-16s %s\n", "query", "Quarry ms", "DuckDB ms", "ratio", "rows", "check",
		"Quarry "+rssHead, "DuckDB "+rssHead)
	fmt.Fprintln(w, strings.Repeat("-", 88))
	for _, r := range rep.Queries {
		qms, dms, ratio, rows := "ERROR", "-", "-", "-"
		drss := "-"
		if r.Quarry.Error == "" {
			qms = fmt.Sprintf("%.1f", r.Quarry.MedianMS)
			rows = fmt.Sprint(r.Quarry.Rows)
		}
		if r.DuckDB != nil {
			dms = "ERROR"
			if r.DuckDB.Error == "" {
				dms = fmt.Sprintf("%.1f", r.DuckDB.MedianMS)
				if r.Quarry.Error != "" {
					rows = fmt.Sprint(r.DuckDB.Rows)
				} else if r.DuckDB.Rows != r.Quarry.Rows {
					rows = fmt.Sprintf("%d/%d", r.Quarry.Rows, r.DuckDB.Rows)
				}
			}
			drss = formatBytes(r.DuckDB.PeakRSSBytes)
		}
		if r.Ratio > 0 {
			ratio = fmt.Sprintf("%.2fx", r.Ratio)
		}
		fmt.Fprintf(w, "%-5s %12s %12s %9s %8s %5s  %-16s %s\n", r.Query, qms, dms, ratio, rows, r.Check,
			formatBytes(r.Quarry.PeakRSSBytes), drss)
	}
	fmt.Fprintln(w, strings.Repeat("-", 88))

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
	if rep.DuckDBVersion != "" {
		fmt.Fprintf(w, "geomean Quarry/DuckDB: %s over %d queries", ratioText(rep.Geomean), rep.GeomeanN)
		if rep.GeomeanPassN != rep.GeomeanN {
			fmt.Fprintf(w, "; %s over the %d that agree", ratioText(rep.GeomeanPass), rep.GeomeanPassN)
		}
		fmt.Fprintln(w, " (queries that failed on either engine are excluded)")
		fmt.Fprintf(w, "agreement: %d pass", len(passed))
		if len(failed) > 0 {
			fmt.Fprintf(w, ", %d FAIL (%s)", len(failed), strings.Join(failed, " "))
		}
		if len(notChecked) > 0 {
			fmt.Fprintf(w, ", %d not checked (%s)", len(notChecked), strings.Join(notChecked, " "))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "peak RSS (VmHWM) of the process: %s", formatBytes(rep.PeakRSS))
	if rep.DuckDBVersion != "" {
		fmt.Fprintf(w, " (%s by the end of the Quarry queries, which run first)", formatBytes(rep.PeakRSSQuarry))
	}
	fmt.Fprintln(w)
	if !rep.PerQueryRSS {
		fmt.Fprintln(w, "* VmHWM could not be reset here: per-query peaks are the process's peak so far")
	} else {
		fmt.Fprintln(w, "per-query peak RSS: VmHWM reset before the query's warm-up, read after its last run (includes the Go heap left over)")
	}

	var notes []string
	for _, r := range rep.Queries {
		if r.Quarry.Error != "" {
			notes = append(notes, fmt.Sprintf("  %s Quarry error: %s", r.Query, r.Quarry.Error))
		}
		if r.DuckDB != nil && r.DuckDB.Error != "" {
			notes = append(notes, fmt.Sprintf("  %s DuckDB error: %s", r.Query, r.DuckDB.Error))
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
