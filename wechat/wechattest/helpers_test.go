package wechattest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

// newFakeClock starts at a fixed instant: 10:00 in China on a weekday, so
// that tests have hours before the quota day rolls over.
func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2024, 5, 6, 10, 0, 0, 0, chinaTime)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// mustServer starts a server closed at the end of the test.
func mustServer(tb testing.TB, opts Options) *Server {
	tb.Helper()
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	srv := NewServer(opts)
	tb.Cleanup(srv.Close)
	return srv
}

// reply is every field any endpoint answers with that tests look at.
type reply struct {
	Status      int    `json:"-"`
	ContentType string `json:"-"`
	Body        string `json:"-"`

	Errcode     int    `json:"errcode"`
	Errmsg      string `json:"errmsg"`
	MsgID       int64  `json:"msgid"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
}

// do sends a request and decodes a JSON answer; non-JSON bodies are kept in
// Body only.
func do(tb testing.TB, c *http.Client, method, u, body string) reply {
	tb.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	r := reply{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: string(b)}
	if strings.HasPrefix(r.ContentType, "application/json") {
		if err := json.Unmarshal(b, &r); err != nil {
			tb.Fatalf("decode %s: %v", b, err)
		}
	}
	return r
}

// classicToken fetches a /cgi-bin/token with the default credentials.
func classicToken(tb testing.TB, srv *Server) reply {
	tb.Helper()
	q := url.Values{"grant_type": {"client_credential"}, "appid": {DefaultAppID}, "secret": {DefaultAppSecret}}
	return do(tb, srv.Client(), "GET", srv.URL+"/cgi-bin/token?"+q.Encode(), "")
}

// stableToken fetches a stable token with the default credentials.
func stableToken(tb testing.TB, srv *Server, force bool) reply {
	tb.Helper()
	body := mustJSON(tb, map[string]any{
		"grant_type": "client_credential", "appid": DefaultAppID,
		"secret": DefaultAppSecret, "force_refresh": force,
	})
	return do(tb, srv.Client(), "POST", srv.URL+"/cgi-bin/stable_token", body)
}

// mustToken returns a valid stable token.
func mustToken(tb testing.TB, srv *Server) string {
	tb.Helper()
	r := stableToken(tb, srv, false)
	if r.AccessToken == "" {
		tb.Fatalf("stable_token: %s", r.Body)
	}
	return r.AccessToken
}

// post sends a JSON body to an API path with an access token.
func post(tb testing.TB, srv *Server, path, tok, body string) reply {
	tb.Helper()
	return do(tb, srv.Client(), "POST", srv.URL+path+"?access_token="+url.QueryEscape(tok), body)
}

// send posts a template message body.
func send(tb testing.TB, srv *Server, tok, body string) reply {
	tb.Helper()
	return post(tb, srv, "/cgi-bin/message/template/send", tok, body)
}

// Test fixtures.
const (
	openID1     = "oAbCdEfGhIjKlMnOpQrStUvWx_01"
	openID2     = "oAbCdEfGhIjKlMnOpQrStUvWx_02"
	legacyTmpl  = "mf_E7on5Vh9SIIdieRcvRSv7yFCR0-wFhtdfeA0XY3g"
	categoryTpl = "C3rh1zIuKAsqcJ5uMMsN8JqgRqTVtEm0WISFx__z9fg"
)

// msg builds a legacy template message; edit rewrites it before encoding.
func msg(tb testing.TB, to, clientMsgID string, edit func(m map[string]any)) string {
	tb.Helper()
	m := map[string]any{
		"touser":        to,
		"template_id":   legacyTmpl,
		"client_msg_id": clientMsgID,
		"data": map[string]any{
			"keyword1": map[string]string{"value": "巧克力"},
			"keyword2": map[string]string{"value": "39.8元"},
			"keyword3": map[string]string{"value": "2014年9月22日"},
		},
	}
	if edit != nil {
		edit(m)
	}
	return mustJSON(tb, m)
}

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		tb.Fatal(err)
	}
	return buf.String()
}

// ridSuffix is WeChat's current request-id suffix.
var ridSuffix = regexp.MustCompile(` rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$`)

// wantError checks an error answer's full wire shape.
func wantError(tb testing.TB, r reply, code int) {
	tb.Helper()
	if r.Status != http.StatusOK {
		tb.Errorf("status = %d, want 200 (WeChat answers errors with 200)", r.Status)
	}
	if r.ContentType != contentType {
		tb.Errorf("Content-Type = %q, want %q", r.ContentType, contentType)
	}
	if r.Errcode != code {
		tb.Fatalf("errcode = %d, want %d (body %s)", r.Errcode, code, r.Body)
	}
	if !ridSuffix.MatchString(r.Errmsg) {
		tb.Errorf("errmsg %q lacks a rid suffix", r.Errmsg)
	}
}

// wantOK checks a successful template send.
func wantOK(tb testing.TB, r reply) int64 {
	tb.Helper()
	if r.Status != http.StatusOK || r.Errcode != 0 || r.Errmsg != "ok" {
		tb.Fatalf("send: status %d, body %s; want errcode 0, ok", r.Status, r.Body)
	}
	if r.MsgID <= 1<<53 {
		tb.Errorf("msgid %d is not above 2^53", r.MsgID)
	}
	return r.MsgID
}
