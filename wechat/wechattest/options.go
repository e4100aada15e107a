package wechattest

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// DefaultAppID is the AppID the simulator accepts when Options.AppID is
// empty. It is shaped like a real one (wx + 16 hex digits).
const DefaultAppID = "wx5a4d3b2c1e0f9a8b"

// DefaultAppSecret is the AppSecret the simulator accepts when
// Options.AppSecret is empty. It is public on purpose: the sandbox is not a
// secret-holding system.
const DefaultAppSecret = "sandbox-secret-not-for-production"

// Defaults applied by New to zero Options fields.
const (
	defaultTokenTTL    = 7200 * time.Second
	minTokenTTL        = time.Second
	defaultTokenGrace  = 5 * time.Minute
	defaultDedupWindow = 10 * time.Minute
	defaultQuota       = 100000
	defaultFollowers   = 25000
	// defaultCustomLimit is how many customer-service messages one user's
	// interaction allows: 5 in the 48 hours after a message from them
	// (reference notes §4, the current quota table).
	defaultCustomLimit = 5
	// customWindow is how long after an interaction customer-service
	// messages may be sent (§4).
	customWindow = 48 * time.Hour
	// customDailyLimit is custom/send's documented daily API limit (§4).
	customDailyLimit = 500000
)

// Options configures a Sim. The zero value is a working account: default
// credentials, WeChat's documented lifetimes and limits, every well-formed
// openid following, no latency and no faults.
type Options struct {
	// AppID and AppSecret are the credentials the token endpoints accept;
	// empty means DefaultAppID and DefaultAppSecret.
	AppID, AppSecret string

	// TokenTTL is the lifetime of every access token; zero means 7200 s.
	// WeChat counts expires_in in whole seconds, so a TokenTTL under a
	// second is raised to one second.
	TokenTTL time.Duration
	// TokenGrace is how long a classic token keeps working after the next
	// /cgi-bin/token call superseded it; zero means 5 minutes, negative means
	// no grace at all.
	TokenGrace time.Duration
	// DedupWindow is how long a (touser, client_msg_id) pair is remembered;
	// zero means 10 minutes, negative disables deduplication.
	DedupWindow time.Duration

	// Quota is the daily template/send limit; zero means 100000, negative
	// means none at all (every send answers 45009).
	Quota int
	// TemplateIDs are accepted by template/send besides DefaultTemplates. An
	// element "any" accepts every non-empty template_id.
	TemplateIDs []string
	// Unfollowed are openids that unfollowed the account: template/send
	// answers them 43004 "require subscribe", custom/send 45015 (its errmsg
	// says "subscription is canceled"), subscribe/bizsend 43101, and
	// user/info "subscribe":0.
	Unfollowed []string
	// Followers is the size of the synthetic follower set served by
	// /cgi-bin/user/get. Zero means 25000 followers listed, while the send
	// endpoints still take every well-formed openid as a follower (what
	// most tests want: any openid works). Any other value makes membership
	// real, as at WeChat: a send of any kind to a well-formed openid outside
	// the set answers 40003 "invalid openid". Negative means no followers.
	Followers int
	// Tags, if set, replace the default tags (星标组, VIP客户, 内测用户) over
	// the followers: ids from 100 on, in order, each with Count followers
	// spread evenly over the follower list. Served by tags/get,
	// user/tag/get, tags/getidlist and user/info.
	Tags []Tag

	// Interacted, if set, are the openids inside the 48-hour window that a
	// user's interaction opens for customer-service messages (custom/send);
	// the others answer 45015. The window opens when the Sim is created
	// (as if they had all just written to the account) and closes 48 hours
	// later. nil means every openid is inside it.
	Interacted *Audience
	// CustomLimit is how many customer-service messages one openid may be
	// sent inside its window before custom/send answers 45047; zero means
	// 5 (WeChat's quota for a message from the user), negative means no
	// limit.
	CustomLimit int
	// Subscribed, if set, are the openids that accept subscribe
	// notifications (subscribe/bizsend); the others answer 43101 "user
	// refuse to accept the msg". nil means every openid.
	Subscribed *Audience

	// Latency delays every API answer. If LatencyMax > Latency the delay is
	// drawn uniformly from [Latency, LatencyMax].
	Latency, LatencyMax time.Duration
	// FailRate is the fraction of otherwise valid sends (every kind) answered
	// errcode -1 "system error" (and not delivered).
	FailRate float64

	// Deliveries, if set, receives one JSON line per accepted, non-duplicate
	// message (the Delivery encoding), each written with a single Write call
	// and flushed if the writer has a Flush method. Write errors are counted
	// in Stats.DeliveryWriteErrors; they do not fail the send.
	Deliveries io.Writer

	// CallbackURL, if set, receives a delivery receipt for every accepted
	// template message (duplicates excluded), posted as WeChat posts them:
	// TEMPLATESENDJOBFINISH with the msgid the send answered, signed with
	// CallbackToken, ReceiptDelay after the message was accepted, tried up
	// to three times in all until answered 200 with "success" or an empty
	// body. See receipts.go.
	CallbackURL string
	// CallbackToken signs the receipts, as the console's Token (令牌) signs
	// WeChat's pushes: 3 to 32 letters and digits. Required with
	// CallbackURL.
	CallbackToken string
	// CallbackAESKey, if set, is the account's 43-character EncodingAESKey:
	// receipts are posted in safe mode (encrypt_type=aes, the body an
	// <Encrypt> envelope, msg_signature).
	CallbackAESKey string
	// Blocked are openids whose receipts say "failed:user block", and
	// SystemFailed those whose receipts say "failed: system failed"
	// (Blocked wins). Their sends are accepted like any other: WeChat only
	// tells in the receipt.
	Blocked, SystemFailed []string
	// ReceiptDelay is how long after acceptance a receipt is first posted;
	// zero means 200 ms, negative means at once. ReceiptRetryDelay is the
	// wait between tries; zero means 3 s, negative means none.
	ReceiptDelay, ReceiptRetryDelay time.Duration
	// ReceiptQueue bounds the receipts waiting to be posted or retried;
	// zero means 10000. A receipt beyond it is dropped and counted in
	// Stats.ReceiptsDropped: a send never waits for a receipt.
	ReceiptQueue int
	// CallbackClient posts the receipts; nil means a client with WeChat's
	// 5-second wait for an answer.
	CallbackClient *http.Client

	// Now is the clock; nil means time.Now. It is called with the
	// simulator's lock held, so it must not call back into the Sim; with
	// CallbackURL the receipt posters call it too (for each push's
	// timestamp), from their own goroutines, so it must be safe for
	// concurrent use.
	Now func() time.Time
	// Seed seeds the randomness (tokens, rid, msgid gaps, FailRate, jitter);
	// zero seeds from the clock. The same non-zero Seed and the same request
	// sequence give the same answers.
	Seed int64
}

// withDefaults returns o with zero fields replaced by their defaults.
func (o Options) withDefaults() Options {
	if o.AppID == "" {
		o.AppID = DefaultAppID
	}
	if o.AppSecret == "" {
		o.AppSecret = DefaultAppSecret
	}
	switch {
	case o.TokenTTL <= 0:
		o.TokenTTL = defaultTokenTTL
	case o.TokenTTL < minTokenTTL:
		o.TokenTTL = minTokenTTL
	}
	o.TokenGrace = orDefault(o.TokenGrace, defaultTokenGrace)
	o.DedupWindow = orDefault(o.DedupWindow, defaultDedupWindow)
	o.Quota = orDefault(o.Quota, defaultQuota)
	o.Followers = orDefault(o.Followers, defaultFollowers)
	o.CustomLimit = orDefault(o.CustomLimit, defaultCustomLimit)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Seed == 0 {
		o.Seed = time.Now().UnixNano()
	}
	return o
}

// orDefault resolves an option where zero means "the default" and a
// negative value means none at all (zero).
func orDefault[T int | time.Duration](v, def T) T {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// OptionError is an option Validate refuses: the Options field and what
// is wrong with it. It never shows the field's value when that is a secret.
type OptionError struct {
	Field   string // e.g. "CallbackToken"
	Problem string
}

func (e *OptionError) Error() string { return e.Field + ": " + e.Problem }

// Validate reports what is wrong with the options, as an *OptionError: an
// Interacted or Subscribed share outside 0 to 100; a tag without a name,
// named twice, with a name longer than WeChat takes, or with more members
// than there are followers; a CallbackURL that is not an absolute http or
// https URL, a CallbackToken that is not 3 to 32 letters and digits (the
// console's rule for the Token), a CallbackAESKey that is not 43
// characters of base64, or a token or key without a URL. Its errors never
// show the token or the key. New panics with the same error, as
// httptest.NewServer panics when it cannot listen.
func (o Options) Validate() error {
	if err := o.Interacted.validate("Interacted"); err != nil {
		return err
	}
	if err := o.Subscribed.validate("Subscribed"); err != nil {
		return err
	}
	if err := validateTags(o.Tags, orDefault(o.Followers, defaultFollowers)); err != nil {
		return err
	}
	return o.validateCallback()
}

// validateCallback is Validate for the receipt options.
func (o Options) validateCallback() error {
	if o.CallbackURL == "" {
		switch {
		case o.CallbackToken != "":
			return &OptionError{"CallbackToken", "set without a CallbackURL to post receipts to"}
		case o.CallbackAESKey != "":
			return &OptionError{"CallbackAESKey", "set without a CallbackURL to post receipts to"}
		}
		return nil
	}
	u, err := url.Parse(o.CallbackURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &OptionError{"CallbackURL", fmt.Sprintf("%q is not an absolute http or https URL", o.CallbackURL)}
	}
	if !validCallbackToken(o.CallbackToken) {
		return &OptionError{"CallbackToken", fmt.Sprintf("want 3 to 32 letters and digits, as WeChat's console does (got %d characters)", len(o.CallbackToken))}
	}
	if o.CallbackAESKey != "" {
		if _, err := newCallbackCipher(o.CallbackAESKey, ""); err != nil {
			return &OptionError{"CallbackAESKey", err.Error()}
		}
	}
	return nil
}

// validCallbackToken applies the console's rule: 3 to 32 characters, each
// an ASCII letter or digit.
func validCallbackToken(t string) bool {
	if len(t) < 3 || len(t) > 32 {
		return false
	}
	for _, c := range []byte(t) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
