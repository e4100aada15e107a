package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// newMessage is a message to openid n for account, with idempotency key
// key ("" for none) asking for request.
func newMessage(account string, n int, key, request string, sendAt time.Time) NewMessage {
	return NewMessage{Account: account, IdemKey: key, RequestHash: request, TemplateKey: "t", TemplateHash: "h1",
		TemplateBody: `{"touser":"${openid}"}`, OpenID: fmt.Sprintf("openid-%d", n), Vars: `{}`,
		ClientMsgID: fmt.Sprintf("mm-%d", n), SendAt: sendAt}
}

func mustAccept(t *testing.T, db *DB, msgs ...NewMessage) []Accepted {
	t.Helper()
	got, err := db.AcceptMessages(context.Background(), msgs)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestDB_AcceptMessages: one transaction for many; an idempotency key is an
// account's, and names one request; a key repeated inside one group is
// already known to its second use.
func TestDB_AcceptMessages(t *testing.T) {
	db := mustOpen(t)
	later := time.Now().Add(time.Hour)
	got := mustAccept(t, db,
		newMessage("a", 1, "k1", "r1", time.Time{}),
		newMessage("a", 2, "", "r2", later),
		newMessage("a", 3, "k1", "r1", time.Time{}), // the same request again
		newMessage("a", 4, "k1", "other", time.Time{}),
		newMessage("b", 5, "k1", "r1", time.Time{}), // another account's key
	)
	if got[0].Replayed || got[0].Conflict || got[0].Message.State != StatePending {
		t.Errorf("first: %+v", got[0])
	}
	if m := got[1].Message; m.State != StateScheduled || !m.NotBefore.Equal(time.UnixMilli(later.UnixMilli())) {
		t.Errorf("scheduled: %+v", m)
	}
	if !got[2].Replayed || got[2].Message.ID != got[0].Message.ID || got[2].Message.OpenID != "openid-1" {
		t.Errorf("the same key and request: %+v", got[2])
	}
	if !got[3].Conflict || got[3].Message.ID != got[0].Message.ID {
		t.Errorf("the key with another request: %+v", got[3])
	}
	if got[4].Replayed || got[4].Conflict || got[4].Message.ID == got[0].Message.ID {
		t.Errorf("another account's key: %+v", got[4])
	}
	var n int
	db.db.QueryRow(`SELECT COUNT(*) FROM messages`).Scan(&n)
	if n != 3 {
		t.Errorf("%d messages stored, want 3", n)
	}
	if _, err := db.Message(context.Background(), "b", got[0].Message.ID); err == nil {
		t.Error("account b reads account a's message")
	}
}

// TestDB_MessageLifecycle: due messages in the order they are due; an
// attempt claims a message only if no other attempt began since; a pending
// outcome forgets the first attempt, an inflight one keeps it.
func TestDB_MessageLifecycle(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	now := time.Now()
	got := mustAccept(t, db, newMessage("a", 1, "", "r", time.Time{}), newMessage("a", 2, "", "r", now.Add(time.Hour)),
		newMessage("b", 3, "", "r", time.Time{}))
	due, next, err := db.DueMessages(ctx, "a", now, 10)
	if err != nil || len(due) != 1 || due[0].ID != got[0].Message.ID || !next.Equal(time.UnixMilli(now.Add(time.Hour).UnixMilli())) {
		t.Fatalf("due %+v, next %v, %v", due, next, err)
	}
	id := due[0].ID
	if ok, err := db.BeginMessage(ctx, id, 0, now); !ok || err != nil {
		t.Fatalf("begin: %v %v", ok, err)
	}
	if ok, _ := db.BeginMessage(ctx, id, 0, now); ok {
		t.Fatal("a second attempt began on a stale count")
	}
	if err := db.FinishMessage(ctx, MessageOutcome{ID: id, State: StateInflight, At: now, NotBefore: now.Add(time.Second), Errcode: -1}); err != nil {
		t.Fatal(err)
	}
	m, _ := db.Message(ctx, "a", id)
	if m.State != StateInflight || m.FirstAttempt.IsZero() || m.Attempts != 1 {
		t.Fatalf("after an answer that proved nothing: %+v", m)
	}
	if ok, _ := db.BeginMessage(ctx, id, 1, now.Add(time.Second)); !ok {
		t.Fatal("the retry could not begin")
	}
	if err := db.FinishMessage(ctx, MessageOutcome{ID: id, State: StateSent, At: now, MsgID: 42}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := db.BeginMessage(ctx, id, 2, now); ok {
		t.Fatal("a sent message began again")
	}
	m, _ = db.Message(ctx, "a", id)
	evs, err := db.MessageEvents(ctx, id)
	if m.State != StateSent || m.MsgID != 42 || m.DoneAt.IsZero() || err != nil || len(evs) != 4 {
		t.Fatalf("sent: %+v, events %+v (%v)", m, evs, err)
	}
	if evs[2].Attempt != 2 || evs[2].State != StateInflight || evs[1].Errcode != -1 {
		t.Errorf("events %+v", evs)
	}
}

// TestDB_BringForward: what waited for the quota's reset is due now; what
// waits for something else is not moved, nor is another account's.
func TestDB_BringForward(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	reset, now := time.Now().Add(5*time.Hour).Truncate(time.Millisecond), time.Now()
	got := mustAccept(t, db, newMessage("a", 1, "", "r", time.Time{}), newMessage("a", 2, "", "r", now.Add(time.Hour)),
		newMessage("b", 3, "", "r", time.Time{}))
	for _, g := range []Accepted{got[0], got[2]} {
		if err := db.FinishMessage(ctx, MessageOutcome{ID: g.Message.ID, State: StatePending, At: now, NotBefore: reset, Errcode: 45009}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.BringForward(ctx, "a", reset, now); err != nil {
		t.Fatal(err)
	}
	due, next, err := db.DueMessages(ctx, "a", now, 10)
	if err != nil || len(due) != 1 || due[0].ID != got[0].Message.ID || next.IsZero() {
		t.Errorf("a: due %+v, next %v (%v)", due, next, err)
	}
	if due, _, _ := db.DueMessages(ctx, "b", now, 10); len(due) != 0 {
		t.Errorf("b's message moved: %+v", due)
	}
}

// TestDB_MessageTallies: the single messages by account and state, in the
// metrics' counts and queue depths, kept by the triggers of migration 0009.
func TestDB_MessageTallies(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	got := mustAccept(t, db, newMessage("a", 1, "", "r", time.Time{}), newMessage("a", 2, "", "r", time.Now().Add(time.Hour)),
		newMessage("a", 3, "", "r", time.Time{}))
	id := got[0].Message.ID
	db.BeginMessage(ctx, id, 0, time.Now())
	db.FinishMessage(ctx, MessageOutcome{ID: id, State: StateInflight, At: time.Now(), Errcode: -1}) // no change of state
	db.BeginMessage(ctx, id, 1, time.Now())
	db.FinishMessage(ctx, MessageOutcome{ID: id, State: StateSent, At: time.Now(), MsgID: 7})
	counts, err := db.StateCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{StateSent: 1, StateScheduled: 1, StatePending: 1}
	for _, c := range counts {
		if c.Source != SourceMessage {
			continue
		}
		if c.Account != "a" || want[c.State] != c.N {
			t.Errorf("count %+v", c)
		}
		delete(want, c.State)
	}
	if len(want) != 0 {
		t.Errorf("missing counts %v in %+v", want, counts)
	}
	depths, err := db.QueueDepths(ctx)
	if err != nil || depths["a"] != 2 {
		t.Errorf("queue depths %v (%v), want a: 2", depths, err)
	}
}
