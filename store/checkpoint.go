package store

import (
	"context"
	"time"
)

// SQLite copies the WAL back into the database (a checkpoint) inside
// whichever commit takes the WAL past wal_autocheckpoint pages, 1,000 by
// default, on the goroutine that committed. The import's writer spent about
// a tenth of its time there, and it is the import's critical path; the
// ledger's writer stalled 3–8 ms in one commit of about 170 at zero latency,
// with every worker waiting for an inflight mark behind it. So while either
// writes, a goroutine beside it checkpoints (PASSIVE, which never blocks a
// writer or a reader), and the writer's connection checkpoints only past
// writerWALPages. By then the background has copied nearly every page, so
// that checkpoint is short. It is still needed: SQLite starts the WAL file
// over only after a checkpoint that caught up with the last commit, which
// one racing a busy writer seldom does, so it keeps the WAL file within
// about writerWALPages pages.
const (
	writerWALPages  = 4000
	checkpointEvery = 100 * time.Millisecond
)

// checkpoints runs a passive checkpoint after each kick, at most one per
// checkpointEvery, until stop closes; it closes done when it returns.
func (d *DB) checkpoints(ctx context.Context, kick, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	for {
		select {
		case <-kick:
		case <-stop:
			return
		}
		// A passive checkpoint that fails (the disk, or another process's
		// checkpoint in progress) only leaves its pages to the next one or
		// to the writer's own; the writer reports real I/O errors itself.
		var busy, frames, copied int64
		_ = d.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied)
		select {
		case <-time.After(checkpointEvery):
		case <-stop:
			return
		}
	}
}
