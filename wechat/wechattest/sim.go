package wechattest

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Sim is the simulated WeChat API as an http.Handler. All its state lives
// inside it; it is safe for concurrent use, and every knob may be turned
// while requests are being served. Create one with New, or NewServer for one
// already listening.
type Sim struct {
	opts Options // defaults applied; read-only after New

	// Read-only after New.
	templates    map[string]TemplateInfo
	anyTemplate  bool
	unfollowed   map[string]bool
	blocked      map[string]bool // receipts say "failed:user block"
	systemFailed map[string]bool // receipts say "failed: system failed"
	receipts     *receiptPoster  // nil without Options.CallbackURL

	followersOnce   sync.Once
	followers       *followerSet
	strictFollowers bool // Options.Followers was set: non-followers answer 40003
	tags            []tagDef
	interacted      *audience // nil: everyone
	subscribed      *audience // nil: everyone
	windowOpened    time.Time // when the Interacted openids' window opened

	closeOnce sync.Once
	closed    chan struct{} // closed by Close: held answers are released

	mu  sync.Mutex // guards everything below
	rng *rand.Rand

	tokens        map[string]*token
	classicLatest *token // the classic token the next /cgi-bin/token supersedes
	stableCur     *token // the stable token normal mode hands out
	lastForce     time.Time

	day              string         // CST date the daily counters belong to
	callsToday       map[string]int // requests by path, for quota/get
	tokenCallsToday  int
	stableCallsToday int
	forcesToday      int
	quota            int
	quotaUsed        int

	latencyMin, latencyMax time.Duration
	failRate               float64
	hook                   func(SendRequest) *Fault
	faults                 []queuedFault
	revokeAt               []int64

	sendSeq    int64          // send requests of every kind so far
	customSent map[string]int // custom messages per openid inside its window
	customUsed int            // today's accepted custom messages
	nextMsgID  int64
	dedup      dedupTable
	deliveries []Delivery
	stats      Stats
}

// msgIDBase is where msgids start: a real one seen in the wild, above 2^53 so
// that a client decoding it through float64 loses digits and fails tests.
const msgIDBase = 3557254367693750277

// New returns a simulator configured by opts (zero fields take the defaults
// documented on Options). It does not listen; serve it with net/http or use
// NewServer. With Options.CallbackURL it starts posting receipts in the
// background until Close. It panics if opts.Validate fails.
func New(opts Options) *Sim {
	if err := opts.Validate(); err != nil {
		panic("wechattest: " + err.Error())
	}
	strict := opts.Followers != 0
	opts = opts.withDefaults()
	s := &Sim{
		strictFollowers: strict,
		tags:            tagDefsOf(opts.Tags),
		interacted:      newAudience(opts.Interacted),
		subscribed:      newAudience(opts.Subscribed),
		opts:            opts,
		templates:       make(map[string]TemplateInfo),
		unfollowed:      make(map[string]bool),
		closed:          make(chan struct{}),
		rng:             rand.New(rand.NewPCG(uint64(opts.Seed), uint64(opts.Seed)^0x9e3779b97f4a7c15)),
		tokens:          make(map[string]*token),
		callsToday:      make(map[string]int),
		quota:           opts.Quota,
		latencyMin:      opts.Latency,
		latencyMax:      opts.LatencyMax,
		failRate:        opts.FailRate,
		stats: Stats{
			Rejected:       make(map[int]int64),
			Calls:          make(map[string]int64),
			AcceptedByKind: make(map[string]int64),
		},
	}
	for _, t := range DefaultTemplates() {
		s.templates[t.TemplateID] = t
	}
	for _, id := range opts.TemplateIDs {
		switch {
		case id == "any":
			s.anyTemplate = true
		case id != "":
			if _, ok := s.templates[id]; !ok {
				s.templates[id] = extraTemplate(id)
			}
		}
	}
	for _, id := range opts.Unfollowed {
		s.unfollowed[id] = true
	}
	s.blocked = setOf(opts.Blocked)
	s.systemFailed = setOf(opts.SystemFailed)
	s.receipts = newReceiptPoster(opts)
	s.nextMsgID = msgIDBase + s.rng.Int64N(1<<20)
	s.windowOpened = opts.Now()
	s.day = chinaDay(s.windowOpened)
	return s
}

// ServeHTTP answers one request as WeChat would. A path the simulator does
// not serve has its access_token checked, as every API's is, and then
// answers "not simulated" (HTTP 501, see writeNotSimulated); /sandbox/ paths
// are the simulator's own control endpoints.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if strings.HasPrefix(path, "/sandbox/") {
		s.serveControl(w, r)
		return
	}
	s.mu.Lock()
	s.stats.Calls[path]++
	s.nowLocked()
	s.callsToday[path]++
	delay := s.latencyLocked()
	s.mu.Unlock()
	if !s.wait(r.Context(), delay) {
		return // the client gave up while the request was "on the wire"
	}
	switch path {
	case "/cgi-bin/token":
		s.serveToken(w, r)
	case "/cgi-bin/stable_token":
		s.serveStableToken(w, r)
	case "/cgi-bin/message/template/send":
		s.serveSend(w, r)
	case "/cgi-bin/template/get_all_private_template":
		s.serveTemplates(w, r)
	case "/cgi-bin/openapi/quota/get":
		s.serveQuotaGet(w, r)
	case "/cgi-bin/user/get":
		s.serveUserGet(w, r)
	case "/cgi-bin/user/tag/get":
		s.serveTagGet(w, r)
	case "/cgi-bin/tags/get":
		s.serveTagsGet(w, r)
	case "/cgi-bin/tags/getidlist":
		s.serveTagIDList(w, r)
	case "/cgi-bin/user/info":
		s.serveUserInfo(w, r)
	case "/cgi-bin/message/custom/send":
		s.serveCustom(w, r)
	case "/cgi-bin/message/subscribe/bizsend":
		s.serveSubscribe(w, r)
	default:
		if s.authorize(w, r) {
			writeNotSimulated(w, r.Method+" "+path)
		}
	}
}

// Close releases every answer the simulator is holding (latency, StallNext)
// and makes later delays return at once, so that an http.Server serving s
// can shut down promptly. It stops posting receipts, waiting for the posts
// in flight to be abandoned, and counts those not yet answered as dropped.
// The Sim still answers requests after Close.
func (s *Sim) Close() {
	s.closeOnce.Do(func() { close(s.closed) })
	if s.receipts != nil {
		s.receipts.close()
	}
}

// setOf returns the set of ids, nil for none.
func setOf(ids []string) map[string]bool {
	if len(ids) == 0 {
		return nil
	}
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// wait blocks for d, or until ctx is done or the Sim is closed. It returns
// false only if ctx ended first: the caller's client has gone away.
func (s *Sim) wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.closed:
		return true
	case <-ctx.Done():
		return false
	}
}

// nowLocked reads the clock and rolls the daily counters over if a new day (in
// China) has begun. Callers hold s.mu.
func (s *Sim) nowLocked() time.Time {
	now := s.opts.Now()
	if d := chinaDay(now); d != s.day {
		s.day = d
		clear(s.callsToday)
		s.tokenCallsToday = 0
		s.stableCallsToday = 0
		s.forcesToday = 0
		s.quotaUsed = 0
		s.customUsed = 0
	}
	return now
}

// chinaTime is UTC+8, where WeChat's daily limits reset at midnight. A fixed
// zone avoids depending on the host's tzdata.
var chinaTime = time.FixedZone("CST", 8*60*60)

// chinaDay names the day t falls on in China.
func chinaDay(t time.Time) string {
	return t.In(chinaTime).Format(time.DateOnly)
}
