package flighttest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql/schema_ref"
	pb "github.com/apache/arrow-go/v18/arrow/flight/gen/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// fetch reads every endpoint of info.
func fetch(ctx context.Context, t testing.TB, c *flightsql.Client, info *flight.FlightInfo) *result {
	t.Helper()
	r := &result{}
	for _, ep := range info.Endpoint {
		rdr, err := c.DoGet(ctx, ep.Ticket)
		if err != nil {
			t.Fatalf("DoGet: %v", err)
		}
		for rdr.Next() {
			r.appendRecord(rdr.RecordBatch())
		}
		if err := rdr.Err(); err != nil {
			t.Fatalf("reading: %v", err)
		}
		rdr.Release()
	}
	return r
}

// infoSchema decodes the schema a FlightInfo carries.
func infoSchema(t testing.TB, info *flight.FlightInfo) *arrow.Schema {
	t.Helper()
	s, err := flight.DeserializeSchema(info.Schema, memory.DefaultAllocator)
	if err != nil {
		t.Fatalf("FlightInfo schema: %v", err)
	}
	return s
}

func TestFlightSQLTPCH(t *testing.T) {
	srv := startServer(t, false)
	c := srv.client(t)
	ctx := testCtx(t)
	for _, q := range []int{1, 3} {
		sql, answer := tpchQuery(t, q)
		info, err := c.Execute(ctx, sql)
		if err != nil {
			t.Fatalf("Q%d: %v", q, err)
		}
		schema := infoSchema(t, info)
		if schema.NumFields() == 0 {
			t.Fatalf("Q%d: FlightInfo without the result schema", q)
		}
		// The ticket is an Any-wrapped Flight SQL command.
		var anyCmd anypb.Any
		if err := proto.Unmarshal(info.Endpoint[0].Ticket.Ticket, &anyCmd); err != nil || !anyCmd.MessageIs(&pb.TicketStatementQuery{}) {
			t.Fatalf("Q%d: ticket is not an Any-wrapped TicketStatementQuery: %v %s", q, err, anyCmd.GetTypeUrl())
		}
		r := fetch(ctx, t, c, info)
		compareAnswer(t, r, answer, true)
		// GetSchema agrees with the FlightInfo.
		sr, err := c.GetExecuteSchema(ctx, sql)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := flight.DeserializeSchema(sr.Schema, memory.DefaultAllocator)
		if err != nil || !s2.Equal(schema) {
			t.Fatalf("Q%d: GetSchema %v (%v), FlightInfo %v", q, s2, err, schema)
		}
	}
}

// TestFlightSQLLargeResult streams lineitem whole: batches are cut to fit
// the client's 4 MiB message limit.
func TestFlightSQLLargeResult(t *testing.T) {
	srv := startServer(t, false)
	c := srv.client(t)
	ctx := testCtx(t)
	info, err := c.Execute(ctx, "SELECT * FROM lineitem")
	if err != nil {
		t.Fatal(err)
	}
	rdr, err := c.DoGet(ctx, info.Endpoint[0].Ticket)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	var rows int64
	for rdr.Next() {
		rows += rdr.RecordBatch().NumRows()
	}
	if err := rdr.Err(); err != nil {
		t.Fatal(err)
	}
	if rows != 60175 {
		t.Fatalf("got %d lineitem rows, want 60175", rows)
	}
}

func TestFlightSQLErrors(t *testing.T) {
	srv := startServer(t, false)
	c := srv.client(t)
	ctx := testCtx(t)
	_, err := c.Execute(ctx, "SELECT * FROM no_such_table")
	if status.Code(err) != codes.NotFound || !strings.Contains(err.Error(), "42P01") {
		t.Fatalf("missing table: got %v, want NotFound with 42P01", err)
	}
	_, err = c.Execute(ctx, "SELEC 1")
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "42601") {
		t.Fatalf("syntax error: got %v, want InvalidArgument with 42601", err)
	}
	// A runtime error surfaces on the stream.
	info, err := c.Execute(ctx, "SELECT 1 / (l_orderkey - l_orderkey) FROM lineitem")
	if err == nil {
		rdr, err2 := c.DoGet(ctx, info.Endpoint[0].Ticket)
		if err2 == nil {
			for rdr.Next() {
			}
			err = rdr.Err()
			rdr.Release()
		} else {
			err = err2
		}
	}
	if err == nil || !strings.Contains(err.Error(), "22012") {
		t.Fatalf("division by zero: got %v, want 22012", err)
	}
}

func TestFlightSQLPrepared(t *testing.T) {
	srv := startServer(t, false)
	c := srv.client(t)
	ctx := testCtx(t)
	stmt, err := c.Prepare(ctx, "SELECT n_name, n_regionkey FROM nation WHERE n_nationkey = $1")
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close(ctx)
	if ps := stmt.ParameterSchema(); ps == nil || ps.NumFields() != 1 {
		t.Fatalf("parameter schema %v, want one parameter", ps)
	}
	if ds := stmt.DatasetSchema(); ds == nil || ds.NumFields() != 2 {
		t.Fatalf("dataset schema %v", ds)
	}
	want := map[int64]string{0: "ALGERIA", 1: "ARGENTINA", 2: "BRAZIL", 3: "CANADA", 4: "EGYPT",
		5: "ETHIOPIA", 6: "FRANCE", 7: "GERMANY", 8: "INDIA", 9: "INDONESIA"}
	for k := int64(0); k < 10; k++ {
		// Bind an int64 whatever type the server inferred: it converts.
		b := array.NewInt64Builder(memory.DefaultAllocator)
		b.Append(k)
		col := b.NewArray()
		rec := array.NewRecord(arrow.NewSchema([]arrow.Field{{Name: "$1", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil), []arrow.Array{col}, 1)
		stmt.SetParameters(rec)
		info, err := stmt.Execute(ctx)
		rec.Release()
		col.Release()
		b.Release()
		if err != nil {
			t.Fatalf("execute %d: %v", k, err)
		}
		r := fetch(ctx, t, c, info)
		if len(r.rows) != 1 || r.rows[0][0] != want[k] {
			t.Fatalf("n_nationkey = %d: got %v, want %s", k, r.rows, want[k])
		}
	}
	// Several parameter rows: one execution each, results concatenated.
	b := array.NewStringBuilder(memory.DefaultAllocator)
	b.AppendValues([]string{"3", "7"}, nil)
	col := b.NewArray()
	rec := array.NewRecord(arrow.NewSchema([]arrow.Field{{Name: "$1", Type: arrow.BinaryTypes.String, Nullable: true}}, nil), []arrow.Array{col}, 2)
	stmt.SetParameters(rec)
	info, err := stmt.Execute(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := fetch(ctx, t, c, info)
	if len(r.rows) != 2 || r.rows[0][0] != "CANADA" || r.rows[1][0] != "GERMANY" {
		t.Fatalf("two parameter rows: got %v", r.rows)
	}
	rec.Release()
	col.Release()
	b.Release()
}

func TestFlightSQLUpdate(t *testing.T) {
	srv := startServer(t, false)
	c := srv.client(t)
	ctx := testCtx(t)
	n, err := c.ExecuteUpdate(ctx, "CREATE VIEW asia AS SELECT n_name FROM nation WHERE n_regionkey = 2")
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("CREATE VIEW affected %d rows", n)
	}
	info, err := c.Execute(ctx, "SELECT count(*) FROM asia")
	if err != nil {
		t.Fatal(err)
	}
	if r := fetch(ctx, t, c, info); len(r.rows) != 1 || r.rows[0][0] != "5" {
		t.Fatalf("view: got %v", r.rows)
	}
	if n, err = c.ExecuteUpdate(ctx, "CREATE TABLE mem.t AS SELECT * FROM region"); err != nil || n != 5 {
		t.Fatalf("CREATE TABLE AS: %d rows, %v; want 5", n, err)
	}
	// DDL sent as a query takes effect too.
	if info, err = c.Execute(ctx, "DROP VIEW asia"); err != nil {
		t.Fatal(err)
	}
	fetch(ctx, t, c, info)
	if _, err = c.Execute(ctx, "SELECT * FROM asia"); status.Code(err) != codes.NotFound {
		t.Fatalf("dropped view: got %v", err)
	}
	// USE carries over to the client's next statements.
	if _, err := c.ExecuteUpdate(ctx, "USE mem"); err != nil {
		t.Fatal(err)
	}
	if info, err = c.Execute(ctx, "SELECT count(*) FROM t"); err != nil {
		t.Fatal(err)
	}
	if r := fetch(ctx, t, c, info); r.rows[0][0] != "5" {
		t.Fatalf("after USE: %v", r.rows)
	}
}

func TestFlightSQLCancel(t *testing.T) {
	srv := startServer(t, false)
	c := srv.client(t)
	ctx := testCtx(t)
	// A cross join big enough to run for minutes.
	info, err := c.Execute(ctx, "SELECT count(*) FROM lineitem a, lineitem b WHERE a.l_quantity + b.l_quantity > 1000")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		rdr, err := c.DoGet(ctx, info.Endpoint[0].Ticket)
		if err != nil {
			done <- err
			return
		}
		defer rdr.Release()
		for rdr.Next() {
		}
		done <- rdr.Err()
	}()
	time.Sleep(300 * time.Millisecond)
	res, err := c.CancelFlightInfo(ctx, &flight.CancelFlightInfoRequest{Info: info})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != flight.CancelStatusCancelled {
		t.Fatalf("cancel status %v", res.Status)
	}
	select {
	case err := <-done:
		if status.Code(err) != codes.Canceled || !strings.Contains(err.Error(), "57014") {
			t.Fatalf("cancelled fetch: got %v, want Canceled with 57014", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the query did not stop after CancelFlightInfo")
	}
	// A ticket cancelled before it is fetched fails at once.
	info, err = c.Execute(ctx, "SELECT 1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CancelFlightInfo(ctx, &flight.CancelFlightInfoRequest{Info: info}); err != nil {
		t.Fatal(err)
	}
	rdr, err := c.DoGet(ctx, info.Endpoint[0].Ticket)
	if err == nil {
		for rdr.Next() {
		}
		err = rdr.Err()
		rdr.Release()
	}
	if status.Code(err) != codes.Canceled {
		t.Fatalf("fetching a cancelled ticket: got %v", err)
	}
}

func TestFlightSQLMetadata(t *testing.T) {
	srv := startServer(t, false)
	c := srv.client(t)
	ctx := testCtx(t)
	if _, err := c.ExecuteUpdate(ctx, "CREATE VIEW tpch.big_orders AS SELECT o_orderkey, o_totalprice FROM orders WHERE o_totalprice > 400000"); err != nil {
		t.Fatal(err)
	}
	m := func(info *flight.FlightInfo, err error) *flight.FlightInfo {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return info
	}
	listing := func(info *flight.FlightInfo, want *arrow.Schema) [][]string {
		t.Helper()
		if s := infoSchema(t, info); !s.Equal(want) {
			t.Fatalf("listing schema %v, want %v", s, want)
		}
		return fetch(ctx, t, c, info).rows
	}
	if rows := listing(m(c.GetCatalogs(ctx)), schema_ref.Catalogs); len(rows) != 0 {
		t.Errorf("catalogs: %v, want none", rows)
	}
	schemas := listing(m(c.GetDBSchemas(ctx, &flightsql.GetDBSchemasOpts{})), schema_ref.DBSchemas)
	if len(schemas) != 1 || schemas[0][1] != "tpch" || schemas[0][0] != "" {
		t.Errorf("schemas: %v", schemas)
	}
	tables := listing(m(c.GetTables(ctx, &flightsql.GetTablesOpts{})), schema_ref.Tables)
	var names []string
	for _, r := range tables {
		names = append(names, r[1]+"."+r[2]+":"+r[3])
	}
	want := "tpch.big_orders:VIEW tpch.customer:TABLE tpch.lineitem:TABLE tpch.nation:TABLE tpch.orders:TABLE " +
		"tpch.part:TABLE tpch.partsupp:TABLE tpch.region:TABLE tpch.supplier:TABLE"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("tables:\n got %s\nwant %s", got, want)
	}
	// Filters: LIKE patterns and table types.
	pat, schemaPat := "%ITEM", "tp_h"
	rows := listing(m(c.GetTables(ctx, &flightsql.GetTablesOpts{TableNameFilterPattern: &pat, DbSchemaFilterPattern: &schemaPat})), schema_ref.Tables)
	if len(rows) != 1 || rows[0][2] != "lineitem" {
		t.Errorf("LIKE %%ITEM: %v", rows)
	}
	rows = listing(m(c.GetTables(ctx, &flightsql.GetTablesOpts{TableTypes: []string{"VIEW"}})), schema_ref.Tables)
	if len(rows) != 1 || rows[0][2] != "big_orders" {
		t.Errorf("views: %v", rows)
	}
	other := "other"
	if rows = listing(m(c.GetTables(ctx, &flightsql.GetTablesOpts{Catalog: &other})), schema_ref.Tables); len(rows) != 0 {
		t.Errorf("catalog other: %v", rows)
	}
	// include_schema: lineitem's columns, and the view's.
	pat = "lineitem"
	info, err := c.GetTables(ctx, &flightsql.GetTablesOpts{TableNameFilterPattern: &pat, IncludeSchema: true})
	if err != nil {
		t.Fatal(err)
	}
	if s := infoSchema(t, info); !s.Equal(schema_ref.TablesWithIncludedSchema) {
		t.Fatalf("schema %v", s)
	}
	rdr, err := c.DoGet(ctx, info.Endpoint[0].Ticket)
	if err != nil {
		t.Fatal(err)
	}
	if !rdr.Next() {
		t.Fatal("no lineitem row")
	}
	raw := rdr.RecordBatch().Column(4).(*array.Binary).Value(0)
	cols, err := flight.DeserializeSchema(raw, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	rdr.Release()
	// Column metadata for JDBC's getColumns.
	fmd := cols.Field(5).Metadata
	md := flightsql.ColumnMetadata{Data: &fmd}
	tn, _ := md.TypeName()
	prec, _ := md.Precision()
	scale, _ := md.Scale()
	table, _ := md.TableName()
	if tn != "DECIMAL" || prec != 15 || scale != 2 || table != "lineitem" {
		t.Errorf("l_extendedprice metadata: %s(%d,%d) of %s", tn, prec, scale, table)
	}
	var colNames []string
	for _, f := range cols.Fields() {
		colNames = append(colNames, f.Name)
	}
	if got := strings.Join(colNames, ","); got != "l_orderkey,l_partkey,l_suppkey,l_linenumber,l_quantity,l_extendedprice,"+
		"l_discount,l_tax,l_returnflag,l_linestatus,l_shipdate,l_commitdate,l_receiptdate,l_shipinstruct,l_shipmode,l_comment" {
		t.Errorf("lineitem columns: %s", got)
	}
	pat = "big_orders"
	info, err = c.GetTables(ctx, &flightsql.GetTablesOpts{TableNameFilterPattern: &pat, IncludeSchema: true})
	if err != nil {
		t.Fatal(err)
	}
	rdr, err = c.DoGet(ctx, info.Endpoint[0].Ticket)
	if err != nil || !rdr.Next() {
		t.Fatal("no view row", err)
	}
	if cols, err = flight.DeserializeSchema(rdr.RecordBatch().Column(4).(*array.Binary).Value(0), memory.DefaultAllocator); err != nil || cols.NumFields() != 2 {
		t.Errorf("view columns: %v %v", cols, err)
	}
	rdr.Release()

	if rows = listing(m(c.GetTableTypes(ctx)), schema_ref.TableTypes); len(rows) != 2 {
		t.Errorf("table types: %v", rows)
	}
	ref := flightsql.TableRef{Table: "lineitem"}
	if rows = listing(m(c.GetPrimaryKeys(ctx, ref)), schema_ref.PrimaryKeys); len(rows) != 0 {
		t.Errorf("primary keys: %v", rows)
	}
	if rows = listing(m(c.GetImportedKeys(ctx, ref)), schema_ref.ImportedKeys); len(rows) != 0 {
		t.Errorf("imported keys: %v", rows)
	}
	if rows = listing(m(c.GetExportedKeys(ctx, ref)), schema_ref.ExportedKeys); len(rows) != 0 {
		t.Errorf("exported keys: %v", rows)
	}
	types := listing(m(c.GetXdbcTypeInfo(ctx, nil)), schema_ref.XdbcTypeInfo)
	var typeNames []string
	for _, r := range types {
		typeNames = append(typeNames, r[0])
	}
	if got := strings.Join(typeNames, ","); got != "BOOLEAN,BIGINT,DECIMAL,INTEGER,DOUBLE,VARCHAR,DATE,TIMESTAMP" {
		t.Errorf("XDBC types: %s", got)
	}
	varchar := int32(12)
	if rows = listing(m(c.GetXdbcTypeInfo(ctx, &varchar)), schema_ref.XdbcTypeInfo); len(rows) != 1 || rows[0][0] != "VARCHAR" {
		t.Errorf("XDBC VARCHAR: %v", rows)
	}
}

func TestFlightSQLSqlInfo(t *testing.T) {
	srv := startServer(t, false)
	c := srv.client(t)
	ctx := testCtx(t)
	// Every id the spec defines has a value.
	var ids []flightsql.SqlInfo
	for id := range pb.SqlInfo_name {
		ids = append(ids, flightsql.SqlInfo(id))
	}
	info, err := c.GetSqlInfo(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	rdr, err := c.DoGet(ctx, info.Endpoint[0].Ticket)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	got := map[uint32]string{}
	for rdr.Next() {
		rec := rdr.RecordBatch()
		names := rec.Column(0).(*array.Uint32)
		vals := rec.Column(1).(*array.DenseUnion)
		for i := 0; i < int(rec.NumRows()); i++ {
			got[names.Value(i)] = vals.ValueStr(i)
		}
	}
	if err := rdr.Err(); err != nil {
		t.Fatal(err)
	}
	for id := range pb.SqlInfo_name {
		if _, ok := got[uint32(id)]; !ok {
			t.Errorf("no value for %s", pb.SqlInfo(id))
		}
	}
	for id, want := range map[flightsql.SqlInfo]string{
		flightsql.SqlInfoFlightSqlServerName:     "Quarry",
		flightsql.SqlInfoFlightSqlServerReadOnly: "false",
		flightsql.SqlInfoIdentifierQuoteChar:     `"`,
		flightsql.SqlInfoFlightSqlServerCancel:   "true",
	} {
		if !strings.Contains(got[uint32(id)], want) {
			t.Errorf("%s = %s, want %s", id, got[uint32(id)], want)
		}
	}
}

func TestFlightSQLAuth(t *testing.T) {
	srv := startServer(t, true)
	ctx := testCtx(t)
	c := srv.client(t)
	// Unauthenticated calls are refused.
	if _, err := c.Execute(ctx, "SELECT 1"); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("unauthenticated: got %v", err)
	}
	// A wrong password is refused at the handshake.
	if _, err := c.Client.AuthenticateBasicToken(ctx, testUser, "wrong"); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("wrong password: got %v", err)
	}
	if _, err := c.Client.AuthenticateBasicToken(ctx, "mallory", testPassword); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("unknown user: got %v", err)
	}
	// The handshake returns a bearer token that later calls carry.
	authed, err := c.Client.AuthenticateBasicToken(ctx, testUser, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Execute(authed, "SELECT count(*) FROM nation")
	if err != nil {
		t.Fatal(err)
	}
	if r := fetch(authed, t, c, info); r.rows[0][0] != "25" {
		t.Fatalf("got %v", r.rows)
	}
	// A made-up token is refused.
	bogus := metadataCtx(ctx, "authorization", "Bearer 0123456789abcdef")
	if _, err := c.Execute(bogus, "SELECT 1"); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("bogus token: got %v", err)
	}
	// Basic credentials on each call work; wrong ones do not.
	basic := metadataCtx(ctx, "authorization", "Basic "+basicCred(testUser, testPassword))
	info, err = c.Execute(basic, "SELECT 1")
	if err != nil {
		t.Fatal(err)
	}
	fetch(basic, t, c, info)
	wrong := metadataCtx(ctx, "authorization", "Basic "+basicCred(testUser, "nope"))
	if _, err := c.Execute(wrong, "SELECT 1"); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("wrong Basic: got %v", err)
	}
	// The same user's other session may fetch this session's ticket;
	// another user may not.
	info, err = c.Execute(authed, "SELECT 1")
	if err != nil {
		t.Fatal(err)
	}
	other, err := c.Client.AuthenticateBasicToken(ctx, testUser, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := drain(c.DoGet(other, info.Endpoint[0].Ticket)); err != nil {
		t.Fatalf("same user's other session: %v", err)
	}
	u, err := catalog.NewUser("bob", "pw", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.eng.Catalog().PutUser(u); err != nil {
		t.Fatal(err)
	}
	bob, err := c.Client.AuthenticateBasicToken(ctx, "bob", "pw")
	if err != nil {
		t.Fatal(err)
	}
	if info, err = c.Execute(authed, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if err := drain(c.DoGet(bob, info.Endpoint[0].Ticket)); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("another user's ticket: %v", err)
	}
}

// drain reads a DoGet stream to its end.
func drain(rdr *flight.Reader, err error) error {
	if err != nil {
		return err
	}
	defer rdr.Release()
	for rdr.Next() {
	}
	return rdr.Err()
}

// TestFlightSQLIPCSchema: the serialized schemas are IPC streams readers
// of other languages accept (a schema message then end of stream).
func TestFlightSQLIPCSchema(t *testing.T) {
	srv := startServer(t, false)
	c := srv.client(t)
	ctx := testCtx(t)
	info, err := c.Execute(ctx, "SELECT l_shipdate, l_extendedprice FROM lineitem LIMIT 1")
	if err != nil {
		t.Fatal(err)
	}
	rdr, err := ipc.NewReader(strings.NewReader(string(info.Schema)))
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	if rdr.Schema().Field(0).Type.ID() != arrow.DATE32 || rdr.Schema().Field(1).Type.ID() != arrow.DECIMAL128 {
		t.Fatalf("schema %v", rdr.Schema())
	}
}
