package sender

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/wechat"
)

// kindClient answers each endpoint with its own func, records which
// endpoint each openid was sent to, and checks the row is durably inflight
// (and of the kind sent) before the request leaves.
type kindClient struct {
	t      *testing.T
	ledger *fakeLedger
	custom func(openid string) error
	tmpl   func(openid string) error

	mu    sync.Mutex
	calls map[string][]wechat.Kind // openid → the endpoints it was sent to, in order
}

func (c *kindClient) call(body []byte, kind wechat.Kind, answer func(string) error) error {
	var m map[string]string
	if err := json.Unmarshal(body, &m); err != nil {
		c.t.Errorf("body %s: %v", body, err)
	}
	openid := m["touser"]
	r := c.ledger.rowOf(openid)
	if r.State != store.StateInflight {
		c.t.Errorf("send to %s while its row is %s, want inflight", openid, r.State)
	}
	if kind == wechat.KindTemplate && r.Kind != string(wechat.KindTemplate) {
		c.t.Errorf("fallback to %s while its row's kind is %q", openid, r.Kind)
	}
	c.mu.Lock()
	if c.calls == nil {
		c.calls = map[string][]wechat.Kind{}
	}
	c.calls[openid] = append(c.calls[openid], kind)
	c.mu.Unlock()
	time.Sleep(10 * time.Millisecond)
	if answer == nil {
		return nil
	}
	return answer(openid)
}

func (c *kindClient) SendTemplateBody(_ context.Context, body []byte) (int64, error) {
	return 42, c.call(body, wechat.KindTemplate, c.tmpl)
}

func (c *kindClient) SendCustomBody(_ context.Context, body []byte) error {
	return c.call(body, wechat.KindCustom, c.custom)
}

func (c *kindClient) SendSubscribeBody(_ context.Context, body []byte) error {
	return c.call(body, wechat.KindSubscribe, nil)
}

func (l *fakeLedger) rowOf(openid string) store.Recipient {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.rows {
		if r.OpenID == openid {
			return r
		}
	}
	return store.Recipient{}
}

func customErr(code int) error {
	return &wechat.APIError{Op: "message/custom/send", Code: code, Msg: "errmsg rid: 0-0-0", Class: wechat.ClassifyKind(wechat.KindCustom, code)}
}

// TestEngine_Fallback: a customer-service message that cannot reach its
// recipient (45015, 45047) moves it to the template-kind fallback, which is
// sent once; other errors fail the recipient as they would without one,
// and without a fallback 45015 fails it too.
func TestEngine_Fallback(t *testing.T) {
	custom := func(id string) error {
		switch idx(id) % 4 {
		case 1:
			return customErr(45015)
		case 2:
			return customErr(45047)
		case 3:
			return customErr(40003)
		}
		return nil
	}
	tests := []struct {
		name      string
		fallback  wechat.Kind
		want      map[string]int
		wantCalls map[int][]wechat.Kind // by idx % 4
	}{
		{"WithFallback", wechat.KindTemplate, map[string]int{store.StateSent: 30, store.StateFailed: 10},
			map[int][]wechat.Kind{0: {"custom"}, 1: {"custom", "template"}, 2: {"custom", "template"}, 3: {"custom"}}},
		{"WithoutFallback", "", map[string]int{store.StateSent: 10, store.StateFailed: 30},
			map[int][]wechat.Kind{0: {"custom"}, 1: {"custom"}, 2: {"custom"}, 3: {"custom"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newFakeLedger(40)
				c := &kindClient{t: t, ledger: l, custom: custom}
				cfg := Config{BatchID: 1, Kind: wechat.KindCustom, FallbackKind: tt.fallback, Concurrency: 4}
				res := New(cfg, c, l, l, fakeRenderer{}).Run(t.Context())
				if res.Stop != StopNone {
					t.Fatalf("Stop = %v (%v)", res.Stop, res.Err)
				}
				got := l.counts()
				for state, n := range tt.want {
					if got[state] != n {
						t.Errorf("%s = %d, want %d (all: %v)", state, got[state], n, got)
					}
				}
				for _, r := range l.rows {
					want := tt.wantCalls[idx(r.OpenID)%4]
					if calls := c.calls[r.OpenID]; len(calls) != len(want) || calls[len(calls)-1] != want[len(want)-1] {
						t.Errorf("%s sent to %v, want %v", r.OpenID, calls, want)
					}
				}
				if n := res.Fallbacks; tt.fallback != "" && n != 20 {
					t.Errorf("Fallbacks = %d, want 20", n)
				}
			})
		})
	}
}

// TestEngine_NoDedupKind: a customer-service message whose answer never
// came may have been delivered, and WeChat would deliver a resend again:
// it is unknown at once, never resent, where a template message is retried.
func TestEngine_NoDedupKind(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newFakeLedger(10)
		timeout := &wechat.RequestError{Op: "message/custom/send", Sent: true, Err: context.DeadlineExceeded}
		if !wechat.IsAmbiguous(timeout) {
			t.Fatal("the test's timeout is not ambiguous")
		}
		c := &kindClient{t: t, ledger: l, custom: func(id string) error {
			if idx(id) == 3 {
				return timeout
			}
			return nil
		}}
		res := New(Config{BatchID: 1, Kind: wechat.KindCustom}, c, l, l, fakeRenderer{}).Run(t.Context())
		if res.Stop != StopNone || res.Unknown != 1 || res.Sent != 9 {
			t.Fatalf("Run = %+v", res)
		}
		if calls := c.calls["user0003"]; len(calls) != 1 {
			t.Errorf("user0003 sent %d times, want once", len(calls))
		}
		if r := l.row(3); r.State != store.StateUnknown {
			t.Errorf("row 3 = %s", r.State)
		}
	})
}

// TestEngine_FallbackCapped: a recipient moved to its fallback keeps the
// frequency cap's claim: the cap is asked once per recipient, not again for
// the fallback, and each claim is released once, as delivered when the
// fallback was sent.
func TestEngine_FallbackCapped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newFakeLedger(20)
		c := &kindClient{t: t, ledger: l, custom: func(id string) error {
			if idx(id)%2 == 1 {
				return customErr(45015)
			}
			return nil
		}}
		capr := &fakeCap{}
		cfg := Config{BatchID: 1, Kind: wechat.KindCustom, FallbackKind: wechat.KindTemplate, Concurrency: 4, Cap: capr}
		res := New(cfg, c, l, l, fakeRenderer{}).Run(t.Context())
		if res.Stop != StopNone || res.Sent != 20 || res.Fallbacks != 10 {
			t.Fatalf("result %+v (%v)", res, res.Err)
		}
		capr.mu.Lock()
		defer capr.mu.Unlock()
		for id, n := range capr.asked {
			if n != 1 {
				t.Errorf("%s: the cap asked %d times", id, n)
			}
		}
		if len(capr.open) != 0 || len(capr.delivered) != 20 {
			t.Errorf("claims open %v, %d released; want none open, 20 released", capr.open, len(capr.delivered))
		}
		for id, d := range capr.delivered {
			if !d {
				t.Errorf("%s released as not delivered", id)
			}
		}
	})
}
