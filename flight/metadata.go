package flight

import (
	"context"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql/schema_ref"
)

// Quarry has no catalogs: tables are named schema.table, where the schema
// is a source ("tpch"), a folder in one ("src.folder") or "mem". GetCatalogs
// is empty and catalog_name is NULL everywhere, as Dremio reports; a
// catalog filter other than "" matches nothing.

// metaInfo describes a metadata listing: its ticket is the command itself.
func (s *Server) metaInfo(desc *flight.FlightDescriptor, schema *arrow.Schema) *flight.FlightInfo {
	return &flight.FlightInfo{
		Schema:           flight.SerializeSchema(schema, s.alloc),
		FlightDescriptor: desc,
		Endpoint:         []*flight.FlightEndpoint{{Ticket: &flight.Ticket{Ticket: desc.GetCmd()}}},
		TotalRecords:     -1,
		TotalBytes:       -1,
	}
}

// oneBatch streams rec (taking its reference).
func oneBatch(rec arrow.Record) <-chan flight.StreamChunk {
	ch := make(chan flight.StreamChunk, 1)
	ch <- flight.StreamChunk{Data: rec}
	close(ch)
	return ch
}

// noRows is an empty stream (DoGet still sends the listing's schema).
func noRows() <-chan flight.StreamChunk {
	ch := make(chan flight.StreamChunk)
	close(ch)
	return ch
}

func catalogMatches(catalog *string) bool { return catalog == nil || *catalog == "" }

func (s *Server) GetFlightInfoCatalogs(_ context.Context, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.metaInfo(desc, schema_ref.Catalogs), nil
}

func (s *Server) DoGetCatalogs(context.Context) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	return schema_ref.Catalogs, noRows(), nil
}

func (s *Server) GetFlightInfoSchemas(_ context.Context, _ flightsql.GetDBSchemas, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.metaInfo(desc, schema_ref.DBSchemas), nil
}

func (s *Server) DoGetDBSchemas(ctx context.Context, cmd flightsql.GetDBSchemas) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	if !catalogMatches(cmd.GetCatalog()) {
		return schema_ref.DBSchemas, noRows(), nil
	}
	names, err := s.schemaNames(ctx)
	if err != nil {
		return nil, nil, toStatus(err)
	}
	b := array.NewRecordBuilder(s.alloc, schema_ref.DBSchemas)
	defer b.Release()
	for _, n := range names {
		if !likeMatch(cmd.GetDBSchemaFilterPattern(), n) {
			continue
		}
		b.Field(0).AppendNull()
		b.Field(1).(*array.StringBuilder).Append(n)
	}
	return schema_ref.DBSchemas, oneBatch(b.NewRecord()), nil
}

// schemaNames lists the backend's schemas and those tables live in,
// sorted, without duplicates (compared case-insensitively).
func (s *Server) schemaNames(ctx context.Context) ([]string, error) {
	schemas, err := s.backend.Schemas(ctx)
	if err != nil {
		return nil, err
	}
	tables, err := s.backend.Tables(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	add := func(n string) {
		if n != "" && !seen[strings.ToLower(n)] {
			seen[strings.ToLower(n)] = true
			out = append(out, n)
		}
	}
	for _, n := range schemas {
		add(n)
	}
	for _, t := range tables {
		add(t.Schema)
	}
	sort.Strings(out)
	return out, nil
}

func (s *Server) GetFlightInfoTables(_ context.Context, cmd flightsql.GetTables, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	if cmd.GetIncludeSchema() {
		return s.metaInfo(desc, schema_ref.TablesWithIncludedSchema), nil
	}
	return s.metaInfo(desc, schema_ref.Tables), nil
}

func (s *Server) DoGetTables(ctx context.Context, cmd flightsql.GetTables) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	schema := schema_ref.Tables
	if cmd.GetIncludeSchema() {
		schema = schema_ref.TablesWithIncludedSchema
	}
	if !catalogMatches(cmd.GetCatalog()) {
		return schema, noRows(), nil
	}
	tables, err := s.backend.Tables(ctx)
	if err != nil {
		return nil, nil, toStatus(err)
	}
	sort.Slice(tables, func(i, j int) bool {
		a, b := tables[i], tables[j]
		if a.Schema != b.Schema {
			return a.Schema < b.Schema
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Type < b.Type
	})
	types := cmd.GetTableTypes()
	b := array.NewRecordBuilder(s.alloc, schema)
	defer b.Release()
	for _, t := range tables {
		if !likeMatch(cmd.GetDBSchemaFilterPattern(), t.Schema) || !likeMatch(cmd.GetTableNameFilterPattern(), t.Name) {
			continue
		}
		if len(types) > 0 && !containsFold(types, t.Type) {
			continue
		}
		b.Field(0).AppendNull()
		if t.Schema == "" {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.StringBuilder).Append(t.Schema)
		}
		b.Field(2).(*array.StringBuilder).Append(t.Name)
		b.Field(3).(*array.StringBuilder).Append(t.Type)
		if cmd.GetIncludeSchema() {
			cols, err := s.backend.TableSchema(ctx, t)
			if err != nil {
				if ctx.Err() != nil {
					return nil, nil, toStatus(ctx.Err())
				}
				// A view that no longer binds still lists, without columns.
				s.log.Info("Flight SQL GetTables: no schema", "table", strings.Join(t.Path, "."), "err", err)
				cols = emptySchema
			}
			cols = describeColumns(cols, t.Schema, t.Name)
			b.Field(4).(*array.BinaryBuilder).Append(flight.SerializeSchema(cols, s.alloc))
		}
	}
	return schema, oneBatch(b.NewRecord()), nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func (s *Server) GetFlightInfoTableTypes(_ context.Context, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.metaInfo(desc, schema_ref.TableTypes), nil
}

func (s *Server) DoGetTableTypes(context.Context) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	b := array.NewRecordBuilder(s.alloc, schema_ref.TableTypes)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues([]string{TableTypeTable, TableTypeView}, nil)
	return schema_ref.TableTypes, oneBatch(b.NewRecord()), nil
}

// Quarry has no keys: the key listings are empty, with the spec's schemas.

func (s *Server) GetFlightInfoPrimaryKeys(_ context.Context, _ flightsql.TableRef, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.metaInfo(desc, schema_ref.PrimaryKeys), nil
}

func (s *Server) DoGetPrimaryKeys(context.Context, flightsql.TableRef) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	return schema_ref.PrimaryKeys, noRows(), nil
}

func (s *Server) GetFlightInfoExportedKeys(_ context.Context, _ flightsql.TableRef, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.metaInfo(desc, schema_ref.ExportedKeys), nil
}

func (s *Server) DoGetExportedKeys(context.Context, flightsql.TableRef) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	return schema_ref.ExportedKeys, noRows(), nil
}

func (s *Server) GetFlightInfoImportedKeys(_ context.Context, _ flightsql.TableRef, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.metaInfo(desc, schema_ref.ImportedKeys), nil
}

func (s *Server) DoGetImportedKeys(context.Context, flightsql.TableRef) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	return schema_ref.ImportedKeys, noRows(), nil
}

func (s *Server) GetFlightInfoCrossReference(_ context.Context, _ flightsql.CrossTableRef, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.metaInfo(desc, schema_ref.CrossReference), nil
}

func (s *Server) DoGetCrossReference(context.Context, flightsql.CrossTableRef) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	return schema_ref.CrossReference, noRows(), nil
}

// likeMatch matches s against a SQL LIKE pattern (% any run, _ one
// character, \ escapes), case-insensitively as Quarry resolves names. A nil
// pattern matches everything.
func likeMatch(pattern *string, s string) bool {
	if pattern == nil {
		return true
	}
	p := []rune(strings.ToLower(*pattern))
	r := []rune(strings.ToLower(s))
	// Iterative match with backtracking to the last %.
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(r) {
		if pi < len(p) {
			switch c := p[pi]; {
			case c == '%':
				starP, starS = pi, si
				pi++
				continue
			case c == '\\' && pi+1 < len(p):
				if p[pi+1] == r[si] {
					pi += 2
					si++
					continue
				}
			case c == '_' || c == r[si]:
				pi++
				si++
				continue
			}
		}
		if starP < 0 {
			return false
		}
		starS++
		pi, si = starP+1, starS
	}
	for pi < len(p) && p[pi] == '%' {
		pi++
	}
	return pi == len(p)
}

// --- XDBC type info ------------------------------------------------------

// xdbcType is one row of GetXdbcTypeInfo.
type xdbcType struct {
	name       string
	dataType   int32 // XdbcDataType
	columnSize int32 // 0: NULL
	prefix     string
	suffix     string
	params     []string
	searchable int32
	fixedScale bool
	minScale   int32 // -1: NULL
	maxScale   int32
	subcode    int32 // XdbcDatetimeSubcode; 0: NULL
	radix      int32 // 0: NULL
	unsigned   bool
}

// XDBC codes (arrow.flight.protocol.sql.XdbcDataType, Searchable).
const (
	xdbcBit       = -7
	xdbcBigint    = -5
	xdbcInteger   = 4
	xdbcDouble    = 8
	xdbcDecimal   = 3
	xdbcVarchar   = 12
	xdbcDatetime  = 9 // sql_data_type of DATE and TIMESTAMP
	xdbcDate      = 91
	xdbcTimestamp = 93

	searchableBasic = 2
	searchableFull  = 3
)

// xdbcTypes are Quarry's SQL types, sorted by data_type as the spec asks.
var xdbcTypes = []xdbcType{
	{name: "BOOLEAN", dataType: xdbcBit, columnSize: 1, searchable: searchableBasic, minScale: -1},
	{name: "BIGINT", dataType: xdbcBigint, columnSize: 19, searchable: searchableBasic, minScale: 0, maxScale: 0, radix: 10},
	{name: "DECIMAL", dataType: xdbcDecimal, columnSize: 38, params: []string{"precision", "scale"}, searchable: searchableBasic, fixedScale: true, minScale: 0, maxScale: 38, radix: 10},
	{name: "INTEGER", dataType: xdbcInteger, columnSize: 10, searchable: searchableBasic, minScale: 0, maxScale: 0, radix: 10},
	{name: "DOUBLE", dataType: xdbcDouble, columnSize: 15, searchable: searchableBasic, minScale: -1, radix: 2},
	{name: "VARCHAR", dataType: xdbcVarchar, columnSize: 65536, prefix: "'", suffix: "'", params: []string{"length"}, searchable: searchableFull, minScale: -1},
	{name: "DATE", dataType: xdbcDate, columnSize: 10, prefix: "DATE '", suffix: "'", searchable: searchableBasic, minScale: -1, subcode: 1},
	{name: "TIMESTAMP", dataType: xdbcTimestamp, columnSize: 26, prefix: "TIMESTAMP '", suffix: "'", searchable: searchableBasic, minScale: 0, maxScale: 6, subcode: 3},
}

func (s *Server) GetFlightInfoXdbcTypeInfo(_ context.Context, _ flightsql.GetXdbcTypeInfo, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.metaInfo(desc, schema_ref.XdbcTypeInfo), nil
}

func (s *Server) DoGetXdbcTypeInfo(_ context.Context, cmd flightsql.GetXdbcTypeInfo) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	b := array.NewRecordBuilder(s.alloc, schema_ref.XdbcTypeInfo)
	defer b.Release()
	str := func(i int, v string) {
		if v == "" {
			b.Field(i).AppendNull()
		} else {
			b.Field(i).(*array.StringBuilder).Append(v)
		}
	}
	i32 := func(i int, v int32, null bool) {
		if null {
			b.Field(i).AppendNull()
		} else {
			b.Field(i).(*array.Int32Builder).Append(v)
		}
	}
	boolean := func(i int, v bool) { b.Field(i).(*array.BooleanBuilder).Append(v) }
	for _, t := range xdbcTypes {
		if dt := cmd.GetDataType(); dt != nil && *dt != t.dataType {
			continue
		}
		str(0, t.name)
		i32(1, t.dataType, false)
		i32(2, t.columnSize, t.columnSize == 0)
		str(3, t.prefix)
		str(4, t.suffix)
		if t.params == nil {
			b.Field(5).AppendNull()
		} else {
			lb := b.Field(5).(*array.ListBuilder)
			lb.Append(true)
			lb.ValueBuilder().(*array.StringBuilder).AppendValues(t.params, nil)
		}
		i32(6, 1, false) // NULLABILITY_NULLABLE
		boolean(7, t.dataType == xdbcVarchar)
		i32(8, t.searchable, false)
		if t.radix == 0 {
			b.Field(9).AppendNull()
		} else {
			boolean(9, t.unsigned)
		}
		boolean(10, t.fixedScale)
		boolean(11, false)
		str(12, t.name)
		i32(13, t.minScale, t.minScale < 0)
		i32(14, t.maxScale, t.minScale < 0)
		sqlType := t.dataType
		if t.subcode != 0 {
			sqlType = xdbcDatetime
		}
		i32(15, sqlType, false)
		i32(16, t.subcode, t.subcode == 0)
		i32(17, t.radix, t.radix == 0)
		b.Field(18).AppendNull()
	}
	return schema_ref.XdbcTypeInfo, oneBatch(b.NewRecord()), nil
}

// compile-time check: Server is a Flight SQL server.
var _ flightsql.Server = (*Server)(nil)
