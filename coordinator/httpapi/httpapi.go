// Package httpapi is Quarry's HTTP API: health and SQL endpoints that stream
// results as JSON, batch by batch.
//
//	GET  /api/v1/health → {"status":"ok","version":…,"sources":[…]}
//	POST /api/v1/sql    {"sql": "...", "schema": "optional default schema"}
//
// A successful /sql response is 200 with one JSON object
//
//	{"columns":[{"name":"n","type":"BIGINT"},…],"rows":[[1,"x"],…],"rowCount":N,"tag":"SELECT"}
//
// written and flushed batch by batch. Integers and doubles are JSON numbers
// (non-finite doubles are strings), decimals are strings at their scale (to
// stay exact), dates and timestamps are strings, NULL is null. For a text of
// several statements the response shows the last one's result; the earlier
// statements run to completion and their rows are discarded. A statement
// without rows gives "columns":[] and "rows":[] with its tag and row count.
//
// An error before any row was sent (the status line waits for the first
// row) is HTTP 400 with
// {"error":{"code":"42P01","message":"...","position":N}}; an error after
// streaming began ends the object with an "error" field of the same shape
// (the status is already 200). A client that disconnects cancels the query.
package httpapi

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/coordinator"
	"github.com/quarrydb/quarry/coordinator/resultfmt"
	"github.com/quarrydb/quarry/planner/physical"
)

// Version is reported by /api/v1/health.
var Version = "dev"

// maxBody bounds a request body.
const maxBody = 16 << 20

// Handler serves the API for eng.
func Handler(eng *coordinator.Engine, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	h := &handler{eng: eng, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/health", h.health)
	mux.HandleFunc("POST /api/v1/sql", h.sql)
	return mux
}

type handler struct {
	eng *coordinator.Engine
	log *slog.Logger
}

func (h *handler) health(w http.ResponseWriter, r *http.Request) {
	srcs, err := h.eng.Sources()
	names := []string{}
	for _, s := range srcs {
		names = append(names, s.Name)
	}
	resp := map[string]any{"status": "ok", "version": Version, "sources": names}
	if err != nil {
		resp["status"] = "degraded"
		resp["error"] = err.Error()
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}

// SQLRequest is the body of POST /api/v1/sql.
type SQLRequest struct {
	SQL    string `json:"sql"`
	Schema string `json:"schema,omitempty"`
}

// ErrorBody is the JSON shape of an error.
type ErrorBody struct {
	Code     string `json:"code"`
	Message  string `json:"message"`
	Position int    `json:"position,omitempty"`
}

func errorBody(err error) ErrorBody {
	e := sqlerr.As(err)
	return ErrorBody{Code: e.Code, Message: e.Msg, Position: e.Pos}
}

func writeError(w http.ResponseWriter, status int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": errorBody(err)})
}

func (h *handler) sql(w http.ResponseWriter, r *http.Request) {
	var req SQLRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, sqlerr.New(sqlerr.InvalidParameterValue, "bad request body: %v", err))
		return
	}
	if req.SQL == "" {
		writeError(w, http.StatusBadRequest, sqlerr.New(sqlerr.InvalidParameterValue, `request body needs "sql"`))
		return
	}
	sess := h.eng.NewSession(req.Schema)
	sink := &jsonSink{w: w, rc: http.NewResponseController(w)}
	err := sess.Execute(r.Context(), req.SQL, sink)
	if err != nil {
		if r.Context().Err() != nil {
			h.log.Info("client went away", "err", err)
			return
		}
		if !sink.started {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		sink.fail(err)
		return
	}
	if !sink.started {
		// Nothing ran (empty text): answer an empty result.
		sink.start(nil)
		sink.finish("", 0)
	}
}

// jsonSink streams the last statement's result as one JSON object.
type jsonSink struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	bw      *bufio.Writer
	last    bool // the current statement is the text's last
	schema  *arrow.Schema
	started bool // headers and the object's opening were written
	nrows   int64
	buf     []byte
}

func (s *jsonSink) StartStatement(index, count int) { s.last = index == count-1 }

func (s *jsonSink) start(schema *arrow.Schema) {
	s.started = true
	s.w.Header().Set("Content-Type", "application/json")
	s.w.WriteHeader(http.StatusOK)
	s.bw = bufio.NewWriterSize(s.w, 64<<10)
	b := append(s.buf[:0], `{"columns":[`...)
	if schema != nil {
		for i, f := range schema.Fields() {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = resultfmt.AppendJSONString(b, f.Name)
			b = append(b, `,"type":`...)
			b = resultfmt.AppendJSONString(b, physical.TypeName(f.Type))
			b = append(b, '}')
		}
	}
	b = append(b, `],"rows":[`...)
	s.buf = b
	s.bw.Write(b)
}

// Begin only notes the schema: the status line waits for the first row (or
// the end), so that an error before any row is still an HTTP 400.
func (s *jsonSink) Begin(schema *arrow.Schema) error {
	if s.last {
		s.schema = schema
	}
	return nil
}

func (s *jsonSink) Batch(rec arrow.Record) error {
	if !s.last {
		return nil
	}
	if !s.started {
		s.start(s.schema)
	}
	cols := resultfmt.Columns(rec)
	for r := 0; r < int(rec.NumRows()); r++ {
		b := s.buf[:0]
		if s.nrows > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		for c := range cols {
			if c > 0 {
				b = append(b, ',')
			}
			b = resultfmt.AppendJSONValue(b, &cols[c], r)
		}
		b = append(b, ']')
		s.buf = b
		if _, err := s.bw.Write(b); err != nil {
			return err
		}
		s.nrows++
	}
	return s.flush()
}

func (s *jsonSink) flush() error {
	if err := s.bw.Flush(); err != nil {
		return err
	}
	if err := s.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

func (s *jsonSink) End(tag string, rows int64) error {
	if !s.last {
		return nil
	}
	if !s.started {
		s.start(s.schema)
	}
	s.finish(tag, rows)
	return nil
}

func (s *jsonSink) finish(tag string, rows int64) {
	b := append(s.buf[:0], `],"rowCount":`...)
	b = strconv.AppendInt(b, rows, 10)
	b = append(b, `,"tag":`...)
	b = resultfmt.AppendJSONString(b, tag)
	b = append(b, "}\n"...)
	s.bw.Write(b)
	s.flush()
}

// fail ends an object whose streaming had begun with an error field. Only
// the last statement streams, and nothing can fail after its End, so the
// object is always still inside "rows".
func (s *jsonSink) fail(err error) {
	b := append(s.buf[:0], `],"rowCount":`...)
	b = strconv.AppendInt(b, s.nrows, 10)
	eb, _ := json.Marshal(errorBody(err))
	b = append(b, `,"error":`...)
	b = append(b, eb...)
	b = append(b, "}\n"...)
	s.bw.Write(b)
	s.flush()
}
