package store

import (
	"context"
	"os"
	"testing"
	"time"
)

// BenchmarkDB_Scrape is what one scrape of serve's /metrics reads from the
// ledger: StateCounts, QueueDepths and ReceiptTotals, on benchLedger's batch
// (MEGASEND_BENCH_ROWS recipients, 100,000 by default; BENCHMARKS.md quotes
// 1,000,000), all but 1% sent, served, and with a receipt for every message
// sent. Each is timed on its own and reported as a multiple of a count of
// every row of recipients and sends, the baseline measured in the same
// loop: what a scrape would cost if it read the ledger instead of its
// indexes and per-batch summaries.
//
// Sent rows leave the state index, so the ledger's shape matters: "sent"
// is benchLedger's, "tenth-failed" has a tenth of the recipients failed,
// each an entry of the index that StateCounts walks.
func BenchmarkDB_Scrape(b *testing.B) {
	b.Run("sent", func(b *testing.B) { benchScrape(b, 0) })
	b.Run("tenth-failed", func(b *testing.B) { benchScrape(b, 10) })
}

// benchScrape times a scrape of benchLedger's batch with every failEvery-th
// line failed (0: none).
func benchScrape(b *testing.B, failEvery int) {
	db, batch := benchLedger(b)
	ctx := context.Background()
	if failEvery > 0 {
		if _, err := db.db.Exec(`UPDATE sends SET state = 'failed', msgid = NULL, errcode = 43004
			WHERE batch_id = ? AND line % ? = 0`, batch.ID, failEvery); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := db.db.Exec(`INSERT INTO receipts (account, msgid, status, received_at)
		SELECT '', msgid, CASE WHEN line % 50 = 0 THEN 'user_block' ELSE 'success' END, 1700000000000
		FROM sends WHERE batch_id = ? AND state = 'sent'`, batch.ID); err != nil {
		b.Fatal(err)
	}
	if err := db.SetSchedule(ctx, batch.ID, Schedule{}); err != nil {
		b.Fatal(err)
	}
	if _, err := db.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	var states, queue, receipts, base time.Duration
	timed := func(d *time.Duration, f func() error) {
		start := time.Now()
		if err := f(); err != nil {
			b.Fatal(err)
		}
		*d += time.Since(start)
	}
	for b.Loop() {
		timed(&states, func() error { _, err := db.StateCounts(ctx); return err })
		timed(&queue, func() error { _, err := db.QueueDepths(ctx); return err })
		timed(&receipts, func() error { _, err := db.ReceiptTotals(ctx); return err })
		timed(&base, func() error { readAll(b, db); return nil })
	}
	n := float64(b.N)
	scrape := states + queue + receipts
	b.ReportMetric(scrape.Seconds()*1e3/n, "ms/scrape")
	b.ReportMetric(states.Seconds()*1e3/n, "ms-states")
	b.ReportMetric(queue.Seconds()*1e3/n, "ms-queue")
	b.ReportMetric(receipts.Seconds()*1e3/n, "ms-receipts")
	b.ReportMetric(float64(scrape)/float64(base), "x-read-all")
	if fi, err := os.Stat(db.Path()); err == nil {
		b.ReportMetric(float64(fi.Size())/1e6, "MB")
	}
}

// BenchmarkDB_RecordReceipt records receipts into two ledgers in turn, one
// with migration 0008's triggers that keep receipt_tallies and one without,
// and reports what the tally adds to each receipt recorded.
func BenchmarkDB_RecordReceipt(b *testing.B) {
	ctx := context.Background()
	tallied, plain := mustOpen(b), mustOpen(b)
	for _, q := range []string{`DROP TRIGGER receipts_tally_insert`, `DROP TRIGGER receipts_tally_delete`, `DROP TRIGGER receipts_tally_update`} {
		if _, err := plain.db.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	var withTally, without time.Duration
	var msgid int64
	for b.Loop() {
		msgid++
		status := []string{ReceiptSuccess, ReceiptSuccess, ReceiptUserBlock}[msgid%3]
		for _, c := range []struct {
			db *DB
			d  *time.Duration
		}{{tallied, &withTally}, {plain, &without}} {
			start := time.Now()
			if _, err := c.db.RecordReceipt(ctx, "main", msgid, status, time.Time{}); err != nil {
				b.Fatal(err)
			}
			*c.d += time.Since(start)
		}
	}
	b.ReportMetric(float64(withTally.Microseconds())/float64(b.N), "us/receipt")
	b.ReportMetric(float64(without.Microseconds())/float64(b.N), "us/receipt-untallied")
	b.ReportMetric(float64(withTally)/float64(without), "x-untallied")
}
