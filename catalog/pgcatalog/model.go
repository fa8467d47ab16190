package pgcatalog

import (
	"context"
	"hash/fnv"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/quarrydb/quarry/catalog"
)

// How Quarry's catalog looks through PostgreSQL's eyes: every source is a
// schema named like the source, a folder below it is a schema named
// "source.folder" (as the default schema "src.folder" spells it), memory
// tables live in schema "mem", and pg_catalog and information_schema hold
// the system tables. Oids are derived from names, so they are stable
// across restarts.

// Fixed oids of the system namespaces, the owner and the access method.
const (
	OidPgCatalog         = 11
	OidPublic            = 2200
	OidInformationSchema = 13200
	OidOwner             = 10
	OidHeap              = 2
	OidDatabase          = 16384
)

// Oid derives a stable oid from an object kind and its name.
func Oid(kind string, parts ...string) int64 {
	h := fnv.New32a()
	h.Write([]byte(kind))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(strings.ToLower(p)))
	}
	const lo = 16385
	return lo + int64(h.Sum32()%(1<<31-lo))
}

// NamespaceOid is the oid of a schema.
func NamespaceOid(schema string) int64 {
	switch strings.ToLower(schema) {
	case "pg_catalog":
		return OidPgCatalog
	case "information_schema":
		return OidInformationSchema
	case "public":
		return OidPublic
	}
	return Oid("namespace", schema)
}

// RelationOid is the oid of table schema.name.
func RelationOid(schema, name string) int64 {
	if strings.EqualFold(schema, "pg_catalog") {
		if o, ok := wellKnownRelations[strings.ToLower(name)]; ok {
			return o
		}
	}
	return Oid("relation", schema, name)
}

var wellKnownRelations = map[string]int64{
	"pg_type": 1247, "pg_attribute": 1249, "pg_proc": 1255, "pg_class": 1259, "pg_database": 1262,
	"pg_tablespace": 1213, "pg_am": 2601, "pg_attrdef": 2604, "pg_constraint": 2606, "pg_depend": 2608,
	"pg_description": 2609, "pg_index": 2610, "pg_inherits": 2611, "pg_namespace": 2615, "pg_collation": 3456,
}

// Column is one column of a relation.
type Column struct {
	Name    string
	Type    arrow.DataType
	NotNull bool
}

// Relation is a table or view as pg_class shows it.
type Relation struct {
	Oid       int64
	Schema    string
	Name      string
	Kind      string // r table, v view
	Columns   []Column
	Rows      int64
	Namespace int64
}

// Namespace is a schema.
type Namespace struct {
	Oid  int64
	Name string
}

// Model is a snapshot of the catalog in PostgreSQL terms.
type Model struct {
	Namespaces []Namespace
	Relations  []*Relation
	Info       *catalog.SessionInfo
}

// Snapshot reads the catalog: every source's datasets (with their
// columns), the memory tables, the views and the system tables. A dataset
// that cannot be read is left out.
func Snapshot(ctx context.Context, c *catalog.Catalog) (*Model, error) {
	m := &Model{Info: catalog.SessionInfoFrom(ctx)}
	nsSeen := map[string]bool{}
	addNS := func(name string) int64 {
		oid := NamespaceOid(name)
		if !nsSeen[strings.ToLower(name)] {
			nsSeen[strings.ToLower(name)] = true
			m.Namespaces = append(m.Namespaces, Namespace{Oid: oid, Name: name})
		}
		return oid
	}
	addNS("pg_catalog")
	addNS("information_schema")
	addNS(catalog.MemSource)
	srcs, err := c.Sources()
	if err != nil {
		return nil, err
	}
	addDatasets := func(names [][]string) {
		for _, name := range names {
			if err := ctx.Err(); err != nil {
				return
			}
			ds, err := c.Lookup(ctx, name, "")
			if err != nil || ds == nil {
				continue
			}
			schema := strings.Join(name[:len(name)-1], ".")
			rel := &Relation{Schema: schema, Name: name[len(name)-1], Kind: "r", Rows: ds.Rows,
				Namespace: addNS(schema)}
			rel.Oid = RelationOid(schema, rel.Name)
			for _, f := range ds.Schema.Fields() {
				rel.Columns = append(rel.Columns, Column{Name: f.Name, Type: f.Type, NotNull: !f.Nullable})
			}
			m.Relations = append(m.Relations, rel)
		}
	}
	for _, s := range srcs {
		addNS(s.Name)
		names, err := c.ListDatasets(ctx, s.Name)
		if err != nil {
			continue
		}
		addDatasets(names)
	}
	if names, err := c.ListDatasets(ctx, catalog.MemSource); err == nil {
		addDatasets(names)
	}
	if views, err := c.Views(); err == nil {
		for _, v := range views {
			if len(v.Path) == 0 {
				continue
			}
			schema := strings.Join(v.Path[:len(v.Path)-1], ".")
			if schema == "" {
				schema = catalog.MemSource
			}
			rel := &Relation{Schema: schema, Name: v.Path[len(v.Path)-1], Kind: "v", Namespace: addNS(schema)}
			rel.Oid = RelationOid(schema, rel.Name)
			if d := m.Info.DescribeView; d != nil {
				if fields, err := d(v); err == nil {
					for _, f := range fields {
						rel.Columns = append(rel.Columns, Column{Name: f.Name, Type: f.Type})
					}
				}
			}
			m.Relations = append(m.Relations, rel)
		}
	}
	for _, t := range systemTables {
		rel := &Relation{Schema: t.schema, Name: t.name, Kind: t.kind, Namespace: NamespaceOid(t.schema)}
		rel.Oid = RelationOid(t.schema, t.name)
		for _, col := range t.cols {
			rel.Columns = append(rel.Columns, Column{Name: col.name, Type: col.t})
		}
		m.Relations = append(m.Relations, rel)
	}
	sort.SliceStable(m.Namespaces, func(i, j int) bool { return m.Namespaces[i].Name < m.Namespaces[j].Name })
	return m, ctx.Err()
}

// SearchPath is the schemas unqualified names resolve in, in order:
// pg_catalog, the default schema, then memory tables (current_schemas(true)).
func SearchPath(info *catalog.SessionInfo, implicit bool) []string {
	var out []string
	if implicit {
		out = append(out, "pg_catalog")
	}
	if info.DefaultSchema != "" {
		out = append(out, info.DefaultSchema)
	}
	out = append(out, catalog.MemSource)
	return out
}

// Visible reports whether an unqualified name finds the relation
// (pg_table_is_visible).
func (m *Model) Visible(r *Relation) bool {
	for _, s := range SearchPath(m.Info, true) {
		if strings.EqualFold(s, r.Schema) {
			return true
		}
	}
	return false
}

// RelationByOid finds a relation.
func (m *Model) RelationByOid(oid int64) *Relation {
	for _, r := range m.Relations {
		if r.Oid == oid {
			return r
		}
	}
	return nil
}

// ResolveRelation finds a relation by (possibly qualified) name the way
// regclass input does: unqualified names along the search path.
func (m *Model) ResolveRelation(name []string) *Relation {
	if len(name) == 0 {
		return nil
	}
	rel := name[len(name)-1]
	if len(name) > 1 {
		schema := strings.Join(name[:len(name)-1], ".")
		for _, r := range m.Relations {
			if strings.EqualFold(r.Schema, schema) && strings.EqualFold(r.Name, rel) {
				return r
			}
		}
		return nil
	}
	for _, s := range SearchPath(m.Info, true) {
		for _, r := range m.Relations {
			if strings.EqualFold(r.Schema, s) && strings.EqualFold(r.Name, rel) {
				return r
			}
		}
	}
	return nil
}

// QualifiedName is how regclass output names a relation: bare when
// visible, else schema-qualified.
func (m *Model) QualifiedName(r *Relation) string {
	if m.Visible(r) {
		return quoteIdent(r.Name)
	}
	return quoteIdent(r.Schema) + "." + quoteIdent(r.Name)
}

func quoteIdent(s string) string {
	plain := s != ""
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
