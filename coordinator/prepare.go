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
	scratch := s.sess // describing must not apply SET
	stmt, err := s.eng.planner.PlanParams(ctx, &scratch, parsed[0], &planner.Params{Types: declared})
	if err != nil {
		return nil, sqlerr.As(err)
	}
	ps := &Prepared{SQL: sql, ParamTypes: stmt.ParamTypes, Tag: stmt.Tag, parsed: parsed[0]}
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
