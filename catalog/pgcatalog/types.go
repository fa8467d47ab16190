package pgcatalog

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// PgType is one row of pg_type for a built-in type.
type PgType struct {
	Oid      int64
	Name     string // typname
	Len      int32  // typlen
	ByVal    bool
	Type     string // typtype: b base, p pseudo
	Category string // typcategory
	Elem     int64  // typelem (arrays)
	Array    int64  // typarray
	Input    string // typinput (regproc name)
	Output   string
	Align    string
	// Format is format_type's name (integer, character varying, …).
	Format string
}

// Well-known type oids.
const (
	OidBool        = 16
	OidBytea       = 17
	OidChar        = 18
	OidName        = 19
	OidInt8        = 20
	OidInt2        = 21
	OidInt4        = 23
	OidRegproc     = 24
	OidText        = 25
	OidOid         = 26
	OidFloat4      = 700
	OidFloat8      = 701
	OidUnknown     = 705
	OidVarchar     = 1043
	OidDate        = 1082
	OidTimestamp   = 1114
	OidTimestamptz = 1184
	OidInterval    = 1186
	OidNumeric     = 1700
	OidRegclass    = 2205
	OidRegtype     = 2206
	OidTrigger     = 2279
)

// baseTypes are the scalar types pg_type lists (array types are derived).
var baseTypes = []PgType{
	{Oid: 16, Name: "bool", Len: 1, ByVal: true, Category: "B", Array: 1000, Format: "boolean", Align: "c"},
	{Oid: 17, Name: "bytea", Len: -1, Category: "U", Array: 1001, Align: "i"},
	{Oid: 18, Name: "char", Len: 1, ByVal: true, Category: "Z", Array: 1002, Format: `"char"`, Align: "c"},
	{Oid: 19, Name: "name", Len: 64, Category: "S", Array: 1003, Align: "c"},
	{Oid: 20, Name: "int8", Len: 8, ByVal: true, Category: "N", Array: 1016, Format: "bigint", Align: "d"},
	{Oid: 21, Name: "int2", Len: 2, ByVal: true, Category: "N", Array: 1005, Format: "smallint", Align: "s"},
	{Oid: 22, Name: "int2vector", Len: -1, Category: "A", Array: 1006, Align: "i"},
	{Oid: 23, Name: "int4", Len: 4, ByVal: true, Category: "N", Array: 1007, Format: "integer", Align: "i"},
	{Oid: 24, Name: "regproc", Len: 4, ByVal: true, Category: "N", Array: 1008, Align: "i"},
	{Oid: 25, Name: "text", Len: -1, Category: "S", Array: 1009, Align: "i"},
	{Oid: 26, Name: "oid", Len: 4, ByVal: true, Category: "N", Array: 1028, Align: "i"},
	{Oid: 27, Name: "tid", Len: 6, Category: "U", Array: 1010, Align: "s"},
	{Oid: 28, Name: "xid", Len: 4, ByVal: true, Category: "U", Array: 1011, Align: "i"},
	{Oid: 29, Name: "cid", Len: 4, ByVal: true, Category: "U", Array: 1012, Align: "i"},
	{Oid: 30, Name: "oidvector", Len: -1, Category: "A", Array: 1013, Align: "i"},
	{Oid: 114, Name: "json", Len: -1, Category: "U", Array: 199, Align: "i"},
	{Oid: 142, Name: "xml", Len: -1, Category: "U", Array: 143, Align: "i"},
	{Oid: 650, Name: "cidr", Len: -1, Category: "I", Array: 651, Align: "i"},
	{Oid: 700, Name: "float4", Len: 4, ByVal: true, Category: "N", Array: 1021, Format: "real", Align: "i"},
	{Oid: 701, Name: "float8", Len: 8, ByVal: true, Category: "N", Array: 1022, Format: "double precision", Align: "d"},
	{Oid: 705, Name: "unknown", Len: -2, Type: "p", Category: "X", Align: "c"},
	{Oid: 790, Name: "money", Len: 8, ByVal: true, Category: "N", Array: 791, Align: "d"},
	{Oid: 829, Name: "macaddr", Len: 6, Category: "U", Array: 1040, Align: "i"},
	{Oid: 869, Name: "inet", Len: -1, Category: "I", Array: 1041, Align: "i"},
	{Oid: 1042, Name: "bpchar", Len: -1, Category: "S", Array: 1014, Format: "character", Align: "i"},
	{Oid: 1043, Name: "varchar", Len: -1, Category: "S", Array: 1015, Format: "character varying", Align: "i"},
	{Oid: 1082, Name: "date", Len: 4, ByVal: true, Category: "D", Array: 1182, Align: "i"},
	{Oid: 1083, Name: "time", Len: 8, ByVal: true, Category: "D", Array: 1183, Format: "time without time zone", Align: "d"},
	{Oid: 1114, Name: "timestamp", Len: 8, ByVal: true, Category: "D", Array: 1115, Format: "timestamp without time zone", Align: "d"},
	{Oid: 1184, Name: "timestamptz", Len: 8, ByVal: true, Category: "D", Array: 1185, Format: "timestamp with time zone", Align: "d"},
	{Oid: 1186, Name: "interval", Len: 16, Category: "T", Array: 1187, Align: "d"},
	{Oid: 1266, Name: "timetz", Len: 12, Category: "D", Array: 1270, Format: "time with time zone", Align: "d"},
	{Oid: 1560, Name: "bit", Len: -1, Category: "V", Array: 1561, Align: "i"},
	{Oid: 1562, Name: "varbit", Len: -1, Category: "V", Array: 1563, Format: "bit varying", Align: "i"},
	{Oid: 1700, Name: "numeric", Len: -1, Category: "N", Array: 1231, Align: "i"},
	{Oid: 2202, Name: "regprocedure", Len: 4, ByVal: true, Category: "N", Array: 2207, Align: "i"},
	{Oid: 2205, Name: "regclass", Len: 4, ByVal: true, Category: "N", Array: 2210, Align: "i"},
	{Oid: 2206, Name: "regtype", Len: 4, ByVal: true, Category: "N", Array: 2211, Align: "i"},
	{Oid: 2249, Name: "record", Len: -1, Type: "p", Category: "P", Array: 2287, Align: "d"},
	{Oid: 2275, Name: "cstring", Len: -2, Type: "p", Category: "P", Array: 1263, Align: "c"},
	{Oid: 2276, Name: "any", Len: 4, ByVal: true, Type: "p", Category: "P", Align: "i"},
	{Oid: 2277, Name: "anyarray", Len: -1, Type: "p", Category: "P", Align: "d"},
	{Oid: 2278, Name: "void", Len: 4, ByVal: true, Type: "p", Category: "P", Align: "i"},
	{Oid: 2279, Name: "trigger", Len: 4, ByVal: true, Type: "p", Category: "P", Align: "i"},
	{Oid: 2283, Name: "anyelement", Len: 4, ByVal: true, Type: "p", Category: "P", Align: "i"},
	{Oid: 2950, Name: "uuid", Len: 16, Category: "U", Array: 2951, Align: "c"},
	{Oid: 3802, Name: "jsonb", Len: -1, Category: "U", Array: 3807, Align: "i"},
	{Oid: 4089, Name: "regnamespace", Len: 4, ByVal: true, Category: "N", Array: 4090, Align: "i"},
}

var (
	typesByOid  = map[int64]*PgType{}
	typesByName = map[string]*PgType{}
	allTypes    []*PgType
)

func init() {
	for i := range baseTypes {
		t := &baseTypes[i]
		if t.Type == "" {
			t.Type = "b"
		}
		if t.Format == "" {
			t.Format = t.Name
		}
		if t.Input == "" {
			t.Input, t.Output = t.Name+"in", t.Name+"out"
		}
		allTypes = append(allTypes, t)
	}
	for _, t := range append([]*PgType{}, allTypes...) {
		if t.Array == 0 {
			continue
		}
		a := &PgType{Oid: t.Array, Name: "_" + t.Name, Len: -1, Type: "b", Category: "A", Elem: t.Oid,
			Input: "array_in", Output: "array_out", Align: t.Align, Format: t.Format + "[]"}
		if t.Align != "d" {
			a.Align = "i"
		}
		allTypes = append(allTypes, a)
	}
	for _, t := range allTypes {
		typesByOid[t.Oid] = t
		typesByName[t.Name] = t
	}
	// Spellings that name a type in casts (regtype input).
	for alias, name := range map[string]string{
		"boolean": "bool", "smallint": "int2", "integer": "int4", "int": "int4", "bigint": "int8",
		"real": "float4", "double precision": "float8", "double": "float8", "float": "float8",
		"character varying": "varchar", "character": "bpchar", "char": "bpchar", "decimal": "numeric",
		"timestamp without time zone": "timestamp", "timestamp with time zone": "timestamptz",
		"time without time zone": "time", "time with time zone": "timetz", `"char"`: "char",
	} {
		typesByName[alias] = typesByName[name]
	}
}

// TypeByOid returns the built-in type with oid.
func TypeByOid(oid int64) (*PgType, bool) {
	t, ok := typesByOid[oid]
	return t, ok
}

// TypeByName resolves a type name (typname or SQL spelling, optionally
// qualified with pg_catalog, optionally ending in [] for its array type).
func TypeByName(name string) (*PgType, bool) {
	n := strings.ToLower(strings.Join(strings.Fields(name), " "))
	n = strings.TrimPrefix(n, "pg_catalog.")
	arr := false
	if strings.HasSuffix(n, "[]") {
		arr, n = true, strings.TrimSpace(strings.TrimSuffix(n, "[]"))
	}
	if i := strings.IndexByte(n, '('); i > 0 {
		n = strings.TrimSpace(n[:i])
	}
	t, ok := typesByName[n]
	if !ok {
		return nil, false
	}
	if arr {
		return TypeByOid(t.Array)
	}
	return t, true
}

// Types lists every built-in type (base types, then arrays).
func Types() []*PgType { return allTypes }

// TypeOf maps an Arrow column type to the PostgreSQL type oid and typmod
// clients see (RowDescription, pg_attribute).
func TypeOf(t arrow.DataType) (oid int64, typmod int32) {
	switch t := t.(type) {
	case *arrow.BooleanType:
		return OidBool, -1
	case *arrow.Int8Type, *arrow.Int16Type:
		return OidInt2, -1
	case *arrow.Int32Type:
		return OidInt4, -1
	case *arrow.Int64Type:
		return OidInt8, -1
	case *arrow.Float32Type:
		return OidFloat4, -1
	case *arrow.Float64Type:
		return OidFloat8, -1
	case *arrow.Decimal128Type:
		return OidNumeric, (t.Precision<<16 | t.Scale) + 4
	case *arrow.StringType, *arrow.LargeStringType:
		return OidVarchar, -1
	case *arrow.BinaryType, *arrow.LargeBinaryType:
		return OidBytea, -1
	case *arrow.Date32Type:
		return OidDate, -1
	case *arrow.TimestampType:
		if t.TimeZone != "" {
			return OidTimestamptz, -1
		}
		return OidTimestamp, -1
	case *arrow.MonthDayNanoIntervalType:
		return OidInterval, -1
	}
	return OidText, -1
}

// FormatType is format_type(oid, typmod): the SQL name of a type, with its
// modifier (numeric(15,2), character varying(25)). ok is false for an
// unknown oid.
func FormatType(oid int64, typmod int32) (string, bool) {
	t, ok := typesByOid[oid]
	if !ok {
		return "", false
	}
	if t.Category == "A" && t.Elem != 0 {
		e, _ := FormatType(t.Elem, typmod)
		return e + "[]", true
	}
	if typmod >= 0 {
		switch oid {
		case OidNumeric:
			if typmod >= 4 {
				m := typmod - 4
				return fmt.Sprintf("numeric(%d,%d)", m>>16, m&0xffff), true
			}
		case OidVarchar, 1042:
			if typmod >= 4 {
				return fmt.Sprintf("%s(%d)", t.Format, typmod-4), true
			}
		case OidTimestamp, OidTimestamptz, 1083, 1266:
			name := strings.SplitN(t.Format, " ", 2)
			return fmt.Sprintf("%s(%d) %s", name[0], typmod, name[1]), true
		}
	}
	if oid == 1042 && typmod < 0 {
		return "bpchar", true
	}
	return t.Format, true
}
