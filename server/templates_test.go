package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/wechat/wechattest"
)

// A template body with one lint warning (color is ignored by WeChat).
const warnBody = `{"touser":"${openid}","template_id":"T","data":{"keyword1":{"value":"${x}","color":"#ff0000"}}}`

func putBody(title, body string) string {
	return fmt.Sprintf(`{"title":%q,"body":%s}`, title, body)
}

func decodeTemplate(t testing.TB, b []byte) templateDoc {
	t.Helper()
	var d templateDoc
	if err := json.Unmarshal(b, &d); err != nil || d.Key == "" {
		t.Fatalf("not a template (%v): %s", err, b)
	}
	return d
}

// TestTemplates_CRUD: put creates (201) then replaces (200), with lint's
// warnings; get answers the body as a JSON object; list counts lint's
// findings; delete answers 204, then 404. Every account's key sees the same
// templates.
func TestTemplates_CRUD(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	w := f.do("PUT", "/v1/templates/notice", f.keyA, "application/json", putBody("通知", warnBody))
	want(t, w, http.StatusCreated)
	if loc := w.Header().Get("Location"); loc != "/v1/templates/notice" {
		t.Errorf("Location %q", loc)
	}
	d := decodeTemplate(t, w.Body.Bytes())
	if d.Title != "通知" || d.Lint != (lintCountsDoc{Warnings: 1}) || len(d.Problems) != 1 ||
		d.Problems[0].Severity != "warning" || d.Problems[0].Field != "data.keyword1.color" {
		t.Errorf("created: %+v", d)
	}

	w = f.do("GET", "/v1/templates/notice", f.keyB, "", "")
	want(t, w, http.StatusOK)
	got := decodeTemplate(t, w.Body.Bytes())
	var compact bytes.Buffer
	if err := json.Compact(&compact, got.Body); err != nil || compact.String() != warnBody {
		t.Errorf("body %s (%v); want %s", got.Body, err, warnBody)
	}
	if got.CreatedAt.IsZero() || got.UpdatedAt.Before(got.CreatedAt) {
		t.Errorf("times %v, %v", got.CreatedAt, got.UpdatedAt)
	}

	body := `{"touser":"${openid}","template_id":"T2","data":{"keyword1":{"value":"${y}"}}}`
	w = f.do("PUT", "/v1/templates/notice", f.keyB, "application/json; charset=utf-8", putBody("新", body))
	want(t, w, http.StatusOK)
	if d := decodeTemplate(t, w.Body.Bytes()); d.Title != "新" || d.Lint != (lintCountsDoc{}) || len(d.Problems) != 0 || !d.CreatedAt.Equal(got.CreatedAt) {
		t.Errorf("replaced: %+v", d)
	}

	w = f.do("GET", "/v1/templates", f.keyA, "", "")
	want(t, w, http.StatusOK)
	var list templateListDoc
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil || len(list.Templates) != 2 ||
		list.Templates[0].Key != "notice" || list.Templates[0].Title != "新" || list.Templates[1].Key != "order" {
		t.Errorf("list: %s", w.Body)
	}

	want(t, f.do("DELETE", "/v1/templates/notice", f.keyA, "", ""), http.StatusNoContent)
	for _, method := range []string{"GET", "DELETE"} {
		w := f.do(method, "/v1/templates/notice", f.keyA, "", "")
		want(t, w, http.StatusNotFound)
		if e := apiError(t, w); e.Code != "not_found" || e.Field != "template" {
			t.Errorf("%s after delete: %+v", method, e)
		}
	}
}

// TestTemplates_PutRefused: a put that cannot be stored is refused with
// the field (and lint's problems), and stores nothing: the template there
// before is as it was, a new key is not created.
func TestTemplates_PutRefused(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	before, err := f.svc.GetTemplate(t.Context(), "order")
	if err != nil {
		t.Fatal(err)
	}
	noTouser := `{"template_id":"T","data":{"keyword1":{"value":"x"}}}`
	for _, c := range []struct {
		name, key, ctype, body string
		status                 int
		field                  string
	}{
		{"LintError", "order", "application/json", putBody("t", noTouser), 422, "body"},
		{"LintErrorNewKey", "fresh", "application/json", putBody("t", noTouser), 422, "body"},
		{"FixedTouser", "order", "application/json", putBody("t", `{"touser":"oFIXED0000000000000000000000","template_id":"T","data":{}}`), 422, "body"},
		{"Placeholder", "order", "application/json", putBody("t", `{"touser":"${a b}"}`), 422, "body"},
		{"NoBody", "order", "application/json", `{"title":"t"}`, 422, "body"},
		{"EmptyRequest", "order", "application/json", ``, 422, "body"},
		{"BodyNotObject", "order", "application/json", `{"body":"{}"}`, 422, "body"},
		{"BodyNull", "order", "application/json", `{"body":null}`, 422, "body"},
		{"KeyLikeAFile", "x.json", "application/json", putBody("t", warnBody), 422, "key"},
		{"Malformed", "order", "application/json", `{"body":{`, 400, ""},
		{"UnknownField", "order", "application/json", `{"body":{},"tittle":"x"}`, 400, ""},
		{"NotJSON", "order", "text/plain", putBody("t", warnBody), 400, "Content-Type"},
		{"TooBig", "order", "application/json", putBody(strings.Repeat("x", 70<<10), warnBody), 413, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := f.do("PUT", "/v1/templates/"+c.key, f.keyA, c.ctype, c.body)
			want(t, w, c.status)
			e := apiError(t, w)
			if e.Field != c.field {
				t.Errorf("field %q, want %q: %+v", e.Field, c.field, e)
			}
			if strings.HasPrefix(c.name, "LintError") || c.name == "FixedTouser" {
				if len(e.Problems) == 0 || e.Problems[0].Field != "touser" || e.Problems[0].File != c.key {
					t.Errorf("problems %+v", e.Problems)
				}
			}
		})
	}
	after, err := f.svc.GetTemplate(t.Context(), "order")
	if err != nil || string(after.Body) != string(before.Body) || after.Title != before.Title || !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Errorf("order after refused puts: %+v, %v", after, err)
	}
	want(t, f.do("GET", "/v1/templates/fresh", f.keyA, "", ""), http.StatusNotFound)
	want(t, f.do("DELETE", "/v1/templates/order", f.keyA, "text/plain", "x"), http.StatusBadRequest)
	if _, err := f.svc.GetTemplate(t.Context(), "order"); err != nil {
		t.Errorf("a refused delete removed it: %v", err)
	}
}

// TestTemplates_BatchKeepsSnapshot: a batch created before its template is
// replaced, then deleted, is sent with the template it was created with.
func TestTemplates_BatchKeepsSnapshot(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	first, second := wechattest.DefaultTemplates()[0].TemplateID, wechattest.DefaultTemplates()[1].TemplateID
	want(t, f.do("POST", "/v1/batches?name=snap&template=order", f.keyA, "text/csv", usersCSV(3)), http.StatusCreated)
	body := fmt.Sprintf(`{"touser":"${openid}","template_id":"%s","data":{"keyword1":{"value":"${name}"}}}`, second)
	want(t, f.do("PUT", "/v1/templates/order", f.keyA, "application/json", putBody("", body)), http.StatusOK)
	want(t, f.do("DELETE", "/v1/templates/order", f.keyA, "", ""), http.StatusNoContent)

	f.startRunner()
	d := f.await("snap", "done", func(d batchDoc) bool { return d.Batch.Status == store.StatusDone })
	if d.Counts.Sent != 3 || d.Batch.TemplateID != first {
		t.Errorf("done: %+v, template_id %s", d.Counts, d.Batch.TemplateID)
	}
	for _, dl := range f.wx.Deliveries() {
		if dl.TemplateID != first {
			t.Errorf("%s sent with template %s; the batch was created with %s", dl.OpenID, dl.TemplateID, first)
		}
	}
}
