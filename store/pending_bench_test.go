package store

import (
	"context"
	"testing"
)

// BenchmarkDB_Pending pages through a fresh batch as the engine's dispatcher
// does, 512 rows a page. One op is one recipient read.
func BenchmarkDB_Pending(b *testing.B) {
	ctx := context.Background()
	db := mustOpen(b)
	batch := importBench(b, db, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	var after int64
	n := 0
	for {
		rows, err := db.Pending(ctx, batch.ID, after, 512)
		if err != nil {
			b.Fatal(err)
		}
		n += len(rows)
		if len(rows) < 512 {
			break
		}
		after = rows[len(rows)-1].Line
	}
	if n != b.N {
		b.Fatalf("read %d pending recipients, want %d", n, b.N)
	}
}
