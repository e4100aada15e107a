package campaign

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/wechat/wechattest"
)

// accept stores template "k" if needed and accepts a message to openid n
// for account "a".
func (f *fixture) accept(n int, key string) Message {
	f.t.Helper()
	ctx := context.Background()
	if _, err := f.db.Template(ctx, "k"); err != nil {
		if err := f.db.PutTemplate(ctx, store.Template{Key: "k", Body: []byte(fmt.Sprintf(body, sandboxTemplateID()))}); err != nil {
			f.t.Fatal(err)
		}
	}
	m, _, err := f.svc.Accept(ctx, MessageSpec{Account: "a", Template: "k", OpenID: openid(n),
		Vars: map[string]string{"name": fmt.Sprint("user ", n), "amount": "9.90"}, IdempotencyKey: key})
	if err != nil {
		f.t.Fatal(err)
	}
	return m
}

// awaitMessage polls message id until cond holds of its trace.
func (f *fixture) awaitMessage(id int64, what string, cond func(Message) bool) Message {
	f.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		m, err := f.svc.Trace(context.Background(), "a", id)
		if err != nil {
			f.t.Fatal(err)
		}
		if cond(m) {
			return m
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("message %d never %s: %+v", id, what, m)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func stateIs(s string) func(Message) bool { return func(m Message) bool { return m.State == s } }

// lastDetail is what the trace's last step says.
func lastDetail(m Message) string { return m.Events[len(m.Events)-1].Detail }

// TestLane_Restart: a message a dead process left inflight is resent with
// the same client_msg_id inside WeChat's dedup window (delivered once), and
// not resent after it (unknown).
func TestLane_Restart(t *testing.T) {
	f := newFixture(t)
	srv := wechattest.NewServer(wechattest.Options{})
	t.Cleanup(srv.Close)
	recent, old := f.accept(1, ""), f.accept(2, "")
	// The dead process: both begun, only the recent one's request arrived.
	sm, err := f.db.Message(context.Background(), "a", recent.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.BeginMessage(context.Background(), recent.ID, 0, time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.BeginMessage(context.Background(), old.ID, 0, time.Now().Add(-20*time.Minute)); err != nil {
		t.Fatal(err)
	}
	c := f.client(srv)
	body := fmt.Sprintf(`{"touser":%q,"template_id":%q,"client_msg_id":%q,"data":{"keyword1":{"value":"x"}}}`,
		sm.OpenID, sandboxTemplateID(), sm.ClientMsgID)
	if _, err := c.SendTemplateBody(context.Background(), []byte(body)); err != nil {
		t.Fatal(err)
	}

	f.startRunner(srv)
	f.awaitMessage(recent.ID, "sent", stateIs(store.StateSent))
	m := f.awaitMessage(old.ID, "unknown", stateIs(store.StateUnknown))
	if !strings.Contains(lastDetail(m), "dedup window") {
		t.Errorf("unknown because %q", lastDetail(m))
	}
	if d := srv.Deliveries(); len(d) != 1 || d[0].OpenID != openid(1) {
		t.Fatalf("deliveries %+v, want openid 1 once", d)
	}
}

// TestLane_Ambiguous: an answer lost after delivery is resent with the
// same client_msg_id, which WeChat recognises: delivered once, sent.
func TestLane_Ambiguous(t *testing.T) {
	f := newFixture(t)
	srv := wechattest.NewServer(wechattest.Options{})
	t.Cleanup(srv.Close)
	srv.DropNext(1)
	m := f.accept(1, "")
	f.startRunner(srv)
	m = f.awaitMessage(m.ID, "sent", stateIs(store.StateSent))
	if m.Attempts != 2 {
		t.Errorf("%d attempts, want 2", m.Attempts)
	}
	var states []string
	for _, e := range m.Events {
		states = append(states, e.State)
	}
	if got := strings.Join(states, ","); got != "pending,inflight,inflight,inflight,sent" {
		t.Errorf("trace %s", got)
	}
	if n := delivered(t, srv); n != 1 {
		t.Errorf("%d delivered", n)
	}
}

// TestLane_Classes: each class of WeChat's answer ends a message as the
// engine ends a batch's recipient.
func TestLane_Classes(t *testing.T) {
	for _, tt := range []struct {
		name    string
		errcode int
		state   string
		detail  string
	}{
		{"recipient", 43004, store.StateFailed, "refused this recipient"},
		{"batch-fatal", 40037, store.StateFailed, "fix it and send the message again"},
		{"busy then sent", -1, store.StateSent, "sent"},
		{"rate then sent", 45011, store.StateSent, "sent"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			srv := wechattest.NewServer(wechattest.Options{})
			t.Cleanup(srv.Close)
			srv.FailNext(1, tt.errcode)
			m := f.accept(1, "")
			f.startRunner(srv)
			m = f.awaitMessage(m.ID, tt.state, stateIs(tt.state))
			if !strings.Contains(lastDetail(m), tt.detail) {
				t.Errorf("last step %q, want it to say %q", lastDetail(m), tt.detail)
			}
			if tt.state == store.StateFailed && m.Errcode != int64(tt.errcode) {
				t.Errorf("errcode %d, want %d", m.Errcode, tt.errcode)
			}
		})
	}
}

// TestLane_Quota: 45009 holds the message, and the whole account, until
// the quota is back; the message stays pending, not failed. The runner
// asks WeChat's quota/get meanwhile: a quota cleared before its reset
// (clear_quota) resumes the messages and the batches at once.
func TestLane_Quota(t *testing.T) {
	f := newFixture(t)
	srv := wechattest.NewServer(wechattest.Options{Quota: 1})
	t.Cleanup(srv.Close)
	r := f.svc.NewRunner("a", RunOptions{Client: f.client(srv), Concurrency: 2})
	r.Retry, r.QuotaProbe = 50*time.Millisecond, 20*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	first := f.accept(101, "")
	f.awaitMessage(first.ID, "sent", stateIs(store.StateSent))
	m := f.accept(102, "")
	m = f.awaitMessage(m.ID, "held", func(m Message) bool { return strings.Contains(lastDetail(m), "quota") })
	if m.State != store.StatePending || r.QuotaUntil().IsZero() {
		t.Fatalf("state %s, quota until %v", m.State, r.QuotaUntil())
	}
	// The account's batches wait too.
	f.submit("b", 3, time.Time{})
	time.Sleep(100 * time.Millisecond)
	if n := len(srv.Deliveries()); n != 1 {
		t.Errorf("%d delivered with the quota spent, want 1", n)
	}
	srv.SetQuota(100)
	f.awaitMessage(m.ID, "sent once the quota is back", stateIs(store.StateSent))
	f.await("b", "done once the quota is back", isDone)
	if n := delivered(t, srv); n != 5 {
		t.Errorf("%d delivered, want 5", n)
	}
}

// TestLane_AheadOfTheBatch: a message accepted while a batch holds the
// account's pace is sent while the batch is still sending, not after it.
func TestLane_AheadOfTheBatch(t *testing.T) {
	f := newFixture(t)
	srv := wechattest.NewServer(wechattest.Options{})
	t.Cleanup(srv.Close)
	r := f.svc.NewRunner("a", RunOptions{Client: f.client(srv), Concurrency: 8, Rate: 100})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	f.submit("b", 400, time.Time{}) // four seconds at 100/s
	f.await("b", "sending", func(_ store.Batch, c store.Counts) bool { return c.Sent >= 20 })
	m := f.accept(1000, "")
	f.awaitMessage(m.ID, "sent", stateIs(store.StateSent))
	b, c := f.await("b", "counted", func(store.Batch, store.Counts) bool { return true })
	if b.Status == store.StatusDone || c.Pending == 0 {
		t.Errorf("the message was sent only once the batch was done: %s, %+v", b.Status, c)
	}
}
