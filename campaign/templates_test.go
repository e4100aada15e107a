package campaign

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// A template with a lint warning (color is ignored) and none with an error.
const warnBody = `{"touser":"${openid}","template_id":"T","data":{"keyword1":{"value":"${x}","color":"#ff0000"}}}`

// A template without touser: a lint error.
const noTouserBody = `{"template_id":"T","data":{"keyword1":{"value":"${x}"}}}`

// TestPutTemplate: what PutTemplate stores, returns and refuses. A refused
// template leaves what was stored as it was.
func TestPutTemplate(t *testing.T) {
	ctx := context.Background()
	good := fmt.Sprintf(body, "T1")
	tests := []struct {
		name, key, body string
		field           string // "" stores
		problems        int
		msg             string
	}{
		{"Stored", "k", good, "", 0, ""},
		{"WarningsStored", "k", warnBody, "", 0, ""},
		{"LintError", "k", noTouserBody, "body", 1, "1 lint error; nothing was stored"},
		{"Syntax", "k", `{"touser": }`, "body", 0, "line 1, column"},
		{"Placeholder", "k", `{"touser":"${a b}"}`, "body", 0, `touser: bad placeholder`},
		{"Empty", "k", ``, "body", 0, "body"},
		{"KeyWithSpace", "a b", good, "key", 0, "white space"},
		{"KeyLikeAFile", "k.json", good, "key", 0, "file extension"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			before := fmt.Sprintf(body, "T0")
			if _, err := f.svc.PutTemplate(ctx, "k", "first", "", []byte(before)); err != nil {
				t.Fatal(err)
			}
			st, err := f.svc.PutTemplate(ctx, tt.key, "title", "", []byte(tt.body))
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				if st.Created || st.Key != "k" || st.Title != "title" || string(st.Body) != tt.body || st.CreatedAt.IsZero() {
					t.Errorf("stored %+v", st)
				}
				errs, warns := st.LintCounts()
				if wantWarns := strings.Count(tt.body, "color"); errs != 0 || warns != wantWarns {
					t.Errorf("lint counts %d errors, %d warnings; want 0, %d", errs, warns, wantWarns)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != Invalid || e.Field != tt.field || !strings.Contains(e.Msg, tt.msg) {
				t.Fatalf("err %#v; want Invalid about %s saying %q", err, tt.field, tt.msg)
			}
			if got := 0; e.Problems != nil {
				got = e.Problems.Count
				if got != tt.problems || e.Problems.Shown[0].Field != "touser" {
					t.Errorf("problems %+v", e.Problems)
				}
			} else if tt.problems > 0 {
				t.Error("no problems listed")
			}
			got, err := f.svc.GetTemplate(ctx, "k")
			if err != nil || string(got.Body) != before || got.Title != "first" {
				t.Errorf("after a refused put: %+v, %v; want the template as it was", got, err)
			}
		})
	}
}

// TestSaveTemplate: the CLI's save keeps a template with lint errors, and
// says which; it refuses what does not parse as PutTemplate does.
func TestSaveTemplate(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	st, err := f.svc.SaveTemplate(ctx, "k", "", "", []byte(noTouserBody))
	if err != nil {
		t.Fatal(err)
	}
	if errs, _ := st.LintCounts(); !st.Created || errs != 1 {
		t.Errorf("saved %+v", st)
	}
	if _, err := f.svc.SaveTemplate(ctx, "k", "", "", []byte(`{`)); ErrorCode(err) != Invalid {
		t.Errorf("unparsable body: %v", err)
	}
	got, err := f.svc.GetTemplate(ctx, "k")
	if err != nil || string(got.Body) != noTouserBody || got.Parsed == nil {
		t.Errorf("get: %+v, %v", got, err)
	}
}

// TestTemplates_ListGetDelete: list is sorted and linted; get and delete
// of a missing key are NotFound; a list with a missing key deletes none.
func TestTemplates_ListGetDelete(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	for _, k := range []string{"b", "a"} {
		if _, err := f.svc.SaveTemplate(ctx, k, "", "", []byte(warnBody)); err != nil {
			t.Fatal(err)
		}
	}
	list, err := f.svc.ListTemplates(ctx)
	if err != nil || len(list) != 2 || list[0].Key != "a" || list[1].Key != "b" || len(list[0].Problems) != 1 {
		t.Fatalf("list %+v, %v", list, err)
	}
	if _, err := f.svc.GetTemplate(ctx, "nope"); ErrorCode(err) != NotFound {
		t.Errorf("get nope: %v", err)
	}
	if err := f.svc.DeleteTemplate(ctx, "nope"); ErrorCode(err) != NotFound || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("delete nope: %v", err)
	}
	missing, err := f.svc.DeleteTemplates(ctx, []string{"a", "nope"})
	if ErrorCode(err) != NotFound || len(missing) != 1 || missing[0] != "nope" {
		t.Errorf("delete a, nope: %v, %v", missing, err)
	}
	if _, err := f.svc.GetTemplate(ctx, "a"); err != nil {
		t.Errorf("a was deleted beside a missing key: %v", err)
	}
	if err := f.svc.DeleteTemplate(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.GetTemplate(ctx, "a"); ErrorCode(err) != NotFound {
		t.Errorf("a after delete: %v", err)
	}
}

// TestTemplates_BatchKeepsSnapshot: replacing or deleting a stored template
// never alters a batch created with it: the batch keeps the body it was
// created with, and a resume sends that one.
func TestTemplates_BatchKeepsSnapshot(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	first := fmt.Sprintf(body, sandboxTemplateID())
	if _, err := f.svc.PutTemplate(ctx, "k", "", "", []byte(first)); err != nil {
		t.Fatal(err)
	}
	tmpl, err := f.svc.Template(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	f.create("b", tmpl, 3)

	check := func(when string) {
		t.Helper()
		b, err := f.svc.Find(ctx, "b")
		if err != nil {
			t.Fatal(err)
		}
		if string(b.TemplateBody) != first || TemplateID(b) != sandboxTemplateID() {
			t.Errorf("%s: the batch keeps %s; want %s", when, b.TemplateBody, first)
		}
		if _, err := batchTemplate(b); err != nil {
			t.Errorf("%s: the batch cannot be resumed: %v", when, err)
		}
	}
	if _, err := f.svc.PutTemplate(ctx, "k", "", "", []byte(fmt.Sprintf(body, "another-template-id"))); err != nil {
		t.Fatal(err)
	}
	check("replaced")
	if _, err := f.svc.SaveTemplate(ctx, "k", "", "", []byte(noTouserBody)); err != nil {
		t.Fatal(err)
	}
	check("replaced with lint errors")
	if err := f.svc.DeleteTemplate(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	check("deleted")
}
