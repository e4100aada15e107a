package web

import (
	"sync"
	"time"
)

// paceWindow is how far back a batch's pace looks: long enough to smooth
// one slow second, short enough to follow a change of rate (as the CLI's
// progress bar does).
const paceWindow = 5 * time.Second

// paces remember, for each batch being watched, how many of its recipients
// were done at the last few polls, so that the page can show how fast it
// goes now and when it should end, without a read of the ledger per
// answer.
type paces struct {
	mu sync.Mutex
	m  map[string]*pace // by batch name: unique across accounts
}

type pace struct {
	samples []paceSample
	seen    time.Time // the last poll: a batch nobody watches is forgotten
}

type paceSample struct {
	at   time.Time
	done int64
}

func newPaces() *paces { return &paces{m: map[string]*pace{}} }

// add records that batch name had done recipients at t and returns its pace
// in recipients per second over the window (0 until two polls a second
// apart, or when nothing moved).
func (ps *paces) add(name string, t time.Time, done int64) float64 {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for k, p := range ps.m {
		if t.Sub(p.seen) > time.Minute {
			delete(ps.m, k)
		}
	}
	p := ps.m[name]
	if p == nil {
		p = &pace{}
		ps.m[name] = p
	}
	p.seen = t
	if n := len(p.samples); n > 0 && done < p.samples[n-1].done {
		p.samples = p.samples[:0] // requeued by a retry: start over
	}
	p.samples = append(p.samples, paceSample{t, done})
	for len(p.samples) > 2 && !p.samples[1].at.After(t.Add(-paceWindow)) {
		p.samples = p.samples[1:]
	}
	first := p.samples[0]
	d := t.Sub(first.at)
	if d < time.Second {
		return 0
	}
	return float64(done-first.done) / d.Seconds()
}
