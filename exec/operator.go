package exec

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	cexec "github.com/apache/arrow-go/v18/arrow/compute/exec"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/exec/kernels"
	"github.com/quarrydb/quarry/planner/physical"
)

// Operator is a pull-based vectorized operator. Next returns io.EOF at the
// end of the stream and never returns a batch with zero rows; the caller
// releases every batch it receives. Close is idempotent and releases
// everything the operator still holds, including its children.
type Operator interface {
	Open(ctx context.Context) error
	Next(ctx context.Context) (arrow.Record, error)
	Close() error
}

// Receiver is the inbound side of an exchange as one consumer instance sees
// it: the batches of all producer instances, then io.EOF.
type Receiver interface {
	Next(ctx context.Context) (arrow.Record, error)
}

// StatsCounter accumulates one node's figures over all its instances.
type StatsCounter struct {
	Rows, Batches, Bytes, Nanos atomic.Int64
}

// Env is what the operators of one fragment instance share with the
// runtime that runs them.
type Env struct {
	// Alloc is the (accounting) allocator of the query.
	Alloc memory.Allocator
	// Instance is the index of this instance within its fragment, of
	// Instances (0 is taken as 1).
	Instance, Instances int
	// scans returns what a scan node shares with the other instances of
	// its fragment on this node: its split source and row count.
	scans func(*physical.ParquetScan) *scanShare
	// Inbound returns this instance's receiving end of the exchange an
	// exchange source reads.
	Inbound func(*physical.ExchangeSource) (Receiver, error)
	// Stats returns the counter of a node, or nil not to measure it.
	Stats func(nodeID int) *StatsCounter
	// work are the working tables of the recursive unions being built
	// around this subtree, by ID.
	work map[int]*[]arrow.Record
}

// batchRows is the most rows an operator puts in one output batch.
const batchRows = 64 * 1024

// Build turns a physical plan tree (one fragment's) into operators.
func Build(n physical.Node, env *Env) (Operator, error) {
	if env.Alloc == nil {
		env.Alloc = memory.DefaultAllocator
	}
	return build(n, env, nil)
}

func build(n physical.Node, env *Env, parent *statsOp) (Operator, error) {
	var w *statsOp
	if env.Stats != nil {
		if c := env.Stats(n.NodeID()); c != nil {
			w = &statsOp{c: c, parent: parent}
		}
	}
	child := func(c physical.Node) (Operator, error) { return build(c, env, w) }
	var op Operator
	mem := env.Alloc
	switch n := n.(type) {
	case *physical.ParquetScan:
		if env.scans == nil {
			return nil, sqlerr.New(sqlerr.InternalError, "scan %d built without a split source", n.ID)
		}
		op = newScanOp(n, env.scans(n), mem)
	case *physical.Values:
		op = &valuesOp{batches: n.Batches, i: env.Instance, step: max(env.Instances, 1)}
	case *physical.ExchangeSource:
		if env.Inbound == nil {
			return nil, sqlerr.New(sqlerr.InternalError, "exchange source %d built without inbound exchanges", n.ID)
		}
		r, err := env.Inbound(n)
		if err != nil {
			return nil, err
		}
		op = &exchangeSourceOp{r: r}
	case *physical.Filter:
		in, err := child(n.Input)
		if err != nil {
			return nil, err
		}
		op = &filterOp{in: in, pred: n.Pred, mem: mem}
	case *physical.Project:
		in, err := child(n.Input)
		if err != nil {
			return nil, err
		}
		op = &projectOp{in: in, exprs: n.Exprs, schema: n.Out, mem: mem}
	case *physical.Expand:
		in, err := child(n.Input)
		if err != nil {
			return nil, err
		}
		op = &expandOp{in: in, n: n, mem: mem}
	case *physical.Series:
		in, err := child(n.Input)
		if err != nil {
			return nil, err
		}
		op = newSeriesOp(n, in, mem)
	case *physical.HashAggregate:
		in, err := child(n.Input)
		if err != nil {
			return nil, err
		}
		a, err := newHashAggOp(n, in, mem)
		if err != nil {
			in.Close()
			return nil, err
		}
		op = a
	case *physical.Sort:
		in, err := child(n.Input)
		if err != nil {
			return nil, err
		}
		op = &sortOp{in: in, keys: n.Keys, schema: n.Out, mem: mem, limit: -1}
	case *physical.TopN:
		in, err := child(n.Input)
		if err != nil {
			return nil, err
		}
		op = &sortOp{in: in, keys: n.Keys, schema: n.Out, mem: mem, offset: n.Offset, limit: n.N}
	case *physical.Limit:
		in, err := child(n.Input)
		if err != nil {
			return nil, err
		}
		op = &limitOp{in: in, skip: n.Offset, left: n.N}
	case *physical.Window:
		in, err := child(n.Input)
		if err != nil {
			return nil, err
		}
		w, err := newWindowOp(n, in, mem)
		if err != nil {
			in.Close()
			return nil, err
		}
		op = w
	case *physical.RecursiveUnion:
		anchor, err := child(n.Anchor)
		if err != nil {
			return nil, err
		}
		op = &recursiveOp{n: n, anchor: anchor, mem: mem, build: func(work *[]arrow.Record) (Operator, error) {
			// Each pass scans its tables anew, in this one instance.
			step := *env
			step.Instance, step.Instances = 0, 1
			step.scans = func(s *physical.ParquetScan) *scanShare { return newScanShare(s, NewSplitQueue(s)) }
			step.work = map[int]*[]arrow.Record{n.WorkTable: work}
			for id, w := range env.work {
				if id != n.WorkTable {
					step.work[id] = w
				}
			}
			return build(n.Step, &step, w)
		}}
	case *physical.WorkTableScan:
		work, ok := env.work[n.WorkTable]
		if !ok {
			return nil, sqlerr.New(sqlerr.InternalError, "exec: work table %d read outside its recursive union", n.WorkTable)
		}
		op = &workTableOp{work: work}
	case *physical.HashJoin, *physical.EnforceSingleRow, *physical.UnionAll:
		o, err := buildJoinNode(n, child, mem)
		if err != nil {
			return nil, err
		}
		op = o
	default:
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "exec: unsupported plan node %T", n)
	}
	if w != nil {
		w.in = op
		return w, nil
	}
	return op, nil
}

// statsOp measures the operator it wraps. Time spent in children's Next
// (measured by their own wrappers) is subtracted so Nanos is exclusive.
type statsOp struct {
	in        Operator
	c         *StatsCounter
	parent    *statsOp
	childTime int64 // inclusive nanos of children's Next calls; one goroutine
}

func (s *statsOp) Open(ctx context.Context) error { return s.in.Open(ctx) }
func (s *statsOp) Close() error                   { return s.in.Close() }

func (s *statsOp) Next(ctx context.Context) (arrow.Record, error) {
	start := time.Now()
	before := s.childTime
	b, err := s.in.Next(ctx)
	d := time.Since(start).Nanoseconds()
	s.c.Nanos.Add(d - (s.childTime - before))
	if s.parent != nil {
		s.parent.childTime += d
	}
	if b != nil {
		s.c.Rows.Add(b.NumRows())
		s.c.Batches.Add(1)
		s.c.Bytes.Add(recordBytes(b, b.NumRows()))
	}
	return b, err
}

// NextSel passes a selection through from an input that hands them out
// (see selSource), counting the kept rows.
func (s *statsOp) NextSel(ctx context.Context) (arrow.Record, []int32, error) {
	src, ok := s.in.(selSource)
	if !ok {
		b, err := s.Next(ctx)
		return b, nil, err
	}
	start := time.Now()
	before := s.childTime
	b, sel, err := src.NextSel(ctx)
	d := time.Since(start).Nanoseconds()
	s.c.Nanos.Add(d - (s.childTime - before))
	if s.parent != nil {
		s.parent.childTime += d
	}
	if b != nil {
		n := b.NumRows()
		if sel != nil {
			n = int64(len(sel))
		}
		s.c.Rows.Add(n)
		s.c.Batches.Add(1)
		s.c.Bytes.Add(recordBytes(b, n))
	}
	return b, sel, err
}

// recordBytes estimates the bytes of n of b's rows: the values they hold,
// not the buffers they happen to share with other slices.
func recordBytes(b arrow.Record, n int64) int64 {
	rows := b.NumRows()
	if rows == 0 {
		return 0
	}
	var total int64
	for _, c := range b.Columns() {
		total += arrayBytes(c)
	}
	return total * n / rows
}

func arrayBytes(a arrow.Array) int64 {
	n := int64(a.Len())
	if n == 0 {
		return 0
	}
	switch a := a.(type) {
	case *array.String:
		offs := a.ValueOffsets()
		return int64(offs[len(offs)-1]-offs[0]) + 4*n
	case *array.Binary:
		offs := a.ValueOffsets()
		return int64(offs[len(offs)-1]-offs[0]) + 4*n
	}
	if fw, ok := a.DataType().(arrow.FixedWidthDataType); ok {
		return n * int64(max(fw.BitWidth()/8, 1))
	}
	var total int64
	for _, buf := range a.Data().Buffers() {
		if buf != nil {
			total += int64(buf.Len())
		}
	}
	return total
}

// computeCtx carries the allocator to arrow's compute functions.
func computeCtx(ctx context.Context, mem memory.Allocator) context.Context {
	return cexec.WithAllocator(ctx, mem)
}

// eval evaluates e over rec; column references skip the kernels.
func eval(mem memory.Allocator, e physical.Expr, rec arrow.Record) (arrow.Array, error) {
	if c, ok := e.(*physical.ColRef); ok {
		if c.Index < 0 || c.Index >= int(rec.NumCols()) {
			return nil, sqlerr.New(sqlerr.InternalError, "column reference %s out of range (%d columns)", c, rec.NumCols())
		}
		col := rec.Column(c.Index)
		col.Retain()
		return col, nil
	}
	arr, err := kernels.Eval(mem, e, rec)
	if err != nil {
		return nil, err
	}
	if arr.Len() != int(rec.NumRows()) {
		arr.Release()
		return nil, sqlerr.New(sqlerr.InternalError, "expression %s produced %d values for %d rows", e, arr.Len(), rec.NumRows())
	}
	return arr, nil
}

func releaseAll[T interface{ Release() }](xs []T) {
	for _, x := range xs {
		if any(x) != nil {
			x.Release()
		}
	}
}

func internalf(format string, args ...any) error {
	return sqlerr.New(sqlerr.InternalError, "%s", fmt.Sprintf(format, args...))
}

// EvalConst evaluates an expression without column references, for the
// planner's constant folding.
func EvalConst(e physical.Expr) (any, error) { return kernels.EvalConst(e) }
