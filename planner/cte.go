package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/quarrydb/quarry/catalog/sqlerr"
)

// cteDef is a WITH definition. Each reference binds the query again (with
// fresh column IDs), so a CTE used twice is computed twice; sharing one
// materialization is a later optimization.
type cteDef struct {
	name    string
	query   ast.ResultSetNode
	columns []string
	// visible are the CTEs in scope where this one was defined.
	visible map[string]*cteDef
}

func (b *binder) saveCTEs() map[string]*cteDef {
	saved := make(map[string]*cteDef, len(b.ctes))
	for k, v := range b.ctes {
		saved[k] = v
	}
	return saved
}

func (b *binder) restoreCTEs(saved map[string]*cteDef) { b.ctes = saved }

func (b *binder) bindWith(w *ast.WithClause) error {
	if w.IsRecursive {
		return sqlerr.New(sqlerr.FeatureNotSupported, "WITH RECURSIVE is not supported yet")
	}
	for _, c := range w.CTEs {
		def := &cteDef{name: c.Name.O, visible: b.saveCTEs()}
		sub, ok := c.Query.Query.(ast.ResultSetNode)
		if !ok {
			return sqlerr.New(sqlerr.FeatureNotSupported, "unsupported WITH query")
		}
		def.query = sub
		for _, col := range c.ColNameList {
			def.columns = append(def.columns, col.O)
		}
		b.ctes[strings.ToLower(c.Name.O)] = def
	}
	return nil
}

// bindCTERef binds a reference to a WITH query under alias.
func (b *binder) bindCTERef(def *cteDef, alias string) (LNode, *scope, error) {
	saved := b.ctes
	b.ctes = def.visible
	b.outerStack = append(b.outerStack, nil) // a WITH query sees no outer columns
	node, names, err := b.bindQuery(def.query)
	b.outerStack = b.outerStack[:len(b.outerStack)-1]
	b.ctes = saved
	if err != nil {
		return nil, nil, err
	}
	if len(def.columns) > len(names) {
		return nil, nil, sqlerr.New(sqlerr.InvalidName, "WITH query %q has %d columns available but %d columns specified",
			def.name, len(names), len(def.columns))
	}
	copy(names, def.columns)
	if alias == "" {
		alias = def.name
	}
	sc := &scope{}
	for i, c := range node.Columns() {
		c.Name, c.Table, c.hidden = names[i], alias, false
		sc.cols = append(sc.cols, c)
	}
	return node, sc, nil
}
