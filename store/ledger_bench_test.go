package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkLedger_GroupCommit measures the ledger's write side as the engine
// drives it: each of G goroutines takes the next recipient, marks it
// inflight (Begin waits for the commit) and records it sent (Finish). One
// op is one message, so allocs/op is allocations per message, the writer
// goroutine and the SQLite driver included.
func BenchmarkLedger_GroupCommit(b *testing.B) {
	for _, g := range []int{1, 64, 200} {
		b.Run(fmt.Sprintf("goroutines=%d", g), func(b *testing.B) { benchmarkGroupCommit(b, g) })
	}
}

func benchmarkGroupCommit(b *testing.B, goroutines int) {
	ctx := context.Background()
	db := mustOpen(b)
	batch := importBench(b, db, b.N)
	openids := make([]string, b.N) // as the engine has them, read with the row
	for i := range openids {
		openids[i] = benchOpenID(i)
	}
	l := db.OpenLedger(ctx, batch.ID, "1@bench")
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range goroutines {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				line := i + 2
				now := time.Now()
				if err := l.Begin(ctx, line, now); err != nil {
					b.Error(err)
					return
				}
				l.Finish(Outcome{Line: line, State: StateSent, MsgID: 3557254367693782077 + line, At: now, OpenID: openids[i]})
			}
		})
	}
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
		if err := im.Add(ctx, int64(i+2), benchOpenID(i), string(vars)); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := im.Finish(ctx); err != nil {
		tb.Fatal(err)
	}
	return batch
}

// benchOpenID is the i-th recipient's openid. Real openids come in no
// order: an index on them (sends_delivered) takes each at a random place,
// not at its end as it would a counter's.
func benchOpenID(i int) string {
	return fmt.Sprintf("o%027d", uint64(i)*0x9E3779B97F4A7C15) // odd: one openid for each i
}
