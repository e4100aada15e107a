package campaign

import (
	"context"
	"time"

	"github.com/megasend/megasend/store"
)

// awaitQuota waits while the account's daily quota is spent: until its
// reset at until, or until WeChat's quota/get says it is back sooner (an
// administrator's clear_quota), asked every QuotaProbe. Then what waited
// for the reset — the batches and the single messages — is due at once.
// It returns an error only for a damaged ledger.
func (r *Runner) awaitQuota(ctx context.Context, until time.Time) error {
	r.svc.log.Info("daily quota spent; sending resumes at its reset, or sooner if WeChat says it is back",
		"account", r.account, "until", until)
	for ctx.Err() == nil {
		wait := time.Until(until)
		if wait <= 0 {
			break
		}
		r.sleepQuota(ctx, min(wait, r.QuotaProbe))
		if time.Now().Before(until) && ctx.Err() == nil {
			q, err := r.opts.Client.TemplateSendQuota(ctx)
			if err != nil {
				r.svc.log.Warn("cannot ask WeChat for the quota left", "account", r.account, "err", err)
				continue
			}
			if q.Remain <= 0 {
				continue
			}
			r.svc.log.Info("daily quota is back before its reset", "account", r.account, "remain", q.Remain)
		}
		break
	}
	if ctx.Err() != nil {
		return nil
	}
	if err := r.svc.db.BringForward(context.WithoutCancel(ctx), r.account, until, time.Now()); err != nil {
		if store.IsCorrupt(err) {
			return err
		}
		// What waited stays due at the reset; sending resumes then.
		r.svc.log.Error("cannot bring forward what waited for the quota", "account", r.account, "err", err)
	}
	r.mu.Lock()
	if r.quotaUntil.Equal(until) {
		r.quotaUntil = time.Time{}
	}
	r.mu.Unlock()
	r.svc.wakeMessages(r.account)
	return nil
}

// sleepQuota waits for d or ctx; a batch or a message arriving does not
// end the wait: nothing can be sent.
func (r *Runner) sleepQuota(ctx context.Context, d time.Duration) { sleepUntil(ctx, d, nil) }
