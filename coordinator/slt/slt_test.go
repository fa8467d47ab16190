package slt

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/quarrydb/quarry/catalog/sqlerr"
)

const sample = `# comment
hash-threshold 8

statement ok
CREATE TABLE t1(a INTEGER, b INTEGER)

statement error 42P01
SELECT * FROM nope

skipif quarry
query I nosort
SELECT 1
----
2

onlyif mysql
query I nosort
SELECT 1
----
2

query IT rowsort label-1
SELECT a, b
FROM t1
----
1
NULL
2
(empty)

query R valuesort
SELECT a FROM t1
----
3 values hashing to 0c3c0de1bd6a6d09a4c9d8d5a3c8c2ad

query II nosort
SELECT 1, 2
----
1 2

halt

query I nosort
SELECT 'never'
`

func TestParse(t *testing.T) {
	recs, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	kinds := []Kind{KindHashThreshold, KindStatement, KindStatement, KindQuery, KindQuery, KindQuery, KindQuery, KindQuery, KindHalt, KindQuery}
	if len(recs) != len(kinds) {
		t.Fatalf("got %d records, want %d", len(recs), len(kinds))
	}
	for i, k := range kinds {
		if recs[i].Kind != k {
			t.Errorf("record %d: kind %v, want %v", i, recs[i].Kind, k)
		}
	}
	if recs[0].Threshold != 8 {
		t.Errorf("threshold %d", recs[0].Threshold)
	}
	if !recs[2].ExpectError || recs[2].ErrorPattern != "42P01" || recs[2].Line != 7 {
		t.Errorf("statement error record: %+v", recs[2])
	}
	if recs[3].Applies("quarry") || !recs[3].Applies("sqlite") {
		t.Errorf("skipif quarry: wrong Applies")
	}
	if recs[4].Applies("quarry") || !recs[4].Applies("mysql") {
		t.Errorf("onlyif mysql: wrong Applies")
	}
	q := recs[5]
	if q.Types != "IT" || q.Sort != RowSort || q.Label != "label-1" || q.SQL != "SELECT a, b\nFROM t1" ||
		len(q.Expected) != 4 {
		t.Errorf("query record: %+v", q)
	}
	if recs[6].HashCount != 3 || recs[6].Hash != "0c3c0de1bd6a6d09a4c9d8d5a3c8c2ad" || recs[6].Expected != nil {
		t.Errorf("hash record: %+v", recs[6])
	}
}

func TestFormatValue(t *testing.T) {
	cases := []struct {
		t    byte
		v    any
		want string
	}{
		{'I', nil, "NULL"},
		{'I', int64(-7), "-7"},
		{'I', float64(-7.9), "-7"},
		{'I', Numeric("12.99"), "12"},
		{'I', "12abc", "12"},
		{'I', "abc", "0"},
		{'I', true, "1"},
		{'R', int64(3), "3.000"},
		{'R', float64(2) / 3, "0.667"},
		{'R', Numeric("-1.005"), "-1.005"},
		{'T', "", "(empty)"},
		{'T', "a\tb", "a@b"},
		{'T', int64(5), "5"},
		{'T', float64(1), "1.0"},
		{'T', Numeric("1.50"), "1.50"},
	}
	for _, c := range cases {
		if got := FormatValue(c.t, c.v); got != c.want {
			t.Errorf("FormatValue(%c, %#v) = %q, want %q", c.t, c.v, got, c.want)
		}
	}
}

func TestHashAndSort(t *testing.T) {
	rows := [][]string{{"2", "b"}, {"1", "z"}, {"1", "a"}}
	if got := strings.Join(SortValues(RowSort, rows), ","); got != "1,a,1,z,2,b" {
		t.Errorf("rowsort: %s", got)
	}
	if got := strings.Join(SortValues(ValueSort, rows), ","); got != "1,1,2,a,b,z" {
		t.Errorf("valuesort: %s", got)
	}
	if got := strings.Join(SortValues(NoSort, rows), ","); got != "2,b,1,z,1,a" {
		t.Errorf("nosort: %s", got)
	}
	// md5 of "1\n2\n3\n".
	if got := HashValues([]string{"1", "2", "3"}); got != "c0710d6b4f15dfa88f600b0e6b624077" {
		t.Errorf("hash: %s", got)
	}
}

// fakeDB answers from a table of canned results.
type fakeDB struct {
	results map[string]*Result
	execs   []string
}

func (f *fakeDB) Exec(_ context.Context, sql string) error {
	f.execs = append(f.execs, sql)
	if strings.Contains(sql, "nope") {
		return sqlerr.New(sqlerr.UndefinedTable, "table nope does not exist")
	}
	return nil
}

func (f *fakeDB) Query(_ context.Context, sql string) (*Result, error) {
	if r, ok := f.results[sql]; ok {
		return r, nil
	}
	return nil, errors.New("no such canned query: " + sql)
}

func TestRun(t *testing.T) {
	recs, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	db := &fakeDB{results: map[string]*Result{
		"SELECT a, b\nFROM t1": {Columns: 2, Rows: [][]any{{int64(2), ""}, {int64(1), nil}}},
		"SELECT a FROM t1":     {Columns: 1, Rows: [][]any{{float64(1)}, {float64(2)}, {float64(3)}}},
		"SELECT 1, 2":          {Columns: 2, Rows: [][]any{{int64(1), int64(2)}}},
	}}
	// Make the hash record pass by computing what it should be.
	recs[6].Hash = HashValues([]string{"1.000", "2.000", "3.000"})
	r := &Runner{DB: db}
	res := r.Run(context.Background(), "sample.slt", recs)
	if res.Failed != 0 {
		for _, f := range res.Failures {
			t.Error(f)
		}
	}
	// statement ok, statement error, rowsort query, hash query, row-per-line query.
	if res.Passed != 5 || res.Skipped != 2 {
		t.Errorf("passed %d skipped %d, want 5 and 2", res.Passed, res.Skipped)
	}

	// A wrong result is reported with its line.
	db.results["SELECT 1, 2"] = &Result{Columns: 2, Rows: [][]any{{int64(1), int64(3)}}}
	res = r.Run(context.Background(), "sample.slt", recs)
	if res.Failed != 1 || res.Failures[0].Line != 36 {
		t.Errorf("want one failure at line 36, got %+v", res.Failures)
	}
}
