package pgwire

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/jackc/pgx/v5/pgproto3"
)

// cursor keeps a row-limited portal's query running between Executes: a
// goroutine runs the statement and hands batches over a channel (one batch
// in flight, so the query waits while the client is not fetching), and each
// Execute takes up to its row limit from them.
type cursor struct {
	items  chan cursorItem
	cancel context.CancelFunc

	rec      arrow.Record // the batch being sent
	off      int          // its next row
	finished bool         // the final item arrived
}

// cursorItem is a batch, or (final) how the statement ended.
type cursorItem struct {
	rec   arrow.Record
	final bool
	tag   string
	rows  int64
	err   error
}

// openCursor starts p's statement. It runs in a session of its own so
// that the connection can run other statements while the portal is open
// (JDBC does, between fetches); the session starts in the connection's
// schema.
func (c *conn) openCursor(p *portal) *cursor {
	ctx, cancel := context.WithCancel(c.ctx)
	cur := &cursor{items: make(chan cursorItem, 1), cancel: cancel}
	sess := c.srv.cfg.Engine.NewSession(c.sess.DefaultSchema())
	ps, values := p.stmt.ps, p.values
	go func() {
		sink := &chanSink{ctx: ctx, items: cur.items}
		err := sess.ExecutePrepared(ctx, ps, values, sink)
		cur.items <- cursorItem{final: true, tag: sink.tag, rows: sink.rows, err: err}
	}()
	return cur
}

// close stops the query and waits for its goroutine, releasing the
// batches it still had.
func (cur *cursor) close() {
	cur.cancel()
	if cur.rec != nil {
		cur.rec.Release()
		cur.rec = nil
	}
	for !cur.finished {
		it := <-cur.items
		if it.final {
			cur.finished = true
		} else {
			it.rec.Release()
		}
	}
}

// fetch sends up to maxRows rows (0: all) of p's cursor: PortalSuspended
// when the limit stopped it, else the statement's completion.
func (c *conn) fetch(p *portal, maxRows uint32) {
	cur := p.cur
	c.act.set(cur.cancel)
	defer c.act.set(nil)
	sent := int64(0)
	limit := int64(maxRows)
	for limit == 0 || sent < limit {
		if cur.rec != nil {
			n := cur.rec.NumRows() - int64(cur.off)
			if limit > 0 && n > limit-sent {
				n = limit - sent
			}
			if n > 0 {
				if err := c.writeRows(cur.rec, cur.off, cur.off+int(n), p.formats, p.stmt.oids); err != nil {
					c.closePortal(p.name)
					return
				}
				cur.off += int(n)
				sent += n
				continue
			}
			cur.rec.Release()
			cur.rec = nil
		}
		if cur.finished {
			break
		}
		it := <-cur.items
		if !it.final {
			cur.rec, cur.off = it.rec, 0
			continue
		}
		cur.finished = true
		p.done = true
		if it.err != nil {
			c.fail(queryPosition(it.err, p.stmt.sql, p.stmt.sql, 0, 1))
			return
		}
		c.send(&pgproto3.CommandComplete{CommandTag: commandTag(it.tag, sent)})
		c.noteTag(it.tag)
		return
	}
	if cur.finished {
		c.send(&pgproto3.CommandComplete{CommandTag: commandTag(p.stmt.ps.Tag, sent)})
		return
	}
	c.send(&pgproto3.PortalSuspended{})
}

// chanSink hands a statement's batches to a cursor.
type chanSink struct {
	ctx   context.Context
	items chan<- cursorItem
	tag   string
	rows  int64
}

func (s *chanSink) Begin(*arrow.Schema) error { return nil }

func (s *chanSink) Batch(rec arrow.Record) error {
	rec.Retain()
	select {
	case s.items <- cursorItem{rec: rec}:
		return nil
	case <-s.ctx.Done():
		rec.Release()
		return s.ctx.Err()
	}
}

func (s *chanSink) End(tag string, rows int64) error {
	s.tag, s.rows = tag, rows
	return nil
}
