package sender

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/megasend/megasend/store"
)

// fakeCap holds back the openids refuse names, and keeps account of the
// claims it granted: each must be released once, saying whether it was
// delivered.
type fakeCap struct {
	refuse func(openid string) bool
	err    error

	mu        sync.Mutex
	asked     map[string]int
	open      map[string]bool
	delivered map[string]bool
}

func (c *fakeCap) Claim(_ context.Context, r *store.Recipient) (bool, string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.asked == nil {
		c.asked, c.open, c.delivered = map[string]int{}, map[string]bool{}, map[string]bool{}
	}
	c.asked[r.OpenID]++
	if c.err != nil {
		return false, "", c.err
	}
	if c.refuse != nil && c.refuse(r.OpenID) {
		return false, "capped: 1 message within 24h (cap 1/24h)", nil
	}
	c.open[r.OpenID] = true
	return true, "", nil
}

func (c *fakeCap) Release(r *store.Recipient, delivered bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.open[r.OpenID] {
		panic("release of a claim not granted, or twice: " + r.OpenID)
	}
	delete(c.open, r.OpenID)
	c.delivered[r.OpenID] = delivered
}

// TestEngine_Cap: the cap is asked once per recipient before its first
// attempt; one it holds back is skipped with its reason and never sent,
// takes no place in the pace and counts as no error; every claim granted
// is released once, delivered or not.
func TestEngine_Cap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newFakeLedger(90)
		c := &fakeClient{t: t, ledger: l, respond: func(id string, attempt, _ int) (int64, error) {
			switch {
			case idx(id)%10 == 1:
				return 0, apiErr(43004) // failed: nothing delivered
			case idx(id)%10 == 2 && attempt == 1:
				return 0, apiErr(-1) // delivered on the retry
			}
			return 1, nil
		}}
		capr := &fakeCap{refuse: func(id string) bool { return idx(id)%3 == 0 }}
		cfg := Config{BatchID: 1, Cap: capr, Backoff: time.Millisecond}
		res := New(cfg, c, l, l, fakeRenderer{}).Run(t.Context())
		if res.Stop != StopNone || res.Capped != 30 || res.Sent != 54 || res.Failed != 6 {
			t.Fatalf("result %+v (%v)", res, res.Err)
		}
		if got := l.counts(); got[store.StateSkipped] != 30 || got[store.StateSent] != 54 || got[store.StateFailed] != 6 {
			t.Errorf("ledger %v", got)
		}
		if r := l.row(3); r.State != store.StateSkipped || !strings.HasPrefix(r.Errmsg, store.SkipCapped) || r.Attempts != 0 {
			t.Errorf("line 3: %s %q after %d attempts", r.State, r.Errmsg, r.Attempts)
		}
		for _, id := range c.sentOpenIDs() {
			if idx(id)%3 == 0 {
				t.Errorf("%s sent though capped", id)
			}
		}
		capr.mu.Lock()
		defer capr.mu.Unlock()
		for id, n := range capr.asked {
			if n != 1 {
				t.Errorf("%s asked %d times", id, n)
			}
		}
		if len(capr.open) != 0 {
			t.Errorf("claims never released: %v", capr.open)
		}
		if !capr.delivered["user0002"] || capr.delivered["user0001"] || len(capr.delivered) != 60 {
			t.Errorf("released: user0002 delivered %v, user0001 %v, %d in all",
				capr.delivered["user0002"], capr.delivered["user0001"], len(capr.delivered))
		}
	})
}

// TestEngine_CapResend: a row left inflight by a stopped run is resent
// inside the dedup window without asking the cap: it was let through
// before, and may have been delivered.
func TestEngine_CapResend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newFakeLedger(2)
		l.rows[0].FirstAttemptAt = time.Now().Add(-time.Minute)
		c := &fakeClient{t: t, ledger: l, respond: func(string, int, int) (int64, error) { return 1, nil }}
		capr := &fakeCap{refuse: func(string) bool { return true }}
		res := New(Config{BatchID: 1, Cap: capr}, c, l, l, fakeRenderer{}).Run(t.Context())
		if res.Sent != 1 || res.Capped != 1 || l.row(1).State != store.StateSent || l.row(2).State != store.StateSkipped {
			t.Errorf("result %+v; rows %s, %s", res, l.row(1).State, l.row(2).State)
		}
		if capr.asked["user0001"] != 0 {
			t.Error("the resend asked the cap")
		}
	})
}

// TestEngine_CapError: a cap that cannot tell (the ledger unreadable)
// stops the run as a local error; nothing is sent without its word.
func TestEngine_CapError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newFakeLedger(20)
		c := &fakeClient{t: t, ledger: l, respond: func(string, int, int) (int64, error) { return 1, nil }}
		boom := errors.New("disk I/O error")
		res := New(Config{BatchID: 1, Cap: &fakeCap{err: boom}}, c, l, l, fakeRenderer{}).Run(t.Context())
		if res.Stop != StopError || !errors.Is(res.Err, boom) || c.totalCalls() != 0 {
			t.Errorf("result %+v, %d calls", res, c.totalCalls())
		}
		if got := l.counts(); got[store.StatePending] != 20 {
			t.Errorf("ledger %v, want every row pending", got)
		}
	})
}
