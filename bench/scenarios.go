package main

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"time"
)

// campaign is the argument list of a new campaign over users.
func (b *bench) campaign(users, batch string, extra ...string) []string {
	return append([]string{"campaign", "--template", b.template, "--users", users, "--batch", batch, "--yes"}, extra...)
}

// checkAccepted fails unless the sandbox delivered exactly n messages.
func checkAccepted(ctx context.Context, sb *sandbox, n int) error {
	got, err := sb.accepted(ctx)
	if err != nil {
		return err
	}
	if got != int64(n) {
		return fmt.Errorf("sandbox accepted %d messages, want %d", got, n)
	}
	return nil
}

// sendPhase is the part of a run from the engine's start ("sending" logged)
// to the process's exit: import and preflight excluded, the ledger's last
// commit and the summary included.
func sendPhase(r runResult) (time.Duration, error) {
	at, ok := r.since("sending")
	if !ok {
		return 0, fmt.Errorf("megasend logged no \"sending\" line:\n%s", tail(r.stderr))
	}
	return r.wall - at, nil
}

// latency measures how concurrency turns into throughput when every answer
// takes 100 ms: the ideal is concurrency / 0.1 s.
func (b *bench) latency(ctx context.Context) error {
	for _, c := range []struct {
		conc, n int
		want    float64
	}{{200, b.sz.lat200, 0.95}, {1000, b.sz.lat1000, 0.90}} {
		if err := b.latencyRun(ctx, c.conc, c.n, c.want); err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) latencyRun(ctx context.Context, conc, n int, want float64) error {
	logf("latency: 100 ms, concurrency %d, %d recipients", conc, n)
	users, err := b.writeUsers(n)
	if err != nil {
		return err
	}
	sb, err := b.startSandbox(false, "--latency", "100ms", "--quota", "2000000")
	if err != nil {
		return err
	}
	defer sb.stop()
	name := fmt.Sprintf("latency-%d", conc)
	r, err := b.megasend(ctx, sb, filepath.Join(b.dir, name+".db"), 5*time.Minute, []int{0},
		b.campaign(users, name, "--concurrency", strconv.Itoa(conc))...)
	if err != nil {
		return err
	}
	if err := checkAccepted(ctx, sb, n); err != nil {
		return err
	}
	sb.stop()
	sp, err := sendPhase(r)
	if err != nil {
		return err
	}
	// The same load from the minimal client says what this machine allows:
	// at high concurrency the sandbox and the client's connections, not the
	// latency, can be the limit.
	logf("latency: the minimal client, 100 ms, concurrency %d, %d messages", conc, n)
	mr, err := b.minimal(ctx, n, conc, "--latency", "100ms")
	if err != nil {
		return err
	}
	ideal := float64(conc) / 0.1
	rate := float64(n) / sp.Seconds()
	b.add(row{scenario: "latency",
		what: fmt.Sprintf("100 ms latency, concurrency %s, no rate limit, %s recipients (send phase)", count(conc), count(n)),
		measured: fmt.Sprintf("**%s msgs/s = %.1f%%** of %s (send phase %s; whole process %s, %s msgs/s); "+
			"the minimal client, same load: %s msgs/s = %.1f%%, megasend ÷ it = %.2f",
			count(int(rate)), 100*rate/ideal, count(int(ideal)), secs(sp), secs(r.wall), count(int(float64(n)/r.wall.Seconds())),
			count(int(mr.rate)), 100*mr.rate/ideal, rate/mr.rate),
		target:  fmt.Sprintf("≥ %.0f%% of %s msgs/s", 100*want, count(int(ideal))),
		verdict: b.verdict(rate >= want*ideal)})
	return nil
}

// seedCase is the seed's complaint: 1,500 messages at 240 ms each took 6
// minutes one by one.
func (b *bench) seedCase(ctx context.Context) error {
	n := b.sz.seed
	const lat = 240 * time.Millisecond
	serial := time.Duration(n) * lat
	users, err := b.writeUsers(n)
	if err != nil {
		return err
	}
	for _, c := range []struct {
		label string
		args  []string
	}{{"default settings", nil}, {"--concurrency 64", []string{"--concurrency", "64"}}} {
		logf("seed: %d recipients at 240 ms, %s", n, c.label)
		sb, err := b.startSandbox(false, "--latency", "240ms")
		if err != nil {
			return err
		}
		name := fmt.Sprintf("seed-%d", len(c.args))
		r, err := b.megasend(ctx, sb, filepath.Join(b.dir, name+".db"), 5*time.Minute, []int{0},
			b.campaign(users, name, c.args...)...)
		if err == nil {
			err = checkAccepted(ctx, sb, n)
		}
		sb.stop()
		if err != nil {
			return err
		}
		rw := row{scenario: "seed",
			what: fmt.Sprintf("%s recipients at 240 ms latency, %s, process start to exit", count(n), c.label),
			measured: fmt.Sprintf("**%s**, %.0f× faster than %.0f s serial",
				secs(r.wall), serial.Seconds()/r.wall.Seconds(), serial.Seconds())}
		if c.args != nil {
			rw.target, rw.verdict = "≤ 7 s", b.verdict(r.wall <= 7*time.Second)
		}
		b.add(rw)
	}
	return nil
}

// rateAccuracy holds --rate for the configured time and measures the rate
// the sandbox saw between its first and last delivery.
func (b *bench) rateAccuracy(ctx context.Context) error {
	rate := b.sz.rate
	n := int(rate * b.sz.rateFor.Seconds())
	logf("rate: --rate %g, %d recipients", rate, n)
	users, err := b.writeUsers(n)
	if err != nil {
		return err
	}
	sb, err := b.startSandbox(true, "--quota", "2000000")
	if err != nil {
		return err
	}
	defer sb.stop()
	r, err := b.megasend(ctx, sb, filepath.Join(b.dir, "rate.db"), b.sz.rateFor+2*time.Minute, []int{0},
		b.campaign(users, "rate", "--rate", strconv.FormatFloat(rate, 'g', -1, 64))...)
	if err != nil {
		return err
	}
	times, err := deliveryTimes(sb.deliveries)
	if err != nil {
		return err
	}
	if len(times) != n {
		return fmt.Errorf("%d deliveries, want %d", len(times), n)
	}
	span := times[len(times)-1].Sub(times[0])
	achieved := float64(n-1) / span.Seconds()
	e := achieved/rate - 1
	b.add(row{scenario: "rate",
		what: fmt.Sprintf("--rate %g held for %.0f s (%s recipients), first to last delivery", rate, b.sz.rateFor.Seconds(), count(n)),
		measured: fmt.Sprintf("**%.2f msgs/s, error %+.2f%%** (over %s; whole process %s)",
			achieved, 100*e, secs(span), secs(r.wall)),
		target: "within ±1%", verdict: b.verdict(math.Abs(e) <= 0.01)})
	return nil
}
