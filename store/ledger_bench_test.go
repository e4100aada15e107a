package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// BenchmarkLedger_GroupCommit measures the ledger's write side as the engine
// drives it: one goroutine claims recipients 64 at a time (Claim waits for
// the commit) and G goroutines record each one sent (Finish). One op is one
// message, so allocs/op is allocations per message, the writer goroutine
// and the SQLite driver included.
func BenchmarkLedger_GroupCommit(b *testing.B) {
	for _, g := range []int{1, 64, 200} {
		b.Run(fmt.Sprintf("goroutines=%d", g), func(b *testing.B) { benchmarkGroupCommit(b, g) })
	}
}

func benchmarkGroupCommit(b *testing.B, goroutines int) {
	ctx := context.Background()
	db := mustOpen(b)
	batch := importBench(b, db, b.N)
	l := db.OpenLedger(ctx, batch.ID, "1@bench")
	claimed := make(chan int64, 64)
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range goroutines {
		wg.Go(func() {
			for line := range claimed {
				now := time.Now()
				l.Finish(Outcome{Line: line, State: StateSent, MsgID: 3557254367693782077 + line, Attempts: 1, First: now, At: now})
			}
		})
	}
	lines := make([]int64, 0, 64)
	for i := 0; i < b.N; i += 64 {
		lines = lines[:0]
		for line := int64(i + 2); line < int64(min(i+64, b.N)+2); line++ {
			lines = append(lines, line)
		}
		if err := l.Claim(ctx, lines, time.Now()); err != nil {
			b.Fatal(err)
		}
		for _, line := range lines {
			claimed <- line
		}
	}
	close(claimed)
	wg.Wait()
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
	c, err := db.Counts(ctx, batch.ID)
	if err != nil {
		b.Fatal(err)
	}
	if c.Sent != int64(b.N) {
		b.Fatalf("%d sent, want %d", c.Sent, b.N)
	}
}

// importBench imports n recipients with typical variables into a new batch.
func importBench(tb testing.TB, db *DB, n int) Batch {
	tb.Helper()
	ctx := context.Background()
	batch, err := db.CreateBatch(ctx, NewBatch{Name: "bench"}, "1@bench")
	if err != nil {
		tb.Fatal(err)
	}
	im, err := db.NewImporter(ctx, batch)
	if err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		vars := fmt.Appendf(nil, `{"name":"用户%d","product":"巧克力","amount":"39.80","paid_at":"2024年3月1日 10:15","order_no":"SO%d"}`, i, i)
		if err := im.Add(ctx, int64(i+2), fmt.Sprintf("o%027d", i), vars); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := im.Finish(ctx); err != nil {
		tb.Fatal(err)
	}
	return batch
}
