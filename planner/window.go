package planner

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// winCall is a window function found while binding a SELECT; planWindows
// replaces it with a column of an LWindow.
type winCall struct {
	fn        string
	name      string // as the query calls it (fn is the physical name)
	args      []Expr
	distinct  bool
	partition []Expr
	order     []SortItem
	frame     physical.Frame
	t         arrow.DataType
}

func (w *winCall) Type() arrow.DataType { return w.t }
func (w *winCall) Args() []Expr {
	out := append([]Expr{}, w.args...)
	out = append(out, w.partition...)
	for _, o := range w.order {
		out = append(out, o.Expr)
	}
	return out
}
func (w *winCall) WithArgs(a []Expr) Expr {
	c := *w
	n := len(w.args)
	c.args = append([]Expr{}, a[:n]...)
	c.partition = append([]Expr{}, a[n:n+len(w.partition)]...)
	c.order = append([]SortItem{}, w.order...)
	for i := range c.order {
		c.order[i].Expr = a[n+len(w.partition)+i]
	}
	return &c
}

// String identifies the call exactly (planWindows computes equal calls
// once): columns by ID, every ORDER BY key, the frame and DISTINCT.
func (w *winCall) String() string {
	var sb strings.Builder
	list := func(es []Expr) {
		for i, e := range es {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(exprKey(e))
		}
	}
	sb.WriteString(w.fn + "(")
	if w.distinct {
		sb.WriteString("DISTINCT ")
	}
	list(w.args)
	sb.WriteString(") OVER (PARTITION BY ")
	list(w.partition)
	sb.WriteString(" ORDER BY ")
	for i, o := range w.order {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "%s desc=%v nullsFirst=%v", exprKey(o.Expr), o.Desc, o.NullsFirst)
	}
	fmt.Fprintf(&sb, " %+v)", w.frame)
	return sb.String()
}

// LWindow computes window functions over partitions of its input.
type LWindow struct {
	Input     LNode
	Partition []Expr // column references
	Order     []SortItem
	Funcs     []winFunc
}

type winFunc struct {
	fn       string
	args     []Expr
	distinct bool
	frame    physical.Frame
	col      Column
}

func (n *LWindow) Columns() []Column {
	cols := append([]Column{}, n.Input.Columns()...)
	for _, f := range n.Funcs {
		cols = append(cols, f.col)
	}
	return cols
}
func (n *LWindow) Inputs() []LNode { return []LNode{n.Input} }
func (n *LWindow) WithInputs(in []LNode) LNode {
	c := *n
	c.Input = in[0]
	return &c
}
func (n *LWindow) describe() string {
	fs := make([]string, len(n.Funcs))
	for i, f := range n.Funcs {
		fs[i] = fmt.Sprintf("%s(%s)", f.fn, exprList(f.args))
	}
	items := make([]string, len(n.Order))
	for i, it := range n.Order {
		items[i] = it.String()
	}
	return fmt.Sprintf("Window partition=[%s] order=[%s] funcs=[%s]", exprList(n.Partition), strings.Join(items, ", "), strings.Join(fs, ", "))
}

func hasWindow(e Expr) bool {
	found := false
	visitExpr(e, func(x Expr) {
		if _, ok := x.(*winCall); ok {
			found = true
		}
	})
	return found
}

// bindWindow binds fn(args) OVER (spec).
func (b *binder) bindWindow(e *ast.WindowFuncExpr, sc *scope, specs map[string]*ast.WindowSpec) (Expr, error) {
	spec := &e.Spec
	if spec.Name.O != "" && spec.PartitionBy == nil && spec.OrderBy == nil && spec.Frame == nil {
		if named, ok := specs[strings.ToLower(spec.Name.L)]; ok {
			spec = named
		}
	}
	if spec.Ref.O != "" {
		base, ok := specs[strings.ToLower(spec.Ref.L)]
		if !ok {
			return nil, sqlerr.At(sqlerr.UndefinedObject, pos(e), "window %q does not exist", spec.Ref.O)
		}
		merged := *base
		if spec.OrderBy != nil {
			merged.OrderBy = spec.OrderBy
		}
		if spec.Frame != nil {
			merged.Frame = spec.Frame
		}
		spec = &merged
	}
	p := pos(e)
	name, args, ordered := windowMarker(e)
	if ordered {
		return nil, sqlerr.At(sqlerr.FeatureNotSupported, p, "aggregate ORDER BY is not implemented for window functions")
	}
	w := &winCall{fn: name, name: name, distinct: e.Distinct}
	for _, a := range args {
		// Aggregates are allowed: sum(count(*)) OVER () runs over the
		// grouped rows.
		x, err := b.bindExpr(a, sc, true)
		if err != nil {
			return nil, err
		}
		if c, ok := x.(*Const); ok && c.untypedString {
			x = c.typed()
		}
		w.args = append(w.args, x)
	}
	if spec.PartitionBy != nil {
		for _, it := range spec.PartitionBy.Items {
			x, err := b.bindExpr(it.Expr, sc, true)
			if err != nil {
				return nil, err
			}
			w.partition = append(w.partition, x)
		}
	}
	if spec.OrderBy != nil {
		for _, it := range spec.OrderBy.Items {
			x, err := b.bindExpr(it.Expr, sc, true)
			if err != nil {
				return nil, err
			}
			w.order = append(w.order, SortItem{Expr: x, Desc: it.Desc, NullsFirst: nullsFirst(b, it)})
		}
	}
	arity := func(lo, hi int) error {
		if len(w.args) < lo || len(w.args) > hi {
			return sqlerr.At(sqlerr.UndefinedFunction, p, "window function %s with %d arguments does not exist", w.fn, len(w.args))
		}
		return nil
	}
	switch w.fn {
	case physical.WinRowNumber, physical.WinRank, physical.WinDenseRank:
		if err := arity(0, 0); err != nil {
			return nil, err
		}
		w.t = physical.Int64
	case physical.WinPercentRank, physical.WinCumeDist:
		if err := arity(0, 0); err != nil {
			return nil, err
		}
		w.t = physical.Float64
	case physical.WinNtile:
		if err := arity(1, 1); err != nil {
			return nil, err
		}
		if _, ok := w.args[0].(*Const); !ok || !isInteger(w.args[0].Type()) {
			return nil, sqlerr.At(sqlerr.FeatureNotSupported, p, "ntile needs an integer constant")
		}
		w.args[0] = castTo(w.args[0], physical.Int64)
		w.t = physical.Int64
	case physical.WinLag, physical.WinLead:
		if err := arity(1, 3); err != nil {
			return nil, err
		}
		w.t = w.args[0].Type()
		if len(w.args) >= 2 {
			if _, ok := w.args[1].(*Const); !ok || !isInteger(w.args[1].Type()) {
				return nil, sqlerr.At(sqlerr.FeatureNotSupported, p, "%s offset must be an integer constant", w.fn)
			}
			w.args[1] = castTo(w.args[1], physical.Int64)
		}
		if len(w.args) == 3 {
			args, t, err := unify(strings.ToUpper(w.fn), p, w.args[0], w.args[2])
			if err != nil {
				return nil, err
			}
			w.args[0], w.args[2], w.t = args[0], args[1], t
		}
	case physical.WinFirstValue, physical.WinLastValue:
		if err := arity(1, 1); err != nil {
			return nil, err
		}
		w.t = w.args[0].Type()
	case physical.WinNthValue:
		if err := arity(2, 2); err != nil {
			return nil, err
		}
		w.args[1] = castTo(w.args[1], physical.Int64)
		w.t = w.args[0].Type()
	default:
		if !windowAggNames[w.fn] {
			return nil, sqlerr.At(sqlerr.UndefinedFunction, p, "window function %s does not exist", w.fn)
		}
		if err := b.windowAgg(w, p); err != nil {
			return nil, err
		}
	}
	frame, err := b.bindFrame(spec.Frame, len(w.order) > 0, p)
	if err != nil {
		return nil, err
	}
	w.frame = frame
	if w.distinct {
		// PostgreSQL implements DISTINCT for no window aggregate; one
		// argument over whole partitions is simple to do right.
		whole := frame.Start.Kind == physical.UnboundedPreceding && frame.End.Kind == physical.UnboundedFollowing ||
			len(w.order) == 0 && frame.Unit == physical.FrameRange && !isOffsetBound(frame.Start) && !isOffsetBound(frame.End)
		if len(w.args) != 1 && w.fn != physical.AggStringAgg || !whole {
			return nil, sqlerr.At(sqlerr.FeatureNotSupported, p, "DISTINCT is not implemented for window functions")
		}
	}
	// Constant arguments (offsets, defaults) reach the executor as literals.
	for i, a := range w.args {
		if isConst(a) {
			if w.args[i], err = b.fold(a, p); err != nil {
				return nil, err
			}
		}
	}
	return w, nil
}

func (b *binder) bindFrame(f *ast.FrameClause, ordered bool, p int) (physical.Frame, error) {
	if f == nil {
		if ordered {
			return physical.Frame{Unit: physical.FrameRange, Start: physical.FrameBound{Kind: physical.UnboundedPreceding},
				End: physical.FrameBound{Kind: physical.CurrentRow}}, nil
		}
		return physical.Frame{Unit: physical.FrameRows, Start: physical.FrameBound{Kind: physical.UnboundedPreceding},
			End: physical.FrameBound{Kind: physical.UnboundedFollowing}}, nil
	}
	var out physical.Frame
	switch f.Type {
	case ast.Rows:
		out.Unit = physical.FrameRows
	case ast.Ranges:
		out.Unit = physical.FrameRange
	case ast.Groups:
		if !ordered {
			return out, sqlerr.At(sqlerr.WindowingError, p, "GROUPS mode requires an ORDER BY clause")
		}
		out.Unit = physical.FrameGroups
	default:
		return out, sqlerr.At(sqlerr.FeatureNotSupported, p, "frame unit %v is not supported", f.Type)
	}
	bound := func(fb ast.FrameBound, start bool) (physical.FrameBound, error) {
		switch {
		case fb.Type == ast.CurrentRow:
			return physical.FrameBound{Kind: physical.CurrentRow}, nil
		case fb.UnBounded && fb.Type == ast.Preceding:
			return physical.FrameBound{Kind: physical.UnboundedPreceding}, nil
		case fb.UnBounded:
			return physical.FrameBound{Kind: physical.UnboundedFollowing}, nil
		}
		x, err := b.bindExpr(fb.Expr, &scope{}, false)
		if err != nil {
			return physical.FrameBound{}, err
		}
		c, ok := x.(*Const)
		if !ok || c.Value == nil {
			return physical.FrameBound{}, sqlerr.At(sqlerr.FeatureNotSupported, p, "frame offsets must be constants")
		}
		kind := physical.Following
		if fb.Type == ast.Preceding {
			kind = physical.Preceding
		}
		v := c.Value
		if out.Unit == physical.FrameRows || out.Unit == physical.FrameGroups {
			switch n := v.(type) {
			case int32:
				v = int64(n)
			case int64:
			default:
				return physical.FrameBound{}, sqlerr.At(sqlerr.FeatureNotSupported, p, "ROWS and GROUPS offsets must be integers")
			}
			if v.(int64) < 0 {
				return physical.FrameBound{}, sqlerr.At(sqlerr.InvalidParameterValue, p, "frame offset must not be negative")
			}
		}
		return physical.FrameBound{Kind: kind, Offset: v}, nil
	}
	var err error
	if out.Start, err = bound(f.Extent.Start, true); err != nil {
		return out, err
	}
	if out.End, err = bound(f.Extent.End, false); err != nil {
		return out, err
	}
	return out, nil
}

// keyColumns returns a projection passing n's columns through, and a
// function making a window key of an expression: a column reference as it
// is, anything else a new column of the projection.
func (b *binder) keyColumns(n LNode) (*LProject, func(Expr) Expr) {
	pre := &LProject{Input: n}
	for _, c := range n.Columns() {
		pre.Exprs = append(pre.Exprs, &ColRef{ID: c.ID, Name: c.Name, T: c.T})
		pre.Cols = append(pre.Cols, c)
	}
	return pre, func(e Expr) Expr {
		if r, ok := e.(*ColRef); ok {
			return r
		}
		c := b.newColumn("wkey", "", e.Type())
		pre.Exprs, pre.Cols = append(pre.Exprs, e), append(pre.Cols, c)
		return &ColRef{ID: c.ID, Name: c.Name, T: c.T}
	}
}

// planWindows adds LWindow nodes computing the window calls in exprs over
// node (one per distinct PARTITION BY / ORDER BY) and replaces the calls
// with column references.
func (b *binder) planWindows(node LNode, exprs []*Expr) (LNode, error) {
	type group struct {
		key   string
		calls []*winCall
		cols  []Column
	}
	var groups []*group
	byCall := map[string]ColRef{}
	find := func(w *winCall) {
		k := exprKey(w)
		if _, ok := byCall[k]; ok {
			return
		}
		var sb strings.Builder
		for _, p := range w.partition {
			sb.WriteString(exprKey(p) + ";")
		}
		sb.WriteString("|")
		for _, o := range w.order {
			fmt.Fprintf(&sb, "%s %v %v;", exprKey(o.Expr), o.Desc, o.NullsFirst)
		}
		gk := sb.String()
		var g *group
		for _, x := range groups {
			if x.key == gk {
				g = x
			}
		}
		if g == nil {
			g = &group{key: gk}
			groups = append(groups, g)
		}
		col := b.newColumn(w.name, "", w.t)
		g.calls, g.cols = append(g.calls, w), append(g.cols, col)
		byCall[k] = ColRef{ID: col.ID, Name: col.Name, T: col.T}
	}
	for _, e := range exprs {
		visitExpr(*e, func(x Expr) {
			if w, ok := x.(*winCall); ok {
				for _, a := range w.args {
					if hasWindow(a) {
						b.winErr = sqlerr.New(sqlerr.GroupingError, "window function calls cannot be nested")
					}
				}
				find(w)
			}
		})
	}
	if b.winErr != nil {
		return nil, b.winErr
	}
	for _, g := range groups {
		w0 := g.calls[0]
		// Partition and order keys as columns.
		pre, asCol := b.keyColumns(node)
		win := &LWindow{}
		for _, p := range w0.partition {
			win.Partition = append(win.Partition, asCol(p))
		}
		for _, o := range w0.order {
			o.Expr = asCol(o.Expr)
			win.Order = append(win.Order, o)
		}
		for i, w := range g.calls {
			win.Funcs = append(win.Funcs, winFunc{fn: w.fn, args: w.args, distinct: w.distinct, frame: w.frame, col: g.cols[i]})
		}
		if len(pre.Exprs) > len(node.Columns()) {
			win.Input = pre
		} else {
			win.Input = node
		}
		node = win
	}
	for _, e := range exprs {
		*e = transformExpr(*e, func(x Expr) Expr {
			if w, ok := x.(*winCall); ok {
				r := byCall[exprKey(w)]
				return &ColRef{ID: r.ID, Name: r.Name, T: r.T}
			}
			return x
		})
	}
	return node, nil
}

// buildWindow plans a window: partitions are hashed to parallel instances,
// or gathered to one without PARTITION BY.
func (pb *physBuilder) buildWindow(x *LWindow) (physical.Node, bool, error) {
	in, par, err := pb.build(x.Input)
	if err != nil {
		return nil, false, err
	}
	inCols := x.Input.Columns()
	w := &physical.Window{}
	for _, p := range x.Partition {
		pe, err := toPhysicalExpr(p, inCols)
		if err != nil {
			return nil, false, err
		}
		w.PartitionBy = append(w.PartitionBy, pe.(*physical.ColRef).Index)
	}
	keys, err := sortKeys(x.Order, inCols)
	if err != nil {
		return nil, false, err
	}
	w.OrderBy = keys
	for _, f := range x.Funcs {
		wf := physical.WindowFunc{Fn: f.fn, Distinct: f.distinct, Frame: f.frame, T: f.col.T}
		for _, a := range f.args {
			pa, err := toPhysicalExpr(a, inCols)
			if err != nil {
				return nil, false, err
			}
			wf.Args = append(wf.Args, pa)
		}
		w.Funcs = append(w.Funcs, wf)
	}
	if par {
		if len(w.PartitionBy) > 0 {
			keys := make([]physical.Expr, len(w.PartitionBy))
			for i, c := range w.PartitionBy {
				keys[i] = &physical.ColRef{Index: c, T: inCols[c].T}
			}
			in = pb.cutPartitioned(in, keys)
		} else {
			in = pb.cut(in)
			par = false
		}
	}
	w.Input = in
	w.Base = pb.base(x.Columns())
	return w, par, nil
}

func isOffsetBound(b physical.FrameBound) bool {
	return b.Kind == physical.Preceding || b.Kind == physical.Following
}

// Markers of the pre-parse rewrite of window aggregates (rewriteWindowAgg):
// fn(args) OVER … reaches the binder as sum(__win_fn(args)) OVER …, or
// sum(__win_ordered_fn(args)) when the call had an ORDER BY of its own.
const (
	winMarker        = "__win_"
	winOrderedMarker = "__win_ordered_"
)

// windowMarkerNames are the window aggregates the pre-parse layer always
// rewrites: TiDB's grammar has no window form of them, or (stddev,
// variance) reads them as the population variants.
var windowMarkerNames = map[string]bool{
	"bool_and": true, "bool_or": true, "every": true, "string_agg": true, "stddev": true, "variance": true,
	physical.AggCorr: true, physical.AggCovarPop: true, physical.AggCovarSamp: true,
	physical.AggRegrSlope: true, physical.AggRegrIntercept: true, physical.AggRegrR2: true,
	physical.AggRegrCount: true, physical.AggRegrAvgX: true, physical.AggRegrAvgY: true,
	physical.AggRegrSXX: true, physical.AggRegrSYY: true, physical.AggRegrSXY: true,
}

// windowAggNames are the aggregates that are window functions: those of
// TiDB's window grammar and the marked ones.
var windowAggNames = func() map[string]bool {
	m := map[string]bool{"count": true, "sum": true, "avg": true, "min": true, "max": true,
		"var_samp": true, "var_pop": true, "stddev_samp": true, "stddev_pop": true}
	for n := range windowMarkerNames {
		m[n] = true
	}
	return m
}()

// windowMarker returns the function e calls (lower case) and its
// arguments, unwrapping the pre-parse marker; ordered reports an
// aggregate ORDER BY the pre-parse layer cut out.
func windowMarker(e *ast.WindowFuncExpr) (name string, args []ast.ExprNode, ordered bool) {
	name = strings.ToLower(e.Name)
	if name == "sum" && len(e.Args) == 1 {
		if f, ok := e.Args[0].(*ast.FuncCallExpr); ok && strings.HasPrefix(f.FnName.L, winMarker) {
			if inner, ok := strings.CutPrefix(f.FnName.L, winOrderedMarker); ok {
				return inner, f.Args, true
			}
			return strings.TrimPrefix(f.FnName.L, winMarker), f.Args, false
		}
	}
	return name, e.Args, false
}

// windowName is the output column name of a window function call, as
// PostgreSQL names it: the function's name.
func windowName(e *ast.WindowFuncExpr) string {
	name, _, _ := windowMarker(e)
	return name
}

// windowAgg types aggregate w.fn over its bound arguments as the
// aggregate of the same name (aggSignature, twoArgSignature; string_agg as
// bindStringAgg does), setting the physical function name, the result type and the argument
// casts.
func (b *binder) windowAgg(w *winCall, p int) error {
	arity := func(n int) error {
		if len(w.args) != n {
			return sqlerr.At(sqlerr.UndefinedFunction, p, "function %s with %d arguments does not exist", w.fn, len(w.args))
		}
		return nil
	}
	if physical.TwoArg(w.fn) {
		args, t, err := twoArgSignature(w.fn, w.args, p)
		if err != nil {
			return err
		}
		w.args, w.t = args, t
		return nil
	}
	if w.fn == "string_agg" {
		if err := arity(2); err != nil {
			return err
		}
		x := w.args[0]
		if c, ok := x.(*Const); ok && c.untypedString {
			x = c.typed()
		}
		sep := w.args[1]
		if c, ok := sep.(*Const); ok && c.untypedString {
			sep = c.typed()
		}
		if !isConst(sep) {
			return sqlerr.At(sqlerr.FeatureNotSupported, p, "string_agg: the separator must be a constant")
		}
		w.fn, w.t = physical.AggStringAgg, physical.String
		w.args = []Expr{castTo(x, physical.String), castTo(sep, physical.String)}
		return nil
	}
	if err := arity(1); err != nil {
		return err
	}
	a, err := aggSignature(w.fn, w.args[0], w.distinct, p)
	if err != nil {
		return err
	}
	w.fn, w.t, w.distinct = a.Fn, a.T, a.Distinct
	arg := a.Arg
	w.args = nil
	if arg != nil {
		w.args = []Expr{arg}
	}
	return nil
}
