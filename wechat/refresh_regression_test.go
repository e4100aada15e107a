package wechat_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/megasend/megasend/wechat"
	"github.com/megasend/megasend/wechat/wechattest"
)

// A data endpoint's success body has no errcode: after a token refresh, the
// retried call must not report the first attempt's 40014 (found by
// 'template pull --sandbox' run twice on one database).
func TestClient_RetryAfterRefreshClearsStatus(t *testing.T) {
	srv := wechattest.NewServer(wechattest.Options{})
	t.Cleanup(srv.Close)
	c, err := wechat.New(wechat.Config{AppID: wechattest.DefaultAppID, AppSecret: wechattest.DefaultAppSecret, BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PrivateTemplates(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv.RevokeTokens()
	list, err := c.PrivateTemplates(t.Context())
	if err != nil {
		t.Fatalf("PrivateTemplates after revocation: %v", err)
	}
	if len(list) == 0 {
		t.Error("no templates listed")
	}
}

// A short-lived token (a sandbox with --token-ttl 20s) is refreshed ahead of
// expiry by a tenth of its lifetime, not fetched again on every call.
func TestClient_ShortLivedTokenNotRefetchedEveryCall(t *testing.T) {
	srv := wechattest.NewServer(wechattest.Options{TokenTTL: 20 * time.Second})
	t.Cleanup(srv.Close)
	c, err := wechat.New(wechat.Config{AppID: wechattest.DefaultAppID, AppSecret: wechattest.DefaultAppSecret, BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if _, err := c.PrivateTemplates(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.Stats().StableTokenCalls; n != 1 {
		t.Errorf("stable_token called %d times for 20 calls within a 20s token's life, want 1", n)
	}
}

// Once a rejected token has been replaced, every later send uses the new
// one at once: no send may try the rejected token first (each would cost a
// refused request), however fresh its expiry time says it is.
func TestClient_ReplacedTokenNotReused(t *testing.T) {
	srv := mustServer(t, wechattest.Options{})
	c := mustClient(t, srv.URL, wechat.Config{})
	send := func(i int) {
		t.Helper()
		if _, err := c.SendTemplate(t.Context(), orderPaid(openID(i), fmt.Sprintf("replaced/%d", i))); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	send(0)
	srv.RevokeTokens()
	for i := 1; i <= 5; i++ {
		send(i)
	}
	st := srv.Stats()
	var refused int64
	for _, n := range st.Rejected {
		refused += n
	}
	if refused != 1 || st.StableTokenCalls != 2 {
		t.Errorf("after one revocation: %d refused sends, %d stable_token calls; want 1 and 2 (rejected: %v)",
			refused, st.StableTokenCalls, st.Rejected)
	}
}

// firstOnlyCache keeps the first token stored and fails every later store,
// as a busy SQLite store can: the cache then holds a token older than the
// client's own.
type firstOnlyCache struct{ memCache }

func (f *firstOnlyCache) StoreToken(ctx context.Context, key string, sealed []byte, expiresAt time.Time) error {
	if len(f.all()) > 0 {
		return errors.New("database is locked")
	}
	return f.memCache.StoreToken(ctx, key, sealed, expiresAt)
}

// A cached token issued before the client's own is never adopted in place
// of a rejected one: after two revocations (CI run of 2026-12-05,
// TestFaultTokenRevoked) the client took the first, long-revoked token back
// from the cache, WeChat refused it again, and the batch stopped as if the
// token could not be refreshed.
func TestClient_OlderCachedTokenNotAdopted(t *testing.T) {
	srv := mustServer(t, wechattest.Options{})
	c := mustClient(t, srv.URL, wechat.Config{Cache: &firstOnlyCache{}})
	for i := range 3 {
		if i > 0 {
			srv.RevokeTokens()
		}
		if _, err := c.SendTemplate(t.Context(), orderPaid(openID(i), "")); err != nil {
			t.Fatalf("send %d (after %d revocations): %v", i, i, err)
		}
	}
}

// holdTransport holds the first send whose body contains match until
// release is closed, after signalling held; everything else goes through.
type holdTransport struct {
	match         string
	once          sync.Once
	held, release chan struct{}
}

func (h *holdTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && strings.Contains(req.URL.Path, "/send") {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		if bytes.Contains(body, []byte(h.match)) {
			h.once.Do(func() {
				close(h.held)
				<-h.release
			})
		}
	}
	return http.DefaultTransport.RoundTrip(req)
}

// A send that held the first token while it was revoked, refreshed and
// revoked again meets two revocations: its 40001 is old news, and the
// token the refresh hands it (the second, revoked since) is refused too.
// That token never had its own refresh, so it gets one; before, the send
// failed as if refreshing could not help (CI run of 2026-12-05,
// TestFaultTokenRevoked: a batch of 200 with two revocations stopped as
// batch-fatal when one worker's request was that slow).
func TestClient_SecondRevocationDuringRetry(t *testing.T) {
	srv := mustServer(t, wechattest.Options{})
	slow := &holdTransport{match: openID(99), held: make(chan struct{}), release: make(chan struct{})}
	c := mustClient(t, srv.URL, wechat.Config{HTTPClient: &http.Client{Transport: slow}})
	if _, err := c.SendTemplate(t.Context(), orderPaid(openID(1), "")); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.SendTemplate(t.Context(), orderPaid(openID(99), "")) // holds the first token
		done <- err
	}()
	<-slow.held
	srv.RevokeTokens()
	if _, err := c.SendTemplate(t.Context(), orderPaid(openID(2), "")); err != nil { // refreshes
		t.Fatal(err)
	}
	srv.RevokeTokens() // the refreshed token too
	close(slow.release)
	if err := <-done; err != nil {
		t.Fatalf("the held send after two revocations: %v", err)
	}
}
