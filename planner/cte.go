package planner

import (
	"fmt"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/quarrydb/quarry/catalog"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// cteDef is a WITH definition. A query referenced once is bound where it
// is referenced, like a derived table, so the optimizer sees through it.
// One referenced more than once is computed once and shared (sharedCTE)
// when that saves work — it aggregates, joins, sorts, … — or when its
// result must be the same for every reference (volatile functions, as
// PostgreSQL guarantees); a plain scan is cheaper to read again, with each
// reference's filters pushed into it, than to buffer.
type cteDef struct {
	name    string
	query   ast.ResultSetNode
	columns []string
	// visible are the CTEs in scope where this one was defined.
	visible map[string]*cteDef
	// refs is how many times the statement names it.
	refs int
	// recursive: the query reads itself (WITH RECURSIVE); work is set on
	// the stand-in definition the step of such a query sees its own name
	// as (recursive.go).
	recursive bool
	work      *workTable
	// decided: shared (nil: bind at each reference) is settled.
	decided bool
	shared  *sharedCTE
	// materialized is AS MATERIALIZED (share, even when referenced once)
	// or AS NOT MATERIALIZED (bind at each reference unless volatile);
	// nil: decide by references and cost.
	materialized *bool
	// derived are the binder's derived column lists when the query was
	// first bound; bound is set after that.
	derived map[string][][]string
	bound   bool
}

// sharedCTE is a WITH query computed once for all its references: its
// plan becomes one fragment whose output every reference reads through
// its own port (physical.Fragment.Ports).
type sharedCTE struct {
	id    int // unique in the statement; a query's own references have lower IDs
	name  string
	plan  LNode
	names []string // of its columns, as the WITH clause names them
}

// LSharedRef reads the rows of a shared WITH query: Cols[i], under this
// reference's own column ID, is the query's output column Source[i].
type LSharedRef struct {
	Shared *sharedCTE
	Cols   []Column
	Source []ColumnID
}

func (n *LSharedRef) Columns() []Column        { return n.Cols }
func (n *LSharedRef) Inputs() []LNode          { return nil }
func (n *LSharedRef) WithInputs([]LNode) LNode { return n }
func (n *LSharedRef) describe() string {
	return fmt.Sprintf("SharedScan %s#%d cols=[%s]", n.Shared.name, n.Shared.id, colNames(n.Cols))
}

func (b *binder) saveCTEs() map[string]*cteDef {
	saved := make(map[string]*cteDef, len(b.ctes))
	for k, v := range b.ctes {
		saved[k] = v
	}
	return saved
}

func (b *binder) restoreCTEs(saved map[string]*cteDef) { b.ctes = saved }

// bindWith brings the WITH clause of query owner into scope.
func (b *binder) bindWith(w *ast.WithClause, owner ast.Node) error {
	refs := tableRefs(owner)
	for _, c := range w.CTEs {
		def := &cteDef{name: c.Name.O, visible: b.saveCTEs(), refs: refs[c.Name.L]}
		if b.marks != nil {
			if m, ok := b.marks.materialized[c.Name.L]; ok {
				def.materialized = &m
			}
		}
		sub, ok := c.Query.Query.(ast.ResultSetNode)
		if !ok {
			return sqlerr.New(sqlerr.FeatureNotSupported, "unsupported WITH query")
		}
		// In WITH RECURSIVE, a query naming itself is computed by iteration.
		// Names in its own body are no references to it either way.
		self := tableRefs(sub)[c.Name.L]
		def.recursive = w.IsRecursive && self > 0
		def.refs -= self
		def.query = sub
		for _, col := range c.ColNameList {
			def.columns = append(def.columns, col.O)
		}
		b.ctes[strings.ToLower(c.Name.O)] = def
	}
	return nil
}

// tableRefs counts the table names in n, by tableText.
// A name shadowed by an inner WITH counts too: that only makes sharing
// more likely, never wrong.
func tableRefs(n ast.Node) map[string]int {
	v := &tableRefCounter{refs: map[string]int{}}
	n.Accept(v)
	return v.refs
}

type tableRefCounter struct{ refs map[string]int }

func (v *tableRefCounter) Enter(n ast.Node) (ast.Node, bool) {
	if t, ok := n.(*ast.TableName); ok {
		v.refs[tableText(t)]++
	}
	return n, false
}

// tableText is a table name as written, lower-case (schema.name).
func tableText(t *ast.TableName) string {
	if t.Schema.O == "" {
		return t.Name.L
	}
	return t.Schema.L + "." + t.Name.L
}

func (v *tableRefCounter) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// bindCTERef binds a reference to a WITH query under alias.
func (b *binder) bindCTERef(def *cteDef, alias string) (LNode, *scope, error) {
	if def.work != nil {
		return b.workTableRef(def, alias)
	}
	if def.shared != nil {
		return b.sharedRef(def, alias)
	}
	node, sc, err := b.bindCTEQuery(def, alias)
	if err != nil || def.decided {
		return node, sc, err
	}
	def.decided = true
	// A volatile WITH query is computed once, as PostgreSQL guarantees,
	// even when NOT MATERIALIZED; MATERIALIZED computes it once always.
	worth, volatile := sharing(node)
	switch m := def.materialized; {
	case m != nil && *m:
	case m != nil && !volatile:
		return node, sc, nil
	case m == nil && (def.refs < 2 || !worth && !volatile):
		return node, sc, nil
	}
	b.share(def, node, sc)
	return b.sharedRef(def, alias)
}

// share makes def's bound query node (with scope sc) shared.
func (b *binder) share(def *cteDef, node LNode, sc *scope) {
	b.nextID++
	def.shared = &sharedCTE{id: int(b.nextID), name: def.name, plan: node}
	for _, c := range sc.cols {
		def.shared.names = append(def.shared.names, c.Name)
	}
}

// viewSharing is what the statement's references to views share: how
// often the statement names each (by its text, lower-case), and the
// definitions bound so far, by view path. Like a WITH query, a
// deterministic view the statement names more than once is computed once
// when that saves work (the classic TPC-H Q15 reads its view twice).
type viewSharing struct {
	refs map[string]int
	defs map[string]*cteDef
}

// bindViewRef binds a reference to view v named by text name.
func (b *binder) bindViewRef(v *catalog.View, name, alias string) (LNode, *scope, error) {
	key := strings.Join(v.Path, nameSep)
	if b.views == nil || b.views.refs[strings.ToLower(name)] < 2 {
		return b.bindView(v, alias)
	}
	if def := b.views.defs[key]; def != nil && def.shared != nil {
		return b.sharedRef(def, alias)
	}
	node, sc, err := b.bindView(v, alias)
	if err != nil || b.views.defs[key] != nil {
		return node, sc, err
	}
	def := &cteDef{name: v.Path[len(v.Path)-1], decided: true}
	b.views.defs[key] = def
	// Each reference to a view is its own evaluation in PostgreSQL, so a
	// volatile one is not shared: sharing must not change results.
	if worth, volatile := sharing(node); worth && !volatile {
		b.share(def, node, sc)
		return b.sharedRef(def, alias)
	}
	return node, sc, nil
}

// sharedRef is a reference to a shared WITH query: its columns under new
// IDs, so that references can be joined with each other.
func (b *binder) sharedRef(def *cteDef, alias string) (LNode, *scope, error) {
	if alias == "" {
		alias = def.name
	}
	ref := &LSharedRef{Shared: def.shared}
	sc := &scope{}
	for i, c := range def.shared.plan.Columns() {
		col := b.newColumn(def.shared.names[i], alias, c.T)
		ref.Cols = append(ref.Cols, col)
		ref.Source = append(ref.Source, c.ID)
		sc.cols = append(sc.cols, col)
	}
	return ref, sc, nil
}

// sharing tells whether computing a query once for several references
// beats computing it for each (anything but a filtered, projected scan),
// and whether it is volatile.
func sharing(n LNode) (worth, volatile bool) {
	var walk func(n LNode)
	walk = func(n LNode) {
		switch n.(type) {
		case *LScan, *LFilter, *LProject, *LValues:
		default:
			worth = true
		}
		exprs, _ := nodeExprs(n)
		for _, e := range exprs {
			if !deterministic(e) {
				volatile = true
			}
		}
		for _, in := range n.Inputs() {
			walk(in)
		}
	}
	walk(n)
	return worth, volatile
}

// deterministic reports whether e gives the same value every time for the
// same row (no random(), gen_random_uuid()).
func deterministic(e Expr) bool {
	ok := true
	visitExpr(e, func(x Expr) {
		if f, isFunc := x.(*Func); isFunc && (f.Fn == physical.FnRandom || f.Fn == physical.FnPgRandomUUID) {
			ok = false
		}
	})
	return ok
}

// bindCTEQuery binds the query of a WITH definition under alias.
func (b *binder) bindCTEQuery(def *cteDef, alias string) (LNode, *scope, error) {
	saved := b.ctes
	b.ctes = def.visible
	// Derived tables' column lists are taken in binding order: a query
	// bound again (once per reference) takes the lists its first binding
	// took, and leaves the rest to the statement.
	savedDerived := b.derived
	if !def.bound {
		def.derived = copyDerived(b.derived)
	} else {
		b.derived = copyDerived(def.derived)
	}
	b.outerStack = append(b.outerStack, nil) // a WITH query sees no outer columns
	node, names, err := b.bindCTEBody(def)
	b.outerStack = b.outerStack[:len(b.outerStack)-1]
	b.ctes = saved
	if def.bound {
		b.derived = savedDerived
	}
	def.bound = true
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
	b.marks = qs[0].marks
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
