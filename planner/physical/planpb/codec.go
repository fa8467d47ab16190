// Package planpb owns the wire form of physical plans: the protobuf schema
// in plan.proto and the codec between it and package physical, with which
// the coordinator ships plan fragments to executor processes.
package planpb

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/planner/physical"
	"google.golang.org/protobuf/proto"
)

// Marshal encodes p. It fails on node, expression or literal value types
// the wire form does not know rather than dropping them.
func Marshal(p *physical.Plan) ([]byte, error) {
	if p == nil || len(p.Fragments) == 0 {
		return nil, errors.New("planpb: plan has no fragments")
	}
	e := encoder{schemas: map[*arrow.Schema][]byte{}, types: map[string][]byte{}}
	m := &Plan{Names: p.Names}
	for _, o := range p.Origins {
		m.Origins = append(m.Origins, &ColumnOrigin{Schema: o.Schema, Table: o.Table, Column: int64(o.Column)})
	}
	for _, f := range p.Fragments {
		if f == nil {
			return nil, errors.New("planpb: nil fragment")
		}
		out, err := enumToPB[Distribution](f.Output, Distribution_name)
		if err != nil {
			return nil, fmt.Errorf("planpb: fragment %d: %w", f.ID, err)
		}
		root, err := e.node(f.Root)
		if err != nil {
			return nil, fmt.Errorf("planpb: fragment %d: %w", f.ID, err)
		}
		m.Fragments = append(m.Fragments, &Fragment{
			Id: int64(f.ID), Root: root, Parallelism: int64(f.Parallelism), Consumer: int64(f.Consumer),
			Output: out, OutputKeys: ints64(f.OutputKeys), Ports: ints64(f.Ports),
		})
	}
	b, err := proto.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("planpb: %w", err)
	}
	return b, nil
}

// Unmarshal decodes a plan written by Marshal. Values batches are allocated
// from alloc (nil: memory.DefaultAllocator) and belong to the plan: release
// them with Plan.Release. The plan is checked for what executors rely on
// without checking (children and expressions present, column indices in
// range), so that a malformed message fails here instead of panicking there.
func Unmarshal(data []byte, alloc memory.Allocator) (*physical.Plan, error) {
	if alloc == nil {
		alloc = memory.DefaultAllocator
	}
	var m Plan
	if err := proto.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("planpb: %w", err)
	}
	d := decoder{alloc: alloc, schemas: map[string]*arrow.Schema{}}
	p, err := d.plan(&m)
	if err != nil {
		for _, r := range d.batches {
			r.Release()
		}
		return nil, fmt.Errorf("planpb: %w", err)
	}
	return p, nil
}

type encoder struct {
	// Plans repeat a handful of schemas and types many times; IPC-encoding
	// each once keeps Marshal cheap.
	schemas map[*arrow.Schema][]byte
	types   map[string][]byte // by fingerprint, for non-nested types only
}

func (e *encoder) schema(s *arrow.Schema) ([]byte, error) {
	if s == nil {
		return nil, errors.New("missing schema")
	}
	if b, ok := e.schemas[s]; ok {
		return b, nil
	}
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(s))
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("schema %s: %w", s, err)
	}
	e.schemas[s] = buf.Bytes()
	return buf.Bytes(), nil
}

// dataType encodes t as the one field of a schema: IPC has no message for
// a lone type.
func (e *encoder) dataType(t arrow.DataType) ([]byte, error) {
	if isNil(t) {
		return nil, errors.New("missing type")
	}
	// Field fingerprints omit metadata, so nested types are not cached.
	_, nested := t.(arrow.NestedType)
	fp := t.Fingerprint()
	cache := fp != "" && !nested
	if b, ok := e.types[fp]; ok && cache {
		return b, nil
	}
	b, err := e.schema(arrow.NewSchema([]arrow.Field{{Type: t, Nullable: true}}, nil))
	if err == nil && cache {
		e.types[fp] = b
	}
	return b, err
}

func (e *encoder) node(n physical.Node) (*Node, error) {
	if isNil(n) {
		return nil, errors.New("missing node")
	}
	schema, err := e.schema(n.Schema())
	if err != nil {
		return nil, fmt.Errorf("node %d: %w", n.NodeID(), err)
	}
	m := &Node{Id: int64(n.NodeID()), Schema: schema}
	switch x := n.(type) {
	case *physical.ParquetScan:
		err = e.scan(m, x)
	case *physical.Values:
		err = e.values(m, x)
	case *physical.Filter:
		k := &Filter{}
		m.Kind = &Node_Filter{k}
		k.Input, err = e.node(x.Input)
		k.Pred = e.expr(x.Pred, &err)
	case *physical.Project:
		k := &Project{}
		m.Kind = &Node_Project{k}
		k.Input, err = e.node(x.Input)
		k.Exprs = e.exprs(x.Exprs, &err)
	case *physical.HashAggregate:
		err = e.aggregate(m, x)
	case *physical.Sort:
		k := &Sort{Keys: sortKeys(x.Keys)}
		m.Kind = &Node_Sort{k}
		k.Input, err = e.node(x.Input)
	case *physical.TopN:
		k := &TopN{Keys: sortKeys(x.Keys), Offset: x.Offset, N: x.N}
		m.Kind = &Node_TopN{k}
		k.Input, err = e.node(x.Input)
	case *physical.Limit:
		k := &Limit{Offset: x.Offset, N: x.N}
		m.Kind = &Node_Limit{k}
		k.Input, err = e.node(x.Input)
	case *physical.ExchangeSource:
		m.Kind = &Node_ExchangeSource{&ExchangeSource{Fragment: int64(x.Fragment), Port: int64(x.Port)}}
	case *physical.HashJoin:
		err = e.join(m, x)
	case *physical.EnforceSingleRow:
		k := &EnforceSingleRow{}
		m.Kind = &Node_EnforceSingleRow{k}
		k.Input, err = e.node(x.Input)
	case *physical.UnionAll:
		k := &UnionAll{}
		m.Kind = &Node_UnionAll{k}
		for _, in := range x.Inputs {
			c, cerr := e.node(in)
			err = errors.Join(err, cerr)
			k.Inputs = append(k.Inputs, c)
		}
	case *physical.Window:
		err = e.window(m, x)
	case *physical.Expand:
		k := &Expand{}
		m.Kind = &Node_Expand{k}
		k.Input, err = e.node(x.Input)
		for _, p := range x.Projections {
			k.Projections = append(k.Projections, &ExprList{Exprs: e.exprs(p, &err)})
		}
	case *physical.RecursiveUnion:
		k := &RecursiveUnion{WorkTable: int64(x.WorkTable), Distinct: x.Distinct}
		m.Kind = &Node_RecursiveUnion{k}
		var err1, err2 error
		k.Anchor, err1 = e.node(x.Anchor)
		k.Step, err2 = e.node(x.Step)
		err = errors.Join(err1, err2)
	case *physical.WorkTableScan:
		m.Kind = &Node_WorkTableScan{&WorkTableScan{WorkTable: int64(x.WorkTable)}}
	case *physical.Series:
		k := &Series{Outer: x.Outer}
		m.Kind = &Node_Series{k}
		k.Input, err = e.node(x.Input)
		for _, s := range x.Series {
			k.Series = append(k.Series, &SeriesSpec{Start: e.expr(s.Start, &err), Stop: e.expr(s.Stop, &err),
				Step: e.expr(s.Step, &err), Exclusive: s.Exclusive})
		}
	default:
		return nil, fmt.Errorf("node %d: unknown node type %T", n.NodeID(), n)
	}
	if err != nil {
		return nil, fmt.Errorf("%T node %d: %w", n, n.NodeID(), err)
	}
	return m, nil
}

func (e *encoder) scan(m *Node, x *physical.ParquetScan) error {
	k := &ParquetScan{Table: x.Table, Limit: x.Limit, Pruned: int64(x.Pruned)}
	m.Kind = &Node_ParquetScan{k}
	var err error
	for _, f := range x.Files {
		pf := &ScanFile{Path: []byte(f.Path), RowGroups: ints64(f.RowGroups), Rows: f.Rows, Size: f.Size, ModTime: f.ModTime}
		for _, v := range f.PartitionValues {
			pv, verr := valueToPB(v)
			err = errors.Join(err, verr)
			pf.PartitionValues = append(pf.PartitionValues, pv)
		}
		k.Files = append(k.Files, pf)
	}
	for _, c := range x.Columns {
		t, terr := e.dataType(c.T)
		err = errors.Join(err, terr)
		k.Columns = append(k.Columns, &ScanColumn{Name: c.Name, FileColumn: int64(c.FileColumn), Partition: int64(c.Partition), Type: t})
	}
	if x.Filter != nil {
		k.Filter = e.expr(x.Filter, &err)
	}
	return err
}

func (e *encoder) values(m *Node, x *physical.Values) error {
	k := &Values{Name: x.Name}
	m.Kind = &Node_Values{k}
	for _, rec := range x.Batches {
		if isNil(rec) {
			return errors.New("nil batch")
		}
		var buf bytes.Buffer
		w := ipc.NewWriter(&buf, ipc.WithSchema(rec.Schema()))
		if err := errors.Join(w.Write(rec), w.Close()); err != nil {
			return err
		}
		k.Batches = append(k.Batches, buf.Bytes())
	}
	return nil
}

func (e *encoder) aggregate(m *Node, x *physical.HashAggregate) error {
	mode, err := enumToPB[AggMode](x.Mode, AggMode_name)
	k := &HashAggregate{Mode: mode}
	m.Kind = &Node_HashAggregate{k}
	in, ierr := e.node(x.Input)
	k.Input, err = in, errors.Join(err, ierr)
	k.GroupBy = e.exprs(x.GroupBy, &err)
	for _, a := range x.Aggs {
		t, terr := e.dataType(a.T)
		err = errors.Join(err, terr)
		c := &AggCall{Fn: a.Fn, Distinct: a.Distinct, Type: t, Separator: []byte(a.Separator), Fraction: a.Fraction}
		if a.Arg != nil {
			c.Arg = e.expr(a.Arg, &err)
		}
		k.Aggs = append(k.Aggs, c)
	}
	return err
}

func (e *encoder) join(m *Node, x *physical.HashJoin) error {
	typ, err := enumToPB[JoinType](x.Type, JoinType_name)
	k := &HashJoin{Type: typ, NullsEqual: x.NullsEqual, MarkNullAware: x.MarkNullAware}
	m.Kind = &Node_HashJoin{k}
	l, lerr := e.node(x.Left)
	r, rerr := e.node(x.Right)
	k.Left, k.Right, err = l, r, errors.Join(err, lerr, rerr)
	k.LeftKeys = e.exprs(x.LeftKeys, &err)
	k.RightKeys = e.exprs(x.RightKeys, &err)
	if x.Residual != nil {
		k.Residual = e.expr(x.Residual, &err)
	}
	return err
}

func (e *encoder) window(m *Node, x *physical.Window) error {
	k := &Window{PartitionBy: ints64(x.PartitionBy), OrderBy: sortKeys(x.OrderBy)}
	m.Kind = &Node_Window{k}
	var err error
	k.Input, err = e.node(x.Input)
	for _, f := range x.Funcs {
		unit, uerr := enumToPB[FrameUnit](f.Frame.Unit, FrameUnit_name)
		start, serr := frameBoundToPB(f.Frame.Start)
		end, eerr := frameBoundToPB(f.Frame.End)
		t, terr := e.dataType(f.T)
		err = errors.Join(err, uerr, serr, eerr, terr)
		k.Funcs = append(k.Funcs, &WindowFunc{
			Fn: f.Fn, Args: e.exprs(f.Args, &err), Distinct: f.Distinct, Type: t,
			Frame: &Frame{Unit: unit, Start: start, End: end},
		})
	}
	return err
}

func frameBoundToPB(b physical.FrameBound) (*FrameBound, error) {
	kind, err := enumToPB[BoundKind](b.Kind, BoundKind_name)
	if err != nil {
		return nil, err
	}
	m := &FrameBound{Kind: kind}
	if b.Offset != nil {
		if m.Offset, err = valueToPB(b.Offset); err != nil {
			return nil, fmt.Errorf("frame offset: %w", err)
		}
	}
	return m, nil
}

// expr encodes x, joining any failure into *err so that callers building a
// message field by field check once.
func (e *encoder) expr(x physical.Expr, err *error) *Expr {
	m, xerr := e.expr1(x)
	*err = errors.Join(*err, xerr)
	return m
}

func (e *encoder) exprs(xs []physical.Expr, err *error) []*Expr {
	var out []*Expr
	for _, x := range xs {
		out = append(out, e.expr(x, err))
	}
	return out
}

func (e *encoder) expr1(x physical.Expr) (*Expr, error) {
	if isNil(x) {
		return nil, errors.New("missing expression")
	}
	t, err := e.dataType(x.Type())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", x, err)
	}
	switch x := x.(type) {
	case *physical.ColRef:
		return &Expr{Kind: &Expr_ColRef{&ColRef{Index: int64(x.Index), Type: t, Name: x.Name}}}, nil
	case *physical.Literal:
		v, err := valueToPB(x.Value)
		return &Expr{Kind: &Expr_Literal{&Literal{Value: v, Type: t}}}, err
	case *physical.Call:
		c := &Call{Fn: x.Fn, Type: t}
		c.Args = e.exprs(x.Args, &err)
		return &Expr{Kind: &Expr_Call{c}}, err
	case *physical.Case:
		c := &Case{Type: t}
		c.Whens = e.exprs(x.Whens, &err)
		c.Thens = e.exprs(x.Thens, &err)
		if x.Else != nil {
			c.Else = e.expr(x.Else, &err)
		}
		return &Expr{Kind: &Expr_Case{c}}, err
	}
	return nil, fmt.Errorf("unknown expression type %T", x)
}

// valueToPB encodes a value in Literal.Value form. Other Go types are an
// error: decoding them as something else would change the plan.
func valueToPB(v any) (*Value, error) {
	m := &Value{}
	switch v := v.(type) {
	case nil:
		m.Kind = &Value_NullValue{&Null{}}
	case bool:
		m.Kind = &Value_BoolValue{v}
	case int32:
		m.Kind = &Value_Int32Value{v}
	case int64:
		m.Kind = &Value_Int64Value{v}
	case float64:
		m.Kind = &Value_Float64Value{v}
	case decimal128.Num:
		m.Kind = &Value_Decimal128Value{&Decimal128{Hi: v.HighBits(), Lo: v.LowBits()}}
	case string:
		m.Kind = &Value_StringValue{[]byte(v)}
	case arrow.Date32:
		m.Kind = &Value_Date32Value{int32(v)}
	case arrow.Timestamp:
		m.Kind = &Value_TimestampValue{int64(v)}
	case arrow.MonthDayNanoInterval:
		m.Kind = &Value_IntervalValue{&Interval{Months: v.Months, Days: v.Days, Nanoseconds: v.Nanoseconds}}
	default:
		return nil, fmt.Errorf("unsupported value %v of type %T", v, v)
	}
	return m, nil
}

func sortKeys(ks []physical.SortKey) []*SortKey {
	var out []*SortKey
	for _, k := range ks {
		out = append(out, &SortKey{Col: int64(k.Col), Desc: k.Desc, NullsFirst: k.NullsFirst})
	}
	return out
}

func ints64(xs []int) []int64 {
	var out []int64
	for _, x := range xs {
		out = append(out, int64(x))
	}
	return out
}

// enumToPB maps a physical enum onto its wire enum, whose numbers are the
// same; a value the wire form lacks is an error.
func enumToPB[P ~int32, G ~int](g G, names map[int32]string) (P, error) {
	if _, ok := names[int32(g)]; !ok || G(int32(g)) != g {
		return 0, fmt.Errorf("unknown %T %d", g, g)
	}
	return P(g), nil
}

func enumFromPB[G ~int, P ~int32](p P, names map[int32]string) (G, error) {
	if _, ok := names[int32(p)]; !ok {
		return 0, fmt.Errorf("unknown %T %d", p, p)
	}
	return G(p), nil
}

// isNil reports a nil interface or one holding a nil pointer, which would
// panic on the first method call.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	r := reflect.ValueOf(v)
	return r.Kind() == reflect.Pointer && r.IsNil()
}

type decoder struct {
	alloc   memory.Allocator
	schemas map[string]*arrow.Schema // by IPC bytes
	batches []arrow.RecordBatch      // released if decoding fails
}

func (d *decoder) plan(m *Plan) (*physical.Plan, error) {
	if len(m.Fragments) == 0 {
		return nil, errors.New("plan has no fragments")
	}
	p := &physical.Plan{Names: m.Names}
	for _, o := range m.Origins {
		p.Origins = append(p.Origins, physical.ColumnOrigin{Schema: o.Schema, Table: o.Table, Column: int(o.Column)})
	}
	frags := map[int]bool{}
	for _, fm := range m.Fragments {
		frags[int(fm.Id)] = true
	}
	for _, fm := range m.Fragments {
		f, err := d.fragment(fm, frags)
		if err != nil {
			return nil, fmt.Errorf("fragment %d: %w", fm.Id, err)
		}
		p.Fragments = append(p.Fragments, f)
	}
	// Plan.Schema renames the root's columns by Names.
	if n := p.Root().Root.Schema().NumFields(); len(p.Names) != 0 && len(p.Names) != n {
		return nil, fmt.Errorf("%d names for %d columns", len(p.Names), n)
	}
	return p, nil
}

func (d *decoder) fragment(m *Fragment, frags map[int]bool) (*physical.Fragment, error) {
	out, err := enumFromPB[physical.Distribution](m.Output, Distribution_name)
	if err != nil {
		return nil, err
	}
	root, err := d.node(m.Root, frags)
	if err != nil {
		return nil, err
	}
	f := &physical.Fragment{
		ID: int(m.Id), Root: root, Parallelism: int(m.Parallelism), Consumer: int(m.Consumer),
		Output: out, OutputKeys: ints(m.OutputKeys), Ports: ints(m.Ports),
	}
	if err := checkCols(f.OutputKeys, root.Schema().NumFields()); err != nil {
		return nil, fmt.Errorf("output keys: %w", err)
	}
	return f, nil
}

// node decodes m and everything below it; frags are the plan's fragment
// IDs, which exchange sources must name.
func (d *decoder) node(m *Node, frags map[int]bool) (physical.Node, error) {
	if m == nil {
		return nil, errors.New("missing node")
	}
	out, err := d.schema(m.Schema)
	if err != nil {
		return nil, fmt.Errorf("node %d: %w", m.Id, err)
	}
	base := physical.Base{ID: int(m.Id), Out: out}
	var n physical.Node
	switch k := m.Kind.(type) {
	case *Node_ParquetScan:
		n, err = d.scan(base, k.ParquetScan)
	case *Node_Values:
		n, err = d.values(base, k.Values)
	case *Node_Filter:
		x := &physical.Filter{Base: base}
		if x.Input, err = d.node(k.Filter.Input, frags); err == nil {
			x.Pred, err = d.expr(k.Filter.Pred, width(x.Input))
		}
		n = x
	case *Node_Project:
		x := &physical.Project{Base: base}
		if x.Input, err = d.node(k.Project.Input, frags); err == nil {
			x.Exprs, err = d.exprs(k.Project.Exprs, width(x.Input))
		}
		if err == nil && len(x.Exprs) != out.NumFields() {
			err = fmt.Errorf("%d expressions for %d columns", len(x.Exprs), out.NumFields())
		}
		n = x
	case *Node_HashAggregate:
		n, err = d.aggregate(base, k.HashAggregate, frags)
	case *Node_Sort:
		x := &physical.Sort{Base: base}
		if x.Input, err = d.node(k.Sort.Input, frags); err == nil {
			x.Keys, err = sortKeysFromPB(k.Sort.Keys, width(x.Input))
		}
		n = x
	case *Node_TopN:
		x := &physical.TopN{Base: base, Offset: k.TopN.Offset, N: k.TopN.N}
		if x.Input, err = d.node(k.TopN.Input, frags); err == nil {
			x.Keys, err = sortKeysFromPB(k.TopN.Keys, width(x.Input))
		}
		n = x
	case *Node_Limit:
		x := &physical.Limit{Base: base, Offset: k.Limit.Offset, N: k.Limit.N}
		x.Input, err = d.node(k.Limit.Input, frags)
		n = x
	case *Node_ExchangeSource:
		x := &physical.ExchangeSource{Base: base, Fragment: int(k.ExchangeSource.Fragment), Port: int(k.ExchangeSource.Port)}
		if !frags[x.Fragment] {
			err = fmt.Errorf("unknown fragment %d", x.Fragment)
		} else if x.Port < 0 {
			err = fmt.Errorf("port %d of fragment %d", x.Port, x.Fragment)
		}
		n = x
	case *Node_HashJoin:
		n, err = d.join(base, k.HashJoin, frags)
	case *Node_EnforceSingleRow:
		x := &physical.EnforceSingleRow{Base: base}
		x.Input, err = d.node(k.EnforceSingleRow.Input, frags)
		n = x
	case *Node_UnionAll:
		x := &physical.UnionAll{Base: base}
		for _, im := range k.UnionAll.Inputs {
			var in physical.Node
			if in, err = d.node(im, frags); err != nil {
				break
			}
			x.Inputs = append(x.Inputs, in)
		}
		n = x
	case *Node_Window:
		n, err = d.window(base, k.Window, frags)
	case *Node_Expand:
		x := &physical.Expand{Base: base}
		if x.Input, err = d.node(k.Expand.Input, frags); err != nil {
			break
		}
		for _, pm := range k.Expand.Projections {
			var p []physical.Expr
			if p, err = d.exprs(pm.GetExprs(), width(x.Input)); err != nil {
				break
			}
			if len(p) != out.NumFields() {
				err = fmt.Errorf("projection of %d expressions for %d columns", len(p), out.NumFields())
				break
			}
			x.Projections = append(x.Projections, p)
		}
		n = x
	case *Node_RecursiveUnion:
		x := &physical.RecursiveUnion{Base: base, WorkTable: int(k.RecursiveUnion.WorkTable), Distinct: k.RecursiveUnion.Distinct}
		if x.Anchor, err = d.node(k.RecursiveUnion.Anchor, frags); err == nil {
			x.Step, err = d.node(k.RecursiveUnion.Step, frags)
		}
		if err == nil && (width(x.Anchor) != out.NumFields() || width(x.Step) != out.NumFields()) {
			err = fmt.Errorf("terms of %d and %d columns for %d", width(x.Anchor), width(x.Step), out.NumFields())
		}
		n = x
	case *Node_WorkTableScan:
		n = &physical.WorkTableScan{Base: base, WorkTable: int(k.WorkTableScan.WorkTable)}
	case *Node_Series:
		x := &physical.Series{Base: base, Outer: k.Series.Outer}
		if x.Input, err = d.node(k.Series.Input, frags); err != nil {
			break
		}
		for _, sm := range k.Series.Series {
			var es []physical.Expr
			if es, err = d.exprs([]*Expr{sm.GetStart(), sm.GetStop(), sm.GetStep()}, width(x.Input)); err != nil {
				break
			}
			x.Series = append(x.Series, physical.SeriesSpec{Start: es[0], Stop: es[1], Step: es[2], Exclusive: sm.Exclusive})
		}
		if err == nil && width(x.Input)+len(x.Series) != out.NumFields() {
			err = fmt.Errorf("%d input columns and %d series for %d columns", width(x.Input), len(x.Series), out.NumFields())
		}
		n = x
	default:
		// Also a node kind added to plan.proto after this build.
		return nil, fmt.Errorf("node %d: unknown node kind", m.Id)
	}
	if err != nil {
		return nil, fmt.Errorf("%T node %d: %w", n, m.Id, err)
	}
	return n, nil
}

func (d *decoder) scan(base physical.Base, m *ParquetScan) (physical.Node, error) {
	x := &physical.ParquetScan{Base: base, Table: m.Table, Limit: m.Limit, Pruned: int(m.Pruned)}
	for _, fm := range m.Files {
		f := physical.ScanFile{Path: string(fm.Path), RowGroups: ints(fm.RowGroups), Rows: fm.Rows, Size: fm.Size, ModTime: fm.ModTime}
		for _, vm := range fm.PartitionValues {
			v, err := valueFromPB(vm)
			if err != nil {
				return x, fmt.Errorf("partition value: %w", err)
			}
			f.PartitionValues = append(f.PartitionValues, v)
		}
		x.Files = append(x.Files, f)
	}
	for _, cm := range m.Columns {
		t, err := d.dataType(cm.Type)
		if err != nil {
			return x, fmt.Errorf("column %s: %w", cm.Name, err)
		}
		c := physical.ScanColumn{Name: cm.Name, FileColumn: int(cm.FileColumn), Partition: int(cm.Partition), T: t}
		if c.FileColumn == -1 {
			for _, f := range x.Files {
				if c.Partition < 0 || c.Partition >= len(f.PartitionValues) {
					return x, fmt.Errorf("column %s: partition %d out of range in %s", c.Name, c.Partition, f.Path)
				}
			}
		}
		x.Columns = append(x.Columns, c)
	}
	if m.Filter != nil {
		var err error
		if x.Filter, err = d.expr(m.Filter, len(x.Columns)); err != nil {
			return x, fmt.Errorf("filter: %w", err)
		}
	}
	return x, nil
}

func (d *decoder) values(base physical.Base, m *Values) (physical.Node, error) {
	x := &physical.Values{Base: base, Name: m.Name}
	for _, b := range m.Batches {
		rec, err := d.batch(b)
		if err != nil {
			return x, err
		}
		x.Batches = append(x.Batches, rec)
	}
	return x, nil
}

func (d *decoder) aggregate(base physical.Base, m *HashAggregate, frags map[int]bool) (physical.Node, error) {
	x := &physical.HashAggregate{Base: base}
	var err error
	if x.Mode, err = enumFromPB[physical.AggMode](m.Mode, AggMode_name); err != nil {
		return x, err
	}
	if x.Input, err = d.node(m.Input, frags); err != nil {
		return x, err
	}
	w := width(x.Input)
	if x.GroupBy, err = d.exprs(m.GroupBy, w); err != nil {
		return x, err
	}
	if x.Mode == physical.AggFinal {
		// A final phase keeps the partial phase's arguments (their types
		// give the state types); they refer to that phase's input.
		w = -1
	}
	for _, am := range m.Aggs {
		a := physical.AggCall{Fn: am.Fn, Distinct: am.Distinct, Separator: string(am.Separator), Fraction: am.Fraction}
		if a.T, err = d.dataType(am.Type); err != nil {
			return x, fmt.Errorf("%s: %w", a.Fn, err)
		}
		if am.Arg != nil {
			if a.Arg, err = d.expr(am.Arg, w); err != nil {
				return x, fmt.Errorf("%s: %w", a.Fn, err)
			}
		} else if a.Fn != physical.AggCountStar {
			return x, fmt.Errorf("%s: missing argument", a.Fn)
		}
		x.Aggs = append(x.Aggs, a)
	}
	return x, nil
}

func (d *decoder) join(base physical.Base, m *HashJoin, frags map[int]bool) (physical.Node, error) {
	x := &physical.HashJoin{Base: base, NullsEqual: m.NullsEqual, MarkNullAware: m.MarkNullAware}
	var err error
	if x.Type, err = enumFromPB[physical.JoinType](m.Type, JoinType_name); err != nil {
		return x, err
	}
	if x.Left, err = d.node(m.Left, frags); err != nil {
		return x, err
	}
	if x.Right, err = d.node(m.Right, frags); err != nil {
		return x, err
	}
	if len(m.LeftKeys) != len(m.RightKeys) {
		return x, fmt.Errorf("%d left keys, %d right keys", len(m.LeftKeys), len(m.RightKeys))
	}
	if x.LeftKeys, err = d.exprs(m.LeftKeys, width(x.Left)); err != nil {
		return x, err
	}
	if x.RightKeys, err = d.exprs(m.RightKeys, width(x.Right)); err != nil {
		return x, err
	}
	if m.Residual != nil {
		x.Residual, err = d.expr(m.Residual, width(x.Left)+width(x.Right))
	}
	return x, err
}

func (d *decoder) window(base physical.Base, m *Window, frags map[int]bool) (physical.Node, error) {
	x := &physical.Window{Base: base, PartitionBy: ints(m.PartitionBy)}
	var err error
	if x.Input, err = d.node(m.Input, frags); err != nil {
		return x, err
	}
	w := width(x.Input)
	if err = checkCols(x.PartitionBy, w); err != nil {
		return x, fmt.Errorf("partition by: %w", err)
	}
	if x.OrderBy, err = sortKeysFromPB(m.OrderBy, w); err != nil {
		return x, err
	}
	for _, fm := range m.Funcs {
		f := physical.WindowFunc{Fn: fm.Fn, Distinct: fm.Distinct}
		if f.Args, err = d.exprs(fm.Args, w); err != nil {
			return x, fmt.Errorf("%s: %w", f.Fn, err)
		}
		if f.T, err = d.dataType(fm.Type); err != nil {
			return x, fmt.Errorf("%s: %w", f.Fn, err)
		}
		if f.Frame, err = frameFromPB(fm.Frame); err != nil {
			return x, fmt.Errorf("%s: %w", f.Fn, err)
		}
		x.Funcs = append(x.Funcs, f)
	}
	return x, nil
}

func frameFromPB(m *Frame) (physical.Frame, error) {
	var f physical.Frame
	if m == nil {
		return f, errors.New("missing frame")
	}
	var err error
	if f.Unit, err = enumFromPB[physical.FrameUnit](m.Unit, FrameUnit_name); err != nil {
		return f, err
	}
	if f.Start, err = frameBoundFromPB(m.Start); err != nil {
		return f, err
	}
	f.End, err = frameBoundFromPB(m.End)
	return f, err
}

func frameBoundFromPB(m *FrameBound) (physical.FrameBound, error) {
	var b physical.FrameBound
	if m == nil {
		return b, errors.New("missing frame bound")
	}
	var err error
	if b.Kind, err = enumFromPB[physical.BoundKind](m.Kind, BoundKind_name); err != nil {
		return b, err
	}
	b.Offset, err = valueFromPB(m.Offset)
	return b, err
}

func sortKeysFromPB(ms []*SortKey, width int) ([]physical.SortKey, error) {
	var out []physical.SortKey
	for _, m := range ms {
		k := physical.SortKey{Col: int(m.Col), Desc: m.Desc, NullsFirst: m.NullsFirst}
		if err := checkCols([]int{k.Col}, width); err != nil {
			return nil, fmt.Errorf("sort key: %w", err)
		}
		out = append(out, k)
	}
	return out, nil
}

// expr decodes a required expression whose column references address an
// input of width columns (-1: not checked).
func (d *decoder) expr(m *Expr, width int) (physical.Expr, error) {
	if m == nil {
		return nil, errors.New("missing expression")
	}
	switch k := m.Kind.(type) {
	case *Expr_ColRef:
		t, err := d.dataType(k.ColRef.Type)
		if err != nil {
			return nil, err
		}
		x := &physical.ColRef{Index: int(k.ColRef.Index), T: t, Name: k.ColRef.Name}
		if width >= 0 && (x.Index < 0 || x.Index >= width) {
			return nil, fmt.Errorf("column %s out of range of %d columns", x, width)
		}
		return x, nil
	case *Expr_Literal:
		t, err := d.dataType(k.Literal.Type)
		if err != nil {
			return nil, err
		}
		v, err := valueFromPB(k.Literal.Value)
		return &physical.Literal{Value: v, T: t}, err
	case *Expr_Call:
		t, err := d.dataType(k.Call.Type)
		if err != nil {
			return nil, err
		}
		args, err := d.exprs(k.Call.Args, width)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k.Call.Fn, err)
		}
		if k.Call.Fn == physical.FnCast && len(args) != 1 {
			// Call.String indexes the argument.
			return nil, fmt.Errorf("cast of %d arguments", len(args))
		}
		return &physical.Call{Fn: k.Call.Fn, Args: args, T: t}, nil
	case *Expr_Case:
		x := &physical.Case{}
		var err error
		if x.T, err = d.dataType(k.Case.Type); err != nil {
			return nil, err
		}
		if len(k.Case.Whens) != len(k.Case.Thens) {
			return nil, fmt.Errorf("CASE with %d WHENs and %d THENs", len(k.Case.Whens), len(k.Case.Thens))
		}
		if x.Whens, err = d.exprs(k.Case.Whens, width); err != nil {
			return nil, err
		}
		if x.Thens, err = d.exprs(k.Case.Thens, width); err != nil {
			return nil, err
		}
		if k.Case.Else != nil {
			if x.Else, err = d.expr(k.Case.Else, width); err != nil {
				return nil, err
			}
		}
		return x, nil
	}
	return nil, errors.New("unknown expression kind")
}

func (d *decoder) exprs(ms []*Expr, width int) ([]physical.Expr, error) {
	var out []physical.Expr
	for _, m := range ms {
		x, err := d.expr(m, width)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

// valueFromPB decodes a value in Literal.Value form; an absent message is
// NULL, a message of unknown kind an error.
func valueFromPB(m *Value) (any, error) {
	if m == nil {
		return nil, nil
	}
	switch k := m.Kind.(type) {
	case *Value_NullValue:
		return nil, nil
	case *Value_BoolValue:
		return k.BoolValue, nil
	case *Value_Int32Value:
		return k.Int32Value, nil
	case *Value_Int64Value:
		return k.Int64Value, nil
	case *Value_Float64Value:
		return k.Float64Value, nil
	case *Value_Decimal128Value:
		return decimal128.New(k.Decimal128Value.GetHi(), k.Decimal128Value.GetLo()), nil
	case *Value_StringValue:
		return string(k.StringValue), nil
	case *Value_Date32Value:
		return arrow.Date32(k.Date32Value), nil
	case *Value_TimestampValue:
		return arrow.Timestamp(k.TimestampValue), nil
	case *Value_IntervalValue:
		iv := k.IntervalValue
		return arrow.MonthDayNanoInterval{Months: iv.GetMonths(), Days: iv.GetDays(), Nanoseconds: iv.GetNanoseconds()}, nil
	}
	return nil, errors.New("value of unknown kind")
}

func (d *decoder) schema(b []byte) (s *arrow.Schema, err error) {
	if len(b) == 0 {
		return nil, errors.New("missing schema")
	}
	if s, ok := d.schemas[string(b)]; ok {
		return s, nil
	}
	// arrow reads flatbuffers without bounds checks: corrupt bytes must
	// fail this message, not bring down the executor.
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("corrupt schema: %v", r)
		}
	}()
	r, err := ipc.NewReader(bytes.NewReader(b), ipc.WithAllocator(d.alloc))
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	defer r.Release()
	d.schemas[string(b)] = r.Schema()
	return r.Schema(), nil
}

func (d *decoder) dataType(b []byte) (arrow.DataType, error) {
	if len(b) == 0 {
		return nil, errors.New("missing type")
	}
	s, err := d.schema(b)
	if err != nil {
		return nil, err
	}
	if s.NumFields() != 1 {
		return nil, fmt.Errorf("type schema has %d fields", s.NumFields())
	}
	return s.Field(0).Type, nil
}

// batch decodes a one-batch IPC stream into a record owned by the caller.
func (d *decoder) batch(b []byte) (rec arrow.RecordBatch, err error) {
	defer func() {
		if r := recover(); r != nil {
			rec, err = nil, fmt.Errorf("corrupt batch: %v", r)
		}
	}()
	r, err := ipc.NewReader(bytes.NewReader(b), ipc.WithAllocator(d.alloc))
	if err != nil {
		return nil, fmt.Errorf("batch: %w", err)
	}
	defer r.Release()
	if !r.Next() {
		if r.Err() != nil {
			return nil, fmt.Errorf("batch: %w", r.Err())
		}
		return nil, errors.New("batch: empty stream")
	}
	rec = r.RecordBatch()
	rec.Retain()
	d.batches = append(d.batches, rec)
	if r.Next() {
		return nil, errors.New("batch: stream holds more than one batch")
	}
	return rec, nil
}

func width(n physical.Node) int { return n.Schema().NumFields() }

func checkCols(cols []int, width int) error {
	for _, c := range cols {
		if c < 0 || c >= width {
			return fmt.Errorf("column %d out of range of %d columns", c, width)
		}
	}
	return nil
}

func ints(xs []int64) []int {
	var out []int
	for _, x := range xs {
		out = append(out, int(x))
	}
	return out
}
