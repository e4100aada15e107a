package wechattest

// Token semantics (reference notes §1):
//
//   - /cgi-bin/token mints a new classic token on every call. The previous
//     one keeps working for TokenGrace, then answers 40001 "not latest".
//   - /cgi-bin/stable_token hands out the same token while it has more than
//     TokenTTL/24 left (5 minutes of 7200 s), with the remaining expires_in;
//     past that it mints a fresh one and the old one lives to its expiry.
//     So, as at WeChat, no answer carries a token about to run out: every
//     expires_in is at least the margin, and at least 1, since it counts
//     whole seconds (rounded down) and a short TokenTTL's margin is under
//     one.
//     force_refresh=true invalidates the current stable token at once and
//     mints a new one: at most 20 a day, and a force within 30 s of the last
//     one returns the current token unchanged.
//   - The two kinds are separate namespaces: fetching one never invalidates
//     the other.
//   - Any token past TokenTTL answers 42001.

import (
	"net/http"
	"time"
)

// WeChat's documented limits on token fetches.
const (
	tokenDailyLimit        = 2000
	stableDailyLimit       = 500000
	forceRefreshDailyMax   = 20
	forceRefreshMinSpacing = 30 * time.Second
	grantClientCredential  = "client_credential"
)

// token is one issued access token.
type token struct {
	value      string
	stable     bool
	expires    time.Time
	superseded time.Time // classic: when the next fetch replaced it; zero if latest
	revoked    bool      // RevokeTokens or force_refresh: 40001 from now on
}

// tokenResponse is the success body of both token endpoints.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
}

// stableTokenRequest is the body of /cgi-bin/stable_token.
type stableTokenRequest struct {
	GrantType    string `json:"grant_type"`
	AppID        string `json:"appid"`
	Secret       string `json:"secret"`
	ForceRefresh bool   `json:"force_refresh"`
}

// RevokeTokens invalidates every token issued so far, classic and stable, as
// if another server had force-refreshed: each answers 40001 from now on, and
// the next stable_token call in normal mode returns a new token.
func (s *Sim) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revokeLocked()
}

func (s *Sim) revokeLocked() {
	for _, t := range s.tokens {
		t.revoked = true
	}
}

// ExpireTokens makes every token issued so far answer 42001 "access_token
// expired" from now on, as if its lifetime had run out.
func (s *Sim) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	for _, t := range s.tokens {
		if t.expires.After(now) {
			t.expires = now
		}
	}
}

// RevokeAt arranges for RevokeTokens to happen when the n-th template/send
// request (counting every request to that endpoint since New, from 1)
// arrives; that request itself then answers 40001. A token revoked mid-run
// is what a client sharing its AppID with another service sees. n at or
// below the current count never fires.
func (s *Sim) RevokeAt(n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revokeAt = append(s.revokeAt, n)
}

// revokeDueLocked reports whether a RevokeAt fires at request seq, and
// forgets it.
func (s *Sim) revokeDueLocked(seq int64) bool {
	due := false
	kept := s.revokeAt[:0]
	for _, n := range s.revokeAt {
		switch {
		case n == seq:
			due = true
		case n > seq:
			kept = append(kept, n)
		}
	}
	s.revokeAt = kept
	return due
}

// checkCredentials returns the errcode for a token request's parameters, or
// 0 if they are this account's.
func (s *Sim) checkCredentials(grantType, appID, secret string) int {
	switch {
	case grantType != grantClientCredential:
		return codeInvalidGrantType
	case appID == "":
		return codeAppIDMissing
	case appID != s.opts.AppID:
		return codeInvalidAppID
	case secret == "":
		return codeSecretMissing
	case secret != s.opts.AppSecret:
		return codeInvalidSecret
	}
	return 0
}

// serveToken is GET /cgi-bin/token.
func (s *Sim) serveToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	s.stats.TokenCalls++
	s.mu.Unlock()
	if code := s.checkCredentials(q.Get("grant_type"), q.Get("appid"), q.Get("secret")); code != 0 {
		s.writeError(w, code)
		return
	}

	s.mu.Lock()
	now := s.nowLocked()
	if s.tokenCallsToday >= tokenDailyLimit {
		s.mu.Unlock()
		s.writeErrorMsg(w, codeDailyQuota, tokenQuotaMsg)
		return
	}
	s.tokenCallsToday++
	t := s.mintLocked(now, false)
	if prev := s.classicLatest; prev != nil && prev.superseded.IsZero() {
		prev.superseded = now
	}
	s.classicLatest = t
	resp := tokenResponse{AccessToken: t.value, ExpiresIn: seconds(t.expires.Sub(now))}
	s.mu.Unlock()
	writeJSON(w, resp)
}

// serveStableToken is POST /cgi-bin/stable_token.
func (s *Sim) serveStableToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.StableTokenCalls++
	s.mu.Unlock()
	var req stableTokenRequest
	if !s.decodePOST(w, r, &req) {
		return
	}
	if code := s.checkCredentials(req.GrantType, req.AppID, req.Secret); code != 0 {
		s.writeError(w, code)
		return
	}

	s.mu.Lock()
	now := s.nowLocked()
	if s.stableCallsToday >= stableDailyLimit {
		s.mu.Unlock()
		s.writeError(w, codeDailyQuota)
		return
	}
	s.stableCallsToday++
	cur := s.stableCur
	curValid := cur != nil && s.tokenCodeLocked(cur.value, now) == 0
	var t *token
	switch {
	case req.ForceRefresh:
		s.stats.ForceRefreshes++
		if curValid && !s.lastForce.IsZero() && now.Sub(s.lastForce) < forceRefreshMinSpacing {
			t = cur // too soon: "not refreshed", the current token comes back
			break
		}
		if s.forcesToday >= forceRefreshDailyMax {
			s.mu.Unlock()
			s.writeError(w, codeDailyQuota)
			return
		}
		s.forcesToday++
		s.lastForce = now
		if cur != nil {
			cur.revoked = true
		}
		t = s.mintLocked(now, true)
	case curValid && cur.expires.Sub(now) > s.earlyRefresh():
		t = cur
	default:
		// Expired, revoked, or inside the early-refresh margin: a new token;
		// one inside the margin keeps working until its own expiry.
		t = s.mintLocked(now, true)
	}
	s.stableCur = t
	resp := tokenResponse{AccessToken: t.value, ExpiresIn: seconds(t.expires.Sub(now))}
	s.mu.Unlock()
	writeJSON(w, resp)
}

// earlyRefresh is how long before expiry the platform replaces a stable
// token: 5 minutes of a 7200 s lifetime, scaled for shorter test lifetimes,
// and never under a second. WeChat answers no token with under 300 s left;
// with a margin under a second, a token with 0.9 s left would go out as
// expires_in 0, which clients rightly take for a token that is gone (issue
// 20, item 6). At a TokenTTL of one second every call mints a token.
func (s *Sim) earlyRefresh() time.Duration {
	return max(s.opts.TokenTTL/24, time.Second)
}

// mintLocked issues a new token valid for TokenTTL from now.
func (s *Sim) mintLocked(now time.Time, stable bool) *token {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
	for {
		// Real tokens look like "86_" followed by ~130 url-safe characters;
		// clients must store at least 512.
		b := make([]byte, 3, 136)
		copy(b, "86_")
		for len(b) < cap(b) {
			b = append(b, alphabet[s.rng.IntN(len(alphabet))])
		}
		v := string(b)
		if _, dup := s.tokens[v]; dup {
			continue
		}
		t := &token{value: v, stable: stable, expires: now.Add(s.opts.TokenTTL)}
		s.tokens[v] = t
		return t
	}
}

// tokenCodeLocked returns the errcode a request carrying access_token v gets
// at now, or 0 if the token is good.
func (s *Sim) tokenCodeLocked(v string, now time.Time) int {
	if v == "" {
		return codeTokenMissing
	}
	t, ok := s.tokens[v]
	switch {
	case !ok:
		// WeChat answers a token it never issued with 40001, as it does a
		// superseded one; 40014 is seen for tokens of another kind (another
		// product's), which the simulator does not issue.
		return codeInvalidCredential
	case t.revoked:
		return codeInvalidCredential
	case !now.Before(t.expires):
		return codeTokenExpired
	case !t.superseded.IsZero() && !now.Before(t.superseded.Add(s.opts.TokenGrace)):
		return codeInvalidCredential
	}
	return 0
}

// authorize checks the request's access_token, answering the error and
// returning false if it is not good.
func (s *Sim) authorize(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	code := s.tokenCodeLocked(r.URL.Query().Get("access_token"), s.nowLocked())
	s.mu.Unlock()
	if code != 0 {
		s.writeError(w, code)
		return false
	}
	return true
}

// seconds is d in whole seconds, as expires_in carries it.
func seconds(d time.Duration) int64 {
	return int64(d / time.Second)
}
