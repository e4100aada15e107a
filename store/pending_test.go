package store

import (
	"fmt"
	"testing"
	"time"
)

// Pending pages through exactly the pending rows in line order, wherever
// they lie.
func TestDB_Pending(t *testing.T) {
	for _, tt := range []struct {
		name    string
		pending func(line int64) bool
	}{
		{name: "All", pending: func(int64) bool { return true }},
		{name: "TailAfterSent", pending: func(line int64) bool { return line > 900 }},
		{name: "Scattered", pending: func(line int64) bool { return line%97 == 0 }},
		{name: "Holes", pending: func(line int64) bool { return line%5 != 0 }},
		{name: "None", pending: func(int64) bool { return false }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			db := mustOpen(t)
			b := importN(t, db, 2000)
			var want []int64
			for line := int64(2); line <= 2001; line++ {
				if tt.pending(line) {
					want = append(want, line)
					continue
				}
				state := StateSent
				if line%3 == 0 {
					state = StateFailed
				}
				if _, err := db.db.Exec(`INSERT INTO sends (batch_id, line, state, attempts) VALUES (?, ?, ?, 1)`, b.ID, line, state); err != nil {
					t.Fatal(err)
				}
			}
			// The same lines whether the walk starts at the first line or
			// at the frontier, which every tried line before it moves.
			for _, frontier := range []bool{false, true} {
				if frontier {
					if err := advanceFrontier(ctx, db.db, b.ID); err != nil {
						t.Fatal(err)
					}
				}
				if got := allPending(t, db, b.ID); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("frontier moved %v: pending lines\n got %v\nwant %v", frontier, got, want)
				}
			}
		})
	}
}

// allPending pages through a batch's pending lines as the engine does.
func allPending(t *testing.T, db *DB, batchID int64) []int64 {
	t.Helper()
	var got []int64
	var after int64
	for {
		rows, err := db.Pending(t.Context(), batchID, after, 16)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			got = append(got, r.Line)
			after = r.Line
		}
		if len(rows) < 16 {
			return got
		}
	}
}

// The ledger moves the frontier to just before the first line it never
// marked, and never past it; lines handed back before the frontier are
// still found, and so are the lines past it.
func TestLedger_Frontier(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	b := importN(t, db, 10) // lines 2..11
	frontier := func() int64 {
		t.Helper()
		var f int64
		if err := db.db.QueryRow(`SELECT frontier FROM batches WHERE id = ?`, b.ID).Scan(&f); err != nil {
			t.Fatal(err)
		}
		return f
	}
	if f := frontier(); f != 0 {
		t.Fatalf("frontier %d after the import, want 0", f)
	}
	l := db.OpenLedger(ctx, b.ID, "1@h")
	now := time.Now()
	for _, line := range []int64{2, 3, 4, 5, 7} {
		if err := l.Begin(ctx, line, now); err != nil {
			t.Fatal(err)
		}
	}
	l.Finish(Outcome{Line: 2, State: StateSent, MsgID: 1, At: now})
	l.Finish(Outcome{Line: 3, State: StateFailed, Errcode: 43004, At: now})
	l.Finish(Outcome{Line: 4, State: StatePending, Errcode: 45009, At: now})
	l.Finish(Outcome{Line: 7, State: StateSent, MsgID: 2, At: now})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if f := frontier(); f != 5 {
		t.Errorf("frontier %d after the run, want 5 (line 6 was never tried)", f)
	}
	if got := fmt.Sprint(allPending(t, db, b.ID)); got != "[4 6 8 9 10 11]" {
		t.Errorf("pending %s, want [4 6 8 9 10 11]", got)
	}
	if _, err := db.Requeue(ctx, b.ID, true, nil, false); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(allPending(t, db, b.ID)); got != "[3 4 6 8 9 10 11]" {
		t.Errorf("pending after requeueing line 3: %s, want [3 4 6 8 9 10 11]", got)
	}
	if err := advanceFrontier(ctx, db.db, b.ID); err != nil {
		t.Fatal(err)
	}
	if f := frontier(); f != 5 {
		t.Errorf("frontier %d moved again without a new send, want 5", f)
	}
	// Every line tried: the frontier reaches the last line.
	if _, err := db.db.Exec(`INSERT INTO sends (batch_id, line, state) SELECT batch_id, line, 'sent' FROM recipients
		WHERE batch_id = ? AND line NOT IN (SELECT line FROM sends WHERE batch_id = ?)`, b.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	if err := advanceFrontier(ctx, db.db, b.ID); err != nil {
		t.Fatal(err)
	}
	if f := frontier(); f != 11 {
		t.Errorf("frontier %d with every line tried, want 11", f)
	}
}
