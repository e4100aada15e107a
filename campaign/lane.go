package campaign

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/megasend/megasend/sender"
	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/template"
	"github.com/megasend/megasend/wechat"
)

// The single messages' lane. Beside the batch it is sending, a runner sends
// the account's single messages (POST /v1/messages) through the same client
// and the same limiter: a batch's workers each hold at most one place in the
// limiter's line, so a message waits for a few of them, not for the batch.
// Every attempt is recorded inflight before its request leaves; an answer
// that may hide a delivery is resent with the same client_msg_id only inside
// WeChat's dedup window, by this process or, after a crash, the next one.

// maxMessageAttempts bounds the attempts a message gets while WeChat
// answers -1 (system busy): then it fails with that errcode.
const maxMessageAttempts = 8

// wakeMessages makes the account's runner look for due messages now.
func (s *Service) wakeMessages(account string) {
	if r := s.runner(account); r != nil {
		select {
		case r.msgWake <- struct{}{}:
		default:
		}
	}
}

// runMessages sends the account's due single messages until ctx is done;
// then the sends in flight finish and are recorded. It returns an error
// only for a damaged ledger.
func (r *Runner) runMessages(ctx context.Context) error {
	work := make(chan store.Message)
	var (
		mu      sync.Mutex
		busy    = map[int64]bool{}
		corrupt error
		wg      sync.WaitGroup
	)
	// As many messages in flight as the batch has recipients: a service
	// that is sent only single messages sends them as fast as a batch.
	workers := max(r.opts.Concurrency, 1)
	for range workers {
		wg.Go(func() {
			for m := range work {
				err := r.sendMessage(ctx, m)
				mu.Lock()
				delete(busy, m.ID)
				if store.IsCorrupt(err) && corrupt == nil {
					corrupt = err
				}
				mu.Unlock()
				select {
				case r.msgWake <- struct{}{}:
				default:
				}
			}
		})
	}
	defer wg.Wait()
	defer close(work)
	for ctx.Err() == nil {
		mu.Lock()
		err, inFlight := corrupt, len(busy)
		mu.Unlock()
		if err != nil {
			return err
		}
		if until := r.QuotaUntil(); !until.IsZero() {
			r.sleepMessages(ctx, time.Until(until))
			continue
		}
		due, next, err := r.svc.db.DueMessages(ctx, r.account, time.Now(), workers+inFlight)
		if store.IsCorrupt(err) {
			return err
		}
		if err != nil {
			if ctx.Err() == nil {
				r.svc.log.Error("cannot read the messages due", "account", r.account, "err", err)
				r.sleepMessages(ctx, r.Retry)
			}
			continue
		}
		sent := 0
		for _, m := range due {
			mu.Lock()
			taken := busy[m.ID]
			busy[m.ID] = true
			mu.Unlock()
			if taken {
				continue
			}
			select {
			case work <- m:
				sent++
			case <-ctx.Done():
				return nil
			}
		}
		if sent == 0 {
			wait := time.Duration(0) // until woken
			if !next.IsZero() {
				wait = max(time.Until(next), time.Millisecond)
			}
			r.sleepMessages(ctx, wait)
		}
	}
	return nil
}

// sleepMessages waits for d (0: no limit), a new message, or ctx.
func (r *Runner) sleepMessages(ctx context.Context, d time.Duration) { sleepUntil(ctx, d, r.msgWake) }

// sendMessage makes one attempt at m and records what follows. A stop
// before the request leaves leaves m as it was.
func (r *Runner) sendMessage(ctx context.Context, m store.Message) error {
	db := r.svc.db
	rec := context.WithoutCancel(ctx) // outcomes are recorded whatever stops
	// m was read before an earlier attempt at it may have ended: read it
	// again, and leave it if it is done or not due.
	m, err := db.Message(rec, m.Account, m.ID)
	if err != nil {
		return err
	}
	switch m.State {
	case store.StateScheduled, store.StatePending, store.StateInflight:
	default:
		return nil
	}
	if m.NotBefore.After(time.Now()) {
		return nil
	}
	if q := r.opts.QuietHours; q.Contains(time.Now()) {
		end := q.Next(time.Now())
		return db.FinishMessage(rec, store.MessageOutcome{ID: m.ID, State: m.State, At: time.Now(), NotBefore: end,
			Errcode: m.Errcode, Errmsg: m.Errmsg,
			Detail: fmt.Sprintf("quiet hours (%s); held until %s", q, end.Format(time.RFC3339))})
	}
	t, err := r.messageTemplate(rec, m)
	if err != nil {
		if store.IsCorrupt(err) {
			return err
		}
		return db.FinishMessage(rec, store.MessageOutcome{ID: m.ID, State: store.StateFailed, At: time.Now(),
			Errmsg: "render: " + err.Error(), Detail: "the message could not be rendered"})
	}
	kind := wechat.Kind(t.Kind.OrDefault())
	if m.State == store.StateInflight && kind != wechat.KindTemplate {
		// Only template/send deduplicates by client_msg_id: a resend of
		// this kind could deliver it twice.
		return db.FinishMessage(rec, store.MessageOutcome{ID: m.ID, State: store.StateUnknown, At: time.Now(),
			Errcode: m.Errcode, Errmsg: m.Errmsg,
			Detail: fmt.Sprintf("not resent: WeChat does not deduplicate a %s, and an attempt may have been delivered", kind)})
	}
	window := r.opts.DedupWindow
	if window <= 0 {
		window = 10 * time.Minute
	}
	if m.State == store.StateInflight && !m.FirstAttempt.IsZero() && time.Since(m.FirstAttempt) >= window-window/10 {
		// A request may have been delivered, and a resend now could be
		// delivered again: WeChat has forgotten its client_msg_id.
		return db.FinishMessage(rec, store.MessageOutcome{ID: m.ID, State: store.StateUnknown, At: time.Now(),
			Errcode: m.Errcode, Errmsg: m.Errmsg,
			Detail: "not resent: the dedup window passed since an attempt that may have been delivered"})
	}
	claimed, err := r.claimMessage(ctx, m)
	if claimed == nil || err != nil {
		return err // capped, and recorded so; or the cap could not tell
	}
	delivered := false
	defer func() { claimed(delivered) }()
	if err := r.lim.Wait(ctx); err != nil {
		return nil // stopping
	}
	if !r.QuotaUntil().IsZero() {
		return nil // spent while this one waited: it waits for the reset
	}
	rc := store.Recipient{OpenID: m.OpenID, Vars: m.Vars, ClientMsgID: m.ClientMsgID}
	body, err := sender.TemplateRenderer{T: t}.Render(nil, &rc)
	if err != nil {
		return db.FinishMessage(rec, store.MessageOutcome{ID: m.ID, State: store.StateFailed, At: time.Now(),
			Errmsg: "render: " + err.Error(), Detail: "the message could not be rendered"})
	}
	now := time.Now()
	began, err := db.BeginMessage(rec, m.ID, m.Attempts, now)
	if err != nil {
		if !store.IsCorrupt(err) {
			r.svc.log.Error("cannot record a message inflight; not sent", "message", m.ID, "err", err)
			err = db.FinishMessage(rec, store.MessageOutcome{ID: m.ID, State: m.State, At: time.Now(),
				NotBefore: time.Now().Add(r.Retry), Detail: "not sent: the ledger could not record the attempt"})
		}
		return err
	}
	if !began {
		return nil // another process (a second serve over the file) took it
	}
	var send sender.Client = r.opts.Client
	if r.opts.Send != nil {
		send = r.opts.Send // the client, measured
	}
	msgid, err := sender.Send(r.requestContext(ctx), send, kind, body)
	o := r.judgeMessage(m, kind, msgid, err)
	delivered = o.State == store.StateSent || o.State == store.StateUnknown || o.State == store.StateInflight
	return db.FinishMessage(rec, o)
}

// claimMessage asks the account's frequency cap whether m may be sent now,
// as the engine asks for a batch's recipients (cap.go). It returns the func
// that ends the claim, told whether the message was delivered (or may have
// been), or nil when m is not to be sent now: the cap held it back and it
// is recorded skipped, or the cap could not tell and it waits. A resend of
// an attempt that may have been delivered is not asked again.
func (r *Runner) claimMessage(ctx context.Context, m store.Message) (release func(delivered bool), err error) {
	c := r.opts.Cap
	if c.IsZero() || m.State == store.StateInflight {
		return func(bool) {}, nil
	}
	rec := context.WithoutCancel(ctx)
	ref := store.Delivery{MessageID: m.ID}
	ok, why, err := r.svc.caps.claim(ctx, r.account, m.OpenID, c, ref)
	switch {
	case store.IsCorrupt(err):
		return nil, err
	case err != nil && ctx.Err() != nil:
		return nil, nil // stopping: m stays as it is
	case err != nil:
		r.svc.log.Error("cannot read what the recipient was sent; the message waits", "message", m.ID, "err", err)
		return nil, r.svc.db.FinishMessage(rec, store.MessageOutcome{ID: m.ID, State: m.State, At: time.Now(),
			NotBefore: time.Now().Add(r.Retry), Detail: "not sent: the frequency cap could not be checked"})
	case !ok:
		return nil, r.svc.db.FinishMessage(rec, store.MessageOutcome{ID: m.ID, State: store.StateSkipped, At: time.Now(),
			Errmsg: why, Detail: why})
	}
	return func(delivered bool) { r.svc.caps.release(r.account, m.OpenID, ref, delivered) }, nil
}

// requestContext is the context of a message's request: it survives a
// stop (the send in flight finishes and is recorded) but not an abort.
func (r *Runner) requestContext(ctx context.Context) context.Context {
	if r.opts.Abort != nil {
		return r.opts.Abort
	}
	return context.WithoutCancel(ctx)
}

// judgeMessage decides, from WeChat's answer to an attempt, what becomes
// of m: by the error's class, as the engine does for a batch's
// recipient.
func (r *Runner) judgeMessage(m store.Message, kind wechat.Kind, msgid int64, err error) store.MessageOutcome {
	now := time.Now()
	o := store.MessageOutcome{ID: m.ID, At: now}
	if err == nil {
		o.State, o.MsgID, o.Detail = store.StateSent, msgid, "sent"
		return o
	}
	o.Errcode, o.Errmsg = int64(wechat.Errcode(err)), errText(err)
	attempts := m.Attempts + 1
	retry := now.Add(messageBackoff(attempts))
	switch wechat.ClassOf(err) {
	case wechat.ClassRecipient:
		o.State, o.Detail = store.StateFailed, "WeChat refused this recipient"
	case wechat.ClassFatal:
		// For a batch this pauses it until a person fixes the template or
		// the account; a single message has no batch to pause: it fails,
		// and the errcode says what to fix before sending it again.
		o.State, o.Detail = store.StateFailed, "WeChat refused the template or the account; fix it and send the message again"
	case wechat.ClassQuota:
		until := sender.NextQuotaReset(now)
		r.mu.Lock()
		r.quotaUntil = until
		r.mu.Unlock()
		r.Wake() // the batches' loop asks WeChat whether the quota is back
		r.svc.log.Warn("daily quota spent; single messages wait for its reset", "account", r.account, "until", until)
		o.State, o.NotBefore, o.Detail = store.StatePending, until, "the account's daily quota is spent; held until its reset"
	case wechat.ClassRate:
		o.State, o.NotBefore, o.Detail = store.StatePending, retry, "WeChat asked to slow down; tried again"
	case wechat.ClassToken, wechat.ClassNone:
		o.State, o.NotBefore, o.Detail = store.StatePending, now.Add(r.Retry), "not sent: "+errText(err)+"; tried again"
	default: // transient
		switch {
		case wechat.IsAmbiguous(err) && kind != wechat.KindTemplate:
			o.State = store.StateUnknown
			o.Detail = fmt.Sprintf("no answer: it may have been delivered; not resent, as WeChat does not deduplicate a %s", kind)
		case wechat.IsAmbiguous(err):
			o.State, o.NotBefore = store.StateInflight, retry
			o.Detail = "no answer: it may have been delivered; resent with the same client_msg_id inside WeChat's dedup window"
		case wechat.IsRefused(err):
			o.State, o.NotBefore, o.Detail = store.StatePending, now.Add(min(r.Retry, retry.Sub(now))), "WeChat is out of reach; tried again"
		case attempts >= maxMessageAttempts:
			o.State, o.Detail = store.StateFailed, fmt.Sprintf("WeChat kept answering busy (%d attempts)", attempts)
		default:
			o.State, o.NotBefore, o.Detail = store.StatePending, retry, "WeChat busy; tried again"
		}
	}
	if o.State == store.StatePending && m.State == store.StateInflight && !m.FirstAttempt.IsZero() {
		// An earlier attempt may have been delivered: the resend must keep
		// to the dedup window, which counts from that attempt.
		o.State = store.StateInflight
	}
	return o
}

// messageTemplate returns the template m was accepted with, of its kind.
func (r *Runner) messageTemplate(ctx context.Context, m store.Message) (*template.Template, error) {
	body, kind, err := r.svc.db.MessageTemplate(ctx, m.TemplateHash)
	if err != nil {
		return nil, err
	}
	return r.templates.get(m.TemplateKey+"\x00"+kind, []byte(body), func() (*template.Template, error) {
		return parseStored(store.Template{Key: m.TemplateKey, Kind: kind, Body: []byte(body)})
	})
}

// messageBackoff is the wait before attempt n+1: half a second, doubled
// each attempt, at most half a minute.
func messageBackoff(n int) time.Duration {
	return min(500*time.Millisecond<<min(n-1, 6), 30*time.Second)
}
