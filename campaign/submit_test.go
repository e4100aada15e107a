package campaign

import (
	"context"
	"testing"
	"time"

	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/wechat/wechattest"
)

// TestSubmit_AfterKilledImport: a service killed while it imported an
// upload leaves the batch importing, held by a process that is gone, with
// no schedule, and the upload unanswered. The same upload again imports
// it and hands it to the runner, which sends it, every recipient once;
// before, it answered with a batch nobody would send.
func TestSubmit_AfterKilledImport(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	srv := wechattest.NewServer(wechattest.Options{})
	t.Cleanup(srv.Close)
	tmpl := newTemplate(t, "k", sandboxTemplateID())
	spec := Spec{Name: "b", Template: tmpl, TemplateRef: "k", Source: f.source(writeUsers(t, f.dir, "b.csv", 20)), Account: "a"}
	killed := store.Owner(99999999, "test")
	if _, err := f.db.CreateBatch(ctx, store.NewBatch{Name: "b", TemplateRef: "k", TemplateBody: tmpl.Body(),
		TemplateHash: hashBytes(tmpl.Body()), SourcePath: spec.Source.Path, SourceHash: spec.Source.Hash, Account: "a"}, killed); err != nil {
		t.Fatal(err)
	}
	f.startRunner(srv)

	b, _, err := f.svc.Submit(ctx, spec, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if s, given, err := f.svc.Schedule(ctx, b.Batch); err != nil || !given || s.Hold != "" {
		t.Fatalf("schedule %+v, given %v, %v; want the batch handed to the runner", s, given, err)
	}
	f.await("b", "done", isDone)
	if n := delivered(t, srv); n != 20 {
		t.Errorf("%d delivered, want 20", n)
	}
}

// TestSubmit_KilledAfterImport: the schedule is written before the import
// ends, so a service killed the moment its import committed (before the
// upload was answered) leaves a batch the next service's runner sends.
// Before, the schedule came one statement after the import's last commit,
// and a kill between the two left a ready batch that no runner took
// (RELIABILITY.md, "Finding left open").
func TestSubmit_KilledAfterImport(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	srv := wechattest.NewServer(wechattest.Options{})
	t.Cleanup(srv.Close)
	tmpl := newTemplate(t, "k", sandboxTemplateID())
	spec := Spec{Name: "b", Template: tmpl, TemplateRef: "k", Source: f.source(writeUsers(t, f.dir, "b.csv", 20)), Account: "a",
		Schedule: &store.Schedule{}}
	// What Submit does up to its answer, without it: the kill comes here.
	b, _, err := f.svc.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if b.Status != store.StatusReady {
		t.Fatalf("status %s after the import, want %s", b.Status, store.StatusReady)
	}
	if err := f.svc.Release(ctx, b); err != nil {
		t.Fatal(err)
	}
	f.startRunner(srv) // the next service
	f.await("b", "done", isDone)
	if n := delivered(t, srv); n != 20 {
		t.Errorf("%d delivered, want 20", n)
	}
}
