package store

import (
	"context"
	"database/sql"
	"fmt"
)

// A batch's frontier is a line number up to which every recipient has a
// sends row (migration 0003), and frontier_rows is how many recipients lie
// up to it. The pending ones there are the few sends rows in state pending,
// which the state index finds, so a reader looking for pending recipients
// walks only the recipients past it, and a count of the sends rows need
// only count those past it. Sends rows are deleted only with their batch's
// recipients, which resets both, so a frontier once reached stays true.
//
// The ledger moves it with each heartbeat and in its last commit, and a
// resume moves it before its first read: a resume after a crash starts at
// once however much of its batch was sent.

// frontierSlack is how far behind the last line tried the frontier may be
// moved by counting alone. Lines just before it are often still being
// handed out to the workers; those are walked one by one.
const frontierSlack = 1024

// execQuerier is a transaction or the ledger's own connection in one.
type execQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// advanceFrontier moves batchID's frontier to just before its first
// recipient without a sends row, or to its last line, in q's transaction.
// Walking line by line costs about 2 µs per line (a recipient's row and a
// search of sends), so most of the way goes by counting instead, at about
// a tenth of that: up to a line x, every recipient has a sends row exactly
// when there are as many sends rows as recipients up to x, sends rows
// existing only for recipients.
func advanceFrontier(ctx context.Context, q execQuerier, batchID int64) error {
	var frontier, rows, last int64
	if err := q.QueryRowContext(ctx, `SELECT frontier, frontier_rows,
		COALESCE((SELECT MAX(line) FROM sends WHERE batch_id = ?1), 0) FROM batches WHERE id = ?1`, batchID).
		Scan(&frontier, &rows, &last); err != nil {
		return fmt.Errorf("move frontier: %w", err)
	}
	if x := last - frontierSlack; x > frontier {
		var recipients, sends int64
		if err := q.QueryRowContext(ctx, `SELECT
			(SELECT COUNT(*) FROM recipients WHERE batch_id = ?1 AND line > ?2 AND line <= ?3),
			(SELECT COUNT(*) FROM sends WHERE batch_id = ?1 AND line > ?2 AND line <= ?3)`, batchID, frontier, x).
			Scan(&recipients, &sends); err != nil {
			return fmt.Errorf("move frontier: %w", err)
		}
		if recipients == sends {
			frontier, rows = x, rows+recipients
		}
	}
	var next int64
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(
		(SELECT r.line FROM recipients r WHERE r.batch_id = ?1 AND r.line > ?2
			AND NOT EXISTS (SELECT 1 FROM sends s WHERE s.batch_id = ?1 AND s.line = r.line) ORDER BY r.line LIMIT 1),
		(SELECT MAX(line) + 1 FROM recipients WHERE batch_id = ?1), ?2 + 1)`, batchID, frontier).Scan(&next); err != nil {
		return fmt.Errorf("move frontier: %w", err)
	}
	var walked int64
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM sends WHERE batch_id = ?1 AND line > ?2 AND line < ?3`,
		batchID, frontier, next).Scan(&walked); err != nil {
		return fmt.Errorf("move frontier: %w", err)
	}
	if _, err := q.ExecContext(ctx, `UPDATE batches SET frontier = ?, frontier_rows = ? WHERE id = ?`,
		next-1, rows+walked, batchID); err != nil {
		return fmt.Errorf("move frontier: %w", err)
	}
	return nil
}
