package pgcatalog

import (
	"strings"

	"github.com/quarrydb/quarry/catalog/sqlerr"
)

// Quarry has no array type; PostgreSQL arrays travel as their text form
// ('{a,"b c",NULL}'), which is what clients reading text results see.

// ParseArray parses a one-dimensional array literal; nil items are NULL.
// An oidvector / int2vector ('23 25', space-separated) is accepted too.
func ParseArray(s string) ([]*string, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "{") {
		if strings.ContainsAny(s, "{}\"") {
			return nil, sqlerr.New(sqlerr.InvalidTextRep, "malformed array literal: %q", s)
		}
		var out []*string
		for _, f := range strings.Fields(s) {
			out = append(out, &f)
		}
		return out, nil
	}
	if !strings.HasSuffix(s, "}") {
		return nil, sqlerr.New(sqlerr.InvalidTextRep, "malformed array literal: %q", s)
	}
	body := s[1 : len(s)-1]
	var out []*string
	if strings.TrimSpace(body) == "" {
		return out, nil
	}
	i := 0
	for {
		for i < len(body) && body[i] == ' ' {
			i++
		}
		var item strings.Builder
		quoted := false
		if i < len(body) && body[i] == '"' {
			quoted = true
			i++
			for i < len(body) && body[i] != '"' {
				if body[i] == '\\' && i+1 < len(body) {
					i++
				}
				item.WriteByte(body[i])
				i++
			}
			if i >= len(body) {
				return nil, sqlerr.New(sqlerr.InvalidTextRep, "malformed array literal: %q", s)
			}
			i++
			for i < len(body) && body[i] == ' ' {
				i++
			}
		} else {
			for i < len(body) && body[i] != ',' {
				if body[i] == '{' || body[i] == '}' {
					return nil, sqlerr.New(sqlerr.FeatureNotSupported, "multidimensional arrays are not supported: %q", s)
				}
				if body[i] == '\\' && i+1 < len(body) {
					i++
				}
				item.WriteByte(body[i])
				i++
			}
		}
		v := item.String()
		if !quoted {
			v = strings.TrimSpace(v)
		}
		if !quoted && strings.EqualFold(v, "null") {
			out = append(out, nil)
		} else {
			out = append(out, &v)
		}
		if i >= len(body) {
			return out, nil
		}
		if body[i] != ',' {
			return nil, sqlerr.New(sqlerr.InvalidTextRep, "malformed array literal: %q", s)
		}
		i++
	}
}

// QuoteArrayElem renders one element of an array literal, quoting it when
// needed.
func QuoteArrayElem(s string) string {
	if s != "" && !strings.EqualFold(s, "null") && !strings.ContainsAny(s, "{},\"\\ \t\n") {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

// FormatArray renders items (nil: NULL) as an array literal.
func FormatArray(items []*string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		if it == nil {
			b.WriteString("NULL")
		} else {
			b.WriteString(QuoteArrayElem(*it))
		}
	}
	b.WriteByte('}')
	return b.String()
}

// intArrayColumns are system columns of int2vector, oidvector or integer
// array type.
var intArrayColumns = map[string]bool{
	"indkey": true, "indclass": true, "indcollation": true, "indoption": true, "conkey": true, "confkey": true,
	"prattrs": true, "stxkeys": true, "proargtypes": true, "proallargtypes": true, "partattrs": true,
	"polroles": true, "conpfeqop": true, "conppeqop": true, "conffeqop": true, "conexclop": true,
}

// IntArrayColumn reports whether a system column holds an integer array.
func IntArrayColumn(name string) bool { return intArrayColumns[strings.ToLower(name)] }
