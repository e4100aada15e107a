package sender

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/wechat"
)

// worker sends recipients one at a time.
type worker struct {
	e       *Engine
	reqCtx  context.Context // in-flight requests: survives a stop for DrainTimeout
	runCtx  context.Context // ends when the run stops
	stopped func() bool
	buf     []byte
}

// send takes one recipient from pending to a final state, or releases it
// when the run stops. unsure records whether an earlier attempt may have
// been delivered (an ambiguous error, or an inflight row recovered after a
// crash); while it is true a resend is allowed only inside the dedup window.
func (w *worker) send(r store.Recipient) {
	e := w.e
	if w.stopped() {
		return // never started: it is still pending in the ledger
	}
	if err := e.pace.wait(w.runCtx); err != nil {
		return
	}
	first := r.FirstAttemptAt
	unsure := !first.IsZero()
	var lastErr error
	for attempt, rateTries := 1, 0; ; {
		now := time.Now()
		if unsure && now.Sub(first) >= e.cfg.resendBefore() {
			w.finish(r, store.StateUnknown, -1, fmt.Sprintf("not resent: %v (last error: %v)", errWindowPassed, lastErr))
			return
		}
		if first.IsZero() {
			first = now
		}
		if err := e.jour.Begin(w.reqCtx, r.Line, now); err != nil {
			e.stop(Result{Stop: StopError, Err: fmt.Errorf("record line %d inflight: %w", r.Line, err)})
			return
		}
		body, err := e.render.Render(w.buf[:0], &r)
		if err != nil {
			w.fail(r, 0, fmt.Sprintf("render: %v", err))
			return
		}
		w.buf = body
		msgid, err := e.client.SendTemplateBody(w.reqCtx, body)
		e.pace.done(err)
		if err == nil {
			e.stats.sent.Add(1)
			e.errs.add(false)
			e.jour.Finish(store.Outcome{Line: r.Line, State: store.StateSent, MsgID: msgid, At: time.Now()})
			return
		}
		lastErr = err
		unsure = unsure || wechat.IsAmbiguous(err)
		class := wechat.ClassOf(err)
		switch class {
		case wechat.ClassRecipient:
			w.fail(r, wechat.Errcode(err), apiMsg(err))
			return
		case wechat.ClassQuota:
			w.release(r, unsure, err)
			e.stop(Result{Stop: StopQuota, Err: err, QuotaResetAt: NextQuotaReset(time.Now())})
			return
		case wechat.ClassFatal:
			w.release(r, unsure, err)
			e.stop(Result{Stop: StopFatal, Err: err})
			return
		}
		if w.stopped() {
			w.release(r, unsure, err)
			return
		}
		var delay time.Duration
		switch {
		case class == wechat.ClassRate:
			// Rate errors are WeChat asking the whole batch to slow down; they
			// do not count against the recipient's attempts.
			e.pace.slowDown(false, e.event)
			rateTries++
			delay = e.cfg.Backoff << min(rateTries, 7)
		case class == wechat.ClassToken:
			// The client refreshed the token once already and WeChat still
			// refuses it: every recipient would meet the same answer.
			w.release(r, unsure, err)
			e.stop(Result{Stop: StopFatal, Err: fmt.Errorf("the access token is refused even after a refresh "+
				"(a token command handing out a stale token, or another system resetting it): %w", err)})
			return
		case class == wechat.ClassNone:
			// Not WeChat's answer: a token command that failed, or a bug.
			// Every recipient would meet it, so stop rather than guess.
			w.release(r, unsure, err)
			e.stop(Result{Stop: StopError, Err: err})
			return
		case attempt >= e.cfg.MaxAttempts:
			w.giveUp(r, unsure, err)
			return
		default:
			if e.pace.busyBurst() {
				e.pace.slowDown(true, e.event)
			}
			delay = e.cfg.Backoff << (attempt - 1)
			attempt++
		}
		e.event(Event{Kind: EventRetry, Line: r.Line, Err: err})
		if !sleep(w.runCtx, jitter(delay)) {
			w.release(r, unsure, err)
			return
		}
	}
}

// giveUp ends a recipient whose transient errors outlasted its attempts.
func (w *worker) giveUp(r store.Recipient, unsure bool, err error) {
	switch {
	case unsure:
		w.finish(r, store.StateUnknown, -1, fmt.Sprintf("no answer after %d attempts, may have been delivered: %v", w.e.cfg.MaxAttempts, err))
	case isUnreachable(err):
		// Nothing left this machine: the batch, not the recipient, has a problem.
		w.release(r, false, err)
		w.e.stop(Result{Stop: StopUnreachable, Err: err})
	default:
		w.fail(r, wechat.Errcode(err), apiMsg(err))
	}
}

// release hands a recipient back when the run stops before its outcome is
// known. A row that may have been delivered stays inflight, so the resume
// rule decides by the dedup window; a row WeChat definitely refused goes
// back to pending, to be sent as if new.
func (w *worker) release(r store.Recipient, unsure bool, err error) {
	w.e.stats.released.Add(1)
	if unsure {
		return // inflight in the ledger already
	}
	w.e.jour.Finish(store.Outcome{Line: r.Line, State: store.StatePending, Errcode: wechat.Errcode(err), Errmsg: apiMsg(err), At: time.Now()})
}

func (w *worker) fail(r store.Recipient, code int, msg string) {
	w.finish(r, store.StateFailed, code, msg)
}

func (w *worker) finish(r store.Recipient, state string, code int, msg string) {
	e := w.e
	switch state {
	case store.StateFailed:
		e.stats.failed.Add(1)
	case store.StateUnknown:
		e.stats.unknown.Add(1)
	}
	e.jour.Finish(store.Outcome{Line: r.Line, State: state, Errcode: code, Errmsg: msg, At: time.Now()})
	if e.errs.add(true) {
		e.stop(Result{Stop: StopThreshold, Err: fmt.Errorf("more recipients failed than --max-errors %s allows", e.cfg.MaxErrors)})
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

// isUnreachable reports an error that proves nothing reached WeChat.
func isUnreachable(err error) bool {
	var re *wechat.RequestError
	return errors.As(err, &re) && !re.Sent && re.Status == 0
}
