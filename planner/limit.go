package planner

import (
	"math"
	"strconv"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// LIMIT, OFFSET and FETCH FIRST in PostgreSQL's forms. TiDB's grammar takes
// only an integer literal or a ? marker there, and neither FETCH … WITH
// TIES nor OFFSET before the count. The pre-parse rewrites the whole clause
// into LIMIT n [OFFSET m]: literal integers stay, any other operand ($1,
// NULL, 2 * 3, CAST(…)) becomes a ? whose expression the binder parses and
// evaluates when the statement is planned with its values.

// preMarks is what the pre-parse took out of a statement's text, besides
// NULLS markers, for the binder to put back.
type preMarks struct {
	// limits are LIMIT/OFFSET operands, by the offset of their ? marker
	// in the text TiDB parsed.
	limits map[int]*limitMark
	// materialized is WITH name AS [NOT] MATERIALIZED, by the query's
	// lower-case name: true to compute it once.
	materialized map[string]bool
}

// limitMark is one LIMIT or OFFSET operand the pre-parse replaced by ?.
type limitMark struct {
	text string // the operand (? placeholders numbered as $n)
	at   int    // the operand's offset in the statement
	ties bool   // the count of FETCH … WITH TIES
	node ast.ExprNode
	err  error // a syntax error in text
}

// limitStops end a LIMIT or OFFSET operand at depth 0.
var limitStops = map[string]bool{
	"offset": true, "fetch": true, "limit": true, "for": true, "row": true, "rows": true,
	"union": true, "except": true, "intersect": true, "minus": true, "only": true, "with": true,
}

// rewriteLimitClause rewrites the LIMIT / OFFSET / FETCH clause starting
// at significant token k into TiDB's LIMIT n [OFFSET m], recording the
// operands that are not integer literals in marks (in the order of their ?
// in the replacement). qmarks counts JDBC-style ? placeholders (numbered
// unless dollars). It returns the significant token after the clause, or
// ok false to leave the text alone.
func rewriteLimitClause(ts *stmtTokens, k int, replace map[int]string, qmarks *int, dollars bool) (next int, marks []*limitMark, ok bool) {
	at := ts.at
	// operand returns the end (exclusive) of an operand starting at j.
	operand := func(j int) int {
		depth := 0
		for ; j < len(ts.st); j++ {
			x := at(j)
			switch {
			case x.kind == tokPunct && (x.text == "(" || x.text == "["):
				depth++
			case x.kind == tokPunct && (x.text == ")" || x.text == "]"):
				if depth == 0 {
					return j
				}
				depth--
			case depth == 0 && (x.kind == tokPunct && (x.text == ";" || x.text == ",") ||
				x.kind == tokWord && limitStops[strings.ToLower(x.text)]):
				return j
			}
		}
		return j
	}
	var count, offset [2]int // significant ranges [from, to); from 0: absent
	all, ties := false, false
	j := k
loop:
	for {
		switch x := at(j); {
		case x.is("limit") && count[0] == 0 && !all:
			if at(j + 1).is("all") {
				all, j = true, j+2
				continue
			}
			e := operand(j + 1)
			if e == j+1 || at(e).text == "," {
				return 0, nil, false // LIMIT n, m (MySQL): TiDB's own
			}
			count, j = [2]int{j + 1, e}, e
		case x.is("offset") && offset[0] == 0:
			e := operand(j + 1)
			if e == j+1 {
				return 0, nil, false
			}
			offset, j = [2]int{j + 1, e}, e
			if at(j).is("row") || at(j).is("rows") {
				j++
			}
		case x.is("fetch") && (at(j+1).is("first") || at(j+1).is("next")) && count[0] == 0 && !all:
			e := operand(j + 2)
			if !at(e).is("row") && !at(e).is("rows") {
				return 0, nil, false
			}
			count = [2]int{j + 2, e}
			switch {
			case at(e + 1).is("only"):
				j = e + 2
			case at(e+1).is("with") && at(e+2).is("ties"):
				ties, j = true, e+3
			default:
				return 0, nil, false
			}
		default:
			break loop
		}
	}
	if j == k {
		return 0, nil, false
	}
	// text is an operand as the binder parses it; lit is set for an
	// integer literal TiDB takes as it is.
	text := func(r [2]int) (s string, lit bool) {
		if r[0] == r[1] {
			return "1", true // FETCH FIRST ROW ONLY
		}
		var b strings.Builder
		for i := r[0]; i < r[1]; i++ {
			if i > r[0] {
				b.WriteString(ts.sql[tokEnd(at(i-1)):at(i).pos])
			}
			if x := at(i); x.kind == tokPunct && x.text == "?" && !dollars {
				*qmarks++
				b.WriteString("$" + strconv.Itoa(*qmarks))
			} else {
				b.WriteString(x.text)
			}
		}
		s = b.String()
		return s, r[1] == r[0]+1 && at(r[0]).kind == tokNumber && strings.Trim(s, "0123456789") == ""
	}
	out := "LIMIT "
	switch {
	case count[0] > 0 || ties:
		s, lit := text(count)
		if lit && !ties {
			out += s
		} else {
			out += "?"
			marks = append(marks, &limitMark{text: s, ties: ties, at: at(count[0]).pos})
		}
	default:
		out += noLimit
	}
	if offset[0] > 0 {
		s, lit := text(offset)
		if lit {
			out += " OFFSET " + s
		} else {
			out += " OFFSET ?"
			marks = append(marks, &limitMark{text: s, at: at(offset[0]).pos})
		}
	}
	// The operands are parsed apart; the clause's words and operands go.
	replace[ts.sig[k]] = out
	blank(replace, ts.sig[k]+1, ts.sig[j-1])
	return j, marks, true
}

// placeLimitMarks keys marks, recorded by offset in text, by the offset of
// their ? in folded (where origin maps each offset of folded to text), and
// parses each operand.
func placeLimitMarks(marks map[int]*limitMark, folded string, origin []int) map[int]*limitMark {
	if len(marks) == 0 {
		return nil
	}
	out := make(map[int]*limitMark, len(marks))
	for i, o := range origin {
		if m := marks[o]; m != nil && i < len(folded) && folded[i] == '?' {
			if _, seen := out[i]; !seen {
				out[i] = m
			}
		}
	}
	for _, m := range out {
		sub := parseOne("SELECT " + m.text)
		if sub.err != nil {
			m.err = sub.err
			continue
		}
		sel, ok := sub.node.(*ast.SelectStmt)
		if !ok || sel.Fields == nil || len(sel.Fields.Fields) != 1 || sel.From != nil {
			m.err = sqlerr.New(sqlerr.SyntaxError, "syntax error in LIMIT")
			continue
		}
		m.node = sel.Fields.Fields[0].Expr
	}
	return out
}

// limitSpec is a bound LIMIT clause: skip offset rows, keep n (n < 0:
// all); with ties, also the rows that tie with the last one kept on the
// ORDER BY keys.
type limitSpec struct {
	n, offset int64
	ties      bool
}

// limitValues evaluates a LIMIT clause's count and offset.
func (b *binder) limitValues(l *ast.Limit) (limitSpec, error) {
	spec := limitSpec{n: -1}
	if l.Count != nil {
		n, null, ties, err := b.limitOperand(l.Count, "LIMIT")
		if err != nil {
			return spec, err
		}
		if !null {
			spec.n = n
		}
		spec.ties = ties
	}
	if l.Offset != nil {
		off, _, _, err := b.limitOperand(l.Offset, "OFFSET")
		if err != nil {
			return spec, err
		}
		spec.offset = off
	}
	return spec, nil
}

// limitOperand evaluates a LIMIT or OFFSET operand: an integer literal,
// or an expression the pre-parse set aside (a ? marker). A NULL count is
// no limit and a NULL offset none (null is set). An operand that reads a
// parameter takes its value when the statement is planned with values; a
// generic plan cannot be kept for it (its value is folded into the plan).
func (b *binder) limitOperand(e ast.ExprNode, what string) (v int64, null, ties bool, err error) {
	switch x := e.(type) {
	case *test_driver.ValueExpr:
		switch x.Datum.Kind() {
		case test_driver.KindInt64:
			return x.Datum.GetInt64(), false, false, nil
		case test_driver.KindUint64:
			return int64(min(x.Datum.GetUint64(), math.MaxInt64)), false, false, nil
		}
	case *test_driver.ParamMarkerExpr:
		p := x.Offset + 1
		var m *limitMark
		if b.marks != nil {
			m = b.marks.limits[x.Offset]
		}
		if m == nil {
			break
		}
		if m.err != nil {
			return 0, false, false, sqlerr.At(sqlerr.SyntaxError, p, "syntax error in %s", what)
		}
		v, null, err := b.evalLimit(m.node, what, p)
		return v, null, m.ties, err
	}
	return 0, false, false, sqlerr.At(sqlerr.SyntaxError, pos(e), "syntax error in %s", what)
}

// evalLimit binds and evaluates the expression of a LIMIT or OFFSET at
// position p.
func (b *binder) evalLimit(node ast.ExprNode, what string, p int) (int64, bool, error) {
	// The operand sees no columns: not the query's, not an outer one's.
	savedOuter, savedPending := b.outerStack, b.pending
	b.outerStack, b.pending = nil, nil
	x, err := b.bindExpr(node, &scope{}, false)
	b.outerStack, b.pending = savedOuter, savedPending
	at := func(err error) error {
		// The operand was parsed apart: point at it as a whole.
		if e, ok := err.(*sqlerr.Error); ok {
			c := *e
			c.Pos = p
			return &c
		}
		return err
	}
	if err != nil {
		if e := sqlerr.As(err); e.Code == sqlerr.UndefinedColumn {
			return 0, false, sqlerr.At("42P10", p, "argument of %s must not contain variables", what)
		}
		return 0, false, at(err)
	}
	x = b.cast(x, physical.Int64)
	if readsParams(x) {
		// A generic plan: the value is only known per execution.
		b.momentary()
		return 0, true, nil
	}
	c, err := b.fold(x, p)
	if err != nil {
		return 0, false, at(err)
	}
	k, ok := c.(*Const)
	if !ok {
		return 0, false, sqlerr.At(sqlerr.FeatureNotSupported, p, "argument of %s must be a constant", what)
	}
	if k.Value == nil {
		return 0, true, nil
	}
	n, _ := k.Value.(int64)
	if n < 0 {
		code := "2201W"
		if what == "OFFSET" {
			code = "2201X"
		}
		return 0, false, sqlerr.New(code, "%s must not be negative", what)
	}
	return n, false, nil
}

// applyLimit sorts node by items (columns of node), keeps its first keep
// columns (the others only sort) and applies LIMIT spec (nil: none).
func (b *binder) applyLimit(node LNode, items []SortItem, spec *limitSpec, keep int) (LNode, error) {
	if spec != nil && spec.ties && len(items) == 0 {
		return nil, sqlerr.New(sqlerr.SyntaxError, "WITH TIES cannot be specified without ORDER BY clause")
	}
	if spec != nil && spec.ties && spec.n > 0 {
		// WITH TIES: the rows ranked within offset+n on the sort keys are
		// the first offset+n rows and those tying with the last of them
		// (rank counts the rows sorting strictly before, and NULLs are
		// peers); the offset is skipped after sorting.
		win := &LWindow{Input: node, Order: items}
		rk := b.newColumn("rank", "", physical.Int64)
		win.Funcs = []winFunc{{fn: physical.WinRank, col: rk}}
		node = &LFilter{Input: win, Pred: &Func{Fn: physical.FnLe, Arg: []Expr{
			&ColRef{ID: rk.ID, Name: rk.Name, T: rk.T},
			&Const{Value: satAdd(spec.offset, spec.n), T: physical.Int64}}, T: physical.Boolean}}
	}
	if len(items) > 0 {
		node = &LSort{Input: node, Items: items}
	}
	if cols := node.Columns(); len(cols) > keep {
		top := &LProject{Input: node}
		for _, c := range cols[:keep] {
			top.Exprs = append(top.Exprs, &ColRef{ID: c.ID, Name: c.Name, T: c.T})
			top.Cols = append(top.Cols, c)
		}
		node = top
	}
	switch {
	case spec == nil:
	case spec.ties && spec.n > 0:
		if spec.offset > 0 {
			node = &LLimit{Input: node, Offset: spec.offset, N: -1}
		}
	default:
		node = &LLimit{Input: node, Offset: spec.offset, N: spec.n}
	}
	return node, nil
}

// satAdd is a+b for non-negative a and b, capped at MaxInt64.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
