package store

import (
	"testing"
	"time"
)

// TestDB_DueBatches: the service runs the batches put in its hands, when
// their time has come and nobody holds them, oldest first; it tells when
// the next one will be due; a batch it was not given, or one done, is
// never due; a removed batch takes its schedule with it.
func TestDB_DueBatches(t *testing.T) {
	ctx := t.Context()
	d := mustOpenReportDB(t)
	now := time.UnixMilli(1_800_000_000_000)
	later := now.Add(time.Hour)
	bs := map[string]Batch{}
	for _, name := range []string{"cli", "now", "later", "held", "done", "old"} {
		bs[name] = mustImport(t, d, name, 2, nil)
	}
	for name, s := range map[string]Schedule{
		"now": {}, "later": {NotBefore: later}, "held": {Hold: "paused by request"}, "done": {},
		"old": {NotBefore: now.Add(-time.Minute)},
	} {
		if err := d.SetSchedule(ctx, bs[name].ID, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.SetStatus(ctx, bs["done"].ID, StatusDone, ""); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"cli", "now", "later", "held", "done", "old"} {
		if _, err := d.db.Exec(`UPDATE batches SET account = 'a' WHERE id = ?`, bs[name].ID); err != nil {
			t.Fatal(err)
		}
	}
	due, next, err := d.DueBatches(ctx, "a", now)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range due {
		names = append(names, b.Name)
	}
	if len(names) != 2 || names[0] != "now" || names[1] != "old" || !next.Equal(later) {
		t.Errorf("due %v, next %v; want [now old], %v", names, next, later)
	}
	if due, _, _ := d.DueBatches(ctx, "other", now); len(due) != 0 {
		t.Errorf("another account's batches were due: %d", len(due))
	}

	// Released and due again once the hold is lifted; the schedule reads back.
	if err := d.SetSchedule(ctx, bs["held"].ID, Schedule{}); err != nil {
		t.Fatal(err)
	}
	if s, ok, err := d.BatchSchedule(ctx, bs["later"].ID); err != nil || !ok || !s.NotBefore.Equal(later) {
		t.Errorf("BatchSchedule(later) = %+v, %v, %v", s, ok, err)
	}
	if _, ok, err := d.BatchSchedule(ctx, bs["cli"].ID); ok || err != nil {
		t.Errorf("BatchSchedule(cli) = %v, %v; want not the service's", ok, err)
	}
	if _, err := d.RemoveBatches(ctx, []string{"held"}, me); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := d.db.QueryRow(`SELECT COUNT(*) FROM service_batches WHERE batch_id = ?`, bs["held"].ID).Scan(&n); err != nil || n != 0 {
		t.Errorf("a removed batch's schedule stayed: %d, %v", n, err)
	}
}
