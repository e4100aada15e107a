package store

import (
	"context"
	"fmt"
)

// Counts is the number of a batch's recipients in each state.
type Counts struct {
	Pending, Inflight, Sent, Failed, Unknown, Skipped int64
}

// Total is the number of recipients counted.
func (c Counts) Total() int64 {
	return c.Pending + c.Inflight + c.Sent + c.Failed + c.Unknown + c.Skipped
}

// add counts n recipients in state; unknown states are ignored.
func (c *Counts) add(state string, n int64) {
	switch state {
	case StatePending:
		c.Pending += n
	case StateInflight:
		c.Inflight += n
	case StateSent:
		c.Sent += n
	case StateFailed:
		c.Failed += n
	case StateUnknown:
		c.Unknown += n
	case StateSkipped:
		c.Skipped += n
	}
}

// The counts come from one statement, so from one snapshot, even while a
// run is writing: the rows of the state index (every state but sent), the
// sends in progress (moved from their row's state to inflight), and the
// batch's total, of which the rest were sent.
const sqlCounts = `SELECT 'rows', batch_id, state, COUNT(*) FROM recipients INDEXED BY recipients_unsent
		WHERE %[1]s state <> 'sent' GROUP BY batch_id, state
	UNION ALL SELECT 'moving', i.batch_id, r.state, COUNT(*) FROM inflight i
		JOIN recipients r ON r.batch_id = i.batch_id AND r.line = i.line WHERE %[2]s true GROUP BY i.batch_id, r.state
	UNION ALL SELECT 'total', id, '', total FROM batches WHERE %[3]s true`

// Counts returns the number of recipients of batch id in each state.
func (d *DB) Counts(ctx context.Context, batchID int64) (Counts, error) {
	q := fmt.Sprintf(sqlCounts, "batch_id = ?1 AND", "i.batch_id = ?1 AND", "id = ?1 AND")
	all, err := d.counts(ctx, q, batchID)
	return all[batchID], err
}

// CountsByBatch returns the counts of every batch, keyed by batch id, in
// one pass over the state index. Batches without recipients are absent.
func (d *DB) CountsByBatch(ctx context.Context) (map[int64]Counts, error) {
	return d.counts(ctx, fmt.Sprintf(sqlCounts, "", "", ""))
}

func (d *DB) counts(ctx context.Context, q string, args ...any) (map[int64]Counts, error) {
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("count recipients: %w", err)
	}
	defer rows.Close()
	type count struct {
		id    int64
		state string
		n     int64
	}
	var totals, moving []count
	out := map[int64]Counts{}
	for rows.Next() {
		var kind string
		var r count
		if err := rows.Scan(&kind, &r.id, &r.state, &r.n); err != nil {
			return nil, fmt.Errorf("count recipients: %w", err)
		}
		switch kind {
		case "total":
			totals = append(totals, r)
		case "moving":
			moving = append(moving, r)
		default:
			c := out[r.id]
			c.add(r.state, r.n)
			out[r.id] = c
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count recipients: %w", err)
	}
	for _, t := range totals {
		// total is set when the import finishes: a batch still importing has
		// sent nothing.
		if sent := t.n - out[t.id].Total(); sent > 0 {
			c := out[t.id]
			c.Sent = sent
			out[t.id] = c
		}
	}
	for _, m := range moving {
		c := out[m.id]
		c.add(m.state, -m.n)
		c.Inflight += m.n
		out[m.id] = c
	}
	return out, nil
}

// Remaining returns how many of a batch's recipients are pending or
// inflight. Unlike Counts it reads only those rows through the state index,
// so a resume of a mostly sent batch starts at once.
func (d *DB) Remaining(ctx context.Context, batchID int64) (int64, error) {
	var n int64
	err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM recipients INDEXED BY recipients_unsent
		WHERE batch_id = ? AND state <> 'sent' AND state IN ('pending', 'inflight')`, batchID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count remaining recipients: %w", err)
	}
	return n, nil
}
