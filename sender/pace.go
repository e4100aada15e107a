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
// but answers bursts with 45011 or runs of -1 ("system busy"). The pacer
// halves the batch's rate on such a signal (at most once a second: every
// worker sees the same burst) and, once WeChat has been quiet for a while,
// raises it by half again until it is back at the configured rate.
const (
	minRate       = 1.0             // messages/s the pacer never goes below
	quietPeriod   = 5 * time.Second // no rate signal for this long: speed up
	busyWindow    = 50              // outcomes in which -1 answers are counted
	busyThreshold = 10              // -1 answers within busyWindow that mean "slow down"
)

// pacer owns the one rate.Limiter every worker waits on.
type pacer struct {
	lim  *rate.Limiter
	base rate.Limit // the configured rate; Inf when unlimited

	mu         sync.Mutex
	cur        rate.Limit
	before     rate.Limit // the pace before this slow-down episode began
	lastSignal time.Time
	recent     [busyWindow]bool // ring: was the outcome a -1?
	pos, busy  int
	meter      meter
}

func newPacer(perSecond float64) *pacer {
	base := rate.Inf
	if perSecond > 0 {
		base = rate.Limit(perSecond)
	}
	return &pacer{lim: rate.NewLimiter(base, 1), base: base, cur: base}
}

// wait blocks until the limiter lets one more message go.
func (p *pacer) wait(ctx context.Context) error { return p.lim.Wait(ctx) }

// done records an outcome: throughput for the meter, and -1 answers, whose
// runs mean WeChat is overloaded.
func (p *pacer) done(err error) {
	// Outside the lock, which every worker takes after every send; and
	// nothing to look into for a success.
	busy := err != nil && wechat.Errcode(err) == -1 && !errors.As(err, new(*wechat.RequestError))
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.meter.add(now)
	if p.recent[p.pos] {
		p.busy--
	}
	p.recent[p.pos] = busy
	if busy {
		p.busy++
	}
	p.pos = (p.pos + 1) % busyWindow
}

// busyBurst reports a run of -1 answers; the caller then slows down.
func (p *pacer) busyBurst() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.busy >= busyThreshold
}

// slowDown halves the rate, measured from what is actually flowing when the
// configured rate is unlimited. An explicit 45011 halves it at most once a
// second; a run of -1 answers, which may simply be WeChat's background
// noise, at most once per quiet period, so a steady trickle of -1 cannot
// grind the batch down to the floor.
func (p *pacer) slowDown(busy bool, emit func(Event)) {
	now := time.Now()
	spacing := time.Second
	if busy {
		spacing = quietPeriod
	}
	p.mu.Lock()
	if now.Sub(p.lastSignal) < spacing {
		p.mu.Unlock()
		return
	}
	p.lastSignal = now
	cur := p.cur
	if measured := rate.Limit(p.meter.rate(now)); measured > 0 && measured < cur {
		cur = measured
	}
	if cur == rate.Inf {
		cur = 100 // nothing measured yet: start from a modest rate
	}
	p.before = max(p.before, cur)
	p.cur = max(cur/2, minRate)
	p.lim.SetLimit(p.cur)
	limit := float64(p.cur)
	p.mu.Unlock()
	emit(Event{Kind: EventPace, Limit: limit, Slower: true})
}

// recoverLoop raises the rate step by step while WeChat stays quiet. It
// returns a function that stops the loop.
func (p *pacer) recoverLoop(ctx context.Context, emit func(Event)) func() {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(quietPeriod / 2)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				if ev, ok := p.speedUp(now); ok {
					emit(ev)
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

func (p *pacer) speedUp(now time.Time) (Event, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == p.base || now.Sub(p.lastSignal) < quietPeriod || p.busy >= busyThreshold {
		return Event{}, false
	}
	p.cur *= 1.5
	// Unlimited base: well past the pace that drew the complaint, remove
	// the limit again.
	if p.cur >= p.base || (p.base == rate.Inf && p.cur >= 2*p.before) {
		p.cur = p.base
	}
	if p.cur == p.base {
		p.before = 0
	}
	p.lim.SetLimit(p.cur)
	if p.cur == p.base {
		return Event{Kind: EventPace}, true
	}
	return Event{Kind: EventPace, Limit: float64(p.cur)}, true
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
