package cmd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/megasend/megasend/apikey"
	"github.com/megasend/megasend/campaign"
	"github.com/megasend/megasend/metrics"
	"github.com/megasend/megasend/recipient"
	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/wechat"
	"github.com/megasend/megasend/wechat/wechattest"
)

// HTTPFace builds the handler megasend serve listens with from what cmd
// has wired. main hands in the server package's: one face (cmd) does not
// import the other (server); both stand on campaign.
type HTTPFace func(ServeConfig) (http.Handler, error)

// ServeConfig is what cmd wires for the HTTP face: the ledger and the
// lifecycle over it, the API keys, and the one account served.
type ServeConfig struct {
	Service  *campaign.Service
	Keys     *apikey.Keys
	DB       *store.DB
	MaxBody  int64 // bytes of one request body
	SpoolDir string
	Log      *slog.Logger
	Account  string
	Callback wechat.CallbackConfig
	OpenIDs  recipient.OpenIDCheck
	// TimeZone is the account's (an IANA name): a batch's quiet_hours are
	// read in it.
	TimeZone string
	// Followers is the account's client, for batches that name an audience.
	Followers campaign.Followers
	// Metrics serves GET /metrics; MetricsPublic opens it beyond loopback
	// clients.
	Metrics       http.Handler
	MetricsPublic bool
}

// Flags of megasend serve.
const (
	flgServeAddr    = "addr"
	flgServeMaxBody = "max-body"
	flgServeMetrics = "metrics-public"
)

// Timeouts of serve's HTTP server: a client gets this long to send its
// request's headers, and an idle keep-alive connection is closed after
// serveIdleTimeout. A request body is bounded by --max-body and may not
// stall longer than the HTTP face allows (server.DefaultBodyIdle).
const (
	serveReadHeaderTimeout = 10 * time.Second
	serveIdleTimeout       = 2 * time.Minute
	// serveShutdownGrace bounds how long a stopping serve waits for the
	// requests in flight (an upload being imported) before it cuts them.
	serveShutdownGrace = 30 * time.Second
)

// serveOptions are the parsed flags of megasend serve.
type serveOptions struct {
	addr        string
	sandbox     bool
	maxBody     string
	dedupWindow time.Duration
	quotaProbe  time.Duration
	// metricsPublic opens /metrics to every client.
	metricsPublic bool
}

func (a *app) serveCommand() *cli.Command {
	var o serveOptions
	return &cli.Command{
		Name:  "serve",
		Usage: "serve the HTTP API: batches over the same ledger, and the account's WeChat callback URL",
		UsageText: `megasend serve [--addr HOST:PORT] [--sandbox] [--max-body SIZE] [--metrics-public]

Serves the HTTP API of the account other commands use (--account, default_account,
or the configuration's only one) and sends its batches in the background, one
at a time, through one WeChat client. Every /v1/ route needs Authorization: Bearer
KEY, a key made with 'megasend apikey add NAME'. Prints "listening on http://HOST:PORT"
on stderr once it accepts connections (--addr 127.0.0.1:0 picks a free port).

POST /v1/messages                    send one message (ahead of the batches), or at send_at
GET  /v1/messages/ID                 its trace: states, attempts, errcode, msgid, receipt
POST /v1/batches                     create a batch: JSON, or a CSV/JSONL body
GET  /v1/batches                     the account's batches
GET  /v1/batches/NAME                one batch: report, receipts, schedule
GET  /v1/batches/NAME/recipients     its recipients as JSONL (?state=failed,...)
POST /v1/batches/NAME/pause|resume|retry
POST /v1/batches/NAME/cancel         stop it for good: the unsent are skipped
GET  /v1/templates                   the stored templates (shared by every account)
GET|PUT|DELETE /v1/templates/KEY     one template; PUT refuses what lint calls an error
GET|POST /wechat/callback/ACCOUNT    WeChat's callback URL (callback_token in the
                                     configuration, or MEGASEND_CALLBACK_TOKEN)
GET  /metrics                        Prometheus metrics, to loopback clients only unless
                                     --metrics-public (or metrics_public = true)
GET  /                               the web page: the batches live, a batch's report and
                                     buttons, a message's trace (sign in with an API key)
GET  /healthz                        GET /v1/openapi.json describes the rest

SIGINT or SIGTERM stops it: no new requests, in-flight sends finish and are
recorded, and the batches left are taken up by the next serve.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: flgServeAddr, Value: "127.0.0.1:8080", Usage: "listen on `HOST:PORT` (port 0 picks one)", Destination: &o.addr},
			&cli.BoolFlag{Name: flgSandbox, Usage: "send to a simulated WeChat API in-process (no account needed)", Destination: &o.sandbox},
			&cli.StringFlag{Name: flgServeMaxBody, Value: "512MiB", Usage: "refuse a request body over `SIZE` (bytes, or with KiB, MiB, GiB)", Destination: &o.maxBody},
			&cli.BoolFlag{Name: flgServeMetrics, Usage: "serve /metrics to every client, not only loopback ones (also: metrics_public = true)", Destination: &o.metricsPublic},
			&cli.DurationFlag{Name: "dedup-window", Value: 10 * time.Minute, Hidden: true, Destination: &o.dedupWindow,
				Usage: "WeChat's client_msg_id dedup window (tests shorten it)"},
			&cli.DurationFlag{Name: "quota-probe", Value: 5 * time.Minute, Hidden: true, Destination: &o.quotaProbe,
				Usage: "how often to ask WeChat whether a spent daily quota is back (tests shorten it)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("serve: unexpected argument %q", c.Args().First())
			}
			return a.runServe(c.Context, o)
		},
	}
}

// runServe serves the API until ctx is cancelled (the first signal), then
// stops accepting, lets the requests in flight finish, stops the runner
// once its in-flight sends are recorded, and returns nil: exit 0.
func (a *app) runServe(ctx context.Context, o serveOptions) error {
	maxBody, err := parseSize(o.maxBody)
	if err != nil {
		return usageErrorf("--%s: %w", flgServeMaxBody, err)
	}
	cr, err := a.credentials()
	if err != nil {
		return err
	}
	if err := checkCredentials(cr, o.sandbox); err != nil {
		return err
	}
	callback := wechat.CallbackConfig{Token: cr.CallbackToken, EncodingAESKey: cr.EncodingAESKey, AppID: cr.AppID}
	if o.sandbox {
		callback.AppID = wechattest.DefaultAppID // the sandbox's receipts are sealed with its own
	}
	concurrency := cr.Concurrency
	if concurrency == 0 {
		concurrency = 32
	}
	db, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	client, stopWeChat, err := a.newWeChat(cr, db, o.sandbox, concurrency)
	if err != nil {
		return err
	}
	defer stopWeChat()

	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}

	svc := campaign.New(db, a.owner(), a.log)
	// Every send of the account goes through its one client, measured.
	mets := metrics.New(context.WithoutCancel(ctx), db, a.log) // scrapes answered while stopping, as requests are
	runner := svc.NewRunner(cr.Name, campaign.RunOptions{
		Client: client, Send: mets.Sends(cr.Name, client), Concurrency: concurrency, Rate: cr.Rate,
		DedupWindow: o.dedupWindow, Abort: a.kill, QuietHours: cr.QuietHours, Cap: cr.Cap,
	})
	runner.QuotaProbe = o.quotaProbe
	quota := metrics.NewQuota(client, metrics.DefaultQuotaEvery, cr.Name, a.log)
	if err := mets.Watch(cr.Name, runner, quota); err != nil {
		return err
	}
	if a.httpFace == nil {
		return errors.New("serve: this binary was built without the HTTP face (see main.go)")
	}
	api, err := a.httpFace(ServeConfig{
		Service: svc, Keys: apikey.NewKeys(db), DB: db, MaxBody: maxBody, Log: a.log,
		SpoolDir: filepath.Dir(db.Path()), Account: cr.Name, Callback: callback, OpenIDs: cr.OpenIDCheck,
		TimeZone: cr.TimeZone, Followers: client,
		Metrics: mets.Handler(), MetricsPublic: o.metricsPublic || cfg.MetricsPublic,
	})
	if err != nil {
		return usageErrorf("account %s: %w", cr.Name, err)
	}
	if cr.CallbackToken == "" {
		a.log.Info("no callback_token: delivery receipts are not received (set callback_token, or "+envCallbackToken+")",
			"account", cr.Name)
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return usageErrorf("serve: %w", err)
	}
	srv := &http.Server{
		Handler: api, ReadHeaderTimeout: serveReadHeaderTimeout, IdleTimeout: serveIdleTimeout,
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}

	runCtx, stopRunner := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRunner()
	ran := make(chan error, 1)
	go func() { ran <- runner.Run(runCtx) }()
	polled := make(chan struct{})
	go func() { defer close(polled); quota.Run(runCtx) }()
	defer func() { stopRunner(); <-polled }() // before the ledger closes
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(a.streams.Err, "listening on %s\n", listenURL(ln.Addr()))
	a.log.Info("serving", "account", cr.Name, "addr", ln.Addr().String(), "db", db.Path(),
		"metrics_public", o.metricsPublic || cfg.MetricsPublic)

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-served:
		stopRunner()
		<-ran
		return fmt.Errorf("serve: %w", err)
	case runErr = <-ran:
		// Only a damaged ledger stops the runner: serve nothing more.
		ran <- runErr
	}
	a.log.Info("stopping: no new requests; in-flight sends finish and are recorded")
	shutdownCtx, cancel := context.WithTimeout(a.kill, serveShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close()
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		a.log.Error("serve", "err", err)
	}
	stopRunner()
	if err := <-ran; err != nil {
		return err
	}
	a.log.Info("stopped")
	return nil
}

// parseSize reads a size: bytes, or a number with KiB, MiB or GiB (K, M,
// G, KB, MB and GB mean the same: powers of 1024).
func parseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	num := strings.TrimRight(t, "KMGIB")
	unit := strings.TrimSpace(t[len(num):])
	num = strings.TrimSpace(num)
	shift := 0
	switch strings.TrimSuffix(strings.TrimSuffix(unit, "B"), "I") {
	case "":
	case "K":
		shift = 10
	case "M":
		shift = 20
	case "G":
		shift = 30
	default:
		return 0, fmt.Errorf("want a size such as 64MiB or 1GiB, got %q", s)
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)>>shift {
		return 0, fmt.Errorf("want a positive size such as 64MiB or 1GiB, got %q", s)
	}
	return n << shift, nil
}
