package planner

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/quarrydb/quarry/catalog"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// Memory tables change by replacement: DELETE and UPDATE plan the table's
// new rows as a query over its current ones (their WHERE, subqueries
// included), and the coordinator swaps them in if the table is still at
// the version they were read from (catalog.MemTable.Replace). UPDATE's
// plan has one more column, true on the rows it changed, which the
// coordinator counts and drops. Column defaults and NOT NULL travel in
// the table's schema (defaultKey, Nullable).

// defaultKey is the field metadata key of a column's DEFAULT expression
// (SQL text).
const defaultKey = "quarry:default"

// dmlTarget resolves the one memory table a DELETE or UPDATE changes.
func (p *Planner) dmlTarget(b *binder, refs *ast.TableRefsClause, verb string) (*ast.TableName, *catalog.Dataset, error) {
	var tn *ast.TableName
	if refs != nil && refs.TableRefs != nil && refs.TableRefs.Right == nil {
		if ts, ok := refs.TableRefs.Left.(*ast.TableSource); ok {
			tn, _ = ts.Source.(*ast.TableName)
		}
	}
	if tn == nil {
		return nil, nil, sqlerr.New(sqlerr.FeatureNotSupported, "%s of more than one table is not supported", verb)
	}
	ds, err := p.Catalog.Lookup(b.ctx, tableName(tn), b.sess.DefaultSchema)
	if err != nil {
		return nil, nil, err
	}
	if ds.Kind != catalog.MemoryDataset || ds.Memory == nil || len(ds.Path) == 0 || ds.Path[0] != catalog.MemSource {
		return nil, nil, sqlerr.New(sqlerr.FeatureNotSupported, "%s %s: only tables created with CREATE TABLE can change", verb, strings.Join(ds.Path, "."))
	}
	return tn, ds, nil
}

// starFields is SELECT *.
func starFields() *ast.FieldList {
	return &ast.FieldList{Fields: []*ast.SelectField{{WildCard: &ast.WildCardField{}}}}
}

// planDelete plans DELETE FROM t [WHERE c] as the rows that stay: those
// for which c is not true (none without WHERE: Plan stays nil).
func (p *Planner) planDelete(b *binder, st *Statement, n *ast.DeleteStmt) error {
	if n.IsMultiTable || n.Order != nil || n.Limit != nil {
		return sqlerr.New(sqlerr.FeatureNotSupported, "DELETE with several tables, ORDER BY or LIMIT is not supported")
	}
	tn, ds, err := p.dmlTarget(b, n.TableRefs, "DELETE")
	if err != nil {
		return err
	}
	st.Table, st.TableVersion = tableName(tn), ds.Memory.Version()
	if n.Where == nil {
		return nil
	}
	sel := &ast.SelectStmt{Kind: ast.SelectStmtKindSelect, From: n.TableRefs, Fields: starFields(),
		Where: &ast.IsTruthExpr{Expr: n.Where, Not: true, True: 1}, With: n.With}
	return p.finishDML(b, st, sel, ds.Schema, false)
}

// planUpdate plans UPDATE t SET c = e, … [WHERE w] as every row of t, the
// assignments applied where w is true, and the changed flag.
func (p *Planner) planUpdate(b *binder, st *Statement, n *ast.UpdateStmt) error {
	if n.MultipleTable || n.Order != nil || n.Limit != nil {
		return sqlerr.New(sqlerr.FeatureNotSupported, "UPDATE with several tables, ORDER BY or LIMIT is not supported")
	}
	tn, ds, err := p.dmlTarget(b, n.TableRefs, "UPDATE")
	if err != nil {
		return err
	}
	st.Table, st.TableVersion = tableName(tn), ds.Memory.Version()
	schema := ds.Schema
	set := map[int]ast.ExprNode{}
	for _, a := range n.List {
		i := fieldIndex(schema, a.Column.Name.O)
		if i < 0 {
			return sqlerr.At(sqlerr.UndefinedColumn, pos(a.Column), "column %q of relation %q does not exist", a.Column.Name.O, strings.Join(st.Table, "."))
		}
		if _, dup := set[i]; dup {
			return sqlerr.At(sqlerr.SyntaxError, pos(a.Column), "multiple assignments to same column %q", a.Column.Name.O)
		}
		set[i] = a.Expr
	}
	// SELECT CASE WHEN w THEN e ELSE c END …, w FROM t, with w as
	// (WHERE) IS TRUE.
	var hit ast.ExprNode = &ast.IsTruthExpr{Expr: &ast.BinaryOperationExpr{Op: opcode.EQ, L: oneExpr(), R: oneExpr()}, True: 1}
	if n.Where != nil {
		hit = &ast.IsTruthExpr{Expr: n.Where, True: 1}
	}
	fields := &ast.FieldList{}
	for i, f := range schema.Fields() {
		col := &ast.ColumnNameExpr{Name: &ast.ColumnName{Name: ast.NewCIStr(f.Name)}}
		var e ast.ExprNode = col
		if x, ok := set[i]; ok {
			if _, isDefault := x.(*ast.DefaultExpr); isDefault {
				d, err := b.defaultText(f)
				if err != nil {
					return err
				}
				x = d
			}
			e = &ast.CaseExpr{WhenClauses: []*ast.WhenClause{{Expr: hit, Result: x}}, ElseClause: col}
		}
		fields.Fields = append(fields.Fields, &ast.SelectField{Expr: e})
	}
	fields.Fields = append(fields.Fields, &ast.SelectField{Expr: hit})
	sel := &ast.SelectStmt{Kind: ast.SelectStmtKindSelect, From: n.TableRefs, Fields: fields, With: n.With}
	return p.finishDML(b, st, sel, schema, true)
}

// finishDML binds sel and casts its columns to the table's types (the
// last one, a changed flag, stays boolean).
func (p *Planner) finishDML(b *binder, st *Statement, sel *ast.SelectStmt, schema *arrow.Schema, flag bool) error {
	node, names, err := b.bindQuery(sel)
	if err != nil {
		return err
	}
	proj := &LProject{Input: node}
	for i, c := range node.Columns() {
		var e Expr = &ColRef{ID: c.ID, Name: c.Name, T: c.T}
		t := physical.Boolean
		if i < schema.NumFields() {
			t = schema.Field(i).Type
			e = b.cast(e, t)
		}
		proj.Exprs = append(proj.Exprs, e)
		proj.Cols = append(proj.Cols, b.newColumn(names[i], "", t))
	}
	if want := schema.NumFields(); len(proj.Cols) != want+boolInt(flag) {
		return sqlerr.New(sqlerr.InternalError, "DML plan has %d columns for %d", len(proj.Cols), want)
	}
	return p.finishPlan(b, st, proj, names)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// oneExpr is the literal 1 as an expression node.
func oneExpr() ast.ExprNode { return ast.NewValueExpr(int64(1), "", "") }

func fieldIndex(schema *arrow.Schema, name string) int {
	for i, f := range schema.Fields() {
		if strings.EqualFold(f.Name, name) {
			return i
		}
	}
	return -1
}

// columnDefault returns the DEFAULT text of column definition c ("" for
// none) and whether it is NOT NULL (PRIMARY KEY included).
func columnOptions(c *ast.ColumnDef) (def string, notNull bool, err error) {
	for _, o := range c.Options {
		switch o.Tp {
		case ast.ColumnOptionNotNull, ast.ColumnOptionPrimaryKey:
			notNull = true
		case ast.ColumnOptionNull:
			notNull = false
		case ast.ColumnOptionDefaultValue:
			var sb strings.Builder
			flags := format.RestoreStringSingleQuotes | format.RestoreKeyWordUppercase | format.RestoreNameDoubleQuotes
			if err := o.Expr.Restore(format.NewRestoreCtx(flags, &sb)); err != nil {
				return "", false, sqlerr.Wrap(sqlerr.FeatureNotSupported, err, "DEFAULT of column %q", c.Name.Name.O)
			}
			def = sb.String()
		}
	}
	return def, notNull, nil
}

// tableField is the schema field of column definition c.
func tableField(c *ast.ColumnDef, primary map[string]bool) (arrow.Field, error) {
	t, err := fieldTypeToArrow(c.Tp)
	if err != nil {
		return arrow.Field{}, err
	}
	def, notNull, err := columnOptions(c)
	if err != nil {
		return arrow.Field{}, err
	}
	f := arrow.Field{Name: c.Name.Name.O, Type: t, Nullable: !notNull && !primary[c.Name.Name.L]}
	if def != "" {
		f.Metadata = arrow.NewMetadata([]string{defaultKey}, []string{def})
	}
	return f, nil
}

// primaryKeyColumns are the columns of a table-level PRIMARY KEY (NOT
// NULL; uniqueness is not enforced).
func primaryKeyColumns(n *ast.CreateTableStmt) map[string]bool {
	out := map[string]bool{}
	for _, c := range n.Constraints {
		if c.Tp == ast.ConstraintPrimaryKey {
			for _, k := range c.Keys {
				if k.Column != nil {
					out[k.Column.Name.L] = true
				}
			}
		}
	}
	return out
}

// defaultText is the DEFAULT expression of column f as an expression node
// (NULL without one).
func (b *binder) defaultText(f arrow.Field) (ast.ExprNode, error) {
	text := "NULL"
	if i := f.Metadata.FindKey(defaultKey); i >= 0 {
		text = f.Metadata.Values()[i]
	}
	qs, err := parseAll("SELECT " + text)
	if err != nil || len(qs) != 1 || qs[0].err != nil {
		return nil, sqlerr.New(sqlerr.DataException, "DEFAULT of column %q cannot be read: %s", f.Name, text)
	}
	return qs[0].node.(*ast.SelectStmt).Fields.Fields[0].Expr, nil
}

// defaultValue is column f's DEFAULT, bound and cast to its type.
func (b *binder) defaultValue(f arrow.Field) (Expr, error) {
	node, err := b.defaultText(f)
	if err != nil {
		return nil, err
	}
	x, err := b.bindExpr(node, &scope{}, false)
	if err != nil {
		return nil, sqlerr.Wrap(sqlerr.As(err).Code, err, "DEFAULT of column %q", f.Name)
	}
	return b.cast(x, f.Type), nil
}
