package sender

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/wechat"
)

func apiErr(code int) error {
	return &wechat.APIError{Op: "message/template/send", Code: code, Msg: "errmsg rid: 0-0-0", Class: wechat.Classify(code)}
}

func idx(openid string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(openid, "user"))
	return n
}

func TestEngine_Run(t *testing.T) {
	ok := func(string, int, int) (int64, error) { return 1 << 60, nil }
	tests := []struct {
		name     string
		n        int
		cfg      Config
		respond  func(openid string, attempt, call int) (int64, error)
		stop     StopReason
		want     map[string]int // ledger states at the end
		maxCalls int            // 0: not checked
		check    func(t *testing.T, l *fakeLedger, c *fakeClient, res Result)
	}{
		{
			name: "OK", n: 300, respond: ok,
			want: map[string]int{store.StateSent: 300},
			check: func(t *testing.T, l *fakeLedger, c *fakeClient, res Result) {
				if res.Sent != 300 || len(c.sentOpenIDs()) != 300 {
					t.Errorf("sent %d, client accepted %d; want 300", res.Sent, len(c.sentOpenIDs()))
				}
				if r := l.row(7); r.MsgID != 1<<60 || r.Attempts != 1 {
					t.Errorf("row 7 = msgid %d attempts %d", r.MsgID, r.Attempts)
				}
			},
		},
		{
			name: "RecipientErrorsFailThatRecipient", n: 100,
			respond: func(id string, _, _ int) (int64, error) {
				if idx(id)%10 == 0 {
					return 0, apiErr(43004)
				}
				return 1, nil
			},
			want: map[string]int{store.StateSent: 90, store.StateFailed: 10},
			check: func(t *testing.T, l *fakeLedger, _ *fakeClient, _ Result) {
				if r := l.row(10); r.Errcode != 43004 || !strings.Contains(r.Errmsg, "rid:") {
					t.Errorf("row 10 = errcode %d errmsg %q", r.Errcode, r.Errmsg)
				}
			},
		},
		{
			name: "TransientRetriedWithBackoff", n: 50,
			respond: func(_ string, attempt, _ int) (int64, error) {
				if attempt <= 2 {
					return 0, apiErr(-1)
				}
				return 1, nil
			},
			want: map[string]int{store.StateSent: 50},
			check: func(t *testing.T, l *fakeLedger, _ *fakeClient, _ Result) {
				if r := l.row(1); r.Attempts != 3 {
					t.Errorf("attempts = %d, want 3", r.Attempts)
				}
			},
		},
		{
			// Retried for RetryFor (and MaxAttempts at least), then once
			// more at the end of the run, then failed.
			name: "TransientExhaustedFails", n: 10, cfg: Config{MaxAttempts: 3, RetryFor: 10 * time.Second},
			respond: func(string, int, int) (int64, error) { return 0, apiErr(-1) },
			want:    map[string]int{store.StateFailed: 10},
			check: func(t *testing.T, l *fakeLedger, _ *fakeClient, res Result) {
				if r := l.row(1); r.Attempts < 4 || r.Errcode != -1 {
					t.Errorf("row 1 = attempts %d errcode %d, want at least 4 (3 and the late one), -1", r.Attempts, r.Errcode)
				}
				if res.RetriedLate != 10 || l.lateCount() != 10 {
					t.Errorf("retried late %d, recorded %d; want 10", res.RetriedLate, l.lateCount())
				}
			},
		},
		{
			name: "AmbiguousExhaustedIsUnknown", n: 5, cfg: Config{MaxAttempts: 2, RetryFor: 5 * time.Second},
			respond: func(string, int, int) (int64, error) {
				return 0, &wechat.RequestError{Op: "send", Sent: true, Err: errors.New("EOF")}
			},
			want: map[string]int{store.StateUnknown: 5},
		},
		{
			name: "DailyQuotaPauses", n: 200, cfg: Config{Concurrency: 4},
			respond: func(_ string, _, call int) (int64, error) {
				if call > 50 {
					return 0, apiErr(45009)
				}
				return 1, nil
			},
			stop: StopQuota,
			check: func(t *testing.T, l *fakeLedger, _ *fakeClient, res Result) {
				c := l.counts()
				if c[store.StateSent] != 50 || c[store.StatePending] != 150 || c[store.StateInflight] != 0 {
					t.Errorf("counts = %v, want 50 sent, 150 pending", c)
				}
				if res.QuotaResetAt.IsZero() || res.QuotaResetAt.In(beijing).Hour() != 0 {
					t.Errorf("QuotaResetAt = %v, want a Beijing midnight", res.QuotaResetAt)
				}
			},
		},
		{
			name: "FatalStopsAtOnce", n: 500, cfg: Config{Concurrency: 8},
			respond:  func(string, int, int) (int64, error) { return 0, apiErr(40037) },
			stop:     StopFatal,
			maxCalls: 8,
			want:     map[string]int{store.StatePending: 500},
		},
		{
			// The client refreshes a refused token once; a refusal that
			// reaches the engine is the batch's problem, not the recipients'.
			name: "TokenStillRefusedStops", n: 100, cfg: Config{Concurrency: 4},
			respond:  func(string, int, int) (int64, error) { return 0, apiErr(40014) },
			stop:     StopFatal,
			maxCalls: 4,
			want:     map[string]int{store.StatePending: 100},
		},
		{
			name: "ErrorThreshold", n: 100, cfg: Config{Concurrency: 1, MaxErrors: Threshold{set: true, Count: 5}},
			respond: func(string, int, int) (int64, error) { return 0, apiErr(43004) },
			stop:    StopThreshold,
			want:    map[string]int{store.StateFailed: 6, store.StatePending: 94},
		},
		{
			name: "UnreachablePauses", n: 20, cfg: Config{Concurrency: 2, MaxAttempts: 2},
			respond: func(string, int, int) (int64, error) {
				return 0, &wechat.RequestError{Op: "send", Err: errors.New("dial tcp: connection refused")}
			},
			stop: StopUnreachable,
			want: map[string]int{store.StatePending: 20},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newFakeLedger(tt.n)
				c := &fakeClient{t: t, ledger: l, respond: tt.respond}
				cfg := tt.cfg
				cfg.BatchID = 1
				res := New(cfg, c, l, l, fakeRenderer{}).Run(t.Context())
				if res.Stop != tt.stop {
					t.Errorf("Stop = %v (%v), want %v", res.Stop, res.Err, tt.stop)
				}
				if tt.want != nil {
					got := l.counts()
					for state, n := range tt.want {
						if got[state] != n {
							t.Errorf("%s = %d, want %d (all: %v)", state, got[state], n, got)
						}
					}
				}
				if tt.maxCalls > 0 && c.totalCalls() > tt.maxCalls {
					t.Errorf("client called %d times, want at most %d", c.totalCalls(), tt.maxCalls)
				}
				if tt.check != nil {
					tt.check(t, l, c, res)
				}
			})
		})
	}
}

// A burst of 45011 slows the whole batch down, and the pace recovers once
// WeChat is quiet; nobody is failed for it.
func TestEngine_RateErrorsSlowDownAndRecover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newFakeLedger(2000)
		var mu sync.Mutex
		var events []Event
		c := &fakeClient{t: t, ledger: l, respond: func(_ string, _, call int) (int64, error) {
			if call >= 100 && call < 140 {
				return 0, apiErr(45011)
			}
			return 1, nil
		}}
		cfg := Config{BatchID: 1, Concurrency: 16, OnEvent: func(ev Event) {
			mu.Lock()
			events = append(events, ev)
			mu.Unlock()
		}}
		res := New(cfg, c, l, l, fakeRenderer{}).Run(t.Context())
		if res.Stop != StopNone || l.counts()[store.StateSent] != 2000 {
			t.Fatalf("stop %v, counts %v; want all 2000 sent", res.Stop, l.counts())
		}
		var slowed, recovered bool
		for _, ev := range events {
			if ev.Kind == EventPace && ev.Limit > 0 {
				slowed = true
			}
			if ev.Kind == EventPace && ev.Limit == 0 && slowed {
				recovered = true
			}
		}
		if !slowed || !recovered {
			t.Errorf("slowed %v, recovered %v; want both (events %v)", slowed, recovered, events)
		}
	})
}

// --rate holds on the bubble's clock: 200 messages at 50/s take about 4s.
func TestEngine_RateLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newFakeLedger(200)
		c := &fakeClient{t: t, ledger: l, respond: func(string, int, int) (int64, error) { return 1, nil }}
		start := time.Now()
		res := New(Config{BatchID: 1, Rate: 50, Concurrency: 32}, c, l, l, fakeRenderer{}).Run(t.Context())
		took := time.Since(start)
		if res.Stop != StopNone {
			t.Fatalf("stop %v", res.Stop)
		}
		if took < 3900*time.Millisecond || took > 4100*time.Millisecond {
			t.Errorf("200 messages at 50/s took %v, want ~4s", took)
		}
	})
}

// Cancelling the run stops taking recipients: what was sent is recorded,
// the rest stays pending, nothing is left inflight.
func TestEngine_Interrupted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newFakeLedger(1000)
		ctx, cancel := context.WithCancelCause(t.Context())
		c := &fakeClient{t: t, ledger: l, respond: func(_ string, _, call int) (int64, error) {
			if call == 100 {
				cancel(errors.New("interrupted"))
			}
			return 1, nil
		}}
		res := New(Config{BatchID: 1, Concurrency: 8}, c, l, l, fakeRenderer{}).Run(ctx)
		if res.Stop != StopInterrupted {
			t.Fatalf("Stop = %v, want interrupted", res.Stop)
		}
		got := l.counts()
		if got[store.StateInflight] != 0 || got[store.StateSent] != len(c.sentOpenIDs()) ||
			got[store.StateSent]+got[store.StatePending] != 1000 {
			t.Errorf("counts %v, client accepted %d", got, len(c.sentOpenIDs()))
		}
	})
}

// A row recovered after a crash (its first attempt long ago) whose
// resends keep getting no answer is not resent past the dedup window.
func TestEngine_NoResendPastDedupWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newFakeLedger(3)
		l.rows[0].FirstAttemptAt = time.Now().Add(-20 * time.Minute) // outside the window
		l.rows[0].Attempts = 1
		l.rows[1].FirstAttemptAt = time.Now().Add(-time.Minute) // inside
		l.rows[1].Attempts = 1
		c := &fakeClient{t: t, ledger: l, respond: func(string, int, int) (int64, error) { return 1, nil }}
		New(Config{BatchID: 1}, c, l, l, fakeRenderer{}).Run(t.Context())
		if st := l.row(1).State; st != store.StateUnknown {
			t.Errorf("row outside the window = %s, want unknown", st)
		}
		if st := l.row(2).State; st != store.StateSent {
			t.Errorf("row inside the window = %s, want sent", st)
		}
		if c.attempts["user0001"] != 0 {
			t.Errorf("row outside the window was resent")
		}
	})
}

func TestParseThreshold(t *testing.T) {
	tests := []struct {
		in      string
		want    Threshold
		wantErr bool
	}{
		{in: "", want: Threshold{}},
		{in: "50", want: Threshold{set: true, Count: 50}},
		{in: "0", want: Threshold{set: true}},
		{in: "5%", want: Threshold{set: true, Percent: 5}},
		{in: "0.5%", want: Threshold{set: true, Percent: 0.5}},
		{in: "-1", wantErr: true},
		{in: "101%", wantErr: true},
		{in: "x", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseThreshold(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseThreshold(%q) = %+v, %v", tt.in, got, err)
		}
	}
}

func TestErrorWindow_Percent(t *testing.T) {
	w := newErrorWindow(Threshold{set: true, Percent: 10})
	for i := range minOutcomes - 1 {
		if w.add(i%5 == 0) { // 20% failing, but too few outcomes yet
			t.Fatalf("tripped after %d outcomes", i+1)
		}
	}
	if !w.add(true) {
		t.Errorf("did not trip at %d outcomes with >10%% failures", minOutcomes)
	}
}

func TestNextQuotaReset(t *testing.T) {
	// 2026-11-22 23:30 in Beijing is 15:30 UTC: the reset is 30 minutes on.
	now := time.Date(2026, 11, 22, 15, 30, 0, 0, time.UTC)
	want := time.Date(2026, 11, 22, 16, 0, 0, 0, time.UTC)
	if got := NextQuotaReset(now); !got.Equal(want) {
		t.Errorf("NextQuotaReset(%v) = %v, want %v", now, got, want)
	}
}
