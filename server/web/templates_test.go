package web_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/wechat/wechattest"
)

// TestTemplatesPage: the stored templates, read-only, with lint's findings
// for each (a clean one, and one whose fixed touser lint refuses); signed
// out, a redirect to sign in.
func TestTemplatesPage(t *testing.T) {
	f := newFixture(t, wechattest.Options{})
	bad := `{"touser":"oFixed0000000000000000000000","template_id":"x","data":{"keyword1":{"value":"${name}"}}}`
	if err := f.db.PutTemplate(context.Background(), store.Template{Key: "fixed", Title: "固定收件人", Body: []byte(bad)}); err != nil {
		t.Fatal(err)
	}
	c := f.client()
	if a := c.do("GET", "/templates", nil); a.StatusCode != http.StatusSeeOther {
		t.Fatalf("signed out: %d", a.StatusCode)
	}
	c.signIn(f.keyA)
	a := c.do("GET", "/templates", nil)
	if a.StatusCode != http.StatusOK {
		t.Fatalf("templates: %d %s", a.StatusCode, a.body)
	}
	order := a.body[strings.Index(a.body, `id="tmpl-order"`):]
	order = order[:strings.Index(order, "</section>")]
	if !strings.Contains(order, "lint clean") {
		t.Errorf("template order not shown as lint clean:\n%s", order)
	}
	fixed := a.body[strings.Index(a.body, `id="tmpl-fixed"`):]
	fixed = fixed[:strings.Index(fixed, "</section>")]
	if !strings.Contains(fixed, "lint error") || !strings.Contains(fixed, "固定收件人") || !strings.Contains(fixed, "<td>error</td>") {
		t.Errorf("template fixed not shown with its lint error:\n%s", fixed)
	}
	if regexp.MustCompile(`action="[^"]*templates`).MatchString(a.body) {
		t.Error("the templates page offers to change a template")
	}
}
