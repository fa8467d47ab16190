package coordinator

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quarrydb/quarry/coordinator/slt"
)

// tpchQueries are the TPC-H queries checked against the reference answers.
// Adding a query is adding its number here.
var tpchQueries = []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22}

var tpchScales = []string{"sf0.01", "sf0.1"}

func TestTPCH(t *testing.T) {
	shared := sharedDir(t)
	for _, sf := range tpchScales {
		t.Run(sf, func(t *testing.T) {
			data := filepath.Join(shared, "tpch", "data", sf)
			if _, err := os.Stat(data); err != nil {
				t.Skipf("no data for %s: %v", sf, err)
			}
			eng := newEngine(t, "tpch", SourceSpec{Name: "tpch", Path: data})
			for _, q := range tpchQueries {
				name := fmt.Sprintf("q%02d", q)
				t.Run(name, func(t *testing.T) {
					text, err := os.ReadFile(filepath.Join(shared, "tpch", "queries", name+".sql"))
					if err != nil {
						t.Fatal(err)
					}
					answer, err := os.ReadFile(filepath.Join(shared, "tpch", "answers", sf, name+".csv"))
					if err != nil {
						t.Fatal(err)
					}
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
					defer cancel()
					c := &typedCollector{}
					if err := eng.NewSession("").Execute(ctx, string(text), c); err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					ordered := strings.Contains(strings.ToLower(string(text)), "order by")
					if msg := compareAnswer(c, string(answer), ordered); msg != "" {
						t.Errorf("%s at %s: %s", name, sf, msg)
					}
				})
			}
		})
	}
}

// typedCollector keeps the last result set as Go values with its schema.
type typedCollector struct {
	valueCollector
	schema *arrow.Schema
}

func (c *typedCollector) Begin(s *arrow.Schema) error {
	c.schema = s
	return c.valueCollector.Begin(s)
}

// compareAnswer compares rows with a reference answer (pipe-separated, a
// header line, empty field = NULL): decimals and integers exactly, doubles
// within a relative 1e-6, text exactly. Without ordered, rows are compared
// as multisets.
func compareAnswer(c *typedCollector, answer string, ordered bool) string {
	// Every line after the header is a row, even an empty one: that is a
	// single NULL column (Q17 at scale 0.01).
	lines := strings.Split(strings.TrimSuffix(answer, "\n"), "\n")
	want := [][]string{}
	for _, l := range lines[1:] {
		want = append(want, strings.Split(l, "|"))
	}
	got := make([][]string, len(c.rows))
	for i, row := range c.rows {
		got[i] = make([]string, len(row))
		for j, v := range row {
			got[i][j] = textOf(v)
		}
	}
	if len(got) != len(want) {
		return fmt.Sprintf("got %d rows, want %d\ngot:  %v\nwant: %v", len(got), len(want), head(got), head(want))
	}
	if !ordered {
		sortRows(got)
		sortRows(want)
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			return fmt.Sprintf("row %d: got %d columns, want %d", i+1, len(got[i]), len(want[i]))
		}
		for j := range want[i] {
			if !sameValue(c.schema.Field(j).Type, got[i][j], want[i][j]) {
				return fmt.Sprintf("row %d column %s: got %q, want %q\ngot row:  %v\nwant row: %v",
					i+1, c.schema.Field(j).Name, got[i][j], want[i][j], got[i], want[i])
			}
		}
	}
	return ""
}

func head(rows [][]string) [][]string {
	if len(rows) > 5 {
		return rows[:5]
	}
	return rows
}

func sortRows(rows [][]string) {
	sort.Slice(rows, func(a, b int) bool { return strings.Join(rows[a], "|") < strings.Join(rows[b], "|") })
}

func textOf(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case slt.Numeric:
		return string(v)
	}
	return fmt.Sprint(v)
}

func sameValue(t arrow.DataType, got, want string) bool {
	if got == want {
		return true
	}
	if got == "" || want == "" {
		return false
	}
	switch t.ID() {
	case arrow.FLOAT32, arrow.FLOAT64:
		g, err1 := strconv.ParseFloat(got, 64)
		w, err2 := strconv.ParseFloat(want, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		return math.Abs(g-w) <= 1e-6*math.Max(math.Abs(g), math.Abs(w))
	case arrow.DECIMAL128, arrow.DECIMAL256, arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64:
		g, ok1 := new(big.Rat).SetString(got)
		w, ok2 := new(big.Rat).SetString(want)
		return ok1 && ok2 && g.Cmp(w) == 0
	}
	return false
}
