package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/quarrydb/quarry/catalog"
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

// bindView binds a stored view's query (parsed again on every use, so it
// sees current metadata) under alias.
func (b *binder) bindView(v *catalog.View, alias string) (LNode, *scope, error) {
	name := strings.Join(v.Path, ".")
	if b.viewDepth > 32 {
		return nil, nil, sqlerr.New(sqlerr.InvalidName, "view %q refers to itself", name)
	}
	qs, _ := parseAll(v.SQL)
	if len(qs) != 1 || qs[0].err != nil || qs[0].node == nil {
		if len(qs) == 1 && qs[0].err != nil {
			return nil, nil, sqlerr.Wrap(sqlerr.DataException, qs[0].err, "view %q", name)
		}
		return nil, nil, sqlerr.New(sqlerr.DataException, "view %q is not a query", name)
	}
	q, ok := qs[0].node.(ast.ResultSetNode)
	if !ok {
		return nil, nil, sqlerr.New(sqlerr.DataException, "view %q is not a query", name)
	}
	// The view's text has its own offsets and rewrites.
	saved := *b
	b.text, b.derived, b.nulls, b.ctes = qs[0].rewritten, copyDerived(qs[0].derived), qs[0].nulls, map[string]*cteDef{}
	b.viewDepth++
	b.outerStack = append(b.outerStack, nil)
	node, names, err := b.bindQuery(q)
	next := b.nextID
	*b = saved
	b.nextID = next
	if err != nil {
		return nil, nil, sqlerr.Wrap(sqlerr.As(err).Code, err, "in view %q", name)
	}
	if len(v.Columns) > len(names) {
		return nil, nil, sqlerr.New(sqlerr.InvalidName, "view %q has more column names than columns", name)
	}
	copy(names, v.Columns)
	if alias == "" {
		alias = v.Path[len(v.Path)-1]
	}
	sc := &scope{}
	for i, c := range node.Columns() {
		c.Name, c.Table, c.hidden = names[i], alias, false
		sc.cols = append(sc.cols, c)
	}
	return node, sc, nil
}

func copyDerived(d map[string][][]string) map[string][][]string {
	out := map[string][][]string{}
	for k, v := range d {
		out[k] = append([][]string{}, v...)
	}
	return out
}
