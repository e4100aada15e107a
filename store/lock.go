package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// LockStale is how long a lock held from another host survives without a
// heartbeat. On the same host the holder's pid is checked instead.
const LockStale = 2 * time.Minute

// LockedError reports that another live process holds a batch.
type LockedError struct {
	Batch string
	Owner string // "pid@host"
	Since time.Time
}

func (e *LockedError) Error() string {
	pid, host, _ := strings.Cut(e.Owner, "@")
	return fmt.Sprintf("batch %s is being sent by pid %s on %s since %s", e.Batch, pid, host,
		e.Since.Local().Format("2006-01-02 15:04:05"))
}

// Owner formats the lock owner of this process.
func Owner(pid int, host string) string { return strconv.Itoa(pid) + "@" + host }

// Lock takes the batch's lock for owner. It succeeds if the batch is
// unlocked, already ours, or held by a process that is gone: on this host a
// pid that no longer exists, elsewhere a heartbeat older than LockStale.
// Otherwise it returns a *LockedError.
func (d *DB) Lock(ctx context.Context, batchID int64, owner string) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("lock batch: %w", err)
	}
	defer tx.Rollback()
	b, err := scanBatch(tx.QueryRowContext(ctx, `SELECT `+batchColumns+` FROM batches WHERE id = ?`, batchID))
	if err != nil {
		return fmt.Errorf("lock batch: %w", err)
	}
	if b.LockOwner != "" && b.LockOwner != owner && d.alive(b, owner) {
		return &LockedError{Batch: b.Name, Owner: b.LockOwner, Since: b.LockSince}
	}
	now := d.nowMS()
	if _, err := tx.ExecContext(ctx, `UPDATE batches SET lock_owner = ?, lock_since = ?, lock_beat = ? WHERE id = ?`,
		owner, now, now, batchID); err != nil {
		return fmt.Errorf("lock batch: %w", err)
	}
	return tx.Commit()
}

// Abandoned reports whether b's lock is held by a process that is gone (as
// Lock judges it; me is the caller's owner string): the batch was killed
// mid-run, still says so in the ledger, and waits for a resume to take the
// lock over.
func (d *DB) Abandoned(b Batch, me string) bool {
	return b.LockOwner != "" && b.LockOwner != me && !d.alive(b, me)
}

// alive reports whether the holder of b's lock may still be running.
func (d *DB) alive(b Batch, me string) bool {
	pidStr, host, _ := strings.Cut(b.LockOwner, "@")
	_, myHost, _ := strings.Cut(me, "@")
	if host == myHost {
		pid, err := strconv.Atoi(pidStr)
		if err != nil || pid <= 0 {
			return false
		}
		// Signal 0 checks existence; EPERM means it exists under another user.
		err = syscall.Kill(pid, 0)
		return err == nil || errors.Is(err, syscall.EPERM)
	}
	return d.Now().Sub(b.LockBeat) < LockStale
}

// Unlock releases the batch if owner holds it.
func (d *DB) Unlock(ctx context.Context, batchID int64, owner string) error {
	_, err := d.db.ExecContext(ctx, `UPDATE batches SET lock_owner = '', lock_since = NULL, lock_beat = NULL
		WHERE id = ? AND lock_owner = ?`, batchID, owner)
	if err != nil {
		return fmt.Errorf("unlock batch: %w", err)
	}
	return nil
}
