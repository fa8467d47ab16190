package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// SQL forms TiDB's grammar lacks, beyond GROUPING SETS: string_agg with
// its ORDER BY, percentile_cont / percentile_disc WITHIN GROUP, DISTINCT
// ON and PostgreSQL's EXTRACT fields. The pre-parse layer rewrites them
// into forms TiDB parses; the binder plans what needs planning.

// distinctOnFn is the SELECT-list marker of DISTINCT ON (e, …).
const distinctOnFn = "__distinct_on"

// bindStringAgg binds GROUP_CONCAT(x [ORDER BY …] [SEPARATOR 's']), the
// form the pre-parse layer gives string_agg(x, 's' [ORDER BY …]), as
// string_agg over the text of x.
func (b *binder) bindStringAgg(e *ast.AggregateFuncExpr, sc *scope) (Expr, error) {
	p := pos(e)
	sep := ","
	args := e.Args
	if n := len(args); n >= 2 {
		v, ok := args[n-1].(*test_driver.ValueExpr)
		if !ok {
			return nil, sqlerr.At(sqlerr.FeatureNotSupported, p, "string_agg: the separator must be a string literal")
		}
		sep, args = v.Datum.GetString(), args[:n-1]
	}
	if len(args) != 1 {
		return nil, sqlerr.At(sqlerr.UndefinedFunction, p, "string_agg takes one value and a separator")
	}
	x, err := b.bindExpr(args[0], sc, false)
	if err != nil {
		if se, ok := err.(*sqlerr.Error); ok && se.Code == sqlerr.GroupingError {
			return nil, sqlerr.At(sqlerr.GroupingError, p, "aggregate function calls cannot be nested")
		}
		return nil, err
	}
	if c, ok := x.(*Const); ok && c.untypedString {
		x = c.typed()
	}
	x = castTo(x, physical.String)
	a := AggExpr{Fn: physical.AggStringAgg, Arg: x, Distinct: e.Distinct, T: physical.String, Sep: sep}
	if e.Order != nil {
		for _, it := range e.Order.Items {
			k, err := b.bindExpr(it.Expr, sc, false)
			if err != nil {
				return nil, err
			}
			a.Order = append(a.Order, SortItem{Expr: k, Desc: it.Desc, NullsFirst: it.Desc})
		}
	}
	return &aggCall{agg: a}, nil
}

// sortForStringAgg puts the input of agg in the order its string_agg
// calls ask for (they see rows in arrival order). Calls asking for
// different orders are not supported.
func (b *binder) sortForStringAgg(agg *LAggregate) error {
	var order []SortItem
	key := ""
	for _, a := range agg.Aggs {
		if len(a.Order) == 0 {
			continue
		}
		var parts []string
		for _, it := range a.Order {
			parts = append(parts, it.String())
		}
		k := strings.Join(parts, ",")
		if order != nil && k != key {
			return sqlerr.New(sqlerr.FeatureNotSupported, "string_agg calls with different ORDER BY in one query are not supported")
		}
		order, key = a.Order, k
	}
	if order == nil {
		return nil
	}
	in := agg.Input
	pre := &LProject{Input: in}
	for _, c := range in.Columns() {
		pre.Exprs = append(pre.Exprs, &ColRef{ID: c.ID, Name: c.Name, T: c.T})
		pre.Cols = append(pre.Cols, c)
	}
	items := make([]SortItem, len(order))
	for i, it := range order {
		c := b.newColumn("agg_order", "", it.Expr.Type())
		pre.Exprs = append(pre.Exprs, it.Expr)
		pre.Cols = append(pre.Cols, c)
		it.Expr = &ColRef{ID: c.ID, Name: c.Name, T: c.T}
		items[i] = it
	}
	agg.Input = &LSort{Input: pre, Items: items}
	return nil
}

// rewriteStringAgg rewrites string_agg(x, 'sep' [ORDER BY …]) at
// significant token k into TiDB's GROUP_CONCAT(x [ORDER BY …] SEPARATOR
// 'sep'); other forms are left for the binder to reject.
func rewriteStringAgg(ts *stmtTokens, k int, replace map[int]string) {
	m := ts.closing(k + 1)
	if m < 0 {
		return
	}
	args := ts.splitTopLevel(k+2, m)
	if len(args) != 2 || ts.at(args[1][0]).kind != tokString {
		return
	}
	comma := args[1][0] - 1
	sep := ts.at(comma + 1).text
	order := ""
	if comma+2 < m {
		if !ts.at(comma+2).is("order") || !ts.at(comma+3).is("by") {
			return
		}
		order = " " + ts.text(comma+2, m-1)
	}
	replace[ts.sig[k]] = "group_concat"
	replace[ts.sig[comma]] = order + " SEPARATOR " + sep
	blank(replace, ts.sig[comma]+1, ts.sig[m]-1)
}

// pgOnlyExtractField reports EXTRACT fields of PostgreSQL that TiDB's
// grammar does not know.
func pgOnlyExtractField(t token) bool {
	if t.kind != tokWord {
		return false
	}
	switch strings.ToLower(t.text) {
	case "dow", "doy", "isodow", "isoyear", "epoch", "millisecond", "milliseconds", "microseconds",
		"century", "decade", "millennium", "julian", "timezone", "timezone_hour", "timezone_minute":
		return true
	}
	return false
}

// rewriteMode turns mode() WITHIN GROUP (ORDER BY x [ASC|DESC]) at
// significant token k into __mode(x).
func rewriteMode(ts *stmtTokens, k int, replace map[int]string) {
	at := ts.at
	if at(k+1).text != "(" || at(k+2).text != ")" || !at(k+3).is("within") || !at(k+4).is("group") ||
		at(k+5).text != "(" || !at(k+6).is("order") || !at(k+7).is("by") {
		return
	}
	close2 := ts.closing(k + 5)
	if close2 < 0 {
		return
	}
	last := close2 - 1
	if at(last).is("asc") || at(last).is("desc") {
		last--
	}
	if last < k+8 {
		return
	}
	replace[ts.sig[k]] = "__mode(" + ts.text(k+8, last) + ")"
	blank(replace, ts.sig[k]+1, ts.sig[close2])
}

// rewriteWithinGroup turns percentile_cont(f) WITHIN GROUP (ORDER BY x
// [ASC|DESC]) at significant token k into __percentile_cont(x, f), with
// f mirrored (1 - f) for DESC; percentile_disc likewise, ascending only.
func rewriteWithinGroup(ts *stmtTokens, k int, replace map[int]string) {
	at := ts.at
	close1 := ts.closing(k + 1)
	if close1 < 0 || !at(close1+1).is("within") || !at(close1+2).is("group") || at(close1+3).text != "(" ||
		!at(close1+4).is("order") || !at(close1+5).is("by") {
		return
	}
	close2 := ts.closing(close1 + 3)
	if close2 < 0 {
		return
	}
	last := close2 - 1
	desc := false
	switch {
	case at(last).is("desc"):
		desc, last = true, last-1
	case at(last).is("asc"):
		last--
	}
	if last < close1+6 || desc && at(k).is("percentile_disc") {
		return
	}
	frac := ts.text(k+2, close1-1)
	if desc {
		frac = "1 - (" + frac + ")"
	}
	replace[ts.sig[k]] = "__" + strings.ToLower(at(k).text) + "(" + ts.text(close1+6, last) + ", " + frac + ")"
	blank(replace, ts.sig[k]+1, ts.sig[close2])
}
