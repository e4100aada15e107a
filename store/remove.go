package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// RemoveError says why RemoveBatches removed nothing: some names are not
// batches, or some batches are held by a live process. It matches
// ErrNotFound when any name is missing.
type RemoveError struct {
	Missing []string      // names of no batch, in the order given
	Running []LockedError // batches a live process is sending or importing
}

func (e *RemoveError) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, "no batch "+strings.Join(e.Missing, ", "))
	}
	for _, le := range e.Running {
		parts = append(parts, le.Error())
	}
	return "remove batches: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrNotFound) true when a name was missing.
func (e *RemoveError) Is(target error) bool { return target == ErrNotFound && len(e.Missing) > 0 }

// RemoveBatches removes the batches called names, with every recipient and
// send row of theirs, all of them or none: if a name is not a batch, or a
// live process holds one of them (as Lock judges it; me is the caller's
// owner string), nothing is removed and a *RemoveError names every such
// batch. A batch whose process is gone may be removed. It is one
// transaction, so a crash removes all or nothing, and a process that wants
// the lock of a batch meanwhile waits for it (about 5 s per million
// recipients removed) and then finds the batch gone. Returns the batches
// removed, as they were.
func (d *DB) RemoveBatches(ctx context.Context, names []string, me string) ([]Batch, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("remove batches: %w", err)
	}
	defer tx.Rollback()
	var (
		found []Batch
		rerr  RemoveError
	)
	for i, name := range names {
		if slices.Contains(names[:i], name) {
			continue // a name given twice is removed once
		}
		b, err := scanBatch(tx.QueryRowContext(ctx, `SELECT `+batchColumns+` FROM batches WHERE name = ?`, name))
		switch {
		case errors.Is(err, ErrNotFound):
			rerr.Missing = append(rerr.Missing, name)
			continue
		case err != nil:
			return nil, corrupt(d.path, fmt.Errorf("remove batch %s: %w", name, err))
		}
		if d.held(b, me) {
			rerr.Running = append(rerr.Running, LockedError{Batch: b.Name, Owner: b.LockOwner, Since: b.LockSince})
			continue
		}
		found = append(found, b)
	}
	if len(rerr.Missing)+len(rerr.Running) > 0 {
		return nil, &rerr
	}
	for _, b := range found {
		if err := deleteBatch(ctx, tx, b.ID); err != nil {
			return nil, corrupt(d.path, fmt.Errorf("remove batch %s: %w", b.Name, err))
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, corrupt(d.path, fmt.Errorf("remove batches: %w", err))
	}
	return found, nil
}

// Prune says which batches PruneBatches removes: those whose last activity
// (the last write to the batch's row: a status change, a heartbeat while
// sending) is before Before, and whose status is one of Statuses, any if
// empty.
type Prune struct {
	Before   time.Time
	Statuses []string
	DryRun   bool // remove nothing; return what would be removed
}

// PruneBatches removes, in one transaction, the batches p selects, with
// their recipients, except those a live process holds (me is the caller's
// owner string): it returns those apart, as kept. Returns the batches
// removed (or, with DryRun, that would be), oldest first.
func (d *DB) PruneBatches(ctx context.Context, p Prune, me string) (removed, kept []Batch, err error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("prune batches: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT `+batchColumns+` FROM batches
		WHERE updated_at < ? ORDER BY updated_at, id`, p.Before.UnixMilli())
	if err != nil {
		return nil, nil, corrupt(d.path, fmt.Errorf("prune batches: %w", err))
	}
	for rows.Next() {
		b, err := scanBatch(rows)
		if err != nil {
			rows.Close()
			return nil, nil, corrupt(d.path, fmt.Errorf("prune batches: %w", err))
		}
		switch {
		case len(p.Statuses) > 0 && !slices.Contains(p.Statuses, b.Status):
		case d.held(b, me):
			kept = append(kept, b)
		default:
			removed = append(removed, b)
		}
	}
	if err := rows.Close(); err != nil {
		return nil, nil, corrupt(d.path, fmt.Errorf("prune batches: %w", err))
	}
	if p.DryRun {
		return removed, kept, nil
	}
	for _, b := range removed {
		if err := deleteBatch(ctx, tx, b.ID); err != nil {
			return nil, nil, corrupt(d.path, fmt.Errorf("prune batch %s: %w", b.Name, err))
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, nil, corrupt(d.path, fmt.Errorf("prune batches: %w", err))
	}
	return removed, kept, nil
}

// held reports whether a live process other than me holds b's lock.
func (d *DB) held(b Batch, me string) bool {
	return b.LockOwner != "" && b.LockOwner != me && d.alive(b, me)
}

// deleteBatch removes batch id and its rows in tx.
func deleteBatch(ctx context.Context, tx *sql.Tx, id int64) error {
	for _, q := range []string{
		`DELETE FROM sends WHERE batch_id = ?`,
		`DELETE FROM recipients WHERE batch_id = ?`,
		`DELETE FROM batches WHERE id = ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return err
		}
	}
	return nil
}
