package store

import (
	"context"
	"fmt"
	"time"
)

// BringForward makes what account's service put off until at (its daily
// quota's reset) due at now instead: the quota is back early (WeChat's
// clear_quota, or a reset seen before the runner's clock reached it). Both
// the batches the service runs and the single messages are moved; what
// waits for something else (a send_at, a retry) is not.
func (d *DB) BringForward(ctx context.Context, account string, at, now time.Time) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("bring forward: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE service_batches SET not_before = ?
		WHERE not_before = ? AND batch_id IN (SELECT id FROM batches WHERE account = ?)`,
		now.UnixMilli(), at.UnixMilli(), account); err != nil {
		return fmt.Errorf("bring forward batches: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE messages SET not_before = ?
		WHERE account = ? AND `+openMessage+` AND not_before = ?`,
		now.UnixMilli(), account, at.UnixMilli()); err != nil {
		return fmt.Errorf("bring forward messages: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("bring forward: %w", err)
	}
	return nil
}
