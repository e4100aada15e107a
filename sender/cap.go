package sender

import (
	"context"
	"fmt"
	"time"

	"github.com/megasend/megasend/store"
)

// Capper is a frequency cap the engine consults just before a recipient's
// first attempt in a run, so that what other batches and messages sent in
// the meantime counts, not only what was sent when the batch was imported.
// campaign implements it over the ledger, for batches and single messages
// alike: the decision lives there, once.
type Capper interface {
	// Claim reports whether r may be sent now. If it may, the send counts
	// against the cap for every other sender that asks, until Release; if
	// not, why is the skipped recipient's errmsg. An error stops the run.
	Claim(ctx context.Context, r *store.Recipient) (ok bool, why string, err error)
	// Release ends a claim that Claim granted. delivered reports a send
	// WeChat accepted, or may have (the ledger keeps it as sent, unknown or
	// inflight); otherwise nothing reached the recipient.
	Release(r *store.Recipient, delivered bool)
}

// claim asks the cap, if any, whether j's recipient may be sent now. A
// recipient whose earlier attempt may have been delivered (a resend inside
// the dedup window) was let through before and is not asked again: skipping
// it now could hide a delivery. ended reports that the attempt ends here,
// with v: verdictDone when the cap skipped the recipient, verdictHold when
// the run must stop.
func (w *worker) claim(j *job) (v verdict, ended bool) {
	e := w.e
	if e.cfg.Cap == nil || j.claimed || j.unsure {
		return 0, false
	}
	ok, why, err := e.cfg.Cap.Claim(w.runCtx, &j.r)
	switch {
	case err != nil && w.stopped():
		return verdictHold, true
	case err != nil:
		e.stop(Result{Stop: StopError, Err: fmt.Errorf("frequency cap: %w", err)})
		return verdictHold, true
	case !ok:
		e.stats.capped.Add(1)
		e.jour.Finish(store.Outcome{Line: j.r.Line, State: store.StateSkipped, Errmsg: why, At: time.Now()})
		return verdictDone, true
	}
	j.claimed = true
	return 0, false
}

// release ends j's claim on the cap once its recipient is done with, or
// handed back because the run stops.
func (e *Engine) release(j *job) {
	if !j.claimed || j.verdict != verdictDone && j.verdict != verdictHold {
		return
	}
	j.claimed = false
	e.cfg.Cap.Release(&j.r, j.delivered || j.unsure)
}
