package planner

import (
	"context"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/quarrydb/quarry/catalog/sqlerr"
)

// SQL-level prepared statements (PostgreSQL): PREPARE name [(type, …)] AS
// statement, EXECUTE name [(arg, …)], DEALLOCATE [PREPARE] name | ALL.
// The planner recognises them before TiDB's parser and hands the pieces
// to the session, which keeps the statements and runs them through the
// same machinery as the extended protocol's (generic plans included).

// prepCommand is a parsed PREPARE, EXECUTE or DEALLOCATE.
type prepCommand struct {
	kind  StatementKind
	name  string // "" for DEALLOCATE ALL
	types []string
	// body is PREPARE's statement, at byte offset bodyAt of the text.
	body   *Parsed
	bodyAt int
	// args is EXECUTE's argument list parsed as SELECT arg, …; argsAt
	// maps its offsets back to the text.
	args   *Parsed
	argsAt int
}

// argsPrefix is what EXECUTE's arguments are parsed after.
const argsPrefix = "SELECT "

// parsePrepCommand recognises PREPARE, EXECUTE and DEALLOCATE; nil for
// other statements.
func parsePrepCommand(sig []token, text string) (*prepCommand, error) {
	if len(sig) == 0 || !(sig[0].is("prepare") || sig[0].is("execute") || sig[0].is("deallocate")) {
		return nil, nil
	}
	at := func(k int) token {
		if k >= len(sig) {
			return token{kind: tokSpace}
		}
		return sig[k]
	}
	syntax := func(k int) error {
		if k >= len(sig) {
			return sqlerr.At(sqlerr.SyntaxError, len(text)+1, "syntax error at end of input")
		}
		return sqlerr.At(sqlerr.SyntaxError, sig[k].pos+1, "syntax error at or near %q", sig[k].text)
	}
	name := func(k int) (string, bool) {
		switch t := at(k); t.kind {
		case tokWord:
			return strings.ToLower(t.text), true
		case tokQuoted:
			return identText(t), true
		}
		return "", false
	}
	c := &prepCommand{}
	switch {
	case sig[0].is("deallocate"):
		c.kind = StmtDeallocate
		k := 1
		if at(k).is("prepare") {
			k++
		}
		if at(k).is("all") && k+1 == len(sig) {
			return c, nil
		}
		n, ok := name(k)
		if !ok {
			return nil, syntax(k)
		}
		if k+1 != len(sig) {
			return nil, syntax(k + 1)
		}
		c.name = n
		return c, nil
	case sig[0].is("execute"):
		c.kind = StmtExecute
		n, ok := name(1)
		if !ok {
			return nil, syntax(1)
		}
		c.name = n
		if len(sig) == 2 {
			return c, nil
		}
		end := matchClose(sig, 2)
		if at(2).text != "(" || end < 0 || end+1 != len(sig) {
			return nil, syntax(2)
		}
		if end == 3 {
			return nil, syntax(3) // EXECUTE p ()
		}
		c.argsAt = tokEnd(sig[2]) - len(argsPrefix)
		c.args = parseOne(argsPrefix + text[tokEnd(sig[2]):sig[end].pos])
		return c, nil
	}
	c.kind = StmtPrepare
	n, ok := name(1)
	if !ok {
		return nil, syntax(1)
	}
	c.name = n
	k := 2
	if at(k).text == "(" {
		end := matchClose(sig, k)
		if end < 0 {
			return nil, syntax(len(sig))
		}
		from, depth := k+1, 0
		for j := k + 1; j <= end; j++ {
			switch sig[j].text {
			case "(", "[":
				depth++
			case ")", "]":
				depth--
			}
			if sig[j].text == "," && depth == 0 || j == end {
				if j == from {
					return nil, syntax(j)
				}
				c.types = append(c.types, text[sig[from].pos:tokEnd(sig[j-1])])
				from = j + 1
			}
		}
		k = end + 1
	}
	if !at(k).is("as") {
		return nil, syntax(k)
	}
	if k+1 >= len(sig) {
		return nil, syntax(k + 1)
	}
	c.bodyAt = sig[k+1].pos
	c.body = parseOne(text[c.bodyAt:])
	if c.body.err != nil {
		return nil, shiftPos(c.body.err, c.bodyAt)
	}
	if c.body.node == nil || c.body.createView != nil {
		return nil, syntax(k + 1)
	}
	switch c.body.node.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt, *ast.InsertStmt, *ast.DeleteStmt, *ast.UpdateStmt:
	default:
		return nil, syntax(k + 1)
	}
	return c, nil
}

// shiftPos moves an error's position by off bytes (from a piece of the
// text to the whole).
func shiftPos(err error, off int) error {
	if e, ok := err.(*sqlerr.Error); ok && e.Pos > 0 {
		c := *e
		c.Pos += off
		return &c
	}
	return err
}

// planPrepCommand plans PREPARE, EXECUTE and DEALLOCATE: the session
// does the work.
func (p *Planner) planPrepCommand(st *Statement, c *prepCommand) (*Statement, error) {
	st.Kind, st.Name = c.kind, c.name
	switch c.kind {
	case StmtPrepare:
		st.Tag = "PREPARE"
		st.Body, st.prep = c.body, c
		for _, name := range c.types {
			t, err := parseTypeName(name)
			if err != nil {
				return nil, err
			}
			st.PrepareTypes = append(st.PrepareTypes, t)
		}
	case StmtExecute:
		st.Tag = "EXECUTE"
		st.prep = c
	case StmtDeallocate:
		st.Tag = "DEALLOCATE"
		if c.name == "" {
			st.Tag = "DEALLOCATE ALL"
		}
	}
	return st, nil
}

// BodyError moves the position of an error in the Body of st, a PREPARE,
// into st's text.
func (st *Statement) BodyError(err error) error {
	if st.prep == nil {
		return err
	}
	return shiftPos(sqlerr.As(err), st.prep.bodyAt)
}

// ExecuteArgCount is the number of arguments of st, an EXECUTE.
func (st *Statement) ExecuteArgCount() int {
	if st.prep == nil || st.prep.args == nil {
		return 0
	}
	if sel, ok := st.prep.args.node.(*ast.SelectStmt); ok && sel.Fields != nil {
		return len(sel.Fields.Fields)
	}
	return 0
}

// ExecuteArgs evaluates the arguments of st, an EXECUTE, as values of
// types (the prepared statement's parameters), in Literal.Value form.
// Arguments are constant expressions, converted as an assignment would
// ('12' and 12.0 to an integer).
func (p *Planner) ExecuteArgs(ctx context.Context, sess *Session, st *Statement, types []arrow.DataType) ([]any, error) {
	c := st.prep
	if c == nil || c.args == nil {
		return nil, nil
	}
	args := c.args
	if args.err != nil {
		return nil, shiftPos(args.err, c.argsAt)
	}
	sel, ok := args.node.(*ast.SelectStmt)
	if !ok || sel.Fields == nil || sel.From != nil || sel.Where != nil || len(sel.Fields.Fields) != len(types) {
		return nil, sqlerr.New(sqlerr.SyntaxError, "syntax error in EXECUTE arguments")
	}
	b := &binder{ctx: p.withSessionInfo(ctx, sess), p: p, sess: sess, text: args.rewritten, derived: map[string][][]string{},
		nulls: args.nulls, marks: args.marks, ctes: map[string]*cteDef{}}
	values := make([]any, len(types))
	for i, f := range sel.Fields.Fields {
		v, err := b.executeArg(f, types[i])
		if err != nil {
			return nil, shiftPos(mapPos(err, args.origin), c.argsAt)
		}
		values[i] = v
	}
	return values, nil
}

func (b *binder) executeArg(f *ast.SelectField, t arrow.DataType) (any, error) {
	if f.WildCard != nil || f.Expr == nil {
		return nil, sqlerr.New(sqlerr.SyntaxError, "syntax error at or near \"*\"")
	}
	x, err := b.bindExpr(f.Expr, &scope{}, false)
	if err != nil {
		return nil, err
	}
	x, err = b.fold(b.cast(x, t), pos(f.Expr))
	if err != nil {
		return nil, err
	}
	k, ok := x.(*Const)
	if !ok {
		return nil, sqlerr.At(sqlerr.FeatureNotSupported, pos(f.Expr), "EXECUTE arguments must be constants")
	}
	return k.Value, nil
}
