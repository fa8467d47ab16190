package planner

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The pre-parse layer closes gaps between the SQL people write (PostgreSQL,
// DuckDB, ANSI) and what TiDB's MySQL-flavoured grammar accepts. It works on
// tokens, so string literals, quoted identifiers and comments are never
// rewritten by accident. Rewrites keep the text length where they can so
// error positions still point into the user's text.

type tokKind int

const (
	tokSpace  tokKind = iota // whitespace and comments
	tokWord                  // identifier or keyword
	tokQuoted                // "identifier"
	tokString                // 'literal'
	tokNumber
	tokPunct
)

type token struct {
	kind tokKind
	text string
	pos  int // byte offset in the source
}

func (t token) is(word string) bool {
	return t.kind == tokWord && strings.EqualFold(t.text, word)
}

// tokenize splits sql into tokens; it never fails (an unterminated literal
// runs to the end and the parser reports it).
func tokenize(sql string) []token {
	var toks []token
	i := 0
	for i < len(sql) {
		start := i
		c := sql[i]
		kind := tokPunct
		switch {
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
			kind = tokSpace
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				i = len(sql)
			} else {
				i += end + 4
			}
			kind = tokSpace
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			for i < len(sql) && strings.IndexByte(" \t\n\r\f", sql[i]) >= 0 {
				i++
			}
			kind = tokSpace
		case c == '\'' || c == '"' || c == '`':
			i++
			for i < len(sql) {
				if sql[i] == c {
					if i+1 < len(sql) && sql[i+1] == c {
						i += 2
						continue
					}
					i++
					break
				}
				i++
			}
			kind = tokString
			if c != '\'' {
				kind = tokQuoted
			}
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(sql) && sql[i+1] >= '0' && sql[i+1] <= '9':
			for i < len(sql) && (sql[i] >= '0' && sql[i] <= '9' || sql[i] == '.' ||
				sql[i] == 'e' || sql[i] == 'E' ||
				(sql[i] == '+' || sql[i] == '-') && (sql[i-1] == 'e' || sql[i-1] == 'E')) {
				i++
			}
			kind = tokNumber
		case c == '_' || c == '$' || c >= 0x80 || unicode.IsLetter(rune(c)):
			for i < len(sql) {
				r, n := utf8.DecodeRuneInString(sql[i:])
				if r != '_' && r != '$' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
					break
				}
				i += n
			}
			kind = tokWord
		default:
			i++
		}
		toks = append(toks, token{kind: kind, text: sql[start:i], pos: start})
	}
	return toks
}

// splitStatements cuts sql at top-level semicolons and drops statements that
// are only whitespace and comments. Each piece keeps its offset in sql.
func splitStatements(sql string) (texts []string, offsets []int) {
	toks := tokenize(sql)
	start := 0
	flush := func(end int) {
		text := sql[start:end]
		blank := true
		for _, t := range tokenize(text) {
			if t.kind != tokSpace {
				blank = false
				break
			}
		}
		if !blank {
			texts = append(texts, text)
			offsets = append(offsets, start)
		}
	}
	for _, t := range toks {
		if t.kind == tokPunct && t.text == ";" {
			flush(t.pos)
			start = t.pos + 1
		}
	}
	flush(len(sql))
	return texts, offsets
}

// significant returns toks without whitespace and comments.
func significant(toks []token) []token {
	out := make([]token, 0, len(toks))
	for _, t := range toks {
		if t.kind != tokSpace {
			out = append(out, t)
		}
	}
	return out
}

// rewriteResult is the pre-parsed text plus what the rewrites took out of
// it that the binder must put back.
type rewriteResult struct {
	text string
	// origin maps each byte offset of text (and len(text)) to the offset
	// in the original statement, so errors point at what the user wrote.
	origin []int
	// derivedColumns maps a derived table's alias (lower case) to the column
	// names of its `AS alias (c1, c2)` list, in order of appearance.
	derivedColumns map[string][][]string
	// nulls records each `NULLS FIRST|LAST` taken out of ORDER BY items
	// (TiDB lacks them): rewritten-text offset → true for FIRST.
	nulls map[int]bool
	// limits are the LIMIT/OFFSET operands replaced by ?, by the
	// rewritten-text offset of their ?.
	limits map[int]*limitMark
	// materialized is WITH … AS [NOT] MATERIALIZED by lower-case query
	// name (true: MATERIALIZED).
	materialized map[string]bool
}

// rewrite applies the token rewrites to one statement:
//   - CAST(x AS <any type name>) → __cast(x, '<type name>'), so that
//     PostgreSQL type names (INTEGER, TEXT, BOOLEAN, NUMERIC, TIMESTAMP,
//     DOUBLE PRECISION, …) reach the binder, which parses the type itself;
//   - `(subquery) AS alias (c1, c2)` → `(subquery) AS alias`, with the column
//     list kept in derivedColumns (TiDB accepts column lists only after
//     LATERAL).
func rewrite(sql string) rewriteResult {
	toks := tokenize(sql)
	res := rewriteResult{}
	var b strings.Builder
	// sig[i] indexes of significant tokens, for look-ahead.
	var sig []int
	for i, t := range toks {
		if t.kind != tokSpace {
			sig = append(sig, i)
		}
	}
	ts := newStmtTokens(sql, toks, sig)
	at := ts.at
	replace := map[int]string{}
	// limitAt are the LIMIT operands set aside, by the token whose
	// replacement holds their ? markers (in order).
	var limitAt map[int][]*limitMark
	// JDBC/ODBC/Flight SQL ? placeholders are numbered in order, unless
	// the statement numbers its own with $n.
	questionMarks, dollars := 0, false
	for _, i := range sig {
		dollars = dollars || toks[i].kind == tokWord && isPlaceholder(toks[i].text)
	}
	for k := 0; k < len(sig); k++ {
		t := at(k)
		if t.kind == tokPunct && t.text == "?" && !dollars {
			questionMarks++
			replace[sig[k]] = "__param(" + strconv.Itoa(questionMarks) + ")"
		}
		// CAST ( … AS type ) at depth 1.
		if t.is("cast") && at(k+1).text == "(" {
			depth, asTok, end := 0, -1, -1
			for j := k + 1; j < len(sig); j++ {
				switch at(j).text {
				case "(":
					depth++
				case ")":
					depth--
				}
				if depth == 1 && at(j).is("as") {
					asTok = j
				}
				if depth == 0 {
					end = j
					break
				}
			}
			if asTok > 0 && end > asTok+1 {
				first, last := toks[sig[asTok+1]], toks[sig[end-1]]
				typeText := sql[first.pos : last.pos+len(last.text)]
				replace[sig[k]] = "__cast"
				replace[sig[asTok]] = ","
				replace[sig[asTok+1]] = "'" + strings.ReplaceAll(typeText, "'", "''") + "'"
				for j := sig[asTok+1] + 1; j < sig[end]; j++ {
					replace[j] = ""
				}
			}
		}
		// FULL [OUTER] JOIN: TiDB has no full joins; STRAIGHT_JOIN (a MySQL
		// hint we have no use for) carries the meaning to the binder.
		if t.is("full") && (at(k+1).is("join") || at(k+1).is("outer") && at(k+2).is("join")) {
			end := k + 1
			if at(k + 1).is("outer") {
				end = k + 2
			}
			replace[sig[k]] = "STRAIGHT_JOIN"
			for j := sig[k] + 1; j <= sig[end]; j++ {
				replace[j] = ""
			}
		}
		// expr [ASC|DESC] NULLS FIRST|LAST: blanked out, remembered.
		if t.is("nulls") && (at(k+1).is("first") || at(k+1).is("last")) {
			if res.nulls == nil {
				res.nulls = map[int]bool{}
			}
			// Key the marker by the start of its ORDER BY item: back to
			// the comma or BY before it at the same depth.
			depth, j := 0, k-1
			for ; j >= 0; j-- {
				x := at(j)
				if x.text == ")" {
					depth++
				} else if x.text == "(" {
					if depth == 0 {
						break
					}
					depth--
				} else if depth == 0 && (x.text == "," || x.is("by")) {
					break
				}
			}
			res.nulls[at(j+1).pos] = at(k + 1).is("first")
			for j := sig[k]; j <= sig[k+1]; j++ {
				replace[j] = strings.Repeat(" ", len(toks[j].text))
			}
		}
		// Aggregates TiDB's grammar takes no OVER after, as window
		// functions → sum([DISTINCT] __win_fn(args)) OVER …, unwrapped by
		// the binder (windowMarker).
		if t.kind == tokWord && at(k+1).text == "(" && at(k-1).text != "." {
			if next, ok := rewriteWindowAgg(ts, k, replace); ok {
				k = next - 1
				continue
			}
		}
		// string_agg(x, 'sep' [ORDER BY …]) → group_concat(x [ORDER BY …]
		// SEPARATOR 'sep'), the form TiDB parses.
		if t.is("string_agg") && at(k+1).text == "(" {
			rewriteStringAgg(ts, k, replace)
		}
		// EXTRACT(dow FROM x) and the other PostgreSQL fields TiDB's
		// grammar lacks → date_part('dow', x).
		if t.is("extract") && at(k+1).text == "(" && at(k+3).is("from") && pgOnlyExtractField(at(k+2)) {
			replace[sig[k]] = "date_part"
			replace[sig[k+2]] = "'" + strings.ToLower(at(k+2).text) + "'"
			replace[sig[k+3]] = ","
		}
		// percentile_cont(f) WITHIN GROUP (ORDER BY x) → __percentile_cont(x, f).
		if (t.is("percentile_cont") || t.is("percentile_disc")) && at(k+1).text == "(" {
			rewriteWithinGroup(ts, k, replace)
		}
		// mode() WITHIN GROUP (ORDER BY x) → __mode(x).
		if t.is("mode") && at(k+1).text == "(" && at(k-1).text != "." {
			if at(k+2).text == ")" {
				rewriteMode(ts, k, replace)
			} else {
				replace[sig[k]] = "__mode" // DuckDB's mode(x); MODE is a keyword to TiDB
			}
		}
		// DISTINCT ON (e, …) → a marker item __distinct_on(e, …) first.
		if t.is("distinct") && at(k+1).is("on") && at(k+2).text == "(" {
			if m := ts.closing(k + 2); m > 0 {
				replace[sig[k]] = ""
				replace[sig[k+1]] = distinctOnFn
				replace[sig[m]] = "),"
			}
		}
		// GROUP BY ROLLUP / CUBE / GROUPING SETS → plain items and a marker.
		if t.is("group") && at(k+1).is("by") {
			rewriteGroupingSets(ts, k+2, replace)
		}
		// VALUES (…), (…) as a query (alone, or as a derived table) →
		// SELECT … AS column1, … UNION ALL SELECT …; TiDB knows VALUES only
		// in INSERT, which never has it right after "(" or first.
		if t.is("values") && (k == 0 || at(k-1).text == "(") && at(k+1).text == "(" {
			rewriteValues(ts, k, replace)
		}
		// OVERLAY(s PLACING r FROM n [FOR m]) → overlay(s, r, n[, m]).
		if t.is("overlay") && at(k+1).text == "(" {
			rewriteOverlay(ts, k, replace)
		}
		// a [NOT] SIMILAR TO b → [NOT] regexp_like(a, __similar_re(b)).
		if t.is("similar") && at(k+1).is("to") {
			rewriteSimilarTo(ts, k, replace)
		}
		// LIMIT / OFFSET / FETCH FIRST in any of PostgreSQL's orders and
		// forms → LIMIT n [OFFSET m] (see rewriteLimitClause).
		if (t.is("limit") || t.is("offset") || t.is("fetch")) && at(k-1).text != "." {
			if next, marks, ok := rewriteLimitClause(ts, k, replace, &questionMarks, dollars); ok {
				if len(marks) > 0 {
					if limitAt == nil {
						limitAt = map[int][]*limitMark{}
					}
					limitAt[sig[k]] = marks
				}
				k = next - 1
				continue
			}
		}
		// WITH name AS [NOT] MATERIALIZED (…): the keywords go, the
		// choice goes to the binder by the query's name.
		if t.is("materialized") && at(k+1).text == "(" && (at(k-1).is("as") || at(k-1).is("not") && at(k-2).is("as")) {
			as := k - 1
			if at(as).is("not") {
				as--
			}
			name := as - 1
			if at(name).text == ")" {
				name = matchOpen(ts.st, name) - 1
			}
			if n := at(name); n.kind == tokWord || n.kind == tokQuoted {
				if res.materialized == nil {
					res.materialized = map[string]bool{}
				}
				res.materialized[strings.ToLower(identText(n))] = as == k-1
				for j := sig[as] + 1; j <= sig[k]; j++ {
					replace[j] = strings.Repeat(" ", len(toks[j].text))
				}
			}
		}
		// Words TiDB reserves that PostgreSQL and DuckDB take as column
		// names (range(n)'s column is "range") are quoted where they stand
		// for a name.
		if _, done := replace[sig[k]]; !done && t.kind == tokWord && keywordAsName(at(k-1), t, at(k+1)) {
			replace[sig[k]] = `"` + t.text + `"`
		}
		// $n placeholders (PostgreSQL) → __param(n); TiDB reads $1 as a name.
		if t.kind == tokWord && isPlaceholder(t.text) {
			replace[sig[k]] = "__param(" + t.text[1:] + ")"
		}
		// VARCHAR without a length (PostgreSQL) is TEXT to TiDB's grammar.
		_, rewritten := replace[sig[k]]
		if !rewritten && (t.is("varchar") || t.is("character") && at(k+1).is("varying") || t.is("nvarchar")) && at(k-1).text != "." {
			next := k + 1
			if t.is("character") {
				next = k + 2
			}
			if at(next).text != "(" {
				replace[sig[k]] = "text"
				for j := sig[k] + 1; j < sig[next-1]+1 && t.is("character"); j++ {
					replace[j] = ""
				}
			}
		}
		// ) [AS] alias ( ident, … )
		a := k + 1
		if at(a).is("as") {
			a++
		}
		if t.text == ")" && t.kind == tokPunct && (at(a).kind == tokWord && (a > k+1 || !notAlias[strings.ToLower(at(a).text)]) || at(a).kind == tokQuoted) &&
			at(a+1).text == "(" {
			var cols []string
			j := a + 2
			ok := true
			for ; j < len(sig); j += 2 {
				c := at(j)
				if c.kind != tokWord && c.kind != tokQuoted {
					ok = false
					break
				}
				cols = append(cols, identText(c))
				if at(j+1).text == ")" {
					break
				}
				if at(j+1).text != "," {
					ok = false
					break
				}
			}
			if ok && j < len(sig) {
				if res.derivedColumns == nil {
					res.derivedColumns = map[string][][]string{}
				}
				alias := strings.ToLower(identText(at(a)))
				res.derivedColumns[alias] = append(res.derivedColumns[alias], cols)
				for x := sig[a+1]; x <= sig[j+1]; x++ {
					replace[x] = ""
				}
			}
		}
	}
	for i, t := range toks {
		out := t.text
		if r, ok := replace[i]; ok {
			out = r
		}
		if marks := limitAt[i]; len(marks) > 0 {
			if res.limits == nil {
				res.limits = map[int]*limitMark{}
			}
			for j, q := 0, 0; j < len(out) && q < len(marks); j++ {
				if out[j] == '?' {
					res.limits[b.Len()+j] = marks[q]
					q++
				}
			}
		}
		for j := 0; j < len(out); j++ {
			switch m := res.limits[b.Len()+j]; {
			case m != nil && limitAt[i] != nil:
				res.origin = append(res.origin, m.at) // errors point at the operand
			case out == t.text:
				res.origin = append(res.origin, t.pos+j)
			default:
				res.origin = append(res.origin, t.pos)
			}
		}
		b.WriteString(out)
	}
	res.origin = append(res.origin, len(sql))
	res.text = b.String()
	return res
}

// originalPos maps a 1-based position in rewritten text back to the
// original text.
func originalPos(origin []int, p int) int {
	if p <= 0 || len(origin) == 0 {
		return p
	}
	if p-1 >= len(origin) {
		return origin[len(origin)-1] + 1
	}
	return origin[p-1] + 1
}

// identText is an identifier token's name: quotes removed, case kept.
func identText(t token) string {
	if t.kind == tokQuoted {
		q := t.text[:1]
		s := strings.TrimSuffix(strings.TrimPrefix(t.text, q), q)
		return strings.ReplaceAll(s, q+q, q)
	}
	return t.text
}

// parseQualifiedName reads a dotted name such as "my source"."x.parquet" or
// tpch.lineitem from sig starting at k; it returns the parts and the index
// after the name.
func parseQualifiedName(sig []token, k int) ([]string, int) {
	var parts []string
	for k < len(sig) && (sig[k].kind == tokWord || sig[k].kind == tokQuoted) {
		parts = append(parts, identText(sig[k]))
		k++
		if k < len(sig) && sig[k].text == "." {
			k++
			continue
		}
		break
	}
	return parts, k
}

// notAlias are the words that, right after a closing parenthesis and
// before an opening one, are not a derived table's alias.
var notAlias = map[string]bool{
	"union": true, "intersect": true, "except": true, "minus": true, "on": true, "using": true,
	"and": true, "or": true, "not": true, "in": true, "exists": true, "select": true, "values": true,
	"where": true, "join": true, "over": true, "filter": true, "within": true, "lateral": true,
	"is": true, "then": true, "else": true, "when": true, "all": true, "any": true, "some": true,
	"from": true, "having": true, "like": true, "ilike": true, "between": true, "cross": true,
	"inner": true, "left": true, "right": true, "full": true, "natural": true, "straight_join": true,
	"limit": true, "offset": true, "order": true, "group": true, "window": true, "returning": true,
}

// rewriteValues turns the VALUES list at significant token k into SELECTs
// joined by UNION ALL, naming the columns column1, column2, … as
// PostgreSQL does.
func rewriteValues(ts *stmtTokens, k int, replace map[int]string) {
	sig := ts.sig
	width := -1
	open := k + 1
	for row := 0; ts.at(open).text == "("; row++ {
		end := ts.closing(open)
		if end < 0 {
			return
		}
		parts := ts.splitTopLevel(open+1, end)
		if width >= 0 && len(parts) != width {
			return // the binder reports the mismatch in the SELECTs
		}
		width = len(parts)
		if row == 0 {
			replace[sig[k]] = "SELECT"
			for i, p := range parts {
				if p[1] > p[0] {
					// After the part's last token: its column name.
					replace[sig[p[1]-1]] = ts.at(p[1]-1).text + " AS column" + strconv.Itoa(i+1)
				}
			}
		}
		replace[sig[open]] = ""
		replace[sig[end]] = ""
		if ts.at(end+1).text != "," || ts.at(end+2).text != "(" {
			return
		}
		replace[sig[end+1]] = " UNION ALL SELECT "
		open = end + 2
	}
}

// noLimit is the LIMIT that stands for none: more rows than any query
// has, with room to add an offset.
const noLimit = "4611686018427387904"

// keywordAsName reports whether word t (between prev and next)
// is one of the keywords TiDB reserves but PostgreSQL lets name a column,
// used as a name: not a call, a window frame (ROWS BETWEEN …, RANGE 5
// PRECEDING), FETCH FIRST … ROWS ONLY, CURRENT ROW or DDL.
func keywordAsName(prev, t, next token) bool {
	w := strings.ToLower(t.text)
	switch w {
	case "range", "rows", "groups", "key", "index", "rank", "row":
	default:
		return false
	}
	if next.text == "(" || prev.kind == tokNumber || next.kind == tokNumber || next.kind == tokString || prev.text == "." && w == "row" {
		return false
	}
	for _, kw := range []string{"between", "unbounded", "current", "preceding", "following", "interval", "only", "on", "exclude"} {
		if next.is(kw) {
			return false
		}
	}
	for _, kw := range []string{"primary", "foreign", "unique", "create", "drop", "current", "first", "next", "each", "use", "force", "ignore", "alter", "add", "fulltext", "spatial"} {
		if prev.is(kw) {
			return false
		}
	}
	if next.kind == tokWord && isPlaceholder(next.text) {
		return false // RANGE $1 PRECEDING
	}
	return true
}

// isPlaceholder reports whether a word is a $n parameter placeholder.
func isPlaceholder(w string) bool {
	if len(w) < 2 || w[0] != '$' {
		return false
	}
	for i := 1; i < len(w); i++ {
		if w[i] < '0' || w[i] > '9' {
			return false
		}
	}
	return true
}

// stmtTokens is a statement's tokens seen by significant token, for the
// rewrites that look ahead over significant tokens and replace by token
// index (replace maps an index into toks to its new text).
type stmtTokens struct {
	sql  string
	toks []token
	sig  []int   // indices of the significant tokens in toks
	st   []token // the significant tokens
}

func newStmtTokens(sql string, toks []token, sig []int) *stmtTokens {
	st := make([]token, len(sig))
	for i, k := range sig {
		st[i] = toks[k]
	}
	return &stmtTokens{sql: sql, toks: toks, sig: sig, st: st}
}

// at is significant token k, or an empty space token out of range.
func (s *stmtTokens) at(k int) token {
	if k < 0 || k >= len(s.st) {
		return token{kind: tokSpace}
	}
	return s.st[k]
}

// closing is the significant index of the parenthesis closing the one at
// k (-1 if none).
func (s *stmtTokens) closing(k int) int { return matchClose(s.st, k) }

// text is the statement's text from significant token from to to.
func (s *stmtTokens) text(from, to int) string {
	return s.sql[s.st[from].pos : s.st[to].pos+len(s.st[to].text)]
}

// splitTopLevel cuts the significant tokens [from, to) at the commas
// outside parentheses and returns each part as [start, end).
func (s *stmtTokens) splitTopLevel(from, to int) [][2]int {
	var parts [][2]int
	start, depth := from, 0
	for i := from; i < to; i++ {
		switch s.at(i).text {
		case "(":
			depth++
		case ")":
			depth--
		case ",":
			if depth == 0 {
				parts = append(parts, [2]int{start, i})
				start = i + 1
			}
		}
	}
	if start < to {
		parts = append(parts, [2]int{start, to})
	}
	return parts
}

// blank replaces the tokens from index from to index to (inclusive, in
// toks) with nothing.
func blank(replace map[int]string, from, to int) {
	for j := from; j <= to; j++ {
		replace[j] = ""
	}
}

// rewriteOverlay turns the keywords PLACING, FROM and FOR at the top level
// of the OVERLAY call at significant token k into commas.
func rewriteOverlay(ts *stmtTokens, k int, replace map[int]string) {
	end := ts.closing(k + 1)
	if end < 0 {
		return
	}
	depth := 0
	for j := k + 2; j < end; j++ {
		switch x := ts.at(j); {
		case x.text == "(":
			depth++
		case x.text == ")":
			depth--
		case depth == 0 && (x.is("placing") || x.is("from") || x.is("for")):
			replace[ts.sig[j]] = ","
		}
	}
}

// rewriteSimilarTo rewrites `a [NOT] SIMILAR TO b` (SIMILAR at significant
// token k) when a and b are primary expressions; the binder translates
// __similar_re's SQL regular expression to an anchored RE2 pattern.
func rewriteSimilarTo(ts *stmtTokens, k int, replace map[int]string) {
	lhsEnd := k - 1
	not := ts.at(lhsEnd).is("not")
	if not {
		lhsEnd--
	}
	ls := primaryStart(ts.st, lhsEnd)
	re := primaryEnd(ts.st, k+2)
	if ls < 0 || re < 0 {
		return
	}
	for _, j := range []int{ls, re} {
		if _, done := replace[ts.sig[j]]; done {
			return
		}
	}
	open := "(regexp_like("
	if not {
		open = "(NOT regexp_like("
		replace[ts.sig[k-1]] = ""
	}
	replace[ts.sig[ls]] = open + ts.at(ls).text
	replace[ts.sig[k]] = ","
	replace[ts.sig[k+1]] = "__similar_re("
	replace[ts.sig[re]] = ts.at(re).text + ")))"
}

// rewriteWindowAgg rewrites the call at significant token k when an OVER
// clause follows it and TiDB's grammar has no window form for it (the
// two-argument statistics, bool_and, bool_or, every, string_agg,
// count(DISTINCT …)), names it otherwise (stddev and variance are the
// population ones to TiDB) or would drop an aggregate ORDER BY inside it:
// fn(args) becomes sum(__win_fn(args)), which TiDB parses with OVER, with
// DISTINCT moved in front of the marker and an ORDER BY inside the
// arguments cut out and remembered in the marker's name
// (__win_ordered_fn), which the binder rejects as PostgreSQL does. It
// returns the significant token to go on from: the first argument, or
// past the call when it cut out an ORDER BY (no other rewrite may touch
// the blanked tokens).
func rewriteWindowAgg(ts *stmtTokens, k int, replace map[int]string) (int, bool) {
	at := ts.at
	name := strings.ToLower(at(k).text)
	if !windowAggNames[name] {
		return 0, false
	}
	m := ts.closing(k + 1)
	if m < 0 || !at(m+1).is("over") {
		return 0, false
	}
	distinct := at(k + 2).is("distinct")
	order, depth := -1, 0
	for j := k + 2; j < m && order < 0; j++ {
		switch x := at(j); {
		case x.text == "(":
			depth++
		case x.text == ")":
			depth--
		case depth == 0 && x.is("order") && at(j+1).is("by"):
			order = j
		}
	}
	if order < 0 && !windowMarkerNames[name] && !(name == "count" && distinct) {
		return 0, false
	}
	marker, next := winMarker+name, k+2
	if order >= 0 {
		marker, next = winOrderedMarker+name, m+1
		blank(replace, ts.sig[order], ts.sig[m]-1)
	}
	if distinct {
		marker = "DISTINCT " + marker
		replace[ts.sig[k+2]] = ""
		next = max(next, k+3)
	}
	replace[ts.sig[k]] = "sum(" + marker
	replace[ts.sig[m]] = "))"
	return next, true
}
