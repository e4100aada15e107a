package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/megasend/megasend/apikey"
	"github.com/megasend/megasend/campaign"
	"github.com/megasend/megasend/server"
	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/wechat"
	"github.com/megasend/megasend/wechat/wechattest"
)

// fixture is `serve` in-process: the API and the pages over a fresh
// ledger, with keys for accounts "a" and "b" (both served) and one for an
// account the server does not send for, and the template "order".
type fixture struct {
	t    testing.TB
	db   *store.DB
	svc  *campaign.Service
	keys *apikey.Keys
	srv  *server.Server
	wx   *wechattest.Server
	ts   *httptest.Server // the server on loopback, for a browser or a client with cookies

	keyA, keyB, keyOut string
}

func newFixture(t testing.TB, wx wechattest.Options) *fixture {
	t.Helper()
	f := &fixture{t: t}
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f.db = db
	f.svc = campaign.New(db, store.Owner(os.Getpid(), "test"), nil)
	body := fmt.Sprintf(`{"touser":"${openid}","template_id":"%s","data":{"keyword1":{"value":"${name}"}}}`,
		wechattest.DefaultTemplates()[0].TemplateID)
	if err := db.PutTemplate(ctx, store.Template{Key: "order", Title: "order", Body: []byte(body)}); err != nil {
		t.Fatal(err)
	}
	f.keys = apikey.NewKeys(db)
	for _, k := range []struct {
		name, account string
		dst           *string
	}{{"ka", "a", &f.keyA}, {"kb", "b", &f.keyB}, {"kout", "elsewhere", &f.keyOut}} {
		if *k.dst, err = f.keys.Add(ctx, k.name, k.account); err != nil {
			t.Fatal(err)
		}
	}
	f.wx = wechattest.NewServer(wx)
	t.Cleanup(f.wx.Close)
	f.srv, err = server.New(server.Config{Service: f.svc, Keys: f.keys, DB: db, SpoolDir: dir,
		Accounts: map[string]server.Account{"a": {}, "b": {}}})
	if err != nil {
		t.Fatal(err)
	}
	f.ts = httptest.NewServer(f.srv)
	t.Cleanup(f.ts.Close)
	return f
}

// startRunner sends account a's batches until the test ends, at most
// rate a second (0: as fast as the simulator answers).
func (f *fixture) startRunner(rate float64) {
	f.t.Helper()
	c, err := wechat.New(wechat.Config{AppID: wechattest.DefaultAppID, AppSecret: wechattest.DefaultAppSecret,
		BaseURL: f.wx.URL, MaxConns: 4, Cache: f.db})
	if err != nil {
		f.t.Fatal(err)
	}
	r := f.svc.NewRunner("a", campaign.RunOptions{Client: c, Concurrency: 2, Rate: rate})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := r.Run(ctx); err != nil {
			f.t.Errorf("runner: %v", err)
		}
	})
	f.t.Cleanup(func() { cancel(); wg.Wait() })
}

// openid is the n-th well-formed test openid (28 characters).
func openid(n int) string { return fmt.Sprintf("oTest%023d", n) }

// createBatch creates batch name of n recipients through the API with
// key; their names are Chinese, as real variables often are.
func (f *fixture) createBatch(key, name string, n int) {
	f.t.Helper()
	var b strings.Builder
	b.WriteString("openid,name\n")
	for i := range n {
		fmt.Fprintf(&b, "%s,张伟 %d\n", openid(i), i)
	}
	req := httptest.NewRequest("POST", "/v1/batches?name="+name+"&template=order", strings.NewReader(b.String()))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "text/csv")
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, req)
	if w.Code != http.StatusCreated {
		f.t.Fatalf("create batch %s: %d %s", name, w.Code, w.Body)
	}
}

// client is a browser without a script: a cookie jar that does not follow
// redirects, so that a test sees each answer.
type client struct {
	t   testing.TB
	f   *fixture
	jar *cookiejar.Jar
	hc  *http.Client
}

func (f *fixture) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: f.t, f: f, jar: jar, hc: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// answer is a response read whole.
type answer struct {
	*http.Response
	body string
}

func (c *client) do(method, path string, form url.Values, hdr ...string) answer {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.f.ts.URL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return answer{res, string(b)}
}

// signIn signs in with key and returns the session's CSRF token, read off
// the batches page as a browser would.
func (c *client) signIn(key string) string {
	c.t.Helper()
	a := c.do("POST", "/signin", url.Values{"key": {key}, "next": {"/"}})
	if a.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("sign in: %d %s", a.StatusCode, a.body)
	}
	return c.csrf("/")
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token of the page at path.
func (c *client) csrf(path string) string {
	c.t.Helper()
	a := c.do("GET", path, nil)
	m := csrfInput.FindStringSubmatch(a.body)
	if a.StatusCode != http.StatusOK || m == nil {
		c.t.Fatalf("GET %s: %d, no CSRF token: %s", path, a.StatusCode, a.body)
	}
	return m[1]
}

// status returns batch name's status in the ledger.
func (f *fixture) status(name string) store.Batch {
	f.t.Helper()
	b, err := f.svc.Find(context.Background(), name)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

// hold returns what the service holds batch name for ("" if nothing).
func (f *fixture) hold(name string) string {
	f.t.Helper()
	sched, _, err := f.svc.Schedule(context.Background(), f.status(name))
	if err != nil {
		f.t.Fatal(err)
	}
	return sched.Hold
}

// await polls cond until it holds, or fails the test after d.
func await(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
