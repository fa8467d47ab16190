package kernels

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/quarrydb/quarry/catalog/pgcatalog"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// PostgreSQL catalog functions and the array helpers behind them. Arrays
// are VARCHARs holding PostgreSQL's text form; these kernels are row at a
// time, which is fine for catalog-sized inputs.

func registerPg(t map[string]kernel) {
	t[physical.FnPgFormatType] = rowKernel(pgFormatType)
	t[physical.FnPgArrayToString] = rowKernel(pgArrayToString)
	t[physical.FnPgArrayLength] = rowKernel(pgArrayLength)
	t[physical.FnPgArrayElem] = rowKernel(pgArrayElem)
	t[physical.FnPgArrayContains] = rowKernel(pgArrayContains)
	t[physical.FnPgArrayBuild] = rowKernel(pgArrayBuild)
	t[physical.FnPgRegtypeArray] = rowKernel(pgRegtypeArray)
	t[physical.FnPgRandomUUID] = randomUUIDKernel
	for _, fn := range []string{physical.FnPgArrayLength, physical.FnPgArrayElem, physical.FnPgRegtypeArray} {
		strict[fn] = true
	}
}

// rowKernel adapts a function of one row's argument values (Literal.Value
// form, nil for NULL) to a kernel.
func rowKernel(f func(args []any) (any, error)) kernel {
	return func(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
		arrs, done, err := materializeAll(ev, args)
		if err != nil {
			return datum{}, err
		}
		defer done()
		b := array.NewBuilder(ev.mem, c.T)
		defer b.Release()
		vals := make([]any, len(arrs))
		for i := 0; i < ev.n; i++ {
			for j, a := range arrs {
				vals[j] = ValueAt(a.arr, i)
			}
			v, err := f(vals)
			if err != nil {
				return datum{}, err
			}
			if err := appendValue(b, v); err != nil {
				return datum{}, err
			}
		}
		return datum{arr: b.NewArray(), t: c.T}, nil
	}
}

func appendValue(b array.Builder, v any) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	switch b := b.(type) {
	case *array.StringBuilder:
		b.Append(v.(string))
	case *array.BooleanBuilder:
		b.Append(v.(bool))
	case *array.Int32Builder:
		b.Append(v.(int32))
	case *array.Int64Builder:
		b.Append(v.(int64))
	default:
		return sqlerr.New(sqlerr.InternalError, "pg kernel: result type %s", b.Type())
	}
	return nil
}

func parseArrayArg(v any) ([]*string, error) {
	s, _ := v.(string)
	items, err := pgcatalog.ParseArray(s)
	if err != nil {
		return nil, sqlerr.New(sqlerr.InvalidTextRep, "malformed array literal: %q", s)
	}
	return items, nil
}

// pgFormatType: format_type(oid, typmod); NULL oid → NULL, unknown → "???".
func pgFormatType(a []any) (any, error) {
	if a[0] == nil {
		return nil, nil
	}
	mod := int32(-1)
	if a[1] != nil {
		mod = toI32(a[1])
	}
	name, ok := pgcatalog.FormatType(toI64(a[0]), mod)
	if !ok {
		return "???", nil
	}
	return name, nil
}

// pgArrayToString: array_to_string(arr, sep[, null]): NULL elements are
// skipped unless a null string is given.
func pgArrayToString(a []any) (any, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	items, err := parseArrayArg(a[0])
	if err != nil {
		return nil, err
	}
	var parts []string
	for _, it := range items {
		switch {
		case it != nil:
			parts = append(parts, *it)
		case len(a) > 2 && a[2] != nil:
			parts = append(parts, a[2].(string))
		}
	}
	return strings.Join(parts, a[1].(string)), nil
}

// pgArrayLength: array_upper / array_length / cardinality / array_lower /
// array_ndims of a one-dimensional array (NULL when empty, except
// cardinality).
func pgArrayLength(a []any) (any, error) {
	items, err := parseArrayArg(a[0])
	if err != nil {
		return nil, err
	}
	n := int32(len(items))
	switch a[1].(string) {
	case "cardinality":
		return n, nil
	case "array_lower":
		if n == 0 {
			return nil, nil
		}
		return int32(1), nil
	case "array_ndims":
		if n == 0 {
			return nil, nil
		}
		return int32(1), nil
	}
	if n == 0 {
		return nil, nil
	}
	return n, nil
}

// pgArrayElem: arr[i], 1-based; NULL out of range.
func pgArrayElem(a []any) (any, error) {
	items, err := parseArrayArg(a[0])
	if err != nil {
		return nil, err
	}
	i := toI64(a[1])
	if i < 1 || i > int64(len(items)) || items[i-1] == nil {
		return nil, nil
	}
	return *items[i-1], nil
}

// pgArrayContains: v = ANY(arr) with SQL's NULL rules.
func pgArrayContains(a []any) (any, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	items, err := parseArrayArg(a[0])
	if err != nil {
		return nil, err
	}
	sawNull := false
	v := a[1].(string)
	for _, it := range items {
		if it == nil {
			sawNull = true
		} else if *it == v {
			return true, nil
		}
	}
	if sawNull {
		return nil, nil
	}
	return false, nil
}

// pgArrayBuild: ARRAY[a, b, …].
func pgArrayBuild(a []any) (any, error) {
	items := make([]*string, len(a))
	for i, v := range a {
		if v != nil {
			s := v.(string)
			items[i] = &s
		}
	}
	return pgcatalog.FormatArray(items), nil
}

// pgRegtypeArray: oids::regtype[] → type names.
func pgRegtypeArray(a []any) (any, error) {
	items, err := parseArrayArg(a[0])
	if err != nil {
		return nil, err
	}
	out := make([]*string, len(items))
	for i, it := range items {
		if it == nil {
			continue
		}
		name := *it
		if oid, err := strconv.ParseInt(*it, 10, 64); err == nil {
			if n, ok := pgcatalog.FormatType(oid, -1); ok {
				name = n
			}
		}
		out[i] = &name
	}
	return pgcatalog.FormatArray(out), nil
}

// randomUUIDKernel: gen_random_uuid(), a new value per row.
func randomUUIDKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	if ev.folding {
		return datum{}, errVolatile
	}
	b := array.NewStringBuilder(ev.mem)
	defer b.Release()
	var u [16]byte
	for i := 0; i < ev.n; i++ {
		if _, err := rand.Read(u[:]); err != nil {
			return datum{}, sqlerr.Wrap(sqlerr.InternalError, err, "gen_random_uuid")
		}
		u[6] = u[6]&0x0f | 0x40
		u[8] = u[8]&0x3f | 0x80
		h := hex.EncodeToString(u[:])
		b.Append(h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:])
	}
	return datum{arr: b.NewArray(), t: physical.String}, nil
}
