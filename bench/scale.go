package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	_ "modernc.org/sqlite" // the driver megasend's ledger uses

	"github.com/megasend/megasend/store"
)

// scale measures a million-recipient batch: its import, resuming it with
// all but 10,000 sent, and the peak memory of the whole campaign.
func (b *bench) scale(ctx context.Context) error {
	n, sent := b.sz.scale, b.sz.scaleSent
	logf("scale: writing %d recipients", n)
	users, err := b.writeUsers(n)
	if err != nil {
		return err
	}
	db := filepath.Join(b.dir, "scale.db")
	if err := b.importOnly(ctx, db, users, n); err != nil {
		return err
	}
	if err := b.resume(ctx, db, n, sent); err != nil {
		return err
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(db + suffix) // a few hundred MB the last step does not need
	}
	return b.wholeCampaign(ctx, users, n)
}

// importOnly imports the batch against a sandbox with no quota: the first
// sends are refused with 45009 and the batch pauses (exit 4), imported. It
// runs b.rounds times, each into a fresh database, and judges the median;
// db is left with the last import.
func (b *bench) importOnly(ctx context.Context, db, users string, n int) error {
	var took []float64
	var peak runResult
	for round := 1; round <= b.rounds; round++ {
		logf("scale: import of %d rows (round %d of %d)", n, round, b.rounds)
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(db + suffix)
		}
		r, err := b.importRun(ctx, db, users)
		if err != nil {
			return err
		}
		at, ok := r.since("imported")
		if !ok {
			return fmt.Errorf("megasend logged no \"imported\" line:\n%s", tail(r.stderr))
		}
		took = append(took, at.Seconds())
		if r.maxRSS > peak.maxRSS {
			peak = r
		}
	}
	med := median(took)
	b.add(row{scenario: "scale",
		what:     fmt.Sprintf("import of %s CSV rows: process start to \"imported\" logged; peak RSS of the process", count(n)),
		measured: fmt.Sprintf("**%.2f s**%s, %s rows/s; %s", med, b.each(took, "%.2f"), count(int(float64(n)/med)), rss(peak)),
		target:   "≤ 6 s", verdict: b.verdict(med <= 6)})
	return nil
}

func (b *bench) importRun(ctx context.Context, db, users string) (runResult, error) {
	sb, err := b.startSandbox(false, "--quota", "0")
	if err != nil {
		return runResult{}, err
	}
	defer sb.stop()
	return b.megasend(ctx, sb, db, 5*time.Minute, []int{4},
		b.campaign(users, "scale", "--concurrency", strconv.Itoa(b.sz.conc))...)
}

// resume marks the first sent rows of the imported batch sent, directly in
// SQLite, and resumes the batch: the time from process start to the
// sandbox's first delivery.
func (b *bench) resume(ctx context.Context, db string, n, sent int) error {
	logf("scale: marking %d of %d sent", sent, n)
	if _, _, err := b.child(ctx, 5*time.Minute, "mark-sent", "-db", db, "-batch", "scale", "-sent", strconv.Itoa(sent)); err != nil {
		return err
	}
	logf("scale: resume")
	sb, err := b.startSandbox(true, "--quota", "2000000")
	if err != nil {
		return err
	}
	defer sb.stop()
	r, err := b.megasend(ctx, sb, db, 5*time.Minute, []int{0}, "campaign", "--resume", "scale", "--yes")
	if err != nil {
		return err
	}
	times, err := deliveryTimes(sb.deliveries)
	if err != nil {
		return err
	}
	if len(times) != n-sent {
		return fmt.Errorf("resume delivered %d, want %d", len(times), n-sent)
	}
	first := times[0].Sub(r.start)
	sending := "no \"sending\" logged"
	if at, ok := r.since("sending"); ok {
		sending = "\"sending\" logged at " + secs(at)
	}
	b.add(row{scenario: "scale",
		what: fmt.Sprintf("resume of a %s batch with %s sent: process start to the sandbox's first delivery", count(n), count(sent)),
		measured: fmt.Sprintf("**%s** (%s; the %s left took %s in all)",
			secs(first), sending, count(n-sent), secs(r.wall)),
		target: "≤ 0.5 s", verdict: b.verdict(first <= 500*time.Millisecond)})
	return nil
}

// markSent records the batch's first sent recipients as sent, the way a run
// that sent them would have left them, and checkpoints the WAL, as a
// long run's automatic checkpoints would have. It leaves the batch's
// frontier (and the count of recipients up to it) where a run killed just
// before a heartbeat would have: the ledger moves it every 5 s, so
// staleLines (5 s at 10,000 msgs/s) behind the last line sent, which the
// resume must walk past.
func markSent(ctx context.Context, path, batch string, sent int) error {
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	var id int64
	if err := db.QueryRowContext(ctx, `SELECT id FROM batches WHERE name = ?`, batch).Scan(&id); err != nil {
		return fmt.Errorf("batch %s: %w", batch, err)
	}
	now := time.Now().UnixMilli()
	// Lines count from 2: line 1 is the CSV header.
	res, err := db.ExecContext(ctx, `INSERT INTO sends (batch_id, line, state, attempts, msgid,
		first_attempt_at, last_attempt_at, done_at)
		SELECT batch_id, line, ?, 1, 1000000000000 + line, ?, ?, ? FROM recipients
		WHERE batch_id = ? AND line <= ?
		ON CONFLICT DO UPDATE SET state = excluded.state, attempts = attempts + 1, errcode = NULL, errmsg = NULL,
			msgid = excluded.msgid, first_attempt_at = excluded.first_attempt_at,
			last_attempt_at = excluded.last_attempt_at, done_at = excluded.done_at`,
		store.StateSent, now, now, now, id, sent+1)
	if err != nil {
		return fmt.Errorf("mark sent: %w", err)
	}
	if k, _ := res.RowsAffected(); k != int64(sent) {
		return fmt.Errorf("mark sent: %d rows, want %d", k, sent)
	}
	const staleLines = 50_000
	if _, err := db.ExecContext(ctx, `UPDATE batches SET status = ?, frontier = ?2,
		frontier_rows = (SELECT COUNT(*) FROM recipients WHERE batch_id = ?3 AND line <= ?2) WHERE id = ?3`,
		store.StatusPaused, max(sent+1-staleLines, 0), id); err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}

// wholeCampaign sends the whole batch in one process, import included, and
// reports its peak memory.
func (b *bench) wholeCampaign(ctx context.Context, users string, n int) error {
	logf("scale: whole campaign of %d recipients", n)
	sb, err := b.startSandbox(false, "--quota", "2000000")
	if err != nil {
		return err
	}
	defer sb.stop()
	r, err := b.megasend(ctx, sb, filepath.Join(b.dir, "whole.db"), 15*time.Minute, []int{0},
		b.campaign(users, "whole", "--concurrency", strconv.Itoa(b.sz.conc))...)
	if err != nil {
		return err
	}
	if err := checkAccepted(ctx, sb, n); err != nil {
		return err
	}
	b.add(row{scenario: "scale",
		what: fmt.Sprintf("whole %s campaign in one process (import + send, 0 ms, concurrency %d): peak RSS", count(n), b.sz.conc),
		measured: fmt.Sprintf("**%s** (%s, %s msgs/s, %.1f µs CPU per message)", rss(r), secs(r.wall),
			count(int(float64(n)/r.wall.Seconds())), float64((r.cpu/time.Duration(n)).Nanoseconds())/1e3),
		target: "≤ 64 MiB", verdict: b.verdict(r.maxRSS > 0 && r.maxRSS <= 64<<20)})
	return nil
}
