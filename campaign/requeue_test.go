package campaign

import (
	"context"
	"strings"
	"testing"

	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/wechat/wechattest"
)

// TestRequeue: a retry requeues exactly its selection, keeps the lock for
// the run that follows when it requeued any, and the run sends only them.
func TestRequeue(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	unfollowed := []string{openid(2), openid(5)}
	srv := wechattest.NewServer(wechattest.Options{Unfollowed: unfollowed})
	t.Cleanup(srv.Close)
	b := f.create("b", newTemplate(t, "k", sandboxTemplateID()), 8)
	if res := f.run(ctx, b, srv, RunOptions{}); res.Outcome.Counts.Failed != 2 {
		t.Fatalf("first run: %+v; want 2 failed (43004)", res.Outcome.Counts)
	}
	f.svc.Release(ctx, b)

	// Nothing failed with -1: nothing requeued, and the lock is let go.
	other := New(f.db, owner("elsewhere"), nil)
	if n, err := f.svc.Requeue(ctx, b.Batch, Selection{Failed: true, Codes: []int{-1}}); n != 0 || err != nil {
		t.Fatalf("Requeue(-1) = %d, %v", n, err)
	}
	if _, _, err := other.Resume(ctx, ResumeSpec{Name: "b"}); err != nil {
		t.Fatalf("the lock was kept after requeueing nothing: %v", err)
	}
	other.Release(ctx, &Batch{Batch: b.Batch})

	n, err := f.svc.Requeue(ctx, b.Batch, Selection{Failed: true, Codes: []int{43004}})
	if n != 2 || err != nil {
		t.Fatalf("Requeue(43004) = %d, %v; want 2", n, err)
	}
	if _, _, err := other.Resume(ctx, ResumeSpec{Name: "b"}); ErrorCode(err) != Locked {
		t.Fatalf("another process during the retry: %v; want Locked", err)
	}
	srv2 := wechattest.NewServer(wechattest.Options{}) // the two followed since
	t.Cleanup(srv2.Close)
	rb := f.resume(ResumeSpec{Name: "b"})
	res := f.run(ctx, rb, srv2, RunOptions{})
	if c := res.Outcome.Counts; c.Sent != 8 || c.Failed != 0 || len(srv2.Deliveries()) != 2 {
		t.Errorf("after the retry: %+v, %d delivered; want 8 sent, the 2 requeued delivered", c, len(srv2.Deliveries()))
	}
}

// TestReplaceTemplate: a replacement must fit every recipient still to be
// sent, or nothing changes; one that fits is recorded with its ref.
func TestReplaceTemplate(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	b := f.create("b", newTemplate(t, "k", "wrong-id"), 3)
	misfit, err := parseTemplate("needs_more", `{"touser":"${openid}","template_id":"T2","data":{"keyword1":{"value":"${coupon}"}}}`)
	if err != nil {
		t.Fatal(err)
	}
	err = f.svc.ReplaceTemplate(ctx, b.Batch, misfit, "needs_more")
	if ErrorCode(err) != Invalid || ErrorProblems(err).Count != 3 || !strings.Contains(err.Error(), "the batch keeps its template") {
		t.Fatalf("ReplaceTemplate(misfit) = %v; want Invalid with a problem per recipient", err)
	}
	if got, _ := f.svc.Find(ctx, "b"); got.TemplateRef != "k" {
		t.Errorf("template after a refused replacement: %q", got.TemplateRef)
	}
	if err := f.svc.ReplaceTemplate(ctx, b.Batch, newTemplate(t, "fixed", sandboxTemplateID()), "fixed.json"); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.svc.Find(ctx, "b"); got.TemplateRef != "fixed.json" || TemplateID(got) != sandboxTemplateID() {
		t.Errorf("after the replacement: ref %q, id %q", got.TemplateRef, TemplateID(got))
	}
}

// TestResume_StoredTemplateRefused: a batch created before lint refused a
// fixed touser is not sent by a resume either (issue 20.1): the stored
// template is checked as a new one is.
func TestResume_StoredTemplateRefused(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	b := f.create("b", newTemplate(t, "k", sandboxTemplateID()), 2)
	f.svc.Release(ctx, b)
	fixed := strings.Replace(string(b.TemplateBody), "${openid}", openid(7), 1)
	if _, err := f.db.SQL().Exec(`UPDATE batches SET template_body = ? WHERE id = ?`, fixed, b.ID); err != nil {
		t.Fatal(err)
	}
	_, _, err := f.svc.Resume(ctx, ResumeSpec{Name: "b"})
	if ErrorCode(err) != Invalid || !strings.Contains(err.Error(), "resume it with --template FIXED") {
		t.Fatalf("Resume = %v; want Invalid", err)
	}
}

// TestCheck_RecordsNothing: a dry run of a file and of a resume renders
// everything and writes nothing.
func TestCheck_RecordsNothing(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	tmpl := newTemplate(t, "k", sandboxTemplateID())
	users := writeUsers(t, f.dir, "u.csv", 4)
	imp, err := Check(Spec{Template: tmpl, Source: f.source(users), Preview: 2})
	if err != nil || imp.Rows != 4 || len(imp.Previews) != 2 || !strings.Contains(string(imp.Previews[1]), openid(1)) {
		t.Fatalf("Check = %+v, %v", imp, err)
	}
	if _, err := f.svc.Find(ctx, "u"); ErrorCode(err) != NotFound {
		t.Errorf("a dry run recorded a batch: %v", err)
	}
	b := f.create("b", tmpl, 4)
	rem, got, err := f.svc.CheckResume(ctx, ResumeSpec{Name: "b", Preview: 1}, false)
	if err != nil || rem.Sendable != 4 || len(rem.Previews) != 1 || got.Key != "k" {
		t.Fatalf("CheckResume = %+v, %v", rem, err)
	}
	if c, _ := f.svc.Counts(ctx, b.Batch); c.Pending != 4 || b.Status != store.StatusReady {
		t.Errorf("after CheckResume: %+v, %s", c, b.Status)
	}
}
