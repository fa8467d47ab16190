package main

import (
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/quarrydb/quarry/coordinator/slt"
)

// kind orders values of different kinds when rows are sorted.
type kind uint8

const (
	kNull kind = iota
	kBool
	kNum
	kText
)

// value is one result cell in an engine-neutral form: numbers (integers,
// decimals, doubles) compare numerically, everything else (dates, text) by
// its text.
type value struct {
	kind kind
	num  float64
	text string // the value as printed (numbers too, for messages)
}

func (v value) String() string {
	if v.kind == kNull {
		return "NULL"
	}
	return v.text
}

func numValue(f float64, text string) value { return value{kind: kNum, num: f, text: text} }

// fromGo converts a value produced by coordinator.GoValue (Quarry) or by
// database/sql scanning into any (DuckDB).
func fromGo(x any) (value, error) {
	switch x := x.(type) {
	case nil:
		return value{kind: kNull}, nil
	case bool:
		return value{kind: kBool, text: strconv.FormatBool(x)}, nil
	case int8:
		return numValue(float64(x), strconv.FormatInt(int64(x), 10)), nil
	case int16:
		return numValue(float64(x), strconv.FormatInt(int64(x), 10)), nil
	case int32:
		return numValue(float64(x), strconv.FormatInt(int64(x), 10)), nil
	case int64:
		return numValue(float64(x), strconv.FormatInt(x, 10)), nil
	case int:
		return numValue(float64(x), strconv.Itoa(x)), nil
	case uint8:
		return numValue(float64(x), strconv.FormatUint(uint64(x), 10)), nil
	case uint16:
		return numValue(float64(x), strconv.FormatUint(uint64(x), 10)), nil
	case uint32:
		return numValue(float64(x), strconv.FormatUint(uint64(x), 10)), nil
	case uint64:
		return numValue(float64(x), strconv.FormatUint(x, 10)), nil
	case float32:
		return numValue(float64(x), strconv.FormatFloat(float64(x), 'g', -1, 32)), nil
	case float64:
		return numValue(x, strconv.FormatFloat(x, 'g', -1, 64)), nil
	case *big.Int: // DuckDB HUGEINT
		f, _ := new(big.Float).SetInt(x).Float64()
		return numValue(f, x.String()), nil
	case duckdb.Decimal:
		return numValue(x.Float64(), x.String()), nil
	case slt.Numeric: // Quarry decimals, printed at their scale
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return value{}, fmt.Errorf("decimal %q: %w", string(x), err)
		}
		return numValue(f, string(x)), nil
	case string:
		return value{kind: kText, text: x}, nil
	case []byte:
		return value{kind: kText, text: string(x)}, nil
	case time.Time:
		// Quarry prints dates as YYYY-MM-DD; DuckDB hands them over as
		// midnight UTC.
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Nanosecond() == 0 {
			return value{kind: kText, text: x.Format("2006-01-02")}, nil
		}
		return value{kind: kText, text: x.Format("2006-01-02 15:04:05.999999")}, nil
	}
	return value{}, fmt.Errorf("unsupported result value %T (%v)", x, x)
}

// relTol is the relative tolerance of numeric comparisons: engines may sum
// doubles in different orders, and may type an average as DECIMAL or DOUBLE.
const relTol = 1e-6

func sameValue(a, b value) bool {
	if a.kind != b.kind {
		return false
	}
	switch a.kind {
	case kNull:
		return true
	case kNum:
		if a.num == b.num {
			return true
		}
		return math.Abs(a.num-b.num) <= relTol*math.Max(math.Abs(a.num), math.Abs(b.num))
	}
	return a.text == b.text
}

func cmpValue(a, b value) int {
	if a.kind != b.kind {
		return int(a.kind) - int(b.kind)
	}
	switch a.kind {
	case kNum:
		switch {
		case a.num < b.num:
			return -1
		case a.num > b.num:
			return 1
		}
		return 0
	case kNull:
		return 0
	}
	return strings.Compare(a.text, b.text)
}

func sortRows(rows [][]value) {
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		for k := 0; k < len(a) && k < len(b); k++ {
			if c := cmpValue(a[k], b[k]); c != 0 {
				return c < 0
			}
		}
		return len(a) < len(b)
	})
}

// hasOrderBy tells whether the row order of a query's result is defined.
// Good enough for the TPC-H texts, where an ORDER BY is always the outermost.
func hasOrderBy(sql string) bool {
	return strings.Contains(strings.Join(strings.Fields(strings.ToLower(sql)), " "), "order by")
}

// compareResults checks that got (Quarry) agrees with want (DuckDB): the same
// number of rows and columns, and equal values row by row, in order when
// ordered and as sorted multisets otherwise. It returns "" when they agree.
func compareResults(got, want [][]value, ordered bool) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d rows, DuckDB has %d", len(got), len(want))
	}
	if !ordered {
		return compareRows(sorted(got), sorted(want))
	}
	msg := compareRows(got, want)
	if msg != "" && compareRows(sorted(got), sorted(want)) == "" {
		return "same rows in another order: " + msg
	}
	return msg
}

func compareRows(got, want [][]value) string {
	for i := range want {
		if len(got[i]) != len(want[i]) {
			return fmt.Sprintf("row %d: %d columns, DuckDB has %d", i+1, len(got[i]), len(want[i]))
		}
		for j := range want[i] {
			if !sameValue(got[i][j], want[i][j]) {
				return fmt.Sprintf("row %d column %d: %s, DuckDB has %s (row %s vs %s)",
					i+1, j+1, got[i][j], want[i][j], rowText(got[i]), rowText(want[i]))
			}
		}
	}
	return ""
}

func rowText(row []value) string {
	parts := make([]string, len(row))
	for i, v := range row {
		parts[i] = v.String()
	}
	return strings.Join(parts, "|")
}

// sorted returns a sorted copy of rows.
func sorted(rows [][]value) [][]value {
	c := append([][]value(nil), rows...)
	sortRows(c)
	return c
}
