package sender

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/wechat"
)

// worker makes one attempt per job it is given.
type worker struct {
	e       *Engine
	reqCtx  context.Context // in-flight requests: survives a stop for DrainTimeout
	runCtx  context.Context // ends when the run stops
	stopped func() bool
	buf     []byte
}

// attempt sends a job's recipient once and says what is left to do: done
// (a final state is recorded), a retry from j.due on, once more at the end
// of the run, or hold (the run is stopping). A recipient waiting for a retry
// is pending in the ledger if WeChat's answer proved nothing was delivered,
// and stays inflight if an attempt may have been (j.unsure): then a resend
// is allowed only inside the dedup window.
func (w *worker) attempt(j *job) verdict {
	e := w.e
	if w.stopped() {
		return verdictHold // not begun: the ledger holds it as it was
	}
	// The cap before the limiter: a recipient it skips takes no place in
	// the account's pace.
	if v, ended := w.claim(j); ended {
		return v
	}
	now, err := e.pace.wait(w.runCtx)
	if err != nil {
		return verdictHold
	}
	if j.unsure && now.Sub(j.first) >= e.cfg.resendBefore() {
		j.late = false // not tried again, late or not
		w.finish(j, store.StateUnknown, -1, fmt.Sprintf("not resent: %v (last error: %v)", errWindowPassed, j.lastErr))
		return verdictDone
	}
	if j.first.IsZero() {
		j.first = now
	}
	if err := e.jour.Begin(w.reqCtx, j.r.Line, now); err != nil {
		e.stop(Result{Stop: StopError, Err: fmt.Errorf("record line %d inflight: %w", j.r.Line, err)})
		return verdictHold
	}
	body, err := e.render.Render(w.buf[:0], &j.r)
	if err != nil {
		w.finish(j, store.StateFailed, 0, fmt.Sprintf("render: %v", err))
		return verdictDone
	}
	w.buf = body
	kind := e.kindOf(&j.r)
	msgid, err := e.send(w.reqCtx, kind, body)
	e.pace.done(now, err)
	j.refused = wechat.IsRefused(err)
	if err == nil {
		e.stats.sent.Add(1)
		e.errs.add(false)
		j.delivered = true
		e.jour.Finish(store.Outcome{Line: j.r.Line, State: store.StateSent, MsgID: msgid, At: time.Now(), Late: j.late,
			OpenID: j.r.OpenID})
		w.countLate(j)
		return verdictDone
	}
	j.lastErr = err
	j.unsure = j.unsure || wechat.IsAmbiguous(err)
	switch {
	case kind == wechat.KindCustom && e.cfg.FallbackKind != "" && wechat.Unreachable(err):
		return w.toFallback(j, err)
	case j.unsure && kind != wechat.KindTemplate:
		// Only template/send deduplicates by client_msg_id: a resend of
		// this kind could deliver it twice.
		w.finish(j, store.StateUnknown, -1, fmt.Sprintf("not resent: WeChat does not deduplicate a %s, and this one may have been delivered: %v", kind, err))
		return verdictDone
	}
	v := w.judge(j, err)
	if v != verdictDone {
		w.release(j, err)
	}
	if v == verdictRetry {
		e.event(Event{Kind: EventRetry, Line: j.r.Line, Err: err})
	}
	return v
}

// judge decides what follows a failed attempt, by the error's class (its
// endpoint's: errors name the op that answered them).
func (w *worker) judge(j *job, err error) verdict {
	e := w.e
	switch wechat.ClassOf(err) {
	case wechat.ClassRecipient:
		w.finish(j, store.StateFailed, wechat.Errcode(err), apiMsg(err))
		return verdictDone
	case wechat.ClassQuota:
		e.stop(Result{Stop: StopQuota, Err: err, QuotaResetAt: NextQuotaReset(time.Now())})
		return verdictHold
	case wechat.ClassFatal:
		e.stop(Result{Stop: StopFatal, Err: err})
		return verdictHold
	case wechat.ClassToken:
		// The client refreshed every token WeChat refused and it still
		// refuses: every recipient would meet the same answer.
		e.stop(Result{Stop: StopFatal, Err: fmt.Errorf("the access token is refused even after a refresh "+
			"(a token command handing out a stale token, or another system resetting it): %w", err)})
		return verdictHold
	case wechat.ClassNone:
		// Not WeChat's answer: a token command that failed, or a bug.
		// Every recipient would meet it, so stop rather than guess.
		e.stop(Result{Stop: StopError, Err: err})
		return verdictHold
	case wechat.ClassRate:
		// WeChat asks the whole batch to slow down; this does not count
		// against the recipient's budget.
		e.pace.rateLimited()
		if w.stopped() {
			return verdictHold
		}
		j.rateTries++
		j.due = time.Now().Add(jitter(backoff(e.cfg.Backoff, j.rateTries)))
		return verdictRetry
	}
	// Transient: -1, HTTP 5xx, timeouts, broken or refused connections.
	if w.stopped() {
		return verdictHold
	}
	now := time.Now()
	j.attempt++
	switch {
	case j.refused:
		if j.attempt >= e.cfg.MaxAttempts {
			// Nothing left this machine: the batch, not the recipient, has
			// a problem.
			e.stop(Result{Stop: StopUnreachable, Err: err})
			return verdictHold
		}
	case j.late:
		w.giveUp(j, err)
		return verdictDone
	default:
		if j.since.IsZero() {
			j.since = now
		}
		if j.attempt >= e.cfg.MaxAttempts && now.Sub(j.since) >= e.cfg.RetryFor {
			return verdictLater
		}
	}
	// While most sends get through, a recipient's first failures are the
	// random share: it is tried again after a moment (a quarter of
	// Backoff), and the end of a batch does not wait for its unluckiest
	// recipients' long backoffs. One that keeps failing has a problem of
	// its own, and one in a batch WeChat is failing (most sends fail, or
	// connections are refused) waits longer between tries.
	delay := e.cfg.Backoff / 4
	switch {
	case j.refused || e.pace.failing():
		delay = backoff(e.cfg.Backoff, j.attempt)
	case j.attempt >= e.cfg.MaxAttempts:
		delay = backoff(e.cfg.Backoff, j.attempt-e.cfg.MaxAttempts+1)
	}
	j.due = now.Add(jitter(delay))
	return verdictRetry
}

// toFallback moves a recipient the batch's kind cannot reach to its
// fallback, durably before the fallback is sent, and hands it back to be
// sent at once as a new send of the fallback's kind: its own
// client_msg_id, dedup window and budget.
func (w *worker) toFallback(j *job, err error) verdict {
	e := w.e
	if ferr := e.jour.Fallback(w.reqCtx, j.r.Line, string(e.cfg.FallbackKind), wechat.Errcode(err), apiMsg(err)); ferr != nil {
		e.stop(Result{Stop: StopError, Err: fmt.Errorf("record line %d moved to the fallback: %w", j.r.Line, ferr)})
		return verdictHold
	}
	e.stats.fallbacks.Add(1)
	r := j.r
	r.Kind, r.FirstAttemptAt = string(e.cfg.FallbackKind), time.Time{}
	// The cap's claim goes with it: one message reaches the recipient, by
	// whichever kind, and the cap is not asked a second time.
	*j = job{r: r, late: j.late, due: time.Now(), claimed: j.claimed}
	return verdictRetry
}

// giveUp ends a recipient whose transient errors outlasted its budget and
// the end-of-run pass.
func (w *worker) giveUp(j *job, err error) {
	if j.unsure {
		w.finish(j, store.StateUnknown, -1, fmt.Sprintf("no answer after %d attempts, may have been delivered: %v", j.attempt, err))
		return
	}
	w.finish(j, store.StateFailed, wechat.Errcode(err), apiMsg(err))
}

// release records a recipient that goes back to wait, or back to the
// ledger because the run stops, before its outcome is known. A row that may
// have been delivered stays inflight, so the resume rule decides by the
// dedup window; a row WeChat definitely refused goes back to pending, to be
// sent as if new.
func (w *worker) release(j *job, err error) {
	if j.unsure {
		return // inflight in the ledger already
	}
	w.e.jour.Finish(store.Outcome{Line: j.r.Line, State: store.StatePending, Errcode: wechat.Errcode(err), Errmsg: apiMsg(err), At: time.Now()})
}

func (w *worker) finish(j *job, state string, code int, msg string) {
	e := w.e
	switch state {
	case store.StateFailed:
		e.stats.failed.Add(1)
	case store.StateUnknown:
		e.stats.unknown.Add(1)
		j.delivered = true // perhaps: the caps count it
	}
	e.jour.Finish(store.Outcome{Line: j.r.Line, State: state, Errcode: code, Errmsg: msg, At: time.Now(), Late: j.late,
		OpenID: j.r.OpenID})
	w.countLate(j)
	if e.errs.add(true) {
		e.stop(Result{Stop: StopThreshold, Err: fmt.Errorf("more recipients failed than --max-errors %s allows", e.cfg.MaxErrors)})
	}
}

// countLate counts a recipient whose end-of-run try has its outcome.
func (w *worker) countLate(j *job) {
	if j.late {
		w.e.stats.late.Add(1)
	}
}

// apiMsg is what the ledger keeps of an error: WeChat's errmsg (with its
// rid) when there is one, else the error text, which never holds secrets.
func apiMsg(err error) string {
	var ae *wechat.APIError
	if errors.As(err, &ae) {
		return ae.Msg
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

// kindOf is the kind r is sent: the batch's, or its fallback's once r moved
// to it.
func (e *Engine) kindOf(r *store.Recipient) wechat.Kind {
	if r.Kind != "" {
		return wechat.Kind(r.Kind)
	}
	return e.cfg.Kind
}

// send sends body to kind's endpoint.
func (e *Engine) send(ctx context.Context, kind wechat.Kind, body []byte) (int64, error) {
	return Send(ctx, e.client, kind, body)
}

// Send sends body to kind's endpoint through c: the engine's sends and
// serve's single messages alike. Only template/send answers a msgid.
func Send(ctx context.Context, c Client, kind wechat.Kind, body []byte) (int64, error) {
	switch kind {
	case wechat.KindCustom:
		return 0, c.SendCustomBody(ctx, body)
	case wechat.KindSubscribe:
		return 0, c.SendSubscribeBody(ctx, body)
	}
	return c.SendTemplateBody(ctx, body)
}
