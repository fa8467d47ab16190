// Package slt runs sqllogictest files (SQLite's format) against any SQL
// endpoint that implements DB: the embedded engine in tests today, a cluster
// through a client later. It parses records, formats result values as
// SQLite's harness does, sorts, hashes and compares.
package slt

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Kind is the kind of a record.
type Kind int

const (
	KindStatement Kind = iota
	KindQuery
	KindHalt
	KindHashThreshold
)

// SortMode is how a query's results are ordered before comparison.
type SortMode int

const (
	NoSort SortMode = iota
	RowSort
	ValueSort
)

// Record is one test record.
type Record struct {
	Kind Kind
	Line int // 1-based line of the record's first line (after conditions)
	// Conditions are the skipif/onlyif lines guarding the record.
	Conditions []Condition
	SQL        string

	// Statement and query error expectations: ExpectError is set for
	// "statement error" and "query error"; ErrorPattern is the optional text
	// after it (a SQLSTATE or a regular expression over the message).
	ExpectError  bool
	ErrorPattern string

	// Query records.
	Types string // one letter per column: I, R, T
	Sort  SortMode
	Label string
	// Expected holds the lines after ----, unless the results are given as a
	// hash, in which case HashCount and Hash are set.
	Expected  []string
	HashCount int
	Hash      string
	// HasResults says whether the record had a ---- separator.
	HasResults bool

	// Threshold is the value of a hash-threshold record.
	Threshold int
}

// Condition is a skipif or onlyif line.
type Condition struct {
	Skip     bool // skipif; otherwise onlyif
	Database string
}

// Applies says whether the record runs on database db.
func (r *Record) Applies(db string) bool {
	for _, c := range r.Conditions {
		if c.Skip && c.Database == db {
			return false
		}
		if !c.Skip && c.Database != db {
			return false
		}
	}
	return true
}

// Parse reads the records of an sqllogictest file.
func Parse(r io.Reader) ([]Record, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var lines []string
	for sc.Scan() {
		lines = append(lines, strings.TrimRight(sc.Text(), "\r"))
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	var recs []Record
	var conds []Condition
	i := 0
	for i < len(lines) {
		line := lines[i]
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			i++
			continue
		}
		fields := strings.Fields(trimmed)
		lineNo := i + 1
		switch fields[0] {
		case "skipif", "onlyif":
			if len(fields) < 2 {
				return nil, fmt.Errorf("line %d: %s without a database name", lineNo, fields[0])
			}
			conds = append(conds, Condition{Skip: fields[0] == "skipif", Database: fields[1]})
			i++
			continue
		case "halt":
			recs = append(recs, Record{Kind: KindHalt, Line: lineNo, Conditions: conds})
			conds = nil
			i++
			continue
		case "hash-threshold":
			n := 0
			if len(fields) > 1 {
				n, _ = strconv.Atoi(fields[1])
			}
			recs = append(recs, Record{Kind: KindHashThreshold, Line: lineNo, Threshold: n, Conditions: conds})
			conds = nil
			i++
			continue
		case "statement":
			rec := Record{Kind: KindStatement, Line: lineNo, Conditions: conds}
			conds = nil
			if len(fields) < 2 {
				return nil, fmt.Errorf("line %d: statement without ok/error", lineNo)
			}
			switch fields[1] {
			case "ok":
			case "error":
				rec.ExpectError = true
				rec.ErrorPattern = restAfter(trimmed, 2)
			default:
				return nil, fmt.Errorf("line %d: statement %s: want ok or error", lineNo, fields[1])
			}
			i++
			var sql []string
			for i < len(lines) && strings.TrimSpace(lines[i]) != "" {
				sql = append(sql, lines[i])
				i++
			}
			rec.SQL = strings.Join(sql, "\n")
			recs = append(recs, rec)
		case "query":
			rec := Record{Kind: KindQuery, Line: lineNo, Conditions: conds}
			conds = nil
			if len(fields) >= 2 && fields[1] == "error" {
				rec.ExpectError = true
				rec.ErrorPattern = restAfter(trimmed, 2)
			} else {
				if len(fields) < 2 {
					return nil, fmt.Errorf("line %d: query without column types", lineNo)
				}
				rec.Types = fields[1]
				if len(fields) >= 3 {
					switch fields[2] {
					case "nosort":
					case "rowsort":
						rec.Sort = RowSort
					case "valuesort":
						rec.Sort = ValueSort
					default:
						return nil, fmt.Errorf("line %d: unknown sort mode %q", lineNo, fields[2])
					}
				}
				if len(fields) >= 4 {
					rec.Label = fields[3]
				}
			}
			i++
			var sql []string
			for i < len(lines) && strings.TrimSpace(lines[i]) != "" && strings.TrimSpace(lines[i]) != "----" {
				sql = append(sql, lines[i])
				i++
			}
			rec.SQL = strings.Join(sql, "\n")
			if i < len(lines) && strings.TrimSpace(lines[i]) == "----" {
				rec.HasResults = true
				i++
				for i < len(lines) && strings.TrimSpace(lines[i]) != "" {
					rec.Expected = append(rec.Expected, lines[i])
					i++
				}
				if len(rec.Expected) == 1 {
					if n, h, ok := parseHashLine(rec.Expected[0]); ok {
						rec.HashCount, rec.Hash, rec.Expected = n, h, nil
					}
				}
			}
			recs = append(recs, rec)
		default:
			return nil, fmt.Errorf("line %d: unknown record %q", lineNo, fields[0])
		}
	}
	return recs, nil
}

// restAfter returns the text of line after its first n fields.
func restAfter(line string, n int) string {
	s := line
	for k := 0; k < n; k++ {
		s = strings.TrimLeft(s, " \t")
		j := strings.IndexAny(s, " \t")
		if j < 0 {
			return ""
		}
		s = s[j:]
	}
	return strings.TrimSpace(s)
}

// parseHashLine recognises "N values hashing to <md5>".
func parseHashLine(s string) (int, string, bool) {
	f := strings.Fields(s)
	if len(f) != 5 || f[1] != "values" || f[2] != "hashing" || f[3] != "to" || len(f[4]) != 32 {
		return 0, "", false
	}
	n, err := strconv.Atoi(f[0])
	if err != nil {
		return 0, "", false
	}
	return n, f[4], true
}
