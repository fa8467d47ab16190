package resultfmt

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
)

// Writer is a result sink (it satisfies coordinator.ResultSink). For a
// statement that returns rows the engine calls Begin, then Batch per batch,
// then End; for one that does not (DDL, INSERT) it calls only End.
type Writer interface {
	Begin(schema *arrow.Schema) error
	Batch(rec arrow.Record) error
	End(tag string, rows int64) error
}

// Formats lists the names New accepts.
var Formats = []string{"table", "csv", "psv", "json"}

// New returns the writer for format: table, csv, psv or json (JSON lines).
func New(format string, w io.Writer) (Writer, error) {
	switch format {
	case "table", "":
		return NewTable(w), nil
	case "csv":
		return NewDelimited(w, ',', true), nil
	case "psv":
		return NewDelimited(w, '|', false), nil
	case "json", "jsonl":
		return NewJSONLines(w), nil
	}
	return nil, fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

// CommandTag renders a statement's tag as PostgreSQL clients show it
// (INSERT 0 n, SELECT n, …).
func CommandTag(tag string, rows int64) string {
	switch tag {
	case "INSERT":
		return "INSERT 0 " + strconv.FormatInt(rows, 10)
	case "SELECT", "UPDATE", "DELETE", "COPY":
		return tag + " " + strconv.FormatInt(rows, 10)
	}
	return tag
}

// Delimited writes a header line and one line per row with values separated
// by sep. With quote (CSV) fields are quoted as RFC 4180 says and an empty
// string is written as "" so that it differs from NULL (an empty field);
// without quote (PSV) nothing is quoted or escaped.
type Delimited struct {
	w     *bufio.Writer
	sep   byte
	quote bool
	buf   []byte
}

// NewDelimited returns a CSV (sep ',', quote) or PSV (sep '|') writer.
func NewDelimited(w io.Writer, sep byte, quote bool) *Delimited {
	return &Delimited{w: bufio.NewWriter(w), sep: sep, quote: quote}
}

func (d *Delimited) Begin(schema *arrow.Schema) error {
	d.buf = d.buf[:0]
	for i, f := range schema.Fields() {
		if i > 0 {
			d.buf = append(d.buf, d.sep)
		}
		d.buf = d.field(d.buf, []byte(f.Name))
	}
	d.buf = append(d.buf, '\n')
	_, err := d.w.Write(d.buf)
	return err
}

func (d *Delimited) field(dst, v []byte) []byte {
	if !d.quote {
		return append(dst, v...)
	}
	if len(v) == 0 {
		return append(dst, '"', '"')
	}
	needs := false
	for _, c := range v {
		if c == d.sep || c == '"' || c == '\n' || c == '\r' {
			needs = true
			break
		}
	}
	if !needs {
		return append(dst, v...)
	}
	dst = append(dst, '"')
	for _, c := range v {
		if c == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, c)
	}
	return append(dst, '"')
}

func (d *Delimited) Batch(rec arrow.Record) error {
	cols := Columns(rec)
	var val []byte
	for r := 0; r < int(rec.NumRows()); r++ {
		d.buf = d.buf[:0]
		for c, col := range cols {
			if c > 0 {
				d.buf = append(d.buf, d.sep)
			}
			if col.IsNull(r) {
				continue
			}
			if d.quote {
				val = col.Append(val[:0], r)
				d.buf = d.field(d.buf, val)
			} else {
				d.buf = col.Append(d.buf, r)
			}
		}
		d.buf = append(d.buf, '\n')
		if _, err := d.w.Write(d.buf); err != nil {
			return err
		}
	}
	return d.w.Flush()
}

func (d *Delimited) End(string, int64) error { return d.w.Flush() }

// JSONLines writes one JSON object per row ({"column": value, …}), one per
// line. Integers, finite doubles and booleans are JSON literals; decimals,
// dates, timestamps and strings are JSON strings; NULL is null. Statements
// without rows write nothing.
type JSONLines struct {
	w     *bufio.Writer
	names [][]byte // pre-encoded `"name":`
	buf   []byte
}

// NewJSONLines returns a JSON lines writer.
func NewJSONLines(w io.Writer) *JSONLines { return &JSONLines{w: bufio.NewWriter(w)} }

func (j *JSONLines) Begin(schema *arrow.Schema) error {
	j.names = j.names[:0]
	for _, f := range schema.Fields() {
		n := AppendJSONString(nil, f.Name)
		j.names = append(j.names, append(n, ':'))
	}
	return nil
}

func (j *JSONLines) Batch(rec arrow.Record) error {
	cols := Columns(rec)
	for r := 0; r < int(rec.NumRows()); r++ {
		j.buf = append(j.buf[:0], '{')
		for c := range cols {
			if c > 0 {
				j.buf = append(j.buf, ',')
			}
			j.buf = append(j.buf, j.names[c]...)
			j.buf = AppendJSONValue(j.buf, &cols[c], r)
		}
		j.buf = append(j.buf, '}', '\n')
		if _, err := j.w.Write(j.buf); err != nil {
			return err
		}
	}
	return j.w.Flush()
}

func (j *JSONLines) End(string, int64) error { return j.w.Flush() }

// AppendJSONValue appends row r of col as a JSON value.
func AppendJSONValue(dst []byte, col *Column, r int) []byte {
	if col.IsNull(r) {
		return append(dst, "null"...)
	}
	if col.JSONRaw(r) {
		return col.Append(dst, r)
	}
	start := len(dst)
	dst = col.Append(dst, r)
	// Re-encode the text just appended as a JSON string in place.
	text := string(dst[start:])
	return AppendJSONString(dst[:start], text)
}

// AppendJSONString appends s as a quoted JSON string.
func AppendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else if r == '\u2028' || r == '\u2029' {
			dst = append(dst, `\u202`...)
			dst = append(dst, hex[r&0xf])
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// tableBufferRows is how many rows the table writer holds to size its
// columns; later rows are printed with those widths (wider values overflow).
const tableBufferRows = 1000

// Table writes an aligned table as psql does: a header, a rule, the rows
// (numbers right-aligned), and a "(N rows)" footer. NULL prints as nothing.
// Statements without rows print their command tag.
type Table struct {
	w       *bufio.Writer
	names   []string
	numeric []bool
	widths  []int
	pending [][]string // rows held until the widths are fixed
	fixed   bool
	active  bool // inside a result set
	buf     []byte
}

// NewTable returns a table writer.
func NewTable(w io.Writer) *Table { return &Table{w: bufio.NewWriter(w)} }

func (t *Table) Begin(schema *arrow.Schema) error {
	t.names = t.names[:0]
	t.numeric = t.numeric[:0]
	t.widths = t.widths[:0]
	t.pending = t.pending[:0]
	t.fixed = false
	t.active = true
	for _, f := range schema.Fields() {
		t.names = append(t.names, f.Name)
		t.numeric = append(t.numeric, isNumeric(f.Type))
		t.widths = append(t.widths, utf8.RuneCountInString(f.Name))
	}
	return nil
}

func isNumeric(dt arrow.DataType) bool {
	switch dt.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32,
		arrow.UINT64, arrow.FLOAT32, arrow.FLOAT64, arrow.DECIMAL128, arrow.DECIMAL256:
		return true
	}
	return false
}

func (t *Table) Batch(rec arrow.Record) error {
	cols := Columns(rec)
	for r := 0; r < int(rec.NumRows()); r++ {
		row := make([]string, len(cols))
		for c, col := range cols {
			if !col.IsNull(r) {
				t.buf = col.Append(t.buf[:0], r)
				row[c] = string(t.buf)
			}
		}
		if t.fixed {
			t.writeRow(row)
			continue
		}
		for c, v := range row {
			if n := utf8.RuneCountInString(v); n > t.widths[c] {
				t.widths[c] = n
			}
		}
		t.pending = append(t.pending, row)
		if len(t.pending) >= tableBufferRows {
			t.flushPending()
		}
	}
	if t.fixed {
		return t.w.Flush()
	}
	return nil
}

func (t *Table) flushPending() {
	t.fixed = true
	t.buf = t.buf[:0]
	for c, n := range t.names {
		if c > 0 {
			t.buf = append(t.buf, '|')
		}
		// psql centres the header.
		pad := t.widths[c] - utf8.RuneCountInString(n)
		t.buf = append(t.buf, ' ')
		t.buf = appendSpaces(t.buf, pad/2)
		t.buf = append(t.buf, n...)
		t.buf = appendSpaces(t.buf, pad-pad/2)
		t.buf = append(t.buf, ' ')
	}
	t.buf = append(trimRight(t.buf), '\n')
	for c, w := range t.widths {
		if c > 0 {
			t.buf = append(t.buf, '+')
		}
		t.buf = append(t.buf, strings.Repeat("-", w+2)...)
	}
	t.buf = append(t.buf, '\n')
	t.w.Write(t.buf)
	for _, row := range t.pending {
		t.writeRow(row)
	}
	t.pending = t.pending[:0]
}

func (t *Table) writeRow(row []string) {
	t.buf = t.buf[:0]
	for c, v := range row {
		if c > 0 {
			t.buf = append(t.buf, '|')
		}
		t.buf = append(t.buf, ' ')
		pad := t.widths[c] - utf8.RuneCountInString(v)
		if t.numeric[c] {
			t.buf = appendSpaces(t.buf, pad)
			t.buf = append(t.buf, v...)
		} else {
			t.buf = append(t.buf, v...)
			t.buf = appendSpaces(t.buf, pad)
		}
		t.buf = append(t.buf, ' ')
	}
	t.buf = append(trimRight(t.buf), '\n')
	t.w.Write(t.buf)
}

func appendSpaces(dst []byte, n int) []byte {
	for ; n > 0; n-- {
		dst = append(dst, ' ')
	}
	return dst
}

func trimRight(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	return b
}

func (t *Table) End(tag string, rows int64) error {
	if !t.active {
		// No result set: show the command tag.
		fmt.Fprintln(t.w, CommandTag(tag, rows))
		return t.w.Flush()
	}
	if !t.fixed {
		t.flushPending()
	}
	if rows == 1 {
		fmt.Fprintf(t.w, "(1 row)\n\n")
	} else {
		fmt.Fprintf(t.w, "(%d rows)\n\n", rows)
	}
	t.active = false
	return t.w.Flush()
}
