package sender

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/megasend/megasend/store"
)

// paceLog records the engine's pace as it changes, on the bubble's clock.
type paceLog struct {
	mu      sync.Mutex
	start   time.Time
	base    float64
	changes []paceChange
}

type paceChange struct {
	at     time.Time
	limit  float64 // messages/s; base when back to the configured rate
	slower bool
	trial  bool
}

func newPaceLog(base float64) *paceLog { return &paceLog{start: time.Now(), base: base} }

func (pl *paceLog) event(ev Event) {
	if ev.Kind != EventPace {
		return
	}
	limit := ev.Limit
	if limit == 0 {
		limit = pl.base
	}
	pl.mu.Lock()
	defer pl.mu.Unlock()
	pl.changes = append(pl.changes, paceChange{at: time.Now(), limit: limit, slower: ev.Slower, trial: ev.Trial})
}

// lowest is the lowest pace set, and whether any slow-down happened.
func (pl *paceLog) lowest() (float64, bool) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	low, slowed := pl.base, false
	for _, c := range pl.changes {
		low = min(low, c.limit)
		slowed = slowed || c.slower
	}
	return low, slowed
}

// slowDowns counts the slow-downs -1 answers prompted (trials) and those
// 45011 asked for.
func (pl *paceLog) slowDowns() (trials, asked int) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	for _, c := range pl.changes {
		switch {
		case c.slower && c.trial:
			trials++
		case c.slower:
			asked++
		}
	}
	return trials, asked
}

// average is the time-weighted average pace over [from, to).
func (pl *paceLog) average(from, to time.Time) float64 {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	cur, at, sum := pl.base, from, 0.0
	for _, c := range pl.changes {
		if c.at.After(from) {
			end := c.at
			if end.After(to) {
				end = to
			}
			sum += cur * end.Sub(at).Seconds()
			at = end
		}
		if !c.at.Before(to) {
			break
		}
		cur = c.limit
	}
	sum += cur * to.Sub(at).Seconds()
	return sum / to.Sub(from).Seconds()
}

// backAt is when the pace was last set back to the configured rate, if it
// ends there.
func (pl *paceLog) backAt() (time.Time, bool) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if len(pl.changes) == 0 {
		return pl.start, true
	}
	last := pl.changes[len(pl.changes)-1]
	return last.at, last.limit == pl.base
}

// overload answers -1 the way a server that can take capacity messages a
// second would: the excess of the calls it had in the last quarter second,
// at random.
type overload struct {
	capacity float64
	mu       sync.Mutex
	calls    []time.Time
	rng      *rand.Rand
	answered [2]int // calls and -1 answers after halfway
	halfway  time.Time
}

func (o *overload) respond(string, int, int) (int64, error) {
	now := time.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, now)
	i := 0
	for i < len(o.calls) && now.Sub(o.calls[i]) >= time.Second/4 {
		i++
	}
	o.calls = o.calls[i:]
	r := 4 * float64(len(o.calls))
	busy := r > o.capacity && o.rng.Float64() < (r-o.capacity)/r
	if !o.halfway.IsZero() && now.After(o.halfway) {
		o.answered[0]++
		if busy {
			o.answered[1]++
		}
	}
	if busy {
		return 0, apiErr(-1)
	}
	return 1, nil
}

// TestEngine_PacingUnderErrors runs the engine at --rate 2000 through the
// error patterns of issue 15 (item 1) and issue 20 (item 8) and checks what
// the pacer made of each (the fake answers in 10 ms of the bubble's time).
func TestEngine_PacingUnderErrors(t *testing.T) {
	const rate, floor = 2000.0, 2000.0 / 4
	tests := []struct {
		name    string
		n       int
		respond func(t0 time.Time) func(openid string, attempt, call int) (int64, error)
		check   func(t *testing.T, pl *paceLog, c *fakeClient, took time.Duration)
	}{
		{
			// WeChat's -1 at random, whatever the pace: slowing down cannot
			// help, so the batch stays near its rate and never goes below
			// the floor.
			name: "Steady20PercentRandom", n: 16000,
			respond: func(time.Time) func(string, int, int) (int64, error) {
				var mu sync.Mutex
				rng := rand.New(rand.NewPCG(15, 1))
				return func(string, int, int) (int64, error) {
					mu.Lock()
					defer mu.Unlock()
					if rng.Float64() < 0.2 {
						return 0, apiErr(-1)
					}
					return 1, nil
				}
			},
			check: func(t *testing.T, pl *paceLog, c *fakeClient, took time.Duration) {
				if low, _ := pl.lowest(); low < floor*0.999 {
					t.Errorf("pace fell to %.0f/s, below the floor %.0f/s", low, floor)
				}
				if avg := pl.average(pl.start, pl.start.Add(took)); avg < 0.9*rate {
					t.Errorf("average pace %.0f/s, want at least 90%% of %.0f/s", avg, rate)
				}
				// Every call, retries included, goes through the limiter:
				// four fifths of them get through.
				from := pl.start.Add(time.Second)
				if got := float64(c.sentBetween(from, from.Add(3*time.Second))) / 3; got < 0.9*0.8*rate {
					t.Errorf("%.0f sent a second in the steady part, want at least 90%% of 80%% of %.0f/s", got, rate)
				}
				// The run's end waits for the last retries; not for long.
				if got := float64(c.totalCalls()) / took.Seconds(); got < 0.8*rate {
					t.Errorf("%.0f calls/s over %v, want at least 80%% of %.0f/s", got, took, rate)
				}
			},
		},
		{
			// WeChat takes 800 messages a second and answers -1 to the rest:
			// the share rises with the pace, so the pacer backs off and
			// settles between the floor and a little above the capacity.
			name: "ShareRisesWithPace", n: 20000,
			respond: func(t0 time.Time) func(string, int, int) (int64, error) {
				o := &overload{capacity: 800, rng: rand.New(rand.NewPCG(15, 2)), halfway: t0.Add(8 * time.Second)}
				t.Cleanup(func() {
					if share := float64(o.answered[1]) / float64(o.answered[0]); share > 0.15 {
						t.Errorf("after 8 s, %.1f%% of %d answers were -1; want the pace settled below 15%%",
							100*share, o.answered[0])
					}
				})
				return o.respond
			},
			check: func(t *testing.T, pl *paceLog, _ *fakeClient, took time.Duration) {
				low, slowed := pl.lowest()
				if !slowed || low < floor*0.999 {
					t.Errorf("lowest pace %.0f/s (slowed %v), want a slow-down no lower than %.0f/s", low, slowed, floor)
				}
				if avg := pl.average(pl.start.Add(8*time.Second), pl.start.Add(took)); avg < floor*0.999 || avg > 1200 {
					t.Errorf("average pace after 8 s: %.0f/s, want it settled in [%.0f, 1200]", avg, floor)
				}
				// No 45011 here: every slow-down is the pacer's own trial.
				if trials, asked := pl.slowDowns(); trials == 0 || asked > 0 {
					t.Errorf("%d slow-downs marked trials of -1, %d marked asked for by WeChat; want only trials", trials, asked)
				}
			},
		},
		{
			// 45011 for three seconds: WeChat says slower, so the pace may go
			// below the floor; three seconds after it ends it is back.
			name: "RateLimitedMayGoBelowFloor", n: 16000,
			respond: func(t0 time.Time) func(string, int, int) (int64, error) {
				return func(string, int, int) (int64, error) {
					if at := time.Since(t0); at >= 2*time.Second && at < 5*time.Second {
						return 0, apiErr(45011)
					}
					return 1, nil
				}
			},
			check: func(t *testing.T, pl *paceLog, _ *fakeClient, _ time.Duration) {
				if low, _ := pl.lowest(); low >= floor {
					t.Errorf("lowest pace %.0f/s: three seconds of 45011 should take it below the floor %.0f/s", low, floor)
				}
				// No -1 here: every slow-down is one WeChat asked for.
				if trials, asked := pl.slowDowns(); trials > 0 || asked == 0 {
					t.Errorf("%d slow-downs marked trials of -1, %d marked asked for by WeChat; want only asked", trials, asked)
				}
				back, ok := pl.backAt()
				if end := pl.start.Add(5 * time.Second); !ok || back.Sub(end) > 6*time.Second {
					t.Errorf("back at the configured rate %v after the 45011s ended (ok %v), want within 6s", back.Sub(end), ok)
				} else {
					t.Logf("back at the configured rate %v after the 45011s ended", back.Sub(end))
				}
			},
		},
		{
			// Every send answered -1 for two seconds, then none: full speed
			// again within two seconds of the burst's end.
			name: "RecoversAfterBurst", n: 16000,
			respond: func(t0 time.Time) func(string, int, int) (int64, error) {
				return func(string, int, int) (int64, error) {
					if at := time.Since(t0); at >= 2*time.Second && at < 4*time.Second {
						return 0, apiErr(-1)
					}
					return 1, nil
				}
			},
			check: func(t *testing.T, pl *paceLog, c *fakeClient, _ time.Duration) {
				if low, _ := pl.lowest(); low < floor*0.999 {
					t.Errorf("pace fell to %.0f/s, below the floor %.0f/s", low, floor)
				}
				end := pl.start.Add(4 * time.Second)
				if got := c.sentBetween(end.Add(2*time.Second), end.Add(3*time.Second)); float64(got) < 0.9*rate {
					t.Errorf("%d sent in the third second after the burst, want at least 90%% of %.0f", got, rate)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newFakeLedger(tt.n)
				pl := newPaceLog(rate)
				c := &fakeClient{t: t, ledger: l, respond: tt.respond(time.Now())}
				cfg := Config{BatchID: 1, Rate: rate, Concurrency: 64, OnEvent: pl.event}
				res := New(cfg, c, l, l, fakeRenderer{}).Run(t.Context())
				took := time.Since(pl.start)
				if res.Stop != StopNone || l.counts()[store.StateSent] != tt.n {
					t.Fatalf("stop %v (%v), counts %v; want all %d sent", res.Stop, res.Err, l.counts(), tt.n)
				}
				tt.check(t, pl, c, took)
				t.Logf("%d sent in %v (%.0f/s), %d calls; lowest pace %.0f/s", tt.n, took,
					float64(tt.n)/took.Seconds(), c.totalCalls(), math.Round(must(pl.lowest())))
			})
		})
	}
}

func must(v float64, _ bool) float64 { return v }
