package wechat_test

// The contract suite: the client against the simulated WeChat API
// (wechattest), one scenario per behaviour PRODUCT.md promises. This file
// holds the shared helpers and the construction and failover tests.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/megasend/megasend/wechat"
	"github.com/megasend/megasend/wechat/wechattest"
)

// Templates the simulator always has (wechattest.DefaultTemplates).
const (
	legacyTemplate   = "mf_E7on5Vh9SIIdieRcvRSv7yFCR0-wFhtdfeA0XY3g" // first, keyword1-3, remark
	categoryTemplate = "C3rh1zIuKAsqcJ5uMMsN8JqgRqTVtEm0WISFx__z9fg" // thing1, …, phrase3, …
)

// fakeClock is a settable clock shared by a simulator (Options.Now) and a
// client (Config.Now).
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

// newFakeClock starts at 10:00 in China, hours before the quota day ends.
func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2024, 5, 6, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))}
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

// mustServer starts a simulator that is closed when the test ends.
func mustServer(tb testing.TB, opts wechattest.Options) *wechattest.Server {
	tb.Helper()
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	srv := wechattest.NewServer(opts)
	tb.Cleanup(srv.Close)
	return srv
}

// recorder captures what reached a simulator: every access_token a request
// carried and every template/send body, byte for byte.
type recorder struct {
	mu     sync.Mutex
	tokens map[string]bool
	bodies [][]byte
}

func (r *recorder) Tokens() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for t := range r.tokens {
		out = append(out, t)
	}
	return out
}

func (r *recorder) Bodies() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.bodies...)
}

// mustRecordingServer serves a simulator behind a handler that records
// requests. It returns the Sim (for knobs), its URL and the recorder.
func mustRecordingServer(tb testing.TB, opts wechattest.Options) (*wechattest.Sim, string, *recorder) {
	tb.Helper()
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	sim := wechattest.New(opts)
	rec := &recorder{tokens: make(map[string]bool)}
	url := mustServe(tb, sim, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		if tok := r.URL.Query().Get("access_token"); tok != "" {
			rec.tokens[tok] = true
		}
		rec.mu.Unlock()
		if r.URL.Path == "/cgi-bin/message/template/send" {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			rec.mu.Lock()
			rec.bodies = append(rec.bodies, body)
			rec.mu.Unlock()
		}
		sim.ServeHTTP(w, r)
	}))
	return sim, url, rec
}

// mustServe serves h, a handler in front of sim, on a loopback port until
// the test ends, and returns its URL.
func mustServe(tb testing.TB, sim *wechattest.Sim, h http.Handler) string {
	tb.Helper()
	ts := httptest.NewServer(h)
	tb.Cleanup(func() {
		sim.Close() // release held answers first, or ts.Close waits for them
		ts.Close()
	})
	return ts.URL
}

// mustClient returns a client for the simulator at baseURL. Zero AppID and
// AppSecret take the simulator's defaults.
func mustClient(tb testing.TB, baseURL string, cfg wechat.Config) *wechat.Client {
	tb.Helper()
	if cfg.AppID == "" && !strings.HasPrefix(cfg.TokenSource, "command:") {
		cfg.AppID = wechattest.DefaultAppID
	}
	if cfg.AppSecret == "" && !strings.HasPrefix(cfg.TokenSource, "command:") {
		cfg.AppSecret = wechattest.DefaultAppSecret
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = baseURL
	}
	c, err := wechat.New(cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return c
}

// closedURL returns the URL of a loopback port nothing listens on any more:
// connecting to it is refused.
func closedURL(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	u := "http://" + ln.Addr().String()
	ln.Close()
	return u
}

// openID returns a well-formed openid (28 url-safe characters).
func openID(i int) string {
	return fmt.Sprintf("oTest%023d", i)
}

// orderPaid returns a valid message on the legacy template.
func orderPaid(to, clientMsgID string) *wechat.TemplateMessage {
	return &wechat.TemplateMessage{
		ToUser:      to,
		TemplateID:  legacyTemplate,
		ClientMsgID: clientMsgID,
		Data: map[string]wechat.DataValue{
			"first":    {Value: "您好，您已购买成功。"},
			"keyword1": {Value: "巧克力"},
			"keyword2": {Value: "39.8元"},
			"keyword3": {Value: "2024年5月6日"},
		},
	}
}

// logBuffer is a debug-level slog sink the test can read.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// asRequestError fails the test unless err is a *wechat.RequestError.
func asRequestError(tb testing.TB, err error) *wechat.RequestError {
	tb.Helper()
	var re *wechat.RequestError
	if !errors.As(err, &re) {
		tb.Fatalf("err = %v (%T), want a *wechat.RequestError", err, err)
	}
	return re
}

// asAPIError fails the test unless err is a *wechat.APIError.
func asAPIError(tb testing.TB, err error) *wechat.APIError {
	tb.Helper()
	var ae *wechat.APIError
	if !errors.As(err, &ae) {
		tb.Fatalf("err = %v (%T), want a *wechat.APIError", err, err)
	}
	return ae
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cfg     wechat.Config
		wantErr string // "" means New succeeds
	}{
		{name: "OK", cfg: wechat.Config{AppID: "wx1", AppSecret: "s"}},
		{name: "OKClassic", cfg: wechat.Config{AppID: "wx1", AppSecret: "s", TokenSource: "classic"}},
		{name: "OKCommandWithoutCredentials", cfg: wechat.Config{TokenSource: "command:printf x"}},
		{name: "NoAppID", cfg: wechat.Config{AppSecret: "s"}, wantErr: "no app id"},
		{name: "NoSecret", cfg: wechat.Config{AppID: "wx1"}, wantErr: "no app secret"},
		{name: "EmptyCommand", cfg: wechat.Config{TokenSource: "command: "}, wantErr: "empty command"},
		{name: "UnknownSource", cfg: wechat.Config{AppID: "wx1", AppSecret: "s", TokenSource: "magic"}, wantErr: `"magic"`},
		{name: "BaseNotHTTP", cfg: wechat.Config{AppID: "wx1", AppSecret: "s", BaseURL: "api.weixin.qq.com"}, wantErr: "http://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := wechat.New(tt.cfg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tt.wantErr == "" && c == nil:
				t.Fatal("New returned a nil client")
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("New: err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestClient_Failover(t *testing.T) {
	t.Run("UnreachablePrimary", func(t *testing.T) {
		srv := mustServer(t, wechattest.Options{})
		var logs logBuffer
		c := mustClient(t, "", wechat.Config{BaseURL: closedURL(t), FallbackURL: srv.URL, Log: logs.Logger()})
		msgid, err := c.SendTemplate(t.Context(), orderPaid(openID(1), "failover/1"))
		if err != nil {
			t.Fatalf("SendTemplate: %v", err)
		}
		if d := srv.Deliveries(); len(d) != 1 || d[0].MsgID != msgid {
			t.Errorf("deliveries = %+v, want one with msgid %d", d, msgid)
		}
		if !strings.Contains(logs.String(), "fallback") {
			t.Errorf("no log line about the fallback host:\n%s", logs.String())
		}
	})

	// A 5xx proves the primary is reachable: the request may have been
	// processed there, so it must not be repeated on the other host.
	t.Run("PrimaryHTTP500DoesNotFailOver", func(t *testing.T) {
		primary := mustServer(t, wechattest.Options{})
		fallback := mustServer(t, wechattest.Options{})
		c := mustClient(t, primary.URL, wechat.Config{FallbackURL: fallback.URL})
		primary.FailHTTP(1, http.StatusInternalServerError)
		_, err := c.SendTemplate(t.Context(), orderPaid(openID(1), "failover/2"))
		if re := asRequestError(t, err); re.Status != http.StatusInternalServerError {
			t.Errorf("Status = %d, want 500", re.Status)
		}
		if calls := fallback.Stats().Calls; len(calls) != 0 {
			t.Errorf("fallback host called: %v", calls)
		}
	})
}
