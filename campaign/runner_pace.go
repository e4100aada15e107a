package campaign

import (
	"math"
	"sync/atomic"

	"github.com/megasend/megasend/sender"
)

// paceGauge follows the pace the account's engine allows, for Pace: the
// configured rate, or the slower one the engine's pacer set (EventPace)
// while WeChat answered 45011 or too many -1s. Each run starts a new engine
// at the configured rate, and so does the gauge.
type paceGauge struct {
	base float64       // the configured rate; 0: unlimited
	now  atomic.Uint64 // math.Float64bits of the pace now
}

// follow returns o with its OnEvent and Started hooked, as they were,
// to keep the gauge.
func (p *paceGauge) follow(o RunOptions) RunOptions {
	p.base = o.Rate
	p.set(o.Rate)
	onEvent, started := o.OnEvent, o.Started
	o.OnEvent = func(ev sender.Event) {
		if ev.Kind == sender.EventPace {
			if ev.Limit > 0 {
				p.set(ev.Limit)
			} else {
				p.set(p.base) // back to the configured rate
			}
		}
		if onEvent != nil {
			onEvent(ev)
		}
	}
	o.Started = func(e *sender.Engine) func() {
		p.set(p.base)
		stop := func() {}
		if started != nil {
			stop = started(e)
		}
		return func() {
			stop()
			p.set(p.base) // the next engine starts afresh
		}
	}
	return o
}

func (p *paceGauge) set(v float64) { p.now.Store(math.Float64bits(v)) }

// Pace returns the messages per second the account's sending is allowed
// now: the configured rate, or less while WeChat asks the engine to slow
// down; 0 means unlimited (rate 0: as fast as the workers go).
func (r *Runner) Pace() float64 {
	return math.Float64frombits(r.pace.now.Load())
}
