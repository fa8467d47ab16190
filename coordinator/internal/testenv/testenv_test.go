package testenv

import (
	"strings"
	"testing"
)

func TestCompareAnswer(t *testing.T) {
	answer := "a|b|c\nx|1.50|0.3333333\ny||2\n"
	kinds := []Kind{Text, Exact, Float}
	tests := []struct {
		got     [][]string
		ordered bool
		want    string // "" or a fragment of the message
	}{
		{[][]string{{"x", "1.5", "0.33333333"}, {"y", "", "2"}}, true, ""},
		{[][]string{{"y", "", "2"}, {"x", "1.5", "0.3333333"}}, false, ""},
		{[][]string{{"y", "", "2"}, {"x", "1.5", "0.3333333"}}, true, "row 1 column a"},
		{[][]string{{"x", "1.51", "0.3333333"}, {"y", "", "2"}}, true, "column b"},
		{[][]string{{"x", "1.5", "0.334"}, {"y", "", "2"}}, true, "column c"},
		{[][]string{{"x", "1.5", "0.3333333"}}, true, "got 1 rows, want 2"},
	}
	for i, tt := range tests {
		msg := CompareAnswer(tt.got, kinds, []string{"a", "b", "c"}, answer, tt.ordered)
		if (msg == "") != (tt.want == "") || !strings.Contains(msg, tt.want) {
			t.Errorf("case %d: %q, want %q", i, msg, tt.want)
		}
	}
}
