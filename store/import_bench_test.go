package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkImport measures streaming recipients into the ledger, duplicate
// marking included.
func BenchmarkImport(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(b.TempDir(), "megasend.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	batch, err := db.CreateBatch(ctx, NewBatch{Name: "bench"}, "1@bench")
	if err != nil {
		b.Fatal(err)
	}
	vars := `{"name":"张伟","product":"巧克力","amount":"39.80","paid_at":"2024年3月1日 10:15","order_no":"SO202403010001"}`
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	im, err := db.NewImporter(ctx, batch)
	if err != nil {
		b.Fatal(err)
	}
	for i := range b.N {
		if err := im.Add(ctx, int64(i+2), fmt.Sprintf("o%027d", i), vars); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := im.Finish(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "rows/s")
}
