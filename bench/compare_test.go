package main

import (
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/quarrydb/quarry/coordinator/slt"
)

func vals(t *testing.T, xs ...any) []value {
	t.Helper()
	out := make([]value, len(xs))
	for i, x := range xs {
		v, err := fromGo(x)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = v
	}
	return out
}

func TestCompareResults(t *testing.T) {
	date := time.Date(1995, 3, 15, 0, 0, 0, 0, time.UTC)
	dec := duckdb.Decimal{Width: 38, Scale: 2, Value: big.NewInt(1234567)}
	tests := []struct {
		name      string
		got, want [][]any
		ordered   bool
		wantMsg   string // substring; "" means they agree
	}{
		{"decimal vs numeric text", [][]any{{slt.Numeric("12345.67")}}, [][]any{{dec}}, true, ""},
		{"int sizes", [][]any{{int64(7)}}, [][]any{{int32(7)}}, true, ""},
		{"double within 1e-6", [][]any{{1.0000001}}, [][]any{{1.0}}, true, ""},
		{"double beyond 1e-6", [][]any{{1.00001}}, [][]any{{1.0}}, true, "column 1"},
		{"decimal vs double", [][]any{{slt.Numeric("0.05")}}, [][]any{{0.05000000001}}, true, ""},
		{"date vs time", [][]any{{"1995-03-15"}}, [][]any{{date}}, true, ""},
		{"text exact", [][]any{{"Brand#12"}}, [][]any{{"Brand#13"}}, true, "Brand#12"},
		{"nulls", [][]any{{nil}}, [][]any{{nil}}, true, ""},
		{"null vs zero", [][]any{{nil}}, [][]any{{int64(0)}}, true, "NULL"},
		{"row count", [][]any{{int64(1)}}, [][]any{{int64(1)}, {int64(2)}}, false, "1 rows, DuckDB has 2"},
		{"unordered any order", [][]any{{"b", int64(2)}, {"a", int64(1)}}, [][]any{{"a", int64(1)}, {"b", int64(2)}}, false, ""},
		{"ordered order matters", [][]any{{"b"}, {"a"}}, [][]any{{"a"}, {"b"}}, true, "another order"},
		{"ordered different rows", [][]any{{"c"}, {"a"}}, [][]any{{"a"}, {"b"}}, true, "row 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conv := func(rows [][]any) [][]value {
				out := make([][]value, len(rows))
				for i, r := range rows {
					out[i] = vals(t, r...)
				}
				return out
			}
			msg := compareResults(conv(tt.got), conv(tt.want), tt.ordered)
			if tt.wantMsg == "" && msg != "" {
				t.Fatalf("want agreement, got %q", msg)
			}
			if tt.wantMsg != "" && !strings.Contains(msg, tt.wantMsg) {
				t.Fatalf("want a message containing %q, got %q", tt.wantMsg, msg)
			}
		})
	}
}

func TestHasOrderBy(t *testing.T) {
	if !hasOrderBy("SELECT 1\nORDER\n  BY 1") || hasOrderBy("SELECT sum(x) FROM t") {
		t.Fatal("hasOrderBy")
	}
}

func TestParseQueryList(t *testing.T) {
	got, err := parseQueryList("5-7, 1,6")
	if err != nil || !slices.Equal(got, []int{1, 5, 6, 7}) {
		t.Fatalf("got %v, %v", got, err)
	}
	for _, bad := range []string{"0", "23", "3-1", "x"} {
		if _, err := parseQueryList(bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

func TestMedian(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Fatal(m)
	}
	if m := median([]float64{4, 1, 2, 3}); m != 2.5 {
		t.Fatal(m)
	}
}
