package exec

import (
	"context"
	"errors"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// hashAggOp groups its whole input, then emits the groups in batches.
type hashAggOp struct {
	n     *physical.HashAggregate
	in    Operator
	mem   memory.Allocator
	table *groupTable
	aggs  []aggregator
	// stateCols[i] lists the input columns aggregate i reads in final mode.
	stateCols [][]int
	outTypes  [][]arrow.DataType

	built  bool
	out    []arrow.Record
	closed bool
	gomem  goMemory // group maps and states, charged to the query
}

func newHashAggOp(n *physical.HashAggregate, in Operator, mem memory.Allocator) (*hashAggOp, error) {
	a := &hashAggOp{n: n, in: in, mem: mem, gomem: newGoMemory(mem)}
	nk := len(n.GroupBy)
	if n.Out.NumFields() < nk {
		return nil, sqlerr.New(sqlerr.InternalError, "aggregate %d: output has fewer columns than keys", n.ID)
	}
	keyTypes := make([]arrow.DataType, nk)
	for i := range keyTypes {
		keyTypes[i] = n.Out.Field(i).Type
	}
	outCol := nk
	inCol := nk
	for i := range n.Aggs {
		call := &n.Aggs[i]
		if call.Distinct && n.Mode != physical.AggSingle && !distinctInsensitive(call.Fn) {
			return nil, sqlerr.New(sqlerr.InternalError, "aggregate %d: DISTINCT %s in %s mode", n.ID, call.Fn, n.Mode)
		}
		nstates := 1
		switch call.Fn {
		case physical.AggAvg:
			nstates = 2
		case physical.AggVarSamp, physical.AggVarPop, physical.AggStddevSamp, physical.AggStddevPop:
			nstates = 3
		}
		if physical.TwoArg(call.Fn) {
			nstates = regrStates
		}
		nout := 1
		if n.Mode == physical.AggPartial {
			nout = nstates
		}
		if outCol+nout > n.Out.NumFields() {
			return nil, sqlerr.New(sqlerr.InternalError, "aggregate %d: output schema too short", n.ID)
		}
		types := make([]arrow.DataType, nout)
		for j := range types {
			types[j] = n.Out.Field(outCol + j).Type
		}
		outCol += nout
		a.outTypes = append(a.outTypes, types)

		// argType is the type of the values the accumulator sees first.
		var argType arrow.DataType
		var cols []int
		if n.Mode == physical.AggFinal {
			in := n.Input.Schema()
			if inCol+nstates > in.NumFields() {
				return nil, sqlerr.New(sqlerr.InternalError, "aggregate %d: input schema too short for states", n.ID)
			}
			for j := 0; j < nstates; j++ {
				cols = append(cols, inCol+j)
			}
			argType = in.Field(inCol).Type
			inCol += nstates
		} else if call.Arg != nil {
			argType = call.Arg.Type()
		}
		a.stateCols = append(a.stateCols, cols)

		agg, err := newAggregator(call, n.Mode, argType, mem)
		if err != nil {
			return nil, err
		}
		a.aggs = append(a.aggs, agg)
	}
	a.table = newGroupTable(mem, keyTypes)
	return a, nil
}

func newAggregator(call *physical.AggCall, mode physical.AggMode, argType arrow.DataType, mem memory.Allocator) (aggregator, error) {
	merge := mode == physical.AggFinal
	if call.Fn != physical.AggCountStar && argType == nil {
		return nil, sqlerr.New(sqlerr.InternalError, "%s without an argument", call.Fn)
	}
	var agg aggregator
	switch call.Fn {
	case physical.AggCountStar:
		agg = &countAgg{star: true, merge: merge}
	case physical.AggCount:
		agg = &countAgg{merge: merge}
	case physical.AggSum:
		s, err := newSummer(call.T)
		if err != nil {
			return nil, err
		}
		agg = &sumAgg{s: s}
	case physical.AggAvg:
		s, err := newSummer(physical.AvgSumType(argType))
		if err != nil {
			return nil, err
		}
		agg = &avgAgg{s: s, merge: merge, partial: mode == physical.AggPartial}
	case physical.AggMin, physical.AggMax:
		return newMinMax(argType, call.Fn == physical.AggMax)
	case physical.AggVarSamp, physical.AggVarPop, physical.AggStddevSamp, physical.AggStddevPop:
		v, err := newVarAgg(call.Fn, mode, argType)
		if err != nil {
			return nil, err
		}
		agg = v
	case physical.AggApproxCountDistinct:
		return &hllAgg{merge: merge, partial: mode == physical.AggPartial}, nil
	case physical.AggCorr, physical.AggCovarPop, physical.AggCovarSamp, physical.AggRegrSlope,
		physical.AggRegrIntercept, physical.AggRegrR2, physical.AggRegrCount, physical.AggRegrAvgX,
		physical.AggRegrAvgY, physical.AggRegrSXX, physical.AggRegrSYY, physical.AggRegrSXY:
		return &regrAgg{fn: call.Fn, merge: merge, partial: mode == physical.AggPartial}, nil
	case physical.AggStringAgg:
		agg = &stringAgg{sep: call.Separator}
	case physical.AggPercentileCont, physical.AggPercentileDisc:
		agg = &quantileAgg{frac: call.Fraction, disc: call.Fn == physical.AggPercentileDisc}
	case physical.AggMostFrequent:
		agg = &modeAgg{t: argType}
	default:
		return nil, sqlerr.New(sqlerr.UndefinedFunction, "aggregate function %s is not supported", call.Fn)
	}
	if call.Distinct && call.Fn != physical.AggCountStar {
		agg = &distinctAgg{inner: agg, mem: mem, seen: make(map[string]struct{})}
	}
	return agg, nil
}

// distinctInsensitive reports whether DISTINCT does not change fn's
// result, so that it needs no per-group set of seen values and may be split
// into partial and final phases.
func distinctInsensitive(fn string) bool {
	return fn == physical.AggMin || fn == physical.AggMax || fn == physical.AggApproxCountDistinct
}

func (a *hashAggOp) Open(ctx context.Context) error { return a.in.Open(ctx) }

func (a *hashAggOp) Close() error {
	if a.closed {
		return nil
	}
	a.closed = true
	releaseAll(a.out)
	a.out = nil
	a.table.release()
	a.aggs = nil
	a.gomem.release()
	return a.in.Close()
}

func (a *hashAggOp) Next(ctx context.Context) (arrow.Record, error) {
	if !a.built {
		if err := a.build(ctx); err != nil {
			return nil, err
		}
		a.built = true
	}
	if len(a.out) == 0 {
		return nil, io.EOF
	}
	b := a.out[0]
	a.out = a.out[1:]
	return b, nil
}

func (a *hashAggOp) build(ctx context.Context) error {
	src, _ := a.in.(selSource)
	if a.n.Mode == physical.AggFinal {
		src = nil
	}
	for {
		var b arrow.Record
		var sel []int32
		var err error
		if src != nil {
			b, sel, err = src.NextSel(ctx)
		} else {
			b, err = a.in.Next(ctx)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if sel != nil {
			err = a.consumeSel(b, sel)
		} else {
			err = a.consume(b)
		}
		b.Release()
		if err != nil {
			return err
		}
		held := a.table.goBytes() + int64(a.table.n)*aggStateBytes*int64(len(a.aggs))
		for _, agg := range a.aggs {
			if g, ok := agg.(interface{ goBytes() int64 }); ok {
				held += g.goBytes()
			}
		}
		a.gomem.set(held)
	}
	ng := a.table.n
	if len(a.n.GroupBy) == 0 && ng == 0 {
		ng = 1 // a global aggregate has one row even for empty input
		a.table.n = 1
	}
	if ng == 0 {
		return nil
	}
	cols := a.table.keyArrays()
	for i, agg := range a.aggs {
		agg.grow(ng)
		res, err := agg.result(a.mem, ng, a.outTypes[i])
		if err != nil {
			releaseAll(cols)
			return err
		}
		cols = append(cols, res...)
	}
	defer releaseAll(cols)
	if len(cols) != a.n.Out.NumFields() {
		return sqlerr.New(sqlerr.InternalError, "aggregate %d produced %d columns, schema has %d", a.n.ID, len(cols), a.n.Out.NumFields())
	}
	for i, c := range cols {
		if c.Len() != ng {
			return sqlerr.New(sqlerr.InternalError, "aggregate %d: column %d has %d rows, want %d", a.n.ID, i, c.Len(), ng)
		}
	}
	for start := 0; start < ng; start += batchRows {
		end := min(start+batchRows, ng)
		slices := make([]arrow.Array, len(cols))
		for i, c := range cols {
			slices[i] = array.NewSlice(c, int64(start), int64(end))
		}
		a.out = append(a.out, array.NewRecordBatch(a.n.Out, slices, int64(end-start)))
		releaseAll(slices)
	}
	return nil
}

func (a *hashAggOp) consume(b arrow.Record) error {
	n := int(b.NumRows())
	if n == 0 {
		return nil
	}
	keys := make([]arrow.Array, len(a.n.GroupBy))
	defer releaseAll(keys)
	for i, e := range a.n.GroupBy {
		k, err := eval(a.mem, e, b)
		if err != nil {
			return err
		}
		keys[i] = k
	}
	gids, err := a.table.assign(keys, n)
	if err != nil {
		return err
	}
	ng := a.table.n
	for i, agg := range a.aggs {
		agg.grow(ng)
		var args []arrow.Array
		if a.n.Mode == physical.AggFinal {
			for _, c := range a.stateCols[i] {
				args = append(args, b.Column(c))
			}
			if err := agg.update(gids, args); err != nil {
				return err
			}
			continue
		}
		for _, e := range a.n.Aggs[i].Args() {
			v, err := eval(a.mem, e, b)
			if err != nil {
				releaseAll(args)
				return err
			}
			args = append(args, v)
		}
		err := agg.update(gids, args)
		releaseAll(args)
		if err != nil {
			return err
		}
	}
	return nil
}

// consumeSel folds rows sel of b (in a raw mode). Keys and arguments are
// computed on all rows of b; should one fail, the error may come from a
// row that is not kept, so the kept rows are copied out and consumed
// again by consume, which reports the error only if a kept row has it.
func (a *hashAggOp) consumeSel(b arrow.Record, sel []int32) error {
	keys := make([]arrow.Array, len(a.n.GroupBy))
	defer releaseAll(keys)
	args := make([][]arrow.Array, len(a.aggs))
	defer func() {
		for _, as := range args {
			releaseAll(as)
		}
	}()
	var err error
	for i, e := range a.n.GroupBy {
		if keys[i], err = eval(a.mem, e, b); err != nil {
			break
		}
	}
	for i := range a.aggs {
		for _, e := range a.n.Aggs[i].Args() {
			if err != nil {
				break
			}
			var v arrow.Array
			if v, err = eval(a.mem, e, b); err == nil {
				args[i] = append(args[i], v)
			}
		}
	}
	if err != nil {
		kept, err := gatherRecord(a.mem, b, sel)
		if err != nil {
			return err
		}
		defer kept.Release()
		return a.consume(kept)
	}
	gids, err := a.table.assignSel(a.mem, keys, sel)
	if err != nil {
		return err
	}
	ng := a.table.n
	for i, agg := range a.aggs {
		agg.grow(ng)
		in := args[i]
		if su, ok := agg.(selUpdater); ok {
			done, err := su.updateSel(gids, sel, in)
			if err != nil {
				return err
			}
			if done {
				continue
			}
		}
		g, err := gatherArrays(a.mem, in, sel)
		if err != nil {
			return err
		}
		err = agg.update(gids, g)
		releaseAll(g)
		if err != nil {
			return err
		}
	}
	return nil
}

// takeArray gathers rows idx of arr.
func takeArray(mem memory.Allocator, arr, idx arrow.Array) (arrow.Array, error) {
	return compute.TakeArray(computeCtx(context.Background(), mem), arr, idx)
}
