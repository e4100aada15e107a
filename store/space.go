package store

import (
	"context"
	"fmt"
)

// Space is how much of the database file is in use.
type Space struct {
	Size int64 // bytes in the file's pages
	Free int64 // bytes in free pages: later writes reuse them; only VACUUM gives them back
}

// Space returns the file's size and its free space.
func (d *DB) Space(ctx context.Context) (Space, error) {
	var pages, free, size int64
	err := d.db.QueryRowContext(ctx, `SELECT p.page_count, f.freelist_count, s.page_size
		FROM pragma_page_count p, pragma_freelist_count f, pragma_page_size s`).Scan(&pages, &free, &size)
	if err != nil {
		return Space{}, corrupt(d.path, fmt.Errorf("database space: %w", err))
	}
	return Space{Size: pages * size, Free: free * size}, nil
}

// reclaimShare is the share of free pages, 1/reclaimShare of the file,
// from which Reclaim runs VACUUM.
const reclaimShare = 4

// Reclaimed says what Reclaim did.
type Reclaimed struct {
	Before, After Space
	Vacuumed      bool
	Busy          []string // why it did not vacuum: the batches live processes hold
}

// Reclaim gives the free pages of the file back to the file system
// (VACUUM) when they are at least a quarter of it and no live process holds
// a batch (me is the caller's owner string). Otherwise they stay: the next
// imports reuse them, so the file grows no further.
//
// VACUUM rewrites the whole file, in about 3.5 s for 220 MB (a ledger of a
// million recipients), and needs that much free disk for the copy and
// again for the WAL. It holds the write lock all along, so a run sending
// another batch would wait for it and fail past its busy timeout: that is
// why it waits for a moment when no batch is held, and why a small gain is
// not worth it. The WAL it leaves is truncated at once.
func (d *DB) Reclaim(ctx context.Context, me string) (Reclaimed, error) {
	var r Reclaimed
	var err error
	if r.Before, err = d.Space(ctx); err != nil {
		return r, err
	}
	r.After = r.Before
	if r.Before.Free == 0 || r.Before.Free*reclaimShare < r.Before.Size {
		return r, nil
	}
	batches, err := d.Batches(ctx)
	if err != nil {
		return r, corrupt(d.path, err)
	}
	for _, b := range batches {
		if d.held(b, me) {
			r.Busy = append(r.Busy, b.Name)
		}
	}
	if len(r.Busy) > 0 {
		return r, nil
	}
	if _, err := d.db.ExecContext(ctx, `VACUUM`); err != nil {
		return r, corrupt(d.path, fmt.Errorf("vacuum: %w", err))
	}
	r.Vacuumed = true
	var busy, frames, copied int64
	if err := d.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &copied); err != nil {
		return r, fmt.Errorf("vacuum: checkpoint: %w", err)
	}
	r.After, err = d.Space(ctx)
	return r, err
}
