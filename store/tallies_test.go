package store

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// tallyLedger is a ledger of three accounts: "a" with two batches, one
// served and due, one held by a person; "b" with a CLI batch all sent and a
// served batch done; "c" with a batch still importing.
func tallyLedger(t *testing.T) *DB {
	t.Helper()
	ctx := context.Background()
	db := mustOpen(t)
	a1 := mustSendBatch(t, db, "a1", "a", 5, map[int64]int64{2: 102, 3: 103},
		map[int64]string{4: StateFailed, 5: StateInflight}) // line 6 pending
	a2 := mustSendBatch(t, db, "a2", "a", 4, nil,
		map[int64]string{2: StateUnknown, 3: StateSkipped, 4: StatePending}) // line 5 never tried
	mustSendBatch(t, db, "b1", "b", 3, map[int64]int64{2: 202, 3: 203, 4: 204}, nil)
	b2 := mustSendBatch(t, db, "b2", "b", 1, map[int64]int64{2: 205}, nil)
	if err := db.SetStatus(ctx, b2.ID, StatusDone, ""); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		id   int64
		hold string
	}{{a1.ID, ""}, {a2.ID, "paused by request"}, {b2.ID, ""}} {
		if err := db.SetSchedule(ctx, s.id, Schedule{Hold: s.hold}); err != nil {
			t.Fatal(err)
		}
	}
	c, err := db.CreateBatch(ctx, NewBatch{Name: "c1", TemplateRef: "t", TemplateBody: []byte(`{}`), Account: "c"}, "1@h")
	if err != nil {
		t.Fatal(err)
	}
	// Rows committed so far, as an import in progress leaves them.
	for line := range int64(7) {
		if _, err := db.db.Exec(`INSERT INTO recipients (batch_id, line, openid, vars, client_msg_id) VALUES (?, ?, ?, '{}', ?)`,
			c.ID, line+2, fmt.Sprintf("openid-c%02d", line), ClientMsgID(c.Nonce, line+2)); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// TestDB_StateCounts: every account's messages by state, summed over its
// batches, a batch still importing counted as far as it got, states with
// none left out.
func TestDB_StateCounts(t *testing.T) {
	db := tallyLedger(t)
	got, err := db.StateCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, c := range got {
		if c.Source != SourceBatch || c.Kind != KindTemplate {
			t.Errorf("%+v: source or kind", c)
		}
		lines = append(lines, fmt.Sprintf("%s %s %d", c.Account, c.State, c.N))
	}
	slices.Sort(lines)
	want := []string{
		"a failed 1", "a inflight 1", "a pending 3", "a sent 2", "a skipped 1", "a unknown 1",
		"b sent 4",
		"c pending 7",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("StateCounts:\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// TestDB_QueueDepths: what the service has yet to send, by account: the
// pending and inflight recipients of its batches not held; a held batch, a
// batch done and a batch the service was not given are not its queue.
func TestDB_QueueDepths(t *testing.T) {
	db := tallyLedger(t)
	got, err := db.QueueDepths(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int64{"a": 2}; !maps.Equal(got, want) {
		t.Errorf("QueueDepths() = %v, want %v", got, want)
	}
}

// TestDB_ReceiptTotals: the receipts recorded, by account and status, a
// push repeated counted once.
func TestDB_ReceiptTotals(t *testing.T) {
	db := tallyLedger(t)
	mustReceipt(t, db, "a", 102, ReceiptSuccess)
	mustReceipt(t, db, "a", 103, ReceiptUserBlock)
	mustReceipt(t, db, "a", 103, ReceiptUserBlock)
	mustReceipt(t, db, "b", 202, ReceiptSuccess)
	mustReceipt(t, db, "b", 203, ReceiptSuccess)
	mustReceipt(t, db, "b", 204, ReceiptSystemFailed)
	got, err := db.ReceiptTotals(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, r := range got {
		lines = append(lines, fmt.Sprintf("%s %s %d", r.Account, r.Status, r.N))
	}
	slices.Sort(lines)
	want := []string{"a success 1", "a user_block 1", "b success 2", "b system_failed 1"}
	if !slices.Equal(lines, want) {
		t.Errorf("ReceiptTotals:\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// TestMigrate_ReceiptTallies: migration 0008 counts the receipts a ledger
// already holds, and its triggers keep the tallies equal to a count of the
// receipts as receipts are recorded, repeated, rewritten and deleted.
func TestMigrate_ReceiptTallies(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	// The ledger as it was before 0008, with receipts in it.
	for _, q := range []string{`DROP TRIGGER receipts_tally_insert`, `DROP TRIGGER receipts_tally_delete`,
		`DROP TRIGGER receipts_tally_update`, `DROP TABLE receipt_tallies`,
		`DELETE FROM migrations WHERE name = 'migrations/0008_receipt_tallies.sql'`} {
		if _, err := db.db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for msgid := range int64(5) {
		mustReceipt(t, db, "a", msgid+1, []string{ReceiptSuccess, ReceiptUserBlock}[msgid%2])
	}
	mustReceipt(t, db, "b", 1, ReceiptSystemFailed)
	db.Close()

	if db, err = Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	check := func(when string) {
		t.Helper()
		got, err := db.ReceiptTotals(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := db.db.Query(`SELECT account, status, COUNT(*) FROM receipts GROUP BY account, status ORDER BY account, status`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var want []ReceiptTotal
		for rows.Next() {
			var r ReceiptTotal
			if err := rows.Scan(&r.Account, &r.Status, &r.N); err != nil {
				t.Fatal(err)
			}
			want = append(want, r)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: ReceiptTotals() = %v, counted %v", when, got, want)
		}
	}
	check("migrated")
	mustReceipt(t, db, "a", 100, ReceiptSuccess)
	mustReceipt(t, db, "a", 100, ReceiptSuccess) // repeated: counted once
	mustReceipt(t, db, "c", 7, ReceiptUserBlock)
	check("recorded")
	if _, err := db.db.Exec(`UPDATE receipts SET status = 'system_failed' WHERE account = 'a' AND msgid = 2`); err != nil {
		t.Fatal(err)
	}
	check("rewritten")
	if _, err := db.db.Exec(`DELETE FROM receipts WHERE account = 'c'`); err != nil {
		t.Fatal(err)
	}
	check("deleted")
}
