package store

import (
	"context"
	"fmt"
)

// SkipDuplicate is the reason SkippedReasons gives the recipients skipped
// as a repeat of an openid earlier in the input; their errmsg names the
// first line, so each differs.
const SkipDuplicate = "duplicate_openid"

// SkippedReasons returns how many recipients of batch batchID are skipped,
// by reason: SkipDuplicate for repeated openids, SkipCapped for those a
// frequency cap held back, else the errmsg they were
// skipped with (SkipPending's reason, such as "cancelled").
func (d *DB) SkippedReasons(ctx context.Context, batchID int64) (map[string]int64, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT CASE WHEN errmsg LIKE 'duplicate openid (%' THEN ?2
			WHEN errmsg LIKE ?3 || '%' THEN ?3 ELSE COALESCE(errmsg, '') END AS reason, COUNT(*)
		FROM sends INDEXED BY sends_open WHERE batch_id = ?1 AND state <> 'sent' AND state = 'skipped'
		GROUP BY reason`, batchID, SkipDuplicate, SkipCapped)
	if err != nil {
		return nil, fmt.Errorf("skipped reasons: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var (
			reason string
			n      int64
		)
		if err := rows.Scan(&reason, &n); err != nil {
			return nil, fmt.Errorf("skipped reasons: %w", err)
		}
		out[reason] += n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("skipped reasons: %w", err)
	}
	return out, nil
}
