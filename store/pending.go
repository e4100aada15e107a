package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// sqlPending merges, in line order, the pending recipients of three
// stretches of a batch. Past the last line tried (in a run, the lines the
// engine has not read yet) no recipient has a sends row. Between the
// frontier and that line, those without one are pending: a resume after a
// crash, or lines the run before left unsent. Anywhere, sends rows in state
// pending (handed back, requeued) are found through the state index. So a
// page reads no sends row for a line nobody tried, and a resume of a million
// rows with most of them sent starts at its frontier. Each arm yields its
// rows in line order, so SQLite merges them and stops at the limit.
const sqlPending = `SELECT r.line, r.openid, r.vars, 0, r.client_msg_id, NULL, '' FROM recipients r
	WHERE r.batch_id = ?1 AND r.line > MAX(?2, (SELECT frontier FROM batches WHERE id = ?1),
		COALESCE((SELECT MAX(line) FROM sends WHERE batch_id = ?1), 0))
	UNION ALL
	SELECT r.line, r.openid, r.vars, 0, r.client_msg_id, NULL, '' FROM recipients r
	WHERE r.batch_id = ?1 AND r.line > MAX(?2, (SELECT frontier FROM batches WHERE id = ?1))
		AND r.line <= (SELECT MAX(line) FROM sends WHERE batch_id = ?1)
		AND NOT EXISTS (SELECT 1 FROM sends s WHERE s.batch_id = ?1 AND s.line = r.line)
	UNION ALL
	SELECT s.line, r.openid, r.vars, s.attempts, r.client_msg_id, s.first_attempt_at, COALESCE(s.kind, '')
	FROM sends s INDEXED BY sends_open CROSS JOIN recipients r ON r.batch_id = s.batch_id AND r.line = s.line
	WHERE s.batch_id = ?1 AND s.state <> 'sent' AND s.state = 'pending' AND s.line > ?2
	ORDER BY 1 LIMIT ?3`

// Pending returns up to limit pending recipients of a batch with a line
// after the given one, in line order. The engine pages through a batch with
// it; it holds no lock and sees committed rows only, from one statement's
// snapshot. A recipient's Kind is "" unless it moved to the batch's
// fallback (Ledger.Fallback).
func (d *DB) Pending(ctx context.Context, batchID, after int64, limit int) ([]Recipient, error) {
	rows, err := d.db.QueryContext(ctx, sqlPending, batchID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read pending recipients: %w", err)
	}
	defer rows.Close()
	out := make([]Recipient, 0, limit)
	for rows.Next() {
		r := Recipient{BatchID: batchID, State: StatePending}
		var first sql.NullInt64
		if err := rows.Scan(&r.Line, &r.OpenID, &r.Vars, &r.Attempts, &r.ClientMsgID, &first, &r.Kind); err != nil {
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
// delivered and WeChat would no longer recognise a resend. So do rows of
// the kinds WeChat does not deduplicate at all (customer-service messages
// and subscribe notifications carry no client_msg_id), whenever they began:
// a resend of one of them could deliver it twice.
func (d *DB) RecoverInflight(ctx context.Context, batchID int64, cutoff time.Time) (resend, unknown int64, err error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("recover inflight: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE sends INDEXED BY sends_open SET state = 'pending'
		WHERE batch_id = ? AND state <> 'sent' AND state = 'inflight' AND first_attempt_at >= ?
			AND COALESCE(kind, (SELECT template_kind FROM batches WHERE id = sends.batch_id)) = 'template'`,
		batchID, cutoff.UnixMilli())
	if err != nil {
		return 0, 0, fmt.Errorf("recover inflight: %w", err)
	}
	resend, _ = res.RowsAffected()
	// An unknown row may have been delivered: it keeps its openid, so that
	// the frequency caps count it (migration 0013).
	res, err = tx.ExecContext(ctx, `UPDATE sends INDEXED BY sends_open SET state = 'unknown', errcode = -1,
		errmsg = CASE COALESCE(kind, (SELECT template_kind FROM batches WHERE id = sends.batch_id)) WHEN 'template'
			THEN 'no answer before the run stopped, and the dedup window has passed: may have been delivered'
			ELSE 'no answer before the run stopped, and WeChat does not deduplicate this kind of message: may have been delivered' END,
		done_at = ?, openid = (SELECT r.openid FROM recipients r WHERE r.batch_id = sends.batch_id AND r.line = sends.line)
		WHERE batch_id = ? AND state <> 'sent' AND state = 'inflight'`, d.nowMS(), batchID)
	if err != nil {
		return 0, 0, fmt.Errorf("recover inflight: %w", err)
	}
	unknown, _ = res.RowsAffected()
	if err := advanceFrontier(ctx, tx, batchID); err != nil {
		return 0, 0, fmt.Errorf("recover inflight: %w", err)
	}
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
	const set = `UPDATE sends INDEXED BY sends_open SET state = 'pending', first_attempt_at = NULL, done_at = NULL
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
