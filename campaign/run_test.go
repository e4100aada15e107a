package campaign

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/megasend/megasend/sender"
	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/wechat/wechattest"
)

// run sends b through srv with o's other options, and fails the test on an
// error.
func (f *fixture) run(ctx context.Context, b *Batch, srv *wechattest.Server, o RunOptions) RunResult {
	f.t.Helper()
	o.Client = f.client(srv)
	if o.Concurrency == 0 {
		o.Concurrency = 4
	}
	res, err := f.svc.Run(ctx, b, o)
	if err != nil {
		f.t.Fatalf("Run: %v", err)
	}
	return res
}

// resume takes batch name up again (and fails the test on an error).
func (f *fixture) resume(spec ResumeSpec) *Batch {
	f.t.Helper()
	b, _, err := f.svc.Resume(context.Background(), spec)
	if err != nil {
		f.t.Fatalf("Resume: %v", err)
	}
	return b
}

// TestRun_Done: a batch runs to its end; the outcome is what the ledger
// holds, and a second Run finds nothing left.
func TestRun_Done(t *testing.T) {
	f := newFixture(t)
	srv := wechattest.NewServer(wechattest.Options{})
	t.Cleanup(srv.Close)
	b := f.create("b", newTemplate(t, "k", sandboxTemplateID()), 20)
	res := f.run(context.Background(), b, srv, RunOptions{})
	if res.Stop != sender.StopNone || res.Outcome.Batch.Status != store.StatusDone || res.Outcome.Counts.Sent != 20 {
		t.Fatalf("Run = stop %v, outcome %+v", res.Stop, res.Outcome)
	}
	if n := delivered(t, srv); n != 20 {
		t.Errorf("%d delivered, want 20", n)
	}
	again := f.run(context.Background(), b, srv, RunOptions{})
	if !again.Finished || again.Outcome.Counts.Sent != 20 || len(srv.Deliveries()) != 20 {
		t.Errorf("second Run = %+v; want Finished, nothing sent", again)
	}
}

// TestResume_ByStopReason: a batch stopped for each reason is paused with
// that reason in the ledger, and a resume sends exactly the rest: every
// recipient once.
func TestResume_ByStopReason(t *testing.T) {
	const n = 30
	tests := []struct {
		name string
		// first is the run that stops, against srv; it returns the
		// replacement template's id for the resume, or "".
		opts   wechattest.Options
		first  func(f *fixture, b *Batch, srv *wechattest.Server) (RunResult, string)
		stop   sender.StopReason
		reason string // in the batch's pause reason
	}{
		{
			name: "Quota", opts: wechattest.Options{Quota: 10},
			first: func(f *fixture, b *Batch, srv *wechattest.Server) (RunResult, string) {
				return f.run(context.Background(), b, srv, RunOptions{Concurrency: 1}), ""
			},
			stop: sender.StopQuota, reason: "quota resets at",
		},
		{
			name: "Fatal",
			first: func(f *fixture, b *Batch, srv *wechattest.Server) (RunResult, string) {
				return f.run(context.Background(), b, srv, RunOptions{}), sandboxTemplateID()
			},
			stop: sender.StopFatal, reason: "--template FIXED",
		},
		{
			name: "Threshold", opts: wechattest.Options{Unfollowed: []string{openid(0), openid(1), openid(2), openid(3), openid(4)}},
			first: func(f *fixture, b *Batch, srv *wechattest.Server) (RunResult, string) {
				th, err := sender.ParseThreshold("2")
				if err != nil {
					t.Fatal(err)
				}
				return f.run(context.Background(), b, srv, RunOptions{Concurrency: 1, MaxErrors: th}), ""
			},
			stop: sender.StopThreshold, reason: "error threshold exceeded",
		},
		{
			name: "Interrupted", opts: wechattest.Options{Latency: 5 * time.Millisecond},
			first: func(f *fixture, b *Batch, srv *wechattest.Server) (RunResult, string) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				// The signal comes once 5 recipients are sent: watched as
				// a display watches a run, from the ledger.
				return f.run(ctx, b, srv, RunOptions{Concurrency: 1, Started: func(*sender.Engine) func() {
					go func() {
						for ctx.Err() == nil {
							if c, err := f.svc.Counts(context.Background(), b.Batch); err == nil && c.Sent >= 5 {
								cancel()
							}
							time.Sleep(2 * time.Millisecond)
						}
					}()
					return func() {}
				}}), ""
			},
			stop: sender.StopInterrupted, reason: "interrupted",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			srv := wechattest.NewServer(tt.opts)
			t.Cleanup(srv.Close)
			id := sandboxTemplateID()
			if tt.stop == sender.StopFatal {
				id = "no-such-template-id"
			}
			b := f.create("b", newTemplate(t, "k", id), n)
			res, fixed := tt.first(f, b, srv)
			out := res.Outcome
			if res.Stop != tt.stop || out.Batch.Status != store.StatusPaused || !strings.Contains(out.Batch.PauseReason, tt.reason) {
				t.Fatalf("first run: stop %v (%v), status %s, reason %q; want %v, paused, %q",
					res.Stop, res.Err, out.Batch.Status, out.Batch.PauseReason, tt.stop, tt.reason)
			}
			if err := f.svc.Release(context.Background(), b); err != nil {
				t.Fatal(err)
			}

			// The resume: another day's quota, a fixed template, the
			// failed recipients left failed.
			srv2 := wechattest.NewServer(wechattest.Options{Unfollowed: tt.opts.Unfollowed})
			t.Cleanup(srv2.Close)
			spec := ResumeSpec{Name: "b"}
			if fixed != "" {
				spec.Template, spec.TemplateRef = newTemplate(t, "fixed", fixed), "fixed"
			}
			rb := f.resume(spec)
			res2 := f.run(context.Background(), rb, srv2, RunOptions{})
			c := res2.Outcome.Counts
			if res2.Stop != sender.StopNone || res2.Outcome.Batch.Status != store.StatusDone || c.Pending+c.Inflight != 0 {
				t.Fatalf("resume: stop %v (%v), outcome %+v", res2.Stop, res2.Err, res2.Outcome)
			}
			if got := delivered(t, srv, srv2); int64(got) != c.Sent || c.Sent+c.Failed != n {
				t.Errorf("delivered %d; ledger %+v; want every recipient once", got, c)
			}
		})
	}
}

// TestRun_Unreachable: WeChat out of reach before the first send is an
// Unavailable error, and the batch keeps every recipient pending.
func TestRun_Unreachable(t *testing.T) {
	f := newFixture(t)
	srv := wechattest.NewServer(wechattest.Options{})
	b := f.create("b", newTemplate(t, "k", sandboxTemplateID()), 5)
	c := f.client(srv)
	srv.Close()
	_, err := f.svc.Run(context.Background(), b, RunOptions{Client: c, Concurrency: 2})
	if ErrorCode(err) != Unavailable || !strings.Contains(err.Error(), "cannot reach WeChat before the first send") {
		t.Fatalf("Run = %v (%s); want Unavailable", err, ErrorCode(err))
	}
	if left, err := f.svc.Remaining(context.Background(), b.Batch); err != nil || left != 5 {
		t.Errorf("remaining %d, %v; want 5", left, err)
	}
	if dropped, err := f.svc.DropUnsent(context.Background(), b); !dropped || err != nil {
		t.Errorf("DropUnsent = %v, %v; want the unsent batch dropped", dropped, err)
	}
}

// TestRun_Declined: a Confirm that says no ends the run before anything is
// sent.
func TestRun_Declined(t *testing.T) {
	f := newFixture(t)
	srv := wechattest.NewServer(wechattest.Options{})
	t.Cleanup(srv.Close)
	b := f.create("b", newTemplate(t, "k", sandboxTemplateID()), 5)
	var asked int64
	_, err := f.svc.Run(context.Background(), b, RunOptions{Client: f.client(srv), Concurrency: 2,
		Confirm: func(n int64) bool { asked = n; return false }})
	if err != ErrDeclined || asked != 5 || len(srv.Deliveries()) != 0 {
		t.Errorf("Run = %v, asked about %d, %d delivered; want ErrDeclined, 5, 0", err, asked, len(srv.Deliveries()))
	}
}
