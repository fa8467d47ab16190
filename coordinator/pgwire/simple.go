package pgwire

import (
	"context"
	"encoding/binary"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner"
)

// simpleQuery runs a Query message: every statement of the text in turn,
// each answered with RowDescription, DataRows and CommandComplete, then
// ReadyForQuery.
func (c *conn) simpleQuery(text string) {
	c.closePortal("")
	if err := c.checkFailedTxn(text); err != nil {
		// A failed message's later statements are skipped anyway, so the
		// first statement decides.
		c.sendError(err)
		c.readyForQuery()
		c.flush()
		return
	}
	ctx, done := c.startActivity()
	if mayHoldProtoStatement(text) {
		c.runSplit(ctx, text)
	} else if c.runText(ctx, text, text, 0) == 0 && c.ioErr == nil {
		c.send(&pgproto3.EmptyQueryResponse{})
	}
	done()
	c.readyForQuery()
	c.flush()
}

// runText runs text, which starts at byte offset at of the query string
// query, through the engine and returns how many statements it held (-1
// after an error, which it reports).
func (c *conn) runText(ctx context.Context, query, text string, at int) int {
	sink := &rowSink{c: c, describe: true, sql: text}
	if err := c.sess.Execute(ctx, text, sink); err != nil {
		if c.ioErr == nil {
			c.sendError(queryPosition(err, query, text, at, sink.statements))
		}
		return -1
	}
	return sink.statements
}

// queryPosition makes an error position, which the engine counts from the
// start of the failing statement, count from the start of the query
// string as PostgreSQL clients expect. started is how many statements of
// text had started: none for a parse error, whose statement is then found
// by parsing them one by one.
func queryPosition(err error, query, text string, at, started int) error {
	e := sqlerr.As(err)
	if e.Pos <= 0 {
		return e
	}
	pieces := splitWithOffsets(text)
	idx := started - 1
	if started == 0 {
		idx = 0
		if len(pieces) > 1 {
			for i, p := range pieces {
				if _, perr := planner.ParseAll(p.text); perr != nil {
					idx = i
					break
				}
			}
		}
	}
	if idx < 0 || idx >= len(pieces) {
		return e
	}
	c := *e
	c.Pos += utf8.RuneCountInString(query[:at+pieces[idx].start])
	return &c
}

// runSplit runs a text that may hold statements pgwire answers itself
// (DEALLOCATE, DISCARD ALL, COPY), one statement at a time.
func (c *conn) runSplit(ctx context.Context, text string) {
	stmts := splitWithOffsets(text)
	if len(stmts) == 0 {
		c.send(&pgproto3.EmptyQueryResponse{})
		return
	}
	for _, st := range stmts {
		ps, err := classify(st.text)
		if err != nil {
			c.sendError(err)
			return
		}
		if ps == nil {
			if c.runText(ctx, text, st.text, st.start) < 0 {
				return
			}
			continue
		}
		if err := c.runProto(ctx, ps); err != nil {
			if c.ioErr == nil {
				c.sendError(err)
			}
			return
		}
	}
}

// runProto runs a protocol-level statement and sends its CommandComplete.
func (c *conn) runProto(ctx context.Context, ps *protoStatement) error {
	switch ps.kind {
	case protoDeallocate:
		if ps.all {
			c.stmts = map[string]*statement{}
			c.sess.DeallocateAll()
			c.send(&pgproto3.CommandComplete{CommandTag: []byte("DEALLOCATE ALL")})
			return nil
		}
		name := ps.name
		if _, ok := c.stmts[name]; !ok {
			name = lowerASCII(name)
		}
		if _, ok := c.stmts[name]; !ok || name == "" {
			// One SQL PREPARE made, by its name as written.
			if err := c.sess.Deallocate(ps.name); err != nil {
				return err
			}
		}
		delete(c.stmts, name)
		c.send(&pgproto3.CommandComplete{CommandTag: []byte("DEALLOCATE")})
	case protoDiscardAll:
		if c.txn != 'I' {
			return sqlerr.New("25001", "DISCARD ALL cannot run inside a transaction block")
		}
		c.closePortals()
		c.stmts = map[string]*statement{}
		c.sess.DeallocateAll()
		c.send(&pgproto3.CommandComplete{CommandTag: []byte("DISCARD ALL")})
	case protoCopyOut:
		return c.sess.Execute(ctx, ps.copy.query, &copySink{c: c, cc: ps.copy})
	case protoCopyIn:
		return sqlerr.New(sqlerr.FeatureNotSupported, "COPY FROM STDIN is not supported; use INSERT")
	}
	return nil
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, ch := range b {
		if ch >= 'A' && ch <= 'Z' {
			b[i] = ch + 'a' - 'A'
		}
	}
	return string(b)
}

// rowSink sends a statement's result: RowDescription (simple protocol
// only: the extended protocol describes on Describe), DataRows as batches
// arrive, CommandComplete.
type rowSink struct {
	c          *conn
	describe   bool
	formats    []int16  // result format codes (extended protocol)
	oids       []uint32 // column types announced by Describe; nil: the batch's
	sql        string   // the text, to report SET application_name
	statements int
}

func (s *rowSink) StartStatement(i, n int) { s.statements++ }

func (s *rowSink) Begin(schema *arrow.Schema) error {
	if s.describe {
		s.c.send(&pgproto3.RowDescription{Fields: fieldDescriptions(schema, nil)})
	}
	return nil
}

func (s *rowSink) Batch(rec arrow.Record) error {
	return s.c.writeRows(rec, 0, int(rec.NumRows()), s.formats, s.oids)
}

func (s *rowSink) End(tag string, rows int64) error {
	s.c.send(&pgproto3.CommandComplete{CommandTag: commandTag(tag, rows)})
	s.c.noteTag(tag)
	if tag == "SET" && s.statements <= 1 {
		s.c.reportSet(s.sql)
	}
	return nil
}

// writeRows sends rows [from, to) of rec as DataRows, writing out when
// enough is buffered (or enough time went by) so results stream.
func (c *conn) writeRows(rec arrow.Record, from, to int, formats []int16, oids []uint32) error {
	ncols := int(rec.NumCols())
	encs := c.encs[:0]
	for j := 0; j < ncols; j++ {
		col := rec.Column(j)
		oid := typeOID(col.DataType())
		if j < len(oids) {
			oid = oids[j]
		}
		encs = append(encs, newEncoder(col, oid, formatFor(formats, j)))
	}
	c.encs = encs
	for i := from; i < to; i++ {
		w := append(c.wbuf, 'D', 0, 0, 0, 0, byte(ncols>>8), byte(ncols))
		at := len(w) - 6
		for _, enc := range encs {
			w = enc(w, i)
		}
		binary.BigEndian.PutUint32(w[at:], uint32(len(w)-at))
		c.wbuf = w
		if len(w) >= flushThreshold {
			if err := c.flush(); err != nil {
				return err
			}
		}
	}
	clear(c.encs)
	if len(c.wbuf) > 0 && time.Since(c.lastFlush) > flushInterval {
		return c.flush()
	}
	return nil
}

// commandTag formats a CommandComplete tag as PostgreSQL does.
func commandTag(tag string, rows int64) []byte {
	n := strconv.FormatInt(rows, 10)
	switch tag {
	case "SELECT", "UPDATE", "DELETE", "MERGE", "FETCH", "MOVE", "COPY":
		return []byte(tag + " " + n)
	case "INSERT":
		return []byte("INSERT 0 " + n)
	case "CREATE TABLE AS":
		return []byte("SELECT " + n)
	case "USE":
		return []byte("SET")
	}
	return []byte(tag)
}

var reSetAppName = regexp.MustCompile(`(?is)^\s*SET\s+(?:SESSION\s+)?application_name\s*(?:=|\s+TO\s+)\s*('(?:[^']|'')*'|[^\s;]+)\s*;?\s*$`)

// reportSet sends the ParameterStatus PostgreSQL sends after a SET of a
// reported setting (application_name is the one Quarry follows).
func (c *conn) reportSet(sql string) {
	m := reSetAppName.FindStringSubmatch(sql)
	if m == nil {
		return
	}
	c.appName = unquote(m[1])
	c.send(&pgproto3.ParameterStatus{Name: "application_name", Value: c.appName})
}
