package cmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/megasend/megasend/wechat/wechattest"
)

// Flags of megasend sandbox. Scripts depend on these names.
const (
	flgSandboxAddr        = "addr"
	flgSandboxAppID       = "app-id"
	flgSandboxAppSecret   = "app-secret"
	flgSandboxLatency     = "latency"
	flgSandboxDeliveries  = "deliveries"
	flgSandboxTemplateIDs = "template-ids"
	flgSandboxQuota       = "quota"
	flgSandboxTokenTTL    = "token-ttl"
	flgSandboxFailRate    = "fail-rate"
	flgSandboxUnfollowed  = "unfollowed"
	flgSandboxDedupWindow = "dedup-window"
	flgSandboxFollowers   = "followers"
	flgSandboxSeed        = "seed"

	flgSandboxCallback       = "callback"
	flgSandboxCallbackToken  = "callback-token"
	flgSandboxCallbackAESKey = "callback-aes-key"
	flgSandboxBlocked        = "blocked"
	flgSandboxSystemFailed   = "system-failed"
	flgSandboxReceiptDelay   = "receipt-delay"
	flgSandboxReceiptRetry   = "receipt-retry"
)

// sandboxShutdownGrace bounds how long a stopping sandbox waits for
// requests in flight.
const sandboxShutdownGrace = 5 * time.Second

// sandboxOptions are the parsed flags of megasend sandbox.
type sandboxOptions struct {
	addr        string
	appID       string
	appSecret   string
	latency     string
	deliveries  string
	templateIDs string
	quota       int
	tokenTTL    time.Duration
	failRate    float64
	unfollowed  string
	dedupWindow time.Duration
	followers   int
	seed        int64

	followersSet bool // --followers given: membership is real
	tags         string
	interacted   string
	subscribed   string

	callback       string
	callbackToken  string
	callbackAESKey string
	blocked        string
	systemFailed   string
	receiptDelay   time.Duration
	receiptRetry   time.Duration
}

func (a *app) sandboxCommand() *cli.Command {
	var o sandboxOptions
	return &cli.Command{
		Name:  "sandbox",
		Usage: "serve a simulated WeChat API (tokens, template, custom and subscribe sends, followers, quota, faults)",
		UsageText: `megasend sandbox [--addr HOST:PORT] [--latency DURATION|MIN-MAX] [--deliveries FILE] [options]

Prints "url: ...", "app_id: ..." and "app_secret: ..." on stdout, one per line,
then serves until interrupted. Point api_base (or MEGASEND_API_BASE) at the url.
GET /sandbox/stats and POST /sandbox/revoke, /sandbox/expire, /sandbox/quota/reset,
/sandbox/quota?n=N, /sandbox/fail?code=N&n=K (or status=5xx) drive it from scripts;
POST /sandbox/fail/clear drops the faults still queued (quota/reset leaves them).

With --callback URL it is also WeChat's side of the account's callbacks: a
moment after accepting a template message it posts the delivery receipt
(TEMPLATESENDJOBFINISH, the msgid the send was answered) to URL, signed with
--callback-token as WeChat signs pushes, encrypted (safe mode) with
--callback-aes-key, tried three times in all until answered 200 "success" or
empty. Status "failed:user block" for the openids in --blocked FILE,
"failed: system failed" for --system-failed FILE, "success" otherwise.
GET /sandbox/stats counts receipts_queued, _posted, _answered, _failed,
_dropped and _pending.

Followers and message kinds: user/get lists --followers N synthetic
followers (25,000 by default); given explicitly, membership is real and a
send of any kind to an openid outside them answers 40003, as WeChat does.
--tags vip=300,beta=50 puts tags on them (tags/get, user/tag/get,
tags/getidlist, user/info). Customer-service messages (custom/send) reach
only the --interacted openids (a FILE of them, one per line, or a share such
as 30%), inside the 48-hour window since the sandbox started, 5 per openid:
45015 outside it, 45047 after the fifth. Subscribe notifications
(subscribe/bizsend) reach only the --subscribed openids (FILE or P%): 43101
for the others. Without these flags everyone is reached. Each --deliveries
line says its "kind": template, custom or subscribe.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: flgSandboxAddr, Value: "127.0.0.1:8080", Usage: "listen on `HOST:PORT` (port 0 picks one)", Destination: &o.addr},
			&cli.StringFlag{Name: flgSandboxAppID, Value: wechattest.DefaultAppID, Usage: "the `APPID` the sandbox accepts", Destination: &o.appID},
			&cli.StringFlag{Name: flgSandboxAppSecret, Value: wechattest.DefaultAppSecret, Usage: "the `SECRET` the sandbox accepts (its own, not a real one)", Destination: &o.appSecret},
			&cli.StringFlag{Name: flgSandboxLatency, Usage: "answer after `DURATION` (20ms), or a uniform MIN-MAX (5ms-50ms)", Destination: &o.latency},
			&cli.StringFlag{Name: flgSandboxDeliveries, Usage: "append one JSON line per delivered message to `FILE`", Destination: &o.deliveries},
			&cli.StringFlag{Name: flgSandboxTemplateIDs, Usage: "also accept the template ids `ID,...` (any: every id)", Destination: &o.templateIDs},
			&cli.IntFlag{Name: flgSandboxQuota, Value: 100000, Usage: "daily template/send quota `N`", Destination: &o.quota},
			&cli.DurationFlag{Name: flgSandboxTokenTTL, Value: 7200 * time.Second, Usage: "access token lifetime `DURATION` (1s or more)", Destination: &o.tokenTTL},
			&cli.Float64Flag{Name: flgSandboxFailRate, Usage: "`FRACTION` of sends answered -1 system error (0.2: one in five)", Destination: &o.failRate},
			&cli.StringFlag{Name: flgSandboxUnfollowed, Usage: "openids that unfollowed (43004; custom 45015, subscribe 43101), one per line in `FILE`", Destination: &o.unfollowed},
			&cli.DurationFlag{Name: flgSandboxDedupWindow, Value: 10 * time.Minute, Usage: "client_msg_id dedup window `DURATION` (0 disables)", Destination: &o.dedupWindow},
			&cli.IntFlag{Name: flgSandboxFollowers, Value: 25000, Usage: "`N` synthetic followers served by user/get; given, sends to anyone else answer 40003", Destination: &o.followers},
			&cli.StringFlag{Name: flgSandboxTags, Usage: "tags over the followers, `NAME=COUNT,...` (vip=300,beta=50)", Destination: &o.tags},
			&cli.StringFlag{Name: flgSandboxInteracted, Usage: "who custom messages reach (48-hour window): a `FILE|P%` of openids, one per line, or a share such as 30%", Destination: &o.interacted},
			&cli.StringFlag{Name: flgSandboxSubscribed, Usage: "who subscribe notifications reach: a `FILE|P%` of openids, one per line, or a share such as 30%", Destination: &o.subscribed},
			&cli.Int64Flag{Name: flgSandboxSeed, Usage: "random `SEED` for reproducible runs (0: from the clock)", Destination: &o.seed},
			&cli.StringFlag{Name: flgSandboxCallback, Usage: "post a delivery receipt for each accepted template message to `URL`", Destination: &o.callback},
			&cli.StringFlag{Name: flgSandboxCallbackToken, Usage: "sign receipts with the callback `TOKEN` (3 to 32 letters and digits)", Destination: &o.callbackToken},
			&cli.StringFlag{Name: flgSandboxCallbackAESKey, Usage: "post receipts in safe mode, encrypted with the 43-character EncodingAESKey `KEY`", Destination: &o.callbackAESKey},
			&cli.StringFlag{Name: flgSandboxBlocked, Usage: "openids whose receipts say failed:user block, one per line in `FILE`", Destination: &o.blocked},
			&cli.StringFlag{Name: flgSandboxSystemFailed, Usage: "openids whose receipts say failed: system failed, one per line in `FILE`", Destination: &o.systemFailed},
			&cli.DurationFlag{Name: flgSandboxReceiptDelay, Value: 200 * time.Millisecond, Usage: "post each receipt `DURATION` after accepting the message", Destination: &o.receiptDelay},
			&cli.DurationFlag{Name: flgSandboxReceiptRetry, Value: 3 * time.Second, Usage: "wait `DURATION` between tries of a receipt", Destination: &o.receiptRetry},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("sandbox: unexpected argument %q", c.Args().First())
			}
			o.followersSet = c.IsSet(flgSandboxFollowers)
			simOpts, err := o.simOptions()
			if err != nil {
				return err
			}
			kill := a.kill
			if kill == nil {
				kill = context.WithoutCancel(c.Context)
			}
			return runSandbox(c.Context, kill, o, simOpts, a.streams.Out, a.log)
		},
	}
}

// simOptions turns the flags into the simulator's options, reading the
// unfollowed file. Bad values are usage errors.
func (o sandboxOptions) simOptions() (wechattest.Options, error) {
	var opts wechattest.Options
	if o.appID == "" || o.appSecret == "" {
		return opts, usageErrorf("--%s and --%s must not be empty", flgSandboxAppID, flgSandboxAppSecret)
	}
	opts.AppID, opts.AppSecret = o.appID, o.appSecret

	var err error
	if opts.Latency, opts.LatencyMax, err = parseLatency(o.latency); err != nil {
		return opts, usageErrorf("--%s: %w", flgSandboxLatency, err)
	}
	// In Options zero means "the default"; on the command line 0 means 0.
	if opts.Quota, err = zeroMeansNone(o.quota, flgSandboxQuota); err != nil {
		return opts, err
	}
	if opts.DedupWindow, err = zeroMeansNone(o.dedupWindow, flgSandboxDedupWindow); err != nil {
		return opts, err
	}
	// WeChat's expires_in counts whole seconds: a shorter lifetime would be
	// answered as expires_in 0.
	if o.tokenTTL < time.Second {
		return opts, usageErrorf("--%s: want 1s or more (expires_in counts whole seconds), got %v", flgSandboxTokenTTL, o.tokenTTL)
	}
	opts.TokenTTL = o.tokenTTL
	if o.failRate < 0 || o.failRate > 1 {
		return opts, usageErrorf("--%s: want a fraction from 0 to 1, got %v", flgSandboxFailRate, o.failRate)
	}
	opts.FailRate = o.failRate
	opts.TemplateIDs = splitList(o.templateIDs)
	opts.Seed = o.seed

	if opts.Unfollowed, err = readOpenIDFile(flgSandboxUnfollowed, o.unfollowed); err != nil {
		return opts, err
	}
	if err := o.audienceOptions(&opts); err != nil {
		return opts, err
	}
	if err := o.callbackOptions(&opts); err != nil {
		return opts, err
	}
	return opts, validateSimOptions(opts)
}

// validateSimOptions applies wechattest's own checks, naming the flag of
// the field it refuses.
func validateSimOptions(opts wechattest.Options) error {
	err := opts.Validate()
	if err == nil {
		return nil
	}
	var oe *wechattest.OptionError
	if errors.As(err, &oe) && flagOfField(oe.Field) != "" {
		return usageErrorf("--%s: %s", flagOfField(oe.Field), oe.Problem)
	}
	return usageErrorf("sandbox: %w", err)
}

// callbackOptions fills in the receipt options. Every receipt flag but
// --callback needs --callback; bad values are usage errors naming the flag
// (and for a file, its line), never showing the token or the key.
func (o sandboxOptions) callbackOptions(opts *wechattest.Options) error {
	if o.callback == "" {
		for _, f := range []struct{ flag, value string }{
			{flgSandboxCallbackToken, o.callbackToken}, {flgSandboxCallbackAESKey, o.callbackAESKey},
			{flgSandboxBlocked, o.blocked}, {flgSandboxSystemFailed, o.systemFailed},
		} {
			if f.value != "" {
				return usageErrorf("--%s needs --%s: it only shapes the receipts posted there", f.flag, flgSandboxCallback)
			}
		}
		return nil
	}
	if o.callbackToken == "" {
		return usageErrorf("--%s needs --%s: WeChat signs every push with the account's token", flgSandboxCallback, flgSandboxCallbackToken)
	}
	opts.CallbackURL, opts.CallbackToken, opts.CallbackAESKey = o.callback, o.callbackToken, o.callbackAESKey
	if err := validateSimOptions(*opts); err != nil {
		return err
	}
	var err error
	if opts.ReceiptDelay, err = zeroMeansNone(o.receiptDelay, flgSandboxReceiptDelay); err != nil {
		return err
	}
	if opts.ReceiptRetryDelay, err = zeroMeansNone(o.receiptRetry, flgSandboxReceiptRetry); err != nil {
		return err
	}
	if opts.Blocked, err = readOpenIDFile(flgSandboxBlocked, o.blocked); err != nil {
		return err
	}
	opts.SystemFailed, err = readOpenIDFile(flgSandboxSystemFailed, o.systemFailed)
	return err
}

// readOpenIDFile reads the openids of a flag's file, one per line; "" is
// none. Errors are usage errors naming the flag, the file and the line.
func readOpenIDFile(flag, path string) ([]string, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, usageErrorf("--%s: %w", flag, err)
	}
	defer f.Close()
	ids, err := readOpenIDs(f)
	if err != nil {
		return nil, usageErrorf("--%s %s: %w", flag, path, err)
	}
	return ids, nil
}

// parseLatency parses "20ms" (fixed) or "5ms-50ms" (uniform jitter) into
// the simulator's Latency and LatencyMax. "" means none.
func parseLatency(s string) (min, max time.Duration, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, 0, nil
	}
	lo, hi, ranged := strings.Cut(s, "-")
	if min, err = time.ParseDuration(strings.TrimSpace(lo)); err != nil {
		return 0, 0, fmt.Errorf("want D or MIN-MAX such as 20ms or 5ms-50ms: %w", err)
	}
	max = min
	if ranged {
		if max, err = time.ParseDuration(strings.TrimSpace(hi)); err != nil {
			return 0, 0, fmt.Errorf("want D or MIN-MAX such as 20ms or 5ms-50ms: %w", err)
		}
	}
	switch {
	case min < 0:
		return 0, 0, fmt.Errorf("negative latency %v", min)
	case max < min:
		return 0, 0, fmt.Errorf("range %v-%v ends before it starts", min, max)
	}
	return min, max, nil
}

// splitList splits a comma-separated flag value, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// readOpenIDs reads one openid per line; blank lines and lines starting
// with # are skipped. A line that cannot be an openid (WeChat's are 28
// characters of A-Z a-z 0-9 _ -) is an error naming its line number, since
// it would silently never match.
func readOpenIDs(r io.Reader) ([]string, error) {
	var ids []string
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if n == 1 {
			line = strings.TrimPrefix(line, "\uFEFF")
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !isOpenID(line) {
			return nil, fmt.Errorf("line %d: %q is not an openid", n, line)
		}
		ids = append(ids, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	return ids, nil
}

// isOpenID reports whether s has the shape of a WeChat openid.
func isOpenID(s string) bool {
	if len(s) != 28 {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// runSandbox serves the simulator on o.addr until ctx is cancelled, then
// shuts down, giving requests in flight a few seconds (none if kill is
// cancelled first). It prints the url and credentials on out, one
// "key: value" per line, once it is listening.
func runSandbox(ctx, kill context.Context, o sandboxOptions, opts wechattest.Options, out io.Writer, log *slog.Logger) error {
	if o.deliveries != "" {
		f, err := os.OpenFile(o.deliveries, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return usageErrorf("--%s: %w", flgSandboxDeliveries, err)
		}
		defer f.Close()
		opts.Deliveries = f
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	sim := wechattest.New(opts)
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	_, err = fmt.Fprintf(out, "url: %s\napp_id: %s\napp_secret: %s\n", listenURL(ln.Addr()), opts.AppID, opts.AppSecret)
	if err != nil {
		srv.Close()
		return fmt.Errorf("sandbox: %w", err)
	}

	select {
	case err := <-served:
		return fmt.Errorf("sandbox: serve: %w", err)
	case <-ctx.Done():
	}
	sim.Close() // release stalled answers, so shutdown does not wait for them
	shutdownCtx, cancel := context.WithTimeout(kill, sandboxShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close()
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("sandbox: serve: %w", err)
	}
	st := sim.Stats()
	attrs := []any{"requests", st.Requests, "accepted", st.Accepted, "deduplicated", st.Deduplicated, "quota_used", st.QuotaUsed}
	if opts.CallbackURL != "" {
		attrs = append(attrs, "receipts_answered", st.ReceiptsAnswered, "receipts_failed", st.ReceiptsFailed,
			"receipts_dropped", st.ReceiptsDropped)
	}
	log.Info("sandbox stopped", attrs...)
	return nil
}

// listenURL is the base URL clients use for addr: an unspecified host
// (":8080", "0.0.0.0:8080") is reached through loopback.
func listenURL(addr net.Addr) string {
	host, port := "127.0.0.1", ""
	if tcp, ok := addr.(*net.TCPAddr); ok {
		port = strconv.Itoa(tcp.Port)
		if !tcp.IP.IsUnspecified() {
			host = tcp.IP.String()
		}
	} else if h, p, err := net.SplitHostPort(addr.String()); err == nil {
		host, port = h, p
	}
	return "http://" + net.JoinHostPort(host, port)
}

// zeroMeansNone translates a flag where 0 means zero (no quota, no
// followers, no dedup) into wechattest.Options, where 0 means the default
// and a negative value means none. Negative flags are refused.
func zeroMeansNone[T int | time.Duration](v T, flag string) (T, error) {
	switch {
	case v < 0:
		return 0, usageErrorf("--%s: want 0 or more, got %v", flag, v)
	case v == 0:
		return -1, nil
	}
	return v, nil
}
