// Package wechat is a client for the WeChat Official Account server API, as
// far as megasend needs it: access tokens, template messages, template and
// quota queries, follower lists.
//
// The client classifies every failure into the classes of PRODUCT.md
// (ClassOf) and never lets the access token or the app secret reach an
// error string: both travel in URLs and bodies, and Go's *url.Error prints
// the URL it failed on. Pacing and retries are the caller's policy; the
// client only refreshes a stale token and repeats that request with the new
// one (see withToken).
package wechat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// DefaultBaseURL is WeChat's API host; DefaultFallbackURL is its disaster
// recovery host, used only when the first cannot be connected to.
const (
	DefaultBaseURL     = "https://api.weixin.qq.com"
	DefaultFallbackURL = "https://api2.weixin.qq.com"
)

// Config configures a Client. AppID and AppSecret are required unless the
// token source is a command.
type Config struct {
	AppID     string
	AppSecret string
	// BaseURL defaults to DefaultBaseURL.
	BaseURL string
	// FallbackURL is tried when BaseURL cannot be connected to. It defaults
	// to DefaultFallbackURL when BaseURL is the default, and to none when
	// BaseURL was set (a sandbox has no disaster-recovery twin).
	FallbackURL string
	// TokenSource is "stable" (default: POST /cgi-bin/stable_token),
	// "classic" (GET /cgi-bin/token, which supersedes other holders' tokens)
	// or "command:CMD" (runs CMD with sh -c; it prints the token).
	TokenSource string
	// Cache shares the token between processes; nil keeps it in memory.
	Cache TokenCache
	// HTTPClient overrides the tuned default client.
	HTTPClient *http.Client
	// MaxConns sizes the connection pool: the number of concurrent senders.
	MaxConns int
	// Timeout bounds each request; default 15s.
	Timeout time.Duration
	// Now returns the current time; default time.Now.
	Now func() time.Time
	// Log receives debug lines (never secrets); nil discards.
	Log *slog.Logger
}

// Client calls the WeChat API. It is safe for concurrent use; all workers
// of a process should share one, so they share one token.
type Client struct {
	base, fallback string
	http           *http.Client
	timeout        time.Duration
	now            func() time.Time
	log            *slog.Logger
	tokens         *tokens
	redact         *strings.Replacer

	// fallbackUntil is the unix nano time until which requests go straight
	// to the fallback host after the primary refused connections.
	fallbackUntil atomic.Int64
}

// New returns a Client for cfg. It fails if the configuration is incomplete.
func New(cfg Config) (*Client, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	fallback := strings.TrimRight(cfg.FallbackURL, "/")
	if base == "" {
		base = DefaultBaseURL
		if fallback == "" {
			fallback = DefaultFallbackURL
		}
	}
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		return nil, fmt.Errorf("api base %q: want an http:// or https:// URL", base)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: NewTransport(cfg.MaxConns)}
	}
	c := &Client{base: base, fallback: fallback, http: hc, timeout: cfg.Timeout, now: cfg.Now, log: cfg.Log}
	src, material, err := c.newSource(cfg)
	if err != nil {
		return nil, err
	}
	var seal *sealer
	if cfg.Cache != nil {
		seal = newSealer(material...)
	}
	c.tokens = newTokens(src, cfg.Cache, cacheKey(cfg), seal, cfg.Now, cfg.Log)
	return c, nil
}

// cacheKey names the account's token in the shared cache. Stable and classic
// tokens are separate namespaces at WeChat, so they are here too.
func cacheKey(cfg Config) string {
	src := cfg.TokenSource
	if src == "" {
		src = "stable"
	}
	if strings.HasPrefix(src, "command:") {
		src = "command"
	}
	return cfg.AppID + "/" + src
}

func (c *Client) newSource(cfg Config) (TokenSource, []string, error) {
	kind := cfg.TokenSource
	if cmd, ok := strings.CutPrefix(kind, "command:"); ok {
		if strings.TrimSpace(cmd) == "" {
			return nil, nil, errors.New("token_source command: empty command")
		}
		return &commandSource{command: cmd, now: c.now}, []string{cfg.AppID, kind}, nil
	}
	if cfg.AppID == "" {
		return nil, nil, errors.New("no app id configured")
	}
	if cfg.AppSecret == "" {
		return nil, nil, errors.New("no app secret configured")
	}
	c.redact = strings.NewReplacer(cfg.AppSecret, "[app secret]")
	material := []string{cfg.AppID, cfg.AppSecret}
	switch kind {
	case "", "stable":
		return &stableSource{c: c, appID: cfg.AppID, secret: cfg.AppSecret}, material, nil
	case "classic":
		return &classicSource{c: c, appID: cfg.AppID, secret: cfg.AppSecret}, material, nil
	}
	return nil, nil, fmt.Errorf("token_source %q: want stable, classic or command:CMD", kind)
}

// NewTransport returns an HTTP transport tuned for many concurrent requests
// to one host: the idle pool holds a connection for every sender, so keep-alive
// connections are reused instead of re-dialled under load. It does not ask
// for gzip: WeChat's answers are a few dozen bytes, and the header costs
// both ends a little on every send.
func NewTransport(maxConns int) *http.Transport {
	if maxConns < 1 {
		maxConns = 16
	}
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   5 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          maxConns * 2,
		MaxIdleConnsPerHost:   maxConns,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
	}
}

// maxTokenTries bounds the calls withToken makes with successive tokens.
// Two refreshes cover a call whose token was revoked, replaced and revoked
// again while it was on its way; more would be tokens fighting, which
// another system resetting them causes and no retry cures.
const maxTokenTries = 3

// withToken runs call with the current token. If WeChat says the token is
// stale, the token is refreshed (compare-and-swap, single-flight) and call
// runs again with its replacement. Each token refused gets one refresh: the
// replacement a call is handed may have been revoked since (a second
// revocation while the call was slow), and it has not had its own. A
// refresh that hands back the refused token (a token command serving a
// stale one) ends it at once.
func (c *Client) withToken(ctx context.Context, call func(token string) error) error {
	tok, err := c.tokens.Get(ctx)
	if err != nil {
		return err
	}
	for try := 1; ; try++ {
		err = call(tok)
		if !IsTokenExpired(err) || try == maxTokenTries {
			return err
		}
		c.log.Debug("access token rejected; refreshing", "errcode", Errcode(err))
		next, rerr := c.tokens.Invalidate(ctx, tok)
		if rerr != nil {
			return rerr
		}
		if next == tok {
			return err
		}
		tok = next
	}
}

// Token returns the current access token, fetching it if needed. Preflight
// uses it to prove the credentials work; it is never printed.
func (c *Client) Token(ctx context.Context) (string, error) {
	return c.tokens.Get(ctx)
}
