package planner

import (
	"fmt"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// WITH RECURSIVE: a query `anchor UNION [ALL] step` whose step reads the
// query's own name is computed by iteration. The anchor's rows are the
// first working table; each pass runs the step over the working table,
// emits its rows (under UNION only those not seen before) and makes them
// the next working table, until a pass yields none. The step runs in one
// instance, rebuilt for each pass (physical.RecursiveUnion).

// workTable is the working table of a recursive query: the columns the
// step reads it with.
type workTable struct {
	id   int
	name string
	cols []Column
}

// LWorkTable reads the working table of a recursive query.
type LWorkTable struct {
	Work *workTable
	Cols []Column
}

func (n *LWorkTable) Columns() []Column        { return n.Cols }
func (n *LWorkTable) Inputs() []LNode          { return nil }
func (n *LWorkTable) WithInputs([]LNode) LNode { return n }
func (n *LWorkTable) describe() string {
	return fmt.Sprintf("WorkTable %s#%d cols=[%s]", n.Work.name, n.Work.id, colNames(n.Cols))
}

// LRecursive is a recursive query: Anchor's rows, then Step's over and
// over (Distinct: UNION, dropping rows already produced). Step's columns
// match Anchor's in order and type; Cols are the query's.
type LRecursive struct {
	Anchor, Step LNode
	Work         *workTable
	Cols         []Column
	Distinct     bool
}

func (n *LRecursive) Columns() []Column { return n.Cols }
func (n *LRecursive) Inputs() []LNode   { return []LNode{n.Anchor, n.Step} }
func (n *LRecursive) WithInputs(in []LNode) LNode {
	c := *n
	c.Anchor, c.Step = in[0], in[1]
	return &c
}
func (n *LRecursive) describe() string {
	op := "UNION ALL"
	if n.Distinct {
		op = "UNION"
	}
	return fmt.Sprintf("Recursive %s#%d %s cols=[%s]", n.Work.name, n.Work.id, op, colNames(n.Cols))
}

// bindCTEBody binds the query of a WITH definition.
func (b *binder) bindCTEBody(def *cteDef) (LNode, []string, error) {
	if def.recursive {
		return b.bindRecursive(def)
	}
	return b.bindQuery(def.query)
}

// bindRecursive binds a recursive WITH query.
func (b *binder) bindRecursive(def *cteDef) (LNode, []string, error) {
	set, ok := def.query.(*ast.SetOprStmt)
	if !ok || set.SelectList == nil || len(set.SelectList.Selects) < 2 {
		return nil, nil, sqlerr.New(sqlerr.InvalidRecursion, "recursive query %q does not have the form non-recursive-term UNION [ALL] recursive-term", def.name)
	}
	if set.OrderBy != nil || set.Limit != nil {
		return nil, nil, sqlerr.New(sqlerr.FeatureNotSupported, "ORDER BY and LIMIT in a recursive query are not implemented")
	}
	selects := set.SelectList.Selects
	step, ok := selects[len(selects)-1].(*ast.SelectStmt)
	if !ok || step.AfterSetOperator == nil {
		return nil, nil, sqlerr.New(sqlerr.InvalidRecursion, "recursive query %q does not have the form non-recursive-term UNION [ALL] recursive-term", def.name)
	}
	var distinct bool
	switch *step.AfterSetOperator {
	case ast.Union:
		distinct = true
	case ast.UnionAll:
	default:
		return nil, nil, sqlerr.New(sqlerr.InvalidRecursion, "recursive query %q: the recursive term must follow UNION or UNION ALL", def.name)
	}
	for _, s := range selects[:len(selects)-1] {
		if tableRefs(s)[strings.ToLower(def.name)] > 0 {
			return nil, nil, sqlerr.New(sqlerr.InvalidRecursion, "recursive reference to query %q must not appear within its non-recursive term", def.name)
		}
	}
	// The anchor: every operand but the last.
	var anchor LNode
	var names []string
	var err error
	if len(selects) == 2 {
		anchor, names, err = b.bindQuery(selects[0].(ast.ResultSetNode))
	} else {
		anchor, names, err = b.bindSetList(&ast.SetOprSelectList{Selects: selects[:len(selects)-1]})
	}
	if err != nil {
		return nil, nil, err
	}
	if len(def.columns) > len(names) {
		return nil, nil, sqlerr.New(sqlerr.InvalidName, "WITH query %q has %d columns available but %d columns specified",
			def.name, len(names), len(def.columns))
	}
	names = append(append([]string{}, def.columns...), names[len(def.columns):]...)
	b.nextID++
	work := &workTable{id: int(b.nextID), name: def.name}
	for i, c := range anchor.Columns() {
		work.cols = append(work.cols, Column{Name: names[i], T: c.T})
	}
	// The step sees the query's name as the working table.
	saved := b.ctes
	b.ctes = map[string]*cteDef{}
	for k, v := range saved {
		b.ctes[k] = v
	}
	b.ctes[strings.ToLower(def.name)] = &cteDef{name: def.name, work: work}
	stepNode, _, err := b.bindQuery(step)
	b.ctes = saved
	if err != nil {
		return nil, nil, err
	}
	if len(stepNode.Columns()) != len(work.cols) {
		return nil, nil, sqlerr.New(sqlerr.SyntaxError, "each UNION query must have the same number of columns")
	}
	// The step's rows in the anchor's types.
	cast := &LProject{Input: stepNode}
	for i, c := range stepNode.Columns() {
		w := work.cols[i]
		if !isNull(c.T) && commonType(c.T, w.T) == nil {
			return nil, nil, sqlerr.New(sqlerr.DatatypeMismatch, "recursive query %q column %d has type %s in non-recursive term but type %s overall",
				def.name, i+1, physical.TypeName(w.T), physical.TypeName(c.T))
		}
		cast.Exprs = append(cast.Exprs, b.cast(&ColRef{ID: c.ID, Name: c.Name, T: c.T}, w.T))
		cast.Cols = append(cast.Cols, b.newColumn(w.Name, "", w.T))
	}
	rec := &LRecursive{Anchor: anchor, Step: cast, Work: work, Distinct: distinct}
	for _, w := range work.cols {
		rec.Cols = append(rec.Cols, b.newColumn(w.Name, "", w.T))
	}
	return rec, names, nil
}

// workTableRef is a reference to the working table inside the step.
func (b *binder) workTableRef(def *cteDef, alias string) (LNode, *scope, error) {
	if alias == "" {
		alias = def.name
	}
	ref := &LWorkTable{Work: def.work}
	sc := &scope{}
	for _, c := range def.work.cols {
		col := b.newColumn(c.Name, alias, c.T)
		ref.Cols = append(ref.Cols, col)
		sc.cols = append(sc.cols, col)
	}
	return ref, sc, nil
}

// buildRecursive: the anchor as any subtree (a fragment of its own when
// parallel), the step serial, in the recursive union's instance.
func (pb *physBuilder) buildRecursive(x *LRecursive) (physical.Node, bool, error) {
	anchor, par, err := pb.build(x.Anchor)
	if err != nil {
		return nil, false, err
	}
	if par {
		anchor = pb.cut(anchor)
	}
	pb.serial++
	step, _, err := pb.build(x.Step)
	pb.serial--
	if err != nil {
		return nil, false, err
	}
	return &physical.RecursiveUnion{Base: pb.base(x.Cols), Anchor: anchor, Step: step, WorkTable: x.Work.id, Distinct: x.Distinct}, false, nil
}
