package campaign

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/megasend/megasend/sender"
	"github.com/megasend/megasend/store"
)

// ErrPausedByRequest is the cause of a run stopped because someone asked
// the service to pause its batch.
var ErrPausedByRequest = errors.New("paused by request")

// ErrCancelled is the cause of a run stopped because its batch was
// cancelled, and the reason its unsent recipients are skipped.
var ErrCancelled = errors.New("cancelled")

// Runner sends, in the background, the batches the service was given for
// one account (Submit, Continue): one batch at a time, through the
// account's one client, so that everything the account sends shares its
// token, its pace and its daily quota. It waits for what each batch waits
// for (a send_at, the quota's reset, WeChat back in reach) and leaves a
// batch that needs a person (paused by request, a batch-fatal errcode)
// held until it is continued.
type Runner struct {
	svc     *Service
	account string
	opts    RunOptions
	// Retry is how long to wait before trying a batch again after WeChat
	// was out of reach, or another process held it.
	Retry time.Duration
	// QuotaProbe is how often, while the daily quota is spent, WeChat is
	// asked whether it is back before its reset (clear_quota).
	QuotaProbe time.Duration

	wake    chan struct{} // a batch was submitted or continued
	msgWake chan struct{} // a single message was accepted, or one finished
	// lim paces everything the account sends: the batch's engine moves it,
	// the single messages wait on it too.
	lim       *rate.Limiter
	templates templateCache // the single messages' templates

	mu         sync.Mutex
	current    string                  // the batch running, or ""
	stop       context.CancelCauseFunc // stops it
	quotaUntil time.Time               // the account's daily quota is spent until then
}

// NewRunner returns the runner of account's batches, sending with o (its
// Client is the account's). Its Run starts it.
func (s *Service) NewRunner(account string, o RunOptions) *Runner {
	o.Confirm, o.Started = nil, nil // nobody to ask, nothing to draw
	o.Limiter = rate.NewLimiter(limitOf(o.Rate), 1)
	r := &Runner{svc: s, account: account, opts: o, Retry: 30 * time.Second, QuotaProbe: 5 * time.Minute,
		wake: make(chan struct{}, 1), msgWake: make(chan struct{}, 1), lim: o.Limiter}
	s.mu.Lock()
	s.runners[account] = r
	s.mu.Unlock()
	return r
}

// Wake makes the runner look for due batches now: one was submitted or
// continued.
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Running returns the name of the batch the runner is sending, or "".
func (r *Runner) Running() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.current
}

// QuotaUntil returns when the account's daily quota, spent, resets; zero
// when it is not spent.
func (r *Runner) QuotaUntil() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Now().After(r.quotaUntil) {
		return time.Time{}
	}
	return r.quotaUntil
}

// stopBatch stops the batch called name with cause if the runner is
// sending it, and reports whether it was.
func (r *Runner) stopBatch(name string, cause error) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.current != name || r.stop == nil {
		return false
	}
	r.stop(cause)
	return true
}

// Run sends due batches, and beside them the due single messages, until
// ctx is done; then the batch running stops as a signal stops the CLI
// (in-flight sends finish and are recorded), stays the service's, and is
// taken up again by the next Run, as are the messages not sent yet. It
// returns when the last outcome is recorded, with an error only for a
// damaged ledger.
func (r *Runner) Run(ctx context.Context) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	lane := make(chan error, 1)
	go func() { lane <- r.runMessages(ctx) }()
	err := r.runBatches(ctx)
	stop() // a damaged ledger stops both
	return errors.Join(err, <-lane)
}

// limitOf is the limiter's limit for a rate (0: unlimited).
func limitOf(perSecond float64) rate.Limit {
	if perSecond > 0 {
		return rate.Limit(perSecond)
	}
	return rate.Inf
}

func (r *Runner) baseLimit() rate.Limit { return limitOf(r.opts.Rate) }

// Pace returns the messages per second the account may send now, as the
// batch's engine paces it; 0 when unlimited.
func (r *Runner) Pace() float64 {
	if l := r.lim.Limit(); l != rate.Inf {
		return float64(l)
	}
	return 0
}

// runBatches sends due batches, one at a time, until ctx is done.
func (r *Runner) runBatches(ctx context.Context) error {
	for ctx.Err() == nil {
		if until := r.QuotaUntil(); !until.IsZero() {
			if err := r.awaitQuota(ctx, until); err != nil {
				return err
			}
			continue
		}
		due, next, err := r.svc.db.DueBatches(ctx, r.account, time.Now())
		if store.IsCorrupt(err) {
			return err
		}
		if err != nil {
			if ctx.Err() == nil {
				r.svc.log.Error("cannot read the batches due", "account", r.account, "err", err)
				r.sleep(ctx, r.Retry)
			}
			continue
		}
		if len(due) == 0 {
			wait := time.Duration(0) // until woken
			if !next.IsZero() {
				wait = max(time.Until(next), time.Millisecond)
			}
			r.sleep(ctx, wait)
			continue
		}
		if err := r.runOne(ctx, due[0]); err != nil {
			return err
		}
	}
	return nil
}

// sleep waits for d (0: no limit), a Wake, or ctx.
func (r *Runner) sleep(ctx context.Context, d time.Duration) { sleepUntil(ctx, d, r.wake) }

// sleepUntil waits for d (0: no limit), a value on wake (nil: none), or
// ctx.
func sleepUntil(ctx context.Context, d time.Duration, wake <-chan struct{}) {
	var timer <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-ctx.Done():
	case <-wake:
	case <-timer:
	}
}

// runOne sends batch b until it ends or stops, and schedules what comes
// next for it.
func (r *Runner) runOne(ctx context.Context, b store.Batch) error {
	bctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	r.mu.Lock()
	r.current, r.stop = b.Name, stop
	r.mu.Unlock()
	defer func() {
		// The engine's pacer leaves the limiter where WeChat last had it
		// slow down, and only an engine climbs back: between batches the
		// single messages go at the configured rate.
		r.lim.SetLimit(r.baseLimit())
		r.mu.Lock()
		r.current, r.stop = "", nil
		r.mu.Unlock()
	}()

	rb, _, err := r.svc.Resume(bctx, ResumeSpec{Name: b.Name})
	if err == nil {
		defer r.svc.Release(ctx, rb)
		// Paused between the look for due batches and the lock: the
		// hold, written first, is seen now.
		if s, _, err := r.svc.db.BatchSchedule(ctx, rb.ID); err != nil || s.Hold != "" {
			if err == nil && s.Hold == ErrCancelled.Error() {
				return r.cancelled(ctx, rb.Batch)
			}
			return err
		}
		var res RunResult
		res, err = r.svc.Run(bctx, rb, r.opts)
		if err == nil {
			return r.stopped(ctx, rb, res, context.Cause(bctx))
		}
	}
	return r.failed(ctx, b, err, context.Cause(bctx))
}

// stopped schedules batch b after a run that ended as res.
func (r *Runner) stopped(ctx context.Context, b *Batch, res RunResult, cause error) error {
	ctx = context.WithoutCancel(ctx)
	switch res.Stop {
	case sender.StopNone:
		return nil
	case sender.StopInterrupted:
		if errors.Is(cause, ErrCancelled) {
			return r.cancelled(ctx, b.Batch)
		}
		if errors.Is(cause, ErrPausedByRequest) {
			return r.schedule(ctx, b.Batch, store.Schedule{Hold: ErrPausedByRequest.Error()})
		}
		return nil // the service is stopping: the next Run takes it up
	case sender.StopQuota:
		r.mu.Lock()
		r.quotaUntil = res.QuotaResetAt
		r.mu.Unlock()
		return r.schedule(ctx, b.Batch, store.Schedule{NotBefore: res.QuotaResetAt})
	case sender.StopQuiet:
		return r.schedule(ctx, b.Batch, store.Schedule{NotBefore: res.ResumeAt})
	case sender.StopUnreachable:
		return r.schedule(ctx, b.Batch, store.Schedule{NotBefore: time.Now().Add(r.Retry)})
	}
	// Batch-fatal, the error threshold, a local error: a person decides.
	return r.schedule(ctx, b.Batch, store.Schedule{Hold: res.Outcome.Batch.PauseReason})
}

// failed schedules batch b after a run that could not start or ended in
// an error.
func (r *Runner) failed(ctx context.Context, b store.Batch, err, cause error) error {
	stopping := ctx.Err() != nil
	ctx = context.WithoutCancel(ctx)
	switch {
	case store.IsCorrupt(err):
		return err
	case errors.Is(cause, ErrCancelled):
		return r.cancelled(ctx, b)
	case errors.Is(cause, ErrPausedByRequest):
		return r.schedule(ctx, b, store.Schedule{Hold: ErrPausedByRequest.Error()})
	case stopping:
		return nil // the service is stopping: the next Run takes it up
	}
	r.svc.log.Warn("batch not sent", "batch", b.Name, "err", err)
	switch ErrorCode(err) {
	case Locked, Unavailable, Internal:
		// Another process holds it, WeChat is out of reach, the database
		// failed: the same batch may go through later.
		return r.schedule(ctx, b, store.Schedule{NotBefore: time.Now().Add(r.Retry)})
	}
	return r.schedule(ctx, b, store.Schedule{Hold: err.Error()})
}

// cancelled skips what batch b has left once its run has stopped.
func (r *Runner) cancelled(ctx context.Context, b store.Batch) error {
	err := r.svc.skipRest(ctx, b)
	if store.IsCorrupt(err) {
		return err
	}
	if err != nil {
		r.svc.log.Error("cannot cancel batch", "batch", b.Name, "err", err)
	}
	return nil
}

func (r *Runner) schedule(ctx context.Context, b store.Batch, s store.Schedule) error {
	err := r.svc.db.SetSchedule(ctx, b.ID, s)
	if store.IsCorrupt(err) {
		return err
	}
	if err != nil {
		r.svc.log.Error("cannot schedule batch", "batch", b.Name, "err", err)
	}
	return nil
}
