package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/megasend/megasend/apikey"
)

// cookieName is the session cookie's. It has no __Host- prefix: that
// prefix needs Secure, and a page served over plain http on loopback (serve's
// default) must still be able to sign in.
const cookieName = "megasend_session"

// csrfField is the name of the CSRF token in every form that changes
// something.
const csrfField = "csrf"

// session is one sign-in.
type session struct {
	id      string
	account string
	keyName string
	// key is the API key signed in with, kept only in this process's
	// memory: every request checks it again, so that removing the key
	// ('megasend apikey rm') ends its sessions at once.
	key     string
	csrf    string
	expires time.Time
}

// sessions are the sign-ins of this process, by id. They do not outlive
// it: a restart signs everyone out, which is what a key in memory allows.
type sessions struct {
	mu  sync.Mutex
	ttl time.Duration
	now func() time.Time
	m   map[string]*session
}

func newSessions(ttl time.Duration, now func() time.Time) *sessions {
	return &sessions{ttl: ttl, now: now, m: map[string]*session{}}
}

// randomToken is 32 random bytes, base64url: a session id or CSRF token.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand's contract since Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// add starts a session, dropping the expired ones.
func (ss *sessions) add(account, keyName, key string) *session {
	s := &session{id: randomToken(), account: account, keyName: keyName, key: key, csrf: randomToken(),
		expires: ss.now().Add(ss.ttl)}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	now := ss.now()
	for id, old := range ss.m {
		if !now.Before(old.expires) {
			delete(ss.m, id)
		}
	}
	ss.m[s.id] = s
	return s
}

// get returns the live session id names, or nil.
func (ss *sessions) get(id string) *session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.m[id]
	if s == nil {
		return nil
	}
	if !ss.now().Before(s.expires) {
		delete(ss.m, id)
		return nil
	}
	return s
}

// remove ends session id.
func (ss *sessions) remove(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.m, id)
}

// sessionKey finds the request's *session in its context.
type sessionKey struct{}

// sessionOf returns the request's session; the handlers behind signedIn
// always have one.
func sessionOf(ctx context.Context) *session {
	s, _ := ctx.Value(sessionKey{}).(*session)
	return s
}

// current returns the request's live session whose key still authenticates
// for an account this process serves, or nil.
func (h *Handler) current(r *http.Request) *session {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil
	}
	s := h.sessions.get(c.Value)
	if s == nil {
		return nil
	}
	account, _, err := h.keys.Authenticate(r.Context(), s.key)
	if err != nil || account != s.account || !h.serves(account) {
		if err != nil && !errors.Is(err, apikey.ErrWrongKey) {
			h.log.Error("web: check a session's key", "err", err)
		}
		h.sessions.remove(s.id)
		return nil
	}
	return s
}

// signedIn lets a request through to next only within a session: a page
// asked for without one is sent to the sign-in form, which comes back to
// it. A POST must also carry the session's CSRF token (and, when the
// browser says where it comes from, come from this origin).
func (h *Handler) signedIn(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := h.current(r)
		if s == nil {
			if r.Method != http.MethodGet {
				h.fail(w, r, http.StatusForbidden, "Your session has ended: sign in again.")
				return
			}
			http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost && !h.sameOrigin(r, s) {
			h.fail(w, r, http.StatusForbidden, "This form is not from this page (its CSRF token is missing or stale): reload the page and try again.")
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, s)))
	}
}

// signedInJSON is signedIn for the JSON the pages poll: 401 without a
// session, which the script answers by going to the sign-in form.
func (h *Handler) signedInJSON(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := h.current(r)
		if s == nil {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "signed out"})
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, s)))
	}
}

// sameOrigin checks a POST's CSRF token against its session's, and its
// Origin header, when it has one, against the host it was sent to. The
// SameSite=Strict cookie already keeps other sites' forms out; the token
// keeps out what SameSite does not cover (older browsers, sibling
// subdomains).
func (h *Handler) sameOrigin(r *http.Request, s *session) bool {
	if !originOK(r) {
		return false
	}
	tok := r.PostFormValue(csrfField)
	return tok != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.csrf)) == 1
}

// originOK reports whether a POST's Origin header, when the browser sends
// one, names the host the request was sent to.
func originOK(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// secure reports whether the browser reached the page over TLS: directly,
// or through a proxy that says so. Only then is the cookie marked Secure
// (a plain-http page on loopback could not keep a Secure cookie); trusting
// X-Forwarded-Proto here can only make the cookie stricter.
func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// setCookie gives the browser session s's cookie.
func setCookie(w http.ResponseWriter, r *http.Request, s *session, ttl time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: s.id, Path: "/", MaxAge: int(ttl / time.Second),
		HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteStrictMode})
}

// clearCookie makes the browser forget its session cookie.
func clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteStrictMode})
}

// handleSignInForm shows the sign-in form (or, signed in, goes on).
func (h *Handler) handleSignInForm(w http.ResponseWriter, r *http.Request) {
	next := localPath(r.URL.Query().Get("next"))
	if h.current(r) != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, "signin.html", signInView{Next: next})
}

// signInView is the sign-in form's data.
type signInView struct {
	Next  string
	Error string
}

// handleSignIn checks the key and starts a session: the key's account is
// the one the pages show. A wrong key answers the form again with
// apikey's reason, never the key.
func (h *Handler) handleSignIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	next := localPath(r.PostFormValue("next"))
	if !originOK(r) {
		// Another site's form would sign this browser in with a key of
		// its choosing (login CSRF).
		h.render(w, r, http.StatusForbidden, "signin.html", signInView{Next: next, Error: "This form is not from this page."})
		return
	}
	key := strings.TrimSpace(r.PostFormValue("key"))
	account, name, err := h.keys.Authenticate(r.Context(), key)
	var wk *apikey.WrongKeyError
	switch {
	case errors.As(err, &wk):
		h.render(w, r, http.StatusUnauthorized, "signin.html", signInView{Next: next, Error: "That key was not accepted: " + wk.Reason + "."})
		return
	case err != nil:
		h.log.Error("web: sign in", "err", err)
		h.render(w, r, http.StatusInternalServerError, "signin.html", signInView{Next: next, Error: "The ledger could not be read; the server's log has the details."})
		return
	case !h.serves(account):
		h.render(w, r, http.StatusForbidden, "signin.html", signInView{Next: next,
			Error: "Key " + name + " acts for account " + account + ", which this server does not send for."})
		return
	}
	if old, err := r.Cookie(cookieName); err == nil {
		h.sessions.remove(old.Value) // a new sign-in is a new id: no fixation
	}
	s := h.sessions.add(account, name, key)
	setCookie(w, r, s, h.sessions.ttl)
	h.log.Info("web: signed in", "account", account, "key", name)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// handleSignOut ends the session.
func (h *Handler) handleSignOut(w http.ResponseWriter, r *http.Request) {
	h.sessions.remove(sessionOf(r.Context()).id)
	clearCookie(w, r)
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

// localPath returns p if it is a path on this site, else "/": the sign-in
// form's next never sends anyone elsewhere.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return "/"
	}
	return p
}
