package planner

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver" // literal values in the AST
	"github.com/quarrydb/quarry/catalog"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// newParser returns a TiDB parser in our SQL modes. Parsers are not
// pooled: a parser keeps pointers into the nodes of its last parse and
// writes positions into them when it parses again, and our ASTs live on
// (prepared statements), so a reused parser would race with their readers.
func newParser() *parser.Parser {
	p := parser.New()
	p.SetSQLMode(mysql.ModeANSIQuotes | mysql.ModePipesAsConcat | mysql.ModeNoBackslashEscapes)
	return p
}

var tidbErrRe = regexp.MustCompile(`line (\d+) column (\d+) near "(.*)"`)

func parseAll(sql string) ([]*Parsed, error) {
	texts, _ := splitStatements(sql)
	out := make([]*Parsed, 0, len(texts))
	for _, text := range texts {
		out = append(out, parseOne(text))
	}
	return out, nil
}

func parseOne(text string) *Parsed {
	ps := &Parsed{Text: strings.TrimSpace(text)}
	sig := significant(tokenize(ps.Text))
	// ALTER TABLE name REFRESH METADATA (Dremio) is not in TiDB's grammar.
	if len(sig) >= 5 && sig[0].is("alter") && sig[1].is("table") {
		name, k := parseQualifiedName(sig, 2)
		if len(name) > 0 && k+2 == len(sig) && sig[k].is("refresh") && sig[k+1].is("metadata") {
			ps.refresh = name
			return ps
		}
	}
	// CREATE [OR REPLACE] VIEW name [(cols)] AS query
	if len(sig) >= 4 && sig[0].is("create") {
		k := 1
		if sig[k].is("or") && k+1 < len(sig) && sig[k+1].is("replace") {
			ps.orReplace, k = true, k+2
		}
		if k < len(sig) && sig[k].is("view") {
			name, k2 := parseQualifiedName(sig, k+1)
			var cols []string
			if k2 < len(sig) && sig[k2].text == "(" {
				for k2++; k2 < len(sig) && sig[k2].text != ")"; k2++ {
					if sig[k2].text != "," {
						cols = append(cols, identText(sig[k2]))
					}
				}
				k2++
			}
			if len(name) == 0 || k2 >= len(sig) || !sig[k2].is("as") || k2+1 >= len(sig) {
				ps.err = sqlerr.New(sqlerr.SyntaxError, "expected CREATE VIEW name [(columns)] AS query")
				return ps
			}
			ps.createView = &catalog.View{Path: name, SQL: strings.TrimSpace(ps.Text[sig[k2+1].pos:]), Columns: cols}
			return ps
		}
	}
	if c, err := parsePrepCommand(sig, ps.Text); c != nil || err != nil {
		ps.prep, ps.err = c, err
		return ps
	}
	if c, err := parsePgCommand(sig, ps.Text); c != nil || err != nil {
		ps.pg, ps.err = c, err
		return ps
	}
	pg := pgSpell(ps.Text)
	if pg.err != nil {
		ps.err = pg.err
		return ps
	}
	rw := rewrite(pg.text)
	for i, o := range rw.origin {
		rw.origin[i] = pg.origin[min(o, len(pg.origin)-1)]
	}
	if len(rw.nulls) > 0 {
		nulls := make(map[int]bool, len(rw.nulls))
		for o, first := range rw.nulls {
			nulls[pg.origin[min(o, len(pg.origin)-1)]] = first
		}
		rw.nulls = nulls
	}
	folded, foldOrigin := foldLongNames(rw.text)
	if len(rw.limits) > 0 || len(rw.materialized) > 0 {
		ps.marks = &preMarks{limits: placeLimitMarks(rw.limits, folded, foldOrigin), materialized: rw.materialized}
	}
	for i, o := range foldOrigin {
		foldOrigin[i] = rw.origin[o]
	}
	rw.text, rw.origin = folded, foldOrigin
	p := newParser()
	stmts, _, err := p.Parse(rw.text, "", "")
	if err != nil {
		ps.err = mapPos(syntaxError(err, rw.text), rw.origin)
		return ps
	}
	if len(stmts) != 1 {
		ps.err = sqlerr.New(sqlerr.SyntaxError, "expected one statement")
		return ps
	}
	ps.node, ps.derived, ps.rewritten, ps.origin = stmts[0], rw.derivedColumns, rw.text, rw.origin
	// Offsets of blanked NULLS markers, moved into the folded text.
	if len(rw.nulls) > 0 {
		ps.nulls = map[int]bool{}
		for i, o := range foldOrigin {
			if first, ok := rw.nulls[o]; ok {
				if _, seen := ps.nulls[i]; !seen {
					ps.nulls[i] = first
				}
			}
		}
	}
	return ps
}

// syntaxError converts a TiDB parse error into 42601 with a position.
func syntaxError(err error, text string) error {
	m := tidbErrRe.FindStringSubmatch(err.Error())
	if m == nil {
		return sqlerr.Wrap(sqlerr.SyntaxError, err, "syntax error")
	}
	line, _ := strconv.Atoi(m[1])
	col, _ := strconv.Atoi(m[2])
	off := 0
	for i := 1; i < line; i++ {
		j := strings.IndexByte(text[off:], '\n')
		if j < 0 {
			break
		}
		off += j + 1
	}
	off += col
	near := strings.TrimSpace(m[3])
	// TiDB reports the column after the offending token; point at the
	// token itself when we can find it.
	if near != "" {
		// The last occurrence at or before the reported column: rewrites
		// may have put the same text earlier.
		for i := strings.LastIndex(text, near); i >= 0; i = strings.LastIndex(text[:i+len(near)-1], near) {
			if i <= off {
				off = i
				break
			}
		}
	}
	if near == "" {
		return sqlerr.At(sqlerr.SyntaxError, off+1, "syntax error at end of input")
	}
	tok := near
	if f := significant(tokenize(near)); len(f) > 0 {
		tok = f[0].text
	}
	return sqlerr.At(sqlerr.SyntaxError, off+1, "syntax error at or near %q", tok)
}

// foldLongNames joins names of three or more parts after FROM / JOIN /
// INTO / TABLE into one quoted identifier, since TiDB's grammar only knows
// schema.table: src.folder.tbl → "src\x1ffolder\x1ftbl".
func foldLongNames(sql string) (string, []int) {
	var origin []int
	copyOrigin := func(from, to int) {
		for i := from; i < to; i++ {
			origin = append(origin, i)
		}
	}
	toks := tokenize(sql)
	var sigIdx []int
	for i, t := range toks {
		if t.kind != tokSpace {
			sigIdx = append(sigIdx, i)
		}
	}
	var b strings.Builder
	last := 0
	for k := 0; k < len(sigIdx); k++ {
		t := toks[sigIdx[k]]
		if !(t.is("from") || t.is("join") || t.is("into") || t.is("table")) {
			continue
		}
		sig := make([]token, 0, 16)
		for j := k + 1; j < len(sigIdx) && j < k+64; j++ {
			sig = append(sig, toks[sigIdx[j]])
		}
		parts, n := parseQualifiedName(sig, 0)
		if len(parts) < 3 {
			continue
		}
		start := toks[sigIdx[k+1]].pos
		endTok := toks[sigIdx[k+n]]
		end := endTok.pos + len(endTok.text)
		b.WriteString(sql[last:start])
		copyOrigin(last, start)
		folded := `"` + strings.ReplaceAll(strings.Join(parts, nameSep), `"`, `""`) + `"`
		b.WriteString(folded)
		for range folded {
			origin = append(origin, start)
		}
		last = end
		k += n
	}
	b.WriteString(sql[last:])
	copyOrigin(last, len(sql)+1)
	return b.String(), origin
}

// mapPos rewrites an error's position from rewritten to original text.
func mapPos(err error, origin []int) error {
	if e, ok := err.(*sqlerr.Error); ok && e.Pos > 0 {
		c := *e
		c.Pos = originalPos(origin, e.Pos)
		return &c
	}
	return err
}

func (p *Planner) plan(ctx context.Context, sess *Session, ps *Parsed) (*Statement, error) {
	return p.planWith(ctx, sess, ps, nil)
}

func (p *Planner) planWith(ctx context.Context, sess *Session, ps *Parsed, params *Params) (*Statement, error) {
	if ps.err != nil {
		return nil, ps.err
	}
	st := &Statement{Text: ps.Text}
	if ps.refresh != nil {
		st.Kind, st.Table, st.Tag = StmtRefreshMetadata, ps.refresh, "ALTER TABLE"
		return st, nil
	}
	if ps.createView != nil {
		return p.planCreateView(ctx, sess, ps)
	}
	ctx = p.withSessionInfo(ctx, sess)
	if ps.pg != nil {
		return p.planPgCommand(ctx, sess, st, ps.pg)
	}
	if ps.prep != nil {
		return p.planPrepCommand(st, ps.prep)
	}
	b := &binder{ctx: ctx, p: p, sess: sess, text: ps.rewritten, derived: map[string][][]string{},
		nulls: ps.nulls, marks: ps.marks, ctes: map[string]*cteDef{}, params: params}
	if ps.node != nil {
		b.views = &viewSharing{refs: tableRefs(ps.node), defs: map[string]*cteDef{}}
	}
	if params != nil && (params.Generic || params.Values == nil) {
		// A describing plan can be kept too when it has no parameters.
		b.reuse = &reuseTracker{scans: map[int]scanSource{}}
	}
	for k, v := range ps.derived {
		b.derived[k] = append([][]string{}, v...)
	}
	st, err := p.planNode(b, st, sess, ps)
	if err != nil {
		if st != nil && st.Plan != nil {
			st.Plan.Release()
		}
		return nil, mapPos(err, ps.origin)
	}
	st.ParamTypes = b.paramTypes()
	p.keep(b, st)
	return st, nil
}

func (p *Planner) planNode(b *binder, st *Statement, sess *Session, ps *Parsed) (*Statement, error) {
	switch n := ps.node.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt:
		st.Kind, st.Tag = StmtQuery, "SELECT"
		return st, p.planQuery(b, st, n.(ast.ResultSetNode))
	case *ast.ExplainStmt:
		q, ok := n.Stmt.(ast.ResultSetNode)
		if !ok {
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "EXPLAIN supports queries only")
		}
		st.Kind, st.Tag, st.Analyze = StmtExplain, "EXPLAIN", n.Analyze
		return st, p.planQuery(b, st, q)
	case *ast.CreateTableStmt:
		if n.Select != nil {
			st.Kind, st.Tag, st.Table = StmtCreateTableAs, "CREATE TABLE AS", tableName(n.Table)
			q, ok := n.Select.(ast.ResultSetNode)
			if !ok {
				return nil, sqlerr.New(sqlerr.SyntaxError, "CREATE TABLE AS needs a query")
			}
			return st, p.planQuery(b, st, q)
		}
		st.Kind, st.Tag, st.IfNotExists = StmtCreateTable, "CREATE TABLE", n.IfNotExists
		st.Table = tableName(n.Table)
		var fields []arrow.Field
		primary := primaryKeyColumns(n)
		for _, c := range n.Cols {
			f, err := tableField(c, primary)
			if err != nil {
				return nil, err
			}
			fields = append(fields, f)
		}
		st.TableSchema = arrow.NewSchema(fields, nil)
		return st, nil
	case *ast.InsertStmt:
		st.Kind, st.Tag = StmtInsert, "INSERT"
		return st, p.planInsert(b, st, n)
	case *ast.DeleteStmt:
		st.Kind, st.Tag = StmtDelete, "DELETE"
		return st, p.planDelete(b, st, n)
	case *ast.UpdateStmt:
		st.Kind, st.Tag = StmtUpdate, "UPDATE"
		return st, p.planUpdate(b, st, n)
	case *ast.AlterTableStmt:
		st.Kind, st.Tag = StmtAlterTable, "ALTER TABLE"
		return st, p.planAlterTable(b, st, n)
	case *ast.TruncateTableStmt:
		st.Kind, st.Tag, st.Table = StmtTruncate, "TRUNCATE TABLE", tableName(n.Table)
		return st, nil
	case *ast.DropTableStmt:
		if len(n.Tables) != 1 {
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "DROP TABLE takes one table")
		}
		st.Kind, st.Tag, st.IfExists = StmtDropTable, "DROP TABLE", n.IfExists
		if n.IsView {
			st.Kind, st.Tag = StmtDropView, "DROP VIEW"
		}
		st.Table = tableName(n.Tables[0])
		return st, nil
	case *ast.UseStmt:
		sess.DefaultSchema = strings.ReplaceAll(n.DBName, nameSep, ".")
		st.Kind, st.Tag = StmtSet, "USE"
		return st, nil
	case *ast.CreateIndexStmt:
		st.Kind, st.Tag = StmtNoop, "CREATE INDEX"
		return st, nil
	case *ast.BeginStmt:
		st.Kind, st.Tag = StmtNoop, "BEGIN"
		return st, nil
	case *ast.CommitStmt:
		st.Kind, st.Tag = StmtNoop, "COMMIT"
		return st, nil
	case *ast.RollbackStmt:
		st.Kind, st.Tag = StmtNoop, "ROLLBACK"
		return st, nil
	case *ast.SetStmt:
		st.Kind, st.Tag = StmtNoop, "SET"
		return st, nil
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "statement %T is not supported", ps.node)
}

func tableName(t *ast.TableName) []string {
	var name []string
	if t.Schema.O != "" {
		name = append(name, strings.Split(t.Schema.O, nameSep)...)
	}
	return append(name, strings.Split(t.Name.O, nameSep)...)
}

// planQuery binds, optimizes and physically plans a query into st.
func (p *Planner) planQuery(b *binder, st *Statement, q ast.ResultSetNode) error {
	node, names, err := b.bindQuery(q)
	if err != nil {
		return err
	}
	return p.finishPlan(b, st, node, names)
}

func (p *Planner) finishPlan(b *binder, st *Statement, node LNode, names []string) error {
	o := &optimizer{p: p, b: b, fired: map[string]int{}}
	node, err := o.optimize(node)
	if err != nil {
		return err
	}
	shared, err := o.optimizeShared(node)
	if err != nil {
		return err
	}
	pb := &physBuilder{p: p, fired: o.fired, reuse: b.reuse}
	root, par, err := pb.build(node)
	if err != nil {
		return err
	}
	st.Plan = pb.finish(root, par)
	st.Plan.Names = names
	st.Plan.Origins = columnOrigins(node)
	st.Rules = o.fired
	st.Logical = formatLogical(node)
	for i := len(shared) - 1; i >= 0; i-- {
		st.Logical += fmt.Sprintf("Shared %s#%d:\n", shared[i].name, shared[i].id) + formatLogical(shared[i].plan)
	}
	return nil
}

// planInsert plans the rows of INSERT … VALUES / SELECT cast to the target
// table's column types.
func (p *Planner) planInsert(b *binder, st *Statement, n *ast.InsertStmt) error {
	ts, ok := n.Table.TableRefs.Left.(*ast.TableSource)
	if !ok {
		return sqlerr.New(sqlerr.FeatureNotSupported, "INSERT target must be a table")
	}
	tn, ok := ts.Source.(*ast.TableName)
	if !ok {
		return sqlerr.New(sqlerr.FeatureNotSupported, "INSERT target must be a table")
	}
	st.Table = tableName(tn)
	ds, err := p.Catalog.Lookup(b.ctx, st.Table, b.sess.DefaultSchema)
	if err != nil {
		return err
	}
	schema := ds.Schema
	// Target column positions.
	target := make([]int, 0, schema.NumFields())
	if len(n.Columns) == 0 {
		for i := 0; i < schema.NumFields(); i++ {
			target = append(target, i)
		}
	} else {
		for _, c := range n.Columns {
			idx := schema.FieldIndices(c.Name.O)
			if len(idx) == 0 {
				for i := 0; i < schema.NumFields(); i++ {
					if strings.EqualFold(schema.Field(i).Name, c.Name.O) {
						idx = []int{i}
					}
				}
			}
			if len(idx) == 0 {
				return sqlerr.At(sqlerr.UndefinedColumn, b.findName(nil, c.Name.O), "column %q of relation %q does not exist", c.Name.O, strings.Join(st.Table, "."))
			}
			target = append(target, idx[0])
		}
	}
	var src LNode
	if n.Select != nil {
		node, _, err := b.bindQuery(n.Select)
		if err != nil {
			return err
		}
		src = node
	} else {
		vals := &LValues{}
		for _, row := range n.Lists {
			if len(row) != len(target) {
				return sqlerr.New(sqlerr.SyntaxError, "INSERT has %d expressions but %d target columns", len(row), len(target))
			}
			var out []Expr
			for i, e := range row {
				if _, ok := e.(*ast.DefaultExpr); ok {
					x, err := b.defaultValue(schema.Field(target[i]))
					if err == nil {
						x, err = b.fold(x, pos(e))
					}
					if err != nil {
						return err
					}
					out = append(out, x)
					continue
				}
				x, err := b.bindExpr(e, &scope{}, false)
				if err != nil {
					return err
				}
				x = b.cast(x, schema.Field(target[i]).Type)
				if x, err = b.fold(x, pos(e)); err != nil {
					return err
				}
				out = append(out, x)
			}
			vals.Rows = append(vals.Rows, out)
		}
		for _, t := range target {
			f := schema.Field(t)
			vals.Cols = append(vals.Cols, b.newColumn(f.Name, "", f.Type))
		}
		src = vals
	}
	cols := src.Columns()
	if len(cols) != len(target) {
		return sqlerr.New(sqlerr.SyntaxError, "INSERT has %d expressions but %d target columns", len(cols), len(target))
	}
	// Project onto the table's full schema: missing columns get their
	// DEFAULT (NULL without one).
	proj := &LProject{Input: src}
	for i := 0; i < schema.NumFields(); i++ {
		f := schema.Field(i)
		e, err := b.defaultValue(f)
		if err != nil {
			return err
		}
		for j, t := range target {
			if t == i {
				e = b.cast(&ColRef{ID: cols[j].ID, Name: cols[j].Name, T: cols[j].T}, f.Type)
			}
		}
		proj.Exprs = append(proj.Exprs, e)
		proj.Cols = append(proj.Cols, b.newColumn(f.Name, "", f.Type))
	}
	names := make([]string, schema.NumFields())
	for i := range names {
		names[i] = schema.Field(i).Name
	}
	return p.finishPlan(b, st, proj, names)
}

// planCreateView checks the view's query (it must bind) and qualifies the
// view's name with the default schema.
func (p *Planner) planCreateView(ctx context.Context, sess *Session, ps *Parsed) (*Statement, error) {
	v := *ps.createView
	if len(v.Path) == 1 && sess.DefaultSchema != "" {
		v.Path = append(strings.Split(sess.DefaultSchema, "."), v.Path...)
	}
	qs, _ := parseAll(v.SQL)
	if len(qs) != 1 {
		return nil, sqlerr.New(sqlerr.SyntaxError, "a view is one query")
	}
	q, err := p.plan(ctx, sess, qs[0])
	if err != nil {
		return nil, err
	}
	if q.Kind != StmtQuery {
		return nil, sqlerr.New(sqlerr.SyntaxError, "a view must be a query")
	}
	defer q.Plan.Release()
	if len(v.Columns) > len(q.Plan.Names) {
		return nil, sqlerr.New(sqlerr.InvalidName, "CREATE VIEW specifies more column names than columns")
	}
	return &Statement{Kind: StmtCreateView, Text: ps.Text, Tag: "CREATE VIEW", View: &v, OrReplace: ps.orReplace, Table: v.Path}, nil
}

// columnOrigins finds, for each output column of n that is a dataset
// column passed through unchanged, the dataset and position it comes from.
func columnOrigins(n LNode) []physical.ColumnOrigin {
	cols := n.Columns()
	out := make([]physical.ColumnOrigin, len(cols))
	found := false
	for i, c := range cols {
		s, ord, ok := findScanColumn(n, c.ID)
		if !ok || s.Dataset == nil || len(s.Dataset.Path) == 0 {
			continue
		}
		p := s.Dataset.Path
		out[i] = physical.ColumnOrigin{Schema: strings.Join(p[:len(p)-1], "."), Table: p[len(p)-1], Column: ord + 1}
		found = true
	}
	if !found {
		return nil
	}
	return out
}
