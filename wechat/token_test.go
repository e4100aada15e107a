package wechat_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/wechat"
	"github.com/megasend/megasend/wechat/wechattest"
)

func TestClient_Token(t *testing.T) {
	// The sources that talk to WeChat: the right endpoint, one fetch for many
	// sends, one more after a revocation, and never force_refresh.
	endpoints := []struct {
		name                    string
		source                  string
		wantStable, wantClassic int64
	}{
		{name: "StableByDefault", source: "", wantStable: 2},
		{name: "Stable", source: "stable", wantStable: 2},
		{name: "Classic", source: "classic", wantClassic: 2},
	}
	for _, tt := range endpoints {
		t.Run(tt.name, func(t *testing.T) {
			srv := mustServer(t, wechattest.Options{})
			c := mustClient(t, srv.URL, wechat.Config{TokenSource: tt.source})
			for i := range 3 {
				if _, err := c.SendTemplate(t.Context(), orderPaid(openID(i), "")); err != nil {
					t.Fatalf("SendTemplate %d: %v", i, err)
				}
			}
			srv.RevokeTokens()
			if _, err := c.SendTemplate(t.Context(), orderPaid(openID(9), "")); err != nil {
				t.Fatalf("SendTemplate after RevokeTokens: %v", err)
			}
			st := srv.Stats()
			if st.StableTokenCalls != tt.wantStable || st.TokenCalls != tt.wantClassic {
				t.Errorf("stable_token calls = %d, token calls = %d; want %d, %d",
					st.StableTokenCalls, st.TokenCalls, tt.wantStable, tt.wantClassic)
			}
			if st.ForceRefreshes != 0 {
				t.Errorf("ForceRefreshes = %d, want 0", st.ForceRefreshes)
			}
		})
	}

	// Wrong credentials are the account's problem, not a token to refresh.
	credentials := []struct {
		name          string
		source        string
		appID, secret string
		wantOp        string
		wantCode      int
	}{
		{name: "WrongSecret", secret: "not-the-secret", wantOp: "stable_token", wantCode: 40125},
		{name: "WrongAppID", appID: "wx0000000000000000", wantOp: "stable_token", wantCode: 40013},
		{name: "WrongSecretClassic", source: "classic", secret: "not-the-secret", wantOp: "token", wantCode: 40125},
		{name: "WrongAppIDClassic", source: "classic", appID: "wx0000000000000000", wantOp: "token", wantCode: 40013},
	}
	for _, tt := range credentials {
		t.Run(tt.name, func(t *testing.T) {
			srv := mustServer(t, wechattest.Options{})
			c := mustClient(t, srv.URL, wechat.Config{TokenSource: tt.source, AppID: tt.appID, AppSecret: tt.secret})
			_, err := c.SendTemplate(t.Context(), orderPaid(openID(1), ""))
			ae := asAPIError(t, err)
			if ae.Code != tt.wantCode || ae.Op != tt.wantOp || ae.Class != wechat.ClassFatal {
				t.Errorf("err = %+v, want op %s, errcode %d, class fatal", ae, tt.wantOp, tt.wantCode)
			}
			if wechat.ClassOf(err) != wechat.ClassFatal || wechat.IsRetryable(err) {
				t.Errorf("ClassOf = %v, IsRetryable = %v; want fatal, false", wechat.ClassOf(err), wechat.IsRetryable(err))
			}
			if srv.Stats().Requests != 0 {
				t.Error("a message was sent without a token")
			}
		})
	}

	// command:CMD, for a central token server. The simulator mints the token
	// the command prints; the test counts the command's runs in a file.
	command := func(t *testing.T, clock *fakeClock, printf string) (*wechattest.Server, *wechat.Client, string, func() int) {
		t.Helper()
		srv := mustServer(t, wechattest.Options{Now: clock.Now})
		tok, err := mustClient(t, srv.URL, wechat.Config{Now: clock.Now}).Token(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		runs := filepath.Join(t.TempDir(), "runs")
		src := "command:echo run >> '" + runs + "'; " + strings.ReplaceAll(printf, "TOKEN", tok)
		c := mustClient(t, srv.URL, wechat.Config{TokenSource: src, Now: clock.Now})
		count := func() int {
			b, _ := os.ReadFile(runs)
			return bytes.Count(b, []byte("run\n"))
		}
		return srv, c, tok, count
	}
	t.Run("CommandBare", func(t *testing.T) {
		clock := newFakeClock()
		srv, c, tok, runs := command(t, clock, `printf '%s\n' TOKEN`)
		if _, err := c.SendTemplate(t.Context(), orderPaid(openID(1), "")); err != nil {
			t.Fatalf("SendTemplate: %v", err)
		}
		if got, err := c.Token(t.Context()); err != nil || got != tok {
			t.Fatalf("Token = %.10q…, %v; want the command's token", got, err)
		}
		clock.Advance(3 * time.Minute) // a bare token is trusted for 5 minutes
		c.Token(t.Context())
		if n := runs(); n != 1 {
			t.Errorf("command ran %d times within 5 minutes, want 1", n)
		}
		clock.Advance(3 * time.Minute)
		c.Token(t.Context())
		if n := runs(); n != 2 {
			t.Errorf("command ran %d times after 6 minutes, want 2", n)
		}
		if st := srv.Stats(); st.StableTokenCalls != 1 || st.TokenCalls != 0 {
			t.Errorf("the command client fetched from WeChat: %+v", st)
		}
	})
	t.Run("CommandJSON", func(t *testing.T) {
		clock := newFakeClock()
		_, c, tok, runs := command(t, clock, `printf '{"access_token":"TOKEN","expires_in":7000}'`)
		if _, err := c.SendTemplate(t.Context(), orderPaid(openID(1), "")); err != nil {
			t.Fatalf("SendTemplate: %v", err)
		}
		clock.Advance(time.Hour) // expires_in is honoured: no second run
		if got, err := c.Token(t.Context()); err != nil || got != tok {
			t.Fatalf("Token = %.10q…, %v; want the command's token", got, err)
		}
		if n := runs(); n != 1 {
			t.Errorf("command ran %d times, want 1", n)
		}
	})

	failing := []struct {
		name     string
		source   string
		wantText []string
	}{
		{name: "CommandFails", source: `command:echo "central token server unreachable" >&2; exit 3`,
			wantText: []string{"token command", "exit status 3", "central token server unreachable"}},
		{name: "CommandPrintsNothing", source: "command:true", wantText: []string{"token command printed nothing"}},
		{name: "CommandPrintsOtherJSON", source: `command:printf '{"token":"x"}'`, wantText: []string{"token command", "access_token"}},
		{name: "CommandPrintsBadJSON", source: `command:printf '{"access_token":'`, wantText: []string{"token command", "JSON"}},
		{name: "CommandNotFound", source: "command:megasend-no-such-token-helper", wantText: []string{"token command", "exit status 127", "not found"}},
	}
	for _, tt := range failing {
		t.Run(tt.name, func(t *testing.T) {
			srv := mustServer(t, wechattest.Options{})
			c := mustClient(t, srv.URL, wechat.Config{TokenSource: tt.source})
			_, err := c.SendTemplate(t.Context(), orderPaid(openID(1), ""))
			if err == nil {
				t.Fatal("SendTemplate succeeded with a failing token command")
			}
			for _, want := range tt.wantText {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err = %q, want it to contain %q", err, want)
				}
			}
			if srv.Stats().Requests != 0 {
				t.Error("a message was sent without a token")
			}
		})
	}
}

// The token is replaced ahead of its expiry, so that WeChat never sees one
// that ran out while the request was on its way.
func TestClient_TokenRefreshAhead(t *testing.T) {
	const ttl = 30 * time.Minute

	t.Run("BeforeExpiry", func(t *testing.T) {
		clock := newFakeClock()
		srv := mustServer(t, wechattest.Options{TokenTTL: ttl, Now: clock.Now})
		c := mustClient(t, srv.URL, wechat.Config{Now: clock.Now})
		first, err := c.Token(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(ttl - 30*time.Second)
		if _, err := c.SendTemplate(t.Context(), orderPaid(openID(1), "")); err != nil {
			t.Fatalf("SendTemplate: %v", err)
		}
		if st := srv.Stats(); st.StableTokenCalls != 2 {
			t.Errorf("stable_token calls = %d, want 2: a token 30 s from expiry must be replaced", st.StableTokenCalls)
		}
		if now, _ := c.Token(t.Context()); now == first {
			t.Error("the token 30 s from expiry is still in use")
		}
	})

	// Every request spends 3 s on the wire each way, on the fake clock: the
	// client learns expires_in 3 s after WeChat counted from, and its send
	// arrives 3 s after it chose the token. Over three lifetimes some send
	// is chosen in every last moment; none may arrive with an expired token.
	t.Run("NeverSendsExpired", func(t *testing.T) {
		const wire = 3 * time.Second
		clock := newFakeClock()
		sim := wechattest.New(wechattest.Options{TokenTTL: ttl, Now: clock.Now, Seed: 1})
		url := mustServe(t, sim, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			clock.Advance(wire)
			sim.ServeHTTP(w, r)
			clock.Advance(wire)
		}))
		c := mustClient(t, url, wechat.Config{Now: clock.Now})
		for i := range int(3 * ttl / (2 * wire)) {
			if _, err := c.SendTemplate(t.Context(), orderPaid(openID(i), "")); err != nil {
				t.Fatalf("send %d: %v", i, err)
			}
		}
		st := sim.Stats()
		if n := st.Rejected[42001]; n != 0 {
			t.Errorf("%d sends carried an expired token (42001); stable_token calls: %d", n, st.StableTokenCalls)
		}
		if st.StableTokenCalls < 3 || st.ForceRefreshes != 0 {
			t.Errorf("stable_token calls = %d, force refreshes = %d; want ≥ 3 and 0", st.StableTokenCalls, st.ForceRefreshes)
		}
	})
}

// sendAll sends one message to each of n recipients from n goroutines,
// released together, and returns their errors.
func sendAll(t *testing.T, c *wechat.Client, n int) []error {
	t.Helper()
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = c.SendTemplate(t.Context(), orderPaid(openID(i), "concurrent/"+openID(i)))
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func TestClient_TokenRefresh(t *testing.T) {
	// Every worker holds the revoked token; the first to hear 40001 fetches,
	// the others compare and adopt its token.
	t.Run("Revoked64Concurrent", func(t *testing.T) {
		const n = 64
		srv := mustServer(t, wechattest.Options{})
		var logs logBuffer
		c := mustClient(t, srv.URL, wechat.Config{MaxConns: n, Log: logs.Logger()})
		if _, err := c.Token(t.Context()); err != nil {
			t.Fatal(err)
		}
		before := srv.Stats().StableTokenCalls
		srv.RevokeTokens()
		srv.SetLatency(50*time.Millisecond, 0) // every worker sends before the first answer
		for i, err := range sendAll(t, c, n) {
			if err != nil {
				t.Errorf("send %d: %v", i, err)
			}
		}
		st := srv.Stats()
		if got := st.StableTokenCalls - before; got != 1 {
			t.Errorf("token fetches after revocation = %d, want exactly 1", got)
		}
		if st.Rejected[40001] < 2 {
			t.Errorf("only %d sends saw the revoked token: the refresh was not concurrent", st.Rejected[40001])
		}
		if st.Accepted != n || len(srv.Deliveries()) != n {
			t.Errorf("accepted %d, deliveries %d; want %d", st.Accepted, len(srv.Deliveries()), n)
		}
		if st.ForceRefreshes != 0 {
			t.Errorf("ForceRefreshes = %d, want 0", st.ForceRefreshes)
		}
		t.Logf("%d of %d sends answered 40001", st.Rejected[40001], n)
	})

	t.Run("Expired", func(t *testing.T) {
		srv := mustServer(t, wechattest.Options{})
		c := mustClient(t, srv.URL, wechat.Config{})
		if _, err := c.Token(t.Context()); err != nil {
			t.Fatal(err)
		}
		srv.ExpireTokens()
		if _, err := c.SendTemplate(t.Context(), orderPaid(openID(1), "")); err != nil {
			t.Fatalf("SendTemplate after ExpireTokens: %v", err)
		}
		if st := srv.Stats(); st.Rejected[42001] != 1 || st.StableTokenCalls != 2 {
			t.Errorf("42001 answers = %d, stable_token calls = %d; want 1, 2", st.Rejected[42001], st.StableTokenCalls)
		}
	})

	// Another service sharing the AppID force-refreshes in the middle of a run.
	t.Run("RevokedMidRun", func(t *testing.T) {
		srv := mustServer(t, wechattest.Options{})
		c := mustClient(t, srv.URL, wechat.Config{})
		srv.RevokeAt(10)
		for i := range 20 {
			if _, err := c.SendTemplate(t.Context(), orderPaid(openID(i), "")); err != nil {
				t.Fatalf("send %d: %v", i, err)
			}
		}
		if st := srv.Stats(); st.Accepted != 20 || st.StableTokenCalls != 2 {
			t.Errorf("accepted = %d, stable_token calls = %d; want 20, 2", st.Accepted, st.StableTokenCalls)
		}
	})

	t.Run("Classic64Concurrent", func(t *testing.T) {
		const n = 64
		srv := mustServer(t, wechattest.Options{})
		c := mustClient(t, srv.URL, wechat.Config{TokenSource: "classic", MaxConns: n})
		if _, err := c.Token(t.Context()); err != nil {
			t.Fatal(err)
		}
		srv.RevokeTokens()
		srv.SetLatency(20*time.Millisecond, 0)
		for i, err := range sendAll(t, c, n) {
			if err != nil {
				t.Errorf("send %d: %v", i, err)
			}
		}
		if st := srv.Stats(); st.TokenCalls != 2 {
			t.Errorf("token calls = %d, want 2", st.TokenCalls)
		}
	})
}

// memCache is an in-memory wechat.TokenCache that remembers what it was
// given; err, if set, fails every call.
type memCache struct {
	mu     sync.Mutex
	sealed map[string][]byte
	stored [][]byte // every value StoreToken received
	err    error
}

func (m *memCache) LoadToken(ctx context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return nil, m.err
	}
	return bytes.Clone(m.sealed[key]), nil
}

func (m *memCache) StoreToken(ctx context.Context, key string, sealed []byte, expiresAt time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	if m.sealed == nil {
		m.sealed = make(map[string][]byte)
	}
	m.sealed[key] = bytes.Clone(sealed)
	m.stored = append(m.stored, bytes.Clone(sealed))
	return nil
}

func (m *memCache) all() [][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([][]byte(nil), m.stored...)
}

// mustStore opens a SQLite store in the test's temporary directory.
func mustStore(tb testing.TB) *store.DB {
	tb.Helper()
	db, err := store.Open(tb.Context(), filepath.Join(tb.TempDir(), "megasend.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// storeSealed returns what the store's tokens table holds.
func storeSealed(tb testing.TB, db *store.DB) [][]byte {
	tb.Helper()
	rows, err := db.SQL().QueryContext(tb.Context(), `SELECT sealed FROM tokens`)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// Two processes of one account share the token through the cache: when one
// refreshes, the other adopts the new token instead of fetching its own.
func TestClient_SharedCache(t *testing.T) {
	tests := []struct {
		name  string
		cache func(t *testing.T) (wechat.TokenCache, func() [][]byte)
	}{
		{name: "Memory", cache: func(t *testing.T) (wechat.TokenCache, func() [][]byte) {
			m := &memCache{}
			return m, m.all
		}},
		{name: "Store", cache: func(t *testing.T) (wechat.TokenCache, func() [][]byte) {
			db := mustStore(t)
			return db, func() [][]byte { return storeSealed(t, db) }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mustServer(t, wechattest.Options{})
			cache, sealed := tt.cache(t)
			a := mustClient(t, srv.URL, wechat.Config{Cache: cache})
			b := mustClient(t, srv.URL, wechat.Config{Cache: cache})
			fetches := func() int64 { return srv.Stats().StableTokenCalls }

			send := func(c *wechat.Client, name string, i int) {
				t.Helper()
				if _, err := c.SendTemplate(t.Context(), orderPaid(openID(i), "")); err != nil {
					t.Fatalf("client %s: SendTemplate: %v", name, err)
				}
			}
			send(a, "A", 1)
			send(b, "B", 2)
			if n := fetches(); n != 1 {
				t.Fatalf("stable_token calls = %d, want 1: B must take A's cached token", n)
			}

			srv.RevokeTokens()
			send(a, "A", 3) // 40001, refresh, cache the new token
			if n := fetches(); n != 2 {
				t.Fatalf("stable_token calls after A's refresh = %d, want 2", n)
			}
			send(b, "B", 4) // 40001 on its stale token: adopts A's
			if n := fetches(); n != 2 {
				t.Errorf("stable_token calls after B's refresh = %d, want 2: B fetched instead of adopting", n)
			}
			ta, _ := a.Token(t.Context())
			tb, _ := b.Token(t.Context())
			if ta != tb {
				t.Error("A and B hold different tokens")
			}
			if st := srv.Stats(); st.Rejected[40001] != 2 || st.Accepted != 4 {
				t.Errorf("40001 answers = %d, accepted = %d; want 2, 4", st.Rejected[40001], st.Accepted)
			}

			all := sealed()
			if len(all) == 0 {
				t.Fatal("nothing was cached")
			}
			for _, s := range all {
				for _, secret := range []string{ta, wechattest.DefaultAppSecret} {
					if bytes.Contains(s, []byte(secret)) {
						t.Errorf("the cache holds a secret in clear: %.20q…", secret)
					}
				}
			}
		})
	}

	// The cache is a convenience: garbage in it or a failing cache must not
	// fail a send.
	faulty := []struct {
		name  string
		cache *memCache
	}{
		{name: "GarbageIgnored", cache: &memCache{sealed: map[string][]byte{
			wechattest.DefaultAppID + "/stable": []byte("not a sealed token, definitely not"),
		}}},
		{name: "ErrorsIgnored", cache: &memCache{err: errors.New("database is locked")}},
	}
	for _, tt := range faulty {
		t.Run(tt.name, func(t *testing.T) {
			srv := mustServer(t, wechattest.Options{})
			c := mustClient(t, srv.URL, wechat.Config{Cache: tt.cache})
			if _, err := c.SendTemplate(t.Context(), orderPaid(openID(1), "")); err != nil {
				t.Fatalf("SendTemplate: %v", err)
			}
		})
	}
}
