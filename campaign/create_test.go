package campaign

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/template"
)

// TestCreate_ContinueOrRefuse: a batch name that exists continues the batch
// when the request's input is the same (a re-run cron line), and is refused
// as a Conflict, naming what differs, when it is not.
func TestCreate_ContinueOrRefuse(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// change alters the first request's files and returns the second
		// request's users file and template.
		change func(f *fixture, users string) (string, string)
		want   string // "" continues; else a substring of the Conflict
	}{
		{"Same", func(f *fixture, users string) (string, string) { return users, sandboxTemplateID() }, ""},
		{"ContentChanged", func(f *fixture, users string) (string, string) {
			writeUsers(t, f.dir, "b.csv", 4)
			return users, sandboxTemplateID()
		}, "whose content has changed since"},
		{"OtherFile", func(f *fixture, users string) (string, string) {
			return writeUsers(t, f.dir, "other.csv", 4), sandboxTemplateID()
		}, "exists with a different users file"},
		{"OtherTemplate", func(f *fixture, users string) (string, string) { return users, "another-template-id" }, "exists with a different template"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			users := writeUsers(t, f.dir, "b.csv", 3)
			first, _, err := f.svc.Create(ctx, Spec{Name: "b", Template: newTemplate(t, "k", sandboxTemplateID()), TemplateRef: "k", Source: f.source(users)})
			if err != nil || !first.Created || first.Total != 3 {
				t.Fatalf("first Create = %+v, %v", first, err)
			}
			users2, id := tt.change(f, users)
			again, imp, err := f.svc.Create(ctx, Spec{Name: "b", Template: newTemplate(t, "k", id), TemplateRef: "k", Source: f.source(users2)})
			if tt.want == "" {
				if err != nil || again.Created || again.ID != first.ID || imp != nil {
					t.Fatalf("second Create = %+v, %+v, %v; want the first batch continued", again, imp, err)
				}
				return
			}
			if ErrorCode(err) != Conflict || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("second Create: %v (%s); want a Conflict saying %q", err, ErrorCode(err), tt.want)
			}
			if b, err := f.svc.Find(ctx, "b"); err != nil || b.Total != 3 {
				t.Errorf("the first batch after the refusal: %+v, %v", b, err)
			}
		})
	}
}

// TestCreate_InvalidKeepsNothing: a file with a bad row is refused with
// every problem and its place, and no batch is left.
func TestCreate_InvalidKeepsNothing(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	users := writeFile(t, f.dir, "u.csv", "openid,name\n"+openid(1)+",a\nox,b\n"+openid(3)+",\n")
	b, imp, err := f.svc.Create(ctx, Spec{Name: "bad", Template: newTemplate(t, "k", sandboxTemplateID()), TemplateRef: "k", Source: f.source(users)})
	if ErrorCode(err) != Invalid || !errors.Is(err, ErrInvalidInput) || b != nil {
		t.Fatalf("Create = %+v, %v; want Invalid", b, err)
	}
	p := ErrorProblems(err)
	if p == nil || p.Count != 2 {
		t.Fatalf("problems %+v; want 2", p)
	}
	if got := p.Sorted()[0].String(); !strings.HasPrefix(got, users+":3: openid: ") {
		t.Errorf("first problem %q", got)
	}
	if imp == nil || imp.Rows != 2 {
		t.Errorf("imported %+v; want 2 rows read (the bad openid's is a problem)", imp)
	}
	if _, err := f.svc.Find(ctx, "bad"); ErrorCode(err) != NotFound {
		t.Errorf("Find after a refused import: %v; want NotFound", err)
	}
}

// TestCreate_TemplateRefused: a template lint calls an error (a fixed
// touser) is refused before anything is recorded (issue 20.1).
func TestCreate_TemplateRefused(t *testing.T) {
	f := newFixture(t)
	tmpl := newTemplate(t, "k", sandboxTemplateID())
	fixed, err := template.Parse("fixed", "", []byte(strings.Replace(string(tmpl.Body()), "${openid}", openid(9), 1)))
	if err != nil {
		t.Fatal(err)
	}
	users := writeUsers(t, f.dir, "u.csv", 2)
	_, _, err = f.svc.Create(context.Background(), Spec{Name: "b", Template: fixed, TemplateRef: "fixed", Source: f.source(users)})
	if ErrorCode(err) != Invalid || ErrorProblems(err) == nil || !strings.Contains(ErrorProblems(err).Shown[0].Msg, "every recipient's message would go to that one user") {
		t.Fatalf("Create = %v; want the fixed touser refused", err)
	}
	if _, err := f.svc.Find(context.Background(), "b"); ErrorCode(err) != NotFound {
		t.Errorf("a batch was kept: %v", err)
	}
}

// TestCreate_Interrupted: an import cut short by a signal is Stopped, keeps
// the batch importing, and Resume imports it again from the start.
func TestCreate_Interrupted(t *testing.T) {
	f := newFixture(t)
	users := writeUsers(t, f.dir, "u.csv", 50)
	ctx, cancel := context.WithCancel(context.Background())
	src := f.source(users)
	open := src.Open
	src.Open = func() (io.ReadCloser, error) {
		cancel() // the signal arrives as the file is read
		return open()
	}
	tmpl := newTemplate(t, "k", sandboxTemplateID())
	b, _, err := f.svc.Create(ctx, Spec{Name: "b", Template: tmpl, TemplateRef: "k", Source: src})
	if ErrorCode(err) != Stopped || b == nil || b.Status != store.StatusImporting {
		t.Fatalf("Create = %+v, %v; want Stopped with the batch importing", b, err)
	}
	f.svc.Release(context.Background(), b)
	b, imp, err := f.svc.Resume(context.Background(), ResumeSpec{Name: "b"})
	if err != nil || b.Status != store.StatusReady || imp == nil || imp.Total != 50 {
		t.Fatalf("Resume = %+v, %+v, %v; want 50 imported, ready", b, imp, err)
	}
}

// TestLock_Conflict: a batch held by another live process is Locked, for
// every operation that writes it, and says who holds it.
func TestLock_Conflict(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	tmpl := newTemplate(t, "k", sandboxTemplateID())
	b := f.create("b", tmpl, 3) // held by f.svc from here
	other := New(f.db, owner("elsewhere"), nil)
	for name, op := range map[string]func() error{
		"Resume": func() error { _, _, err := other.Resume(ctx, ResumeSpec{Name: "b"}); return err },
		"Create": func() error {
			_, _, err := other.Create(ctx, Spec{Name: "b", Template: tmpl, TemplateRef: "k", Source: f.source(b.SourcePath)})
			return err
		},
		"Requeue": func() error { _, err := other.Requeue(ctx, b.Batch, Selection{Failed: true}); return err },
	} {
		err := op()
		if ErrorCode(err) != Locked || !strings.Contains(err.Error(), "batch b is being sent by pid") || !strings.Contains(err.Error(), "nothing was sent by this process") {
			t.Errorf("%s: %v (%s); want Locked naming the holder", name, err, ErrorCode(err))
		}
	}
	if err := f.svc.Release(ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, _, err := other.Resume(ctx, ResumeSpec{Name: "b"}); err != nil {
		t.Errorf("Resume once released: %v", err)
	}
}
