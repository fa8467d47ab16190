package planner

import (
	"strconv"
	"strings"

	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// PostgreSQL spellings the rest of the pre-parse layer and TiDB's grammar do
// not know, rewritten into forms they do (mostly calls of __-prefixed
// functions the binder understands). Like rewrite, every pass works on
// tokens and keeps an origin map so error positions point into the text the
// user wrote.

// text with its origin map: origin[i] is the offset in the original
// statement of byte i (len(text)+1 entries).
type spelled struct {
	text   string
	origin []int
	// err is a statement PostgreSQL rejects, found while spelling.
	err error
}

type edit struct {
	start, end int // byte range of text replaced
	repl       string
}

// apply performs non-overlapping edits (sorted by start).
func (s spelled) apply(edits []edit) spelled {
	if len(edits) == 0 {
		return s
	}
	var b strings.Builder
	origin := make([]int, 0, len(s.origin)+16)
	last := 0
	for _, e := range edits {
		if e.start < last {
			continue // overlapping: keep the first
		}
		b.WriteString(s.text[last:e.start])
		origin = append(origin, s.origin[last:e.start]...)
		b.WriteString(e.repl)
		for range len(e.repl) {
			origin = append(origin, s.origin[e.start])
		}
		last = e.end
	}
	b.WriteString(s.text[last:])
	origin = append(origin, s.origin[last:]...)
	return spelled{text: b.String(), origin: origin}
}

func newSpelled(sql string) spelled {
	origin := make([]int, len(sql)+1)
	for i := range origin {
		origin[i] = i
	}
	return spelled{text: sql, origin: origin}
}

// sigTokens are the significant tokens of text.
func sigTokens(text string) []token { return significant(tokenize(text)) }

func tokEnd(t token) int { return t.pos + len(t.text) }

// pgSpell applies the PostgreSQL rewrites to one statement.
func pgSpell(sql string) spelled {
	s := newSpelled(sql)
	s = spellEStrings(s)
	s = spellSimple(s)
	if s.err != nil {
		return s
	}
	s = spellRepeat(s, spellSubscript)
	s = spellRepeat(s, spellCast)
	s = spellRepeat(s, spellOperators)
	s = spellTableFuncs(s)
	return s
}

// spellRepeat applies a one-change-at-a-time pass until it changes nothing.
func spellRepeat(s spelled, pass func(spelled) (spelled, bool)) spelled {
	for range 10000 {
		next, changed := pass(s)
		if !changed {
			return next
		}
		s = next
	}
	return s
}

// spellEStrings decodes E'…' literals (backslash escapes) into standard
// strings.
func spellEStrings(s spelled) spelled {
	var edits []edit
	text := s.text
	for _, t := range tokenize(text) {
		if t.kind != tokWord || (t.text != "E" && t.text != "e") || tokEnd(t) >= len(text) || text[tokEnd(t)] != '\'' {
			continue
		}
		if len(edits) > 0 && t.pos < edits[len(edits)-1].end {
			continue
		}
		start := tokEnd(t) + 1
		var val strings.Builder
		i := start
		closed := false
		for i < len(text) {
			c := text[i]
			if c == '\\' && i+1 < len(text) {
				i++
				switch d := text[i]; d {
				case 'n':
					val.WriteByte('\n')
				case 't':
					val.WriteByte('\t')
				case 'r':
					val.WriteByte('\r')
				case 'b':
					val.WriteByte('\b')
				case 'f':
					val.WriteByte('\f')
				case 'x':
					j := i + 1
					for j < len(text) && j < i+3 && isHex(text[j]) {
						j++
					}
					if v, err := strconv.ParseUint(text[i+1:j], 16, 8); err == nil {
						val.WriteByte(byte(v))
						i = j - 1
					} else {
						val.WriteByte('x')
					}
				case 'u', 'U':
					n := 4
					if d == 'U' {
						n = 8
					}
					if i+n < len(text) {
						if v, err := strconv.ParseUint(text[i+1:i+1+n], 16, 32); err == nil {
							val.WriteRune(rune(v))
							i += n
							break
						}
					}
					val.WriteByte(d)
				default:
					if d >= '0' && d <= '7' {
						j := i
						for j < len(text) && j < i+3 && text[j] >= '0' && text[j] <= '7' {
							j++
						}
						v, _ := strconv.ParseUint(text[i:j], 8, 8)
						val.WriteByte(byte(v))
						i = j - 1
					} else {
						val.WriteByte(d)
					}
				}
				i++
				continue
			}
			if c == '\'' {
				if i+1 < len(text) && text[i+1] == '\'' {
					val.WriteByte('\'')
					i += 2
					continue
				}
				closed = true
				i++
				break
			}
			val.WriteByte(c)
			i++
		}
		if !closed {
			continue
		}
		edits = append(edits, edit{start: t.pos, end: i, repl: "'" + strings.ReplaceAll(val.String(), "'", "''") + "'"})
	}
	return s.apply(edits)
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// reservedAliases are TiDB keywords PostgreSQL clients use as column
// aliases; after AS they are quoted.
var reservedAliases = map[string]bool{
	"default": true, "user": true, "keys": true, "key": true, "check": true, "column": true, "index": true,
	"schema": true, "database": true, "databases": true, "table": true, "range": true, "rank": true,
	"row": true, "rows": true, "status": true, "type": true, "position": true, "function": true,
	"current_user": true, "current_date": true, "current_time": true, "current_timestamp": true,
	"read": true, "release": true, "usage": true, "values": true, "condition": true,
	"option": true, "precision": true, "references": true, "match": true, "primary": true, "unique": true,
	"constraint": true, "describe": true, "explain": true, "lock": true, "mod": true, "of": true, "to": true,
	"window": true, "groups": true, "cascade": true, "trigger": true, "grant": true, "show": true,
}

// spellSimple: COLLATE clauses dropped, OPERATOR(schema.op) → op,
// pg_catalog. / information_schema. before function names dropped,
// reserved words after AS quoted, interval 'n unit' → INTERVAL 'n' UNIT,
// current_user & co. without parentheses, FILTER (WHERE c) folded into
// the aggregate's argument.
func spellSimple(s spelled) spelled {
	sig := sigTokens(s.text)
	var edits []edit
	at := func(k int) token {
		if k < 0 || k >= len(sig) {
			return token{kind: tokSpace}
		}
		return sig[k]
	}
	for k := 0; k < len(sig); k++ {
		t := sig[k]
		switch {
		case t.is("collate") && k > 0:
			// COLLATE name[.name] (C, "C", pg_catalog.default)
			end := k + 1
			for end+2 < len(sig)+1 && at(end+1).text == "." && (at(end+2).kind == tokWord || at(end+2).kind == tokQuoted) {
				end += 2
			}
			if at(end).kind == tokWord || at(end).kind == tokQuoted {
				edits = append(edits, edit{t.pos, tokEnd(at(end)), ""})
				k = end
			}
		case t.is("operator") && at(k+1).text == "(":
			// OPERATOR(pg_catalog.~) → ~
			j := k + 2
			for j < len(sig) && at(j).text != ")" {
				j++
			}
			if j < len(sig) {
				var op strings.Builder
				for x := k + 2; x < j; x++ {
					if at(x).kind == tokPunct && at(x).text != "." {
						op.WriteString(at(x).text)
					}
				}
				edits = append(edits, edit{t.pos, tokEnd(at(j)), " " + op.String() + " "})
				k = j
			}
		case (t.is("pg_catalog") || t.is("information_schema")) && at(k+1).text == "." &&
			at(k+2).kind == tokWord && at(k+3).text == "(" && !at(k-1).is("from") && !at(k-1).is("join"):
			edits = append(edits, edit{t.pos, at(k + 2).pos, ""})
		case t.is("as") && at(k+1).kind == tokWord && reservedAliases[strings.ToLower(at(k+1).text)] && at(k+2).text != "(":
			a := at(k + 1)
			edits = append(edits, edit{a.pos, tokEnd(a), `"` + a.text + `"`})
			k++
		case t.is("interval") && at(k+1).kind == tokString && !intervalUnitWord(at(k+2)):
			// interval '1 month 2 days' (the unit inside the string) →
			// __interval('…'), a constant the binder parses; TiDB knows
			// INTERVAL only as date arithmetic's 'n' UNIT.
			lit := at(k + 1)
			edits = append(edits, edit{t.pos, tokEnd(lit), "__interval(" + lit.text + ")"})
			k++
		case (t.is("current_user") || t.is("session_user") || t.is("current_role") || t.is("current_catalog") ||
			t.is("current_schema")) && at(k+1).text != "(" && at(k-1).text != "." && !at(k-1).is("as"):
			edits = append(edits, edit{t.pos, tokEnd(t), "__pg_" + strings.ToLower(t.text) + "()"})
		case t.is("user") && at(k+1).text != "(" && at(k-1).is("select") && (at(k+1).kind == tokSpace || at(k+1).text == "," || at(k+1).is("as") || at(k+1).is("from")):
			edits = append(edits, edit{t.pos, tokEnd(t), "__pg_current_user()"})
		case t.is("filter") && at(k+1).text == "(" && at(k+2).is("where") && at(k-1).text == ")":
			// agg(args) FILTER (WHERE cond) → agg(CASE WHEN cond THEN x END, …)
			open := matchOpen(sig, k-1)
			close := matchClose(sig, k+1)
			if open < 1 || close < 0 || at(open-1).kind != tokWord {
				continue
			}
			name := strings.ToLower(at(open - 1).text)
			if nonAggWindowFuncs[name] && at(close+1).is("over") {
				s.err = sqlerr.At(sqlerr.FeatureNotSupported, s.origin[at(open-1).pos]+1,
					"FILTER is not implemented for non-aggregate window functions")
				return s
			}
			cond := s.text[at(k+3).pos:at(close).pos]
			args := s.text[tokEnd(at(open)):at(k-1).pos]
			within := name == "group" && at(open-2).is("within")
			edits = append(edits, edit{tokEnd(at(open)), tokEnd(at(close)), filterArgs(name, args, cond, within) + ")"})
			k = close
		}
	}
	return s.apply(edits)
}

// nonAggWindowFuncs are the window functions that are no aggregates:
// PostgreSQL rejects FILTER on them.
var nonAggWindowFuncs = map[string]bool{
	"row_number": true, "rank": true, "dense_rank": true, "percent_rank": true, "cume_dist": true,
	"ntile": true, "lag": true, "lead": true, "first_value": true, "last_value": true, "nth_value": true,
}

// filterArgs folds FILTER (WHERE cond) into the arguments args of
// aggregate fn: agg([DISTINCT] x, rest [ORDER BY …]) becomes
// agg([DISTINCT] CASE WHEN cond THEN x END, rest [ORDER BY …]), so that
// the rows cond drops are NULLs the aggregate skips. Only the aggregated
// value is wrapped — string_agg's separator is not — except for corr(y, x)
// & co., where a row counts only where both are kept. within is set for
// the ORDER BY list of WITHIN GROUP, whose sort expression is the value.
func filterArgs(fn, args, cond string, within bool) string {
	wrap := func(a string) string { return "CASE WHEN " + cond + " THEN " + a + " END" }
	sig := sigTokens(args)
	if within {
		// ORDER BY x [ASC|DESC] [NULLS FIRST|LAST]
		if len(sig) < 3 || !sig[0].is("order") || !sig[1].is("by") {
			return args
		}
		end := len(sig)
		for end > 3 && (sig[end-1].is("asc") || sig[end-1].is("desc") || sig[end-1].is("first") ||
			sig[end-1].is("last") || sig[end-1].is("nulls")) {
			end--
		}
		x := args[sig[2].pos:tokEnd(sig[end-1])]
		return args[:sig[2].pos] + wrap(x) + args[tokEnd(sig[end-1]):]
	}
	distinct := ""
	if len(sig) > 0 && sig[0].is("distinct") {
		distinct, args = "DISTINCT ", args[tokEnd(sig[0]):]
		sig = sigTokens(args)
	}
	// An aggregate ORDER BY stays as it is, after the arguments.
	tail, depth := "", 0
	for i, x := range sig {
		switch {
		case x.kind == tokPunct && (x.text == "(" || x.text == "["):
			depth++
		case x.kind == tokPunct && (x.text == ")" || x.text == "]"):
			depth--
		case depth == 0 && x.is("order") && i+1 < len(sig) && sig[i+1].is("by"):
			tail, args = " "+args[x.pos:], args[:x.pos]
		}
		if tail != "" {
			break
		}
	}
	parts := splitArgs(strings.TrimSpace(args))
	if len(parts) == 1 && (parts[0] == "*" || parts[0] == "") {
		parts[0] = "1" // count(*)
	}
	for i := range parts {
		if i == 0 || physical.TwoArg(fn) {
			parts[i] = wrap(parts[i])
		}
	}
	return distinct + strings.Join(parts, ", ") + tail
}

// splitArgs splits an argument list at its top-level commas.
func splitArgs(text string) []string {
	var parts []string
	depth, start := 0, 0
	for _, t := range sigTokens(text) {
		if t.kind != tokPunct {
			continue
		}
		switch t.text {
		case "(", "[":
			depth++
		case ")", "]":
			depth--
		case ",":
			if depth == 0 {
				parts = append(parts, strings.TrimSpace(text[start:t.pos]))
				start = tokEnd(t)
			}
		}
	}
	return append(parts, strings.TrimSpace(text[start:]))
}

// matchOpen returns the index of the ( matching the ) at k.
func matchOpen(sig []token, k int) int {
	depth := 0
	for j := k; j >= 0; j-- {
		switch sig[j].text {
		case ")", "]":
			if sig[j].kind == tokPunct {
				depth++
			}
		case "(", "[":
			if sig[j].kind == tokPunct {
				depth--
				if depth == 0 {
					return j
				}
			}
		}
	}
	return -1
}

// matchClose returns the index of the ) matching the ( at k.
func matchClose(sig []token, k int) int {
	depth := 0
	for j := k; j < len(sig); j++ {
		if sig[j].kind != tokPunct {
			continue
		}
		switch sig[j].text {
		case "(", "[":
			depth++
		case ")", "]":
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}

// notFunctions are keywords that may stand before a parenthesis without
// naming a function.
var notFunctions = map[string]bool{
	"and": true, "or": true, "not": true, "in": true, "exists": true, "select": true, "where": true, "on": true,
	"when": true, "then": true, "else": true, "case": true, "as": true, "from": true, "by": true, "any": true,
	"all": true, "some": true, "is": true, "like": true, "ilike": true, "between": true, "distinct": true,
	"values": true, "join": true, "using": true, "having": true, "union": true, "except": true, "intersect": true,
	"with": true, "lateral": true, "over": true, "filter": true, "return": true, "end": true, "limit": true,
	"offset": true, "into": true, "set": true, "array": true,
}

// primaryStart is the index of the first token of the primary expression
// ending at sig[k] (a literal, a dotted name, a parenthesised expression or
// a function call); -1 if sig[k] ends none.
func primaryStart(sig []token, k int) int {
	if k < 0 {
		return -1
	}
	t := sig[k]
	switch t.kind {
	case tokString:
		// A typed literal: DATE '…', TIMESTAMP '…'.
		if k > 0 && (sig[k-1].is("date") || sig[k-1].is("timestamp") || sig[k-1].is("time")) {
			return k - 1
		}
		return k
	case tokNumber:
		return k
	case tokWord, tokQuoted:
		if t.kind == tokWord && notFunctions[strings.ToLower(t.text)] && !t.is("end") {
			return -1
		}
		if t.is("end") {
			// CASE … END
			depth := 0
			for j := k; j >= 0; j-- {
				if sig[j].is("end") {
					depth++
				} else if sig[j].is("case") {
					depth--
					if depth == 0 {
						return j
					}
				}
			}
			return -1
		}
		j := k
		for j >= 2 && sig[j-1].text == "." && (sig[j-2].kind == tokWord || sig[j-2].kind == tokQuoted) {
			j -= 2
		}
		return j
	case tokPunct:
		if t.text != ")" {
			return -1
		}
		j := matchOpen(sig, k)
		if j < 0 {
			return -1
		}
		if j > 0 && (sig[j-1].kind == tokWord && !notFunctions[strings.ToLower(sig[j-1].text)] || sig[j-1].kind == tokQuoted) {
			j--
			for j >= 2 && sig[j-1].text == "." && (sig[j-2].kind == tokWord || sig[j-2].kind == tokQuoted) {
				j -= 2
			}
		}
		return j
	}
	return -1
}

// primaryEnd is the index of the last token of the primary expression
// starting at sig[k]; -1 if none starts there.
func primaryEnd(sig []token, k int) int {
	if k >= len(sig) {
		return -1
	}
	t := sig[k]
	switch t.kind {
	case tokString, tokNumber:
		return k
	case tokWord, tokQuoted:
		if t.kind == tokWord && notFunctions[strings.ToLower(t.text)] {
			if t.is("case") {
				depth := 0
				for j := k; j < len(sig); j++ {
					if sig[j].is("case") {
						depth++
					} else if sig[j].is("end") {
						depth--
						if depth == 0 {
							return j
						}
					}
				}
			}
			return -1
		}
		j := k
		for j+2 < len(sig) && sig[j+1].text == "." && (sig[j+2].kind == tokWord || sig[j+2].kind == tokQuoted) {
			j += 2
		}
		if j+1 < len(sig) && sig[j+1].text == "(" {
			return matchClose(sig, j+1)
		}
		if j+1 < len(sig) && sig[j+1].kind == tokString && (t.is("date") || t.is("timestamp")) {
			return j + 1
		}
		return j
	case tokPunct:
		if t.text == "(" {
			return matchClose(sig, k)
		}
		if t.text == "-" || t.text == "+" {
			return primaryEnd(sig, k+1)
		}
	}
	return -1
}

// spellSubscript rewrites one primary[i] into __subscript(primary, i).
func spellSubscript(s spelled) (spelled, bool) {
	sig := sigTokens(s.text)
	for k, t := range sig {
		if t.kind != tokPunct || t.text != "[" || k == 0 {
			continue
		}
		if sig[k-1].is("array") || k+1 < len(sig) && sig[k+1].text == "]" {
			continue // ARRAY[…] is handled with the operators; type[] with casts
		}
		start := primaryStart(sig, k-1)
		end := matchClose(sig, k)
		if start < 0 || end < 0 {
			continue
		}
		return s.apply([]edit{
			{sig[start].pos, sig[start].pos, "__subscript("},
			{t.pos, tokEnd(t), ", "},
			{sig[end].pos, tokEnd(sig[end]), ")"},
		}), true
	}
	return s, false
}

// castTypeEnd returns the index of the last token of the type name that
// starts at sig[k] (after ::).
func castTypeEnd(sig []token, k int) int {
	if k >= len(sig) || (sig[k].kind != tokWord && sig[k].kind != tokQuoted) {
		return -1
	}
	j := k
	for j+2 < len(sig) && sig[j+1].text == "." && (sig[j+2].kind == tokWord || sig[j+2].kind == tokQuoted) {
		j += 2
	}
	next := func(w string) bool { return j+1 < len(sig) && sig[j+1].is(w) }
	switch strings.ToLower(sig[j].text) {
	case "double":
		if next("precision") {
			j++
		}
	case "character", "bit", "char":
		if next("varying") {
			j++
		}
	}
	if j+1 < len(sig) && sig[j+1].text == "(" {
		if e := matchClose(sig, j+1); e > 0 {
			j = e
		}
	}
	if next("with") || next("without") {
		if j+3 < len(sig) && sig[j+2].is("time") && sig[j+3].is("zone") {
			j += 3
		}
	}
	for j+2 < len(sig) && sig[j+1].text == "[" && sig[j+2].text == "]" {
		j += 2
	}
	return j
}

// spellCast rewrites one x::type into __cast(x, 'type').
func spellCast(s spelled) (spelled, bool) {
	sig := sigTokens(s.text)
	for k := 1; k+1 < len(sig); k++ {
		t := sig[k]
		if t.text != ":" || sig[k+1].text != ":" || sig[k+1].pos != tokEnd(t) {
			continue
		}
		start := primaryStart(sig, k-1)
		end := castTypeEnd(sig, k+2)
		if start < 0 || end < 0 {
			continue
		}
		typ := s.text[sig[k+2].pos:tokEnd(sig[end])]
		return s.apply([]edit{
			{sig[start].pos, sig[start].pos, "__cast("},
			{t.pos, tokEnd(sig[end]), ", '" + strings.ReplaceAll(typ, "'", "''") + "')"},
		}), true
	}
	return s, false
}

// spellOperators rewrites one of: a ~ b (and !~, ~*, !~*) → regexp_like;
// a IS [NOT] DISTINCT FROM b → <=>; a = ANY (array) → __any(a, array);
// a <> ALL (array) → NOT __any(a, array); ARRAY[…] → __array(…);
// ARRAY(subquery) → __array_sub((subquery)); (record).field →
// __field(record, 'field').
func spellOperators(s spelled) (spelled, bool) {
	sig := sigTokens(s.text)
	at := func(k int) token {
		if k < 0 || k >= len(sig) {
			return token{kind: tokSpace}
		}
		return sig[k]
	}
	adjacent := func(k int) bool { return at(k).pos == tokEnd(at(k-1)) }
	for k := 1; k < len(sig); k++ {
		t := sig[k]
		// regular expression match
		if t.kind == tokPunct && (t.text == "~" || t.text == "!" && at(k+1).text == "~" && adjacent(k+1)) {
			first, opEnd := k, k
			not, fold := false, false
			if t.text == "!" {
				not, opEnd = true, k+1
			}
			if at(opEnd+1).text == "*" && adjacent(opEnd+1) {
				fold, opEnd = true, opEnd+1
			}
			ls := primaryStart(sig, first-1)
			re := primaryEnd(sig, opEnd+1)
			if ls < 0 || re < 0 {
				continue
			}
			lhs := s.text[at(ls).pos:tokEnd(at(first-1))]
			rhs := s.text[at(opEnd+1).pos:tokEnd(at(re))]
			if fold {
				rhs = "'(?i)' || " + rhs
			}
			repl := "regexp_like(" + lhs + ", " + rhs + ")"
			if not {
				repl = "NOT " + repl
			}
			return s.apply([]edit{{at(ls).pos, tokEnd(at(re)), "(" + repl + ")"}}), true
		}
		// IS [NOT] DISTINCT FROM
		if t.is("is") && (at(k+1).is("distinct") && at(k+2).is("from") || at(k+1).is("not") && at(k+2).is("distinct") && at(k+3).is("from")) {
			ls := primaryStart(sig, k-1)
			n := 2
			if at(k + 1).is("not") {
				n = 3
			}
			re := primaryEnd(sig, k+n+1)
			if ls < 0 || re < 0 {
				continue
			}
			lhs := s.text[at(ls).pos:tokEnd(at(k-1))]
			rhs := s.text[at(k+n+1).pos:tokEnd(at(re))]
			repl := "(" + lhs + " <=> " + rhs + ")"
			if n == 2 {
				repl = "(NOT " + repl + ")"
			}
			return s.apply([]edit{{at(ls).pos, tokEnd(at(re)), repl}}), true
		}
		// a = ANY (array) / a <> ALL (array)
		if (t.is("any") || t.is("some") || t.is("all")) && at(k+1).text == "(" && !at(k+2).is("select") && !at(k+2).is("with") &&
			!(at(k+2).text == "(" && at(k+3).is("select")) {
			opTok := k - 1
			op := at(opTok).text
			if op == "=" && at(opTok-1).text == "!" || op == ">" && at(opTok-1).text == "<" {
				opTok--
				op = at(opTok).text + op
			}
			eq := op == "=" && !t.is("all")
			ne := (op == "<>" || op == "!=") && t.is("all")
			if !eq && !ne {
				continue
			}
			ls := primaryStart(sig, opTok-1)
			end := matchClose(sig, k+1)
			if ls < 0 || end < 0 {
				continue
			}
			lhs := s.text[at(ls).pos:tokEnd(at(opTok-1))]
			arr := s.text[tokEnd(at(k+1)):at(end).pos]
			repl := "__any(" + lhs + ", " + arr + ")"
			if ne {
				repl = "(NOT " + repl + ")"
			}
			return s.apply([]edit{{at(ls).pos, tokEnd(at(end)), repl}}), true
		}
		// ARRAY[…] and ARRAY(subquery)
		if t.is("array") && at(k+1).text == "[" {
			end := matchClose(sig, k+1)
			if end < 0 {
				continue
			}
			return s.apply([]edit{{t.pos, tokEnd(at(k + 1)), "__array("}, {at(end).pos, tokEnd(at(end)), ")"}}), true
		}
		if t.is("array") && at(k+1).text == "(" && (at(k+2).is("select") || at(k+2).is("with")) {
			end := matchClose(sig, k+1)
			if end < 0 {
				continue
			}
			return s.apply([]edit{{t.pos, tokEnd(at(k + 1)), "__array_sub(("}, {at(end).pos, tokEnd(at(end)), "))"}}), true
		}
		// (record).field
		if t.text == "." && at(k-1).text == ")" && at(k+1).kind == tokWord && at(k+2).text != "(" {
			open := matchOpen(sig, k-1)
			if open < 0 || open > 0 && (at(open-1).kind == tokWord && !notFunctions[strings.ToLower(at(open-1).text)]) {
				continue
			}
			inner := s.text[tokEnd(at(open)):at(k-1).pos]
			f := at(k + 1)
			return s.apply([]edit{{at(open).pos, tokEnd(f), "__field(" + inner + ", '" + strings.ToLower(f.text) + "')"}}), true
		}
	}
	return s, false
}

// tableFuncs are the set-returning functions accepted in FROM.
var tableFuncs = map[string]bool{"unnest": true, "generate_series": true, "generate_subscripts": true, "range": true}

// fromFollowers end a FROM item.
var fromFollowers = map[string]bool{
	"where": true, "join": true, "left": true, "right": true, "inner": true, "full": true, "cross": true,
	"on": true, "group": true, "order": true, "limit": true, "union": true, "natural": true, "using": true,
	"having": true, "window": true, "offset": true, "except": true, "intersect": true, "lateral": true,
	"straight_join": true, "outer": true, "fetch": true, "for": true,
}

// spellTableFuncs rewrites set-returning functions in FROM,
// `unnest(x) [AS] a[(c)]`, into `(SELECT __tfn('unnest', x)) AS a[(c)]`;
// the binder turns them into rows.
func spellTableFuncs(s spelled) spelled {
	sig := sigTokens(s.text)
	var edits []edit
	for k := 1; k < len(sig); k++ {
		t := sig[k]
		name := strings.ToLower(t.text)
		nameStart := k
		if t.kind != tokWord || !tableFuncs[name] || k+1 >= len(sig) || sig[k+1].text != "(" {
			continue
		}
		if k >= 2 && sig[k-1].text == "." {
			nameStart = k - 2
		}
		if !inFromList(sig, nameStart) {
			continue
		}
		end := matchClose(sig, k+1)
		if end < 0 {
			continue
		}
		args := strings.TrimSpace(s.text[tokEnd(sig[k+1]):sig[end].pos])
		repl := "(SELECT __tfn('" + name + "'"
		if args != "" {
			repl += ", " + args
		}
		repl += "))"
		next := token{kind: tokSpace}
		if end+1 < len(sig) {
			next = sig[end+1]
		}
		switch {
		case next.is("as"):
		case next.kind == tokQuoted || next.kind == tokWord && !fromFollowers[strings.ToLower(next.text)]:
			repl += " AS"
		default:
			repl += ` AS "` + name + `"` // quoted: range is a keyword to TiDB
		}
		edits = append(edits, edit{sig[nameStart].pos, tokEnd(sig[end]), repl})
		k = end
	}
	return s.apply(edits)
}

// inFromList reports whether the token at k starts a FROM item: after FROM
// or JOIN, or after a comma of a FROM list.
func inFromList(sig []token, k int) bool {
	if k == 0 {
		return false
	}
	p := sig[k-1]
	if p.is("from") || p.is("join") || p.is("lateral") {
		return true
	}
	if p.text != "," {
		return false
	}
	depth := 0
	for j := k - 2; j >= 0; j-- {
		switch {
		case sig[j].kind == tokPunct && sig[j].text == ")":
			depth++
		case sig[j].kind == tokPunct && sig[j].text == "(":
			if depth == 0 {
				return false
			}
			depth--
		case depth == 0 && sig[j].is("from"):
			return true
		case depth == 0 && (sig[j].is("select") || sig[j].is("where") || sig[j].is("by") || sig[j].is("values")):
			return false
		}
	}
	return false
}

// intervalUnitWord reports whether t is the unit word of SQL's INTERVAL
// '<n>' <unit> form (which needs no rewrite).
func intervalUnitWord(t token) bool {
	if t.kind != tokWord {
		return false
	}
	switch strings.TrimSuffix(strings.ToLower(t.text), "s") {
	case "year", "quarter", "month", "week", "day", "hour", "minute", "second", "microsecond", "millisecond",
		"year_month", "day_hour", "day_minute", "day_second", "hour_minute", "hour_second", "minute_second":
		return true
	}
	return false
}
