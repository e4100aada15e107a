package campaign

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/wechat/wechattest"
)

// startRunner runs the fixture's runner for account "a" against srv until
// the test ends or the returned stop is called, which waits for Run.
func (f *fixture) startRunner(srv *wechattest.Server) (*Runner, func()) {
	f.t.Helper()
	r := f.svc.NewRunner("a", RunOptions{Client: f.client(srv), Concurrency: 2})
	r.Retry = 50 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := r.Run(ctx); err != nil {
			f.t.Errorf("Run: %v", err)
		}
	})
	stop := sync.OnceFunc(func() { cancel(); wg.Wait() })
	f.t.Cleanup(stop)
	return r, stop
}

// submit submits n users as batch name for account "a", sent from sendAt.
func (f *fixture) submit(name string, n int, sendAt time.Time) *Batch {
	f.t.Helper()
	users := writeUsers(f.t, f.dir, name+".csv", n)
	b, _, err := f.svc.Submit(context.Background(), Spec{Name: name, Template: newTemplate(f.t, "k", sandboxTemplateID()),
		TemplateRef: "k", Source: f.source(users), Account: "a"}, sendAt)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

// await polls batch name until cond holds of it, or fails the test.
func (f *fixture) await(name string, what string, cond func(store.Batch, store.Counts) bool) (store.Batch, store.Counts) {
	f.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, err := f.svc.Find(context.Background(), name)
		if err != nil {
			f.t.Fatal(err)
		}
		c, err := f.svc.Counts(context.Background(), b)
		if err != nil {
			f.t.Fatal(err)
		}
		if cond(b, c) {
			return b, c
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("batch %s never %s: %s %q, %+v", name, what, b.Status, b.PauseReason, c)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func isDone(b store.Batch, _ store.Counts) bool { return b.Status == store.StatusDone }

// TestRunner_SendsWhatItWasGiven: submitted batches are sent, a send_at is
// waited for, and a batch the CLI created is left alone.
func TestRunner_SendsWhatItWasGiven(t *testing.T) {
	f := newFixture(t)
	srv := wechattest.NewServer(wechattest.Options{})
	t.Cleanup(srv.Close)
	cli := writeUsers(t, f.dir, "cli.csv", 3)
	cb, _, err := f.svc.Create(context.Background(), Spec{Name: "cli", Template: newTemplate(t, "k", sandboxTemplateID()),
		TemplateRef: "k", Source: f.source(cli), Account: "a"})
	if err != nil {
		t.Fatal(err)
	}
	f.svc.Release(context.Background(), cb)
	f.startRunner(srv)
	f.submit("now", 5, time.Time{})
	sendAt := time.Now().Add(300 * time.Millisecond)
	later := f.submit("later", 5, sendAt)
	f.await("now", "done", isDone)
	f.await("later", "done", isDone)
	if got := len(srv.Deliveries()); got != 10 {
		t.Errorf("%d delivered, want the 10 submitted, not the CLI's batch", got)
	}
	var early int
	for _, d := range srv.Deliveries() {
		if strings.HasPrefix(d.ClientMsgID, later.Nonce) && d.Time.Before(sendAt) {
			early++
		}
	}
	if early > 0 {
		t.Errorf("%d of the later batch sent before its send_at", early)
	}
	if b, _ := f.svc.Find(context.Background(), "cli"); b.Status != store.StatusReady {
		t.Errorf("the CLI's batch is %s; the service sent it", b.Status)
	}
}

// TestRunner_PauseContinue: a pause stops the batch being sent with every
// in-flight send recorded, holds it until continued, and the continued
// batch sends the rest: every recipient once.
func TestRunner_PauseContinue(t *testing.T) {
	f := newFixture(t)
	srv := wechattest.NewServer(wechattest.Options{Latency: 5 * time.Millisecond})
	t.Cleanup(srv.Close)
	r, _ := f.startRunner(srv)
	f.submit("b", 200, time.Time{})
	f.await("b", "sending", func(_ store.Batch, c store.Counts) bool { return c.Sent >= 10 })
	if err := f.svc.Pause(context.Background(), "b"); err != nil {
		t.Fatal(err)
	}
	b, c := f.await("b", "paused", func(b store.Batch, _ store.Counts) bool {
		return b.Status == store.StatusPaused && r.Running() == ""
	})
	if c.Inflight != 0 || c.Sent == 200 {
		t.Fatalf("paused with %+v", c)
	}
	if s, ok, _ := f.svc.Schedule(context.Background(), b); !ok || s.Hold != ErrPausedByRequest.Error() {
		t.Errorf("schedule %+v, %v; want held", s, ok)
	}
	time.Sleep(100 * time.Millisecond)
	if c2, _ := f.svc.Counts(context.Background(), b); c2.Sent != c.Sent {
		t.Fatalf("a held batch went on sending: %d → %d", c.Sent, c2.Sent)
	}
	if err := f.svc.Continue(context.Background(), "b"); err != nil {
		t.Fatal(err)
	}
	f.await("b", "done", isDone)
	if n := delivered(t, srv); n != 200 {
		t.Errorf("%d delivered, want 200", n)
	}
}

// TestRunner_Quota: the daily quota stops the account's sending until its
// reset, other batches of the account included; the batch waits for it.
func TestRunner_Quota(t *testing.T) {
	f := newFixture(t)
	srv := wechattest.NewServer(wechattest.Options{Quota: 4})
	t.Cleanup(srv.Close)
	r, _ := f.startRunner(srv)
	b := f.submit("b", 10, time.Time{})
	f.await("b", "paused", func(b store.Batch, _ store.Counts) bool { return b.Status == store.StatusPaused && r.Running() == "" })
	until := r.QuotaUntil()
	s, _, _ := f.svc.Schedule(context.Background(), b.Batch)
	if until.IsZero() || !s.NotBefore.Equal(until) || s.Hold != "" {
		t.Fatalf("quota until %v, schedule %+v; want the batch waiting for the reset", until, s)
	}
	f.submit("other", 3, time.Time{})
	time.Sleep(100 * time.Millisecond)
	if got := len(srv.Deliveries()); got != 4 {
		t.Errorf("%d delivered with the quota spent; want 4", got)
	}
}

// TestRunner_Restart: a service stopping mid-batch records every in-flight
// send; the next service's runner finishes it, every recipient once.
func TestRunner_Restart(t *testing.T) {
	f := newFixture(t)
	srv := wechattest.NewServer(wechattest.Options{Latency: 5 * time.Millisecond})
	t.Cleanup(srv.Close)
	_, stop := f.startRunner(srv)
	f.submit("b", 100, time.Time{})
	f.await("b", "sending", func(_ store.Batch, c store.Counts) bool { return c.Sent >= 10 })
	stop()
	b, c := f.await("b", "stopped", func(b store.Batch, _ store.Counts) bool { return b.Status == store.StatusPaused })
	if c.Inflight != 0 || c.Sent == 100 {
		t.Fatalf("stopped with %+v", c)
	}
	f.svc = New(f.db, owner("test"), nil) // the next process
	f.startRunner(srv)
	f.await(b.Name, "done", isDone)
	if n := delivered(t, srv); n != 100 {
		t.Errorf("%d delivered, want 100", n)
	}
}

// TestRunner_FatalHolds: a batch-fatal errcode holds the batch for a
// person, with the reason.
func TestRunner_FatalHolds(t *testing.T) {
	f := newFixture(t)
	srv := wechattest.NewServer(wechattest.Options{})
	t.Cleanup(srv.Close)
	users := writeUsers(t, f.dir, "u.csv", 3)
	b, _, err := f.svc.Submit(context.Background(), Spec{Name: "b", Template: newTemplate(t, "k", "no-such-id"),
		TemplateRef: "k", Source: f.source(users), Account: "a"}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := f.startRunner(srv)
	f.await("b", "paused", func(b store.Batch, _ store.Counts) bool { return b.Status == store.StatusPaused && r.Running() == "" })
	if s, _, _ := f.svc.Schedule(context.Background(), b.Batch); s.Hold == "" || !strings.Contains(s.Hold, "40037") {
		t.Errorf("schedule %+v; want held with the errcode", s)
	}
}

// TestCancel: a cancelled batch sends nothing more, whether the runner is
// sending it or it waits; what was sent stays sent, the rest is skipped,
// and the batch is done.
func TestCancel(t *testing.T) {
	f := newFixture(t)
	srv := wechattest.NewServer(wechattest.Options{Latency: 5 * time.Millisecond})
	t.Cleanup(srv.Close)
	r, _ := f.startRunner(srv)
	f.submit("running", 200, time.Time{})
	f.submit("waiting", 10, time.Now().Add(time.Hour))
	f.await("running", "sending", func(_ store.Batch, c store.Counts) bool { return c.Sent >= 10 })
	for _, name := range []string{"running", "waiting"} {
		if err := f.svc.Cancel(context.Background(), name); err != nil {
			t.Fatalf("Cancel(%s): %v", name, err)
		}
	}
	_, c := f.await("running", "cancelled", func(b store.Batch, _ store.Counts) bool { return isDone(b, store.Counts{}) && r.Running() == "" })
	if c.Sent+c.Skipped != 200 || c.Sent == 200 || c.Inflight+c.Pending != 0 {
		t.Errorf("running batch cancelled with %+v", c)
	}
	if got := len(srv.Deliveries()); int64(got) != c.Sent {
		t.Errorf("%d delivered, ledger says %d sent", got, c.Sent)
	}
	_, w := f.await("waiting", "cancelled", isDone)
	if w.Skipped != 10 || w.Sent != 0 {
		t.Errorf("waiting batch cancelled with %+v", w)
	}
	if err := f.svc.Cancel(context.Background(), "waiting"); ErrorCode(err) != Conflict {
		t.Errorf("Cancel of a done batch: %v; want Conflict", err)
	}
	time.Sleep(50 * time.Millisecond)
	if got := len(srv.Deliveries()); int64(got) != c.Sent {
		t.Errorf("sent after the cancel: %d delivered, %d before", got, c.Sent)
	}
}

// The same request again, and a retry, while the runner sends the batch
// leave the runner's lock where it is: the lock is re-entrant within one
// process, so a release by the request would free the batch for another
// process in the middle of its run.
func TestRunner_RequestsKeepTheRunnersLock(t *testing.T) {
	f := newFixture(t)
	srv := wechattest.NewServer(wechattest.Options{Latency: 20 * time.Millisecond})
	t.Cleanup(srv.Close)
	f.startRunner(srv)
	b := f.submit("busy", 200, time.Time{})
	f.await("busy", "running", func(b store.Batch, c store.Counts) bool { return b.Status == store.StatusRunning && c.Sent > 0 })

	users := writeUsers(t, f.dir, "busy.csv", 200)
	again, _, err := f.svc.Submit(context.Background(), Spec{Name: "busy", Template: newTemplate(t, "k", sandboxTemplateID()),
		TemplateRef: "k", Source: f.source(users), Account: "a"}, time.Time{})
	if err != nil || again.Created {
		t.Fatalf("the same request again: %v (created %v)", err, again != nil && again.Created)
	}
	if got, err := f.svc.Find(context.Background(), b.Name); err != nil || got.Status != store.StatusRunning || got.LockOwner != f.svc.owner {
		t.Fatalf("after the same request again: status %s, lock %q (err %v); want running, locked by %s", got.Status, got.LockOwner, err, f.svc.owner)
	}
	if _, err := f.svc.Retry(context.Background(), b.Name, Selection{Failed: true}); err != nil {
		t.Fatal(err)
	}
	if got, err := f.svc.Find(context.Background(), b.Name); err != nil || got.Status == store.StatusRunning && got.LockOwner != f.svc.owner {
		t.Fatalf("after a retry: status %s, lock %q (err %v); want it locked by %s while running", got.Status, got.LockOwner, err, f.svc.owner)
	}
	f.await("busy", "done", isDone)
}
