package campaign

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/template"
	"github.com/megasend/megasend/wechat"
	"github.com/megasend/megasend/wechat/wechattest"
)

// body is a template the sandbox accepts: its template_id is one of the
// simulator's own.
const body = `{"touser":"${openid}","template_id":"%s","data":{"keyword1":{"value":"${name}"}}}`

// sandboxTemplateID is a template_id every simulator lists.
func sandboxTemplateID() string { return wechattest.DefaultTemplates()[0].TemplateID }

// newTemplate parses the test template with template_id id.
func newTemplate(t testing.TB, key, id string) *template.Template {
	t.Helper()
	tmpl, err := template.Parse(key, "", []byte(fmt.Sprintf(body, id)))
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// openid is the n-th well-formed test openid (28 characters).
func openid(n int) string { return fmt.Sprintf("oTest%023d", n) }

// writeUsers writes a CSV of n recipients and returns its path.
func writeUsers(t testing.TB, dir, name string, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("openid,name\n")
	for i := range n {
		fmt.Fprintf(&b, "%s,用户%d\n", openid(i), i)
	}
	return writeFile(t, dir, name, b.String())
}

func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// fixture is a database, the lifecycle over it, and a directory for files.
type fixture struct {
	t   *testing.T
	dir string
	db  *store.DB
	svc *Service
}

// owner is this test process as a lock holder: a live pid, so another
// owner's Lock is refused while it holds a batch.
func owner(host string) string { return store.Owner(os.Getpid(), host) }

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(context.Background(), filepath.Join(dir, "megasend.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &fixture{t: t, dir: dir, db: db, svc: New(db, owner("test"), nil)}
}

// source returns the file at path as a Source.
func (f *fixture) source(path string) Source {
	f.t.Helper()
	src, err := FileSource(path)
	if err != nil {
		f.t.Fatal(err)
	}
	return src
}

// create creates batch name from n users with tmpl, and fails the test on
// an error.
func (f *fixture) create(name string, tmpl *template.Template, n int) *Batch {
	f.t.Helper()
	users := writeUsers(f.t, f.dir, name+".csv", n)
	b, _, err := f.svc.Create(context.Background(), Spec{Name: name, Template: tmpl, TemplateRef: tmpl.Key, Source: f.source(users)})
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

// client is a WeChat client of srv, caching its token in the fixture's
// database as the CLI's does.
func (f *fixture) client(srv *wechattest.Server) *wechat.Client {
	f.t.Helper()
	c, err := wechat.New(wechat.Config{AppID: wechattest.DefaultAppID, AppSecret: wechattest.DefaultAppSecret,
		BaseURL: srv.URL, MaxConns: 4, Cache: f.db})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// delivered counts srv's deliveries by openid and fails the test on any
// openid delivered twice.
func delivered(t *testing.T, srvs ...*wechattest.Server) int {
	t.Helper()
	seen := map[string]bool{}
	for _, srv := range srvs {
		for _, d := range srv.Deliveries() {
			if seen[d.OpenID] {
				t.Errorf("%s delivered twice", d.OpenID)
			}
			seen[d.OpenID] = true
		}
	}
	return len(seen)
}

func parseTemplate(key, body string) (*template.Template, error) {
	return template.Parse(key, "", []byte(body))
}
