package store

import (
	"errors"
	"testing"
	"time"
)

func TestDB_Audit(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		d := mustOpenReportDB(t)
		b := mustImport(t, d, "b", 10, map[int64]string{2: StateSent, 3: StateFailed, 4: StatePending, 5: StateInflight})
		if _, err := d.db.Exec(`UPDATE sends SET last_attempt_at = 1700000005000 WHERE line = 5`); err != nil {
			t.Fatal(err)
		}
		if _, err := d.db.Exec(`UPDATE sends SET done_at = 1700000003000, last_attempt_at = 1700000001000 WHERE line = 3`); err != nil {
			t.Fatal(err)
		}
		a, err := d.Audit(t.Context(), b.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := Counts{Sent: 1, Failed: 1, Inflight: 1, Pending: 7}
		if a.Counts != want || !a.LastActivity.Equal(time.UnixMilli(1700000005000)) {
			t.Errorf("audit %+v, want %+v and last activity at 1700000005000", a, want)
		}
	})
	t.Run("NothingTried", func(t *testing.T) {
		d := mustOpenReportDB(t)
		b := mustImport(t, d, "b", 10, nil)
		a, err := d.Audit(t.Context(), b.ID)
		if err != nil || a.Counts != (Counts{Pending: 10}) || !a.LastActivity.IsZero() {
			t.Errorf("audit %+v, %v; want 10 pending and no activity", a, err)
		}
	})
	// The counts come from the state index and the frontier; rows the
	// counts do not see make the ledger disagree with itself.
	t.Run("ErrCorruptCounts", func(t *testing.T) {
		d := mustOpenReportDB(t)
		b := mustImport(t, d, "b", 10, map[int64]string{2: StateSent, 3: StateSent})
		if _, err := d.db.Exec(`UPDATE batches SET frontier = 11, frontier_rows = 10 WHERE id = ?`, b.ID); err != nil {
			t.Fatal(err)
		}
		if c, err := d.Counts(t.Context(), b.ID); err != nil || c.Sent != 10 {
			t.Fatalf("counts %+v, %v: the test no longer misleads Counts", c, err)
		}
		_, err := d.Audit(t.Context(), b.ID)
		var ce *CorruptError
		if !errors.As(err, &ce) || len(ce.Problems) != 1 {
			t.Fatalf("err %v, want a *CorruptError", err)
		}
	})
	// A damaged page of sends rows is not counted around: Counts reads
	// none of the sent rows, Audit reads them all.
	t.Run("ErrCorruptPage", func(t *testing.T) {
		path, b := sentBatch(t, 3000)
		damagePage(t, path, "sends", false)
		d, err := Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if c, err := d.Counts(t.Context(), b.ID); err != nil || c.Sent != 3000 {
			t.Fatalf("counts %+v, %v: the damage no longer hides from Counts", c, err)
		}
		if _, err := d.Audit(t.Context(), b.ID); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("err %v, want ErrCorrupt", err)
		}
	})
}
