package store

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestDB_DeliveredTo: what a frequency cap counts is what an account sent
// a person, or may have (unknown), by any of its batches and as single
// messages, since a time; not another account's, not a failure, not a skip.
func TestDB_DeliveredTo(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	now := time.UnixMilli(time.Now().UnixMilli())
	hourAgo, twoDaysAgo := now.Add(-time.Hour), now.Add(-48*time.Hour)
	record := func(b Batch, outcomes ...Outcome) {
		t.Helper()
		l := db.OpenLedger(ctx, b.ID, "1@h")
		for _, o := range outcomes {
			if o.State != StateSkipped {
				if err := l.Begin(ctx, o.Line, o.At); err != nil {
					t.Fatal(err)
				}
			}
			l.Finish(o)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	a1 := mustSendBatch(t, db, "a1", "a", 5, nil, nil)
	record(a1,
		Outcome{Line: 2, State: StateSent, MsgID: 1, At: hourAgo, OpenID: "openid-002"},
		Outcome{Line: 3, State: StateUnknown, Errcode: -1, At: hourAgo, OpenID: "openid-003"},
		Outcome{Line: 4, State: StateFailed, Errcode: 43004, At: hourAgo, OpenID: "openid-004"},
		Outcome{Line: 5, State: StateSkipped, Errmsg: "capped: 1 within 24h (cap 1/24h)", At: hourAgo, OpenID: "openid-005"},
		Outcome{Line: 6, State: StateSent, MsgID: 2, At: twoDaysAgo, OpenID: "openid-006"})
	a2 := mustSendBatch(t, db, "a2", "a", 1, nil, nil)
	record(a2, Outcome{Line: 2, State: StateSent, MsgID: 3, At: now, OpenID: "openid-002"})
	b1 := mustSendBatch(t, db, "b1", "b", 1, nil, nil)
	record(b1, Outcome{Line: 2, State: StateSent, MsgID: 4, At: now, OpenID: "openid-002"})
	to002 := func(request string) NewMessage {
		m := newMessage("a", 2, "", request, time.Time{})
		m.OpenID = "openid-002"
		return m
	}
	msgs := mustAccept(t, db, to002("r1"), to002("r2"), to002("r3"))
	for i, st := range []string{StateSent, StateFailed, StatePending} {
		if err := db.FinishMessage(ctx, MessageOutcome{ID: msgs[i].Message.ID, State: st, At: hourAgo}); err != nil {
			t.Fatal(err)
		}
	}
	day := now.Add(-24 * time.Hour)
	for _, tt := range []struct {
		openid string
		since  time.Time
		want   []Delivery
	}{
		{"openid-002", day, []Delivery{{BatchID: a1.ID, Line: 2}, {BatchID: a2.ID, Line: 2}, {MessageID: msgs[0].Message.ID}}},
		{"openid-002", now, []Delivery{{BatchID: a2.ID, Line: 2}}},
		{"openid-003", day, []Delivery{{BatchID: a1.ID, Line: 3}}},
		{"openid-004", day, nil},
		{"openid-005", day, nil},
		{"openid-006", day, nil},
		{"openid-006", twoDaysAgo, []Delivery{{BatchID: a1.ID, Line: 6}}},
	} {
		got, err := db.DeliveredTo(ctx, "a", tt.openid, tt.since)
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(got, func(x, y Delivery) int { return int(x.BatchID-y.BatchID)*1000 + int(x.MessageID-y.MessageID) })
		slices.SortFunc(tt.want, func(x, y Delivery) int { return int(x.BatchID-y.BatchID)*1000 + int(x.MessageID-y.MessageID) })
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s since %v: %v, want %v", tt.openid, now.Sub(tt.since), got, tt.want)
		}
	}
	reasons, err := db.SkippedReasons(ctx, a1.ID)
	if err != nil || reasons[SkipCapped] != 1 || len(reasons) != 1 {
		t.Errorf("skipped reasons %v, %v", reasons, err)
	}
}

// TestDB_DeliveredToPlan: the query walks the partial indexes of migration
// 0013, never a table: a cap is checked before every send.
func TestDB_DeliveredToPlan(t *testing.T) {
	db := mustOpen(t)
	mustSendBatch(t, db, "a1", "a", 3, map[int64]int64{2: 1}, nil)
	// With statistics that make a table scan look cheap, as a small ledger's
	// would, the plan stays the same.
	if _, err := db.db.Exec(`ANALYZE`); err != nil {
		t.Fatal(err)
	}
	rows, err := db.db.Query(`EXPLAIN QUERY PLAN `+sqlDelivered, "a", "openid-002", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	text := strings.Join(plan, "\n")
	for _, want := range []string{"s USING INDEX sends_delivered (openid=? AND done_at>?)",
		"m USING INDEX messages_delivered (account=? AND openid=? AND done_at>?)",
		"b USING INTEGER PRIMARY KEY (rowid=?)"} {
		if !strings.Contains(text, want) {
			t.Errorf("plan lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "SCAN") {
		t.Errorf("plan scans a table:\n%s", text)
	}
}

// TestDB_RecoverInflightDelivered: a row the resume rule makes unknown may
// have been delivered, and the caps find it by its openid.
func TestDB_RecoverInflightDelivered(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	b := mustSendBatch(t, db, "a1", "a", 2, nil, nil)
	l := db.OpenLedger(ctx, b.ID, "1@h")
	if err := l.Begin(ctx, 2, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, unknown, err := db.RecoverInflight(ctx, b.ID, time.Now().Add(-9*time.Minute)); err != nil || unknown != 1 {
		t.Fatalf("recover: %d unknown, %v", unknown, err)
	}
	got, err := db.DeliveredTo(ctx, "a", "openid-002", time.Now().Add(-time.Minute))
	if err != nil || len(got) != 1 || got[0].Line != 2 {
		t.Errorf("deliveries %v, %v", got, err)
	}
}

func TestDB_BatchPolicyCap(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	b := mustSendBatch(t, db, "a1", "a", 1, nil, nil)
	for _, p := range []BatchPolicy{{Cap: "1/24h"}, {QuietHours: "22:00-08:00 UTC", Cap: "off"}, {}} {
		if err := db.SetBatchPolicy(ctx, b.ID, p); err != nil {
			t.Fatal(err)
		}
		if got, err := db.BatchPolicyOf(ctx, b.ID); err != nil || got != p {
			t.Errorf("policy %+v, %v; want %+v", got, err, p)
		}
	}
}
