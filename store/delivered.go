package store

import (
	"context"
	"fmt"
	"time"
)

// SkipCapped is the reason SkippedReasons gives the recipients a frequency
// cap skipped; their errmsg starts with it and says which cap.
const SkipCapped = "capped"

// Delivery names one message a person was sent, or may have been (its
// outcome unknown): a batch's recipient (BatchID and Line) or a single
// message of serve (MessageID).
type Delivery struct {
	BatchID, Line, MessageID int64
}

// sqlDelivered finds them through the partial indexes of migration 0013,
// which hold only the rows delivered or perhaps delivered: a person's
// recent sends are a few index entries, however large the ledger. A batch's
// account is its row's, read by its key. INDEXED BY, and a subquery
// rather than a join: with statistics of small tables, as a new ledger's
// are, the planner would scan them instead.
const sqlDelivered = `SELECT s.batch_id, s.line, 0 FROM sends s INDEXED BY sends_delivered
	WHERE s.openid = ?2 AND s.state IN ('sent', 'unknown') AND s.done_at >= ?3
		AND (SELECT b.account FROM batches b WHERE b.id = s.batch_id) = ?1
	UNION ALL
	SELECT 0, 0, m.id FROM messages m INDEXED BY messages_delivered
	WHERE m.account = ?1 AND m.openid = ?2 AND m.state IN ('sent', 'unknown') AND m.done_at >= ?3`

// DeliveredTo returns the messages account sent openid at or after since,
// by any batch or as single messages, those whose outcome is unknown
// included (they may have been delivered). Only outcomes committed count:
// sends in flight are for the caller to count (campaign's caps do).
func (d *DB) DeliveredTo(ctx context.Context, account, openid string, since time.Time) ([]Delivery, error) {
	rows, err := d.db.QueryContext(ctx, sqlDelivered, account, openid, since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("deliveries to a recipient: %w", err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var v Delivery
		if err := rows.Scan(&v.BatchID, &v.Line, &v.MessageID); err != nil {
			return nil, fmt.Errorf("deliveries to a recipient: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("deliveries to a recipient: %w", err)
	}
	return out, nil
}
