package slt

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/quarrydb/quarry/catalog/sqlerr"
)

// DB is what the harness runs records against.
type DB interface {
	// Exec runs SQL whose result, if any, is not looked at.
	Exec(ctx context.Context, sql string) error
	// Query runs SQL and returns its rows. Values are nil (NULL), bool,
	// int64, float64, string, or Numeric (decimals, exact, as text).
	Query(ctx context.Context, sql string) (*Result, error)
}

// Result is a query's rows.
type Result struct {
	Columns int
	Rows    [][]any
}

// Numeric is an exact number in text form (a decimal rendered at its scale).
type Numeric string

// DefaultDatabase is the name records' skipif/onlyif conditions are matched
// against unless Runner.Database says otherwise.
const DefaultDatabase = "quarry"

// Runner runs records against DB.
type Runner struct {
	DB DB
	// Database is the name matched by skipif/onlyif (DefaultDatabase if
	// empty).
	Database string
	// Timeout bounds each record (0: none). A record whose call does not
	// return within Timeout plus a grace period aborts the rest of the file,
	// and the DB must be thrown away (the call may still be running).
	Timeout time.Duration
}

// Failure is a record that did not pass.
type Failure struct {
	File    string
	Line    int
	SQL     string
	Message string
}

func (f Failure) String() string {
	return fmt.Sprintf("%s:%d: %s\n%s", f.File, f.Line, f.Message, indent(f.SQL))
}

// FileResult summarises one file.
type FileResult struct {
	File                    string
	Passed, Failed, Skipped int
	Failures                []Failure
	// Aborted is set when the file stopped early (a hung record).
	Aborted string
}

// RunFile parses and runs the file at path.
func (r *Runner) RunFile(ctx context.Context, path string) (*FileResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r.Run(ctx, path, recs), nil
}

// Run runs recs (from the file named name) in order. Each record passes or
// fails on its own; a failing statement does not stop the file.
func (r *Runner) Run(ctx context.Context, name string, recs []Record) *FileResult {
	db := r.Database
	if db == "" {
		db = DefaultDatabase
	}
	res := &FileResult{File: name}
	labels := map[string]string{}
	for i := range recs {
		rec := &recs[i]
		if ctx.Err() != nil {
			res.Aborted = ctx.Err().Error()
			return res
		}
		if !rec.Applies(db) {
			if rec.Kind == KindStatement || rec.Kind == KindQuery {
				res.Skipped++
			}
			continue
		}
		switch rec.Kind {
		case KindHalt:
			return res
		case KindHashThreshold:
			continue
		}
		msg, hung := r.runRecord(ctx, rec, labels)
		if msg == "" {
			res.Passed++
			continue
		}
		res.Failed++
		res.Failures = append(res.Failures, Failure{File: name, Line: rec.Line, SQL: rec.SQL, Message: msg})
		if hung {
			res.Aborted = msg
			return res
		}
	}
	return res
}

// runRecord returns "" when rec passes, else why it failed; hung says the
// DB did not return in time.
func (r *Runner) runRecord(ctx context.Context, rec *Record, labels map[string]string) (msg string, hung bool) {
	type outcome struct {
		res *Result
		err error
	}
	rctx, cancel := ctx, context.CancelFunc(func() {})
	if r.Timeout > 0 {
		rctx, cancel = context.WithTimeout(ctx, r.Timeout)
	}
	defer cancel()
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		defer func() {
			if p := recover(); p != nil {
				o.err = fmt.Errorf("panic: %v", p)
			}
			done <- o
		}()
		if rec.Kind == KindStatement {
			o.err = r.DB.Exec(rctx, rec.SQL)
		} else {
			o.res, o.err = r.DB.Query(rctx, rec.SQL)
		}
	}()
	var o outcome
	if r.Timeout > 0 {
		grace := time.NewTimer(r.Timeout + 10*time.Second)
		defer grace.Stop()
		select {
		case o = <-done:
		case <-grace.C:
			return fmt.Sprintf("did not finish within %s (not cancellable)", r.Timeout), true
		}
	} else {
		o = <-done
	}
	if rec.ExpectError {
		if o.err == nil {
			return "expected an error, got success", false
		}
		if rec.ErrorPattern != "" && !errorMatches(o.err, rec.ErrorPattern) {
			return fmt.Sprintf("error %q does not match %q", o.err, rec.ErrorPattern), false
		}
		return "", false
	}
	if o.err != nil {
		if r.Timeout > 0 && rctx.Err() == context.DeadlineExceeded {
			return fmt.Sprintf("timed out after %s: %v", r.Timeout, o.err), false
		}
		return "unexpected error: " + o.err.Error(), false
	}
	if rec.Kind == KindStatement {
		return "", false
	}
	return Check(rec, o.res, labels), false
}

func errorMatches(err error, pattern string) bool {
	if sqlerr.As(err).Code == pattern {
		return true
	}
	if re, rerr := regexp.Compile(pattern); rerr == nil {
		return re.MatchString(err.Error())
	}
	return strings.Contains(err.Error(), pattern)
}

// Check compares a query's result with rec's expectation and returns "" when
// they agree, else a description with a diff. labels holds the hashes of
// labelled results seen so far in the file.
func Check(rec *Record, res *Result, labels map[string]string) string {
	if rec.Types != "" && res.Columns != len(rec.Types) {
		return fmt.Sprintf("expected %d columns (%s), got %d", len(rec.Types), rec.Types, res.Columns)
	}
	rows := FormatRows(rec.Types, res)
	vals := SortValues(rec.Sort, rows)
	hash := HashValues(vals)
	if rec.Label != "" {
		if prev, ok := labels[rec.Label]; ok && prev != hash {
			return fmt.Sprintf("result differs from earlier result labelled %s", rec.Label)
		}
		labels[rec.Label] = hash
	}
	switch {
	case rec.Hash != "":
		if len(vals) != rec.HashCount || hash != rec.Hash {
			return fmt.Sprintf("expected %d values hashing to %s, got %d values hashing to %s%s",
				rec.HashCount, rec.Hash, len(vals), hash, preview(vals))
		}
	case rec.HasResults:
		if equalStrings(vals, rec.Expected) {
			return ""
		}
		// Expected rows may be written one row per line, values separated by
		// white space.
		if len(rec.Expected) == len(rows) && len(rows) > 0 && res.Columns > 1 {
			sorted := sortRows(rec.Sort, rows)
			ok := true
			for i, row := range sorted {
				if strings.Join(strings.Fields(strings.Join(row, " ")), " ") !=
					strings.Join(strings.Fields(rec.Expected[i]), " ") {
					ok = false
					break
				}
			}
			if ok {
				return ""
			}
		}
		return "result mismatch\n" + diff(rec.Expected, vals)
	}
	return ""
}

// FormatRows renders each value as SQLite's harness does for the column's
// type letter: I integer (numbers truncated), R "%.3f", T text; NULL is
// "NULL" and the empty string "(empty)".
func FormatRows(types string, res *Result) [][]string {
	out := make([][]string, len(res.Rows))
	for i, row := range res.Rows {
		s := make([]string, len(row))
		for c, v := range row {
			t := byte('T')
			if c < len(types) {
				t = types[c]
			}
			s[c] = FormatValue(t, v)
		}
		out[i] = s
	}
	return out
}

// FormatValue renders v for type letter t.
func FormatValue(t byte, v any) string {
	if v == nil {
		return "NULL"
	}
	switch t {
	case 'I':
		switch v := v.(type) {
		case int64:
			return strconv.FormatInt(v, 10)
		case float64:
			return strconv.FormatInt(floatToInt(v), 10)
		case bool:
			if v {
				return "1"
			}
			return "0"
		case Numeric:
			return strconv.FormatInt(floatToInt(leadingFloat(string(v))), 10)
		case string:
			return strconv.FormatInt(floatToInt(leadingFloat(v)), 10)
		}
	case 'R':
		var f float64
		switch v := v.(type) {
		case int64:
			f = float64(v)
		case float64:
			f = v
		case bool:
			if v {
				f = 1
			}
		case Numeric:
			f = leadingFloat(string(v))
		case string:
			f = leadingFloat(v)
		}
		return strconv.FormatFloat(f, 'f', 3, 64)
	}
	var s string
	switch v := v.(type) {
	case int64:
		s = strconv.FormatInt(v, 10)
	case float64:
		s = strconv.FormatFloat(v, 'g', 15, 64)
		if !strings.ContainsAny(s, ".eEnN") {
			s += ".0"
		}
	case bool:
		s = strconv.FormatBool(v)
	case Numeric:
		s = string(v)
	case string:
		s = v
	default:
		s = fmt.Sprint(v)
	}
	if s == "" {
		return "(empty)"
	}
	b := []byte(s)
	for i, c := range b {
		if c < ' ' || c > '~' {
			b[i] = '@'
		}
	}
	return string(b)
}

// floatToInt truncates toward zero, saturating as SQLite does.
func floatToInt(f float64) int64 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= 9.223372036854775807e18:
		return math.MaxInt64
	case f <= -9.223372036854775808e18:
		return math.MinInt64
	}
	return int64(f)
}

// leadingFloat parses the longest numeric prefix of s (after spaces), 0 if
// none, as SQLite converts text to numbers.
func leadingFloat(s string) float64 {
	s = strings.TrimLeft(s, " \t\n\r")
	end := 0
	seenDigit, seenDot, seenExp := false, false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			seenDigit = true
			end = i + 1
		case (c == '+' || c == '-') && (i == 0 || s[i-1] == 'e' || s[i-1] == 'E'):
		case c == '.' && !seenDot && !seenExp:
			seenDot = true
		case (c == 'e' || c == 'E') && seenDigit && !seenExp:
			seenExp = true
		default:
			i = len(s)
		}
	}
	f, err := strconv.ParseFloat(s[:end], 64)
	if err != nil {
		return 0
	}
	return f
}

func sortRows(mode SortMode, rows [][]string) [][]string {
	if mode != RowSort {
		return rows
	}
	sorted := append([][]string(nil), rows...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		for k := 0; k < len(a) && k < len(b); k++ {
			if a[k] != b[k] {
				return a[k] < b[k]
			}
		}
		return len(a) < len(b)
	})
	return sorted
}

// SortValues flattens rows into values in the order the sort mode asks.
func SortValues(mode SortMode, rows [][]string) []string {
	var vals []string
	for _, row := range sortRows(mode, rows) {
		vals = append(vals, row...)
	}
	if mode == ValueSort {
		sort.Strings(vals)
	}
	return vals
}

// HashValues is the md5 (hex) over the values, each followed by a newline.
func HashValues(vals []string) string {
	h := md5.New()
	for _, v := range vals {
		h.Write([]byte(v))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != strings.TrimSpace(b[i]) {
			return false
		}
	}
	return true
}

func preview(vals []string) string {
	if len(vals) > 20 {
		vals = append(vals[:20:20], "…")
	}
	return "\ngot: " + strings.Join(vals, " ")
}

// diff lists expected and actual values side by side, marking differences.
func diff(want, got []string) string {
	var b strings.Builder
	n := max(len(want), len(got))
	shown := 0
	for i := 0; i < n && shown < 40; i++ {
		w, g := "<missing>", "<missing>"
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		mark := "  "
		if strings.TrimSpace(w) != g {
			mark = "! "
		}
		fmt.Fprintf(&b, "%s%-30s | %s\n", mark, w, g)
		shown++
	}
	if n > shown {
		fmt.Fprintf(&b, "  … %d more\n", n-shown)
	}
	return fmt.Sprintf("  %-30s | %s\n", "expected", "got") + b.String()
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
