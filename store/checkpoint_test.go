package store

import (
	"os"
	"testing"
	"time"
)

// wantPragmas fails t unless the pool's connection has the settings given.
func wantPragmas(t *testing.T, db *DB, want ...pragma) {
	t.Helper()
	for _, p := range want {
		var got int
		if err := db.db.QueryRow("PRAGMA " + p.name).Scan(&got); err != nil || got != p.value {
			t.Errorf("%s = %d, %v; want %d", p.name, got, err, p.value)
		}
	}
}

// A kick makes the background copy the WAL's pages into the database file,
// which the writer, its threshold raised, would not do yet; stop ends it.
func TestCheckpoints(t *testing.T) {
	db := mustOpen(t)
	conn, err := db.db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	restore, err := setPragmas(t.Context(), conn, pragma{"wal_autocheckpoint", writerWALPages})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(t.Context(), `CREATE TABLE filler (b BLOB);
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
		INSERT INTO filler SELECT randomblob(2000) FROM n`); err != nil {
		t.Fatal(err)
	}
	restore()
	conn.Close()
	size := func() int64 {
		fi, err := os.Stat(db.Path())
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	kick, stop, done := make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	go db.checkpoints(t.Context(), kick, stop, done)
	kick <- struct{}{}
	for deadline := time.Now().Add(5 * time.Second); size() < before+300*2000; {
		if time.Now().After(deadline) {
			t.Fatalf("database file %d bytes after the kick, %d before: nothing was checkpointed", size(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("checkpoints did not return after stop")
	}
}

// The ledger's writer raises its connection's checkpoint threshold; the
// connection goes back to the pool as it was.
func TestLedger_ConnectionBackAsItWas(t *testing.T) {
	db := mustOpen(t)
	db.db.SetMaxOpenConns(1)
	batch := importBench(t, db, 10)
	l := db.OpenLedger(t.Context(), batch.ID, "1@bench")
	if err := l.Begin(t.Context(), 2, time.Now()); err != nil {
		t.Fatal(err)
	}
	l.Finish(Outcome{Line: 2, State: StateSent, MsgID: 1, At: time.Now()})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	wantPragmas(t, db, pragma{"wal_autocheckpoint", 1000}, pragma{"foreign_keys", 1})
}
