package store

import (
	"fmt"
	"testing"
	"time"
)

// advanceFrontier stops just before the first line without a sends row,
// whether it gets there by counting or line by line, and keeps the count
// of the recipients up to it; Counts and Remaining, which read it, agree
// with a count of every row. It moves again as more lines are tried.
func TestAdvanceFrontier(t *testing.T) {
	const n = 3000 // lines 2..3001
	for _, tt := range []struct {
		name  string
		tried func(line int64) bool
		want  int64
	}{
		{name: "None", tried: func(int64) bool { return false }, want: 1},
		{name: "All", tried: func(int64) bool { return true }, want: 3001},
		{name: "Prefix", tried: func(line int64) bool { return line <= 2500 }, want: 2500},
		{name: "GapNearTheEnd", tried: func(line int64) bool { return line != 2990 }, want: 2989},
		{name: "GapFarBack", tried: func(line int64) bool { return line != 700 }, want: 699},
		{name: "InFlightAtTheHead", tried: func(line int64) bool { return line < 2400 || (line < 2464 && line%3 != 0) }, want: 2399},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			db := mustOpen(t)
			b := importN(t, db, n)
			for line := int64(2); line <= n+1; line++ {
				if !tt.tried(line) {
					continue
				}
				state := StateSent
				if line%7 == 0 {
					state = StateFailed
				}
				mustTried(t, db, b.ID, line, state)
			}
			check := func(want int64) {
				t.Helper()
				if err := advanceFrontier(ctx, db.db, b.ID); err != nil {
					t.Fatal(err)
				}
				var frontier, rows, below int64
				if err := db.db.QueryRow(`SELECT frontier, frontier_rows,
					(SELECT COUNT(*) FROM recipients WHERE batch_id = ?1 AND line <= frontier)
					FROM batches WHERE id = ?1`, b.ID).Scan(&frontier, &rows, &below); err != nil {
					t.Fatal(err)
				}
				if frontier != want || rows != below {
					t.Errorf("frontier %d with %d rows up to it, want %d with %d", frontier, rows, want, below)
				}
				c, err := db.Counts(ctx, b.ID)
				if err != nil {
					t.Fatal(err)
				}
				all := map[string]int64{}
				if err := db.Recipients(ctx, b.ID, nil, func(r Recipient) error {
					all[r.State]++
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				if want := (Counts{Pending: all[StatePending], Sent: all[StateSent], Failed: all[StateFailed]}); c != want {
					t.Errorf("counts %+v, want %+v", c, want)
				}
				rem, err := db.Remaining(ctx, b.ID)
				if err != nil {
					t.Fatal(err)
				}
				if rem != all[StatePending] {
					t.Errorf("remaining %d, want %d", rem, all[StatePending])
				}
				if got := int64(len(allPending(t, db, b.ID))); got != all[StatePending] {
					t.Errorf("%d pending lines read, want %d", got, all[StatePending])
				}
			}
			check(tt.want)
			// Then the rest is tried: the frontier reaches the last line.
			if _, err := db.db.Exec(`INSERT INTO sends (batch_id, line, state, attempts) SELECT batch_id, line, 'sent', 1
				FROM recipients r WHERE batch_id = ?1 AND NOT EXISTS (SELECT 1 FROM sends s WHERE s.batch_id = ?1 AND s.line = r.line)`,
				b.ID); err != nil {
				t.Fatal(err)
			}
			check(n + 1)
		})
	}
}

// The frontier of a batch with holes in its line numbers (a CSV record
// over several lines) still counts recipients, not line numbers.
func TestAdvanceFrontier_SparseLines(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	b, im := newImport(t, db)
	for i := range 3000 {
		if err := im.Add(ctx, int64(2+3*i), fmt.Sprintf("o%027d", i), `{}`); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := im.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.db.Exec(`INSERT INTO sends (batch_id, line, state) SELECT batch_id, line, 'sent' FROM recipients
		WHERE batch_id = ? AND line < 8000`, b.ID); err != nil {
		t.Fatal(err)
	}
	if err := advanceFrontier(ctx, db.db, b.ID); err != nil {
		t.Fatal(err)
	}
	var frontier, rows int64
	if err := db.db.QueryRow(`SELECT frontier, frontier_rows FROM batches WHERE id = ?`, b.ID).Scan(&frontier, &rows); err != nil {
		t.Fatal(err)
	}
	// Lines 2, 5, ..., 7997 were tried (2,666 of them); 8000 was not.
	if frontier != 7999 || rows != 2666 {
		t.Errorf("frontier %d with %d rows, want 7999 with 2666", frontier, rows)
	}
	if rem, err := db.Remaining(ctx, b.ID); err != nil || rem != 3000-2666 {
		t.Errorf("remaining %d (%v), want %d", rem, err, 3000-2666)
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

// mustTried gives a batch's line the sends row one attempt ending in state
// leaves.
func mustTried(tb testing.TB, d *DB, batchID, line int64, state string) {
	tb.Helper()
	if _, err := d.db.Exec(`INSERT INTO sends (batch_id, line, state, attempts) VALUES (?, ?, ?, 1)`, batchID, line, state); err != nil {
		tb.Fatal(err)
	}
}
