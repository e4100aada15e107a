package store

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"testing"
	"time"
)

// rowsOf counts the recipients and sends rows of batch id.
func rowsOf(t *testing.T, d *DB, id int64) (recipients, sends int64) {
	t.Helper()
	if err := d.db.QueryRow(`SELECT (SELECT COUNT(*) FROM recipients WHERE batch_id = ?1),
		(SELECT COUNT(*) FROM sends WHERE batch_id = ?1)`, id).Scan(&recipients, &sends); err != nil {
		t.Fatal(err)
	}
	return recipients, sends
}

// lockedBy makes owner hold batch name's lock.
func lockedBy(t *testing.T, d *DB, name, owner string) {
	t.Helper()
	if _, err := d.db.Exec(`UPDATE batches SET status = 'running', lock_owner = ?, lock_since = 1700000000000,
		lock_beat = 1700000000000 WHERE name = ?`, owner, name); err != nil {
		t.Fatal(err)
	}
}

const me = "1@h" // the caller's owner string in these tests

// live is an owner string of a process that exists on the caller's host.
var live = fmt.Sprintf("%d@h", os.Getpid())

func TestDB_RemoveBatches(t *testing.T) {
	ctx := t.Context()
	setup := func(t *testing.T) (*DB, map[string]Batch) {
		d := mustOpenReportDB(t)
		bs := map[string]Batch{}
		for _, name := range []string{"a", "b", "killed", "busy"} {
			bs[name] = mustImport(t, d, name, 5, map[int64]string{2: StateSent, 3: StateFailed})
		}
		lockedBy(t, d, "killed", "99999999@h") // its process is gone
		lockedBy(t, d, "busy", live)
		return d, bs
	}

	t.Run("OK", func(t *testing.T) {
		d, bs := setup(t)
		got, err := d.RemoveBatches(ctx, []string{"a", "killed", "a"}, me)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Name != "a" || got[1].Name != "killed" || got[0].Total != 5 {
			t.Errorf("removed %+v, want a and killed", got)
		}
		for _, name := range []string{"a", "killed"} {
			if _, err := d.Batch(ctx, name); !errors.Is(err, ErrNotFound) {
				t.Errorf("batch %s: %v, want ErrNotFound", name, err)
			}
			if r, s := rowsOf(t, d, bs[name].ID); r+s != 0 {
				t.Errorf("batch %s: %d recipients and %d sends rows left", name, r, s)
			}
		}
		if r, s := rowsOf(t, d, bs["b"].ID); r != 5 || s != 2 {
			t.Errorf("batch b: %d recipients and %d sends rows, want 5 and 2", r, s)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		d, bs := setup(t)
		_, err := d.RemoveBatches(ctx, []string{"nope", "a", "gone"}, me)
		var re *RemoveError
		if !errors.As(err, &re) || !errors.Is(err, ErrNotFound) || !reflect.DeepEqual(re.Missing, []string{"nope", "gone"}) {
			t.Fatalf("err %v, want both missing names", err)
		}
		if r, _ := rowsOf(t, d, bs["a"].ID); r != 5 {
			t.Errorf("batch a lost rows though nothing was to be removed")
		}
	})
	t.Run("ErrRunning", func(t *testing.T) {
		d, bs := setup(t)
		_, err := d.RemoveBatches(ctx, []string{"a", "busy"}, me)
		var re *RemoveError
		if !errors.As(err, &re) || errors.Is(err, ErrNotFound) || len(re.Running) != 1 || re.Running[0].Batch != "busy" {
			t.Fatalf("err %v, want busy named as running", err)
		}
		if r, _ := rowsOf(t, d, bs["a"].ID); r != 5 {
			t.Errorf("batch a lost rows though nothing was to be removed")
		}
	})
}

func TestDB_PruneBatches(t *testing.T) {
	ctx := t.Context()
	now := time.UnixMilli(1800000000000)
	day := 24 * time.Hour
	d := mustOpenReportDB(t)
	for _, b := range []struct {
		name, status string
		age          time.Duration
	}{
		{"old-done", "done", 40 * day}, {"old-paused", "paused", 50 * day}, {"old-busy", "running", 60 * day},
		{"new-done", "done", day},
	} {
		mustImport(t, d, b.name, 3, map[int64]string{2: StateSent})
		if _, err := d.db.Exec(`UPDATE batches SET status = ?, updated_at = ? WHERE name = ?`,
			b.status, now.Add(-b.age).UnixMilli(), b.name); err != nil {
			t.Fatal(err)
		}
	}
	lockedBy(t, d, "old-busy", live)
	names := func(bs []Batch) []string {
		var out []string
		for _, b := range bs {
			out = append(out, b.Name)
		}
		return out
	}
	before := now.Add(-30 * day)

	removed, kept, err := d.PruneBatches(ctx, Prune{Before: before, DryRun: true}, me)
	if err != nil || !reflect.DeepEqual(names(removed), []string{"old-paused", "old-done"}) ||
		!reflect.DeepEqual(names(kept), []string{"old-busy"}) {
		t.Fatalf("dry run: removed %v, kept %v, %v", names(removed), names(kept), err)
	}
	if bs, _ := d.Batches(ctx); len(bs) != 4 {
		t.Fatalf("the dry run removed batches: %d left", len(bs))
	}
	removed, _, err = d.PruneBatches(ctx, Prune{Before: before, Statuses: []string{"done"}}, me)
	if err != nil || !reflect.DeepEqual(names(removed), []string{"old-done"}) {
		t.Fatalf("--state done: removed %v, %v", names(removed), err)
	}
	removed, _, err = d.PruneBatches(ctx, Prune{Before: before}, me)
	if err != nil || !reflect.DeepEqual(names(removed), []string{"old-paused"}) {
		t.Fatalf("removed %v, %v", names(removed), err)
	}
	bs, err := d.Batches(ctx)
	if err != nil || !reflect.DeepEqual(names(bs), []string{"new-done", "old-busy"}) {
		t.Errorf("left %v, %v; want new-done and old-busy", names(bs), err)
	}
	var orphans int64
	if err := d.db.QueryRow(`SELECT (SELECT COUNT(*) FROM sends WHERE batch_id NOT IN (SELECT id FROM batches))
		+ (SELECT COUNT(*) FROM recipients WHERE batch_id NOT IN (SELECT id FROM batches))`).Scan(&orphans); err != nil || orphans != 0 {
		t.Errorf("%d rows of removed batches left, %v", orphans, err)
	}
}

func TestDB_Reclaim(t *testing.T) {
	ctx := t.Context()
	t.Run("Vacuum", func(t *testing.T) {
		d := mustOpenReportDB(t)
		mustImport(t, d, "small", 10, nil)
		mustImport(t, d, "big", 20000, nil)
		if _, err := d.RemoveBatches(ctx, []string{"big"}, me); err != nil {
			t.Fatal(err)
		}
		r, err := d.Reclaim(ctx, me)
		if err != nil {
			t.Fatal(err)
		}
		if !r.Vacuumed || r.After.Size*2 > r.Before.Size || r.After.Free != 0 || r.Before.Free*reclaimShare < r.Before.Size {
			t.Errorf("reclaimed %+v, want the file vacuumed to less than half", r)
		}
		if fi, err := os.Stat(d.Path() + "-wal"); err == nil && fi.Size() > 0 {
			t.Errorf("the WAL holds %d bytes after the vacuum", fi.Size())
		}
	})
	t.Run("NotWorthIt", func(t *testing.T) {
		d := mustOpenReportDB(t)
		mustImport(t, d, "big", 20000, nil)
		mustImport(t, d, "small", 10, nil)
		if _, err := d.RemoveBatches(ctx, []string{"small"}, me); err != nil {
			t.Fatal(err)
		}
		if r, err := d.Reclaim(ctx, me); err != nil || r.Vacuumed || r.After != r.Before {
			t.Errorf("reclaimed %+v, %v; want the few free pages left for reuse", r, err)
		}
	})
	t.Run("Busy", func(t *testing.T) {
		d := mustOpenReportDB(t)
		mustImport(t, d, "busy", 10, nil)
		mustImport(t, d, "big", 20000, nil)
		lockedBy(t, d, "busy", live)
		if _, err := d.RemoveBatches(ctx, []string{"big"}, me); err != nil {
			t.Fatal(err)
		}
		r, err := d.Reclaim(ctx, me)
		if err != nil || r.Vacuumed || !reflect.DeepEqual(r.Busy, []string{"busy"}) {
			t.Errorf("reclaimed %+v, %v; want no vacuum while busy is being sent", r, err)
		}
	})
}
