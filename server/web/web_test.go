package web_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/megasend/megasend/wechat/wechattest"
)

// Without a session every page sends the browser to the sign-in form,
// which comes back to the page; the JSON the pages poll answers 401; a
// POST is refused outright.
func TestSignedOutIsSentToSignIn(t *testing.T) {
	f := newFixture(t, wechattest.Options{})
	f.createBatch(f.keyA, "b1", 3)
	c := f.client()
	for _, tt := range []struct {
		method, path string
		status       int
		location     string
	}{
		{"GET", "/", http.StatusSeeOther, "/signin?next=%2F"},
		{"GET", "/batches/b1", http.StatusSeeOther, "/signin?next=%2Fbatches%2Fb1"},
		{"GET", "/batches/b1/failed.csv", http.StatusSeeOther, "/signin?next=%2Fbatches%2Fb1%2Ffailed.csv"},
		{"GET", "/messages/1", http.StatusSeeOther, "/signin?next=%2Fmessages%2F1"},
		{"GET", "/live/batches", http.StatusUnauthorized, ""},
		{"GET", "/batches/b1/live", http.StatusUnauthorized, ""},
		{"POST", "/batches/b1/pause", http.StatusForbidden, ""},
		{"POST", "/signout", http.StatusForbidden, ""},
	} {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			a := c.do(tt.method, tt.path, url.Values{})
			if a.StatusCode != tt.status || a.Header.Get("Location") != tt.location {
				t.Errorf("%d Location %q, want %d %q", a.StatusCode, a.Header.Get("Location"), tt.status, tt.location)
			}
		})
	}
	if h := f.hold("b1"); h != "" {
		t.Errorf("a signed-out POST held the batch: %q", h)
	}
	// The API keeps its JSON 404 for what is neither a route nor a page.
	if a := c.do("GET", "/nope", nil); a.StatusCode != http.StatusNotFound || !strings.Contains(a.body, `"not_found"`) {
		t.Errorf("GET /nope: %d %s", a.StatusCode, a.body)
	}
}

func TestSignIn(t *testing.T) {
	f := newFixture(t, wechattest.Options{})
	t.Run("wrong key", func(t *testing.T) {
		c := f.client()
		a := c.do("POST", "/signin", url.Values{"key": {"ms_live_not-a-key"}})
		if a.StatusCode != http.StatusUnauthorized || len(a.Cookies()) > 0 {
			t.Fatalf("%d cookies %v", a.StatusCode, a.Cookies())
		}
		if !strings.Contains(a.body, "was not accepted") || strings.Contains(a.body, "not-a-key") {
			t.Errorf("the form does not say why, or shows the key: %s", a.body)
		}
	})
	t.Run("account not served", func(t *testing.T) {
		a := f.client().do("POST", "/signin", url.Values{"key": {f.keyOut}})
		if a.StatusCode != http.StatusForbidden || len(a.Cookies()) > 0 || !strings.Contains(a.body, "elsewhere") {
			t.Fatalf("%d cookies %v: %s", a.StatusCode, a.Cookies(), a.body)
		}
	})
	t.Run("cookie", func(t *testing.T) {
		for _, tt := range []struct {
			name   string
			hdr    []string
			secure bool
		}{{"plain http", nil, false}, {"behind a TLS proxy", []string{"X-Forwarded-Proto", "https"}, true}} {
			a := f.client().do("POST", "/signin", url.Values{"key": {f.keyA}, "next": {"/batches/x"}}, tt.hdr...)
			if a.StatusCode != http.StatusSeeOther || a.Header.Get("Location") != "/batches/x" {
				t.Fatalf("%s: %d Location %q", tt.name, a.StatusCode, a.Header.Get("Location"))
			}
			cs := a.Cookies()
			if len(cs) != 1 {
				t.Fatalf("%s: cookies %v", tt.name, cs)
			}
			ck := cs[0]
			if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Secure != tt.secure || len(ck.Value) < 40 ||
				strings.Contains(ck.Value, f.keyA) {
				t.Errorf("%s: cookie %+v", tt.name, ck)
			}
		}
	})
	t.Run("from another site", func(t *testing.T) {
		a := f.client().do("POST", "/signin", url.Values{"key": {f.keyA}}, "Origin", "https://evil.example")
		if a.StatusCode != http.StatusForbidden || len(a.Cookies()) > 0 {
			t.Fatalf("%d cookies %v", a.StatusCode, a.Cookies())
		}
	})
	t.Run("next stays on this site", func(t *testing.T) {
		for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"} {
			a := f.client().do("POST", "/signin", url.Values{"key": {f.keyA}, "next": {next}})
			if loc := a.Header.Get("Location"); loc != "/" {
				t.Errorf("next %q: Location %q, want /", next, loc)
			}
		}
	})
}

// A form that changes something is refused without the session's CSRF
// token, with another's, or from another origin; with it, it works.
func TestCSRF(t *testing.T) {
	f := newFixture(t, wechattest.Options{})
	f.createBatch(f.keyA, "b1", 3)
	c := f.client()
	token := c.signIn(f.keyA)
	other := f.client().signIn(f.keyA) // a second session's token
	for _, tt := range []struct {
		name string
		form url.Values
		hdr  []string
	}{
		{"no token", url.Values{}, nil},
		{"empty token", url.Values{"csrf": {""}}, nil},
		{"another session's token", url.Values{"csrf": {other}}, nil},
		{"another origin", url.Values{"csrf": {token}}, []string{"Origin", "https://evil.example"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := c.do("POST", "/batches/b1/pause", tt.form, tt.hdr...)
			if a.StatusCode != http.StatusForbidden || !strings.Contains(a.body, "CSRF") {
				t.Errorf("%d: %s", a.StatusCode, a.body)
			}
			if h := f.hold("b1"); h != "" {
				t.Fatalf("the refused form paused the batch: %q", h)
			}
		})
	}
	a := c.do("POST", "/batches/b1/pause", url.Values{"csrf": {token}}, "Origin", f.ts.URL)
	if a.StatusCode != http.StatusSeeOther || a.Header.Get("Location") != "/batches/b1?done=pause" {
		t.Fatalf("pause with the token: %d %q %s", a.StatusCode, a.Header.Get("Location"), a.body)
	}
	if h := f.hold("b1"); h == "" {
		t.Error("pause with the token did not hold the batch")
	}
	if a := c.do("POST", "/signout", url.Values{}); a.StatusCode != http.StatusForbidden {
		t.Errorf("sign out without the token: %d", a.StatusCode)
	}
}

// Another account's batch is not found, by every page and button, as one
// that does not exist; the list shows only the session's account.
func TestOtherAccountsBatchIsNotFound(t *testing.T) {
	f := newFixture(t, wechattest.Options{})
	f.createBatch(f.keyA, "mine", 2)
	f.createBatch(f.keyB, "theirs", 2)
	c := f.client()
	token := c.signIn(f.keyA)
	list := c.do("GET", "/", nil)
	if !strings.Contains(list.body, "mine") || strings.Contains(list.body, "theirs") {
		t.Errorf("the list shows another account's batch, or not its own: %s", list.body)
	}
	if live := c.do("GET", "/live/batches", nil); strings.Contains(live.body, "theirs") || !strings.Contains(live.body, `"mine"`) {
		t.Errorf("live list: %s", live.body)
	}
	for _, tt := range []struct{ method, path string }{
		{"GET", "/batches/theirs"}, {"GET", "/batches/theirs/live"}, {"GET", "/batches/theirs/failed.csv"},
		{"POST", "/batches/theirs/pause"}, {"POST", "/batches/theirs/cancel"}, {"POST", "/batches/theirs/retry"},
		{"GET", "/batches/nosuch"},
	} {
		a := c.do(tt.method, tt.path, url.Values{"csrf": {token}})
		if a.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s: %d, want 404", tt.method, tt.path, a.StatusCode)
		}
	}
	if h := f.hold("theirs"); h != "" {
		t.Errorf("another account's batch held: %q", h)
	}
	if st := f.status("theirs").Status; st == "done" {
		t.Errorf("another account's batch cancelled")
	}
}

func TestSignOut(t *testing.T) {
	f := newFixture(t, wechattest.Options{})
	c := f.client()
	token := c.signIn(f.keyA)
	u, _ := url.Parse(f.ts.URL)
	old := c.jar.Cookies(u)
	a := c.do("POST", "/signout", url.Values{"csrf": {token}})
	if a.StatusCode != http.StatusSeeOther || a.Header.Get("Location") != "/signin" {
		t.Fatalf("sign out: %d %q", a.StatusCode, a.Header.Get("Location"))
	}
	if len(c.jar.Cookies(u)) != 0 {
		t.Errorf("the cookie is still set: %v", c.jar.Cookies(u))
	}
	// The old cookie, kept by someone, no longer opens anything.
	c.jar.SetCookies(u, old)
	if a := c.do("GET", "/", nil); a.StatusCode != http.StatusSeeOther {
		t.Errorf("the old session still works: %d", a.StatusCode)
	}
}

// Removing the key ends its sessions at the next request.
func TestRemovedKeyEndsSession(t *testing.T) {
	f := newFixture(t, wechattest.Options{})
	c := f.client()
	c.signIn(f.keyA)
	if err := f.keys.Remove(context.Background(), "ka"); err != nil {
		t.Fatal(err)
	}
	if a := c.do("GET", "/", nil); a.StatusCode != http.StatusSeeOther {
		t.Errorf("a removed key's session still works: %d", a.StatusCode)
	}
}

// The pages are strict about what they load and where they may be shown.
func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t, wechattest.Options{})
	a := f.client().do("GET", "/signin", nil)
	for k, want := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"} {
		if got := a.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if csp := a.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
}

// The buttons call the lifecycle and say what happened; a refusal (a done
// batch cannot be paused) is shown on the page, 409, not an error page.
func TestActions(t *testing.T) {
	f := newFixture(t, wechattest.Options{})
	f.createBatch(f.keyA, "b1", 4)
	c := f.client()
	token := c.signIn(f.keyA)
	post := func(action string) answer {
		return c.do("POST", "/batches/b1/"+action, url.Values{"csrf": {token}})
	}
	if a := post("pause"); a.StatusCode != http.StatusSeeOther {
		t.Fatalf("pause: %d %s", a.StatusCode, a.body)
	}
	if page := c.do("GET", "/batches/b1?done=pause", nil); !strings.Contains(page.body, "Pausing:") || !strings.Contains(page.body, `id="resume"`) {
		t.Errorf("the paused batch's page has no notice or no Resume button: %s", page.body)
	}
	if a := post("resume"); a.StatusCode != http.StatusSeeOther || f.hold("b1") != "" {
		t.Fatalf("resume: %d hold %q", a.StatusCode, f.hold("b1"))
	}
	if a := post("cancel"); a.StatusCode != http.StatusSeeOther || f.status("b1").Status != "done" {
		t.Fatalf("cancel: %d status %q", a.StatusCode, f.status("b1").Status)
	}
	a := post("pause")
	if a.StatusCode != http.StatusConflict || !strings.Contains(a.body, "is done: nothing to pause") {
		t.Errorf("pause a done batch: %d %s", a.StatusCode, a.body)
	}
	if a := post("explode"); a.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown action: %d", a.StatusCode)
	}
	// Nothing failed: the export is its header alone, as a file.
	ex := c.do("GET", "/batches/b1/failed.csv", nil)
	if ex.StatusCode != http.StatusOK || ex.body != "openid,errcode,errmsg\n" ||
		!strings.HasPrefix(ex.Header.Get("Content-Disposition"), `attachment; filename="b1-failed.csv"`) {
		t.Errorf("export: %d %q %q", ex.StatusCode, ex.Header.Get("Content-Disposition"), ex.body)
	}
	if ex := c.do("GET", "/batches/b1/failed.csv?excel=1", nil); !strings.HasPrefix(ex.body, "\ufeffopenid,") {
		t.Errorf("export for Excel has no byte order mark: %q", ex.body)
	}
}

// The live JSON of a page nothing changed has the shape the page was
// drawn in: otherwise the script would redraw it every second.
func TestLiveShapeMatchesPage(t *testing.T) {
	f := newFixture(t, wechattest.Options{})
	f.createBatch(f.keyA, "b1", 2)
	c := f.client()
	c.signIn(f.keyA)
	page := c.do("GET", "/batches/b1", nil)
	m := regexp.MustCompile(`data-shape="([^"]*)"`).FindStringSubmatch(page.body)
	if m == nil || m[1] == "" {
		t.Fatalf("the page has no shape: %s", page.body)
	}
	var live struct{ Shape string }
	if err := json.Unmarshal([]byte(c.do("GET", "/batches/b1/live", nil).body), &live); err != nil {
		t.Fatal(err)
	}
	if want := html.UnescapeString(m[1]); live.Shape != want {
		t.Errorf("live shape %q, page %q", live.Shape, want)
	}
}

// A batch's page says the kind of message it sends and why recipients
// were skipped: here a batch cancelled before it was sent.
func TestBatchPageKindAndSkipped(t *testing.T) {
	f := newFixture(t, wechattest.Options{})
	f.createBatch(f.keyA, "b1", 3)
	c := f.client()
	token := c.signIn(f.keyA)
	if a := c.do("POST", "/batches/b1/cancel", url.Values{"csrf": {token}}); a.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel: %d %s", a.StatusCode, a.body)
	}
	page := c.do("GET", "/batches/b1", nil).body
	for _, want := range []string{`id="kind">template<`, `id="skipped-why">Skipped: cancelled 3<`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page has no %s:\n%s", want, page)
		}
	}
	if strings.Contains(page, `id="sent-by-kind"`) {
		t.Error("a batch of one kind shows its sends by kind")
	}
}
