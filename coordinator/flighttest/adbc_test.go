package flighttest

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-adbc/go/adbc"
	adbcflight "github.com/apache/arrow-adbc/go/adbc/driver/flightsql"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestADBC drives the door with the ADBC Go Flight SQL driver, which
// authenticates with a handshake and prepares every query.
func TestADBC(t *testing.T) {
	srv := startServer(t, true)
	ctx := testCtx(t)
	drv := adbcflight.NewDriver(memory.DefaultAllocator)
	db, err := drv.NewDatabase(map[string]string{
		adbc.OptionKeyURI:      "grpc+tcp://" + srv.addr,
		adbc.OptionKeyUsername: testUser,
		adbc.OptionKeyPassword: testPassword,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cnxn, err := db.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cnxn.Close()

	query := func(stmt adbc.Statement) *result {
		t.Helper()
		rdr, _, err := stmt.ExecuteQuery(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer rdr.Release()
		r := &result{}
		for rdr.Next() {
			r.appendRecord(rdr.RecordBatch())
		}
		if err := rdr.Err(); err != nil {
			t.Fatal(err)
		}
		return r
	}

	for _, q := range []int{1, 3} {
		sql, answer := tpchQuery(t, q)
		stmt, err := cnxn.NewStatement()
		if err != nil {
			t.Fatal(err)
		}
		if err := stmt.SetSqlQuery(sql); err != nil {
			t.Fatal(err)
		}
		compareAnswer(t, query(stmt), answer, true)
		stmt.Close()
	}

	// Prepared with a ? parameter (ADBC and JDBC style), bound and run 10
	// times.
	stmt, err := cnxn.NewStatement()
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	if err := stmt.SetSqlQuery("SELECT r_name FROM region WHERE r_regionkey = ?"); err != nil {
		t.Fatal(err)
	}
	if err := stmt.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	regions := []string{"AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"}
	for i := 0; i < 10; i++ {
		k := int32(i % 5)
		b := array.NewInt32Builder(memory.DefaultAllocator)
		b.Append(k)
		col := b.NewArray()
		rec := array.NewRecord(arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.PrimitiveTypes.Int32}}, nil), []arrow.Array{col}, 1)
		if err := stmt.Bind(ctx, rec); err != nil {
			t.Fatal(err)
		}
		r := query(stmt)
		rec.Release()
		col.Release()
		b.Release()
		if len(r.rows) != 1 || r.rows[0][0] != regions[k] {
			t.Fatalf("r_regionkey = %d: got %v, want %s", k, r.rows, regions[k])
		}
	}

	// ExecuteUpdate runs DDL.
	ddl, err := cnxn.NewStatement()
	if err != nil {
		t.Fatal(err)
	}
	defer ddl.Close()
	if err := ddl.SetSqlQuery("CREATE VIEW tpch.cheap_parts AS SELECT p_partkey FROM part WHERE p_retailprice < 1000"); err != nil {
		t.Fatal(err)
	}
	if _, err := ddl.ExecuteUpdate(ctx); err != nil {
		t.Fatal(err)
	}

	// GetObjects: the tpch tables (and the view) with their columns.
	rdr, err := cnxn.GetObjects(ctx, adbc.ObjectDepthAll, nil, nil, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	type column struct {
		Name string `json:"column_name"`
	}
	type table struct {
		Name    string   `json:"table_name"`
		Type    string   `json:"table_type"`
		Columns []column `json:"table_columns"`
	}
	type dbSchema struct {
		Name   string  `json:"db_schema_name"`
		Tables []table `json:"db_schema_tables"`
	}
	type catalog struct {
		Name    *string    `json:"catalog_name"`
		Schemas []dbSchema `json:"catalog_db_schemas"`
	}
	found := map[string]table{}
	for rdr.Next() {
		data, err := json.Marshal(rdr.RecordBatch())
		if err != nil {
			t.Fatal(err)
		}
		var cats []catalog
		if err := json.Unmarshal(data, &cats); err != nil {
			t.Fatalf("%v: %s", err, data)
		}
		for _, c := range cats {
			for _, s := range c.Schemas {
				for _, tb := range s.Tables {
					found[s.Name+"."+tb.Name] = tb
				}
			}
		}
	}
	if err := rdr.Err(); err != nil {
		t.Fatal(err)
	}
	var names []string
	for n, tb := range found {
		names = append(names, n+":"+tb.Type)
	}
	sort.Strings(names)
	if got := strings.Join(names, " "); got != "tpch.cheap_parts:VIEW tpch.customer:TABLE tpch.lineitem:TABLE "+
		"tpch.nation:TABLE tpch.orders:TABLE tpch.part:TABLE tpch.partsupp:TABLE tpch.region:TABLE tpch.supplier:TABLE" {
		t.Errorf("GetObjects tables: %s", got)
	}
	if cols := found["tpch.lineitem"].Columns; len(cols) != 16 || cols[0].Name != "l_orderkey" || cols[15].Name != "l_comment" {
		t.Errorf("lineitem columns: %v", cols)
	}
	if cols := found["tpch.cheap_parts"].Columns; len(cols) != 1 || cols[0].Name != "p_partkey" {
		t.Errorf("view columns: %v", cols)
	}

	// The current schema is a session option.
	opts := cnxn.(adbc.GetSetOptions)
	if cur, err := opts.GetOption(adbc.OptionKeyCurrentDbSchema); err != nil || cur != "tpch" {
		t.Errorf("current schema %q, %v", cur, err)
	}
	if err := opts.SetOption(adbc.OptionKeyCurrentDbSchema, "nosuch"); err == nil {
		t.Error("setting an unknown schema succeeded")
	}
	if err := opts.SetOption(adbc.OptionKeyCurrentDbSchema, "TPCH"); err != nil {
		t.Error(err)
	}

	// GetTableSchema.
	schemaName := "tpch"
	ts, err := cnxn.GetTableSchema(ctx, nil, &schemaName, "orders")
	if err != nil {
		t.Fatal(err)
	}
	if ts.NumFields() != 9 || ts.Field(0).Name != "o_orderkey" {
		t.Errorf("orders schema: %v", ts)
	}
}
