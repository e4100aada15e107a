package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Pending returns up to limit pending recipients of a batch with a line
// after the given one, in line order. The engine pages through a batch with
// it; it holds no lock and sees committed rows only.
func (d *DB) Pending(ctx context.Context, batchID, after int64, limit int) ([]Recipient, error) {
	// The state index says where the page's pending rows lie: a resume may
	// have a million sent rows before them, which only the index skips at
	// once. INDEXED BY, because without statistics SQLite would walk the
	// primary key instead; the partial index serves only queries that
	// repeat its condition.
	var first, last sql.NullInt64
	err := d.db.QueryRowContext(ctx, `SELECT MIN(line), MAX(line) FROM (SELECT line
		FROM recipients INDEXED BY recipients_unsent
		WHERE batch_id = ? AND state <> 'sent' AND state = 'pending' AND line > ? ORDER BY line LIMIT ?)`,
		batchID, after, limit).Scan(&first, &last)
	if err != nil {
		return nil, fmt.Errorf("read pending recipients: %w", err)
	}
	if !first.Valid {
		return nil, nil
	}
	// Where they lie close together, as in a batch being sent, reading the
	// range in primary-key order costs one b-tree step per row instead of
	// an index step and a table search. Scattered ones (a retry of a few
	// failures) are read through the index.
	q := `SELECT line, openid, vars, attempts, client_msg_id, first_attempt_at
		FROM recipients WHERE batch_id = ?1 AND line BETWEEN ?2 AND ?3 AND state = 'pending' ORDER BY line`
	if last.Int64-first.Int64 >= 4*int64(limit) {
		q = `SELECT line, openid, vars, attempts, client_msg_id, first_attempt_at
		FROM recipients INDEXED BY recipients_unsent
		WHERE batch_id = ?1 AND state <> 'sent' AND state = 'pending' AND line BETWEEN ?2 AND ?3 ORDER BY line`
	}
	rows, err := d.db.QueryContext(ctx, q, batchID, first.Int64, last.Int64)
	if err != nil {
		return nil, fmt.Errorf("read pending recipients: %w", err)
	}
	defer rows.Close()
	out := make([]Recipient, 0, limit)
	for rows.Next() {
		r := Recipient{BatchID: batchID, State: StatePending}
		var first sql.NullInt64
		if err := rows.Scan(&r.Line, &r.OpenID, &r.Vars, &r.Attempts, &r.ClientMsgID, &first); err != nil {
			return nil, fmt.Errorf("read pending recipients: %w", err)
		}
		r.FirstAttemptAt = msTime(first)
		out = append(out, r)
	}
	return out, rows.Err()
}

// RecoverInflight applies the resume rule to rows a dead run left inflight.
// A row whose first attempt began after cutoff (the dedup window is still
// open) goes back to pending: resending it with the same client_msg_id
// cannot deliver twice. Older rows become unknown: they may have been
// delivered and WeChat would no longer recognise a resend.
func (d *DB) RecoverInflight(ctx context.Context, batchID int64, cutoff time.Time) (resend, unknown int64, err error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("recover inflight: %w", err)
	}
	defer tx.Rollback()
	if err := foldInflight(ctx, tx, batchID); err != nil {
		return 0, 0, fmt.Errorf("recover inflight: %w", err)
	}
	res, err := tx.ExecContext(ctx, `UPDATE recipients INDEXED BY recipients_unsent SET state = 'pending'
		WHERE batch_id = ? AND state <> 'sent' AND state = 'inflight' AND first_attempt_at >= ?`, batchID, cutoff.UnixMilli())
	if err != nil {
		return 0, 0, fmt.Errorf("recover inflight: %w", err)
	}
	resend, _ = res.RowsAffected()
	res, err = tx.ExecContext(ctx, `UPDATE recipients INDEXED BY recipients_unsent SET state = 'unknown', errcode = -1,
		errmsg = 'no answer before the run stopped, and the dedup window has passed: may have been delivered',
		done_at = ? WHERE batch_id = ? AND state <> 'sent' AND state = 'inflight'`, d.nowMS(), batchID)
	if err != nil {
		return 0, 0, fmt.Errorf("recover inflight: %w", err)
	}
	unknown, _ = res.RowsAffected()
	return resend, unknown, tx.Commit()
}

// Requeue puts recipients of a batch back to pending so they are sent
// again: the failed ones whose errcode is in codes (all failed ones if codes
// is empty and failed is true), and the unknown ones if unknown is true.
// Their attempt count and last error are kept until the next outcome; the
// dedup window starts afresh. It returns how many were requeued.
func (d *DB) Requeue(ctx context.Context, batchID int64, failed bool, codes []int, unknown bool) (int64, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("requeue: %w", err)
	}
	defer tx.Rollback()
	var n int64
	exec := func(q string, args ...any) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("requeue: %w", err)
		}
		k, _ := res.RowsAffected()
		n += k
		return nil
	}
	const set = `UPDATE recipients INDEXED BY recipients_unsent SET state = 'pending', first_attempt_at = NULL, done_at = NULL
		WHERE batch_id = ? AND state <> 'sent' AND `
	switch {
	case failed && len(codes) == 0:
		err = exec(set+`state = 'failed'`, batchID)
	case failed:
		for _, c := range codes {
			if err = exec(set+`state = 'failed' AND errcode = ?`, batchID, c); err != nil {
				break
			}
		}
	}
	if err != nil {
		return 0, err
	}
	if unknown {
		if err := exec(set+`state = 'unknown'`, batchID); err != nil {
			return 0, err
		}
	}
	if n > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE batches SET status = ?, pause_reason = '', finished_at = NULL, updated_at = ?
			WHERE id = ?`, StatusPaused, d.nowMS(), batchID); err != nil {
			return 0, fmt.Errorf("requeue: %w", err)
		}
	}
	return n, tx.Commit()
}
