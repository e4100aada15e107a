package campaign

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/megasend/megasend/policy"
	"github.com/megasend/megasend/sender"
	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/template"
	"github.com/megasend/megasend/wechat"
)

// RunOptions shape one run of a batch.
type RunOptions struct {
	// Client is the account's WeChat client.
	Client *wechat.Client
	// Send, if set, sends the messages instead of Client: Client wrapped,
	// as serve's metrics wrap it to count every send of the account.
	Send        sender.Client
	Concurrency int
	Rate        float64 // messages per second; 0: as fast as the workers go
	MaxErrors   sender.Threshold
	// DedupWindow is WeChat's client_msg_id window; default 10 minutes.
	DedupWindow time.Duration
	// RetryUnknown also resends the recipients whose outcome is unknown.
	RetryUnknown bool
	// Abort, when cancelled, ends in-flight requests at once.
	Abort context.Context
	// Limiter, if set, is the account's limiter, shared with its other
	// senders (sender.Config.Limiter).
	Limiter *rate.Limiter
	// QuietHours are the account's: nothing is sent inside them. A batch
	// given its own (Spec.Policy) observes those instead.
	QuietHours policy.QuietHours
	// Cap is the account's frequency cap: a recipient it already sent as
	// many messages within its duration is skipped ("capped"). A batch given
	// its own (Spec.Policy) observes that instead.
	Cap     policy.Cap
	OnEvent func(sender.Event)
	// Confirm, if set, is asked once everything is ready, with how many
	// recipients are about to be sent; false ends the run with ErrDeclined
	// before anything is sent.
	Confirm func(n int64) bool
	// Started, if set, is called as the engine starts, to show its progress;
	// the func it returns is called once the ledger has recorded the last
	// outcome.
	Started func(*sender.Engine) (stop func())
}

// ErrDeclined ends a run whose Confirm said no.
var ErrDeclined = errors.New("not confirmed")

// RunResult is how a run ended: the engine's result (zero when the run sent
// nothing) and how long it sent.
type RunResult struct {
	sender.Result
	Took time.Duration
	// Finished reports a batch that had nothing left to send.
	Finished bool
	// Outcome is the batch as the ledger holds it once the run ended.
	Outcome Outcome
}

// Run sends batch b, which this service holds: it proves the account
// (Preflight), applies the resume rule to rows a dead run left in flight,
// requeues unknown outcomes if asked, and runs the engine; then it settles
// the batch's status from the ledger (done, or paused with the reason).
// A stop the ledger records (interrupted, daily quota, error threshold,
// batch-fatal error, WeChat out of reach mid-run) is a RunResult, not an
// error. Errors: Invalid and Unavailable from the preflight (or when the
// first sends found WeChat out of reach and nothing may have left),
// ErrDeclined, and a damaged ledger, after which nothing more is written.
func (s *Service) Run(ctx context.Context, b *Batch, o RunOptions) (RunResult, error) {
	if o.DedupWindow <= 0 {
		o.DedupWindow = 10 * time.Minute
	}
	remaining, err := s.db.Remaining(ctx, b.ID)
	if err != nil {
		return RunResult{}, err
	}
	if remaining == 0 && !o.RetryUnknown {
		if b.Status != store.StatusDone {
			if err := s.db.SetStatus(ctx, b.ID, store.StatusDone, ""); err != nil {
				return RunResult{}, err
			}
		}
		s.log.Info("batch already finished; nothing to send", "batch", b.Name)
		return s.ended(ctx, b, RunResult{Finished: true})
	}
	// A signal before the first send leaves the batch as it was: resumable.
	interrupted := func(err error) (RunResult, error) {
		if ctx.Err() != nil {
			return s.ended(ctx, b, RunResult{Result: sender.Result{Stop: sender.StopInterrupted}})
		}
		return RunResult{}, err
	}
	quiet, err := s.quietHours(ctx, b, o)
	if err != nil {
		return RunResult{}, err
	}
	freq, err := s.capOf(ctx, b, o)
	if err != nil {
		return RunResult{}, err
	}
	if now := time.Now(); quiet.Contains(now) {
		// Nothing is sent, not even the preflight's probe: the batch waits
		// for the window's end, resumable.
		res := sender.Result{Stop: sender.StopQuiet, ResumeAt: quiet.Next(now), Err: ErrQuietHours}
		if err := s.settle(context.WithoutCancel(ctx), b, res, quiet); err != nil {
			return RunResult{}, err
		}
		return s.ended(ctx, b, RunResult{Result: res})
	}
	if err := s.Preflight(ctx, o.Client, b.Template, remaining); err != nil {
		return interrupted(err)
	}
	cutoff := time.Now().Add(-(o.DedupWindow - o.DedupWindow/10))
	resend, unknown, err := s.db.RecoverInflight(ctx, b.ID, cutoff)
	if err != nil {
		return interrupted(err)
	}
	if resend+unknown > 0 {
		s.log.Warn("recovered recipients a stopped run left in flight", "resent_with_same_client_msg_id", resend, "now_unknown", unknown)
	}
	remaining -= unknown
	if o.RetryUnknown {
		n, err := s.db.Requeue(ctx, b.ID, false, nil, true)
		if err != nil {
			return interrupted(err)
		}
		s.log.Info("requeued recipients whose outcome was unknown", "count", n)
		remaining += n // the sending line and the prompt count them
	}
	if o.Confirm != nil && !o.Confirm(remaining) {
		return RunResult{}, ErrDeclined
	}
	if err := s.db.SetStatus(ctx, b.ID, store.StatusRunning, ""); err != nil {
		return interrupted(err)
	}

	var send sender.Client = o.Client
	if o.Send != nil {
		send = o.Send
	}
	ledger := s.db.OpenLedger(ctx, b.ID, s.owner)
	cfg := sender.Config{
		BatchID: b.ID, Concurrency: o.Concurrency, Rate: o.Rate, DedupWindow: o.DedupWindow,
		MaxErrors: o.MaxErrors, Abort: o.Abort, Log: s.log, OnEvent: o.OnEvent, Limiter: o.Limiter,
		Kind: wechat.Kind(b.Template.Kind.OrDefault()),
		Cap:  s.batchCapper(b, freq),
	}
	if b.Fallback != nil {
		cfg.FallbackKind = wechat.Kind(b.Fallback.Kind.OrDefault())
	}
	eng := sender.New(cfg, send, s.db, ledger, sender.TemplateRenderer{T: b.Template, Fallback: b.Fallback})
	s.log.Info("sending", "batch", b.Name, "recipients", remaining, "concurrency", o.Concurrency, "rate", rateText(o.Rate),
		"cap", cmp.Or(freq.String(), "none"))
	start := time.Now()
	stopProgress := func() {}
	if o.Started != nil {
		stopProgress = o.Started(eng)
	}
	// The quiet hours' start stops the run as a signal does: in-flight sends
	// finish and are recorded, the rest waits for the window's end.
	// A cancel at the time, not a deadline: rate.Limiter.Wait refuses at
	// once a wait that would end past a context's deadline, which would
	// hold recipients back before the window began.
	ectx := ctx
	if !quiet.IsZero() {
		var cancel context.CancelCauseFunc
		ectx, cancel = context.WithCancelCause(ctx)
		defer cancel(nil)
		begin := time.AfterFunc(time.Until(quiet.Next(time.Now())), func() { cancel(ErrQuietHours) })
		defer begin.Stop()
	}
	res := eng.Run(ectx)
	if res.Stop == sender.StopInterrupted && ctx.Err() == nil && errors.Is(context.Cause(ectx), ErrQuietHours) {
		res.Stop, res.Err, res.ResumeAt = sender.StopQuiet, ErrQuietHours, quiet.Next(time.Now())
	}
	if err := ledger.Close(); err != nil && res.Stop == sender.StopNone {
		res = sender.Result{Stop: sender.StopError, Err: err}
	}
	stopProgress() // after the ledger's last commit: a display ends where it does
	out := RunResult{Result: res, Took: time.Since(start)}
	if store.IsCorrupt(res.Err) {
		// Not a word more to a damaged file, not even the batch's status.
		return out, fmt.Errorf("batch %s stopped: %w", b.Name, res.Err)
	}
	if err := s.settle(context.WithoutCancel(ctx), b, res, quiet); err != nil {
		return out, err
	}
	if res.Stop == sender.StopUnreachable && res.Sent+res.Failed+res.Unknown == 0 {
		// The preflight reached WeChat, the first sends did not: still
		// before the first send, by the same rule, unless a request may
		// have been written (a row left inflight).
		if c, err := s.db.Counts(context.WithoutCancel(ctx), b.ID); err == nil && c.Inflight == 0 {
			return out, unavailable(res.Err)
		}
	}
	return s.ended(ctx, b, out)
}

// ended completes r with the batch's outcome, read after the run.
func (s *Service) ended(ctx context.Context, b *Batch, r RunResult) (RunResult, error) {
	var err error
	r.Outcome, err = s.outcome(context.WithoutCancel(ctx), b)
	return r, err
}

// settle writes the batch's status from how the run ended and what the
// ledger holds.
func (s *Service) settle(ctx context.Context, b *Batch, res sender.Result, quiet policy.QuietHours) error {
	c, err := s.db.Counts(ctx, b.ID)
	if err != nil {
		return err
	}
	if res.Stop == sender.StopNone && c.Pending == 0 && c.Inflight == 0 {
		return s.db.SetStatus(ctx, b.ID, store.StatusDone, "")
	}
	return s.db.SetStatus(ctx, b.ID, store.StatusPaused, pauseReason(res, b.Name, b.Template, quiet))
}

// pauseReason is the sentence the ledger keeps for a paused batch.
func pauseReason(res sender.Result, name string, t *template.Template, quiet policy.QuietHours) string {
	switch res.Stop {
	case sender.StopQuiet:
		return fmt.Sprintf("%s (%s); sending may resume at %s", res.Stop, quiet, res.ResumeAt.Format("2006-01-02 15:04 MST"))
	case sender.StopNone:
		return "stopped with recipients left"
	case sender.StopQuota:
		return fmt.Sprintf("%s (%s); quota resets at %s", res.Stop, errText(res.Err), res.QuotaResetAt.Format("2006-01-02 15:04 MST"))
	case sender.StopFatal:
		_, advice := wechat.DescribeErr(res.Err)
		advice = strings.ReplaceAll(advice, " NAME ", " "+ShellQuote(name)+" ")
		return fmt.Sprintf("%s with template %s (template_id %s): %s; %s", res.Stop, t.Key, t.TemplateID(), errText(res.Err), advice)
	}
	if res.Err != nil && res.Err.Error() != res.Stop.String() {
		return fmt.Sprintf("%s: %s", res.Stop, errText(res.Err))
	}
	return res.Stop.String()
}

// NeedsNewTemplate reports a batch-fatal error that only another template
// cures (40037, 43116): its advice says to resume with --template FIXED.
func NeedsNewTemplate(err error) bool {
	_, advice := wechat.DescribeErr(err)
	return strings.Contains(advice, "--template FIXED")
}

func rateText(r float64) string {
	if r <= 0 {
		return "unlimited"
	}
	return fmt.Sprintf("%g/s", r)
}

// ShellQuote quotes s for a POSIX shell when it needs it, so that a command
// megasend prints can be pasted as it is.
func ShellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@+,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
