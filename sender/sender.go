// Package sender is megasend's engine: it sends a batch's pending
// recipients through a pool of workers behind one rate limiter, and acts on
// each WeChat error by its class (PRODUCT.md): transient errors are retried
// with backoff and the same client_msg_id, rate errors slow the whole batch
// down, the daily quota and batch-fatal errors stop it, recipient errors
// fail that recipient.
//
// Every state change goes through a Journal before it matters: a recipient
// is durably inflight before its request leaves. The engine keeps no count
// of its own that anyone needs after it returns; the ledger is the truth.
package sender

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/wechat"
)

// Client sends one rendered message of each kind to its endpoint: a
// template message (which answers a msgid), a customer-service message and
// a subscribe notification (which answer none). *wechat.Client implements
// it.
type Client interface {
	SendTemplateBody(ctx context.Context, body []byte) (msgid int64, err error)
	SendCustomBody(ctx context.Context, body []byte) error
	SendSubscribeBody(ctx context.Context, body []byte) error
}

// Source pages through a batch's pending recipients in line order.
// *store.DB implements it.
type Source interface {
	Pending(ctx context.Context, batchID, after int64, limit int) ([]store.Recipient, error)
}

// Journal records state changes. *store.Ledger implements it. Begin must
// not return before the row is durably inflight, nor Fallback before the
// row has durably moved to the fallback's kind, pending again.
type Journal interface {
	Begin(ctx context.Context, line int64, at time.Time) error
	Finish(o store.Outcome)
	Fallback(ctx context.Context, line int64, kind string, code int, msg string) error
}

// Renderer turns a recipient into the request body WeChat receives.
type Renderer interface {
	Render(dst []byte, r *store.Recipient) ([]byte, error)
}

// Config tunes an Engine. Zero values take the defaults noted.
type Config struct {
	BatchID int64
	// Kind is the kind of the batch's messages, and so the endpoint they go
	// to and how its errcodes are judged; "" is wechat.KindTemplate.
	Kind wechat.Kind
	// FallbackKind, if set, is the kind of the batch's fallback: a
	// recipient a customer-service message cannot reach (wechat.Unreachable)
	// moves to it, durably (Journal.Fallback), and is sent it instead; the
	// Renderer renders recipients by their Kind.
	FallbackKind wechat.Kind
	Concurrency  int     // workers; default 32
	Rate         float64 // messages per second; 0 = as fast as the workers go
	// MaxAttempts is the fewest tries a recipient's transient errors get
	// before it is set aside for the end of the run, and the number of
	// refused connections for one recipient that pause the batch as
	// unreachable; default 5.
	MaxAttempts int
	// RetryFor is how long a recipient's transient errors (-1, HTTP 5xx,
	// timeouts) are retried, from the first of them, before it is set aside
	// and tried once more at the end of the run; default a quarter of
	// DedupWindow (2.5 minutes), which leaves a send that may have been
	// delivered most of the window for that last try.
	RetryFor time.Duration
	// DedupWindow is how long WeChat deduplicates a client_msg_id; default 10m.
	// An attempt that may have been delivered is resent only inside it.
	DedupWindow time.Duration
	// MaxErrors pauses the batch when recipients fail too often.
	MaxErrors Threshold
	// DrainTimeout bounds how long in-flight sends may take after a stop;
	// default 15s.
	DrainTimeout time.Duration
	// Backoff is the first retry delay, doubled each attempt up to 4s (or
	// Backoff, if longer); default 500ms.
	Backoff time.Duration
	// Abort, when cancelled, ends in-flight requests at once (a second
	// signal). Nil means only DrainTimeout bounds them.
	Abort context.Context
	Log   *slog.Logger
	// Limiter, if set, is the account's rate limiter, shared with the other
	// senders of the account (the service's single messages), which wait on
	// it as the workers do: one pace for everything the account sends. The
	// engine sets its limit to Rate when it starts and moves it as it paces.
	// Nil: a limiter of the engine's own.
	Limiter *rate.Limiter
	// OnEvent, if set, hears about pacing and stops as they happen.
	OnEvent func(Event)
	// Cap, if set, is asked before each recipient's first attempt whether
	// a frequency cap lets it be sent; one it holds back is skipped.
	Cap Capper
}

func (c *Config) defaults() {
	if c.Concurrency <= 0 {
		c.Concurrency = 32
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 5
	}
	if c.DedupWindow <= 0 {
		c.DedupWindow = 10 * time.Minute
	}
	if c.RetryFor <= 0 {
		c.RetryFor = c.DedupWindow / 4
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = 15 * time.Second
	}
	if c.Backoff <= 0 {
		c.Backoff = 500 * time.Millisecond
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Kind == "" {
		c.Kind = wechat.KindTemplate
	}
}

// resendBefore is how long after a first attempt a resend is still safe:
// the dedup window less a tenth, so clocks and latency cannot push a resend
// past the point where WeChat forgets the client_msg_id.
func (c *Config) resendBefore() time.Duration { return c.DedupWindow - c.DedupWindow/10 }

// Engine sends one batch. Use New, then Run once.
type Engine struct {
	cfg    Config
	client Client
	source Source
	jour   Journal
	render Renderer

	pace   *pacer
	errs   *errorWindow
	state  atomic.Value // string, for progress displays
	haltMu sync.Mutex
	halt   *Result // the first reason to stop, or nil
	stopCh chan struct{}
	stats  counters
}

type counters struct{ sent, failed, unknown, late, fallbacks, capped atomic.Int64 }

// New returns an Engine for cfg.
func New(cfg Config, client Client, source Source, journal Journal, render Renderer) *Engine {
	cfg.defaults()
	e := &Engine{cfg: cfg, client: client, source: source, jour: journal, render: render,
		errs: newErrorWindow(cfg.MaxErrors), stopCh: make(chan struct{})}
	e.pace = newPacer(cfg.Rate, cfg.Limiter, e.event)
	e.state.Store("sending")
	return e
}

// State describes what the engine is doing, for a progress display:
// "sending", "waiting for rate limit (12.5/s)", "stopping".
func (e *Engine) State() string { return e.state.Load().(string) }

// Run sends every pending recipient of the batch and returns why it
// stopped. Cancelling ctx stops taking recipients; in-flight sends finish
// (bounded by DrainTimeout, or at once when Config.Abort is cancelled).
func (e *Engine) Run(ctx context.Context) Result {
	reqCtx, cancelReqs := e.requestContext(ctx)
	defer cancelReqs()
	stopped := func() bool {
		select {
		case <-ctx.Done():
			return true
		case <-e.stopCh:
			return true
		default:
			return false
		}
	}
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	go func() {
		select {
		case <-e.stopCh:
			cancelRun()
		case <-runCtx.Done():
		}
	}()
	recovery := e.pace.recoverLoop(runCtx)
	defer recovery()

	// Every worker hands each job back to the dispatcher.
	work, back := make(chan *job), make(chan *job, e.cfg.Concurrency)
	var wg sync.WaitGroup
	for range e.cfg.Concurrency {
		wg.Go(func() {
			w := worker{e: e, reqCtx: reqCtx, runCtx: runCtx, stopped: stopped, buf: make([]byte, 0, 1024)}
			for j := range work {
				j.verdict = w.attempt(j)
				e.release(j)
				back <- j
			}
		})
	}
	d := &dispatcher{e: e, work: work, back: back}
	err := d.run(runCtx)
	close(work)
	workersDone := make(chan struct{})
	go func() { wg.Wait(); close(workersDone) }()
	left := d.unfinished(workersDone)

	res := Result{Sent: e.stats.sent.Load(), Failed: e.stats.failed.Load(), Unknown: e.stats.unknown.Load(),
		RetriedLate: e.stats.late.Load(), Fallbacks: e.stats.fallbacks.Load(), Capped: e.stats.capped.Load()}
	e.haltMu.Lock()
	defer e.haltMu.Unlock()
	switch {
	case e.halt != nil:
		h := *e.halt
		h.Sent, h.Failed, h.Unknown, h.RetriedLate, h.Fallbacks, h.Capped = res.Sent, res.Failed, res.Unknown, res.RetriedLate, res.Fallbacks, res.Capped
		return h
	case err != nil && ctx.Err() == nil:
		res.Stop, res.Err = StopError, err
	case ctx.Err() != nil || left > 0:
		res.Stop, res.Err = StopInterrupted, context.Cause(ctx)
	}
	return res
}

// requestContext is the context of in-flight requests: it outlives ctx by
// DrainTimeout, and ends at once with Config.Abort.
func (e *Engine) requestContext(ctx context.Context) (context.Context, context.CancelFunc) {
	parent := context.WithoutCancel(ctx)
	if e.cfg.Abort != nil {
		parent = e.cfg.Abort
	}
	reqCtx, cancel := context.WithCancel(parent)
	go func() {
		select {
		case <-ctx.Done():
		case <-e.stopCh:
		case <-reqCtx.Done():
			return
		}
		e.state.Store("stopping")
		t := time.NewTimer(e.cfg.DrainTimeout)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-reqCtx.Done():
		}
	}()
	return reqCtx, cancel
}

// stop records the first reason to halt the batch and stops dispatching.
func (e *Engine) stop(r Result) {
	e.haltMu.Lock()
	defer e.haltMu.Unlock()
	if e.halt != nil {
		return
	}
	e.halt = &r
	close(e.stopCh)
	e.event(Event{Kind: EventStop, Stop: r.Stop, Err: r.Err})
}

func (e *Engine) event(ev Event) {
	if ev.Kind == EventPace {
		if ev.Limit > 0 {
			e.state.Store("waiting for rate limit")
		} else {
			e.state.Store("sending")
		}
	}
	if e.cfg.OnEvent != nil {
		e.cfg.OnEvent(ev)
	}
}

// jitter returns d scaled by a random factor in [0.5, 1.5): retries from
// many workers must not march in step.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.5 + rand.Float64()))
}

// sleep waits d, returning false if the run stopped first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

var errWindowPassed = errors.New("the dedup window passed while retrying")
