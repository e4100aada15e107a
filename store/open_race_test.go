package store

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Many handles opening one fresh file at the same instant, as two
// processes starting together do: every Open succeeds, and the file ends
// with each migration applied once, in WAL mode. SQLite does not call the
// busy handler for a connection that must upgrade a read lock it already
// holds to a write lock (it could deadlock), so a step that does that -
// switching a new file to WAL - answers SQLITE_BUSY at once whatever
// busy_timeout says, unless Open waits for it itself.
func TestOpen_FreshFileRace(t *testing.T) {
	const rounds, handles = 20, 8
	for r := range rounds {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("race%d.db", r))
		start := make(chan struct{})
		dbs := make([]*DB, handles)
		errs := make([]error, handles)
		var wg sync.WaitGroup
		for i := range handles {
			wg.Go(func() {
				<-start
				dbs[i], errs[i] = Open(t.Context(), path)
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, handle %d: %v", r, i, err)
			}
		}
		for _, db := range dbs {
			db.Close()
		}
		checkFresh(t, path)
	}
}

// A new file whose write lock another process holds - as one does while it
// creates the file's first tables - is waited for, not refused: SQLite
// answers the switch to WAL with SQLITE_BUSY at once, without the busy
// timeout, and Open must wait out the lock itself.
func TestOpen_FreshFileLocked(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "locked.db")
	other, err := sql.Open("sqlite", fileDSN(path, "_txlock=immediate"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock
	if err != nil {
		t.Fatal(err)
	}
	opened := make(chan error, 1)
	go func() {
		db, err := Open(ctx, path)
		if err == nil {
			db.Close()
		}
		opened <- err
	}()
	select {
	case err := <-opened:
		t.Fatalf("Open returned while another connection held the write lock: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-opened; err != nil {
		t.Fatalf("Open after the lock was released: %v", err)
	}
	checkFresh(t, path)
}

// checkFresh opens path once more and checks its journal mode and that
// every migration is recorded exactly once.
func checkFresh(t *testing.T, path string) {
	t.Helper()
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	if err := db.db.QueryRowContext(t.Context(), `PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal mode %q, want wal", mode)
	}
	names, err := migrationNames()
	if err != nil {
		t.Fatal(err)
	}
	var n, distinct int
	if err := db.db.QueryRowContext(t.Context(), `SELECT COUNT(*), COUNT(DISTINCT name) FROM migrations`).Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if n != len(names) || distinct != len(names) {
		t.Errorf("%d migrations recorded (%d distinct), want %d", n, distinct, len(names))
	}
}
