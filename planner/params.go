package planner

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// paramSlot is one $n placeholder of a statement: the type its context
// gave it (declared, or set when an untyped placeholder is coerced).
type paramSlot struct {
	t arrow.DataType
}

// maxParams bounds $n (PostgreSQL's protocol carries at most 65535).
const maxParams = 65535

// bindParam binds __param(n), the pre-parse form of $n.
func (b *binder) bindParam(e *ast.FuncCallExpr) (Expr, error) {
	p := pos(e)
	n := 0
	if len(e.Args) == 1 {
		if v, ok := e.Args[0].(*test_driver.ValueExpr); ok {
			n = int(v.Datum.GetInt64())
		}
	}
	if n < 1 || n > maxParams {
		return nil, sqlerr.At(sqlerr.SyntaxError, p, "bad parameter placeholder")
	}
	if b.params == nil {
		return nil, sqlerr.At(sqlerr.UndefinedParameter, p, "there is no parameter $%d", n)
	}
	for len(b.slots) < n {
		b.slots = append(b.slots, nil)
	}
	slot := b.slots[n-1]
	if slot == nil {
		slot = &paramSlot{}
		if n <= len(b.params.Types) {
			slot.t = b.params.Types[n-1]
		}
		b.slots[n-1] = slot
	}
	if b.params.Generic {
		if slot.t == nil || isNull(slot.t) {
			return nil, sqlerr.At(sqlerr.IndeterminateDatatype, p, "could not determine data type of parameter $%d", n)
		}
		return &Func{Fn: physical.FnParam, Arg: []Expr{&Const{Value: int64(n - 1), T: physical.Int64}}, T: slot.t}, nil
	}
	if b.params.Values == nil {
		// Describing: a NULL of the declared type, or an untyped one
		// whose type the context settles.
		if slot.t != nil {
			return &Const{T: slot.t, param: slot}, nil
		}
		return &Const{T: physical.String, untypedString: true, param: slot}, nil
	}
	if n > len(b.params.Values) {
		return nil, sqlerr.At(sqlerr.UndefinedParameter, p, "there is no parameter $%d", n)
	}
	v := b.params.Values[n-1]
	switch {
	case v == nil && slot.t != nil:
		return &Const{T: slot.t, param: slot}, nil
	case v == nil:
		return &Const{T: physical.Null, param: slot}, nil
	}
	if s, ok := v.(string); ok {
		c := &Const{Value: s, T: physical.String, untypedString: slot.t == nil, param: slot}
		if slot.t == nil || slot.t.ID() == arrow.STRING {
			return c, nil
		}
		return b.fold(castTo(c.typed(), slot.t), p)
	}
	t := slot.t
	if t == nil {
		t = literalType(v)
		if t == nil {
			return nil, sqlerr.At(sqlerr.InvalidParameterValue, p, "parameter $%d: unsupported value %T", n, v)
		}
	}
	return &Const{Value: v, T: t, param: slot}, nil
}

// literalType is the type of a Literal.Value-form value whose type was not
// declared.
func literalType(v any) arrow.DataType {
	switch v.(type) {
	case bool:
		return physical.Boolean
	case int32:
		return physical.Int32
	case int64:
		return physical.Int64
	case float64:
		return physical.Float64
	case arrow.Date32:
		return physical.Date
	case arrow.Timestamp:
		return physical.Timestamp
	}
	return nil
}

// paramTypes are the placeholders' types after binding: declared,
// inferred from their context, or text.
func (b *binder) paramTypes() []arrow.DataType {
	if len(b.slots) == 0 {
		return nil
	}
	out := make([]arrow.DataType, len(b.slots))
	for i, s := range b.slots {
		switch {
		case s == nil || s.t == nil || isNull(s.t):
			out[i] = physical.String
		default:
			out[i] = s.t
		}
	}
	return out
}
