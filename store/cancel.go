package store

import (
	"context"
	"fmt"
)

// SkipPending marks every recipient of batch batchID that is still to be
// sent (never tried, or pending again) skipped, with reason as its errmsg,
// and returns how many it marked. A cancelled batch sends nothing more.
// Rows inflight are left as they are: their requests may have reached
// WeChat, and only the resume rule may decide what they became.
func (d *DB) SkipPending(ctx context.Context, batchID int64, reason string) (int64, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("skip pending: %w", err)
	}
	defer tx.Rollback()
	now := d.nowMS()
	res, err := tx.ExecContext(ctx, `UPDATE sends INDEXED BY sends_open SET state = ?, errmsg = ?, done_at = ?
		WHERE batch_id = ? AND state <> 'sent' AND state = ?`, StateSkipped, reason, now, batchID, StatePending)
	if err != nil {
		return 0, fmt.Errorf("skip pending: %w", err)
	}
	requeued, _ := res.RowsAffected()
	// Past the frontier, a recipient without a sends row was never tried.
	res, err = tx.ExecContext(ctx, `INSERT INTO sends (batch_id, line, state, errmsg, done_at)
		SELECT r.batch_id, r.line, ?, ?, ? FROM recipients r
		WHERE r.batch_id = ? AND r.line > (SELECT frontier FROM batches WHERE id = ?)
			AND NOT EXISTS (SELECT 1 FROM sends s WHERE s.batch_id = r.batch_id AND s.line = r.line)`,
		StateSkipped, reason, now, batchID, batchID)
	if err != nil {
		return 0, fmt.Errorf("skip pending: %w", err)
	}
	untried, _ := res.RowsAffected()
	if err := advanceFrontier(ctx, tx, batchID); err != nil {
		return 0, fmt.Errorf("skip pending: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("skip pending: %w", err)
	}
	return requeued + untried, nil
}
