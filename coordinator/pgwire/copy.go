package pgwire

import (
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/quarrydb/quarry/catalog/sqlerr"
)

// copyCommand is a parsed COPY statement. Only COPY … TO STDOUT runs (psql's
// \copy … to stdout sends it); its rows stream as CopyData.
type copyCommand struct {
	query  string // the SELECT whose rows are copied
	from   bool   // COPY … FROM STDIN
	csv    bool
	header bool
	delim  byte
	null   string
	quote  byte
}

// parseCopy reads COPY (query) TO STDOUT [options] and COPY table [(cols)]
// TO STDOUT | FROM STDIN [options].
func parseCopy(s string) (*copyCommand, error) {
	bad := func(msg string) (*copyCommand, error) {
		return nil, sqlerr.New(sqlerr.SyntaxError, "COPY: %s", msg)
	}
	rest := strings.TrimSpace(s[len("copy"):])
	cc := &copyCommand{delim: '\t', null: `\N`, quote: '"'}
	if strings.HasPrefix(rest, "(") {
		end := matchParen(rest, 0)
		if end < 0 {
			return bad("unbalanced parentheses")
		}
		cc.query = strings.TrimSpace(rest[1:end])
		rest = strings.TrimSpace(rest[end+1:])
	} else {
		i := 0
		for i < len(rest) && rest[i] != ' ' && rest[i] != '\t' && rest[i] != '\n' && rest[i] != '(' {
			if rest[i] == '"' {
				i = skipQuoted(rest, i, '"')
			}
			i++
		}
		table := rest[:i]
		rest = strings.TrimSpace(rest[i:])
		cols := "*"
		if strings.HasPrefix(rest, "(") {
			end := matchParen(rest, 0)
			if end < 0 {
				return bad("unbalanced parentheses")
			}
			cols = rest[1:end]
			rest = strings.TrimSpace(rest[end+1:])
		}
		if table == "" {
			return bad("no table")
		}
		cc.query = "SELECT " + cols + " FROM " + table
	}
	words := strings.Fields(rest)
	if len(words) < 2 {
		return bad("expected TO STDOUT or FROM STDIN")
	}
	switch {
	case strings.EqualFold(words[0], "to") && strings.EqualFold(strings.TrimSuffix(words[1], ";"), "stdout"):
	case strings.EqualFold(words[0], "from") && strings.EqualFold(strings.TrimSuffix(words[1], ";"), "stdin"):
		cc.from = true
	case strings.EqualFold(words[0], "to") || strings.EqualFold(words[0], "from"):
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "COPY to or from a file is not supported; use psql's \\copy")
	default:
		return bad("expected TO STDOUT or FROM STDIN")
	}
	// Skip "TO STDOUT" in rest and read the options that follow.
	opts := strings.TrimSpace(rest)
	opts = strings.TrimSpace(opts[strings.Index(strings.ToLower(opts), strings.ToLower(words[1]))+len(words[1]):])
	opts = strings.TrimSuffix(strings.TrimSpace(opts), ";")
	if err := cc.options(opts); err != nil {
		return nil, err
	}
	return cc, nil
}

// options reads WITH (name value, …) or the old-style words (CSV, HEADER,
// DELIMITER 'x', NULL 'x', BINARY).
func (cc *copyCommand) options(s string) error {
	s = strings.TrimSpace(s)
	if len(s) >= 4 && strings.EqualFold(s[:4], "with") {
		s = strings.TrimSpace(s[4:])
	}
	var items [][]string
	if strings.HasPrefix(s, "(") {
		end := matchParen(s, 0)
		if end < 0 {
			return sqlerr.New(sqlerr.SyntaxError, "COPY: unbalanced option list")
		}
		for _, item := range strings.Split(s[1:end], ",") {
			if f := copyWords(item); len(f) > 0 {
				items = append(items, f)
			}
		}
	} else {
		w := copyWords(s)
		for i := 0; i < len(w); i++ {
			name := strings.ToLower(w[i])
			switch name {
			case "delimiter", "null", "quote", "escape":
				if i+1 < len(w) && strings.EqualFold(w[i+1], "as") {
					i++
				}
				if i+1 < len(w) {
					items = append(items, []string{name, w[i+1]})
					i++
				}
			case "csv":
				items = append(items, []string{"format", "csv"})
			case "binary":
				items = append(items, []string{"format", "binary"})
			default:
				items = append(items, []string{name})
			}
		}
	}
	csvSet := false
	for _, it := range items {
		val := ""
		if len(it) > 1 {
			val = unquote(it[1])
		}
		switch strings.ToLower(it[0]) {
		case "format":
			switch strings.ToLower(val) {
			case "csv":
				cc.csv, csvSet = true, true
			case "text":
			case "binary":
				return sqlerr.New(sqlerr.FeatureNotSupported, "COPY BINARY is not supported")
			default:
				return sqlerr.New(sqlerr.InvalidParameterValue, "COPY format %q not recognized", val)
			}
		case "header":
			b, ok := true, true
			if val != "" {
				b, ok = parseBool(val)
			}
			if !ok {
				return sqlerr.New(sqlerr.InvalidParameterValue, "header requires a Boolean value")
			}
			cc.header = b
		case "delimiter":
			if len(val) != 1 {
				return sqlerr.New(sqlerr.FeatureNotSupported, "COPY delimiter must be a single one-byte character")
			}
			cc.delim = val[0]
		case "null":
			cc.null = val
		case "quote":
			if len(val) == 1 {
				cc.quote = val[0]
			}
		}
	}
	if csvSet {
		if !hasOption(items, "delimiter") {
			cc.delim = ','
		}
		if !hasOption(items, "null") {
			cc.null = ""
		}
	}
	return nil
}

func hasOption(items [][]string, name string) bool {
	for _, it := range items {
		if strings.EqualFold(it[0], name) {
			return true
		}
	}
	return false
}

// copyWords splits on spaces, keeping quoted strings whole.
func copyWords(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		switch {
		case s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r':
			i++
		case s[i] == '\'' || s[i] == '"' || (s[i] == 'E' || s[i] == 'e') && i+1 < len(s) && s[i+1] == '\'':
			j := i
			if s[j] != '\'' && s[j] != '"' {
				j++
			}
			end := skipQuoted(s, j, s[j])
			if end >= len(s) {
				end = len(s) - 1
			}
			out = append(out, s[i:end+1])
			i = end + 1
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '\t' && s[j] != '\n' && s[j] != '\r' {
				j++
			}
			out = append(out, s[i:j])
			i = j
		}
	}
	return out
}

// unquote reads 'x', E'\t' and "x" literals.
func unquote(s string) string {
	if len(s) >= 3 && (s[0] == 'E' || s[0] == 'e') && s[1] == '\'' {
		u, err := strconv.Unquote(`"` + strings.ReplaceAll(s[2:len(s)-1], `"`, `\"`) + `"`)
		if err == nil {
			return u
		}
		return s[2 : len(s)-1]
	}
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
		return strings.ReplaceAll(s[1:len(s)-1], s[:1]+s[:1], s[:1])
	}
	return s
}

// matchParen returns the index of the parenthesis closing the one at i.
func matchParen(s string, i int) int {
	depth := 0
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return j
			}
		case '\'', '"':
			j = skipQuoted(s, j, s[j])
		}
	}
	return -1
}

// copySink writes a query's rows as COPY data: CopyOutResponse, one
// CopyData per row, CopyDone and "COPY n".
type copySink struct {
	c       *conn
	cc      *copyCommand
	ncols   int
	scratch []byte
	rows    int64
	begun   bool
}

func (s *copySink) Begin(schema *arrow.Schema) error {
	s.begun = true
	s.ncols = schema.NumFields()
	s.c.send(&pgproto3.CopyOutResponse{OverallFormat: 0, ColumnFormatCodes: make([]uint16, s.ncols)})
	if s.cc.header {
		line := s.scratch[:0]
		for i, f := range schema.Fields() {
			if i > 0 {
				line = append(line, s.cc.delim)
			}
			line = s.field(line, []byte(f.Name))
		}
		s.scratch = line
		s.copyData(line)
	}
	return nil
}

func (s *copySink) Batch(rec arrow.Record) error {
	apps := make([]appender, rec.NumCols())
	for j := range apps {
		apps[j] = textAppender(rec.Column(j))
	}
	var val []byte
	for i := 0; i < int(rec.NumRows()); i++ {
		line := s.scratch[:0]
		for j, app := range apps {
			if j > 0 {
				line = append(line, s.cc.delim)
			}
			if rec.Column(j).IsNull(i) {
				line = append(line, s.cc.null...)
				continue
			}
			val = app(val[:0], i)
			line = s.field(line, val)
		}
		s.scratch = line
		s.copyData(line)
		if len(s.c.wbuf) >= flushThreshold {
			if err := s.c.flush(); err != nil {
				return err
			}
		}
	}
	s.rows += rec.NumRows()
	return nil
}

func (s *copySink) End(tag string, rows int64) error {
	if !s.begun {
		s.c.sendError(sqlerr.New(sqlerr.FeatureNotSupported, "COPY needs a statement that returns rows"))
		return nil
	}
	s.c.send(&pgproto3.CopyDone{})
	s.c.send(&pgproto3.CommandComplete{CommandTag: []byte("COPY " + strconv.FormatInt(s.rows, 10))})
	return nil
}

// copyData appends one CopyData message holding line and a newline.
func (s *copySink) copyData(line []byte) {
	w := append(s.c.wbuf, 'd', 0, 0, 0, 0)
	at := len(w) - 4
	w = append(w, line...)
	w = append(w, '\n')
	binary.BigEndian.PutUint32(w[at:], uint32(len(w)-at))
	s.c.wbuf = w
}

// field appends one value escaped for the text or CSV format.
func (s *copySink) field(dst, v []byte) []byte {
	if s.cc.csv {
		needs := len(v) == 0 && s.cc.null == ""
		for _, b := range v {
			if b == s.cc.delim || b == s.cc.quote || b == '\n' || b == '\r' {
				needs = true
				break
			}
		}
		if !needs && string(v) != s.cc.null {
			return append(dst, v...)
		}
		dst = append(dst, s.cc.quote)
		for _, b := range v {
			if b == s.cc.quote {
				dst = append(dst, b)
			}
			dst = append(dst, b)
		}
		return append(dst, s.cc.quote)
	}
	for _, b := range v {
		switch b {
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			if s.cc.delim == '\t' {
				dst = append(dst, '\\', 't')
			} else {
				dst = append(dst, b)
			}
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\v':
			dst = append(dst, '\\', 'v')
		default:
			if b == s.cc.delim {
				dst = append(dst, '\\')
			}
			dst = append(dst, b)
		}
	}
	return dst
}
