package store

import (
	"context"
	"fmt"
	"time"
)

// SecondCount is how many of a batch's sends ended in one second.
type SecondCount struct {
	At    time.Time // the start of the second
	Count int64
}

// DoneBySecond returns how many of batch batchID's recipients were sent,
// failed or became unknown in each second, oldest first; seconds with none
// are left out. A recipient counts once, in the second its current send
// ended (a retried one where its retry ended).
func (d *DB) DoneBySecond(ctx context.Context, batchID int64) ([]SecondCount, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT done_at / 1000 AS s, COUNT(*) FROM sends
		WHERE batch_id = ? AND done_at IS NOT NULL AND state IN ('sent', 'failed', 'unknown')
		GROUP BY s ORDER BY s`, batchID)
	if err != nil {
		return nil, fmt.Errorf("sends by second: %w", err)
	}
	defer rows.Close()
	var out []SecondCount
	for rows.Next() {
		var sec, n int64
		if err := rows.Scan(&sec, &n); err != nil {
			return nil, fmt.Errorf("sends by second: %w", err)
		}
		out = append(out, SecondCount{At: time.Unix(sec, 0), Count: n})
	}
	return out, rows.Err()
}
