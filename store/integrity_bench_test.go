package store

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"
)

// benchLedger opens a ledger for the check benchmarks: a batch of
// MEGASEND_BENCH_ROWS recipients (100,000 by default; BENCHMARKS.md quotes
// 1,000,000) with typical variables, all but 1% sent, as a resume finds it.
// b.Loop runs a benchmark's body once, so each builds it once.
func benchLedger(b *testing.B) (*DB, Batch) {
	b.Helper()
	n := 100_000
	if v := os.Getenv("MEGASEND_BENCH_ROWS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	db := mustOpen(b)
	batch := importBench(b, db, n)
	if _, err := db.db.Exec(`INSERT INTO sends (batch_id, line, state, attempts, msgid, first_attempt_at, last_attempt_at, done_at)
		SELECT batch_id, line, 'sent', 1, 1000 + line, 1700000000000, 1700000000000, 1700000000000 FROM recipients
		WHERE batch_id = ? AND line < ?`, batch.ID, n*99/100); err != nil {
		b.Fatal(err)
	}
	if err := advanceFrontier(context.Background(), db.db, batch.ID); err != nil {
		b.Fatal(err)
	}
	// A checkpoint, as a resume finds a closed ledger: the pages in the file.
	if _, err := db.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	return db, batch
}

// readAll reads every row of the ledger's two big tables: the baseline each
// check is a multiple of, measured in the same run.
func readAll(b *testing.B, db *DB) {
	var r, s int64
	if err := db.db.QueryRow(`SELECT (SELECT COUNT(*) FROM recipients), (SELECT COUNT(*) FROM sends)`).Scan(&r, &s); err != nil {
		b.Fatal(err)
	}
}

// benchCheck times check and, in each iteration too, the baseline, and
// reports the check's time as a multiple of the baseline's.
func benchCheck(b *testing.B, check func(context.Context, *DB, Batch) error) {
	db, batch := benchLedger(b)
	ctx := context.Background()
	var took, base time.Duration
	for b.Loop() {
		start := time.Now()
		if err := check(ctx, db, batch); err != nil {
			b.Fatal(err)
		}
		took += time.Since(start)
		start = time.Now()
		readAll(b, db)
		base += time.Since(start)
	}
	b.ReportMetric(took.Seconds()/float64(b.N), "s/check")
	b.ReportMetric(float64(took)/float64(base), "x-read-all")
	if fi, err := os.Stat(db.Path()); err == nil {
		b.ReportMetric(float64(fi.Size())/1e6, "MB")
	}
}

// BenchmarkDB_QuickCheck is the check a resume and a retry begin with.
func BenchmarkDB_QuickCheck(b *testing.B) {
	benchCheck(b, func(ctx context.Context, db *DB, _ Batch) error { return db.QuickCheck(ctx) })
}

// BenchmarkDB_IntegrityCheck is 'megasend check --full'.
func BenchmarkDB_IntegrityCheck(b *testing.B) {
	benchCheck(b, func(ctx context.Context, db *DB, _ Batch) error { return db.IntegrityCheck(ctx) })
}

// BenchmarkDB_Audit is what a report reads before it writes a word.
func BenchmarkDB_Audit(b *testing.B) {
	benchCheck(b, func(ctx context.Context, db *DB, batch Batch) error {
		_, err := db.Audit(ctx, batch.ID)
		return err
	})
}
