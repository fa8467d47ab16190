package coordinator

import (
	"context"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner"
)

// Prepared is one statement parsed and planned once to learn its parameter
// and result types, then run any number of times with parameter values.
// Its first run makes a generic plan, with the parameters left open, and
// later runs bind that plan to their values while it still reads what it
// was planned against (planner.Planner.Current); scans prune their row
// groups by each run's values. A statement whose plan cannot be kept (it
// folds the clock or reads memory or system tables) is planned with the
// values in place on every run.
type Prepared struct {
	SQL string
	// ParamTypes are the types of $1, $2, … (declared, or inferred from
	// their context; text when nothing says otherwise).
	ParamTypes []arrow.DataType
	// Schema is the result's schema; nil for a statement without rows.
	Schema *arrow.Schema
	// Tag is the command tag the statement reports (SELECT, SET, …);
	// empty for an empty statement.
	Tag string
	// Empty is set when the text holds no statement.
	Empty  bool
	parsed *planner.Parsed

	mu      sync.Mutex
	generic *planner.Statement // the kept generic plan
	custom  bool               // no generic plan: plan each run with its values
}

// Prepare parses and plans sql, which must hold at most one statement,
// without running it. declared gives types for $n placeholders (nil
// entries are inferred). Statements that change the session (SET) change
// it only when executed.
func (s *Session) Prepare(ctx context.Context, sql string, declared []arrow.DataType) (*Prepared, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	parsed, err := planner.ParseAll(sql)
	if err != nil {
		return nil, sqlerr.As(err)
	}
	switch len(parsed) {
	case 0:
		return &Prepared{SQL: sql, Empty: true}, nil
	case 1:
	default:
		return nil, sqlerr.New(sqlerr.SyntaxError, "cannot insert multiple commands into a prepared statement")
	}
	return s.prepare(ctx, sql, parsed[0], declared)
}

// prepare describes parsed, the statement of sql; the caller holds s.mu.
func (s *Session) prepare(ctx context.Context, sql string, parsed *planner.Parsed, declared []arrow.DataType) (*Prepared, error) {
	scratch := s.sess // describing must not apply SET
	stmt, err := s.eng.planner.PlanParams(ctx, &scratch, parsed, &planner.Params{Types: declared})
	if err != nil {
		return nil, sqlerr.As(err)
	}
	ps := &Prepared{SQL: sql, ParamTypes: stmt.ParamTypes, Tag: stmt.Tag, parsed: parsed}
	if stmt.Generic() {
		// No parameters: the describing plan is the one to run.
		ps.generic = stmt
	} else if stmt.Plan != nil {
		defer stmt.Plan.Release()
	}
	// Declared types win even where the text does not use the parameter.
	for i, t := range declared {
		if t == nil {
			continue
		}
		for len(ps.ParamTypes) <= i {
			ps.ParamTypes = append(ps.ParamTypes, arrow.BinaryTypes.String)
		}
		ps.ParamTypes[i] = t
	}
	switch stmt.Kind {
	case planner.StmtQuery:
		ps.Schema = stmt.Plan.Schema()
	case planner.StmtExplain:
		ps.Schema = arrow.NewSchema([]arrow.Field{{Name: "plan", Type: arrow.BinaryTypes.String}}, nil)
	case planner.StmtExecute:
		// EXECUTE describes as the statement it runs.
		named, err := s.namedPrepared(stmt.Name)
		if err != nil {
			return nil, err
		}
		ps.Schema, ps.Tag = named.Schema, named.Tag
	}
	return ps, nil
}

// ExecutePrepared runs ps with values for its parameters ($1 is values[0])
// in Literal.Value form: a string is text the client sent and converts to
// the parameter's type. Results stream to sink as in Execute.
func (s *Session) ExecutePrepared(ctx context.Context, ps *Prepared, values []any, sink ResultSink) error {
	if ps.Empty {
		return nil
	}
	if len(values) < len(ps.ParamTypes) {
		return sqlerr.New(sqlerr.ProtocolViolation, "statement needs %d parameters, got %d", len(ps.ParamTypes), len(values))
	}
	if values == nil {
		values = []any{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.executeOne(ctx, ps.parsed, func() (*planner.Statement, error) {
		return s.planPrepared(ctx, ps, values)
	}, sink)
}

// planPrepared plans a run of ps: its generic plan bound to values when
// there is one (made now on the first run), else a plan with the values in
// place.
func (s *Session) planPrepared(ctx context.Context, ps *Prepared, values []any) (*planner.Statement, error) {
	pl := s.eng.planner
	ps.mu.Lock()
	g, custom := ps.generic, ps.custom
	ps.mu.Unlock()
	if !custom && (g == nil || !pl.Current(ctx, &s.sess, g)) {
		scratch := s.sess
		st, err := pl.PlanParams(ctx, &scratch, ps.parsed, &planner.Params{Types: ps.ParamTypes, Generic: true})
		g = nil
		if err == nil && st.Generic() {
			g = st
		} else if err == nil && st.Plan != nil {
			st.Plan.Release()
		}
		ps.mu.Lock()
		// A statement that has no generic plan now never has one; one
		// that has is planned again when what it read changes.
		ps.generic, ps.custom = g, g == nil
		ps.mu.Unlock()
	}
	if g != nil {
		plan, err := pl.BindParams(g, values)
		if err != nil {
			return nil, sqlerr.As(err)
		}
		st := *g
		st.Plan = plan
		return &st, nil
	}
	return pl.PlanParams(ctx, &s.sess, ps.parsed, &planner.Params{Types: ps.ParamTypes, Values: values})
}

// SQL-level prepared statements (PREPARE, EXECUTE, DEALLOCATE) are kept
// per session by name and run like the extended protocol's: the first
// EXECUTE makes a generic plan that later ones bind to their arguments.
// A front door with prepared statements of its own (pgwire's named
// statements) shares their name space through SetProtocolStatements, as
// PostgreSQL does.

// SetProtocolStatements lets the session see a front door's named
// prepared statements: lookup reports whether name is one and, when it
// runs through the engine, its Prepared (nil otherwise).
func (s *Session) SetProtocolStatements(lookup func(name string) (*Prepared, bool)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.protoStmts = lookup
}

// HasPrepared reports whether the session has an SQL-level prepared
// statement name.
func (s *Session) HasPrepared(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.named[name] != nil
}

// LookupPrepared returns the SQL-level prepared statement name (nil if
// there is none).
func (s *Session) LookupPrepared(name string) *Prepared {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.named[name]
}

// Deallocate drops the SQL-level prepared statement name (26000 when
// there is none).
func (s *Session) Deallocate(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deallocate(name)
}

func (s *Session) deallocate(name string) error {
	if s.named[name] == nil {
		return sqlerr.New("26000", "prepared statement %q does not exist", name)
	}
	delete(s.named, name)
	return nil
}

// DeallocateAll drops every SQL-level prepared statement.
func (s *Session) DeallocateAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.named = nil
}

// namedPrepared is the prepared statement EXECUTE name runs: the
// session's own, else the front door's.
func (s *Session) namedPrepared(name string) (*Prepared, error) {
	if ps := s.named[name]; ps != nil {
		return ps, nil
	}
	if s.protoStmts != nil {
		if ps, ok := s.protoStmts(name); ok {
			if ps == nil {
				return nil, sqlerr.New(sqlerr.FeatureNotSupported, "prepared statement %q cannot be run with EXECUTE", name)
			}
			return ps, nil
		}
	}
	return nil, sqlerr.New("26000", "prepared statement %q does not exist", name)
}

// runPrepCommand carries out PREPARE and DEALLOCATE (done: nothing left
// to run) and turns EXECUTE into the plan of the statement it runs; other
// statements pass through. The caller holds s.mu.
func (s *Session) runPrepCommand(ctx context.Context, stmt *planner.Statement, sink ResultSink) (next *planner.Statement, done bool, err error) {
	switch stmt.Kind {
	case planner.StmtPrepare:
		proto := false
		if s.protoStmts != nil {
			_, proto = s.protoStmts(stmt.Name)
		}
		if s.named[stmt.Name] != nil || proto {
			return nil, true, sqlerr.New("42P05", "prepared statement %q already exists", stmt.Name)
		}
		ps, err := s.prepare(ctx, stmt.Body.Text, stmt.Body, stmt.PrepareTypes)
		if err != nil {
			return nil, true, stmt.BodyError(err)
		}
		if s.named == nil {
			s.named = map[string]*Prepared{}
		}
		s.named[stmt.Name] = ps
		return nil, true, sink.End(stmt.Tag, 0)
	case planner.StmtDeallocate:
		if stmt.Name == "" {
			s.named = nil
		} else if err := s.deallocate(stmt.Name); err != nil {
			return nil, true, err
		}
		return nil, true, sink.End(stmt.Tag, 0)
	case planner.StmtExecute:
		ps, err := s.namedPrepared(stmt.Name)
		if err != nil {
			return nil, true, err
		}
		if n := stmt.ExecuteArgCount(); n != len(ps.ParamTypes) {
			return nil, true, sqlerr.New(sqlerr.SyntaxError, "wrong number of parameters for prepared statement %q: expected %d parameters but got %d",
				stmt.Name, len(ps.ParamTypes), n)
		}
		values, err := s.eng.planner.ExecuteArgs(ctx, &s.sess, stmt, ps.ParamTypes)
		if err != nil {
			return nil, true, err
		}
		if values == nil {
			values = []any{}
		}
		next, err := s.planPrepared(ctx, ps, values)
		if err != nil {
			return nil, true, err
		}
		return next, false, nil
	case planner.StmtSet:
		if stmt.Tag == "DISCARD ALL" {
			s.named = nil
		}
	}
	return stmt, false, nil
}
