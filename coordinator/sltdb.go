package coordinator

import (
	"context"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/quarrydb/quarry/coordinator/slt"
	"github.com/quarrydb/quarry/planner/physical"
)

// SLTDB runs sqllogictest records on a session of the embedded engine.
type SLTDB struct {
	Session *Session
}

var _ slt.DB = (*SLTDB)(nil)

// Exec runs sql and discards any rows.
func (d *SLTDB) Exec(ctx context.Context, sql string) error {
	return d.Session.Execute(ctx, sql, discard{})
}

// Query runs sql and returns the rows of its last result set.
func (d *SLTDB) Query(ctx context.Context, sql string) (*slt.Result, error) {
	c := &RowCollector{}
	if err := d.Session.Execute(ctx, sql, c); err != nil {
		return nil, err
	}
	return &slt.Result{Columns: c.cols, Rows: c.rows}, nil
}

type discard struct{}

func (discard) Begin(*arrow.Schema) error { return nil }
func (discard) Batch(arrow.Record) error  { return nil }
func (discard) End(string, int64) error   { return nil }

// RowCollector is a ResultSink that keeps the rows of the last result set
// as Go values (GoValue's forms, which are slt.DB's): for tests, the
// sqllogictest harness and the benchmark.
type RowCollector struct {
	cols int
	rows [][]any
}

func (c *RowCollector) Begin(s *arrow.Schema) error {
	c.cols = s.NumFields()
	c.rows = nil
	return nil
}

func (c *RowCollector) Batch(rec arrow.Record) error {
	n := int(rec.NumRows())
	start := len(c.rows)
	for i := 0; i < n; i++ {
		c.rows = append(c.rows, make([]any, c.cols))
	}
	for col := 0; col < c.cols; col++ {
		arr := rec.Column(col)
		for i := 0; i < n; i++ {
			c.rows[start+i][col] = GoValue(arr, i)
		}
	}
	return nil
}

func (c *RowCollector) End(string, int64) error { return nil }

// Rows are the collected rows.
func (c *RowCollector) Rows() [][]any { return c.rows }

// GoValue returns row i of arr as nil, bool, int64, float64, string or
// slt.Numeric (decimals at their scale); dates, timestamps and intervals as
// text.
func GoValue(arr arrow.Array, i int) any {
	if arr.IsNull(i) || arr.DataType().ID() == arrow.NULL {
		return nil
	}
	switch a := arr.(type) {
	case *array.Boolean:
		return a.Value(i)
	case *array.Int8:
		return int64(a.Value(i))
	case *array.Int16:
		return int64(a.Value(i))
	case *array.Int32:
		return int64(a.Value(i))
	case *array.Int64:
		return a.Value(i)
	case *array.Float32:
		return float64(a.Value(i))
	case *array.Float64:
		return a.Value(i)
	case *array.Decimal128:
		return slt.Numeric(physical.FormatDecimal(a.Value(i), a.DataType().(*arrow.Decimal128Type).Scale))
	case *array.String:
		// Value is a view of the batch's buffer, which is reused once the
		// batch is released: copy it.
		return strings.Clone(a.Value(i))
	case *array.LargeString:
		return strings.Clone(a.Value(i))
	case *array.Date32:
		return a.Value(i).FormattedString()
	case *array.Timestamp:
		return physical.FormatTimestamp(a.Value(i))
	case *array.MonthDayNanoInterval:
		return string(physical.AppendInterval(nil, a.Value(i)))
	}
	return arr.ValueStr(i)
}
