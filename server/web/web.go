// Package web is the page `megasend serve` answers at /: the account's
// batches with their live progress, one batch's report (counts, a chart of
// its pace, failures by errcode with what to do, receipts, the first failed
// recipients, the failed-rows export) with buttons that pause, resume,
// cancel and retry it, and a single message's trace.
//
// It is a face like the API: it decides nothing about a batch, it calls
// package campaign. The pages are html/template, rendered by the server,
// with a little plain JavaScript that polls a JSON endpoint to keep the
// numbers current; everything is embedded in the binary, nothing is
// fetched from elsewhere.
//
// A person signs in with an API key (apikey.Keys checks it); the session is
// a random id in an HttpOnly, SameSite=Strict cookie, kept in memory with an
// expiry, and every form that changes something carries the session's CSRF
// token. The pages show only the key's account.
package web

import (
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/megasend/megasend/apikey"
	"github.com/megasend/megasend/campaign"
)

//go:embed pages/*.html
var pageFiles embed.FS

//go:embed assets
var assetFiles embed.FS

// DefaultSessionTTL is how long a sign-in lasts when Config.SessionTTL is
// zero: a working day.
const DefaultSessionTTL = 12 * time.Hour

// Config is what New needs. Service and Keys are required.
type Config struct {
	Service *campaign.Service
	Keys    *apikey.Keys
	// Serves reports whether this process sends for account: a key of
	// another account cannot sign in, as the API refuses it (403).
	Serves func(account string) bool
	// SessionTTL is how long a sign-in lasts; zero: DefaultSessionTTL.
	SessionTTL time.Duration
	// Log receives what went wrong inside; nil discards.
	Log *slog.Logger
	// Now is the clock; nil: time.Now.
	Now func() time.Time
}

// Handler serves the pages. It is safe for concurrent use.
type Handler struct {
	svc      *campaign.Service
	keys     *apikey.Keys
	serves   func(string) bool
	log      *slog.Logger
	now      func() time.Time
	pages    *template.Template
	sessions *sessions
	pace     *paces
	mux      *http.ServeMux
}

// New returns the pages' handler for cfg.
func New(cfg Config) (*Handler, error) {
	if cfg.Service == nil || cfg.Keys == nil {
		return nil, errors.New("web: no campaign service or API keys")
	}
	h := &Handler{svc: cfg.Service, keys: cfg.Keys, serves: cfg.Serves, log: cfg.Log, now: cfg.Now}
	if h.serves == nil {
		h.serves = func(string) bool { return true }
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	ttl := cfg.SessionTTL
	if ttl <= 0 {
		ttl = DefaultSessionTTL
	}
	h.sessions = newSessions(ttl, h.now)
	h.pace = newPaces()
	var err error
	if h.pages, err = template.New("").Funcs(funcs).ParseFS(pageFiles, "pages/*.html"); err != nil {
		return nil, err
	}
	h.mux = http.NewServeMux()
	for _, rt := range h.routes() {
		h.mux.HandleFunc(rt.pattern, rt.h)
	}
	return h, nil
}

// route is one of the pages' mux patterns and its handler.
type route struct {
	pattern string
	h       http.HandlerFunc
}

// routes lists what the pages answer. Nothing here is under /v1/: the API
// keeps its paths, and the server mounts these beside them (Patterns).
func (h *Handler) routes() []route {
	assets, _ := fs.Sub(assetFiles, "assets")
	static := http.StripPrefix("/assets/", http.FileServerFS(assets))
	return []route{
		{"GET /{$}", h.signedIn(h.handleBatches)},
		{"GET /signin", h.handleSignInForm},
		{"POST /signin", h.handleSignIn},
		{"POST /signout", h.signedIn(h.handleSignOut)},
		{"GET /live/batches", h.signedInJSON(h.handleBatchesLive)},
		{"GET /batches/{name}", h.signedIn(h.handleBatch)},
		{"GET /batches/{name}/live", h.signedInJSON(h.handleBatchLive)},
		{"GET /batches/{name}/failed.csv", h.signedIn(h.handleExport)},
		{"POST /batches/{name}/{action}", h.signedIn(h.handleAction)},
		{"GET /templates", h.signedIn(h.handleTemplates)},
		{"GET /messages", h.signedIn(h.handleFindMessage)},
		{"GET /messages/{id}", h.signedIn(h.handleMessage)},
		{"GET /assets/", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-cache")
			static.ServeHTTP(w, r)
		}},
	}
}

// Patterns returns the ServeMux patterns the pages answer, for a server
// that mounts them beside its own routes.
func (h *Handler) Patterns() []string {
	var p []string
	for _, rt := range h.routes() {
		p = append(p, rt.pattern)
	}
	return p
}

// ServeHTTP serves the pages, with headers that keep them from being
// framed, sniffed or cached by a shared cache.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
	if hd.Get("Cache-Control") == "" {
		hd.Set("Cache-Control", "private, no-store")
	}
	h.mux.ServeHTTP(w, r)
}
