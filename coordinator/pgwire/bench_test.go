package pgwire

import (
	"context"
	"testing"
)

// BenchmarkPrepared measures one prepared execution round trip over pgx
// (go test -bench Prepared -cpuprofile cpu.out ./coordinator/pgwire/).
func BenchmarkPrepared(b *testing.B) {
	for _, q := range []struct{ name, sql string }{
		{"select1", "SELECT 1"},
		{"point", "SELECT n_name FROM nation WHERE n_nationkey = $1"},
	} {
		b.Run(q.name, func(b *testing.B) {
			srv := startServer(b)
			conn := srv.connect(b, "")
			ctx := context.Background()
			var args []any
			if q.name == "point" {
				args = []any{int64(7)}
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rows, err := conn.Query(ctx, q.sql, args...)
				if err != nil {
					b.Fatal(err)
				}
				for rows.Next() {
				}
				if err := rows.Err(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
