package pgwire

import (
	"regexp"
	"strings"
)

// splitStatements cuts a query string at the semicolons that end
// statements, skipping those inside quotes, dollar quotes and comments.
// Empty statements are dropped.
func splitStatements(sql string) []string {
	pieces := splitWithOffsets(sql)
	out := make([]string, len(pieces))
	for i, p := range pieces {
		out[i] = p.text
	}
	return out
}

// piece is one statement of a query string and the byte offset it starts
// at.
type piece struct {
	text  string
	start int
}

func splitWithOffsets(sql string) []piece {
	var out []piece
	start := 0
	add := func(end int) {
		raw := sql[start:end]
		if s := strings.TrimSpace(raw); s != "" {
			out = append(out, piece{text: s, start: start + strings.Index(raw, s)})
		}
	}
	for i := 0; i < len(sql); i++ {
		switch ch := sql[i]; ch {
		case '\'', '"':
			i = skipQuoted(sql, i, ch)
		case '-':
			if i+1 < len(sql) && sql[i+1] == '-' {
				for i < len(sql) && sql[i] != '\n' {
					i++
				}
			}
		case '/':
			if i+1 < len(sql) && sql[i+1] == '*' {
				depth := 1
				i += 2
				for i < len(sql) && depth > 0 {
					switch {
					case strings.HasPrefix(sql[i:], "/*"):
						depth++
						i += 2
					case strings.HasPrefix(sql[i:], "*/"):
						depth--
						i += 2
					default:
						i++
					}
				}
				i--
			}
		case '$':
			if tag, ok := dollarTag(sql[i:]); ok {
				if end := strings.Index(sql[i+len(tag):], tag); end >= 0 {
					i += len(tag) + end + len(tag) - 1
				} else {
					i = len(sql)
				}
			}
		case ';':
			add(i)
			start = i + 1
		}
	}
	add(len(sql))
	return out
}

// skipQuoted returns the index of the quote closing the one at i (a doubled
// quote is part of the text; in E'...' strings a backslash escapes too).
func skipQuoted(sql string, i int, q byte) int {
	escapes := q == '\'' && i > 0 && (sql[i-1] == 'E' || sql[i-1] == 'e') && (i < 2 || !isIdent(sql[i-2]))
	for j := i + 1; j < len(sql); j++ {
		switch sql[j] {
		case '\\':
			if escapes {
				j++
			}
		case q:
			if j+1 < len(sql) && sql[j+1] == q {
				j++
				continue
			}
			return j
		}
	}
	return len(sql)
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// dollarTag recognises $tag$ at the start of s.
func dollarTag(s string) (string, bool) {
	for j := 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '$':
			return s[:j+1], true
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || j > 1 && c >= '0' && c <= '9':
		default:
			return "", false
		}
	}
	return "", false
}

// protoKind names statements that concern the connection's protocol
// objects rather than data, which pgwire answers itself.
type protoKind int

const (
	protoNone       protoKind = iota
	protoDeallocate           // DEALLOCATE [PREPARE] name | ALL
	protoDiscardAll           // DISCARD ALL
	protoCopyOut              // COPY … TO STDOUT
	protoCopyIn               // COPY … FROM STDIN (not supported)
)

var (
	reDeallocate = regexp.MustCompile(`(?is)^DEALLOCATE\s+(?:PREPARE\s+)?("(?:[^"]|"")+"|[^\s;]+)\s*;?\s*$`)
	reDiscardAll = regexp.MustCompile(`(?is)^DISCARD\s+ALL\s*;?\s*$`)
	reCopyWord   = regexp.MustCompile(`(?is)^COPY\b`)
)

// protoStatement is a classified protocol-level statement.
type protoStatement struct {
	kind protoKind
	name string // DEALLOCATE's statement ("" with all)
	all  bool
	copy *copyCommand
}

// classify recognises the statements pgwire runs itself; nil for others.
func classify(stmt string) (*protoStatement, error) {
	s := strings.TrimSpace(stripLeadingComments(stmt))
	if len(s) < 4 {
		return nil, nil
	}
	switch s[0] | 0x20 {
	case 'd':
		if m := reDeallocate.FindStringSubmatch(s); m != nil {
			name := m[1]
			if strings.HasPrefix(name, `"`) {
				return &protoStatement{kind: protoDeallocate, name: strings.ReplaceAll(name[1:len(name)-1], `""`, `"`)}, nil
			}
			if strings.EqualFold(name, "all") {
				return &protoStatement{kind: protoDeallocate, all: true}, nil
			}
			return &protoStatement{kind: protoDeallocate, name: strings.ToLower(name)}, nil
		}
		if reDiscardAll.MatchString(s) {
			return &protoStatement{kind: protoDiscardAll}, nil
		}
	case 'c':
		if reCopyWord.MatchString(s) {
			cc, err := parseCopy(s)
			if err != nil {
				return nil, err
			}
			if cc.from {
				return &protoStatement{kind: protoCopyIn, copy: cc}, nil
			}
			return &protoStatement{kind: protoCopyOut, copy: cc}, nil
		}
	}
	return nil, nil
}

func stripLeadingComments(s string) string {
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		switch {
		case strings.HasPrefix(s, "--"):
			if i := strings.IndexByte(s, '\n'); i >= 0 {
				s = s[i+1:]
			} else {
				return ""
			}
		case strings.HasPrefix(s, "/*"):
			if i := strings.Index(s, "*/"); i >= 0 {
				s = s[i+2:]
			} else {
				return ""
			}
		default:
			return s
		}
	}
}

// mayHoldProtoStatement is a quick test that lets most query strings skip
// the split: only these words start statements pgwire answers itself.
func mayHoldProtoStatement(sql string) bool {
	for _, w := range [...]string{"deallocate", "discard", "copy"} {
		if containsFold(sql, w) {
			return true
		}
	}
	return false
}

func containsFold(s, word string) bool {
	n := len(word)
	for i := 0; i+n <= len(s); i++ {
		if s[i]|0x20 == word[0] && strings.EqualFold(s[i:i+n], word) {
			return true
		}
	}
	return false
}
