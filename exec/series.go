package exec

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/exec/kernels"
	"github.com/quarrydb/quarry/planner/physical"
)

// seriesOp is physical.Series. It expands one input batch at a time into
// output batches of at most batchRows rows; a row's series may continue
// in the next output batch.
type seriesOp struct {
	in     Operator
	n      *physical.Series
	mem    memory.Allocator
	cur    arrow.Record // the input batch being expanded
	specs  []seriesState
	counts []int64 // per row of cur: output rows
	row    int     // next row of cur to expand
	k      int64   // its output rows already emitted
	closed bool
}

// seriesState is one series over the current input batch: its arguments
// and, while a row is being expanded, the value its next output row gets.
type seriesState struct {
	spec              physical.SeriesSpec
	temporal          bool
	start, stop, step arrow.Array
	counts            []int64 // per row: values
	next              int64
}

func newSeriesOp(n *physical.Series, in Operator, mem memory.Allocator) *seriesOp {
	op := &seriesOp{in: in, n: n, mem: mem}
	for _, s := range n.Series {
		op.specs = append(op.specs, seriesState{spec: s, temporal: s.Step.Type().ID() == arrow.INTERVAL_MONTH_DAY_NANO})
	}
	return op
}

func (s *seriesOp) Open(ctx context.Context) error { return s.in.Open(ctx) }

func (s *seriesOp) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.drop()
	return s.in.Close()
}

// drop releases the current input batch and its arguments.
func (s *seriesOp) drop() {
	if s.cur != nil {
		s.cur.Release()
		s.cur = nil
	}
	for i := range s.specs {
		st := &s.specs[i]
		for _, a := range []arrow.Array{st.start, st.stop, st.step} {
			if a != nil {
				a.Release()
			}
		}
		st.start, st.stop, st.step = nil, nil, nil
	}
}

func (s *seriesOp) Next(ctx context.Context) (arrow.Record, error) {
	for s.cur == nil || s.row == int(s.cur.NumRows()) {
		s.drop()
		b, err := s.in.Next(ctx)
		if err != nil {
			return nil, err
		}
		if err := s.load(b); err != nil {
			return nil, err
		}
	}
	return s.emit(ctx)
}

// load takes b as the current batch: evaluates the series' arguments and
// counts each row's output rows.
func (s *seriesOp) load(b arrow.Record) error {
	s.cur, s.row, s.k = b, 0, 0
	n := int(b.NumRows())
	s.counts = s.counts[:0]
	for range n {
		s.counts = append(s.counts, 0)
	}
	for i := range s.specs {
		st := &s.specs[i]
		var err error
		if st.start, err = eval(s.mem, st.spec.Start, b); err != nil {
			return err
		}
		if st.stop, err = eval(s.mem, st.spec.Stop, b); err != nil {
			return err
		}
		if st.step, err = eval(s.mem, st.spec.Step, b); err != nil {
			return err
		}
		st.counts = st.counts[:0]
		for r := range n {
			c, err := st.count(r)
			if err != nil {
				return err
			}
			st.counts = append(st.counts, c)
			s.counts[r] = max(s.counts[r], c)
		}
	}
	if s.n.Outer {
		for r := range s.counts {
			s.counts[r] = max(s.counts[r], 1)
		}
	}
	return nil
}

// count is the number of values of the series for row r.
func (st *seriesState) count(r int) (int64, error) {
	if st.start.IsNull(r) || st.stop.IsNull(r) || st.step.IsNull(r) {
		return 0, nil
	}
	start, stop := int64At(st.start, r), int64At(st.stop, r)
	if st.temporal {
		step := st.step.(*array.MonthDayNanoInterval).Value(r)
		if step == (arrow.MonthDayNanoInterval{}) {
			return 0, sqlerr.New(sqlerr.InvalidParameterValue, "step size cannot equal zero")
		}
		forward := step.Months > 0 || step.Months == 0 && (step.Days > 0 || step.Days == 0 && step.Nanoseconds > 0)
		var c int64
		for v := start; forward && v <= stop || !forward && v >= stop; v = kernels.AddInterval(v, step) {
			c++
		}
		return c, nil
	}
	step := st.step.(*array.Int64).Value(r)
	if step == 0 {
		return 0, sqlerr.New(sqlerr.InvalidParameterValue, "step size cannot equal zero")
	}
	// In unsigned arithmetic: the distance may not fit an int64.
	var dist, by uint64
	switch {
	case step > 0 && start <= stop:
		dist, by = uint64(stop)-uint64(start), uint64(step)
	case step < 0 && start >= stop:
		dist, by = uint64(start)-uint64(stop), -uint64(step)
	default:
		return 0, nil
	}
	if st.spec.Exclusive {
		if dist == 0 {
			return 0, nil
		}
		dist--
	}
	return int64(dist/by + 1), nil
}

// value returns the value of output row k of row r's series (k below its
// count) and advances to the next.
func (st *seriesState) value(r int, k int64) int64 {
	if k == 0 {
		st.next = int64At(st.start, r)
	}
	v := st.next
	if st.temporal {
		// Step by step, as PostgreSQL does: month arithmetic clamps days.
		st.next = kernels.AddInterval(v, st.step.(*array.MonthDayNanoInterval).Value(r))
	} else {
		st.next = v + st.step.(*array.Int64).Value(r)
	}
	return v
}

// emit builds the next output batch from the current input batch.
func (s *seriesOp) emit(ctx context.Context) (arrow.Record, error) {
	var idx []int32
	vals := make([][]int64, len(s.specs))
	valid := make([][]bool, len(s.specs))
	for len(idx) < batchRows && s.row < len(s.counts) {
		for ; s.k < s.counts[s.row] && len(idx) < batchRows; s.k++ {
			idx = append(idx, int32(s.row))
			for i := range s.specs {
				st := &s.specs[i]
				if s.k < st.counts[s.row] {
					vals[i] = append(vals[i], st.value(s.row, s.k))
					valid[i] = append(valid[i], true)
				} else {
					vals[i] = append(vals[i], 0)
					valid[i] = append(valid[i], false)
				}
			}
		}
		if s.k == s.counts[s.row] {
			s.row, s.k = s.row+1, 0
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	width := int(s.cur.NumCols())
	cols := make([]arrow.Array, 0, width+len(s.specs))
	if width > 0 {
		ix := fixedArray(s.mem, arrow.PrimitiveTypes.Int32, idx, nil)
		taken, err := takeRecord(computeCtx(ctx, s.mem), s.cur, ix)
		ix.Release()
		if err != nil {
			return nil, err
		}
		for _, c := range taken.Columns() {
			c.Retain()
			cols = append(cols, c)
		}
		taken.Release()
	}
	for i := range s.specs {
		t := s.n.Out.Field(width + i).Type
		var a arrow.Array
		if t.ID() == arrow.INT32 {
			narrow := make([]int32, len(vals[i]))
			for j, v := range vals[i] {
				narrow[j] = int32(v)
			}
			a = fixedArray(s.mem, t, narrow, valid[i])
		} else {
			a = fixedArray(s.mem, t, vals[i], valid[i])
		}
		cols = append(cols, a)
	}
	out := array.NewRecordBatch(s.n.Out, cols, int64(len(idx)))
	releaseAll(cols)
	return out, nil
}

// int64At is value r of an Int64 or Timestamp array.
func int64At(a arrow.Array, r int) int64 {
	if t, ok := a.(*array.Timestamp); ok {
		return int64(t.Value(r))
	}
	return a.(*array.Int64).Value(r)
}
