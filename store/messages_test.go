package store

import (
	"context"
	"fmt"
	"strings"
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
// metrics' counts and queue depths, kept by AcceptMessages and the
// triggers of migrations 0009 and 0011.
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

// TestDB_AcceptMessages_Tallies: the tallies AcceptMessages adds a group at
// a time (migration 0011) equal a count of the messages, whatever the
// group held: several accounts and states, replays and conflicts that
// store nothing, a group refused whole; and the triggers move them on a
// change of state and a delete.
func TestDB_AcceptMessages_Tallies(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	check := func(when string) {
		t.Helper()
		rows, err := db.db.Query(`SELECT m.account, m.state, COUNT(*), COALESCE(t.n, 0) FROM messages m
			LEFT JOIN message_tallies t ON t.account = m.account AND t.state = m.state GROUP BY m.account, m.state`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				account, state string
				counted, tally int64
			)
			if err := rows.Scan(&account, &state, &counted, &tally); err != nil {
				t.Fatal(err)
			}
			if counted != tally {
				t.Errorf("%s: %s %s: %d messages, tally %d", when, account, state, counted, tally)
			}
		}
		var orphans int64
		db.db.QueryRow(`SELECT COALESCE(SUM(n), 0) FROM message_tallies t WHERE NOT EXISTS
			(SELECT 1 FROM messages m WHERE m.account = t.account AND m.state = t.state)`).Scan(&orphans)
		if orphans != 0 {
			t.Errorf("%s: %d tallied for no message", when, orphans)
		}
	}
	later := time.Now().Add(time.Hour)
	got := mustAccept(t, db,
		newMessage("a", 1, "k1", "r1", time.Time{}),
		newMessage("a", 2, "", "r2", later),
		newMessage("a", 3, "k1", "r1", time.Time{}),    // replayed
		newMessage("a", 4, "k1", "other", time.Time{}), // conflict
		newMessage("b", 5, "k1", "r1", time.Time{}),
		newMessage("b", 6, "", "r6", later),
	)
	check("first group")
	mustAccept(t, db, newMessage("a", 7, "k1", "r1", time.Time{}), newMessage("b", 8, "", "r8", time.Time{}))
	check("a group with a replay")
	if _, err := db.db.Exec(`CREATE TRIGGER refuse BEFORE INSERT ON messages WHEN new.openid = 'openid-9'
		BEGIN SELECT RAISE(ABORT, 'refused'); END`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AcceptMessages(ctx, []NewMessage{newMessage("c", 10, "", "r10", time.Time{}),
		newMessage("a", 9, "", "r9", time.Time{})}); err == nil {
		t.Fatal("a group with a refused message was stored")
	}
	db.db.Exec(`DROP TRIGGER refuse`)
	check("a group refused")
	if ok, err := db.BeginMessage(ctx, got[0].Message.ID, 0, time.Now()); !ok || err != nil {
		t.Fatalf("begin: %v %v", ok, err)
	}
	check("a message begun")
	if _, err := db.db.Exec(`DELETE FROM messages WHERE id = ?`, got[5].Message.ID); err != nil {
		t.Fatal(err)
	}
	check("a message deleted")
}

// TestDB_OpenMessagesIndexed: the queries for messages still to send use
// the messages_open index, whose condition they must repeat as migration
// 0011 wrote it (openMessage).
func TestDB_OpenMessagesIndexed(t *testing.T) {
	db := mustOpen(t)
	for _, q := range []string{
		`SELECT id FROM messages WHERE account = ? AND ` + openMessage + ` AND not_before <= ? ORDER BY not_before, id LIMIT 10`,
		`SELECT MIN(not_before) FROM messages WHERE account = ? AND ` + openMessage + ` AND not_before > ?`,
		`UPDATE messages SET not_before = 1 WHERE account = ? AND ` + openMessage + ` AND not_before = ?`,
	} {
		rows, err := db.db.Query(`EXPLAIN QUERY PLAN `+q, "a", 1)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if p := strings.Join(plan, "; "); !strings.Contains(p, "USING INDEX messages_open") {
			t.Errorf("%s\nplan: %s", q, p)
		}
	}
}
