package pgcatalog

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/quarrydb/quarry/catalog"
)

func TestFormatType(t *testing.T) {
	for _, c := range []struct {
		oid  int64
		mod  int32
		want string
	}{
		{OidInt4, -1, "integer"}, {OidInt8, -1, "bigint"}, {OidInt2, -1, "smallint"},
		{OidFloat8, -1, "double precision"}, {OidFloat4, -1, "real"}, {OidNumeric, -1, "numeric"},
		{OidNumeric, 15<<16 | 2 + 4, "numeric(15,2)"}, {OidVarchar, -1, "character varying"},
		{OidVarchar, 29, "character varying(25)"}, {OidText, -1, "text"}, {OidBool, -1, "boolean"},
		{OidDate, -1, "date"}, {OidTimestamp, -1, "timestamp without time zone"},
		{OidTimestamptz, -1, "timestamp with time zone"}, {1007, -1, "integer[]"}, {OidChar, -1, `"char"`},
	} {
		if got, ok := FormatType(c.oid, c.mod); !ok || got != c.want {
			t.Errorf("FormatType(%d, %d) = %q, want %q", c.oid, c.mod, got, c.want)
		}
	}
	if _, ok := FormatType(999999, -1); ok {
		t.Error("unknown oid formatted")
	}
	for name, oid := range map[string]int64{"int4": 23, "integer": 23, "pg_catalog.int8": 20, "text[]": 1009,
		"double precision": 701, "character varying": 1043, "numeric(10,2)": 1700, "trigger": 2279} {
		if ty, ok := TypeByName(name); !ok || ty.Oid != oid {
			t.Errorf("TypeByName(%q) = %v", name, ty)
		}
	}
	if oid, mod := TypeOf(&arrow.Decimal128Type{Precision: 15, Scale: 2}); oid != OidNumeric || mod != 15<<16|2+4 {
		t.Errorf("TypeOf(decimal(15,2)) = %d, %d", oid, mod)
	}
}

func TestArrays(t *testing.T) {
	items, err := ParseArray(`{a,"b,c",NULL,"NULL", d\"e ,""}`)
	if err != nil {
		t.Fatal(err)
	}
	var got []any
	for _, it := range items {
		if it == nil {
			got = append(got, nil)
		} else {
			got = append(got, *it)
		}
	}
	want := []any{"a", "b,c", nil, "NULL", `d"e`, ""}
	if len(got) != len(want) {
		t.Fatalf("ParseArray: %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("item %d = %#v, want %#v", i, got[i], want[i])
		}
	}
	if s := FormatArray(items); s != `{a,"b,c",NULL,"NULL","d\"e",""}` {
		t.Errorf("FormatArray = %s", s)
	}
	if items, err := ParseArray("23 25"); err != nil || len(items) != 2 || *items[1] != "25" {
		t.Errorf("oidvector: %v %v", items, err)
	}
	if items, err := ParseArray("{}"); err != nil || len(items) != 0 {
		t.Errorf("empty: %v %v", items, err)
	}
	for _, bad := range []string{"{a", `{"a}`, "{{1},{2}}"} {
		if _, err := ParseArray(bad); err == nil {
			t.Errorf("ParseArray(%q) accepted", bad)
		}
	}
}

func TestOidsStable(t *testing.T) {
	a, b := RelationOid("tpch", "lineitem"), RelationOid("TPCH", "LineItem")
	if a != b || a < 16384 || a >= 1<<31 {
		t.Errorf("RelationOid: %d, %d", a, b)
	}
	if RelationOid("pg_catalog", "pg_class") != 1259 || NamespaceOid("pg_catalog") != OidPgCatalog {
		t.Error("well-known oids")
	}
	if RelationOid("tpch", "orders") == a {
		t.Error("oid collision")
	}
}

func TestSystemTables(t *testing.T) {
	c, err := catalog.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.AddSource("tpch", filepath.Join("..", "..", "testdata", "tpch", "sf0.01")); err != nil {
		t.Fatal(err)
	}
	ctx := catalog.WithSessionInfo(context.Background(), &catalog.SessionInfo{DefaultSchema: "tpch", User: "alice"})
	ds, err := c.Lookup(ctx, []string{"pg_class"}, "tpch")
	if err != nil {
		t.Fatal(err)
	}
	if ds.Kind != catalog.MemoryDataset || ds.Schema.Field(0).Name != "oid" {
		t.Fatalf("pg_class: %v", ds.Schema)
	}
	names := map[string]string{}
	for _, rec := range ds.Memory.Snapshot() {
		rel := rec.Column(1).(*array.String)
		kind := rec.Column(ds.Schema.FieldIndices("relkind")[0]).(*array.String)
		for i := 0; i < int(rec.NumRows()); i++ {
			names[rel.Value(i)] = kind.Value(i)
		}
		rec.Release()
	}
	for _, n := range []string{"lineitem", "nation", "pg_class", "pg_attribute", "tables"} {
		if names[n] == "" {
			t.Errorf("pg_class lacks %s", n)
		}
	}
	if names["tables"] != "v" || names["lineitem"] != "r" {
		t.Errorf("relkinds: %v", names)
	}
	roles, err := c.Lookup(ctx, []string{"pg_catalog", "pg_roles"}, "")
	if err != nil {
		t.Fatal(err)
	}
	recs := roles.Memory.Snapshot()
	if len(recs) != 1 || recs[0].Column(0).(*array.String).Value(0) != "alice" {
		t.Errorf("pg_roles: %v", recs)
	}
	for _, r := range recs {
		r.Release()
	}
	if _, err := c.Lookup(ctx, []string{"information_schema", "no_such_view"}, ""); err == nil {
		t.Error("unknown information_schema table resolved")
	}
	// A user table named like a system table is found when qualified.
	if _, err := c.Lookup(ctx, []string{"tpch", "nation"}, ""); err != nil {
		t.Error(err)
	}
	m, err := Snapshot(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	r := m.ResolveRelation([]string{"lineitem"})
	if r == nil || r.Schema != "tpch" || len(r.Columns) != 16 || !m.Visible(r) {
		t.Fatalf("lineitem: %+v", r)
	}
	if m.QualifiedName(r) != "lineitem" || m.QualifiedName(m.ResolveRelation([]string{"information_schema", "tables"})) != "information_schema.tables" {
		t.Error("QualifiedName")
	}
}
