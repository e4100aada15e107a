package store

import (
	"fmt"
	"testing"
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
				mustTried(t, db, b.ID, line, state)
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
