package store

import (
	"context"
	"fmt"
)

// FailureGroup counts a batch's failed or unknown recipients with one errcode.
type FailureGroup struct {
	State   string // failed or unknown
	Errcode int
	Count   int64
	Errmsg  string // one example errmsg
}

// FailureGroups returns the batch's failed and unknown recipients grouped by
// state and errcode, largest group first.
func (d *DB) FailureGroups(ctx context.Context, batchID int64) ([]FailureGroup, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT state, COALESCE(errcode, 0), COUNT(*), COALESCE(MAX(errmsg), '')
		FROM sends INDEXED BY sends_open WHERE batch_id = ? AND state <> 'sent' AND state IN ('failed', 'unknown')
		GROUP BY state, errcode ORDER BY COUNT(*) DESC, errcode`, batchID)
	if err != nil {
		return nil, fmt.Errorf("group failures: %w", err)
	}
	defer rows.Close()
	var out []FailureGroup
	for rows.Next() {
		var g FailureGroup
		if err := rows.Scan(&g.State, &g.Errcode, &g.Count, &g.Errmsg); err != nil {
			return nil, fmt.Errorf("group failures: %w", err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// Outcomes returns what a report starts from: the batch's counts by state
// and its failures grouped by errcode.
func (d *DB) Outcomes(ctx context.Context, batchID int64) (Counts, []FailureGroup, error) {
	c, err := d.Counts(ctx, batchID)
	if err != nil {
		return Counts{}, nil, err
	}
	groups, err := d.FailureGroups(ctx, batchID)
	return c, groups, err
}
