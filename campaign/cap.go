package campaign

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/megasend/megasend/policy"
	"github.com/megasend/megasend/sender"
	"github.com/megasend/megasend/store"
)

// Frequency caps. A cap (policy.Cap: at most N messages to a person within
// a duration) is decided just before each send, not at import: what the
// account's other batches and single messages sent since counts. The
// decision is made here once, for the engine's workers (through
// sender.Capper) and for the single messages' lane alike.
//
// What counts: every delivery the ledger holds for the account (sent, or
// unknown: perhaps delivered), by any batch or as a single message, and,
// within this process, every capped send in flight. The check and the
// claim of a send are one step under capClaims' lock, so two capped
// senders of this process (two batches, or a batch and the single
// messages of serve) never let one person past the cap together. Across
// processes (two `campaign` commands at once on one account) a send counts
// once its outcome is committed, a few milliseconds after WeChat's answer:
// two sends to one person that leave within that moment, one from each
// process, may both go. A sender with no cap neither asks nor claims; its
// deliveries count once recorded.

// claimGrace is how long a delivered claim still counts after its
// release: the engine records outcomes asynchronously, and a delivery must
// not vanish between its release here and its commit there. DeliveredTo's
// answers and the claims are told apart by what they name, so nothing is
// counted twice.
const claimGrace = time.Minute

// capClaims are the capped sends of this process: in flight (zero time),
// or delivered and released at a time within claimGrace.
type capClaims struct {
	db *store.DB

	mu    sync.Mutex
	by    map[capKey]map[store.Delivery]time.Time
	swept time.Time
}

type capKey struct{ account, openid string }

func newCapClaims(db *store.DB) *capClaims {
	return &capClaims{db: db, by: map[capKey]map[store.Delivery]time.Time{}}
}

// claim reports whether c lets account send openid another message now,
// as the send named ref; if it does, the send counts until release. why
// says, for a send held back, which cap and how many it counted: it starts
// with store.SkipCapped, which reports count by.
func (cc *capClaims) claim(ctx context.Context, account, openid string, c policy.Cap, ref store.Delivery) (ok bool, why string, err error) {
	now := time.Now()
	since := c.Since(now)
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.sweep(now)
	got, err := cc.db.DeliveredTo(ctx, account, openid, since)
	if err != nil {
		return false, "", err
	}
	k := capKey{account, openid}
	seen := make(map[store.Delivery]bool, len(got))
	for _, d := range got {
		seen[d] = true
	}
	for d, at := range cc.by[k] {
		if d != ref && (at.IsZero() || !at.Before(since)) {
			seen[d] = true
		}
	}
	delete(seen, ref) // a resend of this very send is no other message
	if n := len(seen); n >= c.N {
		return false, fmt.Sprintf("%s: %d %s already within %s (cap %s)", store.SkipCapped, n, Plural(n, "message"),
			c.PerText(), c), nil
	}
	if cc.by[k] == nil {
		cc.by[k] = map[store.Delivery]time.Time{}
	}
	cc.by[k][ref] = time.Time{}
	return true, "", nil
}

// release ends the claim ref: a delivery keeps counting for claimGrace.
func (cc *capClaims) release(account, openid string, ref store.Delivery, delivered bool) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	k := capKey{account, openid}
	if delivered {
		if m := cc.by[k]; m != nil {
			m[ref] = time.Now()
		}
		return
	}
	delete(cc.by[k], ref)
	if len(cc.by[k]) == 0 {
		delete(cc.by, k)
	}
}

// sweep forgets the deliveries released longer than claimGrace ago, at
// most once per claimGrace.
func (cc *capClaims) sweep(now time.Time) {
	if now.Sub(cc.swept) < claimGrace {
		return
	}
	cc.swept = now
	for k, m := range cc.by {
		for d, at := range m {
			if !at.IsZero() && now.Sub(at) > claimGrace {
				delete(m, d)
			}
		}
		if len(m) == 0 {
			delete(cc.by, k)
		}
	}
}

// batchCap is a batch's cap as its engine consults it.
type batchCap struct {
	claims  *capClaims
	account string
	cap     policy.Cap
}

var _ sender.Capper = batchCap{}

// Claim implements sender.Capper.
func (bc batchCap) Claim(ctx context.Context, r *store.Recipient) (bool, string, error) {
	return bc.claims.claim(ctx, bc.account, r.OpenID, bc.cap, store.Delivery{BatchID: r.BatchID, Line: r.Line})
}

// Release implements sender.Capper.
func (bc batchCap) Release(r *store.Recipient, delivered bool) {
	bc.claims.release(bc.account, r.OpenID, store.Delivery{BatchID: r.BatchID, Line: r.Line}, delivered)
}
