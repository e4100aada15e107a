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

// try is one recipient on its way through a worker.
type try struct {
	r store.Recipient
	n int // requests made for it in this run
	// first is the start of its dedup window: the first request that may
	// have been delivered, or the one a crashed run recorded.
	first time.Time
	// unsure says an earlier request may have been delivered (an ambiguous
	// error, or a row recovered after a crash); while it holds, a resend is
	// allowed only inside the dedup window.
	unsure bool
}

// outcome is what the ledger records when t ends in state.
func (t *try) outcome(state string, code int, msg string) store.Outcome {
	return store.Outcome{Line: t.r.Line, State: state, Errcode: code, Errmsg: msg,
		Attempts: t.n, First: t.first, At: time.Now()}
}

// send takes one claimed recipient to a final state, or hands it back when
// the run stops first. The row is inflight in the ledger already: retries
// write nothing until the outcome.
func (w *worker) send(r store.Recipient) {
	e := w.e
	t := &try{r: r, first: r.FirstAttemptAt, unsure: !r.FirstAttemptAt.IsZero()}
	if w.stopped() || e.pace.wait(w.runCtx) != nil {
		e.unclaim(r) // never started
		return
	}
	var lastErr error
	for attempt, rateTries := 1, 0; ; {
		now := time.Now()
		if t.unsure && now.Sub(t.first) >= e.cfg.resendBefore() {
			w.finish(t, store.StateUnknown, -1, fmt.Sprintf("not resent: %v (last error: %v)", errWindowPassed, lastErr))
			return
		}
		if t.first.IsZero() {
			t.first = now
		}
		body, err := e.render.Render(w.buf[:0], &r)
		if err != nil {
			w.fail(t, 0, fmt.Sprintf("render: %v", err))
			return
		}
		w.buf = body
		t.n++
		msgid, err := e.client.SendTemplateBody(w.reqCtx, body)
		e.pace.done(err)
		if err == nil {
			e.stats.sent.Add(1)
			e.errs.add(false)
			o := t.outcome(store.StateSent, 0, "")
			o.MsgID = msgid
			e.jour.Finish(o)
			return
		}
		lastErr = err
		t.unsure = t.unsure || wechat.IsAmbiguous(err)
		class := wechat.ClassOf(err)
		switch class {
		case wechat.ClassRecipient:
			w.fail(t, wechat.Errcode(err), apiMsg(err))
			return
		case wechat.ClassQuota:
			w.release(t, err)
			e.stop(Result{Stop: StopQuota, Err: err, QuotaResetAt: NextQuotaReset(time.Now())})
			return
		case wechat.ClassFatal:
			w.release(t, err)
			e.stop(Result{Stop: StopFatal, Err: err})
			return
		}
		if w.stopped() {
			w.release(t, err)
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
			w.release(t, err)
			e.stop(Result{Stop: StopFatal, Err: fmt.Errorf("the access token is refused even after a refresh "+
				"(a token command handing out a stale token, or another system resetting it): %w", err)})
			return
		case class == wechat.ClassNone:
			// Not WeChat's answer: a token command that failed, or a bug.
			// Every recipient would meet it, so stop rather than guess.
			w.release(t, err)
			e.stop(Result{Stop: StopError, Err: err})
			return
		case attempt >= e.cfg.MaxAttempts:
			w.giveUp(t, err)
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
			w.release(t, err)
			return
		}
	}
}

// giveUp ends a recipient whose transient errors outlasted its attempts.
func (w *worker) giveUp(t *try, err error) {
	switch {
	case t.unsure:
		w.finish(t, store.StateUnknown, -1, fmt.Sprintf("no answer after %d attempts, may have been delivered: %v", w.e.cfg.MaxAttempts, err))
	case isUnreachable(err):
		// Nothing left this machine: the batch, not the recipient, has a problem.
		w.release(t, err)
		w.e.stop(Result{Stop: StopUnreachable, Err: err})
	default:
		w.fail(t, wechat.Errcode(err), apiMsg(err))
	}
}

// release hands a recipient back when the run stops before its outcome is
// known. A row that may have been delivered stays inflight, so the resume
// rule decides by the dedup window; a row WeChat definitely refused goes
// back to pending, to be sent as if new.
func (w *worker) release(t *try, err error) {
	w.e.stats.released.Add(1)
	if t.unsure {
		w.e.jour.Finish(t.outcome(store.StateInflight, wechat.Errcode(err), apiMsg(err)))
		return
	}
	t.first = time.Time{} // nothing was delivered: the window starts afresh
	w.e.jour.Finish(t.outcome(store.StatePending, wechat.Errcode(err), apiMsg(err)))
}

func (w *worker) fail(t *try, code int, msg string) {
	w.finish(t, store.StateFailed, code, msg)
}

func (w *worker) finish(t *try, state string, code int, msg string) {
	e := w.e
	switch state {
	case store.StateFailed:
		e.stats.failed.Add(1)
	case store.StateUnknown:
		e.stats.unknown.Add(1)
	}
	e.jour.Finish(t.outcome(state, code, msg))
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
