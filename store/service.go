package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Schedule is what the service waits for before it runs a batch by itself.
type Schedule struct {
	// NotBefore is the earliest time to run it; zero for now.
	NotBefore time.Time
	// Hold, if set, says why the service will not run it until asked to
	// (paused by request, a batch-fatal error to fix).
	Hold string
}

// SetSchedule puts batch batchID in the service's hands with schedule s,
// or changes its schedule.
func (d *DB) SetSchedule(ctx context.Context, batchID int64, s Schedule) error {
	var nb int64
	if !s.NotBefore.IsZero() {
		nb = s.NotBefore.UnixMilli()
	}
	_, err := d.db.ExecContext(ctx, `INSERT INTO service_batches (batch_id, not_before, hold) VALUES (?, ?, ?)
		ON CONFLICT (batch_id) DO UPDATE SET not_before = excluded.not_before, hold = excluded.hold`, batchID, nb, s.Hold)
	if err != nil {
		return fmt.Errorf("schedule batch: %w", err)
	}
	return nil
}

// BatchSchedule returns the schedule of batch batchID, and false if the
// service does not run it.
func (d *DB) BatchSchedule(ctx context.Context, batchID int64) (Schedule, bool, error) {
	var (
		nb   int64
		hold string
	)
	err := d.db.QueryRowContext(ctx, `SELECT not_before, hold FROM service_batches WHERE batch_id = ?`, batchID).Scan(&nb, &hold)
	if errors.Is(err, sql.ErrNoRows) {
		return Schedule{}, false, nil
	}
	if err != nil {
		return Schedule{}, false, fmt.Errorf("batch schedule: %w", err)
	}
	return Schedule{NotBefore: msTime(sql.NullInt64{Int64: nb, Valid: nb != 0}), Hold: hold}, true, nil
}

// DueBatches returns the batches of account the service runs that are due
// at now and not held, oldest first, and the earliest time a batch not
// due yet will be (zero if none). Batches done are left out.
func (d *DB) DueBatches(ctx context.Context, account string, now time.Time) ([]Batch, time.Time, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+batchColumns+` FROM batches
		WHERE account = ? AND status IN (?, ?, ?) AND id IN (
			SELECT batch_id FROM service_batches WHERE hold = '' AND not_before <= ?)
		ORDER BY id`, account, StatusReady, StatusRunning, StatusPaused, now.UnixMilli())
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("due batches: %w", err)
	}
	defer rows.Close()
	var out []Batch
	for rows.Next() {
		b, err := scanBatch(rows)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("due batches: %w", err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, time.Time{}, fmt.Errorf("due batches: %w", err)
	}
	var next sql.NullInt64
	err = d.db.QueryRowContext(ctx, `SELECT MIN(s.not_before) FROM service_batches s JOIN batches b ON b.id = s.batch_id
		WHERE b.account = ? AND b.status IN (?, ?, ?) AND s.hold = '' AND s.not_before > ?`,
		account, StatusReady, StatusRunning, StatusPaused, now.UnixMilli()).Scan(&next)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("due batches: %w", err)
	}
	return out, msTime(next), nil
}
