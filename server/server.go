// Package server is megasend's HTTP face (`megasend serve`): the routes of
// the API, their Bearer-key auth, the JSON errors, and the endpoint WeChat
// posts an account's pushes to. Like the command line it decides nothing
// about a batch: a handler decodes the request, calls package campaign, and
// encodes the answer; campaign's typed errors become statuses in one place
// (errors.go), as benbjohnson/wtf's http package does.
//
// Every route is in one list (routes.go), which the tests walk and which
// the embedded OpenAPI document describes, route for route.
package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"time"

	"github.com/megasend/megasend/apikey"
	"github.com/megasend/megasend/campaign"
	"github.com/megasend/megasend/recipient"
	"github.com/megasend/megasend/server/web"
	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/wechat"
)

// DefaultMaxBody bounds a request body when Config.MaxBody is zero: a
// million-row CSV of a typical template is about 150 MB.
const DefaultMaxBody = 512 << 20

// DefaultBodyIdle is how long a request body may go without a byte before
// the request is dropped, when Config.BodyIdle is zero.
const DefaultBodyIdle = 30 * time.Second

// Account is what the server knows of one account it serves.
type Account struct {
	// Callback checks the pushes WeChat posts to /wechat/callback/{account}.
	// With no Token the account has no callback endpoint (404).
	Callback wechat.CallbackConfig
	// OpenIDs is how plausible an uploaded openid must look.
	OpenIDs recipient.OpenIDCheck
	// TimeZone is the account's IANA zone name, in which a batch's
	// quiet_hours are read; "" is policy.DefaultTimeZone.
	TimeZone string
	// Followers pages the account's followers for a batch that names an
	// audience (the account's WeChat client); nil refuses such batches.
	Followers campaign.Followers
}

// Config is what New needs. Service, Keys and DB are required.
type Config struct {
	Service *campaign.Service
	Keys    *apikey.Keys
	// DB is the ledger: receipts are recorded in it, and /healthz asks it.
	DB *store.DB
	// Accounts are the accounts this process sends for, by name. A key of
	// another account is refused (403): nothing here would send its batches.
	Accounts map[string]Account
	// MaxBody bounds a request body, in bytes; zero: DefaultMaxBody.
	MaxBody int64
	// BodyIdle drops a request whose body stalls this long; zero:
	// DefaultBodyIdle.
	BodyIdle time.Duration
	// SpoolDir holds uploads while they are hashed and imported; "":
	// os.TempDir(). Put it on a disk, not a tmpfs: the point of spooling is
	// that an upload does not sit in memory.
	SpoolDir string
	// Metrics serves GET /metrics (Prometheus' text format); nil: the route
	// answers 404.
	Metrics http.Handler
	// MetricsPublic opens /metrics to every client; otherwise only
	// loopback clients may scrape it (403 for the others).
	MetricsPublic bool
	// Started is when this process began; spool files last written before
	// it by a process no longer running are removed by New. Zero: now.
	Started time.Time
	// Log receives the access log and the details of internal errors; nil
	// discards.
	Log *slog.Logger
}

// Server is the HTTP API over one ledger. It is an http.Handler, safe for
// concurrent use.
type Server struct {
	svc       *campaign.Service
	keys      *apikey.Keys
	db        *store.DB
	accounts  map[string]Account
	receivers map[string]*wechat.Receiver
	maxBody   int64
	bodyIdle  time.Duration
	spoolDir  string
	log       *slog.Logger
	mux       *http.ServeMux
	web       *web.Handler // the pages at /
	now       func() time.Time

	metrics       http.Handler // GET /metrics; nil: 404
	metricsPublic bool         // /metrics open beyond loopback clients
}

// New returns the API's handler for cfg. It fails for a missing Service,
// Keys or DB, and for an account whose callback configuration is unusable
// (a malformed EncodingAESKey, safe mode without the app id); the error
// names the account and never shows a token or key.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Service == nil:
		return nil, errors.New("server: no campaign service")
	case cfg.Keys == nil:
		return nil, errors.New("server: no API keys")
	case cfg.DB == nil:
		return nil, errors.New("server: no database")
	}
	if cfg.Started.IsZero() {
		cfg.Started = time.Now()
	}
	s := &Server{
		svc: cfg.Service, keys: cfg.Keys, db: cfg.DB, accounts: cfg.Accounts,
		receivers: map[string]*wechat.Receiver{},
		maxBody:   cfg.MaxBody, bodyIdle: cfg.BodyIdle, spoolDir: cfg.SpoolDir, log: cfg.Log, now: time.Now,
		metrics: cfg.Metrics, metricsPublic: cfg.MetricsPublic,
	}
	if s.accounts == nil {
		s.accounts = map[string]Account{}
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBody
	}
	if s.bodyIdle <= 0 {
		s.bodyIdle = DefaultBodyIdle
	}
	if s.spoolDir == "" {
		s.spoolDir = os.TempDir()
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	// Uploads of a serve killed mid-request are never removed otherwise.
	if removed, err := sweepSpool(s.spoolDir, cfg.Started); err != nil {
		s.log.Warn("cannot remove upload spool files left by a stopped process", "dir", s.spoolDir, "err", err)
	} else if len(removed) > 0 {
		s.log.Info("removed upload spool files left by a stopped process", "dir", s.spoolDir, "files", len(removed))
	}
	names := make([]string, 0, len(s.accounts))
	for name := range s.accounts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		cb := s.accounts[name].Callback
		if cb.Token == "" {
			continue
		}
		r, err := wechat.NewReceiver(cb)
		if err != nil {
			return nil, fmt.Errorf("account %s: %w", name, err)
		}
		s.receivers[name] = r
	}
	var err error
	s.web, err = web.New(web.Config{Service: s.svc, Keys: s.keys, Log: s.log,
		Serves: func(account string) bool { _, ok := s.accounts[account]; return ok }})
	if err != nil {
		return nil, err
	}
	s.mux = s.newMux()
	return s, nil
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}
