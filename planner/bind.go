package planner

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// nameSep joins the parts of a name with three or more parts, which the
// pre-parse layer folds into one identifier for TiDB's two-part grammar.
const nameSep = "\x1f"

// binder turns one statement's AST into a logical plan.
type binder struct {
	ctx     context.Context
	p       *Planner
	sess    *Session
	text    string // statement text, for positions and names
	derived map[string][][]string
	nextID  ColumnID
	nulls   map[int]bool       // NULLS FIRST/LAST markers by text offset
	marks   *preMarks          // other pre-parse markers (LIMIT operands, MATERIALIZED)
	ctes    map[string]*cteDef // WITH definitions in scope, by lower-case name
	// outerStack holds the scopes of enclosing queries while a subquery in
	// an expression is bound (nil entries for FROM subqueries, which
	// cannot see outer columns).
	outerStack []*scope
	// pending collects the subqueries of the clause being bound; they are
	// attached as joins to that clause's input.
	pending *[]pendingSub
	// subCols are columns produced by subqueries, which pass through the
	// aggregate rewrite like constants.
	subCols map[ColumnID]bool
	// winSpecs are the named windows (WINDOW w AS (…)) of the SELECT being
	// bound; winErr reports a misuse found while planning windows.
	winSpecs  map[string]*ast.WindowSpec
	winErr    error
	viewDepth int
	// lateral is the scope of the FROM items left of the join being bound
	// (what a LATERAL subquery may reference); lateralPreds collects the
	// correlation taken out of such subqueries for the join's condition.
	lateral      *scope
	lateralPreds []Expr
	lateralExprs []lateralExprs
	lateralAgg   *lateralAgg
	// outerAggs are aggregates written in subqueries that belong to an
	// enclosing query (their arguments use only its columns), by that
	// query's scope.
	outerAggs map[*scope][]outerAgg
	// grouping is the GROUP BY of the aggregate being finished, for
	// GROUPING(…).
	grouping *groupingState
	// params supplies $n placeholders; slots records each one's type.
	params *Params
	slots  []*paramSlot
	// reuse, when planning with open parameters (Params.Generic), collects
	// what decides whether the plan can be kept (generic.go).
	reuse *reuseTracker
	// pgEmpty marks the columns of set-returning functions in FROM that
	// yield no rows (see bindTableFunc).
	pgEmpty map[ColumnID]bool
	// catalogCols are the columns of pg_catalog and information_schema
	// tables (what clients' introspection passes to such functions).
	catalogCols map[ColumnID]bool
	// views are shared over the statement (views bind with a copy of the
	// binder).
	views *viewSharing
	// seriesOK is set while a select item is bound: where a set-returning
	// function may stand.
	seriesOK bool
}

// scope is what a name can resolve to in an expression.
type scope struct {
	cols []Column
	// outer is the scope of the query enclosing a subquery: names not
	// found here resolve there (correlation).
	outer *scope
}

func (b *binder) newColumn(name, table string, t arrow.DataType) Column {
	b.nextID++
	return Column{ID: b.nextID, Name: name, Table: table, T: t}
}

// pos converts a TiDB node offset (0-based) to a 1-based position.
func pos(n ast.Node) int {
	if n == nil {
		return 0
	}
	return n.OriginTextPosition() + 1
}

// bindQuery binds a SELECT and returns its plan and output names.
func (b *binder) bindQuery(n ast.ResultSetNode) (LNode, []string, error) {
	switch n := n.(type) {
	case *ast.SelectStmt:
		return b.bindSelect(n)
	case *ast.SetOprStmt:
		return b.bindSetOpr(n)
	}
	return nil, nil, sqlerr.New(sqlerr.FeatureNotSupported, "unsupported query %T", n)
}

func (b *binder) bindFrom(n ast.ResultSetNode) (LNode, *scope, error) {
	switch n := n.(type) {
	case *ast.Join:
		return b.bindJoin(n)
	case *ast.TableSource:
		switch src := n.Source.(type) {
		case *ast.TableName:
			if src.Schema.O == "" {
				if def, ok := b.ctes[strings.ToLower(src.Name.O)]; ok {
					return b.bindCTERef(def, n.AsName.O)
				}
			}
			return b.bindTable(src, n.AsName.O)
		case *ast.SelectStmt, *ast.SetOprStmt:
			if call, ok := tableFuncCall(n); ok {
				return b.bindTableFunc(n, call)
			}
			if n.AsName.O == "" {
				return nil, nil, sqlerr.New(sqlerr.SyntaxError, "subquery in FROM must have an alias")
			}
			// A LATERAL subquery sees the FROM items left of it.
			var outer *scope
			if n.Lateral {
				outer = b.lateral
			}
			b.outerStack = append(b.outerStack, outer)
			sub, names, err := b.bindQuery(src.(ast.ResultSetNode))
			b.outerStack = b.outerStack[:len(b.outerStack)-1]
			if err != nil {
				return nil, nil, err
			}
			var node LNode = sub
			corr := outerRefs(sub)
			if agg, ok := findScalarAggregate(sub); ok && n.Lateral && len(corr) > 0 {
				// An aggregate without GROUP BY: one row per row on the
				// left, as a correlated scalar subquery computes it
				// (bindJoin).
				if agg.having != nil {
					return nil, nil, sqlerr.New(sqlerr.FeatureNotSupported, "LATERAL: HAVING in a correlated aggregate is not supported yet")
				}
				b.lateralAgg = &lateralAgg{sub: sub, agg: agg, corr: corr}
			} else if n.Lateral && len(corr) > 0 {
				pulled, preds, exprs, err := b.pullCorrelated(sub, corr)
				if err != nil {
					return nil, nil, sqlerr.New(sqlerr.FeatureNotSupported, "LATERAL: %s", sqlerr.As(err).Msg)
				}
				if len(exprs) > 0 {
					// Select items reading columns on the left are computed
					// above the join (bindJoin); a marker column tells the
					// rows a LEFT join made up.
					var marker Column
					pulled, marker = b.withMarker(pulled)
					b.lateralExprs = append(b.lateralExprs, lateralExprs{exprs: exprs, marker: marker})
				}
				// Decorrelated: the correlation becomes the join's condition.
				node, b.lateralPreds = pulled, append(b.lateralPreds, preds...)
			}
			alias := n.AsName.O
			if lists := b.derived[strings.ToLower(alias)]; len(lists) > 0 {
				renamed := lists[0]
				b.derived[strings.ToLower(alias)] = lists[1:]
				if len(renamed) > len(names) {
					return nil, nil, sqlerr.New(sqlerr.InvalidName,
						"table %q has %d columns available but %d columns specified", alias, len(names), len(renamed))
				}
				names = append(append([]string{}, renamed...), names[len(renamed):]...)
			}
			sc := &scope{}
			for i, c := range sub.Columns() {
				c.Name, c.Table = names[i], alias
				sc.cols = append(sc.cols, c)
			}
			return node, sc, nil
		}
		return nil, nil, sqlerr.New(sqlerr.FeatureNotSupported, "unsupported FROM item %T", n.Source)
	}
	return nil, nil, sqlerr.New(sqlerr.FeatureNotSupported, "unsupported FROM item %T", n)
}

func (b *binder) bindTable(t *ast.TableName, alias string) (LNode, *scope, error) {
	var name []string
	if t.Schema.O != "" {
		name = append(name, strings.Split(t.Schema.O, nameSep)...)
	}
	name = append(name, strings.Split(t.Name.O, nameSep)...)
	if v, ok, err := b.p.Catalog.LookupView(name, b.sess.DefaultSchema); err != nil {
		return nil, nil, err
	} else if ok {
		return b.bindViewRef(v, tableText(t), alias)
	}
	ds, err := b.p.Catalog.Lookup(b.ctx, name, b.sess.DefaultSchema)
	if err != nil {
		if e, ok := err.(*sqlerr.Error); ok && e.Pos == 0 {
			c := *e
			c.Pos = b.findName(t, name[len(name)-1])
			return nil, nil, &c
		}
		return nil, nil, err
	}
	b.dependOn(name, ds)
	qual := alias
	if qual == "" {
		qual = name[len(name)-1]
	}
	scan := &LScan{Dataset: ds, Name: strings.Join(ds.Path, "."), Limit: -1}
	sc := &scope{}
	catalogTable := len(ds.Path) > 0 && (ds.Path[0] == "pg_catalog" || ds.Path[0] == "information_schema")
	for i := 0; i < ds.Schema.NumFields(); i++ {
		f := ds.Schema.Field(i)
		c := b.newColumn(f.Name, qual, f.Type)
		if catalogTable {
			if b.catalogCols == nil {
				b.catalogCols = map[ColumnID]bool{}
			}
			b.catalogCols[c.ID] = true
		}
		scan.Cols = append(scan.Cols, c)
		scan.Ordinals = append(scan.Ordinals, i)
		sc.cols = append(sc.cols, c)
	}
	return scan, sc, nil
}

// findName locates an identifier in the statement text for error positions.
func (b *binder) findName(n ast.Node, name string) int {
	start := 0
	if n != nil {
		start = n.OriginTextPosition()
	}
	lower := strings.ToLower(b.text)
	if i := strings.Index(lower[min(start, len(lower)):], strings.ToLower(name)); i >= 0 {
		return start + i + 1
	}
	if i := strings.Index(lower, strings.ToLower(name)); i >= 0 {
		return i + 1
	}
	return 0
}

func (b *binder) resolve(cn *ast.ColumnName, sc *scope, p int) (*ColRef, error) {
	var found *Column
	for i := range sc.cols {
		c := &sc.cols[i]
		if !strings.EqualFold(c.Name, cn.Name.O) {
			continue
		}
		if cn.Table.O != "" && !strings.EqualFold(c.Table, cn.Table.O) {
			continue
		}
		if cn.Table.O == "" && c.hidden {
			continue
		}
		if found != nil && found.ID != c.ID {
			return nil, sqlerr.At(sqlerr.AmbiguousColumn, p, "column reference %q is ambiguous", cn.Name.O)
		}
		found = c
	}
	if found == nil {
		if sc.outer != nil {
			if r, err := b.resolve(cn, sc.outer, p); err == nil || sqlerr.Code(err) != sqlerr.UndefinedColumn {
				return r, err
			}
		}
		name := cn.Name.O
		if cn.Table.O != "" {
			name = cn.Table.O + "." + name
		}
		return nil, sqlerr.At(sqlerr.UndefinedColumn, p, "column %q does not exist", name)
	}
	return &ColRef{ID: found.ID, Name: found.Name, T: found.T}, nil
}

// selectItem is one bound output column of a SELECT.
type selectItem struct {
	expr  Expr
	name  string
	alias bool // named by AS
}

func (b *binder) bindSelect(sel *ast.SelectStmt) (LNode, []string, error) {
	if sel.With != nil {
		saved := b.saveCTEs()
		defer b.restoreCTEs(saved)
		if err := b.bindWith(sel.With, sel); err != nil {
			return nil, nil, err
		}
	}
	var node LNode
	var sc *scope
	if sel.From == nil {
		node = &LValues{Rows: [][]Expr{{}}}
		sc = &scope{}
	} else {
		var err error
		node, sc, err = b.bindFrom(sel.From.TableRefs)
		if err != nil {
			return nil, nil, err
		}
	}
	if len(b.outerStack) > 0 {
		sc.outer = b.outerStack[len(b.outerStack)-1]
	}
	savedPending := b.pending
	defer func() { b.pending = savedPending }()
	if sel.Where != nil {
		var subs []pendingSub
		b.pending = &subs
		pred, err := b.bindExpr(sel.Where, sc, false)
		if err != nil {
			return nil, nil, err
		}
		if pred, err = b.boolean(pred, "WHERE", pos(sel.Where)); err != nil {
			return nil, nil, err
		}
		if len(b.outerAggs[sc]) > 0 {
			return nil, nil, sqlerr.At(sqlerr.GroupingError, pos(sel.Where), "aggregate functions are not allowed in WHERE")
		}
		// Conjuncts without subqueries filter first, so that subqueries
		// (and the domains of correlated ones) see the filtered input.
		var plain, withSub []Expr
		for _, c := range conjuncts(pred) {
			if len(subs) > 0 && refsAny(c, b.subCols) {
				withSub = append(withSub, c)
			} else {
				plain = append(plain, c)
			}
		}
		if len(plain) > 0 {
			node = &LFilter{Input: node, Pred: andAll(plain)}
		}
		// Attach subqueries one at a time, each conjunct filtering as soon
		// as its subquery columns exist, so later subqueries (and their
		// domains) see rows the earlier ones already removed.
		applied := make([]bool, len(withSub))
		for _, sub := range subs {
			if node, err = sub.attach(node); err != nil {
				return nil, nil, err
			}
			have := idSet(node.Columns())
			var now []Expr
			for i, c := range withSub {
				if !applied[i] && refsWithin(c, have) {
					now, applied[i] = append(now, c), true
				}
			}
			if len(now) > 0 {
				node = &LFilter{Input: node, Pred: andAll(now)}
			}
		}
		var rest []Expr
		for i, c := range withSub {
			if !applied[i] {
				rest = append(rest, c)
			}
		}
		if len(rest) > 0 {
			node = &LFilter{Input: node, Pred: andAll(rest)}
		}
	}
	var selSubs []pendingSub
	b.pending = &selSubs
	savedSpecs := b.winSpecs
	defer func() { b.winSpecs = savedSpecs }()
	b.winSpecs = map[string]*ast.WindowSpec{}
	for i := range sel.WindowSpecs {
		b.winSpecs[strings.ToLower(sel.WindowSpecs[i].Name.L)] = &sel.WindowSpecs[i]
	}

	// SELECT list.
	var items []selectItem
	var onExprs []ast.ExprNode // DISTINCT ON (…), marked by the pre-parse layer
	for _, f := range sel.Fields.Fields {
		if call, ok := f.Expr.(*ast.FuncCallExpr); ok && call.FnName.L == distinctOnFn {
			onExprs = call.Args
			continue
		}
		if f.WildCard != nil {
			n := 0
			for _, c := range sc.cols {
				if f.WildCard.Table.O != "" && !strings.EqualFold(c.Table, f.WildCard.Table.O) {
					continue
				}
				if c.hidden && f.WildCard.Table.O == "" {
					continue
				}
				items = append(items, selectItem{expr: &ColRef{ID: c.ID, Name: c.Name, T: c.T}, name: c.Name})
				n++
			}
			if n == 0 && f.WildCard.Table.O != "" {
				return nil, nil, sqlerr.At(sqlerr.UndefinedTable, b.findName(f, f.WildCard.Table.O),
					"missing FROM-clause entry for table %q", f.WildCard.Table.O)
			}
			continue
		}
		b.seriesOK = true // only a select item may return a set
		e, err := b.bindExpr(f.Expr, sc, true)
		b.seriesOK = false
		if err != nil {
			return nil, nil, err
		}
		it := selectItem{expr: e, name: f.AsName.O, alias: f.AsName.O != ""}
		if it.name == "" {
			it.name = exprName(f.Expr)
		}
		items = append(items, it)
	}

	// GROUP BY.
	var groupExprs []Expr
	var gsets [][]int // grouping sets over groupExprs; nil: plain GROUP BY
	if sel.GroupBy != nil {
		for i, gi := range sel.GroupBy.Items {
			if f, ok := gi.Expr.(*ast.FuncCallExpr); ok && f.FnName.L == groupingSetsFn && i == len(sel.GroupBy.Items)-1 {
				spec := ""
				if len(f.Args) == 1 {
					if v, ok := f.Args[0].(*test_driver.ValueExpr); ok {
						spec = v.Datum.GetString()
					}
				}
				var err error
				if gsets, err = parseGroupingSets(spec, len(groupExprs)); err != nil {
					return nil, nil, err
				}
				break
			}
			e, err := b.bindOrderOrGroupItem(gi.Expr, sc, items, false)
			if err != nil {
				return nil, nil, err
			}
			if hasAgg(e) {
				return nil, nil, sqlerr.At(sqlerr.GroupingError, pos(gi.Expr), "aggregate functions are not allowed in GROUP BY")
			}
			groupExprs = append(groupExprs, e)
		}
		if sel.GroupBy.Rollup && gsets == nil { // MySQL's GROUP BY … WITH ROLLUP
			all := make([][]int, len(groupExprs))
			for i := range all {
				all[i] = []int{i}
			}
			gsets = rollupSets(all)
		}
	}
	var having Expr
	if sel.Having != nil {
		e, err := b.bindExpr(sel.Having.Expr, sc, true)
		if err != nil {
			return nil, nil, err
		}
		if having, err = b.boolean(e, "HAVING", pos(sel.Having.Expr)); err != nil {
			return nil, nil, err
		}
	}
	// ORDER BY items are bound now (they may add aggregates).
	var orderItems []SortItem
	if sel.OrderBy != nil {
		for _, oi := range sel.OrderBy.Items {
			e, err := b.bindOrderOrGroupItem(oi.Expr, sc, items, true)
			if err != nil {
				return nil, nil, err
			}
			orderItems = append(orderItems, SortItem{Expr: e, Desc: oi.Desc, NullsFirst: nullsFirst(b, oi)})
		}
	}
	// DISTINCT ON expressions resolve like ORDER BY items.
	var onItems []Expr
	for _, x := range onExprs {
		e, err := b.bindOrderOrGroupItem(x, sc, items, true)
		if err != nil {
			return nil, nil, err
		}
		onItems = append(onItems, e)
	}

	outerAggs := b.outerAggs[sc]
	aggregating := len(groupExprs) > 0 || having != nil || len(outerAggs) > 0 || gsets != nil
	for _, it := range items {
		aggregating = aggregating || hasAgg(it.expr)
	}
	for _, o := range orderItems {
		aggregating = aggregating || hasAgg(o.Expr)
	}
	if !aggregating {
		var err error
		if node, err = attachSubqueries(selSubs, node); err != nil {
			return nil, nil, err
		}
	}
	if aggregating {
		agg := &LAggregate{Input: node, GroupBy: groupExprs}
		grouped := map[ColumnID]bool{}
		var gp *groupingPlan
		var gsKeys []Column
		if gsets != nil {
			ex, keyCols, gid := b.expandForGroupingSets(node, groupExprs, gsets)
			gp = &groupingPlan{sets: gsets, nkey: len(groupExprs), gid: gid}
			gsKeys = keyCols
			// While the SELECT list is rewritten, group expressions match
			// as written; the aggregate groups by the expanded keys.
			agg = &LAggregate{Input: ex, GroupBy: append(append([]Expr{}, groupExprs...), &ColRef{ID: gid.ID, Name: gid.Name, T: gid.T})}
			for i, g := range groupExprs {
				agg.Cols = append(agg.Cols, b.newColumn(keyCols[i].Name, "", g.Type()))
			}
			agg.Cols = append(agg.Cols, b.newColumn(gid.Name, "", gid.T))
		}
		for i, g := range groupExprs {
			if gp != nil {
				break
			}
			name := fmt.Sprintf("group%d", i)
			c, isCol := g.(*ColRef)
			if isCol {
				name = c.Name
			}
			col := b.newColumn(name, "", g.Type())
			// A grouped column keeps its identity, so that correlated
			// subqueries in the SELECT list and HAVING, bound against the
			// rows before grouping, still find it above the aggregate.
			if isCol && !grouped[c.ID] {
				col.ID = c.ID
				grouped[c.ID] = true
			}
			agg.Cols = append(agg.Cols, col)
		}
		input := idSet(node.Columns())
		for _, s := range selSubs {
			for id := range s.outer {
				if input[id] && !grouped[id] {
					return nil, nil, sqlerr.New(sqlerr.GroupingError,
						"subquery uses ungrouped column %q from outer query", columnName(node.Columns(), id))
				}
			}
		}
		b.grouping = &groupingState{plan: gp, keys: groupExprs}
		if gp != nil {
			g := agg.Cols[len(groupExprs)]
			b.grouping.gid = &ColRef{ID: g.ID, Name: g.Name, T: g.T}
		}
		defer func() { b.grouping = nil }()
		rw := func(e Expr) (Expr, error) { return b.rewritePostAgg(e, agg) }
		var err error
		for i := range items {
			if items[i].expr, err = rw(items[i].expr); err != nil {
				return nil, nil, err
			}
		}
		if having != nil {
			if having, err = rw(having); err != nil {
				return nil, nil, err
			}
		}
		for i := range orderItems {
			if orderItems[i].Expr, err = rw(orderItems[i].Expr); err != nil {
				return nil, nil, err
			}
		}
		for i := range onItems {
			if onItems[i], err = rw(onItems[i]); err != nil {
				return nil, nil, err
			}
		}
		if err := b.sortForStringAgg(agg); err != nil {
			return nil, nil, err
		}
		if gp != nil {
			agg.GroupBy = nil
			for _, k := range append(gsKeys, gp.gid) {
				agg.GroupBy = append(agg.GroupBy, &ColRef{ID: k.ID, Name: k.Name, T: k.T})
			}
		}
		node = agg
		if len(outerAggs) > 0 {
			// Aggregates of this query written inside its subqueries:
			// computed here, seen there as outer columns.
			proj := &LProject{Input: agg}
			for _, c := range agg.Cols {
				proj.Exprs = append(proj.Exprs, &ColRef{ID: c.ID, Name: c.Name, T: c.T})
				proj.Cols = append(proj.Cols, c)
			}
			for _, oa := range outerAggs {
				x, err := rw(oa.expr)
				if err != nil {
					return nil, nil, err
				}
				proj.Exprs = append(proj.Exprs, x)
				proj.Cols = append(proj.Cols, oa.col)
			}
			node = proj
		}
		if node, err = attachSubqueries(selSubs, node); err != nil {
			return nil, nil, err
		}
		if having != nil {
			node = &LFilter{Input: node, Pred: having}
		}
	}

	// Window functions: computed over the (aggregated, filtered) rows.
	var winExprs []*Expr
	for i := range items {
		if hasWindow(items[i].expr) {
			winExprs = append(winExprs, &items[i].expr)
		}
	}
	for i := range orderItems {
		if hasWindow(orderItems[i].Expr) {
			winExprs = append(winExprs, &orderItems[i].Expr)
		}
	}
	if len(winExprs) > 0 {
		var err error
		if node, err = b.planWindows(node, winExprs); err != nil {
			return nil, nil, err
		}
	}

	// Set-returning functions: over the rows windows saw, before
	// DISTINCT, ORDER BY and LIMIT (as in PostgreSQL).
	var seriesExprs []*Expr
	for i := range items {
		if hasSeries(items[i].expr) {
			seriesExprs = append(seriesExprs, &items[i].expr)
		}
	}
	if len(seriesExprs) > 0 {
		for i := range orderItems {
			seriesExprs = append(seriesExprs, &orderItems[i].Expr)
		}
		node = b.planSeries(node, seriesExprs)
	}

	// Projection: output items, then hidden ORDER BY expressions.
	proj := &LProject{Input: node}
	names := make([]string, len(items))
	inputCols := idSet(node.Columns())
	for i, it := range items {
		proj.Exprs = append(proj.Exprs, it.expr)
		c := b.newColumn(it.name, "", it.expr.Type())
		// (An outer column is not an input: it gets a column of its own.)
		if cr, ok := it.expr.(*ColRef); ok && !it.alias && inputCols[cr.ID] {
			c.ID = cr.ID // keep identity: lets ORDER BY reuse input columns
		}
		proj.Cols = append(proj.Cols, c)
		names[i] = it.name
	}
	visible := len(proj.Exprs)
	orderIdx := make([]int, len(orderItems))
	for k, o := range orderItems {
		idx := -1
		for i, e := range proj.Exprs {
			if exprEqual(e, o.Expr) {
				idx = i
				break
			}
		}
		if idx < 0 {
			if sel.Distinct {
				return nil, nil, sqlerr.New("42P10", "for SELECT DISTINCT, ORDER BY expressions must appear in select list")
			}
			proj.Exprs = append(proj.Exprs, o.Expr)
			c := b.newColumn("order", "", o.Expr.Type())
			if cr, ok := o.Expr.(*ColRef); ok {
				c.ID = cr.ID
			}
			proj.Cols = append(proj.Cols, c)
			idx = len(proj.Exprs) - 1
		}
		orderIdx[k] = idx
	}
	onIdx := make([]int, len(onItems))
	for k, e := range onItems {
		onIdx[k] = -1
		for i, x := range proj.Exprs {
			if exprEqual(x, e) {
				onIdx[k] = i
				break
			}
		}
		if onIdx[k] < 0 {
			proj.Exprs = append(proj.Exprs, e)
			proj.Cols = append(proj.Cols, b.newColumn("distinct_on", "", e.Type()))
			onIdx[k] = len(proj.Exprs) - 1
		}
	}
	// Projected columns must have distinct IDs (SELECT a, a).
	seen := map[ColumnID]bool{}
	for i := range proj.Cols {
		if seen[proj.Cols[i].ID] {
			proj.Cols[i] = b.newColumn(proj.Cols[i].Name, "", proj.Cols[i].T)
		}
		seen[proj.Cols[i].ID] = true
	}
	sortItems := make([]SortItem, len(orderItems))
	for k, o := range orderItems {
		c := proj.Cols[orderIdx[k]]
		o.Expr = &ColRef{ID: c.ID, Name: c.Name, T: c.T}
		sortItems[k] = o
	}
	node = proj
	if len(onItems) > 0 {
		// DISTINCT ON: the first row of each group in ORDER BY order.
		win := &LWindow{Input: node, Order: sortItems}
		for _, i := range onIdx {
			c := proj.Cols[i]
			win.Partition = append(win.Partition, &ColRef{ID: c.ID, Name: c.Name, T: c.T})
		}
		rn := b.newColumn("row_number", "", physical.Int64)
		win.Funcs = []winFunc{{fn: physical.WinRowNumber, col: rn}}
		node = &LFilter{Input: win, Pred: &Func{Fn: physical.FnEq, Arg: []Expr{
			&ColRef{ID: rn.ID, Name: rn.Name, T: rn.T}, &Const{Value: int64(1), T: physical.Int64}}, T: physical.Boolean}}
	}
	if sel.Distinct && len(onItems) == 0 {
		d := &LAggregate{Input: node}
		for _, c := range proj.Cols {
			d.GroupBy = append(d.GroupBy, &ColRef{ID: c.ID, Name: c.Name, T: c.T})
			d.Cols = append(d.Cols, c)
		}
		node = d
	}
	var spec *limitSpec
	if sel.Limit != nil {
		l, err := b.limitValues(sel.Limit)
		if err != nil {
			return nil, nil, err
		}
		spec = &l
	}
	node, err := b.applyLimit(node, sortItems, spec, visible)
	if err != nil {
		return nil, nil, err
	}
	return node, names, nil
}

// nullsFirst is the NULL placement of an ORDER BY item: as written (NULLS
// FIRST/LAST), else PostgreSQL's default (NULLs sort as larger than any
// value: last ascending, first descending).
func nullsFirst(b *binder, oi *ast.ByItem) bool {
	if pe, ok := oi.Expr.(*ast.PositionExpr); ok && pe.P == nil {
		// TiDB records no offset for ORDER BY <ordinal>: find the marker
		// whose item is that number.
		n := strconv.Itoa(pe.N)
		for off, first := range b.nulls {
			rest := b.text[min(off, len(b.text)):]
			if strings.HasPrefix(rest, n) && (len(rest) == len(n) || rest[len(n)] < '0' || rest[len(n)] > '9') {
				delete(b.nulls, off)
				return first
			}
		}
		return oi.Desc
	}
	if first, ok := b.nulls[oi.Expr.OriginTextPosition()]; ok {
		return first
	}
	return oi.Desc
}

// bindOrderOrGroupItem resolves an ORDER BY / GROUP BY item: an output
// ordinal, an output alias, or an expression over the input.
func (b *binder) bindOrderOrGroupItem(e ast.ExprNode, sc *scope, items []selectItem, allowAgg bool) (Expr, error) {
	if pe, ok := e.(*ast.PositionExpr); ok && pe.P == nil {
		if pe.N < 1 || pe.N > len(items) {
			return nil, sqlerr.At(sqlerr.InvalidParameterValue, pos(e), "position %d is not in select list", pe.N)
		}
		return items[pe.N-1].expr, nil
	}
	if v, ok := e.(*test_driver.ValueExpr); ok && (v.Datum.Kind() == test_driver.KindInt64 || v.Datum.Kind() == test_driver.KindUint64) {
		n := v.Datum.GetInt64()
		if n < 1 || int(n) > len(items) {
			return nil, sqlerr.At(sqlerr.InvalidParameterValue, pos(e), "position %d is not in select list", n)
		}
		return items[n-1].expr, nil
	}
	if cn, ok := e.(*ast.ColumnNameExpr); ok && cn.Name.Table.O == "" {
		// An input column wins over an output alias for GROUP BY (as in
		// PostgreSQL); ORDER BY prefers the output name.
		if allowAgg {
			for _, it := range items {
				if strings.EqualFold(it.name, cn.Name.Name.O) {
					return it.expr, nil
				}
			}
		}
		if _, err := b.resolve(cn.Name, sc, pos(e)); err != nil {
			for _, it := range items {
				if it.alias && strings.EqualFold(it.name, cn.Name.Name.O) {
					return it.expr, nil
				}
			}
		}
	}
	return b.bindExpr(e, sc, allowAgg)
}

// rewritePostAgg rewrites an expression bound over the aggregate's input
// into one over its output: group expressions and aggregate calls become
// column references; any other column reference is a grouping error.
func (b *binder) rewritePostAgg(e Expr, agg *LAggregate) (Expr, error) {
	for i, g := range agg.GroupBy {
		if exprEqual(e, g) {
			c := agg.Cols[i]
			return &ColRef{ID: c.ID, Name: c.Name, T: c.T}, nil
		}
	}
	switch x := e.(type) {
	case *Func:
		if x.Fn == groupingCallFn {
			g := b.grouping
			if g == nil {
				return nil, sqlerr.New(sqlerr.GroupingError, "GROUPING needs GROUP BY")
			}
			return b.groupingValue(x.Arg, g.keys, g.plan, g.gid)
		}
	case *aggCall:
		for i, a := range agg.Aggs {
			if exprEqual(&aggCall{agg: a}, x) {
				c := agg.Cols[len(agg.GroupBy)+i]
				return &ColRef{ID: c.ID, Name: c.Name, T: c.T}, nil
			}
		}
		agg.Aggs = append(agg.Aggs, x.agg)
		c := b.newColumn(x.agg.Fn, "", x.agg.T)
		agg.Cols = append(agg.Cols, c)
		return &ColRef{ID: c.ID, Name: c.Name, T: c.T}, nil
	case *ColRef:
		if b.subCols[x.ID] || !producedBy(agg.Input, x.ID) {
			return x, nil // a subquery's value, or an outer query's column
		}
		return nil, sqlerr.At(sqlerr.GroupingError, b.findName(nil, x.Name),
			"column %q must appear in the GROUP BY clause or be used in an aggregate function", x.Name)
	}
	args := e.Args()
	if len(args) == 0 {
		return e, nil
	}
	out := make([]Expr, len(args))
	for i, a := range args {
		r, err := b.rewritePostAgg(a, agg)
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return e.WithArgs(out), nil
}

func hasAgg(e Expr) bool {
	found := false
	visitExpr(e, func(x Expr) {
		if _, ok := x.(*aggCall); ok {
			found = true
		}
	})
	return found
}

// exprName is the output name of an unaliased SELECT item.
func exprName(e ast.ExprNode) string {
	switch e := e.(type) {
	case *ast.ColumnNameExpr:
		return e.Name.Name.O
	case *ast.AggregateFuncExpr:
		return strings.ToLower(e.F)
	case *ast.WindowFuncExpr:
		return windowName(e)
	case *ast.FuncCallExpr:
		n := e.FnName.L
		if name, ok := pgExprName(e); ok {
			return name
		}
		if strings.HasPrefix(n, "__") {
			return strings.TrimPrefix(n, "__")
		}
		if i := strings.LastIndex(n, "("); i >= 0 {
			return n[i+1:]
		}
		return n
	case *ast.ParenthesesExpr:
		return exprName(e.Expr)
	case *ast.CaseExpr:
		return "case"
	}
	return "?column?"
}

// boolean checks that e can be a condition.
func (b *binder) boolean(e Expr, what string, p int) (Expr, error) {
	switch e.Type().ID() {
	case arrow.BOOL:
		return e, nil
	case arrow.NULL:
		return castTo(e, physical.Boolean), nil
	}
	if c, ok := e.(*Const); ok && c.untypedString {
		return castTo(c.typed(), physical.Boolean), nil
	}
	return nil, sqlerr.At(sqlerr.DatatypeMismatch, p, "argument of %s must be type BOOLEAN, not type %s", what, physical.TypeName(e.Type()))
}

// ---- expressions ----

func (b *binder) bindExpr(e ast.ExprNode, sc *scope, allowAgg bool) (Expr, error) {
	switch e := e.(type) {
	case *test_driver.ValueExpr:
		return b.bindValue(e)
	case *ast.ColumnNameExpr:
		return b.resolve(e.Name, sc, pos(e))
	case *ast.ParenthesesExpr:
		return b.bindExpr(e.Expr, sc, allowAgg)
	case *ast.BinaryOperationExpr:
		if rowFields(e.L) != nil || rowFields(e.R) != nil {
			return b.bindRowComparison(e, sc, allowAgg)
		}
		l, err := b.bindExpr(e.L, sc, allowAgg)
		if err != nil {
			return nil, err
		}
		r, err := b.bindExpr(e.R, sc, allowAgg)
		if err != nil {
			return nil, err
		}
		return b.binary(e.Op, l, r, pos(e))
	case *ast.UnaryOperationExpr:
		v, err := b.bindExpr(e.V, sc, allowAgg)
		if err != nil {
			return nil, err
		}
		switch e.Op {
		case opcode.Minus:
			if c, ok := v.(*Const); ok {
				if neg, ok := negateConst(c); ok {
					return neg, nil
				}
			}
			if !isNumeric(v.Type()) && !isNull(v.Type()) && v.Type().ID() != arrow.INTERVAL_MONTH_DAY_NANO {
				return nil, sqlerr.At(sqlerr.UndefinedFunction, pos(e), "operator does not exist: - %s", physical.TypeName(v.Type()))
			}
			return &Func{Fn: physical.FnNeg, Arg: []Expr{v}, T: v.Type()}, nil
		case opcode.Plus:
			return v, nil
		case opcode.Not, opcode.Not2:
			v, err := b.boolean(v, "NOT", pos(e))
			if err != nil {
				return nil, err
			}
			return &Func{Fn: physical.FnNot, Arg: []Expr{v}, T: physical.Boolean}, nil
		}
		return nil, sqlerr.At(sqlerr.FeatureNotSupported, pos(e), "operator %s is not supported", e.Op)
	case *ast.IsNullExpr:
		v, err := b.bindExpr(e.Expr, sc, allowAgg)
		if err != nil {
			return nil, err
		}
		fn := physical.FnIsNull
		if e.Not {
			fn = physical.FnIsNotNull
		}
		return &Func{Fn: fn, Arg: []Expr{v}, T: physical.Boolean}, nil
	case *ast.IsTruthExpr:
		v, err := b.bindExpr(e.Expr, sc, allowAgg)
		if err != nil {
			return nil, err
		}
		if v, err = b.boolean(v, "IS", pos(e)); err != nil {
			return nil, err
		}
		fn := map[[2]bool]string{
			{true, false}: physical.FnIsTrue, {true, true}: physical.FnIsNotTrue,
			{false, false}: physical.FnIsFalse, {false, true}: physical.FnIsNotFalse,
		}[[2]bool{e.True != 0, e.Not}]
		return &Func{Fn: fn, Arg: []Expr{v}, T: physical.Boolean}, nil
	case *ast.BetweenExpr:
		v, err := b.bindExpr(e.Expr, sc, allowAgg)
		if err != nil {
			return nil, err
		}
		lo, err := b.bindExpr(e.Left, sc, allowAgg)
		if err != nil {
			return nil, err
		}
		hi, err := b.bindExpr(e.Right, sc, allowAgg)
		if err != nil {
			return nil, err
		}
		ge, err := b.binary(opcode.GE, v, lo, pos(e))
		if err != nil {
			return nil, err
		}
		le, err := b.binary(opcode.LE, v, hi, pos(e))
		if err != nil {
			return nil, err
		}
		out := Expr(&Func{Fn: physical.FnAnd, Arg: []Expr{ge, le}, T: physical.Boolean})
		if e.Not {
			out = &Func{Fn: physical.FnNot, Arg: []Expr{out}, T: physical.Boolean}
		}
		return out, nil
	case *ast.PatternInExpr:
		if fields := rowFields(e.Expr); fields != nil {
			return b.bindRowIn(e, fields, sc, allowAgg)
		}
		v, err := b.bindExpr(e.Expr, sc, allowAgg)
		if err != nil {
			return nil, err
		}
		if e.Sel != nil {
			return b.bindInSubquery(e, v, sc)
		}
		args := []Expr{v}
		for _, x := range e.List {
			a, err := b.bindExpr(x, sc, allowAgg)
			if err != nil {
				return nil, err
			}
			_, a = coerceUntyped(v, a)
			args = append(args, a)
		}
		args, _, err = unify("IN", pos(e), args...)
		if err != nil {
			return nil, err
		}
		out := Expr(&Func{Fn: physical.FnIn, Arg: args, T: physical.Boolean})
		if e.Not {
			out = &Func{Fn: physical.FnNot, Arg: []Expr{out}, T: physical.Boolean}
		}
		return out, nil
	case *ast.PatternLikeOrIlikeExpr:
		v, err := b.bindExpr(e.Expr, sc, allowAgg)
		if err != nil {
			return nil, err
		}
		pat, err := b.bindExpr(e.Pattern, sc, allowAgg)
		if err != nil {
			return nil, err
		}
		for _, x := range []Expr{v, pat} {
			if t := x.Type().ID(); t != arrow.STRING && t != arrow.NULL {
				return nil, sqlerr.At(sqlerr.UndefinedFunction, pos(e), "operator does not exist: %s LIKE %s",
					physical.TypeName(v.Type()), physical.TypeName(pat.Type()))
			}
		}
		fn := physical.FnLike
		if !e.IsLike {
			fn = physical.FnILike
		}
		args := []Expr{castTo(v, physical.String), castTo(pat, physical.String)}
		if e.Escape != '\\' {
			args = append(args, &Const{Value: string(e.Escape), T: physical.String})
		}
		out := Expr(&Func{Fn: fn, Arg: args, T: physical.Boolean})
		if e.Not {
			out = &Func{Fn: physical.FnNot, Arg: []Expr{out}, T: physical.Boolean}
		}
		return out, nil
	case *ast.CaseExpr:
		return b.bindCase(e, sc, allowAgg)
	case *ast.FuncCallExpr:
		if e.FnName.L == "generate_series" {
			return b.bindSeriesCall(e, sc)
		}
		if physical.TwoArg(e.FnName.L) {
			return b.bindTwoArgAgg(e, sc, allowAgg)
		}
		return b.bindFunc(e, sc, allowAgg)
	case *ast.AggregateFuncExpr:
		return b.bindAgg(e, sc, allowAgg)
	case *ast.WindowFuncExpr:
		if !allowAgg {
			return nil, sqlerr.At("42P20", pos(e), "window functions are not allowed here")
		}
		return b.bindWindow(e, sc, b.winSpecs)
	case *ast.FuncCastExpr:
		v, err := b.bindExpr(e.Expr, sc, allowAgg)
		if err != nil {
			return nil, err
		}
		t, err := fieldTypeToArrow(e.Tp)
		if err != nil {
			return nil, err
		}
		return b.cast(v, t), nil
	case *ast.SubqueryExpr:
		return b.bindScalarSubquery(e, sc)
	case *ast.ExistsSubqueryExpr:
		return b.bindExists(e, sc)
	case *ast.CompareSubqueryExpr:
		return b.bindCompareSubquery(e, sc, allowAgg)
	case *ast.DefaultExpr, *ast.VariableExpr, *ast.RowExpr:
		return nil, sqlerr.At(sqlerr.FeatureNotSupported, pos(e), "expression %T is not supported", e)
	}
	return nil, sqlerr.At(sqlerr.FeatureNotSupported, pos(e), "expression %T is not supported", e)
}

// cast converts v to t; an explicit cast of an untyped literal becomes a
// typed constant conversion.
func (b *binder) cast(v Expr, t arrow.DataType) Expr {
	if c, ok := v.(*Const); ok && c.untypedString {
		v = c.typed()
	}
	if arrow.TypeEqual(v.Type(), t) {
		return v
	}
	return castTo(v, t)
}

func negateConst(c *Const) (*Const, bool) {
	switch v := c.Value.(type) {
	case int32:
		if v != math.MinInt32 {
			return &Const{Value: -v, T: c.T}, true
		}
	case int64:
		if v != math.MinInt64 {
			// -2147483648 parses as 2147483648 (BIGINT) then negates: narrow it.
			if -v == math.MinInt32 {
				return &Const{Value: int32(math.MinInt32), T: physical.Int32}, true
			}
			return &Const{Value: -v, T: c.T}, true
		}
	case float64:
		return &Const{Value: -v, T: c.T}, true
	case decimal128.Num:
		return &Const{Value: v.Negate(), T: c.T}, true
	}
	return nil, false
}

func (b *binder) bindValue(v *test_driver.ValueExpr) (Expr, error) {
	d := v.Datum
	switch d.Kind() {
	case test_driver.KindNull:
		return &Const{T: physical.Null}, nil
	case test_driver.KindInt64:
		x := d.GetInt64()
		if mysql.HasIsBooleanFlag(v.GetType().GetFlag()) {
			return &Const{Value: x != 0, T: physical.Boolean}, nil
		}
		if x >= math.MinInt32 && x <= math.MaxInt32 {
			return &Const{Value: int32(x), T: physical.Int32}, nil
		}
		return &Const{Value: x, T: physical.Int64}, nil
	case test_driver.KindUint64:
		x := d.GetUint64()
		if x <= math.MaxInt64 {
			return &Const{Value: int64(x), T: physical.Int64}, nil
		}
		n, err := decimal128.FromString(strconv.FormatUint(x, 10), 20, 0)
		if err != nil {
			return nil, sqlerr.At(sqlerr.NumericOutOfRange, pos(v), "numeric constant out of range")
		}
		return &Const{Value: n, T: physical.Decimal(20, 0)}, nil
	case test_driver.KindFloat32, test_driver.KindFloat64:
		return &Const{Value: d.GetFloat64(), T: physical.Float64}, nil
	case test_driver.KindMysqlDecimal:
		s := d.GetMysqlDecimal().String()
		return decimalConst(s, pos(v))
	case test_driver.KindString, test_driver.KindBytes:
		return &Const{Value: d.GetString(), T: physical.String, untypedString: true}, nil
	case test_driver.KindBinaryLiteral, test_driver.KindMysqlBit:
		return &Const{Value: string(d.GetBytes()), T: physical.String}, nil
	}
	return nil, sqlerr.At(sqlerr.FeatureNotSupported, pos(v), "literal of kind %d is not supported", d.Kind())
}

// decimalConst types a decimal literal by its digits: 1.50 → DECIMAL(3,2).
func decimalConst(s string, p int) (Expr, error) {
	digits := strings.TrimLeft(strings.TrimPrefix(s, "-"), "0")
	scale := 0
	if i := strings.IndexByte(digits, '.'); i >= 0 {
		scale = len(digits) - i - 1
		digits = digits[:i] + digits[i+1:]
	}
	prec := max(len(strings.TrimLeft(digits, "0")), scale, 1)
	if prec > 38 {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, sqlerr.At(sqlerr.NumericOutOfRange, p, "numeric constant %s out of range", s)
		}
		return &Const{Value: f, T: physical.Float64}, nil
	}
	n, err := decimal128.FromString(s, int32(prec), int32(scale))
	if err != nil {
		return nil, sqlerr.At(sqlerr.InvalidTextRep, p, "invalid numeric constant %s", s)
	}
	return &Const{Value: n, T: physical.Decimal(int32(prec), int32(scale))}, nil
}

func (b *binder) binary(op opcode.Op, l, r Expr, p int) (Expr, error) {
	switch op {
	case opcode.LogicAnd, opcode.LogicOr:
		name := "AND"
		fn := physical.FnAnd
		if op == opcode.LogicOr {
			name, fn = "OR", physical.FnOr
		}
		var err error
		if l, err = b.boolean(l, name, p); err != nil {
			return nil, err
		}
		if r, err = b.boolean(r, name, p); err != nil {
			return nil, err
		}
		return &Func{Fn: fn, Arg: []Expr{l, r}, T: physical.Boolean}, nil
	case opcode.EQ, opcode.NE, opcode.LT, opcode.LE, opcode.GT, opcode.GE, opcode.NullEQ:
		l, r = coerceUntyped(l, r)
		t := commonType(l.Type(), r.Type())
		if t == nil {
			return nil, typeErr(p, cmpSymbol[op], l.Type(), r.Type())
		}
		if ls, ok := l.(*Const); ok && ls.untypedString {
			l = &Const{Value: ls.Value, T: ls.T}
		}
		if rs, ok := r.(*Const); ok && rs.untypedString {
			r = &Const{Value: rs.Value, T: rs.T}
		}
		if isNull(t) {
			t = physical.Boolean
		}
		l, r = castTo(l, t), castTo(r, t)
		fn := map[opcode.Op]string{opcode.EQ: physical.FnEq, opcode.NE: physical.FnNe, opcode.LT: physical.FnLt,
			opcode.LE: physical.FnLe, opcode.GT: physical.FnGt, opcode.GE: physical.FnGe, opcode.NullEQ: physical.FnEq}[op]
		cmp := Expr(&Func{Fn: fn, Arg: []Expr{l, r}, T: physical.Boolean})
		if op == opcode.NullEQ {
			// a <=> b: true when both NULL, false when one is.
			bothNull := &Func{Fn: physical.FnAnd, Arg: []Expr{
				&Func{Fn: physical.FnIsNull, Arg: []Expr{l}, T: physical.Boolean},
				&Func{Fn: physical.FnIsNull, Arg: []Expr{r}, T: physical.Boolean}}, T: physical.Boolean}
			cmp = &Func{Fn: physical.FnOr, Arg: []Expr{bothNull,
				&Func{Fn: physical.FnIsTrue, Arg: []Expr{cmp}, T: physical.Boolean}}, T: physical.Boolean}
		}
		return cmp, nil
	case opcode.Plus, opcode.Minus, opcode.Mul, opcode.Div, opcode.Mod, opcode.IntDiv:
		return b.arith(op, l, r, p)
	case opcode.Xor:
		// PostgreSQL's ^ is exponentiation (MySQL's, which TiDB parses,
		// is bitwise XOR): power(l, r) over DOUBLE.
		args := []Expr{l, r}
		for i, a := range args {
			if c, ok := a.(*Const); ok && c.untypedString {
				a = c.typed()
			}
			if !isNumeric(a.Type()) && !isNull(a.Type()) {
				return nil, typeErr(p, "^", l.Type(), r.Type())
			}
			args[i] = castTo(a, physical.Float64)
		}
		return &Func{Fn: physical.FnPower, Arg: args, T: physical.Float64}, nil
	}
	return nil, sqlerr.At(sqlerr.FeatureNotSupported, p, "operator %s is not supported", op)
}

var cmpSymbol = map[opcode.Op]string{opcode.EQ: "=", opcode.NE: "<>", opcode.LT: "<", opcode.LE: "<=",
	opcode.GT: ">", opcode.GE: ">=", opcode.NullEQ: "<=>"}

func (b *binder) arith(op opcode.Op, l, r Expr, p int) (Expr, error) {
	sym := map[opcode.Op]string{opcode.Plus: "+", opcode.Minus: "-", opcode.Mul: "*", opcode.Div: "/", opcode.Mod: "%", opcode.IntDiv: "DIV"}[op]
	fn := map[opcode.Op]string{opcode.Plus: physical.FnAdd, opcode.Minus: physical.FnSub, opcode.Mul: physical.FnMul,
		opcode.Div: physical.FnDiv, opcode.Mod: physical.FnMod, opcode.IntDiv: physical.FnDiv}[op]
	l, r = coerceUntyped(l, r)
	lt, rt := l.Type(), r.Type()
	// Temporal arithmetic.
	if lt.ID() == arrow.DATE32 && rt.ID() == arrow.DATE32 && op == opcode.Minus {
		return &Func{Fn: physical.FnSub, Arg: []Expr{l, r}, T: physical.Int32}, nil
	}
	// date ± integer days (PostgreSQL).
	if lt.ID() == arrow.DATE32 && isInteger(rt) && (op == opcode.Plus || op == opcode.Minus) {
		return &Func{Fn: fn, Arg: []Expr{l, r}, T: physical.Date}, nil
	}
	if isInteger(lt) && rt.ID() == arrow.DATE32 && op == opcode.Plus {
		return &Func{Fn: fn, Arg: []Expr{r, l}, T: physical.Date}, nil
	}
	if isTemporal(lt) && rt.ID() == arrow.INTERVAL_MONTH_DAY_NANO && (op == opcode.Plus || op == opcode.Minus) {
		return &Func{Fn: fn, Arg: []Expr{l, r}, T: dateIntervalType(lt, r)}, nil
	}
	if lt.ID() == arrow.INTERVAL_MONTH_DAY_NANO && isTemporal(rt) && op == opcode.Plus {
		return &Func{Fn: fn, Arg: []Expr{r, l}, T: dateIntervalType(rt, l)}, nil
	}
	if x, ok := intervalArith(op, fn, l, r); ok {
		return x, nil
	}
	if isNull(lt) && isNull(rt) {
		return &Const{T: physical.Int32}, nil
	}
	if isNull(lt) {
		lt = rt
		l = castTo(l, rt)
	}
	if isNull(rt) {
		rt = lt
		r = castTo(r, lt)
	}
	if !isNumeric(lt) || !isNumeric(rt) {
		return nil, typeErr(p, sym, lt, rt)
	}
	var t arrow.DataType
	switch {
	case op == opcode.IntDiv:
		t = physical.Int64
		if isInteger(lt) && isInteger(rt) && lt.ID() == arrow.INT32 && rt.ID() == arrow.INT32 {
			t = physical.Int32
		}
		l, r = castTo(l, t), castTo(r, t)
		return &Func{Fn: physical.FnDiv, Arg: []Expr{l, r}, T: t}, nil
	case lt.ID() == arrow.FLOAT64 || rt.ID() == arrow.FLOAT64:
		t = physical.Float64
	case isDecimal(lt) || isDecimal(rt):
		if op == opcode.Div || op == opcode.Mod {
			t = physical.Float64
			break
		}
		da, db := constDecimalOf(l), constDecimalOf(r)
		switch op {
		case opcode.Plus, opcode.Minus:
			s := maxI(da.Scale, db.Scale)
			prec := minI(38, maxI(da.Precision-da.Scale, db.Precision-db.Scale)+s+1)
			t = physical.Decimal(prec, s)
			l, r = castTo(l, physical.Decimal(minI(38, da.Precision), da.Scale)), castTo(r, physical.Decimal(minI(38, db.Precision), db.Scale))
			return &Func{Fn: fn, Arg: []Expr{l, r}, T: t}, nil
		case opcode.Mul:
			s := minI(38, da.Scale+db.Scale)
			prec := maxI(minI(38, da.Precision+db.Precision), s)
			l, r = castTo(l, da), castTo(r, db)
			return &Func{Fn: fn, Arg: []Expr{l, r}, T: physical.Decimal(prec, s)}, nil
		}
	case lt.ID() == arrow.INT64 || rt.ID() == arrow.INT64:
		t = physical.Int64
	default:
		t = physical.Int32
	}
	return &Func{Fn: fn, Arg: []Expr{castTo(l, t), castTo(r, t)}, T: t}, nil
}

// dateIntervalType is DATE when a date moves by whole days or months,
// TIMESTAMP otherwise.
func dateIntervalType(t arrow.DataType, iv Expr) arrow.DataType {
	if t.ID() == arrow.DATE32 {
		if c, ok := iv.(*Const); ok {
			if v, ok := c.Value.(arrow.MonthDayNanoInterval); ok && v.Nanoseconds == 0 {
				return physical.Date
			}
		}
	}
	return physical.Timestamp
}

func (b *binder) bindCase(e *ast.CaseExpr, sc *scope, allowAgg bool) (Expr, error) {
	var operand Expr
	if e.Value != nil {
		v, err := b.bindExpr(e.Value, sc, allowAgg)
		if err != nil {
			return nil, err
		}
		operand = v
	}
	c := &CaseExpr{}
	var results []Expr
	for _, w := range e.WhenClauses {
		cond, err := b.bindExpr(w.Expr, sc, allowAgg)
		if err != nil {
			return nil, err
		}
		if operand != nil {
			if cond, err = b.binary(opcode.EQ, operand, cond, pos(w.Expr)); err != nil {
				return nil, err
			}
		} else if cond, err = b.boolean(cond, "CASE/WHEN", pos(w.Expr)); err != nil {
			return nil, err
		}
		res, err := b.bindExpr(w.Result, sc, allowAgg)
		if err != nil {
			return nil, err
		}
		c.Whens = append(c.Whens, cond)
		results = append(results, res)
	}
	if e.ElseClause != nil {
		el, err := b.bindExpr(e.ElseClause, sc, allowAgg)
		if err != nil {
			return nil, err
		}
		results = append(results, el)
	} else {
		results = append(results, &Const{T: physical.Null})
	}
	results, t, err := unify("CASE", pos(e), results...)
	if err != nil {
		return nil, err
	}
	if isNull(t) {
		t = physical.String
		for i := range results {
			results[i] = castTo(results[i], t)
		}
	}
	c.Thens, c.Else, c.T = results[:len(results)-1], results[len(results)-1], t
	return c, nil
}

func (b *binder) bindAgg(e *ast.AggregateFuncExpr, sc *scope, allowAgg bool) (Expr, error) {
	if x, ok, err := b.bindOuterAgg(e, sc); ok || err != nil {
		return x, err
	}
	if !allowAgg {
		return nil, sqlerr.At(sqlerr.GroupingError, pos(e), "aggregate functions are not allowed here")
	}
	fn := strings.ToLower(e.F)
	if fn == "group_concat" {
		return b.bindStringAgg(e, sc)
	}
	if len(e.Args) != 1 {
		return nil, sqlerr.At(sqlerr.UndefinedFunction, pos(e), "function %s with %d arguments does not exist", fn, len(e.Args))
	}
	// Aggregates do not nest: bind the argument without aggregates allowed.
	arg, err := b.bindExpr(e.Args[0], sc, false)
	if err != nil {
		if se, ok := err.(*sqlerr.Error); ok && se.Code == sqlerr.GroupingError {
			return nil, sqlerr.At(sqlerr.GroupingError, pos(e), "aggregate function calls cannot be nested")
		}
		return nil, err
	}
	// TiDB's parser reads STDDEV and VARIANCE as the population variants
	// (MySQL); as in PostgreSQL they are the sample ones.
	if off := e.OriginTextPosition(); (fn == "stddev_pop" || fn == "var_pop") && off >= 0 && off < len(b.text) {
		word := strings.ToLower(b.text[off:])
		if strings.HasPrefix(word, "stddev(") || strings.HasPrefix(word, "stddev (") {
			fn = "stddev"
		} else if strings.HasPrefix(word, "variance(") || strings.HasPrefix(word, "variance (") {
			fn = "variance"
		}
	}
	a, err := aggSignature(fn, arg, e.Distinct, pos(e))
	if err != nil {
		return nil, err
	}
	return &aggCall{agg: a}, nil
}

// aggSignature types aggregate fn (its SQL name) over its bound argument
// as PostgreSQL does: the physical function, the argument as it reads it
// (nil for count(*)) and the result type. Plain and window aggregates
// share it.
func aggSignature(fn string, arg Expr, distinct bool, p int) (AggExpr, error) {
	bools := fn == "bool_and" || fn == "every" || fn == "bool_or"
	if c, ok := arg.(*Const); ok && c.untypedString {
		arg = c.typed()
		if bools {
			arg = castTo(arg, physical.Boolean)
		}
	}
	at := arg.Type()
	noSuch := func() (AggExpr, error) {
		return AggExpr{}, sqlerr.At(sqlerr.UndefinedFunction, p, "function %s(%s) does not exist", fn, physical.TypeName(at))
	}
	a := AggExpr{Fn: fn, Arg: arg, Distinct: distinct}
	switch fn {
	case "count":
		a.T = physical.Int64
		if c, ok := arg.(*Const); ok && c.Value != nil && !distinct {
			a.Fn, a.Arg = physical.AggCountStar, nil // COUNT(*) and COUNT(1)
		}
	case "sum":
		switch {
		case isInteger(at):
			a.T = physical.Int64
		case isDecimal(at):
			a.T = physical.Decimal(38, at.(*arrow.Decimal128Type).Scale)
		case at.ID() == arrow.FLOAT64:
			a.T = physical.Float64
		case isNull(at):
			a.T, a.Arg = physical.Int64, castTo(arg, physical.Int64)
		default:
			return noSuch()
		}
	case "avg":
		switch {
		case isNumeric(at):
		case isNull(at):
			a.Arg = castTo(arg, physical.Float64)
		default:
			return noSuch()
		}
		a.T = physical.Float64
	case "min", "max":
		if isNull(at) {
			a.Arg = castTo(arg, physical.Int32)
		}
		a.T, a.Distinct = a.Arg.Type(), false // DISTINCT changes neither
	case "var_samp", "var_pop", "stddev_samp", "stddev_pop", "stddev", "variance":
		if !isNumeric(at) && !isNull(at) {
			return noSuch()
		}
		if isNull(at) {
			a.Arg = castTo(arg, physical.Float64)
		}
		// As in PostgreSQL, stddev and variance are the sample ones.
		switch fn {
		case "stddev":
			a.Fn = physical.AggStddevSamp
		case "variance":
			a.Fn = physical.AggVarSamp
		}
		a.T = physical.Float64
	case "bool_and", "every", "bool_or":
		// Over booleans FALSE < TRUE: AND is the minimum, OR the maximum.
		if at.ID() != arrow.BOOL && !isNull(at) {
			return noSuch()
		}
		a.Fn = physical.AggMin
		if fn == "bool_or" {
			a.Fn = physical.AggMax
		}
		a.Arg, a.T, a.Distinct = castTo(arg, physical.Boolean), physical.Boolean, false
	case "approx_count_distinct":
		if isNull(at) {
			a.Arg = castTo(arg, physical.Int32)
		}
		a.Fn, a.T, a.Distinct = physical.AggApproxCountDistinct, physical.Int64, false
	default:
		return AggExpr{}, sqlerr.At(sqlerr.UndefinedFunction, p, "aggregate function %s does not exist", fn)
	}
	return a, nil
}

// twoArgSignature types two-argument statistical aggregate fn (corr,
// covar_*, regr_*): both arguments read as DOUBLE, the result DOUBLE
// (BIGINT for regr_count).
func twoArgSignature(fn string, args []Expr, p int) ([]Expr, arrow.DataType, error) {
	if len(args) != 2 {
		return nil, nil, sqlerr.At(sqlerr.UndefinedFunction, p, "function %s with %d arguments does not exist", fn, len(args))
	}
	out := make([]Expr, 2)
	for i, x := range args {
		if c, ok := x.(*Const); ok && c.untypedString {
			x = castTo(c.typed(), physical.Float64) // an unknown literal reads as DOUBLE
		}
		if t := x.Type(); !isNumeric(t) && !isNull(t) {
			return nil, nil, sqlerr.At(sqlerr.UndefinedFunction, p, "function %s(%s, %s) does not exist", fn,
				physical.TypeName(args[0].Type()), physical.TypeName(args[1].Type()))
		}
		out[i] = castTo(x, physical.Float64)
	}
	t := physical.Float64
	if fn == physical.AggRegrCount {
		t = physical.Int64
	}
	return out, t, nil
}

// bindTwoArgAgg binds corr, covar_pop / covar_samp and the regr_*
// aggregates: fn(y, x) over numeric arguments, read as DOUBLE and packed
// into one physical.AggArgPair argument.
func (b *binder) bindTwoArgAgg(e *ast.FuncCallExpr, sc *scope, allowAgg bool) (Expr, error) {
	fn, p := e.FnName.L, pos(e)
	outer, ok, err := b.bindOuterAggOf(fn, e.Args, sc, func(o *scope) (Expr, error) { return b.bindTwoArgAgg(e, o, true) })
	if ok || err != nil {
		return outer, err
	}
	if len(e.Args) != 2 {
		return nil, sqlerr.At(sqlerr.UndefinedFunction, p, "function %s with %d arguments does not exist", fn, len(e.Args))
	}
	if !allowAgg {
		return nil, sqlerr.At(sqlerr.GroupingError, p, "aggregate functions are not allowed here")
	}
	args := make([]Expr, 2)
	for i, a := range e.Args {
		// Aggregates do not nest: bind without aggregates allowed.
		x, err := b.bindExpr(a, sc, false)
		if err != nil {
			if se, ok := err.(*sqlerr.Error); ok && se.Code == sqlerr.GroupingError {
				return nil, sqlerr.At(sqlerr.GroupingError, p, "aggregate function calls cannot be nested")
			}
			return nil, err
		}
		args[i] = x
	}
	args, t, err := twoArgSignature(fn, args, p)
	if err != nil {
		return nil, err
	}
	for i, x := range args {
		if isConst(x) {
			if args[i], err = b.fold(x, p); err != nil {
				return nil, err
			}
		}
	}
	pair := &Func{Fn: physical.AggArgPair, Arg: args, T: physical.Float64}
	return &aggCall{agg: AggExpr{Fn: fn, Arg: pair, T: t}}, nil
}

// fieldTypeToArrow maps a TiDB column type (CREATE TABLE, CONVERT) to Arrow.
func fieldTypeToArrow(ft interface {
	GetType() byte
	GetFlen() int
	GetDecimal() int
}) (arrow.DataType, error) {
	switch ft.GetType() {
	case mysql.TypeTiny:
		if ft.GetFlen() == 1 {
			return physical.Boolean, nil
		}
		return physical.Int32, nil
	case mysql.TypeShort, mysql.TypeInt24, mysql.TypeLong:
		return physical.Int32, nil
	case mysql.TypeLonglong:
		return physical.Int64, nil
	case mysql.TypeFloat, mysql.TypeDouble:
		return physical.Float64, nil
	case mysql.TypeNewDecimal:
		p, s := ft.GetFlen(), ft.GetDecimal()
		if p <= 0 {
			p = 38
		}
		if s < 0 {
			s = 0
		}
		if p > 38 {
			p = 38
		}
		return physical.Decimal(int32(p), int32(s)), nil
	case mysql.TypeVarchar, mysql.TypeString, mysql.TypeVarString, mysql.TypeBlob, mysql.TypeTinyBlob,
		mysql.TypeMediumBlob, mysql.TypeLongBlob:
		return physical.String, nil
	case mysql.TypeDate:
		return physical.Date, nil
	case mysql.TypeDatetime, mysql.TypeTimestamp:
		return physical.Timestamp, nil
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "column type %d is not supported", ft.GetType())
}

// columnName is the name of column id among cols.
func columnName(cols []Column, id ColumnID) string {
	for _, c := range cols {
		if c.ID == id {
			return c.Name
		}
	}
	return "?"
}

// producedBy reports whether n outputs column id.
func producedBy(n LNode, id ColumnID) bool {
	for _, c := range n.Columns() {
		if c.ID == id {
			return true
		}
	}
	return false
}

// outerAgg is an aggregate of an enclosing query met inside a subquery:
// expr is bound in the enclosing query, col is how the subquery sees it.
type outerAgg struct {
	expr Expr
	col  Column
}

// bindOuterAgg binds an aggregate whose arguments reference only columns
// of the immediately enclosing query as that query's aggregate, as SQL
// does (SELECT (SELECT max(o.x) FROM t) FROM o is an aggregate over o).
func (b *binder) bindOuterAgg(e *ast.AggregateFuncExpr, sc *scope) (Expr, bool, error) {
	return b.bindOuterAggOf(e.F, e.Args, sc, func(outer *scope) (Expr, error) { return b.bindAgg(e, outer, true) })
}

// bindOuterAggOf is bindOuterAgg for aggregate name over args, bound in
// the enclosing scope by bind.
func (b *binder) bindOuterAggOf(name string, args []ast.ExprNode, sc *scope, bind func(outer *scope) (Expr, error)) (Expr, bool, error) {
	if sc == nil || sc.outer == nil || len(args) == 0 {
		return nil, false, nil
	}
	saved := b.pending
	b.pending = nil // the probe binding must not register subqueries
	used := map[ColumnID]bool{}
	for _, a := range args {
		x, err := b.bindExpr(a, sc, false)
		if err != nil {
			b.pending = saved
			return nil, false, nil // the ordinary path reports it
		}
		columnsUsed(x, used)
	}
	b.pending = saved
	if len(used) == 0 {
		return nil, false, nil
	}
	inner, enclosing := idSet(sc.cols), idSet(sc.outer.cols)
	for id := range used {
		if inner[id] || !enclosing[id] {
			return nil, false, nil
		}
	}
	x, err := bind(sc.outer)
	if err != nil {
		return nil, true, err
	}
	col := b.newColumn(strings.ToLower(name), "", x.Type())
	if b.outerAggs == nil {
		b.outerAggs = map[*scope][]outerAgg{}
	}
	b.outerAggs[sc.outer] = append(b.outerAggs[sc.outer], outerAgg{expr: x, col: col})
	return &ColRef{ID: col.ID, Name: col.Name, T: col.T}, true, nil
}
