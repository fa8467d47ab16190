package planner

import (
	"context"
	"strings"

	"github.com/quarrydb/quarry/catalog"
	"github.com/quarrydb/quarry/catalog/pgcatalog"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// PostgreSQL session and transaction statements, recognised before TiDB's
// parser: SET / RESET / SHOW, DISCARD, and the transaction
// statements (accepted: Quarry's reads need no transaction).

type pgCmdKind int

const (
	pgSet pgCmdKind = iota + 1
	pgReset
	pgShow
	pgNoop
)

type pgCommand struct {
	kind  pgCmdKind
	tag   string
	name  string // parameter (lower case); "all" for RESET ALL / SHOW ALL
	label string // column name of SHOW
	value string // SET value; "" with isDefault
	def   bool   // SET … TO DEFAULT
}

// parsePgCommand recognises a session or transaction statement.
func parsePgCommand(sig []token, text string) (*pgCommand, error) {
	if len(sig) == 0 {
		return nil, nil
	}
	words := func(from int) []string {
		var out []string
		for _, t := range sig[from:] {
			out = append(out, strings.ToLower(t.text))
		}
		return out
	}
	first := strings.ToLower(sig[0].text)
	switch first {
	case "begin", "start":
		if first == "start" && (len(sig) < 2 || !sig[1].is("transaction")) {
			return nil, nil
		}
		tag := "BEGIN"
		if first == "start" {
			tag = "START TRANSACTION"
		}
		return &pgCommand{kind: pgNoop, tag: tag}, nil
	case "commit", "end":
		if len(sig) > 1 && !(sig[1].is("work") || sig[1].is("transaction") || sig[1].is("and")) {
			return nil, nil
		}
		return &pgCommand{kind: pgNoop, tag: "COMMIT"}, nil
	case "rollback", "abort":
		if len(sig) > 2 && sig[1].is("to") || len(sig) > 3 && sig[2].is("to") {
			return &pgCommand{kind: pgNoop, tag: "ROLLBACK"}, nil
		}
		return &pgCommand{kind: pgNoop, tag: "ROLLBACK"}, nil
	case "savepoint":
		return &pgCommand{kind: pgNoop, tag: "SAVEPOINT"}, nil
	case "release":
		return &pgCommand{kind: pgNoop, tag: "RELEASE"}, nil
	case "discard":
		if len(sig) != 2 {
			return nil, sqlerr.New(sqlerr.SyntaxError, "expected DISCARD ALL | PLANS | SEQUENCES | TEMP")
		}
		what := strings.ToUpper(sig[1].text)
		switch what {
		case "ALL", "PLANS", "SEQUENCES", "TEMP", "TEMPORARY":
		default:
			return nil, sqlerr.At(sqlerr.SyntaxError, sig[1].pos+1, "syntax error at or near %q", sig[1].text)
		}
		c := &pgCommand{kind: pgNoop, tag: "DISCARD " + what}
		if what == "ALL" {
			c.kind, c.name = pgReset, "all"
		}
		return c, nil
	case "close", "unlisten", "listen", "checkpoint", "vacuum", "analyze":
		if first == "analyze" && len(sig) > 1 && (sig[1].is("select") || sig[1].is("with")) {
			return nil, nil
		}
		return &pgCommand{kind: pgNoop, tag: strings.ToUpper(first)}, nil
	case "reset":
		if len(sig) < 2 {
			return nil, sqlerr.New(sqlerr.SyntaxError, "syntax error at end of input")
		}
		return &pgCommand{kind: pgReset, tag: "RESET", name: paramName(sig[1:])}, nil
	case "show":
		if len(sig) < 2 {
			return nil, sqlerr.New(sqlerr.SyntaxError, "syntax error at end of input")
		}
		w := strings.Join(words(1), " ")
		switch w {
		case "transaction isolation level":
			return &pgCommand{kind: pgShow, tag: "SHOW", name: "transaction_isolation", label: "transaction_isolation"}, nil
		case "time zone":
			return &pgCommand{kind: pgShow, tag: "SHOW", name: "timezone", label: "TimeZone"}, nil
		case "session authorization":
			return &pgCommand{kind: pgShow, tag: "SHOW", name: "session_authorization", label: "session_authorization"}, nil
		}
		name := paramName(sig[1:])
		return &pgCommand{kind: pgShow, tag: "SHOW", name: name, label: name}, nil
	case "set":
		k := 1
		if k < len(sig) && (sig[k].is("session") || sig[k].is("local")) {
			k++
		}
		if k >= len(sig) {
			return nil, sqlerr.New(sqlerr.SyntaxError, "syntax error at end of input")
		}
		rest := words(k)
		switch {
		case rest[0] == "transaction" || strings.Join(rest, " ") != "" && strings.HasPrefix(strings.Join(rest, " "), "characteristics"):
			return &pgCommand{kind: pgNoop, tag: "SET"}, nil
		case rest[0] == "session" && len(rest) > 1 && rest[1] == "authorization":
			return &pgCommand{kind: pgNoop, tag: "SET"}, nil
		case len(rest) >= 3 && rest[0] == "time" && rest[1] == "zone":
			return &pgCommand{kind: pgSet, tag: "SET", name: "timezone", value: setValue(sig[k+2:], text),
				def: sig[k+2].is("default") || sig[k+2].is("local")}, nil
		case rest[0] == "names" && len(rest) > 1:
			return &pgCommand{kind: pgSet, tag: "SET", name: "client_encoding", value: setValue(sig[k+1:], text)}, nil
		case rest[0] == "schema" && len(rest) > 1:
			return &pgCommand{kind: pgSet, tag: "SET", name: "search_path", value: setValue(sig[k+1:], text)}, nil
		}
		// SET name { TO | = } value [, …]
		j := k
		for j < len(sig) && !sig[j].is("to") && sig[j].text != "=" {
			j++
		}
		if j >= len(sig)-1 || j == k {
			return nil, sqlerr.At(sqlerr.SyntaxError, tokEnd(sig[len(sig)-1])+1, "syntax error: expected SET name TO value")
		}
		c := &pgCommand{kind: pgSet, tag: "SET", name: paramName(sig[k:j]), value: setValue(sig[j+1:], text)}
		c.def = len(sig) == j+2 && sig[j+1].is("default")
		return c, nil
	}
	return nil, nil
}

// paramName joins a dotted parameter name (custom options: quarry.x).
func paramName(sig []token) string {
	var b strings.Builder
	for _, t := range sig {
		b.WriteString(identText(t))
	}
	return strings.ToLower(b.String())
}

// setValue is the text of SET's value list: literals unquoted, items
// joined with ", ".
func setValue(sig []token, text string) string {
	var parts []string
	var cur strings.Builder
	for _, t := range sig {
		if t.text == "," && t.kind == tokPunct {
			parts = append(parts, cur.String())
			cur.Reset()
			continue
		}
		switch t.kind {
		case tokString:
			cur.WriteString(strings.ReplaceAll(t.text[1:len(t.text)-1], "''", "'"))
		case tokQuoted:
			cur.WriteString(t.text) // keeps "$user" quoted as SHOW shows it
		default:
			cur.WriteString(t.text)
		}
	}
	parts = append(parts, cur.String())
	return strings.Join(parts, ", ")
}

// Setting returns the session's value of a run-time parameter: what SET
// stored, else the built-in default; ok is false for an unknown name.
func (s *Session) Setting(name string) (string, bool) {
	key := strings.ToLower(name)
	if v, ok := s.Settings[key]; ok {
		return v, true
	}
	switch key {
	case "search_path":
		if s.DefaultSchema != "" {
			return s.DefaultSchema, true
		}
	case "session_authorization", "user":
		if u := s.Settings["user"]; u != "" {
			return u, true
		}
	}
	if d, ok := pgcatalog.LookupSetting(key); ok {
		return d.Value, true
	}
	return "", false
}

// planPgCommand plans a session statement.
func (p *Planner) planPgCommand(ctx context.Context, sess *Session, st *Statement, c *pgCommand) (*Statement, error) {
	st.Tag = c.tag
	switch c.kind {
	case pgNoop:
		st.Kind = StmtNoop
		return st, nil
	case pgReset:
		st.Kind = StmtSet
		// Settings are copied on write: a Session copied to describe a
		// statement must not change the original's map.
		next := map[string]string{}
		for k, v := range sess.Settings {
			keep := k != c.name
			if c.name == "all" {
				keep = k == "user" || k == "database" || k == "application_name" || k == "client_encoding"
			}
			if keep {
				next[k] = v
			}
		}
		sess.Settings = next
		return st, nil
	case pgSet:
		st.Kind = StmtSet
		if d, ok := pgcatalog.LookupSetting(c.name); ok && d.Context == "internal" {
			return nil, sqlerr.New("55P02", "parameter %q cannot be changed", d.Name)
		}
		next := map[string]string{}
		for k, v := range sess.Settings {
			next[k] = v
		}
		if c.def {
			delete(next, c.name)
			sess.Settings = next
			return st, nil
		}
		if c.name == "search_path" {
			p.applySearchPath(ctx, sess, c.value)
		}
		if c.name == "transaction_isolation" || c.name == "default_transaction_isolation" {
			c.value = strings.ToLower(c.value)
		}
		next[c.name] = c.value
		sess.Settings = next
		return st, nil
	case pgShow:
		if c.name == "all" {
			return p.planShowAll(ctx, sess, st)
		}
		v, ok := sess.Setting(c.name)
		if !ok {
			return nil, sqlerr.New(sqlerr.UndefinedObject, "unrecognized configuration parameter %q", c.name)
		}
		label := c.label
		if d, ok := pgcatalog.LookupSetting(c.name); ok && c.label == c.name {
			label = strings.ToLower(d.Name)
			if d.Name != strings.ToLower(d.Name) {
				label = d.Name
			}
		}
		return p.planConstRows(ctx, sess, st, []string{label}, [][]string{{v}})
	}
	return nil, sqlerr.New(sqlerr.InternalError, "unknown session statement")
}

// applySearchPath makes the first schema of a search_path that names a
// source (or source.folder) the default schema.
func (p *Planner) applySearchPath(ctx context.Context, sess *Session, value string) {
	for _, item := range strings.Split(value, ",") {
		name := strings.Trim(strings.TrimSpace(item), `"`)
		if name == "" || strings.EqualFold(name, "pg_catalog") || name == "$user" || catalog.IsSystemSchema(name) {
			continue
		}
		if strings.EqualFold(name, catalog.MemSource) {
			sess.DefaultSchema = ""
			return
		}
		if p.Catalog == nil {
			return
		}
		srcs, err := p.Catalog.Sources()
		if err != nil {
			return
		}
		for _, s := range srcs {
			if strings.EqualFold(s.Name, name) || strings.HasPrefix(strings.ToLower(name), strings.ToLower(s.Name)+".") {
				sess.DefaultSchema = name
				return
			}
		}
	}
}

func (p *Planner) planShowAll(ctx context.Context, sess *Session, st *Statement) (*Statement, error) {
	var rows [][]string
	for _, s := range pgcatalog.Settings(sess.Settings) {
		v, _ := sess.Setting(s.Name)
		rows = append(rows, []string{s.Name, v, s.Desc})
	}
	return p.planConstRows(ctx, sess, st, []string{"name", "setting", "description"}, rows)
}

// planConstRows plans a query returning constant text rows.
func (p *Planner) planConstRows(ctx context.Context, sess *Session, st *Statement, names []string, rows [][]string) (*Statement, error) {
	b := &binder{ctx: ctx, p: p, sess: sess, derived: map[string][][]string{}, ctes: map[string]*cteDef{}}
	vals := &LValues{}
	for _, n := range names {
		vals.Cols = append(vals.Cols, b.newColumn(n, "", physical.String))
	}
	for _, r := range rows {
		var row []Expr
		for _, v := range r {
			row = append(row, &Const{Value: v, T: physical.String})
		}
		vals.Rows = append(vals.Rows, row)
	}
	st.Kind = StmtQuery
	if err := p.finishPlan(b, st, vals, names); err != nil {
		return nil, err
	}
	return st, nil
}
