package planner

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/quarrydb/quarry/planner/physical"
)

// Expr is a bound, typed logical expression.
type Expr interface {
	Type() arrow.DataType
	Args() []Expr
	WithArgs(args []Expr) Expr
	String() string
}

// ColRef references a column by ID.
type ColRef struct {
	ID   ColumnID
	Name string
	T    arrow.DataType
}

// Const is a constant (Value nil: NULL) in physical.Literal value form.
type Const struct {
	Value any
	T     arrow.DataType
	// untypedString marks a string literal whose type may still adapt to
	// its context (as PostgreSQL's unknown-typed literals do).
	untypedString bool
	// param, for a $n placeholder, records the type the placeholder is
	// given by its context (parameter type inference).
	param *paramSlot
}

// typed is c as an ordinary typed constant (an untyped literal settling on
// its string type), still tied to its placeholder.
func (c *Const) typed() *Const { return &Const{Value: c.Value, T: c.T, param: c.param} }

// Func applies a scalar function (physical.Fn* names).
type Func struct {
	Fn  string
	Arg []Expr
	T   arrow.DataType
}

// CaseExpr is a searched CASE.
type CaseExpr struct {
	Whens, Thens []Expr
	Else         Expr
	T            arrow.DataType
}

// aggCall is an aggregate found while binding a SELECT; the aggregate
// rewrite replaces it by a reference to the aggregate's output.
type aggCall struct {
	agg AggExpr
}

func (e *ColRef) Type() arrow.DataType   { return e.T }
func (e *Const) Type() arrow.DataType    { return e.T }
func (e *Func) Type() arrow.DataType     { return e.T }
func (e *CaseExpr) Type() arrow.DataType { return e.T }
func (e *aggCall) Type() arrow.DataType  { return e.agg.T }

func (e *ColRef) Args() []Expr { return nil }
func (e *Const) Args() []Expr  { return nil }
func (e *Func) Args() []Expr   { return e.Arg }
func (e *CaseExpr) Args() []Expr {
	out := make([]Expr, 0, 2*len(e.Whens)+1)
	for i := range e.Whens {
		out = append(out, e.Whens[i], e.Thens[i])
	}
	return append(out, e.Else)
}
func (e *aggCall) Args() []Expr {
	if e.agg.Arg == nil {
		return nil
	}
	return []Expr{e.agg.Arg}
}

func (e *ColRef) WithArgs([]Expr) Expr { return e }
func (e *Const) WithArgs([]Expr) Expr  { return e }
func (e *Func) WithArgs(a []Expr) Expr {
	c := *e
	c.Arg = a
	return &c
}
func (e *CaseExpr) WithArgs(a []Expr) Expr {
	c := *e
	n := len(e.Whens)
	c.Whens, c.Thens = make([]Expr, n), make([]Expr, n)
	for i := 0; i < n; i++ {
		c.Whens[i], c.Thens[i] = a[2*i], a[2*i+1]
	}
	c.Else = a[2*n]
	return &c
}
func (e *aggCall) WithArgs(a []Expr) Expr {
	c := *e
	if len(a) > 0 {
		c.agg.Arg = a[0]
	}
	return &c
}

func (e *ColRef) String() string { return e.Name }
func (e *Const) String() string {
	return (&physical.Literal{Value: e.Value, T: e.T}).String()
}
func (e *Func) String() string {
	return (&physical.Call{Fn: e.Fn, Args: toStringers(e.Arg), T: e.T}).String()
}
func (e *CaseExpr) String() string {
	var b strings.Builder
	b.WriteString("CASE")
	for i := range e.Whens {
		fmt.Fprintf(&b, " WHEN %s THEN %s", e.Whens[i], e.Thens[i])
	}
	fmt.Fprintf(&b, " ELSE %s END", e.Else)
	return b.String()
}
func (e *aggCall) String() string { return e.agg.String() }

// toStringers wraps logical expressions so physical.Call can print them.
func toStringers(es []Expr) []physical.Expr {
	out := make([]physical.Expr, len(es))
	for i, e := range es {
		out[i] = stringer{e}
	}
	return out
}

type stringer struct{ e Expr }

func (s stringer) Type() arrow.DataType { return s.e.Type() }
func (s stringer) String() string       { return s.e.String() }

// exprEqual reports whether two expressions are structurally equal.
func exprEqual(a, b Expr) bool {
	switch a := a.(type) {
	case *ColRef:
		b, ok := b.(*ColRef)
		return ok && a.ID == b.ID
	case *Const:
		b, ok := b.(*Const)
		if !ok || !arrow.TypeEqual(a.T, b.T) {
			return false
		}
		if a.Value == nil || b.Value == nil {
			return a.Value == nil && b.Value == nil
		}
		if x, ok := a.Value.(decimal128.Num); ok {
			y, ok := b.Value.(decimal128.Num)
			return ok && x == y
		}
		return a.Value == b.Value
	case *Func:
		b, ok := b.(*Func)
		return ok && a.Fn == b.Fn && arrow.TypeEqual(a.T, b.T) && argsEqual(a.Arg, b.Arg)
	case *CaseExpr:
		b, ok := b.(*CaseExpr)
		return ok && len(a.Whens) == len(b.Whens) && argsEqual(a.Args(), b.Args())
	case *aggCall:
		b, ok := b.(*aggCall)
		if !ok || a.agg.Fn != b.agg.Fn || a.agg.Distinct != b.agg.Distinct {
			return false
		}
		if physical.SinglePhase(a.agg.Fn) && a.agg.String() != b.agg.String() {
			return false
		}
		if a.agg.Arg == nil || b.agg.Arg == nil {
			return a.agg.Arg == nil && b.agg.Arg == nil
		}
		return exprEqual(a.agg.Arg, b.agg.Arg)
	}
	return false
}

func argsEqual(a, b []Expr) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !exprEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}

// transformExpr rewrites e bottom-up with fn.
func transformExpr(e Expr, fn func(Expr) Expr) Expr {
	args := e.Args()
	if len(args) > 0 {
		changed := false
		newArgs := make([]Expr, len(args))
		for i, a := range args {
			newArgs[i] = transformExpr(a, fn)
			if newArgs[i] != a {
				changed = true
			}
		}
		if changed {
			e = e.WithArgs(newArgs)
		}
	}
	return fn(e)
}

// visitExpr calls fn for e and each sub-expression (pre-order).
func visitExpr(e Expr, fn func(Expr)) {
	fn(e)
	for _, a := range e.Args() {
		visitExpr(a, fn)
	}
}

// columnsUsed adds the IDs referenced by e to set.
func columnsUsed(e Expr, set map[ColumnID]bool) {
	visitExpr(e, func(x Expr) {
		if c, ok := x.(*ColRef); ok {
			set[c.ID] = true
		}
	})
}

// isConst reports whether e references no columns and no aggregates.
func isConst(e Expr) bool {
	ok := true
	visitExpr(e, func(x Expr) {
		switch x.(type) {
		case *ColRef, *aggCall:
			ok = false
		}
	})
	return ok
}

// conjuncts splits an AND tree.
func conjuncts(e Expr) []Expr {
	if f, ok := e.(*Func); ok && f.Fn == physical.FnAnd {
		return append(conjuncts(f.Arg[0]), conjuncts(f.Arg[1])...)
	}
	return []Expr{e}
}

// andAll combines conjuncts (nil for none).
func andAll(es []Expr) Expr {
	if len(es) == 0 {
		return nil
	}
	e := es[0]
	for _, x := range es[1:] {
		e = &Func{Fn: physical.FnAnd, Arg: []Expr{e, x}, T: physical.Boolean}
	}
	return e
}
