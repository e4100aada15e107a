package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// bigMsgID is a msgid above 2^53, as WeChat's are: it must survive exactly.
const bigMsgID = 3557254367693782077

// mustSendBatch creates batch name of account with a recipient on each of
// lines 2..n+1, and gives the lines in sends the rows a run leaves: a
// msgid for a sent one (msgids[line]), state alone for the others.
func mustSendBatch(tb testing.TB, d *DB, name, account string, n int, msgids map[int64]int64, states map[int64]string) Batch {
	tb.Helper()
	ctx := context.Background()
	b, err := d.CreateBatch(ctx, NewBatch{Name: name, TemplateRef: "t", TemplateBody: []byte(`{}`), Account: account}, "1@h")
	if err != nil {
		tb.Fatal(err)
	}
	im, err := d.NewImporter(ctx, b)
	if err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		line := int64(i + 2)
		if err := im.Add(ctx, line, fmt.Sprintf("openid-%03d", line), `{}`); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := im.Finish(ctx); err != nil {
		tb.Fatal(err)
	}
	for line, msgid := range msgids {
		mustSent(tb, d, b.ID, line, msgid)
	}
	for line, state := range states {
		if _, err := d.db.Exec(`INSERT INTO sends (batch_id, line, state, attempts) VALUES (?, ?, ?, 1)`, b.ID, line, state); err != nil {
			tb.Fatal(err)
		}
	}
	return b
}

// mustSent records line of batch batchID sent with msgid, as the ledger does.
func mustSent(tb testing.TB, d *DB, batchID, line, msgid int64) {
	tb.Helper()
	if _, err := d.db.Exec(`INSERT INTO sends (batch_id, line, state, attempts, msgid, done_at) VALUES (?, ?, 'sent', 1, ?, 1)
		ON CONFLICT DO UPDATE SET state = 'sent', msgid = excluded.msgid`, batchID, line, msgid); err != nil {
		tb.Fatal(err)
	}
}

func mustReceipt(tb testing.TB, d *DB, account string, msgid int64, status string) {
	tb.Helper()
	if _, err := d.RecordReceipt(context.Background(), account, msgid, status, time.Unix(1395658920, 0)); err != nil {
		tb.Fatal(err)
	}
}

func TestDB_RecordReceipt(t *testing.T) {
	ctx := context.Background()
	pushed := time.Unix(1395658920, 0)
	t.Run("OK", func(t *testing.T) {
		db, now := openServiceDB(t)
		isNew, err := db.RecordReceipt(ctx, "main", bigMsgID, ReceiptUserBlock, pushed)
		if err != nil || !isNew {
			t.Fatalf("RecordReceipt() = %v, %v, want new", isNew, err)
		}
		r, err := db.Receipt(ctx, "main", bigMsgID)
		if err != nil {
			t.Fatal(err)
		}
		if r.Account != "main" || r.MsgID != bigMsgID || r.Status != ReceiptUserBlock || !r.EventTime.Equal(pushed) || !r.ReceivedAt.Equal(*now) {
			t.Errorf("Receipt() = %+v", r)
		}
	})

	// WeChat pushes a receipt up to three times: the first is kept, and the
	// repeats say they are not new, whatever their status or time.
	t.Run("Repeats", func(t *testing.T) {
		db, now := openServiceDB(t)
		first := *now
		steps := []struct {
			name    string
			account string
			status  string
			isNew   bool
		}{
			{name: "First", account: "main", status: ReceiptSuccess, isNew: true},
			{name: "Again", account: "main", status: ReceiptSuccess},
			{name: "AgainOtherStatus", account: "main", status: ReceiptSystemFailed},
			{name: "OtherAccount", account: "shop", status: ReceiptUserBlock, isNew: true},
			{name: "OtherAccountAgain", account: "shop", status: ReceiptSuccess},
		}
		for _, s := range steps {
			*now = now.Add(time.Second)
			isNew, err := db.RecordReceipt(ctx, s.account, 42, s.status, now.Add(-time.Second))
			if err != nil || isNew != s.isNew {
				t.Errorf("%s: RecordReceipt() = %v, %v, want %v", s.name, isNew, err, s.isNew)
			}
		}
		for account, want := range map[string]Receipt{
			"main": {Status: ReceiptSuccess, EventTime: first, ReceivedAt: first.Add(time.Second)},
			"shop": {Status: ReceiptUserBlock, EventTime: first.Add(3 * time.Second), ReceivedAt: first.Add(4 * time.Second)},
		} {
			r, err := db.Receipt(ctx, account, 42)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != want.Status || !r.EventTime.Equal(want.EventTime) || !r.ReceivedAt.Equal(want.ReceivedAt) {
				t.Errorf("Receipt(%s) = %+v, want the first push's %+v", account, r, want)
			}
		}
	})

	t.Run("NoEventTime", func(t *testing.T) {
		db, _ := openServiceDB(t)
		if _, err := db.RecordReceipt(ctx, "main", 7, ReceiptSuccess, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if r, err := db.Receipt(ctx, "main", 7); err != nil || !r.EventTime.IsZero() {
			t.Errorf("Receipt() = %+v, %v, want a zero event time", r, err)
		}
	})

	tests := []struct {
		name    string
		account string
		msgid   int64
		status  string
	}{
		{name: "ErrEmptyAccount", msgid: 1, status: ReceiptSuccess},
		{name: "ErrZeroMsgID", account: "main", status: ReceiptSuccess},
		{name: "ErrNegativeMsgID", account: "main", msgid: -5, status: ReceiptSuccess},
		{name: "ErrEmptyStatus", account: "main", msgid: 1},
		{name: "ErrWeChatSpelling", account: "main", msgid: 1, status: "failed:user block"},
		{name: "ErrUnknownStatus", account: "main", msgid: 1, status: "delivered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, _ := openServiceDB(t)
			isNew, err := db.RecordReceipt(ctx, tt.account, tt.msgid, tt.status, pushed)
			if err == nil || isNew {
				t.Fatalf("RecordReceipt() = %v, %v, want an error", isNew, err)
			}
			var n int
			if err := db.db.QueryRow(`SELECT COUNT(*) FROM receipts`).Scan(&n); err != nil || n != 0 {
				t.Errorf("%d receipts recorded (%v), want none", n, err)
			}
		})
	}
}

func TestDB_Receipt(t *testing.T) {
	ctx := context.Background()
	db, _ := openServiceDB(t)
	mustReceipt(t, db, "main", 42, ReceiptSuccess)
	tests := []struct {
		name    string
		account string
		msgid   int64
		wantErr error
	}{
		{name: "OK", account: "main", msgid: 42},
		{name: "ErrNotFound", account: "main", msgid: 43, wantErr: ErrNotFound},
		{name: "ErrNotFoundOtherAccount", account: "shop", msgid: 42, wantErr: ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := db.Receipt(ctx, tt.account, tt.msgid)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Receipt() = %+v, %v, want %v", r, err, tt.wantErr)
			}
			if err == nil && (r.Status != ReceiptSuccess || r.MsgID != tt.msgid || r.Account != tt.account) {
				t.Errorf("Receipt() = %+v", r)
			}
		})
	}
}

func TestDB_ReceiptCounts(t *testing.T) {
	ctx := context.Background()
	db, _ := openServiceDB(t)
	// Batch a of account main: lines 2-7 sent (msgids 1002-1007, 1007 far
	// above 2^53), 8 failed, 9 unknown, 10 skipped, 11 pending (no row).
	sent := map[int64]int64{2: 1002, 3: 1003, 4: 1004, 5: 1005, 6: 1006, 7: bigMsgID}
	a := mustSendBatch(t, db, "a", "main", 10, sent, map[int64]string{8: StateFailed, 9: StateUnknown, 10: StateSkipped})
	// Batch b of account shop uses msgids that are a's too: msgids are
	// unique per account only.
	b := mustSendBatch(t, db, "b", "shop", 3, map[int64]int64{2: 1002, 3: 1003}, nil)
	// Batch c of account main has not sent anything.
	c := mustSendBatch(t, db, "c", "main", 2, nil, nil)

	mustReceipt(t, db, "main", 1002, ReceiptSuccess)
	mustReceipt(t, db, "main", 1003, ReceiptSuccess)
	mustReceipt(t, db, "main", 1004, ReceiptUserBlock)
	mustReceipt(t, db, "main", bigMsgID, ReceiptSystemFailed)
	mustReceipt(t, db, "shop", 1003, ReceiptUserBlock)
	// A receipt for a message no send row shows yet (its outcome is not
	// committed): kept, and counted for no batch until it is.
	mustReceipt(t, db, "main", 1099, ReceiptSuccess)

	count := func(id int64) ReceiptCounts {
		t.Helper()
		rc, err := db.ReceiptCounts(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return rc
	}
	tests := []struct {
		name  string
		batch int64
		want  ReceiptCounts
	}{
		{name: "Mixed", batch: a.ID, want: ReceiptCounts{Success: 2, UserBlock: 1, SystemFailed: 1, Awaiting: 2}},
		{name: "OtherAccount", batch: b.ID, want: ReceiptCounts{UserBlock: 1, Awaiting: 1}},
		{name: "NothingSent", batch: c.ID},
		{name: "NoSuchBatch", batch: 999},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := count(tt.batch); got != tt.want {
				t.Errorf("ReceiptCounts() = %+v, want %+v", got, tt.want)
			}
		})
	}

	t.Run("ReceiptBeforeOutcome", func(t *testing.T) {
		// Line 11's outcome is committed after its receipt arrived.
		mustSent(t, db, a.ID, 11, 1099)
		want := ReceiptCounts{Success: 3, UserBlock: 1, SystemFailed: 1, Awaiting: 2}
		if got := count(a.ID); got != want {
			t.Errorf("ReceiptCounts() = %+v, want %+v", got, want)
		}
	})
	t.Run("RepeatedPushCountsOnce", func(t *testing.T) {
		before := count(a.ID)
		for range 3 {
			mustReceipt(t, db, "main", 1005, ReceiptSuccess)
		}
		want := before
		want.Success++
		want.Awaiting--
		if got := count(a.ID); got != want {
			t.Errorf("ReceiptCounts() = %+v, want %+v", got, want)
		}
	})
}
