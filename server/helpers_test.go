package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/megasend/megasend/apikey"
	"github.com/megasend/megasend/campaign"
	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/wechat"
	"github.com/megasend/megasend/wechat/wechattest"
)

// The callback configuration of the fixture's accounts: "a" in plain mode,
// "s" in safe mode, "b" without a callback.
const (
	tokenA = "tokenOfAccountA"
	tokenS = "tokenOfAccountS"
	aesKey = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
)

// fixture is a server over a fresh ledger, with keys for accounts "a" and
// "b" and the template "order" stored.
type fixture struct {
	t      testing.TB
	dir    string
	db     *store.DB
	svc    *campaign.Service
	srv    *Server
	wx     *wechattest.Server
	keyA   string
	keyB   string
	keyOut string // a key of an account the server does not serve
}

// fixtureOptions shape a fixture.
type fixtureOptions struct {
	maxBody  int64
	bodyIdle time.Duration
	wx       wechattest.Options
}

func newFixture(t testing.TB, o fixtureOptions) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: t.TempDir()}
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(f.dir, "m.db"))
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
	keys := apikey.NewKeys(db)
	for _, k := range []struct {
		name, account string
		dst           *string
	}{{"ka", "a", &f.keyA}, {"kb", "b", &f.keyB}, {"kout", "elsewhere", &f.keyOut}} {
		if *k.dst, err = keys.Add(ctx, k.name, k.account); err != nil {
			t.Fatal(err)
		}
	}
	f.wx = wechattest.NewServer(o.wx)
	t.Cleanup(f.wx.Close)
	// Account a pages its followers (batches that name an audience).
	followers, err := wechat.New(wechat.Config{AppID: wechattest.DefaultAppID, AppSecret: wechattest.DefaultAppSecret,
		BaseURL: f.wx.URL, MaxConns: 2, Cache: db})
	if err != nil {
		t.Fatal(err)
	}
	f.srv, err = New(Config{
		Service: f.svc, Keys: keys, DB: db, MaxBody: o.maxBody, BodyIdle: o.bodyIdle, SpoolDir: f.dir,
		Accounts: map[string]Account{
			"a": {Callback: wechat.CallbackConfig{Token: tokenA}, Followers: followers},
			"b": {},
			"s": {Callback: wechat.CallbackConfig{Token: tokenS, EncodingAESKey: aesKey, AppID: wechattest.DefaultAppID}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// startRunner sends account a's batches until the test ends.
func (f *fixture) startRunner() {
	f.t.Helper()
	c, err := wechat.New(wechat.Config{AppID: wechattest.DefaultAppID, AppSecret: wechattest.DefaultAppSecret,
		BaseURL: f.wx.URL, MaxConns: 4, Cache: f.db})
	if err != nil {
		f.t.Fatal(err)
	}
	r := f.svc.NewRunner("a", campaign.RunOptions{Client: c, Concurrency: 4})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := r.Run(ctx); err != nil {
			f.t.Errorf("runner: %v", err)
		}
	})
	f.t.Cleanup(func() { cancel(); wg.Wait() })
}

// do serves one request; key "" sends none.
func (f *fixture) do(method, path, key, ctype, body string) *httptest.ResponseRecorder {
	f.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, req)
	return w
}

// want fails the test unless w has status.
func want(t testing.TB, w *httptest.ResponseRecorder, status int) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
	}
}

// apiError decodes an error answer, failing the test if it is not one.
func apiError(t testing.TB, w *httptest.ResponseRecorder) errorDoc {
	t.Helper()
	var b errorBody
	if err := json.Unmarshal(w.Body.Bytes(), &b); err != nil || b.Error.Code == "" {
		t.Fatalf("not a JSON error (%v): %s", err, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error with Content-Type %q", ct)
	}
	return b.Error
}

// batch decodes a batch answer.
func decodeBatch(t testing.TB, w *httptest.ResponseRecorder) batchDoc {
	t.Helper()
	var d batchDoc
	if err := json.Unmarshal(w.Body.Bytes(), &d); err != nil || d.Report == nil {
		t.Fatalf("not a batch (%v): %s", err, w.Body)
	}
	return d
}

// openid is the n-th well-formed test openid (28 characters).
func openid(n int) string { return fmt.Sprintf("oTest%023d", n) }

// usersCSV is a CSV of n recipients for template "order".
func usersCSV(n int) string {
	var b strings.Builder
	b.WriteString("openid,name\n")
	for i := range n {
		fmt.Fprintf(&b, "%s,name %d\n", openid(i), i)
	}
	return b.String()
}

// await polls batch name through the API until cond holds.
func (f *fixture) await(name, what string, cond func(batchDoc) bool) batchDoc {
	f.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		w := f.do("GET", "/v1/batches/"+name, f.keyA, "", "")
		want(f.t, w, http.StatusOK)
		d := decodeBatch(f.t, w)
		if cond(d) {
			return d
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("batch %s never %s: %s", name, what, w.Body)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// spoolLeft lists the uploads left in the spool directory.
func (f *fixture) spoolLeft() []string {
	m, _ := filepath.Glob(filepath.Join(f.dir, ".megasend-upload-*"))
	return m
}

var _ io.Reader = (*idleReader)(nil)

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

// batches counts the batches in the ledger, of every account.
func (f *fixture) batches(t *testing.T) int {
	t.Helper()
	l, err := f.svc.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(l)
}
