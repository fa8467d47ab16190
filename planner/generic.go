package planner

import (
	"context"
	"maps"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quarrydb/quarry/catalog"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// A generic plan is the plan of a prepared statement made once with its
// parameters left open (physical.FnParam), kept, and bound to each
// execution's values, so that running a prepared statement again costs no
// planning. It is kept only while it still reads what it was planned
// against: the same datasets (Lookup hands out the same *Dataset until
// their files change), the same names (catalog.NamesVersion), the same
// session settings and cluster size. Plans that fold something else of
// their moment into constants — the clock (now(), current_date), the
// catalog's system tables, memory tables, PostgreSQL catalog functions —
// are never kept. Scans whose filters read parameters prune their row
// groups again for each execution's values, as a plan made with them
// would.

// genericPlan is what checking and binding a kept plan needs.
type genericPlan struct {
	deps       []dependency
	names      uint64
	schema     string
	settings   map[string]string
	instances  int
	paramTypes []arrow.DataType
	// scans are the scans whose filters read parameters, by node ID.
	scans map[int]scanSource
}

// dependency is one table the plan reads, as the binder resolved it.
type dependency struct {
	name   []string
	schema string
	ds     *catalog.Dataset
}

// scanSource is what prunes a scan again: its logical node (filters over
// parameters) and dataset.
type scanSource struct {
	x     *LScan
	ds    *catalog.Dataset
	nFile int
}

// reuseTracker collects, while a statement is planned with open
// parameters, what decides whether its plan can be kept.
type reuseTracker struct {
	unstable bool
	deps     []dependency
	scans    map[int]scanSource
}

// momentary marks the plan being built as folding a value of its moment
// (the clock, the catalog's contents): it must not be kept.
func (b *binder) momentary() {
	if b.reuse != nil {
		b.reuse.unstable = true
	}
}

// dependOn records a dataset the plan reads.
func (b *binder) dependOn(name []string, ds *catalog.Dataset) {
	if b.reuse == nil {
		return
	}
	if ds.Kind != catalog.ParquetDataset {
		// Memory and system tables are snapshots taken at planning.
		b.reuse.unstable = true
		return
	}
	b.reuse.deps = append(b.reuse.deps, dependency{name: name, schema: b.sess.DefaultSchema, ds: ds})
}

// keep turns the tracker into st's generic plan when the plan can be
// kept.
func (p *Planner) keep(b *binder, st *Statement) {
	r := b.reuse
	if r == nil || r.unstable || st.Kind != StmtQuery || st.Plan == nil || (!b.params.Generic && len(b.slots) > 0) {
		return
	}
	values := false
	for _, f := range st.Plan.Fragments {
		physical.Walk(f.Root, func(n physical.Node) {
			if _, ok := n.(*physical.Values); ok {
				values = true
			}
		})
	}
	if values {
		// Literal batches would have to outlive the statement.
		return
	}
	g := &genericPlan{
		deps:       r.deps,
		names:      p.Catalog.NamesVersion(),
		schema:     b.sess.DefaultSchema,
		settings:   maps.Clone(b.sess.Settings),
		instances:  p.instances(),
		paramTypes: make([]arrow.DataType, len(b.slots)),
		scans:      r.scans,
	}
	for i, s := range b.slots {
		if s != nil {
			g.paramTypes[i] = s.t
		}
	}
	st.generic = g
}

func (p *Planner) instances() int {
	if p.Instances == nil {
		return 0
	}
	return p.Instances()
}

// Generic reports whether st is a generic plan that can be kept and run
// again: bind it with BindParams after checking it with Current.
func (st *Statement) Generic() bool { return st.generic != nil }

// Current reports whether st, a generic plan, still reads for sess what it
// was planned against. When it does not, plan the statement again.
func (p *Planner) Current(ctx context.Context, sess *Session, st *Statement) bool {
	g := st.generic
	if g == nil || g.names != p.Catalog.NamesVersion() || g.schema != sess.DefaultSchema ||
		!maps.Equal(g.settings, sess.Settings) || g.instances != p.instances() {
		return false
	}
	for _, d := range g.deps {
		ds, err := p.Catalog.Lookup(ctx, d.name, d.schema)
		if err != nil || ds != d.ds {
			return false
		}
	}
	return true
}

// BindParams returns the plan of st, a generic plan, for parameter values
// in Literal.Value form (as Params.Values: a string is text that converts
// to the parameter's type). The caller releases it.
func (p *Planner) BindParams(st *Statement, values []any) (*physical.Plan, error) {
	g := st.generic
	if g == nil {
		return nil, sqlerr.New(sqlerr.InternalError, "statement has no generic plan")
	}
	lits := make([]*physical.Literal, len(g.paramTypes))
	for i, t := range g.paramTypes {
		if t == nil {
			continue // not read by the plan
		}
		if i >= len(values) {
			return nil, sqlerr.New(sqlerr.UndefinedParameter, "there is no parameter $%d", i+1)
		}
		l, err := p.paramLiteral(i, values[i], t)
		if err != nil {
			return nil, err
		}
		lits[i] = l
	}
	if len(g.paramTypes) == 0 {
		// Nothing to bind: the kept plan itself runs (it holds no Values
		// batches, so releasing it is a no-op; see keep).
		return st.Plan, nil
	}
	prune := !p.Disabled[RuleRowGroupPruning]
	return physical.BindParams(st.Plan, lits, func(s *physical.ParquetScan) (*physical.ParquetScan, error) {
		src, ok := g.scans[s.ID]
		if !ok || !prune {
			return s, nil
		}
		x := *src.x
		x.Filters = make([]Expr, len(src.x.Filters))
		for i, f := range src.x.Filters {
			x.Filters[i] = p.bindLogical(f, lits)
		}
		s.Files, s.Pruned = pruneFiles(&x, src.ds, src.nFile, true)
		return s, nil
	})
}

// bindLogical is e with its parameters replaced by their values and what
// becomes constant folded, so that pruning sees comparisons with constants
// (a parameter of another type than its column sits in a cast).
func (p *Planner) bindLogical(e Expr, lits []*physical.Literal) Expr {
	return transformExpr(e, func(e Expr) Expr {
		f, ok := e.(*Func)
		if !ok {
			return e
		}
		if f.Fn == physical.FnParam {
			if l := lits[f.Arg[0].(*Const).Value.(int64)]; l != nil {
				return &Const{Value: l.Value, T: l.T}
			}
			return e
		}
		if c, err := p.evalConst(f); c != nil && err == nil {
			return c
		}
		return e
	})
}

// paramLiteral is parameter i's value v as a literal of type t, converted
// as a plan made with the value would convert it.
func (p *Planner) paramLiteral(i int, v any, t arrow.DataType) (*physical.Literal, error) {
	s, ok := v.(string)
	if v == nil || !ok || t.ID() == arrow.STRING {
		return &physical.Literal{Value: v, T: t}, nil
	}
	// Plain integers, what drivers send most, skip the cast kernel; any
	// other text goes through it (and its errors).
	switch t.ID() {
	case arrow.INT32:
		if n, err := strconv.ParseInt(s, 10, 32); err == nil {
			return &physical.Literal{Value: int32(n), T: t}, nil
		}
	case arrow.INT64:
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return &physical.Literal{Value: n, T: t}, nil
		}
	}
	c, err := p.evalConst(castTo(&Const{Value: s, T: physical.String}, t))
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, sqlerr.New(sqlerr.InternalError, "parameter $%d: no evaluator to convert %q", i+1, s)
	}
	return &physical.Literal{Value: c.Value, T: t}, nil
}

// readsParams reports whether e reads a statement parameter.
func readsParams(e Expr) bool {
	found := false
	visitExpr(e, func(x Expr) {
		if f, ok := x.(*Func); ok && f.Fn == physical.FnParam {
			found = true
		}
	})
	return found
}
