package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Counts is the number of a batch's recipients in each state.
type Counts struct {
	Pending, Inflight, Sent, Failed, Unknown, Skipped int64
	// RetriedLate is not a state: how many recipients, over all the batch's
	// runs, ran out of their transient budget and were tried once more at
	// the end of a run (whatever came of it; they are counted in their
	// states too).
	RetriedLate int64
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
// run is writing: the sends rows in the state index (every state but sent),
// the number of sends rows (those up to the frontier are counted already),
// and the batch's total. Of the total, the recipients without a sends row
// were never tried (pending), and the sends rows outside the index were
// sent. The total is set when the import finishes; until then the rows
// imported so far are counted, so a long import shows its progress. That
// walks the rows committed so far, but only for a batch still importing.
// The batch's count of late retries comes along (migration 0004).
const sqlCounts = `SELECT 'open', batch_id, state, COUNT(*) FROM sends INDEXED BY sends_open
		WHERE %[1]s state <> 'sent' GROUP BY batch_id, state
	UNION ALL SELECT 'tried', b.id, '', b.frontier_rows + (SELECT COUNT(*) FROM sends s
		WHERE s.batch_id = b.id AND s.line > b.frontier) FROM batches b WHERE %[2]s true
	UNION ALL SELECT 'total', b.id, '', CASE b.status WHEN 'importing'
		THEN (SELECT COUNT(*) FROM recipients r WHERE r.batch_id = b.id) ELSE b.total END
		FROM batches b WHERE %[2]s true
	UNION ALL SELECT 'late', b.id, '', b.retried_late FROM batches b WHERE %[2]s b.retried_late > 0`

// Counts returns the number of recipients of batch id in each state.
func (d *DB) Counts(ctx context.Context, batchID int64) (Counts, error) {
	q := fmt.Sprintf(sqlCounts, "batch_id = ?1 AND", "b.id = ?1 AND")
	all, err := counts(ctx, d.db, q, batchID)
	return all[batchID], err
}

// CountsByBatch returns the counts of every batch, keyed by batch id, in
// one statement. Batches without recipients are absent.
func (d *DB) CountsByBatch(ctx context.Context) (map[int64]Counts, error) {
	return counts(ctx, d.db, fmt.Sprintf(sqlCounts, "", ""))
}

// querier is the database or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func counts(ctx context.Context, db querier, q string, args ...any) (map[int64]Counts, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("count recipients: %w", err)
	}
	defer rows.Close()
	type count struct {
		id    int64
		state string
		n     int64
	}
	var totals []count
	tried := map[int64]int64{}
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
		case "tried":
			tried[r.id] = r.n
		case "late":
			c := out[r.id]
			c.RetriedLate = r.n
			out[r.id] = c
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
		// A batch without recipients (yet) is absent.
		if t.n == 0 {
			continue
		}
		c := out[t.id]
		c.Sent = tried[t.id] - c.Total()
		c.Pending += t.n - tried[t.id]
		out[t.id] = c
	}
	return out, nil
}

// Remaining returns how many of a batch's recipients are pending or
// inflight: those without a sends row, and the sends rows in either state.
// It counts only the sends rows past the frontier and those in the state
// index, so a resume of a mostly sent batch starts at once.
func (d *DB) Remaining(ctx context.Context, batchID int64) (int64, error) {
	var n int64
	err := d.db.QueryRowContext(ctx, `SELECT b.total - b.frontier_rows
		- (SELECT COUNT(*) FROM sends s WHERE s.batch_id = b.id AND s.line > b.frontier)
		+ (SELECT COUNT(*) FROM sends INDEXED BY sends_open
			WHERE batch_id = b.id AND state <> 'sent' AND state IN ('pending', 'inflight'))
		FROM batches b WHERE b.id = ?`, batchID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count remaining recipients: %w", err)
	}
	return n, nil
}
