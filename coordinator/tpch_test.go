package coordinator

import (
	"context"
	"fmt"
	"github.com/quarrydb/quarry/coordinator/internal/testenv"
	"os"
	"path/filepath"
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
	runTPCH(t, tpchScales, func(eng *Engine) {})
}

// TestTPCHPartitioned runs the queries with every grouped aggregate's final
// phase partitioned over three instances, whatever the statistics say (at
// these scales they seldom ask for it).
func TestTPCHPartitioned(t *testing.T) {
	runTPCH(t, tpchScales[:1], func(eng *Engine) {
		eng.planner.PartitionGroups = -1
		eng.planner.Parallelism = 3
		eng.cfg.Parallelism = 3
	})
}

func runTPCH(t *testing.T, scales []string, setup func(*Engine)) {
	shared := testenv.SharedDir(t)
	for _, sf := range scales {
		t.Run(sf, func(t *testing.T) {
			data := filepath.Join(shared, "tpch", "data", sf)
			if _, err := os.Stat(data); err != nil {
				t.Skipf("no data for %s: %v", sf, err)
			}
			eng := newEngine(t, "tpch", SourceSpec{Name: "tpch", Path: data})
			setup(eng)
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
	RowCollector
	schema *arrow.Schema
}

func (c *typedCollector) Begin(s *arrow.Schema) error {
	c.schema = s
	return c.RowCollector.Begin(s)
}

// compareAnswer compares the collected rows with a reference answer (see
// testenv.CompareAnswer) and returns what differs, or "".
func compareAnswer(c *typedCollector, answer string, ordered bool) string {
	got := make([][]string, len(c.rows))
	for i, row := range c.rows {
		got[i] = make([]string, len(row))
		for j, v := range row {
			got[i][j] = textOf(v)
		}
	}
	kinds := make([]testenv.Kind, c.schema.NumFields())
	names := make([]string, c.schema.NumFields())
	for i, f := range c.schema.Fields() {
		kinds[i], names[i] = testenv.KindOf(f.Type), f.Name
	}
	return testenv.CompareAnswer(got, kinds, names, answer, ordered)
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
