package exec

import (
	"math"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/exec/kernels"
	"github.com/quarrydb/quarry/planner/physical"
)

// Single-phase aggregates: they keep every value of a group, so they are
// never split into partial and final phases (physical.SinglePhase).

// stringAgg concatenates the non-NULL values of each group in arrival
// order (string_agg). It only runs in single mode.
type stringAgg struct {
	sep   string
	parts []strings.Builder
	seen  []bool // the group has a value (else the result is NULL)
	bytes int64
}

func (s *stringAgg) grow(n int) {
	s.parts = growTo(s.parts, n)
	s.seen = growTo(s.seen, n)
}

func (s *stringAgg) update(gids []uint32, args []arrow.Array) error {
	if len(args) != 1 {
		return sqlerr.New(sqlerr.InternalError, "string_agg takes one argument, got %d", len(args))
	}
	a, ok := args[0].(*array.String)
	if !ok {
		return mismatch("string_agg", args[0])
	}
	nulls := a.NullN() > 0
	for i, g := range gids {
		if nulls && a.IsNull(i) {
			continue
		}
		b := &s.parts[g]
		if s.seen[g] {
			b.WriteString(s.sep)
			s.bytes += int64(len(s.sep))
		}
		v := a.Value(i)
		b.WriteString(v)
		s.bytes += int64(len(v))
		s.seen[g] = true
	}
	return nil
}

// goBytes is the text held so far (charged to the query's memory).
func (s *stringAgg) goBytes() int64 { return s.bytes }

func (s *stringAgg) result(mem memory.Allocator, n int, types []arrow.DataType) ([]arrow.Array, error) {
	s.grow(n)
	b := array.NewStringBuilder(mem)
	defer b.Release()
	b.Reserve(n)
	for g := 0; g < n; g++ {
		if !s.seen[g] {
			b.AppendNull()
			continue
		}
		b.Append(s.parts[g].String())
	}
	return []arrow.Array{b.NewArray()}, nil
}

// quantileAgg keeps each group's non-NULL values and returns their exact
// quantile (percentile_cont / percentile_disc). It only runs in single
// mode.
type quantileAgg struct {
	frac float64
	disc bool
	vals [][]float64
	n    int64
}

func (q *quantileAgg) grow(n int) { q.vals = growTo(q.vals, n) }

func (q *quantileAgg) update(gids []uint32, args []arrow.Array) error {
	if len(args) != 1 {
		return sqlerr.New(sqlerr.InternalError, "percentile takes one argument, got %d", len(args))
	}
	a, ok := args[0].(*array.Float64)
	if !ok {
		return mismatch("percentile", args[0])
	}
	nulls := a.NullN() > 0
	vs := a.Float64Values()
	for i, g := range gids {
		if nulls && a.IsNull(i) {
			continue
		}
		q.vals[g] = append(q.vals[g], vs[i])
		q.n++
	}
	return nil
}

func (q *quantileAgg) goBytes() int64 { return q.n * 8 }

func (q *quantileAgg) result(mem memory.Allocator, n int, types []arrow.DataType) ([]arrow.Array, error) {
	q.grow(n)
	b := array.NewFloat64Builder(mem)
	defer b.Release()
	b.Reserve(n)
	for g := 0; g < n; g++ {
		v := q.vals[g]
		if len(v) == 0 {
			b.AppendNull()
			continue
		}
		slices.Sort(v)
		if q.disc {
			i := int(math.Ceil(q.frac*float64(len(v)))) - 1
			b.Append(v[max(i, 0)])
			continue
		}
		pos := q.frac * float64(len(v)-1)
		lo := int(math.Floor(pos))
		hi := min(lo+1, len(v)-1)
		b.Append(v[lo] + (v[hi]-v[lo])*(pos-float64(lo)))
	}
	return []arrow.Array{b.NewArray()}, nil
}

// modeAgg counts each group's non-NULL values and returns the most
// frequent, the least of equally frequent ones (PostgreSQL's mode() WITHIN
// GROUP (ORDER BY x) takes the first in the order). Single mode only.
type modeAgg struct {
	t      arrow.DataType
	counts []map[any]int64
	n      int64
}

func (m *modeAgg) grow(n int) { m.counts = growTo(m.counts, n) }

func (m *modeAgg) update(gids []uint32, args []arrow.Array) error {
	if len(args) != 1 {
		return sqlerr.New(sqlerr.InternalError, "mode takes one argument, got %d", len(args))
	}
	a := args[0]
	for i, g := range gids {
		if a.IsNull(i) {
			continue
		}
		c := m.counts[g]
		if c == nil {
			c = map[any]int64{}
			m.counts[g] = c
		}
		v := kernels.ValueAt(a, i)
		if _, seen := c[v]; !seen {
			m.n++
		}
		c[v]++
	}
	return nil
}

// goBytes estimates the maps: a value and a count per distinct value.
func (m *modeAgg) goBytes() int64 { return m.n * 64 }

func (m *modeAgg) result(mem memory.Allocator, n int, types []arrow.DataType) ([]arrow.Array, error) {
	m.grow(n)
	b := array.NewBuilder(mem, m.t)
	defer b.Release()
	for g := 0; g < n; g++ {
		var best any
		var bestN int64
		for v, c := range m.counts[g] {
			if c > bestN || c == bestN && kernels.Compare(v, best, m.t) < 0 {
				best, bestN = v, c
			}
		}
		if err := physical.AppendValue(b, best); err != nil {
			return nil, err
		}
	}
	return []arrow.Array{b.NewArray()}, nil
}
