package campaign

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/megasend/megasend/policy"
	"github.com/megasend/megasend/sender"
	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/wechat/wechattest"
)

// window is the quiet hours from now+from to now+to, to the second, in UTC.
func window(t *testing.T, from, to time.Duration) policy.QuietHours {
	t.Helper()
	now := time.Now().UTC()
	q, err := policy.ParseQuietHours(now.Add(from).Format("15:04:05")+"-"+now.Add(to).Format("15:04:05"), "UTC")
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// TestRun_QuietHoursInside: a run inside the account's quiet hours sends
// nothing, not even the preflight's probe, and pauses the batch saying
// when it may resume.
func TestRun_QuietHoursInside(t *testing.T) {
	f := newFixture(t)
	srv := wechattest.NewServer(wechattest.Options{})
	t.Cleanup(srv.Close)
	b := f.create("b", newTemplate(t, "k", sandboxTemplateID()), 10)
	q := window(t, -time.Minute, time.Hour)
	res := f.run(context.Background(), b, srv, RunOptions{QuietHours: q})
	if res.Stop != sender.StopQuiet || res.Sent != 0 || len(srv.Deliveries()) != 0 {
		t.Fatalf("inside the window: %+v, %d delivered", res.Result, len(srv.Deliveries()))
	}
	if want := q.Next(time.Now()); !res.ResumeAt.Equal(want) {
		t.Errorf("resume at %v, want %v", res.ResumeAt, want)
	}
	if ob := res.Outcome.Batch; ob.Status != store.StatusPaused || !strings.Contains(ob.PauseReason, "quiet hours") ||
		!strings.Contains(ob.PauseReason, "may resume at") {
		t.Errorf("batch %s %q", ob.Status, ob.PauseReason)
	}
}

// TestRun_QuietHoursBegin: quiet hours that begin mid-run stop it as a
// signal does (in-flight sends recorded); the batch keeps the hours it was
// given, so a resume that names none still observes them, and one given
// "off" sends the rest: every recipient once.
func TestRun_QuietHoursBegin(t *testing.T) {
	f := newFixture(t)
	srv := wechattest.NewServer(wechattest.Options{})
	t.Cleanup(srv.Close)
	q := window(t, 3*time.Second, time.Hour) // 2 to 3 s away: the clock's second is cut
	users := writeUsers(t, f.dir, "u.csv", 250)
	b, _, err := f.svc.Create(context.Background(), Spec{Name: "b", Template: newTemplate(t, "k", sandboxTemplateID()),
		TemplateRef: "k", Source: f.source(users), Policy: &Policy{QuietHours: &q}})
	if err != nil {
		t.Fatal(err)
	}
	res := f.run(context.Background(), b, srv, RunOptions{Rate: 50}) // five seconds' worth
	if res.Stop != sender.StopQuiet || res.Sent == 0 || res.Outcome.Counts.Pending == 0 || res.Outcome.Counts.Inflight != 0 {
		t.Fatalf("the window began mid-run: %+v, %+v", res.Result, res.Outcome.Counts)
	}
	f.svc.Release(context.Background(), b)
	// The batch's own hours, though the account has none.
	b = f.resume(ResumeSpec{Name: "b"})
	if res := f.run(context.Background(), b, srv, RunOptions{}); res.Stop != sender.StopQuiet || res.Sent != 0 {
		t.Fatalf("resumed inside its own quiet hours: %+v", res.Result)
	}
	f.svc.Release(context.Background(), b)
	b = f.resume(ResumeSpec{Name: "b", Policy: &Policy{QuietHours: &policy.QuietHours{}}}) // off
	if res := f.run(context.Background(), b, srv, RunOptions{QuietHours: q}); res.Stop != sender.StopNone {
		t.Fatalf("resumed with quiet hours off: %+v", res.Result)
	}
	if n := delivered(t, srv); n != 250 {
		t.Errorf("%d delivered, want 250", n)
	}
}

// TestRunner_QuietHours: the service holds a batch and a single message
// inside the account's quiet hours and says until when.
func TestRunner_QuietHours(t *testing.T) {
	f := newFixture(t)
	srv := wechattest.NewServer(wechattest.Options{})
	t.Cleanup(srv.Close)
	q := window(t, -time.Minute, time.Hour)
	r := f.svc.NewRunner("a", RunOptions{Client: f.client(srv), Concurrency: 2, QuietHours: q})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	b := f.submit("b", 5, time.Time{})
	f.await("b", "held", func(b store.Batch, _ store.Counts) bool { return b.Status == store.StatusPaused })
	s, _, err := f.svc.Schedule(context.Background(), b.Batch)
	if err != nil || !s.NotBefore.Equal(q.Next(time.Now())) || s.Hold != "" {
		t.Errorf("schedule %+v (%v), want not before %v", s, err, q.Next(time.Now()))
	}
	m := f.accept(100, "")
	m = f.awaitMessage(m.ID, "held", func(m Message) bool { return strings.Contains(lastDetail(m), "quiet hours") })
	if m.State != store.StatePending || len(srv.Deliveries()) != 0 {
		t.Errorf("message %s, %d delivered", m.State, len(srv.Deliveries()))
	}
}
