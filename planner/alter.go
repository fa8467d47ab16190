package planner

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/quarrydb/quarry/catalog/sqlerr"
)

// planAlterTable plans ALTER TABLE on a memory table: the new schema
// (TableSchema) and, when columns come or go, the rows in it as a query
// over the current ones (Plan), swapped in like DELETE's (planner/dml.go);
// RENAME TO names the new name (NewName).
func (p *Planner) planAlterTable(b *binder, st *Statement, n *ast.AlterTableStmt) error {
	if len(n.Specs) != 1 {
		return sqlerr.New(sqlerr.FeatureNotSupported, "ALTER TABLE with %d actions is not supported; give one per statement", len(n.Specs))
	}
	spec := n.Specs[0]
	refs := &ast.TableRefsClause{TableRefs: &ast.Join{Left: &ast.TableSource{Source: n.Table}}}
	tn, ds, err := p.dmlTarget(b, refs, "ALTER TABLE")
	if err != nil {
		return err
	}
	st.Table, st.TableVersion = tableName(tn), ds.Memory.Version()
	relation := strings.Join(st.Table, ".")
	schema := ds.Schema
	fields := schema.Fields()
	column := func(name *ast.ColumnName) (int, error) {
		i := fieldIndex(schema, name.Name.O)
		if i < 0 {
			return -1, sqlerr.At(sqlerr.UndefinedColumn, pos(name), "column %q of relation %q does not exist", name.Name.O, relation)
		}
		return i, nil
	}
	switch spec.Tp {
	case ast.AlterTableAddColumns:
		if len(spec.NewColumns) != 1 {
			return sqlerr.New(sqlerr.FeatureNotSupported, "ADD COLUMN takes one column")
		}
		f, err := tableField(spec.NewColumns[0], nil)
		if err != nil {
			return err
		}
		if fieldIndex(schema, f.Name) >= 0 {
			if spec.IfNotExists {
				st.Kind, st.Tag = StmtNoop, "ALTER TABLE"
				return nil
			}
			return sqlerr.New(sqlerr.DuplicateColumn, "column %q of relation %q already exists", f.Name, relation)
		}
		st.TableSchema = arrow.NewSchema(append(fields, f), nil)
		node, _, err := b.bindTable(tn, "")
		if err != nil {
			return err
		}
		// Existing rows get the DEFAULT (NULL without one).
		def, err := b.defaultValue(f)
		if err != nil {
			return err
		}
		proj := &LProject{Input: node}
		for _, c := range node.Columns() {
			proj.Exprs = append(proj.Exprs, &ColRef{ID: c.ID, Name: c.Name, T: c.T})
			proj.Cols = append(proj.Cols, c)
		}
		proj.Exprs = append(proj.Exprs, def)
		proj.Cols = append(proj.Cols, b.newColumn(f.Name, "", f.Type))
		return p.finishPlan(b, st, proj, schemaNames(st.TableSchema))
	case ast.AlterTableDropColumn:
		i := fieldIndex(schema, spec.OldColumnName.Name.O)
		if i < 0 && spec.IfExists {
			st.Kind, st.Tag = StmtNoop, "ALTER TABLE"
			return nil
		}
		if _, err := column(spec.OldColumnName); err != nil {
			return err
		}
		if len(fields) == 1 {
			return sqlerr.New(sqlerr.FeatureNotSupported, "cannot drop the only column of %q", relation)
		}
		st.TableSchema = arrow.NewSchema(append(append([]arrow.Field{}, fields[:i]...), fields[i+1:]...), nil)
		node, _, err := b.bindTable(tn, "")
		if err != nil {
			return err
		}
		proj := &LProject{Input: node}
		for k, c := range node.Columns() {
			if k != i {
				proj.Exprs = append(proj.Exprs, &ColRef{ID: c.ID, Name: c.Name, T: c.T})
				proj.Cols = append(proj.Cols, c)
			}
		}
		return p.finishPlan(b, st, proj, schemaNames(st.TableSchema))
	case ast.AlterTableRenameColumn:
		i, err := column(spec.OldColumnName)
		if err != nil {
			return err
		}
		name := spec.NewColumnName.Name.O
		if k := fieldIndex(schema, name); k >= 0 && k != i {
			return sqlerr.New(sqlerr.DuplicateColumn, "column %q of relation %q already exists", name, relation)
		}
		out := append([]arrow.Field{}, fields...)
		out[i].Name = name
		st.TableSchema = arrow.NewSchema(out, nil)
	case ast.AlterTableAlterColumn:
		// SET DEFAULT x / DROP DEFAULT.
		c := spec.NewColumns[0]
		i, err := column(c.Name)
		if err != nil {
			return err
		}
		out := append([]arrow.Field{}, fields...)
		out[i].Metadata = arrow.Metadata{}
		if len(c.Options) == 1 && c.Options[0].Expr != nil {
			// TiDB gives SET DEFAULT's expression as the one option.
			o := *c.Options[0]
			o.Tp = ast.ColumnOptionDefaultValue
			def, _, err := columnOptions(&ast.ColumnDef{Name: c.Name, Options: []*ast.ColumnOption{&o}})
			if err != nil {
				return err
			}
			out[i].Metadata = arrow.NewMetadata([]string{defaultKey}, []string{def})
			if _, err := b.defaultValue(out[i]); err != nil {
				return err
			}
		}
		st.TableSchema = arrow.NewSchema(out, nil)
	case ast.AlterTableRenameTable:
		st.NewName = tableName(spec.NewTable)
	default:
		return sqlerr.New(sqlerr.FeatureNotSupported, "this ALTER TABLE action is not supported")
	}
	return nil
}

func schemaNames(s *arrow.Schema) []string {
	out := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		out[i] = f.Name
	}
	return out
}
