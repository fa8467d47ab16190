package planner

import (
	"context"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/quarrydb/quarry/catalog"
	"github.com/quarrydb/quarry/catalog/pgcatalog"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// The functions PostgreSQL clients call while looking at pg_catalog, the
// reg* casts, and arrays. Quarry has no array type: an array is its
// PostgreSQL text form ('{a,b}') in a VARCHAR, which is also what a client
// reading text results sees.

type describingKey struct{}

// withSessionInfo puts what system tables show of sess into ctx.
func (p *Planner) withSessionInfo(ctx context.Context, sess *Session) context.Context {
	info := &catalog.SessionInfo{DefaultSchema: sess.DefaultSchema, Settings: sess.Settings}
	info.Database = sess.Settings["database"]
	info.User = sess.Settings["user"]
	if ctx.Value(describingKey{}) == nil {
		info.DescribeView = func(v catalog.View) ([]arrow.Field, error) {
			return p.describeView(context.WithValue(ctx, describingKey{}, true), sess, v)
		}
	}
	return catalog.WithSessionInfo(ctx, info)
}

// describeView binds a view's query to learn its columns.
func (p *Planner) describeView(ctx context.Context, sess *Session, v catalog.View) ([]arrow.Field, error) {
	qs, _ := parseAll(v.SQL)
	if len(qs) != 1 {
		return nil, sqlerr.New(sqlerr.SyntaxError, "a view is one query")
	}
	vs := &Session{DefaultSchema: sess.DefaultSchema, Settings: sess.Settings}
	st, err := p.plan(ctx, vs, qs[0])
	if err != nil {
		return nil, err
	}
	if st.Plan == nil {
		return nil, sqlerr.New(sqlerr.SyntaxError, "a view must be a query")
	}
	defer st.Plan.Release()
	fields := st.Plan.Schema().Fields()
	for i := range fields {
		if i < len(v.Columns) {
			fields[i].Name = v.Columns[i]
		}
	}
	return fields, nil
}

func (b *binder) sessionInfo() *catalog.SessionInfo { return catalog.SessionInfoFrom(b.ctx) }

func (b *binder) pgUser() string {
	if u := b.sess.Settings["user"]; u != "" {
		return u
	}
	return pgcatalog.DefaultUser
}

func (b *binder) pgDatabase() string {
	if d := b.sess.Settings["database"]; d != "" {
		return d
	}
	return pgcatalog.DefaultDatabase
}

func (b *binder) model() (*pgcatalog.Model, error) {
	b.momentary()
	return pgcatalog.Snapshot(b.ctx, b.p.Catalog)
}

func strConst(s string) *Const { return &Const{Value: s, T: physical.String} }

func nullOf(t arrow.DataType) *Const { return &Const{T: t} }

// arrayLiteral renders items as a PostgreSQL array literal.
func arrayLiteral(items []string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(pgcatalog.QuoteArrayElem(it))
	}
	b.WriteByte('}')
	return b.String()
}

// bindPgFunc binds the PostgreSQL-specific functions; ok is false when
// name is not one of them.
func (b *binder) bindPgFunc(name string, args []Expr, e *ast.FuncCallExpr, sc *scope, allowAgg bool, p int) (Expr, bool, error) {
	arity := func(lo, hi int) error {
		if len(args) < lo || len(args) > hi {
			return sqlerr.At(sqlerr.UndefinedFunction, p, "function %s with %d arguments does not exist", name, len(args))
		}
		return nil
	}
	text := func(i int) Expr {
		a := args[i]
		if c, ok := a.(*Const); ok && c.untypedString {
			return c.typed()
		}
		return castTo(a, physical.String)
	}
	switch name {
	case "version":
		return strConst(pgcatalog.Version()), true, arity(0, 0)
	case "current_database", "__pg_current_catalog":
		return strConst(b.pgDatabase()), true, arity(0, 0)
	case "current_user", "session_user", "user", "__pg_current_user", "__pg_session_user", "__pg_current_role", "getpgusername":
		return strConst(b.pgUser()), true, arity(0, 0)
	case "current_schema", "__pg_current_schema":
		path := pgcatalog.SearchPath(b.sessionInfo(), false)
		return strConst(path[0]), true, arity(0, 0)
	case "current_schemas":
		if err := arity(1, 1); err != nil {
			return nil, true, err
		}
		implicit := true
		if c, ok := args[0].(*Const); ok {
			if v, ok := c.Value.(bool); ok {
				implicit = v
			}
		}
		return strConst(arrayLiteral(pgcatalog.SearchPath(b.sessionInfo(), implicit))), true, nil
	case "current_setting":
		if err := arity(1, 2); err != nil {
			return nil, true, err
		}
		c, ok := args[0].(*Const)
		if !ok || c.Value == nil {
			return nil, true, sqlerr.At(sqlerr.FeatureNotSupported, p, "current_setting needs a constant name")
		}
		v, ok := b.sess.Setting(c.Value.(string))
		if !ok {
			if len(args) == 2 {
				return nullOf(physical.String), true, nil
			}
			return nil, true, sqlerr.At(sqlerr.UndefinedObject, p, "unrecognized configuration parameter %q", c.Value)
		}
		return strConst(v), true, nil
	case "pg_get_userbyid":
		return strConst(b.pgUser()), true, arity(1, 1)
	case "pg_encoding_to_char":
		return strConst("UTF8"), true, arity(1, 1)
	case "pg_char_to_encoding":
		return &Const{Value: int32(6), T: physical.Int32}, true, arity(1, 1)
	case "pg_backend_pid":
		return &Const{Value: int32(1), T: physical.Int32}, true, arity(0, 0)
	case "pg_postmaster_start_time", "pg_conf_load_time":
		return b.bindFuncNamed("now", p)
	case "pg_is_in_recovery", "pg_relation_is_publishable":
		return &Const{Value: false, T: physical.Boolean}, true, nil
	case "has_table_privilege", "has_schema_privilege", "has_database_privilege", "has_column_privilege",
		"has_function_privilege", "has_any_column_privilege", "has_sequence_privilege", "pg_has_role",
		"pg_function_is_visible", "pg_type_is_visible":
		return &Const{Value: true, T: physical.Boolean}, true, nil
	case "pg_table_is_visible":
		if err := arity(1, 1); err != nil {
			return nil, true, err
		}
		m, err := b.model()
		if err != nil {
			return nil, true, err
		}
		in := []Expr{castTo(args[0], physical.Int64)}
		for _, r := range m.Relations {
			if m.Visible(r) {
				in = append(in, &Const{Value: r.Oid, T: physical.Int64})
			}
		}
		return &Func{Fn: physical.FnIn, Arg: in, T: physical.Boolean}, true, nil
	case "pg_get_expr", "pg_get_indexdef", "pg_get_constraintdef", "pg_get_triggerdef", "pg_get_functiondef",
		"pg_get_function_result", "pg_get_function_arguments", "pg_get_function_identity_arguments",
		"pg_get_statisticsobjdef_columns", "pg_get_partkeydef", "pg_get_serial_sequence", "pg_get_ruledef",
		"obj_description", "col_description", "shobj_description", "pg_get_viewdef":
		// Quarry stores no defaults, indexes, constraints or comments.
		if name == "pg_get_expr" && len(args) > 0 {
			return text(0), true, nil
		}
		return nullOf(physical.String), true, nil
	case "pg_total_relation_size", "pg_relation_size", "pg_table_size", "pg_indexes_size", "pg_database_size":
		return &Const{Value: int64(0), T: physical.Int64}, true, nil
	case "pg_size_pretty":
		return &Func{Fn: physical.FnConcat, Arg: []Expr{castTo(args[0], physical.String), strConst(" bytes")}, T: physical.String}, true, arity(1, 1)
	case "format_type":
		if err := arity(2, 2); err != nil {
			return nil, true, err
		}
		x, err := b.fold(&Func{Fn: physical.FnPgFormatType, Arg: []Expr{castTo(args[0], physical.Int64), castTo(args[1], physical.Int32)}, T: physical.String}, p)
		return x, true, err
	case "array_to_string":
		if err := arity(2, 3); err != nil {
			return nil, true, err
		}
		out := []Expr{text(0), text(1)}
		if len(args) == 3 {
			out = append(out, text(2))
		}
		x, err := b.fold(&Func{Fn: physical.FnPgArrayToString, Arg: out, T: physical.String}, p)
		return x, true, err
	case "array_upper", "array_length", "cardinality", "array_lower", "array_ndims":
		if err := arity(1, 2); err != nil {
			return nil, true, err
		}
		x, err := b.fold(&Func{Fn: physical.FnPgArrayLength, Arg: []Expr{text(0), strConst(name)}, T: physical.Int32}, p)
		return x, true, err
	case "__subscript":
		if err := arity(2, 2); err != nil {
			return nil, true, err
		}
		idx := args[1]
		if c, ok := idx.(*Const); ok && c.untypedString {
			idx = castTo(c.typed(), physical.Int64)
		}
		var x Expr = &Func{Fn: physical.FnPgArrayElem, Arg: []Expr{text(0), castTo(idx, physical.Int64)}, T: physical.String}
		if intArray(args[0]) {
			x = castTo(x, physical.Int64)
		}
		x, err := b.fold(x, p)
		return x, true, err
	case "__any":
		if err := arity(2, 2); err != nil {
			return nil, true, err
		}
		return b.bindAny(args[0], args[1], p)
	case "__array":
		items := make([]Expr, len(args))
		for i := range args {
			items[i] = text(i)
		}
		x, err := b.fold(&Func{Fn: physical.FnPgArrayBuild, Arg: items, T: physical.String}, p)
		return x, true, err
	case "__array_sub":
		if err := arity(1, 1); err != nil {
			return nil, true, err
		}
		v := text(0)
		return &CaseExpr{
			Whens: []Expr{&Func{Fn: physical.FnIsNull, Arg: []Expr{v}, T: physical.Boolean}},
			Thens: []Expr{strConst("{}")},
			Else:  &Func{Fn: physical.FnPgArrayBuild, Arg: []Expr{v}, T: physical.String},
			T:     physical.String,
		}, true, nil
	case "_pg_expandarray":
		// A set-returning function of (x, n) records; Quarry has no
		// records, and the arrays it is given (pg_index.indkey) are
		// always empty: the array stands for the record.
		if err := arity(1, 1); err != nil {
			return nil, true, err
		}
		return text(0), true, nil
	case "__field":
		if err := arity(2, 2); err != nil {
			return nil, true, err
		}
		f, _ := args[1].(*Const)
		if f == nil {
			return nil, true, sqlerr.At(sqlerr.SyntaxError, p, "bad field selection")
		}
		switch f.Value {
		case "x":
			x, err := b.fold(castTo(&Func{Fn: physical.FnPgArrayElem, Arg: []Expr{text(0), &Const{Value: int64(1), T: physical.Int64}}, T: physical.String}, physical.Int64), p)
			return x, true, err
		case "n":
			return &Const{Value: int32(1), T: physical.Int32}, true, nil
		}
		return nil, true, sqlerr.At(sqlerr.UndefinedColumn, p, "column %q not found in data type record", f.Value)
	case "string_agg", "array_agg":
		// Only over an input that has no rows (catalog queries joining a
		// set-returning function over an array Quarry leaves empty).
		if !allowAgg || !b.emptyInput(sc) {
			return nil, true, sqlerr.At(sqlerr.FeatureNotSupported, p, "aggregate function %s is not supported", name)
		}
		if len(args) == 0 {
			return nil, true, arity(1, 2)
		}
		return &aggCall{agg: AggExpr{Fn: "max", Arg: text(0), T: physical.String}}, true, nil
	case "gen_random_uuid":
		return &Func{Fn: physical.FnPgRandomUUID, T: physical.String}, true, arity(0, 0)
	}
	return nil, false, nil
}

// bindFuncNamed binds a call of another function without arguments.
func (b *binder) bindFuncNamed(name string, p int) (Expr, bool, error) {
	x, err := b.bindFunc(&ast.FuncCallExpr{FnName: ast.NewCIStr(name)}, &scope{}, false)
	return x, true, err
}

// intArray reports whether an array expression holds integers: a cast to
// an integer array, or a system column of int2vector / oidvector type.
func intArray(e Expr) bool {
	if r, ok := e.(*ColRef); ok {
		return pgcatalog.IntArrayColumn(r.Name)
	}
	return false
}

// emptyInput reports whether the scope's rows come through a
// set-returning function that produced no rows.
func (b *binder) emptyInput(sc *scope) bool {
	for _, c := range sc.cols {
		if b.pgEmpty[c.ID] {
			return true
		}
	}
	return false
}

// bindAny binds lhs = ANY(array).
func (b *binder) bindAny(lhs, arr Expr, p int) (Expr, bool, error) {
	if c, ok := arr.(*Const); ok {
		if c.Value == nil {
			return nullOf(physical.Boolean), true, nil
		}
		s, ok := c.Value.(string)
		if !ok {
			return nil, true, sqlerr.At(sqlerr.DatatypeMismatch, p, "op ANY/ALL (array) requires array on right side")
		}
		items, err := pgcatalog.ParseArray(s)
		if err != nil {
			return nil, true, sqlerr.At(sqlerr.InvalidTextRep, p, "malformed array literal: %q", s)
		}
		if len(items) == 0 {
			return &Const{Value: false, T: physical.Boolean}, true, nil
		}
		in := []Expr{lhs}
		for _, it := range items {
			var x Expr = &Const{T: physical.Null}
			if it != nil {
				x = &Const{Value: *it, T: physical.String, untypedString: true}
			}
			_, x = coerceUntyped(lhs, x)
			in = append(in, x)
		}
		in, _, err = unify("ANY", p, in...)
		if err != nil {
			return nil, true, err
		}
		return &Func{Fn: physical.FnIn, Arg: in, T: physical.Boolean}, true, nil
	}
	if cl, ok := lhs.(*Const); ok && cl.untypedString {
		lhs = cl.typed()
	}
	x, err := b.fold(&Func{Fn: physical.FnPgArrayContains, Arg: []Expr{castTo(arr, physical.String), castTo(lhs, physical.String)}, T: physical.Boolean}, p)
	return x, true, err
}

// pgCast binds the casts TiDB-side parseTypeName does not know: reg*
// types, arrays, and pg_catalog-qualified names. ok is false for others.
func (b *binder) pgCast(v Expr, e *ast.FuncCallExpr, typ string, p int) (Expr, bool, error) {
	name := strings.ToLower(strings.Join(strings.Fields(typ), " "))
	name = strings.TrimPrefix(strings.TrimPrefix(name, "pg_catalog."), `"pg_catalog".`)
	name = strings.Trim(name, `"`)
	// Target text of a reg* value: the object's name.
	if name == "text" || name == "varchar" || name == "name" || name == "character varying" {
		if inner, ok := regCastOf(e); ok {
			x, err := b.regName(v, inner, p)
			return x, true, err
		}
	}
	if strings.HasSuffix(name, "[]") {
		elem := strings.TrimSpace(strings.TrimSuffix(name, "[]"))
		if elem == "regtype" {
			x, err := b.fold(&Func{Fn: physical.FnPgRegtypeArray, Arg: []Expr{castTo(v, physical.String)}, T: physical.String}, p)
			return x, true, err
		}
		if c, ok := v.(*Const); ok && c.untypedString {
			v = c.typed()
		}
		return castTo(v, physical.String), true, nil
	}
	switch name {
	case "regclass", "regtype", "regproc", "regprocedure", "regnamespace", "regrole", "regoper", "regconfig", "oid":
		x, err := b.regValue(v, name, p)
		return x, true, err
	case "name", "bpchar", "char", `"char"`, "int2", "smallint", "int4", "int8", "float4", "float8", "real",
		"timestamptz", "timestamp with time zone", "jsonb", "json", "uuid", "xid", "cid", "tid", "unknown":
		t := map[string]arrow.DataType{"int2": physical.Int32, "smallint": physical.Int32, "int4": physical.Int32,
			"int8": physical.Int64, "float4": physical.Float64, "float8": physical.Float64, "real": physical.Float64,
			"timestamptz": physical.Timestamp, "timestamp with time zone": physical.Timestamp, "xid": physical.Int64,
			"cid": physical.Int64}[name]
		if t == nil {
			t = physical.String
		}
		x, err := b.fold(b.cast(v, t), p)
		return x, true, err
	}
	if name != strings.ToLower(strings.Join(strings.Fields(typ), " ")) {
		// pg_catalog.text and the like: the plain name.
		t, err := parseTypeName(name)
		if err != nil {
			return nil, true, sqlerr.At(sqlerr.UndefinedObject, p, "type %q does not exist", typ)
		}
		x, err := b.fold(b.cast(v, t), p)
		return x, true, err
	}
	return nil, false, nil
}

// regCastOf reports whether e's first argument is itself a cast to a reg*
// type, and which.
func regCastOf(e *ast.FuncCallExpr) (string, bool) {
	if e == nil || len(e.Args) == 0 {
		return "", false
	}
	inner, ok := e.Args[0].(*ast.FuncCallExpr)
	if !ok || inner.FnName.L != "__cast" || len(inner.Args) != 2 {
		return "", false
	}
	tn, ok := inner.Args[1].(ast.ValueExpr)
	if !ok {
		return "", false
	}
	s, _ := tn.GetValue().(string)
	s = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "pg_catalog.")
	switch s {
	case "regclass", "regtype", "regproc", "regprocedure", "regnamespace", "regrole":
		return s, true
	}
	return "", false
}

// regValue is x::regclass (and the other reg* types): the object's oid,
// found by name for text input.
func (b *binder) regValue(v Expr, kind string, p int) (Expr, error) {
	c, isConst := v.(*Const)
	if isConst && c.Value == nil {
		return nullOf(physical.Int64), nil
	}
	if isConst {
		if s, ok := c.Value.(string); ok {
			return b.regLookup(strings.TrimSpace(s), kind, p)
		}
	}
	if kind == "regproc" {
		return castTo(v, physical.String), nil
	}
	if v.Type().ID() == arrow.STRING {
		return nil, sqlerr.At(sqlerr.FeatureNotSupported, p, "cast of a text column to %s is not supported", kind)
	}
	return b.fold(castTo(v, physical.Int64), p)
}

// regLookup resolves an object name to its oid (regproc: the name).
func (b *binder) regLookup(s, kind string, p int) (Expr, error) {
	if n, ok := allDigits(s); ok {
		return &Const{Value: n, T: physical.Int64}, nil
	}
	switch kind {
	case "regproc", "regprocedure":
		name := strings.TrimPrefix(s, "pg_catalog.")
		if i := strings.IndexByte(name, '('); i >= 0 {
			name = name[:i]
		}
		return strConst(name), nil
	case "regtype":
		t, ok := pgcatalog.TypeByName(s)
		if !ok {
			return nil, sqlerr.At(sqlerr.UndefinedObject, p, "type %q does not exist", s)
		}
		return &Const{Value: t.Oid, T: physical.Int64}, nil
	case "regnamespace":
		return &Const{Value: pgcatalog.NamespaceOid(strings.Trim(s, `"`)), T: physical.Int64}, nil
	case "regrole":
		return &Const{Value: int64(pgcatalog.OidOwner), T: physical.Int64}, nil
	case "regclass":
		m, err := b.model()
		if err != nil {
			return nil, err
		}
		r := m.ResolveRelation(splitQualified(s))
		if r == nil {
			return nil, sqlerr.At(sqlerr.UndefinedTable, p, "relation %q does not exist", s)
		}
		return &Const{Value: r.Oid, T: physical.Int64}, nil
	}
	return nil, sqlerr.At(sqlerr.FeatureNotSupported, p, "cast to %s is not supported", kind)
}

// regName is x::reg*::text: the name of the object whose oid x is.
func (b *binder) regName(v Expr, kind string, p int) (Expr, error) {
	oid := castTo(v, physical.Int64)
	if kind == "regproc" || kind == "regprocedure" || v.Type().ID() == arrow.STRING {
		return castTo(v, physical.String), nil
	}
	if kind == "regtype" {
		return b.fold(&Func{Fn: physical.FnPgFormatType, Arg: []Expr{oid, &Const{T: physical.Int32}}, T: physical.String}, p)
	}
	pairs := map[int64]string{}
	m, err := b.model()
	if err != nil {
		return nil, err
	}
	switch kind {
	case "regclass":
		for _, r := range m.Relations {
			pairs[r.Oid] = m.QualifiedName(r)
		}
	case "regnamespace":
		for _, n := range m.Namespaces {
			pairs[n.Oid] = n.Name
		}
	case "regrole":
		pairs[pgcatalog.OidOwner] = b.pgUser()
	}
	if c, ok := oid.(*Const); ok {
		if c.Value == nil {
			return nullOf(physical.String), nil
		}
		if name, ok := pairs[c.Value.(int64)]; ok {
			return strConst(name), nil
		}
		return b.fold(castTo(oid, physical.String), p)
	}
	// CASE oid WHEN … THEN name … ELSE oid::text END
	ce := &CaseExpr{T: physical.String, Else: castTo(oid, physical.String)}
	for o, name := range pairs {
		ce.Whens = append(ce.Whens, &Func{Fn: physical.FnEq, Arg: []Expr{oid, &Const{Value: o, T: physical.Int64}}, T: physical.Boolean})
		ce.Thens = append(ce.Thens, strConst(name))
	}
	if len(ce.Whens) == 0 {
		return ce.Else, nil
	}
	return ce, nil
}

func allDigits(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var n int64
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + int64(r-'0')
	}
	return n, true
}

// splitQualified splits a possibly quoted, dotted name.
func splitQualified(s string) []string {
	var out []string
	for _, t := range sigTokens(s) {
		if t.text == "." {
			continue
		}
		if t.kind == tokQuoted {
			out = append(out, identText(t))
		} else {
			out = append(out, strings.ToLower(t.text))
		}
	}
	return out
}

// isTemporalSeries reports whether generate_series(start, stop, step)
// runs over dates or timestamps.
func isTemporalSeries(args []Expr) bool {
	id := args[0].Type().ID()
	return (id == arrow.DATE32 || id == arrow.TIMESTAMP) && args[2].Type().ID() == arrow.INTERVAL_MONTH_DAY_NANO
}

// temporalSeries is generate_series over timestamps (dates count as their
// midnight; PostgreSQL returns timestamps for them too).
func temporalSeries(args []Expr, p int) ([][]Expr, arrow.DataType, error) {
	t := physical.Timestamp
	at := func(i int) (time.Time, bool) {
		c, ok := args[i].(*Const)
		if !ok {
			return time.Time{}, false
		}
		switch v := c.Value.(type) {
		case arrow.Date32:
			return v.ToTime(), true
		case arrow.Timestamp:
			return time.UnixMicro(int64(v)).UTC(), true
		}
		return time.Time{}, false
	}
	start, ok1 := at(0)
	stop, ok2 := at(1)
	step, ok3 := args[2].(*Const).Value.(arrow.MonthDayNanoInterval)
	if !ok1 || !ok2 || !ok3 {
		return nil, t, nil // a NULL argument: no rows
	}
	if step.Months == 0 && step.Days == 0 && step.Nanoseconds == 0 {
		return nil, t, sqlerr.At(sqlerr.InvalidParameterValue, p, "step size cannot equal zero")
	}
	forward := step.Months > 0 || step.Months == 0 && (step.Days > 0 || step.Days == 0 && step.Nanoseconds > 0)
	var rows [][]Expr
	for v := start; ; v = addInterval(v, step) {
		if forward && v.After(stop) || !forward && v.Before(stop) {
			break
		}
		if len(rows) >= 10_000_000 {
			return nil, t, sqlerr.At("54000", p, "generate_series: too many rows")
		}
		rows = append(rows, []Expr{&Const{Value: arrow.Timestamp(v.UnixMicro()), T: t}})
	}
	return rows, t, nil
}

// addInterval is t + iv as PostgreSQL adds them: months first, the day
// clamped to the month's last, then days, then time.
func addInterval(t time.Time, iv arrow.MonthDayNanoInterval) time.Time {
	if iv.Months != 0 {
		y, m, d := t.Date()
		first := time.Date(y, m+time.Month(iv.Months), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
		last := first.AddDate(0, 1, -1).Day()
		t = first.AddDate(0, 0, min(d, last)-1)
	}
	return t.AddDate(0, 0, int(iv.Days)).Add(time.Duration(iv.Nanoseconds))
}

// bindTableFunc binds `(SELECT __tfn('name', args…)) AS alias`, the
// pre-parse form of a set-returning function in FROM, into constant rows.
// Arguments must be constant, except that an argument over an outer
// query's columns (a correlated array of a system table, which Quarry
// always leaves empty) yields no rows.
func (b *binder) bindTableFunc(n *ast.TableSource, call *ast.FuncCallExpr) (LNode, *scope, error) {
	p := pos(call)
	if len(call.Args) == 0 {
		return nil, nil, sqlerr.At(sqlerr.SyntaxError, p, "bad table function")
	}
	nameV, _ := call.Args[0].(ast.ValueExpr)
	var fname string
	if nameV != nil {
		fname, _ = nameV.GetValue().(string)
	}
	outer := &scope{}
	if len(b.outerStack) > 0 && b.outerStack[len(b.outerStack)-1] != nil {
		outer = b.outerStack[len(b.outerStack)-1]
	}
	if b.lateral != nil {
		// A function in FROM sees the FROM items left of it.
		outer = &scope{cols: b.lateral.cols, outer: outer}
	}
	var args []Expr
	constant := true
	// lateral: an argument reads FROM items left of the function (not
	// the catalog tables of clients' introspection, which get the empty
	// stand-in below): a series per row of theirs.
	lateral := false
	var undefined error
	for _, a := range call.Args[1:] {
		x, err := b.bindExpr(a, outer, false)
		if err != nil {
			if sqlerr.Code(err) == sqlerr.UndefinedColumn {
				constant, undefined = false, err
				continue
			}
			return nil, nil, err
		}
		if x, err = b.fold(x, pos(a)); err != nil {
			return nil, nil, err
		}
		if _, ok := x.(*Const); !ok {
			constant = false
			used := map[ColumnID]bool{}
			columnsUsed(x, used)
			for id := range used {
				if b.catalogCols[id] {
					continue
				}
				if b.lateral == nil || !idSet(b.lateral.cols)[id] {
					return nil, nil, sqlerr.At(sqlerr.FeatureNotSupported, pos(a),
						"set-returning function %s with arguments from an enclosing query is not supported yet", fname)
				}
				lateral = true
			}
		}
		args = append(args, x)
	}
	if lateral {
		if undefined != nil {
			return nil, nil, undefined
		}
		if fname != "generate_series" && fname != "range" {
			return nil, nil, sqlerr.At(sqlerr.FeatureNotSupported, p, "%s with arguments from other FROM items is not supported yet", fname)
		}
		series, err := newSeriesCall(fname, args, p)
		if err != nil {
			return nil, nil, err
		}
		return b.lateralSeriesItem(n, fname, series)
	}
	vals := &LValues{}
	var t arrow.DataType = physical.String
	var rows [][]Expr
	switch fname {
	case "unnest":
		if constant {
			if len(args) != 1 {
				return nil, nil, sqlerr.At(sqlerr.UndefinedFunction, p, "function unnest with %d arguments does not exist", len(args))
			}
			c := args[0].(*Const)
			if c.Value != nil {
				s, _ := c.Value.(string)
				items, err := pgcatalog.ParseArray(s)
				if err != nil {
					return nil, nil, sqlerr.At(sqlerr.InvalidTextRep, p, "malformed array literal: %q", s)
				}
				for _, it := range items {
					if it == nil {
						rows = append(rows, []Expr{nullOf(t)})
					} else {
						rows = append(rows, []Expr{strConst(*it)})
					}
				}
			}
		}
	case "generate_series", "generate_subscripts", "range":
		t = physical.Int32
		if fname == "range" {
			t = physical.Int64 // DuckDB's range is BIGINT
		}
		if constant && fname != "generate_subscripts" && len(args) == 3 && isTemporalSeries(args) {
			var err error
			if rows, t, err = temporalSeries(args, p); err != nil {
				return nil, nil, err
			}
			break
		}
		if constant {
			var lo, hi, step int64 = 1, 0, 1
			get := func(i int) (int64, bool) {
				c := args[i].(*Const)
				switch v := c.Value.(type) {
				case int32:
					return int64(v), true
				case int64:
					t = physical.Int64
					return v, true
				case string:
					n, ok := allDigits(strings.TrimSpace(v))
					return n, ok
				}
				return 0, false
			}
			ok := true
			if fname == "generate_subscripts" {
				if len(args) < 1 {
					return nil, nil, sqlerr.At(sqlerr.UndefinedFunction, p, "function generate_subscripts needs an array")
				}
				c := args[0].(*Const)
				if s, isStr := c.Value.(string); isStr {
					items, err := pgcatalog.ParseArray(s)
					if err != nil {
						return nil, nil, sqlerr.At(sqlerr.InvalidTextRep, p, "malformed array literal: %q", s)
					}
					hi = int64(len(items))
				} else {
					ok = false
				}
			} else if fname == "range" && len(args) == 1 {
				// range(n): 0 … n-1.
				lo = 0
				hi, ok = get(0)
				hi--
			} else {
				if len(args) < 2 || len(args) > 3 {
					return nil, nil, sqlerr.At(sqlerr.UndefinedFunction, p, "function %s with %d arguments does not exist", fname, len(args))
				}
				var ok1, ok2, ok3 bool = true, true, true
				lo, ok1 = get(0)
				hi, ok2 = get(1)
				if len(args) == 3 {
					step, ok3 = get(2)
				}
				ok = ok1 && ok2 && ok3
				if fname == "range" && ok {
					// DuckDB's range stops before its end.
					if step > 0 {
						hi--
					} else if step < 0 {
						hi++
					}
				}
			}
			if step == 0 {
				return nil, nil, sqlerr.At(sqlerr.InvalidParameterValue, p, "step size cannot equal zero")
			}
			if ok {
				for v := lo; (step > 0 && v <= hi) || (step < 0 && v >= hi); v += step {
					if len(rows) >= 10_000_000 {
						return nil, nil, sqlerr.At("54000", p, "generate_series: too many rows")
					}
					var x any = v
					if t.ID() == arrow.INT32 {
						x = int32(v)
					}
					rows = append(rows, []Expr{&Const{Value: x, T: t}})
				}
			}
		}
	default:
		return nil, nil, sqlerr.At(sqlerr.UndefinedFunction, p, "function %s does not exist", fname)
	}
	if t.ID() == arrow.INT64 {
		for _, r := range rows {
			if c := r[0].(*Const); c.Value != nil {
				if v, ok := c.Value.(int32); ok {
					r[0] = &Const{Value: int64(v), T: t}
				} else {
					c.T = t
				}
			}
		}
	}
	alias, name, err := b.tableFuncName(n, fname, p)
	if err != nil {
		return nil, nil, err
	}
	col := b.newColumn(name, alias, t)
	vals.Cols = []Column{col}
	vals.Rows = rows
	if !constant {
		if b.pgEmpty == nil {
			b.pgEmpty = map[ColumnID]bool{}
		}
		b.pgEmpty[col.ID] = true
	}
	return vals, &scope{cols: []Column{col}}, nil
}

// tableFuncName returns the alias and column name of table function
// fname in FROM item n: fname's unless aliased, the column renamed by a
// column list.
func (b *binder) tableFuncName(n *ast.TableSource, fname string, p int) (alias, name string, err error) {
	alias, name = n.AsName.O, fname
	if alias != "" && alias != fname {
		name = alias
	}
	if alias == "" {
		alias = fname
	}
	if lists := b.derived[strings.ToLower(alias)]; len(lists) > 0 {
		renamed := lists[0]
		b.derived[strings.ToLower(alias)] = lists[1:]
		if len(renamed) > 1 {
			return "", "", sqlerr.At(sqlerr.InvalidName, p, "table %q has 1 columns available but %d columns specified", alias, len(renamed))
		}
		if len(renamed) == 1 {
			name = renamed[0]
		}
	}
	return alias, name, nil
}

// lateralSeriesItem is series s in FROM item n, reading FROM items left of
// it: an LSeries whose input bindJoin supplies (lateralSeries).
func (b *binder) lateralSeriesItem(n *ast.TableSource, fname string, s *seriesCall) (LNode, *scope, error) {
	alias, name, err := b.tableFuncName(n, fname, pos(n))
	if err != nil {
		return nil, nil, err
	}
	col := b.newColumn(name, alias, s.t)
	return &LSeries{Series: []*seriesCall{s}, Cols: []Column{col}}, &scope{cols: []Column{col}}, nil
}

// tableFuncCall recognises the pre-parse form of a table function.
func tableFuncCall(n *ast.TableSource) (*ast.FuncCallExpr, bool) {
	sel, ok := n.Source.(*ast.SelectStmt)
	if !ok || sel.From != nil || sel.Fields == nil || len(sel.Fields.Fields) != 1 {
		return nil, false
	}
	call, ok := sel.Fields.Fields[0].Expr.(*ast.FuncCallExpr)
	if !ok || call.FnName.L != "__tfn" {
		return nil, false
	}
	return call, true
}

// pgExprName names an unaliased output column of the pre-parse forms as
// PostgreSQL does: x::type after x's name (or the type's), ANY and the
// like "?column?".
func pgExprName(e *ast.FuncCallExpr) (string, bool) {
	switch e.FnName.L {
	case "__cast":
		if len(e.Args) == 2 {
			switch a := e.Args[0].(type) {
			case *ast.ColumnNameExpr, *ast.FuncCallExpr:
				if name := exprName(a.(ast.ExprNode)); name != "?column?" {
					return name, true
				}
			}
			if v, ok := e.Args[1].(ast.ValueExpr); ok {
				if s, ok := v.GetValue().(string); ok {
					if t, ok := pgcatalog.TypeByName(s); ok {
						return t.Name, true
					}
					return strings.ToLower(strings.TrimPrefix(strings.TrimSuffix(s, "[]"), "pg_catalog.")), true
				}
			}
		}
	case "__subscript":
		if len(e.Args) > 0 {
			return exprName(e.Args[0]), true
		}
	case "__any", "__field", "__array_sub", "__array":
		if e.FnName.L == "__array" || e.FnName.L == "__array_sub" {
			return "array", true
		}
		return "?column?", true
	case "__pg_current_user", "__pg_session_user", "__pg_current_role", "__pg_current_catalog", "__pg_current_schema":
		return strings.TrimPrefix(e.FnName.L, "__pg_"), true
	}
	return "", false
}
