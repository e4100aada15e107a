package sender

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/megasend/megasend/wechat"
)

// Adaptive pacing. WeChat documents no per-second limit for template/send,
// but answers overload with 45011 or with -1 ("system busy"). 45011 is
// WeChat saying "slower": the pacer halves the batch's pace at once (at most
// once a second: every worker sees the same burst). -1 is ambiguous: WeChat
// also answers it at random, at a share that does not depend on how fast
// anyone sends, and slowing down for that only slows the batch down. So a
// share of -1 answers only prompts a trial: the pacer steps down one level
// and measures the share there. It keeps going down while the share falls
// with the pace, goes back up when it does not, and never below a floor (a
// quarter of the configured rate, or of the first measured one when there
// is none) on -1 answers alone. Once WeChat is quiet it climbs back a level
// at a time, within seconds.
//
// The pace moves in levels: level 0 is the configured rate (or none), level
// k is ref divided by √2 k times. A level is judged on the sends begun at it
// once it has settled: at least minSample of them over minDwell. The pacer
// remembers the share of -1 it measured at each level. It does not try a
// level below that was no better a short while ago (ttl, which doubles each
// time a trial finds nothing, so a steady rate-independent share costs one
// trial of half a second a minute or so), nor climb back to a level that was
// clearly worse (ttlUp: two seconds at first, so that a burst that ended
// during a trial does not keep the batch slow; longer while the level above
// keeps proving worse, so the pace settles).
const (
	minRate    = 1.0                    // messages/s the pacer never goes below
	busyShare  = 0.10                   // a share of -1 answers that prompts a trial
	minSample  = 100                    // outcomes a level's share is judged on
	minDwell   = 500 * time.Millisecond // the least time a level is given
	maxDwell   = 2 * time.Second        // a level too quiet to judge may be left upwards after this
	rateQuiet  = 2 * time.Second        // no speeding up this soon after a 45011
	rateEvery  = time.Second            // 45011 halves the pace at most this often
	settle     = 200 * time.Millisecond // sends begun this soon after a change are not counted
	ttlFirst   = 10 * time.Second       // how long "no better below" is trusted at first
	ttlMax     = 80 * time.Second       // and at most, after trials that found nothing
	ttlUpFirst = 2 * time.Second        // how long "worse above" is trusted at first
	ttlUpMax   = 16 * time.Second       // and at most, after climbs that found it still true
	floorShare = 4                      // -1 alone never takes the pace below ref / floorShare
)

// pacer owns the one rate.Limiter every worker waits on.
type pacer struct {
	lim  *rate.Limiter
	base rate.Limit // the configured rate; Inf when unlimited
	emit func(Event)

	mu       sync.Mutex
	level    int
	ref      float64 // the pace level 0 counts down from; 0 until first needed
	floor    float64 // the slowest pace -1 answers alone may set
	since    time.Time
	n, busy  int // outcomes, and -1 answers among them, of sends begun at this level
	shares   map[int]levelShare
	ttl      time.Duration // how long "no better below" keeps a trial off
	ttlUp    time.Duration // how long "worse above" keeps the pace from climbing
	lastRate time.Time     // the last 45011
	lastCut  time.Time     // the last slow-down a 45011 made
	climbed  bool          // this level was reached by a climb and not judged yet
	meter    meter
	recent   outcomes // whether each of the last sends failed transiently
}

// levelShare is the share of -1 answers measured at a level.
type levelShare struct {
	share float64
	n     int
	at    time.Time
}

// newPacer returns the pacer of a run at perSecond (0: unlimited) over lim,
// the account's limiter shared with whatever else the account sends, or a
// limiter of its own when lim is nil. The run starts at the configured
// pace whatever an earlier run left lim at.
func newPacer(perSecond float64, lim *rate.Limiter, emit func(Event)) *pacer {
	base := rate.Inf
	if perSecond > 0 {
		base = rate.Limit(perSecond)
	}
	if lim == nil {
		lim = rate.NewLimiter(base, 1)
	} else {
		lim.SetLimit(base)
	}
	return &pacer{lim: lim, base: base, emit: emit, since: time.Now(),
		shares: map[int]levelShare{}, ttl: ttlFirst, ttlUp: ttlUpFirst}
}

// wait blocks until the limiter lets one more message go, and returns when
// it did: the send's outcome is counted at the level it began at.
func (p *pacer) wait(ctx context.Context) (time.Time, error) {
	err := p.lim.Wait(ctx)
	return time.Now(), err
}

// done records the outcome of a send begun at start: throughput for the
// meter, and whether WeChat answered -1. Then it judges the level.
func (p *pacer) done(start time.Time, err error) {
	// Outside the lock, which every worker takes after every send; and
	// nothing to look into for a success.
	busy := err != nil && wechat.Errcode(err) == -1 && !errors.As(err, new(*wechat.RequestError))
	failed := err != nil && wechat.ClassOf(err) == wechat.ClassTransient
	now := time.Now()
	p.mu.Lock()
	p.meter.add(now)
	p.recent.add(failed)
	if !start.Before(p.since) {
		p.n++
		if busy {
			p.busy++
		}
	}
	ev, ok := p.judge(now)
	p.mu.Unlock()
	if ok {
		p.emit(ev)
	}
}

// judge decides, once a level has been given long enough, whether to stay,
// climb back a level, or try the level below. Called with p.mu held.
func (p *pacer) judge(now time.Time) (Event, bool) {
	elapsed := now.Sub(p.since) // negative while the level settles
	enough := p.n >= minSample
	if elapsed < minDwell || !enough && elapsed < maxDwell {
		return Event{}, false
	}
	share := 0.0
	if p.n > 0 {
		share = float64(p.busy) / float64(p.n)
	}
	if enough {
		p.shares[p.level] = levelShare{share: share, n: p.n, at: now}
	}
	here := levelShare{share: share, n: p.n}
	slowerOK := false
	if enough && share >= busyShare {
		p.fixRef(now)
		// A little below the floor's pace still counts as the floor:
		// ref divided by √2 four times is not exactly ref/4.
		slowerOK = p.pace(p.level+1) >= 0.999*p.floor
	}
	below, belowKnown := p.remembered(p.level+1, now, p.ttl)
	climbed := p.climbed
	if enough {
		p.climbed = false
	}
	if climbed && slowerOK && belowKnown && clearlyHigher(here, below) {
		// Just climbed from a level measured clearly better: the pace is
		// still too fast. Climbs are spaced further, and trials are as
		// welcome as at first. (Only right after a climb: compared again
		// and again, two samples of one share differ clearly by chance.)
		p.ttl, p.ttlUp = ttlFirst, min(2*p.ttlUp, ttlUpMax)
		return p.trial(now), true
	}
	if p.level > 0 && now.Sub(p.lastRate) >= rateQuiet {
		// Until a while has passed, a level measured worse is not tried
		// again; a while short enough that a burst that merely ended during
		// a trial does not keep the batch slow.
		above, known := p.remembered(p.level-1, now, p.ttlUp)
		switch {
		case !known:
			return p.move(p.climb(), now), true
		case !clearlyHigher(above, here):
			// The slower pace bought nothing: trials are spaced further.
			p.ttl, p.ttlUp = min(2*p.ttl, ttlMax), ttlUpFirst
			return p.move(p.climb(), now), true
		}
	}
	if slowerOK && !belowKnown {
		return p.trial(now), true // is it better below?
	}
	if enough {
		p.since, p.n, p.busy = now, 0, 0 // judged: measure afresh
	}
	return Event{}, false
}

// climb is the level to go up to: the next one, or two at a time below the
// floor, where only 45011 takes the pace and it comes back quickly.
func (p *pacer) climb() int {
	if p.ref > 0 && p.level > 1 && p.pace(p.level) < p.floor {
		return p.level - 2
	}
	return p.level - 1
}

// remembered returns the share measured at level, if it is younger than ttl.
func (p *pacer) remembered(level int, now time.Time, ttl time.Duration) (levelShare, bool) {
	s, ok := p.shares[level]
	return s, ok && now.Sub(s.at) < ttl
}

// clearlyHigher reports whether share a is above share b by more than
// chance explains: by 2.5 standard errors of the difference, and by two
// points at least.
func clearlyHigher(a, b levelShare) bool {
	if a.n == 0 || b.n == 0 {
		return false
	}
	pooled := (a.share*float64(a.n) + b.share*float64(b.n)) / float64(a.n+b.n)
	se := math.Sqrt(pooled * (1 - pooled) * (1/float64(a.n) + 1/float64(b.n)))
	return a.share-b.share > max(2.5*se, 0.02)
}

// rateLimited acts on a 45011: half the pace, and at least down to what is
// flowing (a limit above it would change nothing), whatever the floor.
func (p *pacer) rateLimited() {
	now := time.Now()
	p.mu.Lock()
	p.lastRate = now
	if now.Sub(p.lastCut) < rateEvery {
		p.mu.Unlock()
		return
	}
	p.lastCut = now
	p.fixRef(now)
	target := p.level + 2
	if flowing := p.measured(now); flowing > 0 {
		for target < p.maxLevel() && p.pace(target) > flowing {
			target++
		}
	}
	target = min(target, p.maxLevel())
	if target <= p.level {
		p.mu.Unlock()
		return // as slow as the pacer goes
	}
	ev := p.move(target, now)
	p.mu.Unlock()
	p.emit(ev)
}

// fixRef sets, the first time the pace goes down, the rate the levels count
// down from and the floor: the configured rate, or what is measured flowing
// when there is none or the workers cannot reach it. Called with p.mu held.
func (p *pacer) fixRef(now time.Time) {
	if p.ref > 0 {
		return
	}
	flowing := p.measured(now)
	switch {
	case p.base == rate.Inf && flowing > 0:
		p.ref = flowing
	case p.base == rate.Inf:
		p.ref = 100 // nothing measured yet: count down from a modest rate
	case flowing > 0 && flowing < 0.8*float64(p.base):
		p.ref = flowing // the workers, not the limit, set the pace
	default:
		p.ref = float64(p.base)
	}
	p.floor = p.ref / floorShare
	if p.base != rate.Inf {
		p.floor = float64(p.base) / floorShare
	}
}

// pace is level's messages per second (Inf for level 0 when unlimited).
// Called with p.mu held, after fixRef for any level but 0.
func (p *pacer) pace(level int) float64 {
	if level <= 0 {
		return float64(p.base)
	}
	return max(p.ref/math.Pow(math.Sqrt2, float64(level)), minRate)
}

// maxLevel is the deepest level, where the pace reaches minRate.
func (p *pacer) maxLevel() int {
	if p.ref <= minRate {
		return 1
	}
	return int(math.Ceil(2 * math.Log2(p.ref/minRate)))
}

// measured is the rate of outcomes flowing now: at this level if it has
// run long enough to tell, else over the last seconds; 0 if unknown.
func (p *pacer) measured(now time.Time) float64 {
	if d := now.Sub(p.since); d >= 200*time.Millisecond && p.n >= 10 {
		return float64(p.n) / d.Seconds()
	}
	return p.meter.rate(now)
}

// move sets the pace to level and starts measuring it afresh. Called with
// p.mu held; the caller emits the event it returns.
func (p *pacer) move(level int, now time.Time) Event {
	slower := level > p.level
	limit := p.pace(level)
	p.level, p.climbed = level, !slower
	// WeChat's answers lag behind a change of pace (its own measure of the
	// load, requests already on their way): a level is judged on the sends
	// begun once it has settled.
	p.since, p.n, p.busy = now.Add(settle), 0, 0
	if level == 0 {
		p.lim.SetLimit(p.base)
		return Event{Kind: EventPace}
	}
	p.lim.SetLimit(rate.Limit(limit))
	return Event{Kind: EventPace, Limit: limit, Slower: slower}
}

// trial moves one level down on -1 answers alone. Called with p.mu held;
// the caller emits the event it returns.
func (p *pacer) trial(now time.Time) Event {
	ev := p.move(p.level+1, now)
	ev.Trial = true
	return ev
}

// recoverLoop judges the level once a second even while nothing is sent,
// so the pace climbs back when WeChat is quiet. It returns a function that
// stops the loop.
func (p *pacer) recoverLoop(ctx context.Context) func() {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				p.mu.Lock()
				ev, ok := p.judge(now)
				p.mu.Unlock()
				if ok {
					p.emit(ev)
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

// failing reports whether most recent sends failed transiently: WeChat is
// down or overwhelmed rather than failing a share of sends at random.
func (p *pacer) failing() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.recent.n >= len(p.recent.ring)/4 && 2*p.recent.failed >= p.recent.n
}

// outcomes is a ring of the last sends: did each fail?
type outcomes struct {
	ring   [128]bool
	pos, n int
	failed int
}

func (o *outcomes) add(failed bool) {
	if o.n == len(o.ring) && o.ring[o.pos] {
		o.failed--
	}
	o.ring[o.pos] = failed
	if failed {
		o.failed++
	}
	o.pos = (o.pos + 1) % len(o.ring)
	o.n = min(o.n+1, len(o.ring))
}

// meter counts completions in one-second buckets over the last few seconds.
type meter struct {
	first int64    // unix second of the first completion
	sec   [4]int64 // unix second of each bucket
	count [4]int64
}

func (m *meter) add(now time.Time) {
	s := now.Unix()
	if m.first == 0 {
		m.first = s
	}
	i := s % int64(len(m.sec))
	if m.sec[i] != s {
		m.sec[i], m.count[i] = s, 0
	}
	m.count[i]++
}

// rate is the completions per second over the last full seconds.
func (m *meter) rate(now time.Time) float64 {
	s := now.Unix()
	var n, secs int64
	for back := int64(1); back < int64(len(m.sec)); back++ {
		if s-back < m.first || m.first == 0 {
			break // before the first completion: not a second of the run
		}
		i := (s - back) % int64(len(m.sec))
		secs++
		if m.sec[i] == s-back {
			n += m.count[i]
		}
	}
	if n == 0 {
		return 0
	}
	return math.Max(float64(n)/float64(secs), minRate)
}
