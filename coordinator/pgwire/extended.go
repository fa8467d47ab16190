package pgwire

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/coordinator"
)

// statement is a prepared statement of the extended protocol.
type statement struct {
	name      string
	sql       string
	ps        *coordinator.Prepared // nil for a protocol-level statement
	proto     *protoStatement
	paramOIDs []uint32
	oids      []uint32 // result column types; nil: no rows
}

// portal is a statement bound to parameter values and result formats.
type portal struct {
	name    string
	stmt    *statement
	values  []any
	formats []int16
	cur     *cursor // set once a row-limited Execute started it
	done    bool    // ran to completion
}

// fail reports an extended-protocol error: everything up to Sync is
// skipped.
func (c *conn) fail(err error) {
	if c.ioErr == nil {
		c.sendError(err)
	}
	c.skipping = true
}

func (c *conn) parse(m *pgproto3.Parse) {
	if m.Name != "" {
		if _, dup := c.stmts[m.Name]; dup || c.sess.HasPrepared(m.Name) {
			c.fail(sqlerr.New("42P05", "prepared statement %q already exists", m.Name))
			return
		}
	}
	st := &statement{name: m.Name, sql: m.Query}
	proto, err := classify(m.Query)
	if err != nil {
		c.fail(err)
		return
	}
	if proto != nil {
		if proto.kind == protoCopyOut || proto.kind == protoCopyIn {
			c.fail(sqlerr.New(sqlerr.FeatureNotSupported, "COPY is supported in the simple query protocol only"))
			return
		}
		st.proto = proto
		st.paramOIDs = append([]uint32(nil), m.ParameterOIDs...)
	} else {
		declared := make([]arrow.DataType, len(m.ParameterOIDs))
		for i, oid := range m.ParameterOIDs {
			declared[i] = declaredType(oid)
		}
		ctx, done := c.startActivity()
		ps, err := c.sess.Prepare(ctx, m.Query, declared)
		done()
		if err != nil {
			c.fail(queryPosition(err, m.Query, m.Query, 0, 1))
			return
		}
		st.describe(ps, m.ParameterOIDs)
	}
	c.stmts[m.Name] = st
	c.send(&pgproto3.ParseComplete{})
}

// describe makes st run ps, with the parameter types the client declared
// (declared OIDs; 0 or unknown: ps's).
func (st *statement) describe(ps *coordinator.Prepared, declared []uint32) {
	st.ps = ps
	st.paramOIDs = make([]uint32, len(ps.ParamTypes))
	for i, t := range ps.ParamTypes {
		if i < len(declared) && declared[i] != 0 && declared[i] != oidUnknown {
			st.paramOIDs[i] = declared[i]
		} else {
			st.paramOIDs[i] = typeOID(t)
		}
	}
	if ps.Schema != nil {
		st.oids = make([]uint32, ps.Schema.NumFields())
		for i, f := range ps.Schema.Fields() {
			st.oids[i] = typeOID(f.Type)
		}
	}
}

// statement is the prepared statement name: the protocol's, else one
// SQL PREPARE made (they share one name space, as in PostgreSQL).
func (c *conn) statement(name string) *statement {
	if st := c.stmts[name]; st != nil || name == "" {
		return st
	}
	ps := c.sess.LookupPrepared(name)
	if ps == nil {
		return nil
	}
	st := &statement{name: name, sql: ps.SQL}
	st.describe(ps, nil)
	return st
}

// protocolStatement shows the session (EXECUTE, PREPARE) the protocol's
// named statements.
func (c *conn) protocolStatement(name string) (*coordinator.Prepared, bool) {
	st := c.stmts[name]
	if st == nil || name == "" {
		return nil, false
	}
	return st.ps, true
}

func (c *conn) bind(m *pgproto3.Bind) {
	st := c.statement(m.PreparedStatement)
	if st == nil {
		c.fail(sqlerr.New("26000", "prepared statement %q does not exist", m.PreparedStatement))
		return
	}
	if m.DestinationPortal == "" {
		c.closePortal("")
	} else if _, dup := c.portals[m.DestinationPortal]; dup {
		c.fail(sqlerr.New("42P03", "cursor %q already exists", m.DestinationPortal))
		return
	}
	if len(m.Parameters) != len(st.paramOIDs) {
		c.fail(sqlerr.New(sqlerr.ProtocolViolation, "bind message supplies %d parameters, but prepared statement %q requires %d",
			len(m.Parameters), m.PreparedStatement, len(st.paramOIDs)))
		return
	}
	if n := len(m.ParameterFormatCodes); n > 1 && n != len(m.Parameters) {
		c.fail(sqlerr.New(sqlerr.ProtocolViolation, "bind message has %d parameter formats but %d parameters", n, len(m.Parameters)))
		return
	}
	ncols := len(st.oids)
	if n := len(m.ResultFormatCodes); n > 1 && n != ncols {
		c.fail(sqlerr.New(sqlerr.ProtocolViolation, "bind message has %d result formats but query has %d columns", n, ncols))
		return
	}
	p := &portal{name: m.DestinationPortal, stmt: st}
	if len(m.ResultFormatCodes) > 0 {
		p.formats = append([]int16(nil), m.ResultFormatCodes...)
		for _, f := range p.formats {
			if f != formatText && f != formatBinary {
				c.fail(sqlerr.New(sqlerr.ProtocolViolation, "unsupported format code: %d", f))
				return
			}
		}
	}
	if st.ps != nil {
		p.values = make([]any, len(m.Parameters))
		for i, data := range m.Parameters {
			v, err := decodeParam(data, formatFor(m.ParameterFormatCodes, i), st.paramOIDs[i], st.ps.ParamTypes[i])
			if err != nil {
				c.fail(err)
				return
			}
			p.values[i] = v
		}
	}
	c.portals[p.name] = p
	c.send(&pgproto3.BindComplete{})
}

func (c *conn) describe(m *pgproto3.Describe) {
	switch m.ObjectType {
	case 'S':
		st := c.statement(m.Name)
		if st == nil {
			c.fail(sqlerr.New("26000", "prepared statement %q does not exist", m.Name))
			return
		}
		c.send(&pgproto3.ParameterDescription{ParameterOIDs: st.paramOIDs})
		c.sendRowDescription(st, nil)
	case 'P':
		p := c.portals[m.Name]
		if p == nil {
			c.fail(sqlerr.New("34000", "portal %q does not exist", m.Name))
			return
		}
		c.sendRowDescription(p.stmt, p.formats)
	default:
		c.fail(sqlerr.New(sqlerr.ProtocolViolation, "invalid DESCRIBE message subtype %d", m.ObjectType))
	}
}

func (c *conn) sendRowDescription(st *statement, formats []int16) {
	if st.ps == nil || st.ps.Schema == nil {
		c.send(&pgproto3.NoData{})
		return
	}
	c.send(&pgproto3.RowDescription{Fields: fieldDescriptions(st.ps.Schema, formats)})
}

func (c *conn) execute(m *pgproto3.Execute) {
	p := c.portals[m.Portal]
	if p == nil {
		c.fail(sqlerr.New("34000", "portal %q does not exist", m.Portal))
		return
	}
	st := p.stmt
	if err := c.checkFailedTxn(st.sql); err != nil {
		c.fail(err)
		return
	}
	switch {
	case st.proto != nil:
		ctx, done := c.startActivity()
		err := c.runProto(ctx, st.proto)
		done()
		if err != nil {
			c.fail(err)
		}
		return
	case st.ps.Empty:
		c.send(&pgproto3.EmptyQueryResponse{})
		return
	case p.cur != nil:
		c.fetch(p, m.MaxRows)
		return
	case p.done:
		// PostgreSQL answers a finished portal with an empty completion.
		c.send(&pgproto3.CommandComplete{CommandTag: commandTag(st.ps.Tag, 0)})
		return
	case m.MaxRows > 0 && st.ps.Schema != nil:
		p.cur = c.openCursor(p)
		c.fetch(p, m.MaxRows)
		return
	}
	ctx, done := c.startActivity()
	sink := &rowSink{c: c, formats: p.formats, oids: st.oids, sql: st.sql}
	err := c.sess.ExecutePrepared(ctx, st.ps, p.values, sink)
	done()
	p.done = true
	if err != nil {
		c.fail(queryPosition(err, st.sql, st.sql, 0, 1))
	}
}

func (c *conn) closeObject(m *pgproto3.Close) {
	switch m.ObjectType {
	case 'S':
		if _, ok := c.stmts[m.Name]; ok || m.Name == "" {
			delete(c.stmts, m.Name)
		} else {
			c.sess.Deallocate(m.Name) // closing none is no error
		}
	case 'P':
		c.closePortal(m.Name)
	default:
		c.fail(sqlerr.New(sqlerr.ProtocolViolation, "invalid CLOSE message subtype %d", m.ObjectType))
		return
	}
	c.send(&pgproto3.CloseComplete{})
}

// closePortal drops a portal, stopping its query if it was suspended.
func (c *conn) closePortal(name string) {
	if p := c.portals[name]; p != nil {
		if p.cur != nil {
			p.cur.close()
			p.cur = nil
		}
		delete(c.portals, name)
	}
}

// closePortals drops every portal (end of a transaction, connection).
func (c *conn) closePortals() {
	for name := range c.portals {
		c.closePortal(name)
	}
}
