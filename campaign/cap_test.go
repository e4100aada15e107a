package campaign

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/megasend/megasend/policy"
	"github.com/megasend/megasend/sender"
	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/wechat/wechattest"
)

func mustCap(t *testing.T, s string) policy.Cap {
	t.Helper()
	c, err := policy.ParseCap(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// createFor creates batch name sending to openid(i) for each i in ids.
func (f *fixture) createFor(name string, ids []int, p *Policy) *Batch {
	f.t.Helper()
	var b strings.Builder
	b.WriteString("openid,name\n")
	for _, i := range ids {
		fmt.Fprintf(&b, "%s,用户%d\n", openid(i), i)
	}
	users := writeFile(f.t, f.dir, name+".csv", b.String())
	bt, _, err := f.svc.Create(context.Background(), Spec{Name: name, Template: newTemplate(f.t, "k", sandboxTemplateID()),
		TemplateRef: "k", Source: f.source(users), Policy: p})
	if err != nil {
		f.t.Fatal(err)
	}
	return bt
}

func span(from, to int) []int {
	var ids []int
	for i := from; i < to; i++ {
		ids = append(ids, i)
	}
	return ids
}

// TestRun_Cap: a batch run after another skips, with reason "capped", the
// recipients the first already reached within the account's cap, sends the
// rest, and is done; a batch's own cap replaces the account's, and is kept
// with it for a resume.
func TestRun_Cap(t *testing.T) {
	f := newFixture(t)
	srv := wechattest.NewServer(wechattest.Options{})
	t.Cleanup(srv.Close)
	ctx := context.Background()
	one := f.createFor("one", span(0, 30), nil)
	if res := f.run(ctx, one, srv, RunOptions{}); res.Sent != 30 {
		t.Fatalf("first batch: %+v", res.Result)
	}
	f.svc.Release(ctx, one)

	two := f.createFor("two", span(20, 50), nil)
	res := f.run(ctx, two, srv, RunOptions{Cap: mustCap(t, "1/24h")})
	if res.Stop != sender.StopNone || res.Sent != 20 || res.Capped != 10 || res.Outcome.Batch.Status != store.StatusDone {
		t.Fatalf("second batch: %+v, %s", res.Result, res.Outcome.Batch.Status)
	}
	f.svc.Release(ctx, two)
	rep, err := f.svc.Report(ctx, "two")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts.Skipped != 10 || rep.SkippedReasons[store.SkipCapped] != 10 {
		t.Errorf("report: %+v, reasons %v", rep.Counts, rep.SkippedReasons)
	}
	var capped store.Recipient
	err = f.db.Recipients(ctx, two.ID, []string{store.StateSkipped}, func(r store.Recipient) error {
		if capped.OpenID == "" {
			capped = r
		}
		return nil
	})
	if capped.OpenID != openid(20) || capped.Errmsg != "capped: 1 message already within 24h (cap 1/24h)" {
		t.Errorf("first capped row: %+v (%v)", capped, err)
	}
	if n := delivered(t, srv); n != 50 {
		t.Errorf("%d delivered, want 50", n)
	}

	// Its own 2/24h lets a second message through where the account's
	// would not, on this run and on a resume that names none.
	own := mustCap(t, "2/24h")
	three := f.createFor("three", []int{0, 1, 50}, &Policy{Cap: &own})
	res = f.run(ctx, three, srv, RunOptions{Cap: mustCap(t, "1/24h")})
	if res.Sent != 3 || res.Capped != 0 {
		t.Errorf("own cap: %+v", res.Result)
	}
	f.svc.Release(ctx, three)
	if p, err := f.db.BatchPolicyOf(ctx, three.ID); err != nil || p.Cap != "2/24h" || p.QuietHours != "" {
		t.Errorf("kept policy %+v, %v", p, err)
	}
	off := policy.Cap{}
	four := f.createFor("four", []int{0, 1, 2}, &Policy{Cap: &off})
	if res := f.run(ctx, four, srv, RunOptions{Cap: mustCap(t, "1/24h")}); res.Sent != 3 {
		t.Errorf("cap off: %+v", res.Result)
	}
	f.svc.Release(ctx, four)
}

// TestRun_CapResume: a recipient capped stays skipped; a resume sends the
// batch's others and never it, even with no cap any more.
func TestRun_CapResume(t *testing.T) {
	f := newFixture(t)
	srv := wechattest.NewServer(wechattest.Options{})
	t.Cleanup(srv.Close)
	ctx := context.Background()
	one := f.createFor("one", []int{0}, nil)
	f.run(ctx, one, srv, RunOptions{})
	f.svc.Release(ctx, one)
	c := mustCap(t, "1/1h")
	two := f.createFor("two", span(0, 300), &Policy{Cap: &c})
	cctx, cancel := context.WithCancel(ctx)
	res := f.run(cctx, two, srv, RunOptions{Rate: 100, OnEvent: func(sender.Event) {}, Started: func(*sender.Engine) func() {
		time.AfterFunc(500*time.Millisecond, cancel)
		return func() {}
	}})
	cancel()
	if res.Stop != sender.StopInterrupted || res.Capped != 1 {
		t.Fatalf("first run: %+v", res.Result)
	}
	f.svc.Release(ctx, two)
	off := policy.Cap{}
	two = f.resume(ResumeSpec{Name: "two", Policy: &Policy{Cap: &off}})
	if res := f.run(ctx, two, srv, RunOptions{}); res.Stop != sender.StopNone || res.Capped != 0 {
		t.Fatalf("resume: %+v", res.Result)
	}
	f.svc.Release(ctx, two)
	if n := delivered(t, srv); n != 300 {
		t.Errorf("%d delivered, want 300 (openid 0 once)", n)
	}
}

// TestRun_CapConcurrent: two capped batches of one account sending to the
// same people at the same time, in one process, reach each person once:
// a send in flight in one counts for the other.
func TestRun_CapConcurrent(t *testing.T) {
	f := newFixture(t)
	srv := wechattest.NewServer(wechattest.Options{})
	t.Cleanup(srv.Close)
	srv.SetLatency(5*time.Millisecond, 20*time.Millisecond)
	ctx := context.Background()
	c := mustCap(t, "1/24h")
	a := f.createFor("a", span(0, 200), &Policy{Cap: &c})
	b := f.createFor("b", span(0, 200), &Policy{Cap: &c})
	var wg sync.WaitGroup
	results := make([]RunResult, 2)
	for i, bt := range []*Batch{a, b} {
		wg.Go(func() {
			res, err := f.svc.Run(ctx, bt, RunOptions{Client: f.client(srv), Concurrency: 8})
			if err != nil {
				t.Error(err)
			}
			results[i] = res
		})
	}
	wg.Wait()
	if sent, capped := results[0].Sent+results[1].Sent, results[0].Capped+results[1].Capped; sent != 200 || capped != 200 {
		t.Errorf("sent %d, capped %d; want 200 each (%+v, %+v)", sent, capped, results[0].Result, results[1].Result)
	}
	if n := delivered(t, srv); n != 200 {
		t.Errorf("%d delivered, want 200", n)
	}
	// Every claim was released; the deliveries count on for claimGrace.
	f.svc.caps.mu.Lock()
	defer f.svc.caps.mu.Unlock()
	for k, m := range f.svc.caps.by {
		for d, at := range m {
			if at.IsZero() {
				t.Errorf("%s: claim %+v still in flight", k.openid, d)
			}
		}
	}
	f.svc.caps.sweep(time.Now().Add(2 * claimGrace))
	if len(f.svc.caps.by) != 0 {
		t.Errorf("%d recipients' claims outlive claimGrace", len(f.svc.caps.by))
	}
}

// TestRunner_CapMessages: serve's single messages observe the account's
// cap, counting what its batches sent; one capped is skipped, and says why.
func TestRunner_CapMessages(t *testing.T) {
	f := newFixture(t)
	srv := wechattest.NewServer(wechattest.Options{})
	t.Cleanup(srv.Close)
	r := f.svc.NewRunner("a", RunOptions{Client: f.client(srv), Concurrency: 2, Cap: mustCap(t, "1/24h")})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	f.submit("b", 3, time.Time{})
	f.await("b", "done", func(b store.Batch, _ store.Counts) bool { return b.Status == store.StatusDone })
	m := f.accept(1, "") // openid(1) had the batch's message
	m = f.awaitMessage(m.ID, "capped", func(m Message) bool { return m.State == store.StateSkipped })
	if !strings.HasPrefix(m.Errmsg, store.SkipCapped) || !strings.Contains(lastDetail(m), "cap 1/24h") {
		t.Errorf("message %s %q, %q", m.State, m.Errmsg, lastDetail(m))
	}
	m = f.accept(7, "") // nobody sent it anything
	m = f.awaitMessage(m.ID, "sent", func(m Message) bool { return m.State == store.StateSent })
	m2 := f.accept(7, "k2") // but now someone has
	f.awaitMessage(m2.ID, "capped", func(m Message) bool { return m.State == store.StateSkipped })
	if n := len(srv.Deliveries()); n != 4 {
		t.Errorf("%d delivered, want 4", n)
	}
}
