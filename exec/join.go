package exec

import (
	"context"
	"errors"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// buildJoinNode builds the operators of the join-like nodes (HashJoin,
// EnforceSingleRow, UnionAll).
func buildJoinNode(n physical.Node, child func(physical.Node) (Operator, error), mem memory.Allocator) (Operator, error) {
	children := n.Children()
	ins := make([]Operator, 0, len(children))
	fail := func(err error) (Operator, error) {
		for _, in := range ins {
			in.Close()
		}
		return nil, err
	}
	for _, c := range children {
		in, err := child(c)
		if err != nil {
			return fail(err)
		}
		ins = append(ins, in)
	}
	var op Operator
	var err error
	switch n := n.(type) {
	case *physical.HashJoin:
		op, err = newHashJoinOp(n, ins[0], ins[1], mem)
	case *physical.EnforceSingleRow:
		op, err = newSingleRowOp(n, ins[0], mem)
	case *physical.UnionAll:
		op, err = newUnionOp(n, ins)
	default:
		err = internalf("exec: %T is not a join-like node", n)
	}
	if err != nil {
		return fail(err)
	}
	return op, nil
}

type joinState int

const (
	stProbe     joinState = iota // generating and matching candidate pairs of the probe batch
	stLeftRest                   // emitting what the probe batch yields once all its candidates are known
	stBuildRest                  // emitting unmatched build rows (right, full)
	stDone
)

// hashJoinOp is physical.HashJoin. It consumes one side into retained
// batches indexed by a joinTable (the build side), then probes with the
// other batch by batch: candidate pairs (probe row, build row) are
// generated up to batchRows at a time, filtered by the residual evaluated
// over gathered left ++ right columns, and turned into output according to
// the join type. Rows decided only after all their candidates were seen
// (unmatched left rows, semi/anti/mark results) are emitted when the probe
// batch is exhausted; unmatched build rows of right and full joins after
// the probe side ended.
//
// The build side is Right, except that inner, left, semi and anti joins
// read both inputs alternately first (the one with fewer rows so far) and
// build on Left when it ends first: a small preserved or filtered side
// (customers without orders, orders with some late lineitem) is then
// indexed instead of the large one. Left rows are then decided after the
// probe side ended, like the unmatched build rows of a right join. Both
// distributions the planner gives these joins allow it: with Right
// broadcast every instance probes all of it; hash partitioned, an instance
// sees every row of its keys on both sides.
//
// Each instance sees only its own build side. Besides right and full joins
// (which need disjoint build shares, see physical.HashJoin), null-aware
// anti joins and null-aware mark joins depend on properties of the whole
// build side (is it empty, has it a NULL key), so they are only correct
// with a broadcast or a single-instance build, never hash-partitioned.
// With a residual, those properties are taken over the build side as a
// whole (as the contract says), not over the rows the residual accepts.
//
// Memory: build batches are retained as delivered, not copied; the chain
// links, row locations and integer hash table come from the query's
// allocator. The Go maps of string and composite keys do not.
type hashJoinOp struct {
	n           *physical.HashJoin
	left, right Operator
	mem         memory.Allocator
	schema      *arrow.Schema
	ltypes      []arrow.DataType
	rtypes      []arrow.DataType
	// residual evaluation: the schema of the pairs record (unreferenced
	// columns are NULL-typed placeholders) and which columns to gather.
	residSchema *arrow.Schema
	residCols   []bool

	built bool
	// swapped: Left is the build side and Right the probe side.
	swapped   bool
	probeIn   Operator
	probeKeys []physical.Expr
	// queue holds probe batches read while choosing the build side.
	queue    []arrow.Record
	bbatches []arrow.Record
	bkeys    [][]arrow.Array
	bcols    [][]arrow.Array // [column][batch]
	t        *joinTable
	// bmatched marks matched build rows: right and full joins, and left,
	// semi and anti joins when swapped.
	bmatched []bool

	state   joinState
	pb      arrow.Record
	pcols   [][]arrow.Array // [column]{probe column}
	heads   []int32
	pnull   []bool
	matched []bool
	row     int   // next probe row to generate candidates for
	mid     bool  // row's chain was cut: resume at at
	at      int32 // next build row of row's chain when mid
	brow    int   // next build row to consider in stBuildRest

	// Existence joins with a residual pair each probe row with one
	// candidate per pass, so a row stops at its first match instead of
	// pairing with its whole chain: active lists the rows still looking
	// (read at ar, survivors written back at aw), cur their next candidate.
	rounds bool
	active []int32
	cur    []int32
	ar, aw int

	pi, bi     []int32 // candidate pairs
	which, pos []int32 // build row locations of bi
	closed     bool
}

func newHashJoinOp(n *physical.HashJoin, left, right Operator, mem memory.Allocator) (*hashJoinOp, error) {
	ls, rs := n.Left.Schema(), n.Right.Schema()
	j := &hashJoinOp{n: n, left: left, right: right, mem: mem, schema: n.Out, state: stProbe}
	for _, f := range ls.Fields() {
		j.ltypes = append(j.ltypes, f.Type)
	}
	for _, f := range rs.Fields() {
		j.rtypes = append(j.rtypes, f.Type)
	}
	if len(n.LeftKeys) != len(n.RightKeys) {
		return nil, internalf("hash join %d: %d left keys, %d right keys", n.ID, len(n.LeftKeys), len(n.RightKeys))
	}
	keyTypes := make([]arrow.DataType, len(n.LeftKeys))
	for i := range n.LeftKeys {
		lt, rt := n.LeftKeys[i].Type(), n.RightKeys[i].Type()
		if !arrow.TypeEqual(lt, rt) {
			return nil, internalf("hash join %d: key %d is %s on the left, %s on the right", n.ID, i, lt, rt)
		}
		keyTypes[i] = lt
	}
	var want []arrow.DataType
	switch n.Type {
	case physical.InnerJoin, physical.LeftJoin, physical.RightJoin, physical.FullJoin:
		want = append(append(want, j.ltypes...), j.rtypes...)
	case physical.SemiJoin, physical.AntiJoin, physical.NullAwareAntiJoin:
		want = append(want, j.ltypes...)
	case physical.MarkJoin:
		want = append(append(want, j.ltypes...), arrow.FixedWidthTypes.Boolean)
	default:
		return nil, internalf("hash join %d: unknown join type %d", n.ID, n.Type)
	}
	if n.Out == nil || n.Out.NumFields() != len(want) {
		return nil, internalf("hash join %d: output schema does not fit a %s join", n.ID, n.Type)
	}
	for i, t := range want {
		if !arrow.TypeEqual(n.Out.Field(i).Type, t) {
			return nil, internalf("hash join %d: output column %d is %s, expected %s", n.ID, i, n.Out.Field(i).Type, t)
		}
	}
	if n.Residual != nil {
		all := append(append([]arrow.DataType{}, j.ltypes...), j.rtypes...)
		j.residCols = make([]bool, len(all))
		var err error
		markColumns(n.Residual, j.residCols, &err)
		if err != nil {
			return nil, err
		}
		fs := make([]arrow.Field, len(all))
		for i, t := range all {
			fs[i] = arrow.Field{Name: "c", Type: arrow.Null, Nullable: true}
			if j.residCols[i] {
				fs[i].Type = t
			}
		}
		j.residSchema = arrow.NewSchema(fs, nil)
	}
	j.t = newJoinTable(mem, keyTypes, n.NullsEqual)
	j.probeIn, j.probeKeys = left, n.LeftKeys
	switch n.Type {
	case physical.SemiJoin, physical.AntiJoin, physical.NullAwareAntiJoin, physical.MarkJoin:
		j.rounds = n.Residual != nil
	}
	return j, nil
}

// markColumns sets used[i] for every column e references.
func markColumns(e physical.Expr, used []bool, err *error) {
	switch e := e.(type) {
	case *physical.ColRef:
		if e.Index < 0 || e.Index >= len(used) {
			*err = internalf("join residual references column %d of %d", e.Index, len(used))
			return
		}
		used[e.Index] = true
	case *physical.Call:
		for _, a := range e.Args {
			markColumns(a, used, err)
		}
	case *physical.Case:
		for _, w := range e.Whens {
			markColumns(w, used, err)
		}
		for _, t := range e.Thens {
			markColumns(t, used, err)
		}
		if e.Else != nil {
			markColumns(e.Else, used, err)
		}
	case *physical.Literal:
	default:
		// An expression kind this walk does not know: gather everything.
		for i := range used {
			used[i] = true
		}
	}
}

func (j *hashJoinOp) Open(ctx context.Context) error {
	if err := j.right.Open(ctx); err != nil {
		return err
	}
	return j.left.Open(ctx)
}

func (j *hashJoinOp) Close() error {
	if j.closed {
		return nil
	}
	j.closed = true
	j.releaseProbe()
	releaseAll(j.queue)
	releaseAll(j.bbatches)
	for _, ks := range j.bkeys {
		releaseAll(ks)
	}
	j.queue, j.bbatches, j.bkeys, j.bcols = nil, nil, nil, nil
	j.t.release()
	err := j.left.Close()
	if rerr := j.right.Close(); err == nil {
		err = rerr
	}
	return err
}

func (j *hashJoinOp) releaseProbe() {
	if j.pb != nil {
		j.pb.Release()
		j.pb = nil
	}
}

// raceRows caps the left rows read ahead while choosing the build side:
// beyond it Right is built on as planned, whatever its size.
const raceRows = 1 << 20

// canSwap reports whether the join may build on Left: the join types
// whose output does not depend on which side is indexed, and that emit
// build rows (matched or not) only per instance's share.
func (j *hashJoinOp) canSwap() bool {
	switch j.n.Type {
	case physical.InnerJoin, physical.LeftJoin, physical.SemiJoin, physical.AntiJoin:
		return len(j.n.LeftKeys) > 0
	}
	return false
}

// race reads both inputs, always the one with fewer rows so far (Right on
// ties), until one ends or Left reaches raceRows. Right batches go to
// bbatches and Left batches to queue. It reports whether Left ended
// first, and whether Right did.
func (j *hashJoinOp) race(ctx context.Context) (leftDone, rightDone bool, err error) {
	var lrows, rrows int
	for lrows < raceRows {
		if err := ctx.Err(); err != nil {
			return false, false, err
		}
		fromLeft := lrows < rrows
		in := j.right
		if fromLeft {
			in = j.left
		}
		b, err := in.Next(ctx)
		if errors.Is(err, io.EOF) {
			return fromLeft, !fromLeft, nil
		}
		if err != nil {
			return false, false, err
		}
		if b.NumRows() == 0 {
			b.Release()
			continue
		}
		if fromLeft {
			j.queue = append(j.queue, b)
			lrows += int(b.NumRows())
		} else {
			j.bbatches = append(j.bbatches, b)
			rrows += int(b.NumRows())
		}
	}
	return false, false, nil
}

// drainInput reads in to its end, discarding what it reads.
func drainInput(ctx context.Context, in Operator) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, err := in.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		b.Release()
	}
}

// buildSide chooses the build side, consumes it and indexes it.
func (j *hashJoinOp) buildSide(ctx context.Context) error {
	buildIn, buildKeys := j.right, j.n.RightKeys
	if j.canSwap() {
		leftDone, rightDone, err := j.race(ctx)
		if err != nil {
			return err
		}
		switch {
		case leftDone:
			j.swapped, j.rounds = true, false
			j.bbatches, j.queue = j.queue, j.bbatches
			j.probeIn, j.probeKeys = j.right, j.n.RightKeys
			buildIn, buildKeys = nil, j.n.LeftKeys
		case rightDone:
			buildIn = nil
		}
	}
	for buildIn != nil {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, err := buildIn.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if b.NumRows() == 0 {
			b.Release()
			continue
		}
		j.bbatches = append(j.bbatches, b)
	}
	sizes := make([]int, len(j.bbatches))
	for bi, b := range j.bbatches {
		keys := make([]arrow.Array, len(buildKeys))
		j.bkeys = append(j.bkeys, keys)
		for i, k := range buildKeys {
			var err error
			if keys[i], err = eval(j.mem, k, b); err != nil {
				return err
			}
		}
		sizes[bi] = int(b.NumRows())
	}
	width := len(j.rtypes)
	if j.swapped {
		width = len(j.ltypes)
	}
	j.bcols = make([][]arrow.Array, width)
	for c := range j.bcols {
		j.bcols[c] = make([]arrow.Array, len(j.bbatches))
		for b, rec := range j.bbatches {
			j.bcols[c][b] = rec.Column(c)
		}
	}
	if err := j.t.build(j.bkeys, sizes); err != nil {
		return err
	}
	if j.t.kind != kindString && j.t.kind != kindCross {
		// The index holds copies of the keys; only string keys are views.
		for _, ks := range j.bkeys {
			releaseAll(ks)
		}
		j.bkeys = nil
	}
	switch j.n.Type {
	case physical.RightJoin, physical.FullJoin:
		j.bmatched = make([]bool, j.t.rows)
	case physical.LeftJoin, physical.SemiJoin, physical.AntiJoin:
		if j.swapped {
			j.bmatched = make([]bool, j.t.rows)
		}
	}
	j.pi = make([]int32, 0, batchRows)
	j.bi = make([]int32, 0, batchRows)
	if j.t.rows == 0 {
		switch {
		case j.swapped:
			// No left rows: nothing to emit whatever the right side holds.
			// It is read to its end all the same, as when it is the build
			// side: producers that feed other consumers too (a broadcast
			// across nodes) expect their outputs to be read.
			releaseAll(j.queue)
			j.queue = nil
			if err := drainInput(ctx, j.probeIn); err != nil {
				return err
			}
			j.state = stDone
		case j.n.Type == physical.InnerJoin, j.n.Type == physical.RightJoin, j.n.Type == physical.SemiJoin:
			// Nothing can match; the probe side need not be read.
			j.state = stDone
		}
	} else if j.n.Type == physical.NullAwareAntiJoin && j.t.nullKeys {
		// x NOT IN (..., NULL, ...) is never true.
		j.state = stDone
	}
	return nil
}

func (j *hashJoinOp) Next(ctx context.Context) (arrow.Record, error) {
	if j.closed {
		return nil, internalf("hash join: Next after Close")
	}
	if !j.built {
		if err := j.buildSide(ctx); err != nil {
			return nil, err
		}
		j.built = true
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		switch j.state {
		case stProbe:
			if j.pb == nil {
				more, err := j.nextProbe(ctx)
				if err != nil {
					return nil, err
				}
				if !more {
					j.state = stDone
					if j.bmatched != nil {
						j.state = stBuildRest
					}
				}
				continue
			}
			out, err := j.probeChunk()
			if err != nil {
				return nil, err
			}
			if out != nil {
				return out, nil
			}
		case stLeftRest:
			out, err := j.leftRest()
			j.releaseProbe()
			j.state = stProbe
			if err != nil {
				return nil, err
			}
			if out != nil {
				return out, nil
			}
		case stBuildRest:
			out, err := j.buildRest()
			if err != nil {
				return nil, err
			}
			if out == nil {
				j.state = stDone
				continue
			}
			return out, nil
		default:
			return nil, io.EOF
		}
	}
}

// nextProbe reads the next probe batch and looks its keys up; false at the
// end of the probe side.
func (j *hashJoinOp) nextProbe(ctx context.Context) (bool, error) {
	var b arrow.Record
	if len(j.queue) > 0 {
		b = j.queue[0]
		j.queue[0] = nil
		j.queue = j.queue[1:]
	} else {
		var err error
		b, err = j.probeIn.Next(ctx)
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
	}
	n := int(b.NumRows())
	if n == 0 {
		b.Release()
		return true, nil
	}
	j.pb = b
	keys := make([]arrow.Array, len(j.probeKeys))
	defer releaseAll(keys)
	for i, k := range j.probeKeys {
		var err error
		if keys[i], err = eval(j.mem, k, b); err != nil {
			return false, err
		}
	}
	j.heads = grow(j.heads, n)
	j.pnull = grow(j.pnull, n)
	j.matched = grow(j.matched, n)
	clear(j.matched)
	if err := j.t.lookup(keys, j.heads, j.pnull); err != nil {
		return false, err
	}
	if len(j.pcols) != int(b.NumCols()) {
		j.pcols = make([][]arrow.Array, b.NumCols())
		for c := range j.pcols {
			j.pcols[c] = make([]arrow.Array, 1)
		}
	}
	for c := range j.pcols {
		j.pcols[c][0] = b.Column(c)
	}
	j.row, j.mid = 0, false
	switch j.n.Type {
	case physical.SemiJoin, physical.AntiJoin, physical.NullAwareAntiJoin, physical.MarkJoin:
		switch {
		case j.n.Residual != nil && j.swapped:
		case j.n.Residual != nil:
			j.startRounds()
		case j.swapped:
			// A chain is one key: its rows match together.
			next, bm := j.t.next, j.bmatched
			for _, h := range j.heads {
				if h >= 0 && !bm[h] {
					for id := h; id >= 0; id = next[id] {
						bm[id] = true
					}
				}
			}
			j.state = stLeftRest
		default:
			// Existence is all that counts: no pairs needed.
			for i, h := range j.heads {
				j.matched[i] = h >= 0
			}
			j.state = stLeftRest
		}
	}
	return true, nil
}

// startRounds makes every probe row with a candidate active.
func (j *hashJoinOp) startRounds() {
	j.cur = grow(j.cur, len(j.heads))
	j.active = j.active[:0]
	for i, h := range j.heads {
		j.cur[i] = h
		if h >= 0 {
			j.active = append(j.active, int32(i))
		}
	}
	j.ar, j.aw = 0, 0
	if len(j.active) == 0 {
		j.state = stLeftRest
	}
}

// roundCandidates fills pi/bi with the current candidate of the next
// active rows and returns the range of active it took.
func (j *hashJoinOp) roundCandidates() (start, end int) {
	pi, bi := j.pi[:0], j.bi[:0]
	start = j.ar
	for _, r := range j.active[start:min(len(j.active), start+batchRows)] {
		pi = append(pi, r)
		bi = append(bi, j.cur[r])
	}
	j.ar = start + len(pi)
	j.pi, j.bi = pi, bi
	return start, j.ar
}

// advanceRound moves the unmatched rows of active[start:end] on to their
// next candidate, dropping those without one; a pass over all active rows
// starts the next round with the survivors.
func (j *hashJoinOp) advanceRound(start, end int) {
	next := j.t.next
	for _, r := range j.active[start:end] {
		if j.matched[r] {
			continue
		}
		if c := next[j.cur[r]]; c >= 0 {
			j.cur[r] = c
			j.active[j.aw] = r
			j.aw++
		}
	}
	if j.ar == len(j.active) {
		j.active = j.active[:j.aw]
		j.ar, j.aw = 0, 0
		if len(j.active) == 0 {
			j.state = stLeftRest
		}
	}
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// candidates fills pi/bi with up to batchRows pairs, resuming where the
// last call stopped. With skipBuilt it leaves out build rows already
// matched (a swapped semi or anti join only asks whether they match).
func (j *hashJoinOp) candidates(skipBuilt bool) {
	pi, bi := j.pi[:0], j.bi[:0]
	next := j.t.next
	for j.row < len(j.heads) && len(pi) < batchRows {
		id := j.heads[j.row]
		if j.mid {
			id = j.at
		}
		r := int32(j.row)
		for id >= 0 && len(pi) < batchRows {
			if !skipBuilt || !j.bmatched[id] {
				pi = append(pi, r)
				bi = append(bi, id)
			}
			id = next[id]
		}
		if id >= 0 {
			j.mid, j.at = true, id
			break
		}
		j.mid = false
		j.row++
	}
	j.pi, j.bi = pi, bi
}

// probeChunk matches the next chunk of candidate pairs and returns the
// output it yields (nil: none).
func (j *hashJoinOp) probeChunk() (arrow.Record, error) {
	typ := j.n.Type
	pairs := typ == physical.InnerJoin || typ == physical.LeftJoin || typ == physical.RightJoin || typ == physical.FullJoin
	start, end := 0, 0
	if j.rounds {
		start, end = j.roundCandidates()
	} else {
		j.candidates(j.swapped && !pairs)
		if j.row >= len(j.heads) {
			j.state = stLeftRest
		}
	}
	if len(j.pi) > 0 && j.n.Residual != nil {
		if err := j.applyResidual(); err != nil {
			return nil, err
		}
	}
	for _, r := range j.pi {
		j.matched[r] = true
	}
	if j.bmatched != nil {
		for _, b := range j.bi {
			j.bmatched[b] = true
		}
	}
	if j.rounds {
		j.advanceRound(start, end)
	}
	if !pairs || len(j.pi) == 0 {
		return nil, nil
	}
	return j.pairRecord(j.schema, nil, j.pi, j.bi)
}

// locate fills which/pos with the batch and row of each build row id (-1:
// NULL).
func (j *hashJoinOp) locate(ids []int32) {
	j.which = grow(j.which, len(ids))
	j.pos = grow(j.pos, len(ids))
	for k, id := range ids {
		if id < 0 {
			j.which[k], j.pos[k] = 0, -1
			continue
		}
		l := j.t.loc[id]
		j.which[k], j.pos[k] = int32(l>>32), int32(uint32(l))
	}
}

// pairRecord gathers probe row pi[k] (nil: NULLs) with build row bi[k]
// (nil or -1: NULLs) for every k, as left ++ right columns of schema (left
// only for semi and anti joins). When cols is not nil only the columns it
// marks are gathered and the others are NULL-typed placeholders (for the
// residual).
func (j *hashJoinOp) pairRecord(schema *arrow.Schema, cols []bool, pi, bi []int32) (arrow.Record, error) {
	n := len(bi)
	if pi != nil {
		n = len(pi)
	}
	out := make([]arrow.Array, 0, schema.NumFields())
	fail := func(err error) (arrow.Record, error) {
		releaseAll(out)
		return nil, err
	}
	// A probe batch whose rows each pair once, in order, is passed on as
	// it is (the common foreign key to primary key join).
	whole := pi != nil && j.pb != nil && isIdentity(pi, int(j.pb.NumRows()))
	located := false
	nl := len(j.ltypes)
	for c := 0; c < schema.NumFields(); c++ {
		t, sc := schema.Field(c).Type, c
		if c >= nl {
			sc = c - nl
		}
		fromProbe := (c < nl) != j.swapped
		var a arrow.Array
		var err error
		switch {
		case cols != nil && !cols[c]:
			a = array.NewNull(n)
		case fromProbe && (pi == nil || j.pb == nil):
			a = array.MakeArrayOfNull(j.mem, t, n)
		case fromProbe && whole:
			a = j.pcols[sc][0]
			a.Retain()
		case fromProbe:
			a, err = gatherColumn(j.mem, t, j.pcols[sc], nil, pi)
		case bi == nil:
			a = array.MakeArrayOfNull(j.mem, t, n)
		default:
			if !located {
				j.locate(bi)
				located = true
			}
			a, err = gatherColumn(j.mem, t, j.bcols[sc], j.which, j.pos)
		}
		if err != nil {
			return fail(err)
		}
		out = append(out, a)
	}
	rec := array.NewRecordBatch(schema, out, int64(n))
	releaseAll(out)
	return rec, nil
}

// isIdentity reports whether idx is 0, 1, ..., n-1.
func isIdentity(idx []int32, n int) bool {
	if len(idx) != n || n == 0 || idx[n-1] != int32(n-1) {
		return false
	}
	for k, v := range idx {
		if v != int32(k) {
			return false
		}
	}
	return true
}

// applyResidual keeps the candidate pairs for which the residual is true.
func (j *hashJoinOp) applyResidual() error {
	rec, err := j.pairRecord(j.residSchema, j.residCols, j.pi, j.bi)
	if err != nil {
		return err
	}
	m, err := eval(j.mem, j.n.Residual, rec)
	rec.Release()
	if err != nil {
		return err
	}
	defer m.Release()
	mask, ok := m.(*array.Boolean)
	if !ok {
		return sqlerr.New(sqlerr.DatatypeMismatch, "join condition %s is %s, not boolean", j.n.Residual, m.DataType())
	}
	k := 0
	for i := range j.pi {
		if mask.IsValid(i) && mask.Value(i) {
			j.pi[k], j.bi[k] = j.pi[i], j.bi[i]
			k++
		}
	}
	j.pi, j.bi = j.pi[:k], j.bi[:k]
	return nil
}

// leftRest returns what the exhausted probe batch yields beyond its
// matched pairs: unmatched rows (left, full, anti), matched rows (semi) or
// every row with its mark. At most one batch: its size is bounded by the
// probe batch's.
func (j *hashJoinOp) leftRest() (arrow.Record, error) {
	if j.swapped {
		// Left rows are build rows: decided after the probe side ended.
		return nil, nil
	}
	n := len(j.heads)
	var sel []int32
	pick := func(keep func(i int) bool) {
		sel = j.pi[:0]
		for i := 0; i < n; i++ {
			if keep(i) {
				sel = append(sel, int32(i))
			}
		}
		j.pi = sel
	}
	switch j.n.Type {
	case physical.InnerJoin, physical.RightJoin:
		return nil, nil
	case physical.LeftJoin, physical.FullJoin:
		pick(func(i int) bool { return !j.matched[i] })
		if len(sel) == 0 {
			return nil, nil
		}
		return j.pairRecord(j.schema, nil, sel, nullIDs(len(sel), &j.bi))
	case physical.SemiJoin:
		pick(func(i int) bool { return j.matched[i] })
	case physical.AntiJoin:
		pick(func(i int) bool { return !j.matched[i] })
	case physical.NullAwareAntiJoin:
		if j.t.rows == 0 {
			pick(func(int) bool { return true })
		} else {
			pick(func(i int) bool { return !j.matched[i] && !j.pnull[i] })
		}
	case physical.MarkJoin:
		return j.markRecord()
	}
	if len(sel) == 0 {
		return nil, nil
	}
	if len(sel) == n {
		return array.NewRecordBatch(j.schema, j.pb.Columns(), int64(n)), nil
	}
	return j.pairRecord(j.schema, nil, sel, nil)
}

func nullIDs(n int, scratch *[]int32) []int32 {
	s := grow(*scratch, n)
	for i := range s {
		s[i] = -1
	}
	*scratch = s
	return s
}

// markRecord returns the probe batch with its mark column: TRUE when
// matched; for unmatched rows NULL when null-aware and the build side is
// not empty and the row's key or some build key is NULL; FALSE otherwise.
func (j *hashJoinOp) markRecord() (arrow.Record, error) {
	n := len(j.heads)
	vals := make([]bool, n)
	valid := make([]bool, n)
	unknown := j.n.MarkNullAware && j.t.rows > 0
	for i := range vals {
		valid[i] = true
		switch {
		case j.matched[i]:
			vals[i] = true
		case unknown && (j.t.nullKeys || j.pnull[i]):
			valid[i] = false
		}
	}
	mark := boolArray(j.mem, vals, valid)
	defer mark.Release()
	cols := append(append(make([]arrow.Array, 0, n+1), j.pb.Columns()...), mark)
	return array.NewRecordBatch(j.schema, cols, int64(n)), nil
}

// buildRest returns the next batch of unmatched build rows padded with
// NULLs on the probe side (matched ones for a swapped semi join), or nil
// when there are no more.
func (j *hashJoinOp) buildRest() (arrow.Record, error) {
	want := j.swapped && j.n.Type == physical.SemiJoin
	ids := j.bi[:0]
	for j.brow < len(j.bmatched) && len(ids) < batchRows {
		if j.bmatched[j.brow] == want {
			ids = append(ids, int32(j.brow))
		}
		j.brow++
	}
	j.bi = ids
	if len(ids) == 0 {
		return nil, nil
	}
	return j.pairRecord(j.schema, nil, nil, ids)
}
