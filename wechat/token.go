package wechat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// Token is an access token, when it was issued and when it stops working.
type Token struct {
	Value     string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// TokenSource fetches an access token from wherever the account's token
// lives: WeChat's stable_token or token endpoint, or a company's central
// token server through a command. A source never force-refreshes on its own.
type TokenSource interface {
	FetchToken(ctx context.Context) (Token, error)
}

// TokenCache shares the token between processes (the SQLite store
// implements it). It holds sealed bytes only: the token is encrypted with a
// key derived from the account's credentials before it is stored.
type TokenCache interface {
	// LoadToken returns the sealed token stored under key, or nil if none.
	LoadToken(ctx context.Context, key string) ([]byte, error)
	// StoreToken replaces the sealed token stored under key.
	StoreToken(ctx context.Context, key string, sealed []byte, expiresAt time.Time) error
}

// tokens is the one token every worker of a process shares. Refreshes are
// single-flight: sem is a one-slot semaphore that waiters can abandon when
// their context ends. Every send reads the token, so a fresh one is read
// without the semaphore, from latest.
type tokens struct {
	src   TokenSource
	cache TokenCache // may be nil
	seal  *sealer    // nil when cache is nil
	key   string     // cache key
	now   func() time.Time
	log   *slog.Logger

	sem     chan struct{}
	current Token // guarded by sem
	latest  atomic.Pointer[Token]
}

func newTokens(src TokenSource, cache TokenCache, cacheKey string, seal *sealer, now func() time.Time, log *slog.Logger) *tokens {
	return &tokens{src: src, cache: cache, key: cacheKey, seal: seal, now: now, log: log, sem: make(chan struct{}, 1)}
}

func (t *tokens) lock(ctx context.Context) error {
	select {
	case t.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (t *tokens) unlock() { <-t.sem }

// fresh reports whether tok can still be used without a refresh. Tokens are
// refreshed ahead of expiry by a tenth of their lifetime, at most a minute,
// so none is sent in its last moments. (WeChat keeps a refreshed token
// valid for five more minutes, so earlier is never needed; a lifetime-based
// margin keeps short-lived sandbox tokens from being refetched every call.)
func (t *tokens) fresh(tok Token) bool {
	if tok.Value == "" {
		return false
	}
	margin := time.Minute
	if life := tok.ExpiresAt.Sub(tok.IssuedAt); !tok.IssuedAt.IsZero() && life > 0 {
		margin = min(margin, life/10)
	}
	return tok.ExpiresAt.Sub(t.now()) > margin
}

// Get returns a usable token, fetching one if the cached one is missing or
// about to expire.
func (t *tokens) Get(ctx context.Context) (string, error) {
	if tok := t.latest.Load(); tok != nil && t.fresh(*tok) {
		return tok.Value, nil
	}
	if err := t.lock(ctx); err != nil {
		return "", err
	}
	defer t.unlock()
	if t.fresh(t.current) {
		return t.current.Value, nil
	}
	return t.refreshLocked(ctx, "")
}

// Invalidate is called when WeChat rejected failed as stale (40001, 40014,
// 42001). Compare-and-swap: if another worker, or another process through
// the cache, already replaced failed, the replacement is returned without a
// fetch. Otherwise the token is fetched once for all concurrent callers.
func (t *tokens) Invalidate(ctx context.Context, failed string) (string, error) {
	if err := t.lock(ctx); err != nil {
		return "", err
	}
	defer t.unlock()
	if t.current.Value != failed && t.fresh(t.current) {
		return t.current.Value, nil
	}
	return t.refreshLocked(ctx, failed)
}

// refreshLocked adopts a fresh token from the shared cache when there is one
// that is newer than the token held and is not the failed one, and fetches
// from the source otherwise. A cached token issued before the one held is
// one this client has already moved past (a store that failed leaves the
// cache behind): after a revocation it is revoked too.
func (t *tokens) refreshLocked(ctx context.Context, failed string) (string, error) {
	if tok, ok := t.loadCache(ctx); ok && tok.Value != failed && t.fresh(tok) && !tok.IssuedAt.Before(t.current.IssuedAt) {
		t.adopt(tok)
		return tok.Value, nil
	}
	tok, err := t.fetch(ctx)
	if err != nil {
		return "", err
	}
	t.adopt(tok)
	t.storeCache(ctx, tok)
	return tok.Value, nil
}

// A token source may answer with a token that is about to expire: a
// central token server that replaces its token only once it has run out
// answers expires_in 0 in the token's last second, and so did the sandbox
// with a short --token-ttl. Such a token is valid, so it is not an error;
// it is one to replace soon. fetch asks again after shortTokenPause, at
// most shortTokenFetches times in all (1.5 s of pauses: any token that had
// under a second left has run out by the last ask, so a truthful source
// hands out its successor), and then uses what it has.
const (
	shortTokenFetches = 4
	shortTokenPause   = 500 * time.Millisecond
)

// fetch asks the source for a token, asking again while the answer is
// about to expire (see shortTokenFetches). It fails only if the source
// does, or if ctx ends during a pause.
func (t *tokens) fetch(ctx context.Context) (Token, error) {
	for n := 1; ; n++ {
		tok, err := t.src.FetchToken(ctx)
		if err != nil {
			return Token{}, err
		}
		if tok.Value == "" {
			return Token{}, errors.New("token source returned an empty token")
		}
		if t.fresh(tok) || n == shortTokenFetches {
			return tok, nil
		}
		t.log.Debug("access token about to expire; asking for it again",
			"expires_in", tok.ExpiresAt.Sub(tok.IssuedAt).Truncate(time.Second), "pause", shortTokenPause)
		timer := time.NewTimer(shortTokenPause)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return Token{}, context.Cause(ctx)
		}
	}
}

// adopt makes tok the current token; the caller holds sem.
func (t *tokens) adopt(tok Token) {
	t.current = tok
	t.latest.Store(&tok)
}

// loadCache reads the shared token. A cache that fails or holds something
// that does not unseal is ignored: the source is the truth.
func (t *tokens) loadCache(ctx context.Context) (Token, bool) {
	if t.cache == nil {
		return Token{}, false
	}
	sealed, err := t.cache.LoadToken(ctx, t.key)
	if err != nil || sealed == nil {
		return Token{}, false
	}
	tok, err := t.seal.open(sealed)
	if err != nil {
		return Token{}, false
	}
	return tok, true
}

// storeCache writes the token for other processes. Failing to cache must
// not fail the send: the fetched token is used regardless (silenceper/wechat
// PR #762 is what happens otherwise).
func (t *tokens) storeCache(ctx context.Context, tok Token) {
	if t.cache == nil {
		return
	}
	sealed, err := t.seal.seal(tok)
	if err != nil {
		return
	}
	if err := t.cache.StoreToken(ctx, t.key, sealed, tok.ExpiresAt); err != nil {
		t.log.Debug("the access token was not cached; other processes fetch their own", "err", err)
	}
}

// tokenResponse is the body of /cgi-bin/token and /cgi-bin/stable_token.
// ExpiresIn is a pointer so that an answer without it (malformed) differs
// from expires_in 0 (a valid token in its last second).
type tokenResponse struct {
	status
	AccessToken string `json:"access_token"`
	ExpiresIn   *int64 `json:"expires_in"`
}

// token turns the answer into a Token issued at now. expires_in counts
// whole seconds left, rounded down, so 0 is a token that still works for
// under a second: it is returned, and tokens.fetch asks for a newer one.
// A missing token, a missing expires_in or a negative one is malformed.
func (r tokenResponse) token(op string, now time.Time) (Token, error) {
	if r.Errcode != 0 {
		return Token{}, apiError(op, r.Errcode, r.Errmsg)
	}
	switch {
	case r.AccessToken == "" || r.ExpiresIn == nil:
		return Token{}, &RequestError{Op: op, Err: errors.New("response without access_token or expires_in")}
	case *r.ExpiresIn < 0:
		return Token{}, &RequestError{Op: op, Err: fmt.Errorf("response with a negative expires_in (%d)", *r.ExpiresIn)}
	}
	return Token{Value: r.AccessToken, IssuedAt: now, ExpiresAt: now.Add(time.Duration(*r.ExpiresIn) * time.Second)}, nil
}
