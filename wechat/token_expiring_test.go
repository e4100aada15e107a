package wechat

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// scriptedTransport answers stable_token with its bodies in turn (the last
// one over and over) and every other request with a successful send. It
// records when each stable_token call came and which token each send
// carried. It needs no network, so it runs inside a synctest bubble.
type scriptedTransport struct {
	mu     sync.Mutex
	bodies []string
	calls  []time.Time
	sent   []string // access_token of each send
}

func (s *scriptedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	body := `{"errcode":0,"errmsg":"ok","msgid":3557254367693782077}`
	if req.URL.Path == "/cgi-bin/stable_token" {
		body = s.bodies[min(len(s.calls), len(s.bodies)-1)]
		s.calls = append(s.calls, time.Now())
	} else {
		s.sent = append(s.sent, req.URL.Query().Get("access_token"))
	}
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json; encoding=utf-8"}},
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: req}, nil
}

// tokenBody is a stable_token answer.
func tokenBody(token, expiresIn string) string {
	return `{"access_token":"` + token + `","expires_in":` + expiresIn + `}`
}

// A token answered with expires_in 0 is valid for under a second more: the
// client takes it as "ask again soon", never as a malformed answer (issue
// 20, item 6: a campaign against a sandbox with --token-ttl 1s exited 1 at
// preflight). It asks again after a pause, a bounded number of times.
func TestClient_TokenAboutToExpire(t *testing.T) {
	tests := []struct {
		name       string
		bodies     []string
		want       string        // the token Token returns
		wantCalls  int           // stable_token calls
		wantWaited time.Duration // time from the first call to the last
		sendCalls  int           // stable_token calls once a send followed
	}{
		{name: "FreshAtOnce", bodies: []string{tokenBody("T1", "7200")}, want: "T1", wantCalls: 1, sendCalls: 1},
		{name: "ZeroThenFresh", bodies: []string{tokenBody("T0", "0"), tokenBody("T0", "0"), tokenBody("T1", "7200")},
			want: "T1", wantCalls: 3, wantWaited: 2 * shortTokenPause, sendCalls: 3},
		// A source that keeps answering 0: after the bound, its token is used
		// (WeChat says it is valid) rather than failing the run, and the next
		// use asks again.
		{name: "ZeroEveryTime", bodies: []string{tokenBody("T0", "0")},
			want: "T0", wantCalls: shortTokenFetches, wantWaited: (shortTokenFetches - 1) * shortTokenPause,
			sendCalls: 2 * shortTokenFetches},
		{name: "OneSecondLeft", bodies: []string{tokenBody("T1", "1")}, want: "T1", wantCalls: 1, sendCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tr := &scriptedTransport{bodies: tt.bodies}
				c := scriptedClient(t, tr)
				got, err := c.Token(t.Context())
				if err != nil {
					t.Fatalf("Token: %v", err)
				}
				if got != tt.want {
					t.Errorf("Token = %q, want %q", got, tt.want)
				}
				if len(tr.calls) != tt.wantCalls {
					t.Fatalf("stable_token calls = %d, want %d", len(tr.calls), tt.wantCalls)
				}
				if waited := tr.calls[len(tr.calls)-1].Sub(tr.calls[0]); waited != tt.wantWaited {
					t.Errorf("asked again over %v, want %v", waited, tt.wantWaited)
				}
				if _, err := c.SendTemplate(t.Context(), benchMessage()); err != nil {
					t.Fatalf("SendTemplate: %v", err)
				}
				if len(tr.calls) != tt.sendCalls || tr.sent[0] != tt.want {
					t.Errorf("the send carried %q after %d stable_token calls in all; want %q after %d",
						tr.sent[0], len(tr.calls), tt.want, tt.sendCalls)
				}
			})
		})
	}

	// The pause ends with the caller's context.
	t.Run("Cancelled", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			tr := &scriptedTransport{bodies: []string{tokenBody("T0", "0")}}
			c := scriptedClient(t, tr)
			ctx, cancel := context.WithTimeout(t.Context(), shortTokenPause/2)
			defer cancel()
			start := time.Now()
			_, err := c.Token(ctx)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Token = %v, want context.DeadlineExceeded", err)
			}
			if waited := time.Since(start); waited != shortTokenPause/2 {
				t.Errorf("returned after %v, want %v", waited, shortTokenPause/2)
			}
		})
	})
}

// Answers that are not a token stay errors: no token, no expires_in, or a
// negative one. None is asked again.
func TestClient_TokenMalformed(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{name: "NoExpiresIn", body: `{"access_token":"T1"}`, want: "without access_token or expires_in"},
		{name: "NoToken", body: `{"expires_in":7200}`, want: "without access_token or expires_in"},
		{name: "EmptyToken", body: tokenBody("", "7200"), want: "without access_token or expires_in"},
		{name: "NegativeExpiresIn", body: tokenBody("T1", "-5"), want: "negative expires_in (-5)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &scriptedTransport{bodies: []string{tt.body}}
			c := scriptedClient(t, tr)
			_, err := c.Token(t.Context())
			var re *RequestError
			if !errors.As(err, &re) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Token = %v, want a RequestError saying %q", err, tt.want)
			}
			if len(tr.calls) != 1 {
				t.Errorf("stable_token calls = %d, want 1", len(tr.calls))
			}
		})
	}
}

// scriptedClient is a stable_token client over tr.
func scriptedClient(tb testing.TB, tr http.RoundTripper) *Client {
	tb.Helper()
	c, err := New(Config{AppID: "wx5a4d3b2c1e0f9a8b", AppSecret: "sandbox-secret-not-for-production",
		BaseURL: "http://wechat.invalid", HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}
