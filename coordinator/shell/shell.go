// Package shell is the `quarry sql` client: it runs SQL texts from flags or
// files, or an interactive prompt with line editing and history, and prints
// results through a resultfmt writer.
package shell

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/peterh/liner"
	"github.com/quarrydb/quarry/coordinator"
	"github.com/quarrydb/quarry/coordinator/resultfmt"
)

// Options configure a shell run.
type Options struct {
	Format string // table, csv, psv, json
	Timing bool   // print each statement's elapsed time to Err
	Out    io.Writer
	Err    io.Writer
}

// Shell runs SQL on one session.
type Shell struct {
	sess *coordinator.Session
	opts Options
	w    resultfmt.Writer
}

// New returns a shell over sess.
func New(sess *coordinator.Session, opts Options) (*Shell, error) {
	if opts.Out == nil {
		opts.Out = os.Stdout
	}
	if opts.Err == nil {
		opts.Err = os.Stderr
	}
	w, err := resultfmt.New(opts.Format, opts.Out)
	if err != nil {
		return nil, err
	}
	return &Shell{sess: sess, opts: opts, w: w}, nil
}

// Exec runs a SQL text. An error is printed to Err as "ERROR <code>: msg"
// and returned.
func (s *Shell) Exec(ctx context.Context, sql string) error {
	sink := &timingSink{Writer: s.w, err: s.opts.Err, on: s.opts.Timing}
	err := s.sess.Execute(ctx, sql, sink)
	if err != nil {
		fmt.Fprintln(s.opts.Err, err)
		if s.opts.Timing {
			fmt.Fprintf(s.opts.Err, "Time: %s (failed)\n", fmtDuration(time.Since(sink.start)))
		}
	}
	return err
}

// ExecInterruptible runs sql with a context that SIGINT cancels.
func (s *Shell) ExecInterruptible(ctx context.Context, sql string) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	return s.Exec(ctx, sql)
}

// timingSink prints each statement's elapsed time after its result.
type timingSink struct {
	resultfmt.Writer
	err   io.Writer
	on    bool
	start time.Time
}

func (t *timingSink) StartStatement(int, int) { t.start = time.Now() }

func (t *timingSink) End(tag string, rows int64) error {
	err := t.Writer.End(tag, rows)
	if t.on {
		fmt.Fprintf(t.err, "Time: %s\n", fmtDuration(time.Since(t.start)))
	}
	return err
}

func fmtDuration(d time.Duration) string {
	return fmt.Sprintf("%.3f ms", float64(d.Microseconds())/1000)
}

// HistoryFile is where the interactive shell keeps its history.
func HistoryFile() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".quarry_history")
}

// Interactive reads statements from in until EOF or \q and runs each when
// its terminating semicolon arrives. On a terminal it offers line editing
// and history (HistoryFile); Ctrl-C cancels the running statement or clears
// the line being typed. It returns nil at the end of input.
func (s *Shell) Interactive(ctx context.Context, in *os.File) error {
	if fi, err := in.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 || in != os.Stdin {
		return s.Script(ctx, in)
	}
	ln := liner.NewLiner()
	defer ln.Close()
	ln.SetCtrlCAborts(true)
	ln.SetMultiLineMode(true)
	hist := HistoryFile()
	if hist != "" {
		if f, err := os.Open(hist); err == nil {
			ln.ReadHistory(f)
			f.Close()
		}
	}
	defer func() {
		if hist == "" {
			return
		}
		if f, err := os.Create(hist); err == nil {
			ln.WriteHistory(f)
			f.Close()
		}
	}()
	fmt.Fprintf(s.opts.Err, "quarry shell: end statements with ';', \\q to quit\n")
	var buf strings.Builder
	for {
		prompt := "quarry> "
		if buf.Len() > 0 {
			prompt = "   ...> "
		}
		line, err := ln.Prompt(prompt)
		if err == liner.ErrPromptAborted {
			buf.Reset()
			continue
		}
		if err == io.EOF {
			fmt.Fprintln(s.opts.Err)
			return nil
		}
		if err != nil {
			return err
		}
		if buf.Len() == 0 && isQuit(line) {
			return nil
		}
		if buf.Len() > 0 {
			buf.WriteByte('\n')
		}
		buf.WriteString(line)
		if !Complete(buf.String()) {
			continue
		}
		text := buf.String()
		buf.Reset()
		ln.AppendHistory(strings.Join(strings.Fields(text), " "))
		s.ExecInterruptible(ctx, text)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// Script runs statements read from r as they complete (at each ';'),
// continuing after errors; it returns the first error seen.
func (s *Shell) Script(ctx context.Context, r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var buf strings.Builder
	var first error
	run := func() {
		text := buf.String()
		buf.Reset()
		if strings.TrimSpace(text) == "" {
			return
		}
		if err := s.ExecInterruptible(ctx, text); err != nil && first == nil {
			first = err
		}
	}
	for sc.Scan() {
		line := sc.Text()
		if buf.Len() == 0 && isQuit(line) {
			break
		}
		buf.WriteString(line)
		buf.WriteByte('\n')
		if Complete(buf.String()) {
			run()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if strings.TrimSpace(stripComments(buf.String())) != "" {
		run()
	}
	return first
}

func isQuit(line string) bool {
	switch strings.TrimSpace(line) {
	case `\q`, "quit", "exit", "quit;", "exit;":
		return true
	}
	return false
}

// Complete says whether text ends with a ';' that is outside quotes and
// comments (possibly followed by white space or a line comment).
func Complete(text string) bool {
	return strings.HasSuffix(strings.TrimSpace(stripComments(text)), ";")
}

// stripComments removes -- and /* */ comments outside quotes; an unclosed
// quote or block comment leaves a marker so the text is not complete.
func stripComments(text string) string {
	var b strings.Builder
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			for ; j < len(text); j++ {
				if text[j] == c {
					if j+1 < len(text) && text[j+1] == c {
						j++
						continue
					}
					break
				}
			}
			if j >= len(text) {
				b.WriteString(text[i:])
				b.WriteString("\x00") // unterminated
				return b.String()
			}
			b.WriteString(text[i : j+1])
			i = j
		case c == '-' && i+1 < len(text) && text[i+1] == '-':
			for i < len(text) && text[i] != '\n' {
				i++
			}
			b.WriteByte('\n')
		case c == '/' && i+1 < len(text) && text[i+1] == '*':
			end := strings.Index(text[i+2:], "*/")
			if end < 0 {
				b.WriteString("\x00")
				return b.String()
			}
			i += end + 3
			b.WriteByte(' ')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
