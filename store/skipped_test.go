package store

import (
	"maps"
	"testing"
)

// TestSkippedReasons: duplicates count as one reason whatever line they
// repeat; a cancel's reason is counted apart; nothing skipped is empty.
func TestSkippedReasons(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	b, im := newImport(t, db)
	for i, openid := range []string{"o1", "o2", "o1", "o3", "o2", "o4"} {
		if err := im.Add(ctx, int64(i+2), openid, `{}`); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := im.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := db.SkippedReasons(ctx, b.ID)
	if want := map[string]int64{SkipDuplicate: 2}; err != nil || !maps.Equal(got, want) {
		t.Fatalf("after import: %v, %v; want %v", got, err, want)
	}
	if _, err := db.SkipPending(ctx, b.ID, "cancelled"); err != nil {
		t.Fatal(err)
	}
	got, err = db.SkippedReasons(ctx, b.ID)
	if want := map[string]int64{SkipDuplicate: 2, "cancelled": 4}; err != nil || !maps.Equal(got, want) {
		t.Errorf("after cancel: %v, %v; want %v", got, err, want)
	}
	if got, err := db.SkippedReasons(ctx, b.ID+1); err != nil || len(got) != 0 {
		t.Errorf("no such batch: %v, %v", got, err)
	}
}
