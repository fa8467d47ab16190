package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver
	"github.com/quarrydb/quarry/coordinator"
	"github.com/quarrydb/quarry/coordinator/cluster"
)

// tpchTables are the eight TPC-H tables, one Parquet file each.
var tpchTables = []string{"region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem"}

// engine runs one query text and returns all its rows as Go values.
type engine interface {
	Name() string
	Query(ctx context.Context, sql string) ([][]any, error)
	Close() error
}

// quarry is Quarry opened the way `quarry sql` opens it: embedded, or with
// a cluster the way `quarry coordinator` does (the root fragments run here).
type quarry struct {
	name string
	eng  *coordinator.Engine
}

func openQuarry(name, dataDir, catalogDir string, threads int, memoryLimit int64, cl *cluster.Cluster) (*quarry, error) {
	eng, err := coordinator.Open(coordinator.Config{
		DataDir:       catalogDir,
		Sources:       []coordinator.SourceSpec{{Name: "tpch", Path: dataDir}},
		DefaultSchema: "tpch",
		Parallelism:   threads,
		MemoryLimit:   memoryLimit,
		// Failed statements are reported in the table; keep the engine's
		// info logs out of it.
		Logger:  warnLogger(),
		Cluster: cl,
	})
	if err != nil {
		return nil, err
	}
	return &quarry{name: name, eng: eng}, nil
}

// warnLogger logs warnings and errors to stderr.
func warnLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func (q *quarry) Name() string { return q.name }

func (q *quarry) Query(ctx context.Context, text string) ([][]any, error) {
	c := &coordinator.RowCollector{}
	if err := q.eng.NewSession("").Execute(ctx, text, c); err != nil {
		return nil, err
	}
	return c.Rows(), nil
}

func (q *quarry) Close() error { return q.eng.Close() }

// exchanged runs text once under EXPLAIN ANALYZE and returns what it
// reports as exchanged between fragments.
func (q *quarry) exchanged(text string, timeout time.Duration) *exchangeStats {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	rows, err := q.Query(ctx, "EXPLAIN ANALYZE "+text)
	if err != nil {
		return &exchangeStats{Error: errorText(err)}
	}
	var plan strings.Builder
	for _, row := range rows {
		for _, x := range row {
			fmt.Fprintln(&plan, x)
		}
	}
	st, err := parseExchanged(plan.String())
	if err != nil {
		return &exchangeStats{Error: err.Error()}
	}
	return st
}

// duck is an in-memory DuckDB with one view per TPC-H table over the same
// Parquet files Quarry reads (its tpch extension cannot be loaded here, and
// reading the same files keeps the comparison fair).
type duck struct {
	db      *sql.DB
	conn    *sql.Conn
	version string
}

func openDuckDB(ctx context.Context, dataDir string, threads int) (*duck, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, err
	}
	// One connection: settings and views live on it.
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	d := &duck{db: db, conn: conn}
	stmts := []string{fmt.Sprintf("SET threads = %d", threads)}
	for _, t := range tpchTables {
		path, err := filepath.Abs(filepath.Join(dataDir, t+".parquet"))
		if err != nil {
			d.Close()
			return nil, err
		}
		stmts = append(stmts, fmt.Sprintf("CREATE VIEW %s AS SELECT * FROM read_parquet('%s')",
			t, strings.ReplaceAll(path, "'", "''")))
	}
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			d.Close()
			return nil, fmt.Errorf("%s: %w", s, err)
		}
	}
	if err := conn.QueryRowContext(ctx, "SELECT version()").Scan(&d.version); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func (d *duck) Name() string { return "DuckDB" }

func (d *duck) Query(ctx context.Context, text string) ([][]any, error) {
	rs, err := d.conn.QueryContext(ctx, text)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]any
	for rs.Next() {
		row := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	if err := rs.Err(); err != nil {
		return nil, err
	}
	return out, rs.Close()
}

func (d *duck) Close() error {
	return errors.Join(d.conn.Close(), d.db.Close())
}

// checkData tells whether dir holds the eight tables.
func checkData(dir string) error {
	var missing []string
	for _, t := range tpchTables {
		if _, err := os.Stat(filepath.Join(dir, t+".parquet")); err != nil {
			missing = append(missing, t+".parquet")
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s lacks %s (generate it with `bin/quarry tpch --sf N --out %s`)",
			dir, strings.Join(missing, ", "), dir)
	}
	return nil
}
