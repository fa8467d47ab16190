package pgcatalog

import (
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/quarrydb/quarry/catalog"
)

// The system tables, with PostgreSQL 15's column names. Types: oid and
// xid columns are BIGINT (an oid is unsigned 32-bit), int2/int4 INTEGER,
// "char", name and text VARCHAR, and arrays VARCHAR in PostgreSQL's text
// form ('{a,b}'); Quarry has no array type.

type colDef struct {
	name string
	t    arrow.DataType
}

type tableDef struct {
	schema, name, kind string
	cols               []colDef
	rows               func(m *Model) [][]any // nil: always empty
}

var (
	tOid  arrow.DataType = arrow.PrimitiveTypes.Int64
	tInt  arrow.DataType = arrow.PrimitiveTypes.Int32
	tText arrow.DataType = arrow.BinaryTypes.String
	tBool arrow.DataType = arrow.FixedWidthTypes.Boolean
	tReal arrow.DataType = arrow.PrimitiveTypes.Float64
)

// cols parses "name:k name:k …" with k one of o (oid), i (int), t (text),
// b (bool), f (float).
func cols(spec string) []colDef {
	var out []colDef
	for _, f := range strings.Fields(spec) {
		name, k, _ := strings.Cut(f, ":")
		t := map[string]arrow.DataType{"o": tOid, "i": tInt, "t": tText, "b": tBool, "f": tReal}[k]
		if t == nil {
			panic("pgcatalog: bad column spec " + f)
		}
		out = append(out, colDef{name, t})
	}
	return out
}

var systemTables []*tableDef

var systemIndex = map[string]*tableDef{} // "schema.name" →

// pgCatalogNames are the pg_catalog tables (for unqualified lookups).
var pgCatalogNames = map[string]bool{}

func def(schema, name, kind, spec string, rows func(m *Model) [][]any) {
	t := &tableDef{schema: schema, name: name, kind: kind, cols: cols(spec), rows: rows}
	systemTables = append(systemTables, t)
	systemIndex[schema+"."+name] = t
	if schema == "pg_catalog" {
		pgCatalogNames[name] = true
	}
}

func b2s(b bool) string {
	if b {
		return "YES"
	}
	return "NO"
}

func (m *Model) user() string {
	if m.Info.User != "" {
		return m.Info.User
	}
	return DefaultUser
}

func (m *Model) database() string {
	if m.Info.Database != "" {
		return m.Info.Database
	}
	return DefaultDatabase
}

// userRelations are the relations outside the system schemas.
func (m *Model) userRelations() []*Relation {
	var out []*Relation
	for _, r := range m.Relations {
		if !catalog.IsSystemSchema(r.Schema) {
			out = append(out, r)
		}
	}
	return out
}

// RelTypeOid is the oid of a relation's row type (pg_type.typrelid).
func RelTypeOid(r *Relation) int64 { return Oid("reltype", r.Schema, r.Name) }

func attLen(oid int64) int32 {
	if t, ok := typesByOid[oid]; ok {
		return t.Len
	}
	return -1
}

func init() {
	const pc = "pg_catalog"
	def(pc, "pg_namespace", "r", "oid:o nspname:t nspowner:o nspacl:t", func(m *Model) [][]any {
		var out [][]any
		for _, n := range m.Namespaces {
			out = append(out, []any{n.Oid, n.Name, int64(OidOwner), nil})
		}
		return out
	})
	def(pc, "pg_class", "r", "oid:o relname:t relnamespace:o reltype:o reloftype:o relowner:o relam:o "+
		"relfilenode:o reltablespace:o relpages:i reltuples:f relallvisible:i reltoastrelid:o relhasindex:b "+
		"relisshared:b relpersistence:t relkind:t relnatts:i relchecks:i relhasrules:b relhastriggers:b "+
		"relhassubclass:b relrowsecurity:b relforcerowsecurity:b relispopulated:b relreplident:t "+
		"relispartition:b relrewrite:o relfrozenxid:o relminmxid:o relacl:t reloptions:t relpartbound:t",
		func(m *Model) [][]any {
			var out [][]any
			for _, r := range m.Relations {
				am, filenode := int64(OidHeap), r.Oid
				if r.Kind == "v" {
					am, filenode = 0, 0
				}
				out = append(out, []any{r.Oid, r.Name, r.Namespace, RelTypeOid(r), int64(0), int64(OidOwner), am,
					filenode, int64(0), int32(0), float64(r.Rows), int32(0), int64(0), false,
					false, "p", r.Kind, int32(len(r.Columns)), int32(0), false, false,
					false, false, false, true, "d",
					false, int64(0), int64(0), int64(0), nil, nil, nil})
			}
			return out
		})
	def(pc, "pg_attribute", "r", "attrelid:o attname:t atttypid:o attstattarget:i attlen:i attnum:i attndims:i "+
		"attcacheoff:i atttypmod:i attbyval:b attalign:t attstorage:t attcompression:t attnotnull:b atthasdef:b "+
		"atthasmissing:b attidentity:t attgenerated:t attisdropped:b attislocal:b attinhcount:i attcollation:o "+
		"attacl:t attoptions:t attfdwoptions:t attmissingval:t",
		func(m *Model) [][]any {
			var out [][]any
			for _, r := range m.Relations {
				for i, c := range r.Columns {
					oid, mod := TypeOf(c.Type)
					t := typesByOid[oid]
					coll := int64(0)
					if t.Category == "S" {
						coll = 100
					}
					storage := "p"
					if t.Len == -1 {
						storage = "x"
					}
					out = append(out, []any{r.Oid, c.Name, oid, int32(-1), t.Len, int32(i + 1), int32(0),
						int32(-1), mod, t.ByVal, t.Align, storage, "", c.NotNull, false,
						false, "", "", false, true, int32(0), coll,
						nil, nil, nil, nil})
				}
			}
			return out
		})
	def(pc, "pg_type", "r", "oid:o typname:t typnamespace:o typowner:o typlen:i typbyval:b typtype:t "+
		"typcategory:t typispreferred:b typisdefined:b typdelim:t typrelid:o typsubscript:t typelem:o typarray:o "+
		"typinput:t typoutput:t typreceive:t typsend:t typmodin:t typmodout:t typanalyze:t typalign:t typstorage:t "+
		"typnotnull:b typbasetype:o typtypmod:i typndims:i typcollation:o typdefaultbin:t typdefault:t typacl:t",
		func(m *Model) [][]any {
			var out [][]any
			for _, t := range allTypes {
				subscript, storage, coll := "-", "p", int64(0)
				if t.Category == "A" {
					subscript = "array_subscript_handler"
				}
				if t.Len == -1 {
					storage = "x"
				}
				if t.Category == "S" {
					coll = 100
				}
				pref := t.Oid == OidText || t.Oid == OidFloat8 || t.Oid == OidBool || t.Oid == OidOid || t.Oid == OidTimestamptz || t.Oid == OidInterval
				out = append(out, []any{t.Oid, t.Name, int64(OidPgCatalog), int64(OidOwner), t.Len, t.ByVal, t.Type,
					t.Category, pref, true, ",", int64(0), subscript, t.Elem, t.Array,
					t.Input, t.Output, strings.TrimSuffix(t.Input, "in") + "recv", strings.TrimSuffix(t.Output, "out") + "send", "-", "-", "-", t.Align, storage,
					false, int64(0), int32(-1), int32(0), coll, nil, nil, nil})
			}
			for _, r := range m.Relations {
				out = append(out, []any{RelTypeOid(r), r.Name, r.Namespace, int64(OidOwner), int32(-1), false, "c",
					"C", false, true, ",", r.Oid, "-", int64(0), int64(0),
					"record_in", "record_out", "record_recv", "record_send", "-", "-", "-", "d", "x",
					false, int64(0), int32(-1), int32(0), int64(0), nil, nil, nil})
			}
			return out
		})
	def(pc, "pg_database", "r", "oid:o datname:t datdba:o encoding:i datlocprovider:t datistemplate:b datallowconn:b "+
		"datconnlimit:i datfrozenxid:o datminmxid:o dattablespace:o datcollate:t datctype:t daticulocale:t "+
		"datcollversion:t datacl:t",
		func(m *Model) [][]any {
			return [][]any{{int64(OidDatabase), m.database(), int64(OidOwner), int32(6), "c", false, true,
				int32(-1), int64(0), int64(1), int64(1663), "C.UTF-8", "C.UTF-8", nil, nil, nil}}
		})
	def(pc, "pg_am", "r", "oid:o amname:t amhandler:t amtype:t", func(m *Model) [][]any {
		return [][]any{{int64(OidHeap), "heap", "heap_tableam_handler", "t"}, {int64(403), "btree", "bthandler", "i"}}
	})
	def(pc, "pg_index", "r", "indexrelid:o indrelid:o indnatts:i indnkeyatts:i indisunique:b indnullsnotdistinct:b "+
		"indisprimary:b indisexclusion:b indimmediate:b indisclustered:b indisvalid:b indcheckxmin:b indisready:b "+
		"indislive:b indisreplident:b indkey:t indcollation:t indclass:t indoption:t indexprs:t indpred:t", nil)
	def(pc, "pg_constraint", "r", "oid:o conname:t connamespace:o contype:t condeferrable:b condeferred:b "+
		"convalidated:b conrelid:o contypid:o conindid:o conparentid:o confrelid:o confupdtype:t confdeltype:t "+
		"confmatchtype:t conislocal:b coninhcount:i connoinherit:b conkey:t confkey:t conpfeqop:t conppeqop:t "+
		"conffeqop:t confdelsetcols:t conexclop:t conbin:t", nil)
	def(pc, "pg_description", "r", "objoid:o classoid:o objsubid:i description:t", nil)
	def(pc, "pg_shdescription", "r", "objoid:o classoid:o description:t", nil)
	def(pc, "pg_attrdef", "r", "oid:o adrelid:o adnum:i adbin:t", nil)
	def(pc, "pg_proc", "r", "oid:o proname:t pronamespace:o proowner:o prolang:o procost:f prorows:f "+
		"provariadic:o prosupport:t prokind:t prosecdef:b proleakproof:b proisstrict:b proretset:b provolatile:t "+
		"proparallel:t pronargs:i pronargdefaults:i prorettype:o proargtypes:t proallargtypes:t proargmodes:t "+
		"proargnames:t proargdefaults:t protrftypes:t prosrc:t probin:t prosqlbody:t proconfig:t proacl:t",
		func(m *Model) [][]any {
			var out [][]any
			for _, f := range builtinFuncs {
				var args []string
				for _, a := range f.args {
					args = append(args, strconv.FormatInt(a, 10))
				}
				out = append(out, []any{Oid("proc", f.name, strings.Join(args, " ")), f.name, int64(OidPgCatalog),
					int64(OidOwner), int64(12), float64(1), float64(0), int64(0), "-", f.kind, false, false,
					true, f.retset, "i", "s", int32(len(f.args)), int32(0), f.ret, strings.Join(args, " "), nil, nil,
					nil, nil, nil, f.name, nil, nil, nil, nil})
			}
			return out
		})
	def(pc, "pg_roles", "v", "rolname:t rolsuper:b rolinherit:b rolcreaterole:b rolcreatedb:b rolcanlogin:b "+
		"rolreplication:b rolconnlimit:i rolpassword:t rolvaliduntil:t rolbypassrls:b rolconfig:t oid:o",
		func(m *Model) [][]any {
			return [][]any{{m.user(), true, true, true, true, true, false, int32(-1), "********", nil, true, nil, int64(OidOwner)}}
		})
	def(pc, "pg_user", "v", "usename:t usesysid:o usecreatedb:b usesuper:b userepl:b usebypassrls:b passwd:t "+
		"valuntil:t useconfig:t",
		func(m *Model) [][]any {
			return [][]any{{m.user(), int64(OidOwner), true, true, false, true, "********", nil, nil}}
		})
	def(pc, "pg_authid", "r", "oid:o rolname:t rolsuper:b rolinherit:b rolcreaterole:b rolcreatedb:b rolcanlogin:b "+
		"rolreplication:b rolbypassrls:b rolconnlimit:i rolpassword:t rolvaliduntil:t",
		func(m *Model) [][]any {
			return [][]any{{int64(OidOwner), m.user(), true, true, true, true, true, false, true, int32(-1), nil, nil}}
		})
	def(pc, "pg_settings", "v", "name:t setting:t unit:t category:t short_desc:t extra_desc:t context:t vartype:t "+
		"source:t min_val:t max_val:t enumvals:t boot_val:t reset_val:t sourcefile:t sourceline:i pending_restart:b",
		func(m *Model) [][]any {
			var out [][]any
			for _, s := range Settings(sessionSettings(m.Info)) {
				var unit any
				if s.Unit != "" {
					unit = s.Unit
				}
				boot := s.Value
				if d, ok := LookupSetting(s.Name); ok {
					boot = d.Value
				}
				source := "default"
				if s.Value != boot {
					source = "session"
				}
				out = append(out, []any{s.Name, s.Value, unit, s.Category, s.Desc, nil, s.Context, s.VarType,
					source, nil, nil, nil, boot, boot, nil, nil, false})
			}
			return out
		})
	def(pc, "pg_tablespace", "r", "oid:o spcname:t spcowner:o spcacl:t spcoptions:t", func(m *Model) [][]any {
		return [][]any{{int64(1663), "pg_default", int64(OidOwner), nil, nil}, {int64(1664), "pg_global", int64(OidOwner), nil, nil}}
	})
	def(pc, "pg_inherits", "r", "inhrelid:o inhparent:o inhseqno:i inhdetachpending:b", nil)
	def(pc, "pg_collation", "r", "oid:o collname:t collnamespace:o collowner:o collprovider:t collisdeterministic:b "+
		"collencoding:i collcollate:t collctype:t colliculocale:t collversion:t",
		func(m *Model) [][]any {
			return [][]any{
				{int64(100), "default", int64(OidPgCatalog), int64(OidOwner), "d", true, int32(-1), nil, nil, nil, nil},
				{int64(950), "C", int64(OidPgCatalog), int64(OidOwner), "c", true, int32(-1), "C", "C", nil, nil},
				{int64(951), "POSIX", int64(OidPgCatalog), int64(OidOwner), "c", true, int32(-1), "POSIX", "POSIX", nil, nil},
			}
		})
	def(pc, "pg_policy", "r", "oid:o polname:t polrelid:o polcmd:t polpermissive:b polroles:t polqual:t polwithcheck:t", nil)
	def(pc, "pg_statistic_ext", "r", "oid:o stxrelid:o stxname:t stxnamespace:o stxowner:o stxstattarget:i "+
		"stxkeys:t stxkind:t stxexprs:t", nil)
	def(pc, "pg_publication", "r", "oid:o pubname:t pubowner:o puballtables:b pubinsert:b pubupdate:b pubdelete:b "+
		"pubtruncate:b pubviaroot:b", nil)
	def(pc, "pg_publication_namespace", "r", "oid:o pnpubid:o pnnspid:o", nil)
	def(pc, "pg_publication_rel", "r", "oid:o prpubid:o prrelid:o prqual:t prattrs:t", nil)
	def(pc, "pg_depend", "r", "classid:o objid:o objsubid:i refclassid:o refobjid:o refobjsubid:i deptype:t", nil)
	def(pc, "pg_extension", "r", "oid:o extname:t extowner:o extnamespace:o extrelocatable:b extversion:t "+
		"extconfig:t extcondition:t", nil)
	def(pc, "pg_partitioned_table", "r", "partrelid:o partstrat:t partnatts:i partdefid:o partattrs:t partclass:t "+
		"partcollation:t partexprs:t", nil)
	def(pc, "pg_trigger", "r", "oid:o tgrelid:o tgparentid:o tgname:t tgfoid:o tgtype:i tgenabled:t tgisinternal:b "+
		"tgconstrrelid:o tgconstrindid:o tgconstraint:o tgdeferrable:b tginitdeferred:b tgnargs:i tgattr:t "+
		"tgargs:t tgqual:t tgoldtable:t tgnewtable:t", nil)
	def(pc, "pg_rewrite", "r", "oid:o rulename:t ev_class:o ev_type:t ev_enabled:t is_instead:b ev_qual:t ev_action:t", nil)
	def(pc, "pg_enum", "r", "oid:o enumtypid:o enumsortorder:f enumlabel:t", nil)
	def(pc, "pg_range", "r", "rngtypid:o rngsubtype:o rngmultitypid:o rngcollation:o rngsubopc:o "+
		"rngcanonical:t rngsubdiff:t", nil)
	def(pc, "pg_sequence", "r", "seqrelid:o seqtypid:o seqstart:o seqincrement:o seqmax:o seqmin:o seqcache:o seqcycle:b", nil)
	def(pc, "pg_foreign_table", "r", "ftrelid:o ftserver:o ftoptions:t", nil)
	def(pc, "pg_event_trigger", "r", "oid:o evtname:t evtevent:t evtowner:o evtfoid:o evtenabled:t evttags:t", nil)
	def(pc, "pg_tables", "v", "schemaname:t tablename:t tableowner:t tablespace:t hasindexes:b hasrules:b "+
		"hastriggers:b rowsecurity:b",
		func(m *Model) [][]any {
			var out [][]any
			for _, r := range m.Relations {
				if r.Kind == "r" {
					out = append(out, []any{r.Schema, r.Name, m.user(), nil, false, false, false, false})
				}
			}
			return out
		})
	def(pc, "pg_views", "v", "schemaname:t viewname:t viewowner:t definition:t", func(m *Model) [][]any {
		var out [][]any
		for _, r := range m.Relations {
			if r.Kind == "v" && !catalog.IsSystemSchema(r.Schema) {
				out = append(out, []any{r.Schema, r.Name, m.user(), nil})
			}
		}
		return out
	})
	def(pc, "pg_matviews", "v", "schemaname:t matviewname:t matviewowner:t tablespace:t hasindexes:b ispopulated:b "+
		"definition:t", nil)
	def(pc, "pg_stat_activity", "v", "datid:o datname:t pid:i leader_pid:i usesysid:o usename:t application_name:t "+
		"client_addr:t client_hostname:t client_port:i backend_start:t xact_start:t query_start:t state_change:t "+
		"wait_event_type:t wait_event:t state:t backend_xid:o backend_xmin:o query_id:o query:t backend_type:t", nil)

	const is = "information_schema"
	def(is, "schemata", "v", "catalog_name:t schema_name:t schema_owner:t default_character_set_catalog:t "+
		"default_character_set_schema:t default_character_set_name:t sql_path:t",
		func(m *Model) [][]any {
			var out [][]any
			for _, n := range m.Namespaces {
				out = append(out, []any{m.database(), n.Name, m.user(), nil, nil, nil, nil})
			}
			return out
		})
	def(is, "tables", "v", "table_catalog:t table_schema:t table_name:t table_type:t self_referencing_column_name:t "+
		"reference_generation:t user_defined_type_catalog:t user_defined_type_schema:t user_defined_type_name:t "+
		"is_insertable_into:t is_typed:t commit_action:t",
		func(m *Model) [][]any {
			var out [][]any
			for _, r := range m.Relations {
				typ := "BASE TABLE"
				if r.Kind == "v" {
					typ = "VIEW"
				}
				insertable := r.Schema == catalog.MemSource && r.Kind == "r"
				out = append(out, []any{m.database(), r.Schema, r.Name, typ, nil, nil, nil, nil, nil,
					b2s(insertable), "NO", nil})
			}
			return out
		})
	def(is, "columns", "v", "table_catalog:t table_schema:t table_name:t column_name:t ordinal_position:i "+
		"column_default:t is_nullable:t data_type:t character_maximum_length:i character_octet_length:i "+
		"numeric_precision:i numeric_precision_radix:i numeric_scale:i datetime_precision:i interval_type:t "+
		"interval_precision:i character_set_catalog:t character_set_schema:t character_set_name:t "+
		"collation_catalog:t collation_schema:t collation_name:t domain_catalog:t domain_schema:t domain_name:t "+
		"udt_catalog:t udt_schema:t udt_name:t scope_catalog:t scope_schema:t scope_name:t "+
		"maximum_cardinality:i dtd_identifier:t is_self_referencing:t is_identity:t identity_generation:t "+
		"identity_start:t identity_increment:t identity_maximum:t identity_minimum:t identity_cycle:t "+
		"is_generated:t generation_expression:t is_updatable:t",
		func(m *Model) [][]any {
			var out [][]any
			for _, r := range m.Relations {
				for i, c := range r.Columns {
					oid, mod := TypeOf(c.Type)
					t := typesByOid[oid]
					var prec, radix, scale, dtprec any
					switch oid {
					case OidInt2:
						prec, radix, scale = int32(16), int32(2), int32(0)
					case OidInt4:
						prec, radix, scale = int32(32), int32(2), int32(0)
					case OidInt8:
						prec, radix, scale = int32(64), int32(2), int32(0)
					case OidFloat4:
						prec, radix = int32(24), int32(2)
					case OidFloat8:
						prec, radix = int32(53), int32(2)
					case OidNumeric:
						radix = int32(10)
						if mod >= 4 {
							prec, scale = (mod-4)>>16, (mod-4)&0xffff
						}
					case OidDate:
						dtprec = int32(0)
					case OidTimestamp, OidTimestamptz:
						dtprec = int32(6)
					}
					dataType := t.Format
					if oid == OidNumeric {
						dataType = "numeric"
					}
					out = append(out, []any{m.database(), r.Schema, r.Name, c.Name, int32(i + 1),
						nil, b2s(!c.NotNull), dataType, nil, nil,
						prec, radix, scale, dtprec, nil,
						nil, nil, nil, nil,
						nil, nil, nil, nil, nil, nil,
						m.database(), "pg_catalog", t.Name, nil, nil, nil,
						nil, strconv.Itoa(i + 1), "NO", "NO", nil,
						nil, nil, nil, nil, "NO",
						"NEVER", nil, b2s(r.Schema == catalog.MemSource && r.Kind == "r")})
				}
			}
			return out
		})
	def(is, "views", "v", "table_catalog:t table_schema:t table_name:t view_definition:t check_option:t "+
		"is_updatable:t is_insertable_into:t is_trigger_updatable:t is_trigger_deletable:t "+
		"is_trigger_insertable_into:t",
		func(m *Model) [][]any {
			var out [][]any
			for _, r := range m.userRelations() {
				if r.Kind == "v" {
					out = append(out, []any{m.database(), r.Schema, r.Name, nil, "NONE", "NO", "NO", "NO", "NO", "NO"})
				}
			}
			return out
		})
	def(is, "routines", "v", "specific_catalog:t specific_schema:t specific_name:t routine_catalog:t "+
		"routine_schema:t routine_name:t routine_type:t data_type:t", nil)
}

// sessionSettings are the session's SET values keyed in lower case.
func sessionSettings(info *catalog.SessionInfo) map[string]string {
	out := map[string]string{}
	for k, v := range info.Settings {
		out[strings.ToLower(k)] = v
	}
	if info.User != "" {
		out["session_authorization"] = info.User
	}
	return out
}

// builtinFunc is a pg_proc row.
type builtinFunc struct {
	name   string
	ret    int64
	args   []int64
	kind   string // f function, a aggregate, w window
	retset bool
}

var builtinFuncs = []builtinFunc{
	{name: "abs", ret: OidFloat8, args: []int64{OidFloat8}, kind: "f"},
	{name: "array_in", ret: 2277, args: []int64{2275, OidOid, OidInt4}, kind: "f"},
	{name: "array_to_string", ret: OidText, args: []int64{2277, OidText}, kind: "f"},
	{name: "avg", ret: OidNumeric, args: []int64{OidNumeric}, kind: "a"},
	{name: "coalesce", ret: 2283, args: []int64{2283}, kind: "f"},
	{name: "count", ret: OidInt8, args: []int64{2276}, kind: "a"},
	{name: "current_database", ret: OidName, kind: "f"},
	{name: "current_schema", ret: OidName, kind: "f"},
	{name: "current_schemas", ret: 1003, args: []int64{OidBool}, kind: "f"},
	{name: "date_trunc", ret: OidTimestamp, args: []int64{OidText, OidTimestamp}, kind: "f"},
	{name: "dense_rank", ret: OidInt8, kind: "w"},
	{name: "format_type", ret: OidText, args: []int64{OidOid, OidInt4}, kind: "f"},
	{name: "generate_series", ret: OidInt8, args: []int64{OidInt8, OidInt8}, kind: "f", retset: true},
	{name: "length", ret: OidInt4, args: []int64{OidText}, kind: "f"},
	{name: "lower", ret: OidText, args: []int64{OidText}, kind: "f"},
	{name: "max", ret: 2283, args: []int64{2283}, kind: "a"},
	{name: "min", ret: 2283, args: []int64{2283}, kind: "a"},
	{name: "now", ret: OidTimestamptz, kind: "f"},
	{name: "pg_get_expr", ret: OidText, args: []int64{OidText, OidOid}, kind: "f"},
	{name: "pg_get_userbyid", ret: OidName, args: []int64{OidOid}, kind: "f"},
	{name: "pg_table_is_visible", ret: OidBool, args: []int64{OidOid}, kind: "f"},
	{name: "rank", ret: OidInt8, kind: "w"},
	{name: "regexp_like", ret: OidBool, args: []int64{OidText, OidText}, kind: "f"},
	{name: "replace", ret: OidText, args: []int64{OidText, OidText, OidText}, kind: "f"},
	{name: "round", ret: OidNumeric, args: []int64{OidNumeric, OidInt4}, kind: "f"},
	{name: "row_number", ret: OidInt8, kind: "w"},
	{name: "split_part", ret: OidText, args: []int64{OidText, OidText, OidInt4}, kind: "f"},
	{name: "substring", ret: OidText, args: []int64{OidText, OidInt4, OidInt4}, kind: "f"},
	{name: "sum", ret: OidNumeric, args: []int64{OidNumeric}, kind: "a"},
	{name: "unnest", ret: 2283, args: []int64{2277}, kind: "f", retset: true},
	{name: "upper", ret: OidText, args: []int64{OidText}, kind: "f"},
	{name: "version", ret: OidText, kind: "f"},
}
