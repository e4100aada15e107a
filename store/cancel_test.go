package store

import "testing"

// TestDB_SkipPending: every recipient still to be sent, whether never tried
// (past the frontier) or pending again, is skipped; sent, failed and
// inflight rows keep their state; the counts and a resume see nothing left.
func TestDB_SkipPending(t *testing.T) {
	ctx := t.Context()
	d := mustOpenReportDB(t)
	b := mustImport(t, d, "b", 10, map[int64]string{2: StateSent, 3: StateFailed, 4: StateInflight, 5: StatePending})
	n, err := d.SkipPending(ctx, b.ID, "cancelled")
	if err != nil {
		t.Fatal(err)
	}
	if n != 7 { // line 5 pending again, and lines 6–11 never tried
		t.Errorf("skipped %d, want 7", n)
	}
	c, err := d.Counts(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Skipped != 7 || c.Sent != 1 || c.Failed != 1 || c.Inflight != 1 || c.Pending != 0 {
		t.Errorf("counts %+v", c)
	}
	if left, err := d.Remaining(ctx, b.ID); err != nil || left != 1 {
		t.Errorf("remaining %d, %v; want the inflight row only", left, err)
	}
	if n, err := d.SkipPending(ctx, b.ID, "cancelled"); n != 0 || err != nil {
		t.Errorf("again: %d, %v; want nothing", n, err)
	}
}
