package store

import (
	"context"
	"testing"
	"time"
)

func TestDB_DoneBySecond(t *testing.T) {
	d := mustOpen(t)
	b := mustSendBatch(t, d, "tl", "main", 6, nil, nil)
	// Lines 2..7: three done in second 100, one in 102, a skipped and a
	// pending one that must not count.
	for _, r := range []struct {
		line   int64
		state  string
		doneMS any
	}{{2, "sent", 100_000}, {3, "failed", 100_500}, {4, "unknown", 100_999}, {5, "sent", 102_001}, {6, "skipped", 101_000}, {7, "pending", nil}} {
		if _, err := d.db.Exec(`INSERT INTO sends (batch_id, line, state, attempts, done_at) VALUES (?, ?, ?, 1, ?)`,
			b.ID, r.line, r.state, r.doneMS); err != nil {
			t.Fatal(err)
		}
	}
	got, err := d.DoneBySecond(context.Background(), b.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []SecondCount{{time.Unix(100, 0), 3}, {time.Unix(102, 0), 1}}
	if len(got) != len(want) {
		t.Fatalf("DoneBySecond() = %v, want %v", got, want)
	}
	for i := range want {
		if !got[i].At.Equal(want[i].At) || got[i].Count != want[i].Count {
			t.Errorf("DoneBySecond()[%d] = %v, want %v", i, got[i], want[i])
		}
	}
}
