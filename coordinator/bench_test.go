package coordinator

import (
	"fmt"
	"github.com/quarrydb/quarry/coordinator/internal/testenv"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkTPCH runs TPC-H queries on the data in $QUARRY_BENCH_DATA (for
// example the output of `quarry tpch --sf 1`), each as a sub-benchmark:
//
//	QUARRY_BENCH_DATA=bench-data/sf1 go test -run '^$' -bench 'TPCH/q0[16]' ./coordinator
//
// It measures warm runs (catalog cached, planning included) of the whole
// statement, as a client sees it without the network.
func BenchmarkTPCH(b *testing.B) {
	data := os.Getenv("QUARRY_BENCH_DATA")
	if data == "" {
		b.Skip("set QUARRY_BENCH_DATA to a folder of TPC-H Parquet files")
	}
	queries := filepath.Join(testenv.SharedDir(b), "tpch", "queries")
	eng := newEngine(b, "tpch", SourceSpec{Name: "tpch", Path: data})
	sess := eng.NewSession("tpch")
	for q := 1; q <= 22; q++ {
		name := fmt.Sprintf("q%02d", q)
		b.Run(name, func(b *testing.B) {
			sql, err := os.ReadFile(filepath.Join(queries, name+".sql"))
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; i < b.N; i++ {
				if err := sess.Execute(b.Context(), string(sql), discard{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPointQuery is the pgbench point query of the PostgreSQL wire
// issue without the wire: a prepared statement selecting one customer by
// key, executed with a new key each time.
func BenchmarkPointQuery(b *testing.B) {
	eng := newEngine(b, "tpch", SourceSpec{Name: "tpch", Path: abs(b, sampleTPCH)})
	sess := eng.NewSession("tpch")
	ps, err := sess.Prepare(b.Context(), "SELECT c_name, c_acctbal FROM customer WHERE c_custkey = $1", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := sess.ExecutePrepared(b.Context(), ps, []any{int64(i%1500 + 1)}, discard{}); err != nil {
			b.Fatal(err)
		}
	}
}
