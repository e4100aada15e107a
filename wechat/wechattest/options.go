package wechattest

import (
	"io"
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
	// Unfollowed are openids that answer 43004 "require subscribe". Every
	// other well-formed openid follows the account.
	Unfollowed []string
	// Followers is the size of the synthetic follower set served by
	// /cgi-bin/user/get; zero means 25000, negative means no followers.
	Followers int

	// Latency delays every API answer. If LatencyMax > Latency the delay is
	// drawn uniformly from [Latency, LatencyMax].
	Latency, LatencyMax time.Duration
	// FailRate is the fraction of otherwise valid template sends answered
	// errcode -1 "system error" (and not delivered).
	FailRate float64

	// Deliveries, if set, receives one JSON line per accepted, non-duplicate
	// message (the Delivery encoding), each written with a single Write call
	// and flushed if the writer has a Flush method. Write errors are counted
	// in Stats.DeliveryWriteErrors; they do not fail the send.
	Deliveries io.Writer

	// Now is the clock; nil means time.Now. It is called with the
	// simulator's lock held, so it must not call back into the Sim.
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
