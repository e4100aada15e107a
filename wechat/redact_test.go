package wechat_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/megasend/megasend/wechat"
	"github.com/megasend/megasend/wechat/wechattest"
)

// No access token and no app secret in any error or log line, whatever
// fails. Go's *url.Error prints the request URL, ?access_token= included,
// for refused connections, timeouts and cancellations; the classic token
// endpoint carries the secret in its query.
func TestClient_NoSecretsInErrorsOrLogs(t *testing.T) {
	const secret = "megasend-TEST-app-secret-7f3a9c1e5b"
	const wrongSecret = "megasend-WRONG-app-secret-0d2e4f"
	opts := wechattest.Options{AppSecret: secret}
	sim, url, rec := mustRecordingServer(t, opts)

	var logs logBuffer
	log := logs.Logger()
	var errs []string
	var tokens []string
	check := func(what string, c *wechat.Client, err error) {
		t.Helper()
		if err == nil {
			return
		}
		// What a caller does with an error: print it, log it.
		errs = append(errs, err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err))
		log.Error(what, "err", err)
		if c != nil {
			if tok, err := c.Token(context.WithoutCancel(t.Context())); err == nil {
				tokens = append(tokens, tok)
			}
		}
	}
	newClient := func(cfg wechat.Config) *wechat.Client {
		t.Helper()
		if cfg.AppSecret == "" {
			cfg.AppSecret = secret
		}
		cfg.Log = log
		return mustClient(t, url, cfg)
	}
	send := func(c *wechat.Client, ctx context.Context, msg *wechat.TemplateMessage) error {
		_, err := c.SendTemplate(ctx, msg)
		return err
	}
	ctx := t.Context()
	msg := func() *wechat.TemplateMessage { return orderPaid(openID(1), "redact/1") }

	c := newClient(wechat.Config{})
	short := newClient(wechat.Config{Timeout: 200 * time.Millisecond})
	classic := newClient(wechat.Config{TokenSource: "classic"})
	scenarios := []struct {
		name  string
		c     *wechat.Client
		setup func()
		msg   func() *wechat.TemplateMessage
	}{
		{name: "TokenRejectedTwice", c: c, setup: func() { sim.FailNext(2, 40001) }},
		{name: "Revoked", c: c, setup: sim.RevokeTokens},
		{name: "Expired", c: c, setup: sim.ExpireTokens},
		{name: "SystemError", c: c, setup: func() { sim.FailNext(1, -1) }},
		{name: "MinuteQuota", c: c, setup: func() { sim.FailNext(1, 45011) }},
		{name: "HTTP500", c: c, setup: func() { sim.FailHTTP(1, 500) }},
		{name: "HTTP502", c: c, setup: func() { sim.FailHTTP(1, 502) }},
		{name: "HTML", c: c, setup: func() { sim.HTMLNext(1) }},
		{name: "Dropped", c: c, setup: func() { sim.DropNext(1) }},
		{name: "Stalled", c: short, setup: func() { sim.StallNext(1, 10*time.Second) }},
		{name: "SlowAnswer", c: short, setup: func() { sim.SetLatency(10*time.Second, 0) }},
		{name: "BadOpenID", c: c, msg: func() *wechat.TemplateMessage { return orderPaid("bad", "") }},
		{name: "UnknownTemplate", c: c, msg: func() *wechat.TemplateMessage {
			m := msg()
			m.TemplateID = "nope"
			return m
		}},
		{name: "ClassicRevoked", c: classic, setup: sim.RevokeTokens},
		{name: "ClassicRejectedTwice", c: classic, setup: func() { sim.FailNext(2, 40014) }},
	}
	for _, s := range scenarios {
		if _, err := s.c.Token(ctx); err != nil { // a token to leak
			t.Fatalf("%s: Token: %v", s.name, err)
		}
		sim.SetLatency(0, 0)
		if s.setup != nil {
			s.setup()
		}
		m := msg()
		if s.msg != nil {
			m = s.msg()
		}
		check(s.name, s.c, send(s.c, ctx, m))
		sim.SetLatency(0, 0)
	}

	// Cancelled while the answer is on its way.
	sim.SetLatency(10*time.Second, 0)
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(50*time.Millisecond, cancel)
	check("Cancelled", c, send(c, cctx, msg()))
	sim.SetLatency(0, 0)

	// Refused connections: the host went away after the token was fetched,
	// a classic fetch (secret in the query) to nowhere, a failover.
	gone := wechattest.NewServer(opts)
	goneClient := mustClient(t, gone.URL, wechat.Config{AppSecret: secret, Log: log,
		HTTPClient: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}})
	if tok, err := goneClient.Token(ctx); err != nil {
		t.Fatal(err)
	} else {
		tokens = append(tokens, tok)
	}
	gone.Close()
	check("RefusedOnSend", nil, send(goneClient, ctx, msg()))
	check("RefusedOnSendClassic", nil, send(mustClient(t, closedURL(t), wechat.Config{
		TokenSource: "classic", AppSecret: secret, Log: log}), ctx, msg()))
	check("RefusedBothHosts", nil, send(mustClient(t, closedURL(t), wechat.Config{
		FallbackURL: closedURL(t), AppSecret: secret, Log: log}), ctx, msg()))
	failover := mustClient(t, closedURL(t), wechat.Config{FallbackURL: url, AppSecret: secret, Log: log})
	sim.FailNext(1, 40001)
	check("Failover", failover, send(failover, ctx, msg()))

	// Wrong secrets, through both token endpoints.
	check("WrongSecret", nil, send(newClient(wechat.Config{AppSecret: wrongSecret}), ctx, msg()))
	check("WrongSecretClassic", nil, send(newClient(wechat.Config{AppSecret: wrongSecret, TokenSource: "classic"}), ctx, msg()))

	tokens = append(tokens, rec.Tokens()...)
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(tokens) < 5 || len(errs) < 3*15 || len(lines) < 20 {
		t.Fatalf("the test saw %d tokens, %d error strings, %d log lines: it proves little", len(tokens), len(errs), len(lines))
	}
	for _, want := range []string{"refreshing", "fallback", "connection refused", "deadline exceeded"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("no log line mentions %q:\n%s", want, logs.String())
		}
	}
	secrets := append([]string{secret, wrongSecret}, tokens...)
	for _, text := range append(errs, lines...) {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("secret %.12q… in %q", s, text)
			}
		}
	}
	if t.Failed() {
		t.Logf("log:\n%s", logs.String())
	}
}
