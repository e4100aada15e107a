package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sentBatch opens a database at a new path and imports batch "b" with n
// recipients on lines 2..n+1, every one of them sent, its frontier at the
// end; it returns the path
// and the batch with the database closed, so that the file can be damaged
// with no connection holding its pages in a cache.
func sentBatch(t *testing.T, n int) (string, Batch) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.db")
	d, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	b := importN(t, d, n)
	if _, err := d.db.Exec(`INSERT INTO sends (batch_id, line, state, attempts, msgid, last_attempt_at, done_at)
		SELECT batch_id, line, 'sent', 1, line, 1700000000000 + line, 1700000000000 + line FROM recipients WHERE batch_id = ?`, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.db.Exec(`UPDATE batches SET status = 'done' WHERE id = ?`, b.ID); err != nil {
		t.Fatal(err)
	}
	// As the ledger's last commit leaves it: counts then read no sent row.
	if err := advanceFrontier(t.Context(), d.db, b.ID); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	return path, b
}

// damagePage overwrites with random bytes one leaf page of the b-tree
// called name in the closed database at path: the first one (in key order)
// or the last. It finds the page as SQLite's dbstat table lists it.
func damagePage(t *testing.T, path, name string, last bool) {
	t.Helper()
	d, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	order := "ASC"
	if last {
		order = "DESC"
	}
	var page, size int64
	err = d.db.QueryRow(`SELECT pageno, pgsize FROM dbstat WHERE name = ? AND pagetype = 'leaf'
		ORDER BY path `+order+` LIMIT 1`, name).Scan(&page, &size)
	d.Close()
	if err != nil {
		t.Fatalf("find a leaf page of %s: %v", name, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte(rand.Text() + rand.Text() + strings.Repeat("\xff", int(size)))[:size], (page-1)*size); err != nil {
		t.Fatal(err)
	}
}

func TestDB_QuickCheck(t *testing.T) {
	for _, tt := range []struct {
		name   string
		damage bool
		check  func(*DB, context.Context) error
	}{
		{name: "OK", check: (*DB).QuickCheck},
		{name: "OKFull", check: (*DB).IntegrityCheck},
		{name: "ErrCorrupt", damage: true, check: (*DB).QuickCheck},
		{name: "ErrCorruptFull", damage: true, check: (*DB).IntegrityCheck},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path, _ := sentBatch(t, 3000)
			if tt.damage {
				damagePage(t, path, "sends", false)
			}
			d, err := Open(t.Context(), path)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			err = tt.check(d, t.Context())
			if !tt.damage {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ce *CorruptError
			if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) || !IsCorrupt(err) {
				t.Fatalf("err %v (%T), want a *CorruptError", err, err)
			}
			if len(ce.Problems) == 0 || ce.Path != path || !strings.Contains(err.Error(), "database "+path+" is damaged: ") {
				t.Errorf("problems %q, error %q", ce.Problems, err)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		path, _ := sentBatch(t, 100)
		for _, full := range []bool{false, true} {
			if err := Check(t.Context(), path, full); err != nil {
				t.Errorf("full %v: %v", full, err)
			}
		}
	})
	t.Run("ErrCorrupt", func(t *testing.T) {
		path, _ := sentBatch(t, 3000)
		damagePage(t, path, "sends", true)
		err := Check(t.Context(), path, false)
		var ce *CorruptError
		if !errors.As(err, &ce) || len(ce.Problems) == 0 {
			t.Fatalf("err %v, want the problems listed", err)
		}
	})
	t.Run("NotADatabase", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "users.csv")
		if err := os.WriteFile(path, []byte(strings.Repeat("openid,name\noABC,Zoë\n", 400)), 0o600); err != nil {
			t.Fatal(err)
		}
		err := Check(t.Context(), path, true)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path+" is not a SQLite database") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("Missing", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "none.db")
		if err := Check(t.Context(), path, false); err == nil || IsCorrupt(err) {
			t.Fatalf("err %v, want an error that is not corruption", err)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("check created %s: %v", path, err)
		}
	})
}

// A write that meets a damaged page stops the ledger with ErrCorrupt, and
// Begin says so: the engine sends nothing it could not mark inflight.
func TestLedger_Corrupt(t *testing.T) {
	path, b := sentBatch(t, 3000)
	d, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// A new recipient past the last line: its sends row goes into the last
	// leaf of the sends b-tree, damaged next.
	if _, err := d.db.Exec(`INSERT INTO recipients (batch_id, line, openid, vars, client_msg_id) VALUES (?, 9999, 'oNEW', '{}', 'x')`, b.ID); err != nil {
		t.Fatal(err)
	}
	d.Close()
	damagePage(t, path, "sends", true)
	if d, err = Open(t.Context(), path); err != nil {
		t.Fatal(err)
	}
	l := d.OpenLedger(t.Context(), b.ID, "1@h")
	err = l.Begin(t.Context(), 9999, time.Now())
	cerr := l.Close()
	for _, err := range []error{err, cerr} {
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(fmt.Sprint(err), "database "+path+" is damaged") {
			t.Errorf("err %v, want ErrCorrupt", err)
		}
	}
}

func TestOpen_NotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(path, []byte(strings.Repeat("openid,name\n", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(t.Context(), path)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(fmt.Sprint(err), "is not a SQLite database") {
		t.Fatalf("err %v, want ErrCorrupt saying it is not a database", err)
	}
}
