package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// zeroLatency measures the ceiling (the minimal client) and megasend end to
// end at zero latency, in b.rounds interleaved rounds: on a shared machine
// whose speed drifts by tens of percent within minutes, a ratio is only
// trusted between runs made side by side, and the median of several such
// pairs is less at the mercy of one burst from a neighbour than a single
// pair. Every round's figure is printed beside the median.
func (b *bench) zeroLatency(ctx context.Context, ceiling, e2e bool) error {
	n, conc := b.sz.e2e, b.sz.conc
	// Every sandbox serves the same messages, so a process's CPU ÷ its
	// sandbox's cancels much of the machine's drift between runs (not all:
	// a sandbox kept less busy spends more per message).
	var minRates, minCPUs, minOwn []float64
	var runs []runResult
	var own []float64
	for round := 1; round <= b.rounds; round++ {
		if ceiling {
			logf("ceiling (round %d of %d): minimal client, %d messages, concurrency %d", round, b.rounds, n, conc)
			mr, err := b.minimal(ctx, n, conc)
			if err != nil {
				return err
			}
			minRates, minCPUs = append(minRates, mr.rate), append(minCPUs, perMsgMicros(mr.cpu, n))
			minOwn = append(minOwn, ratio(mr.cpu, mr.sandboxCPU))
			logf("ceiling: %s msgs/s", count(int(mr.rate)))
		}
		if e2e {
			logf("e2e (round %d of %d): megasend, %d recipients, concurrency %d", round, b.rounds, n, conc)
			r, sandboxCPU, err := b.endToEnd(ctx, round)
			if err != nil {
				return err
			}
			runs, own = append(runs, r), append(own, ratio(r.cpu, sandboxCPU))
			logf("e2e: %s msgs/s", count(int(float64(n)/r.wall.Seconds())))
		}
	}
	if ceiling {
		b.add(row{scenario: "ceiling",
			what: fmt.Sprintf("minimal client, 0 ms latency, concurrency %d, %s messages", conc, count(n)),
			measured: fmt.Sprintf("**%s msgs/s**%s; the client's process: %.1f µs CPU per message%s, rendering beforehand "+
				"included, %.2f times its sandbox's%s", count(int(median(minRates))), b.each(minRates, "%.0f"),
				median(minCPUs), b.each(minCPUs, "%.1f"), median(minOwn), b.each(minOwn, "%.2f"))})
	}
	if !e2e {
		return nil
	}
	rates, cpus, sends := make([]float64, len(runs)), make([]float64, len(runs)), make([]float64, len(runs))
	var peak runResult
	for i, r := range runs {
		rates[i], cpus[i] = float64(n)/r.wall.Seconds(), perMsgMicros(r.cpu, n)
		if sp, err := sendPhase(r); err == nil {
			sends[i] = float64(n) / sp.Seconds()
		}
		if r.maxRSS > peak.maxRSS {
			peak = r
		}
	}
	e2eRow := row{scenario: "e2e",
		what: fmt.Sprintf("megasend end to end, import included, 0 ms, concurrency %d, %s recipients, full ledger", conc, count(n)),
		measured: fmt.Sprintf("**%s msgs/s**%s; send phase alone %s msgs/s", count(int(median(rates))), b.each(rates, "%.0f"),
			count(int(median(sends)))),
		target: "÷ ceiling ≥ 0.70"}
	cpuRow := row{scenario: "e2e",
		what: "CPU per message in megasend's process (user + system, import included), same runs",
		measured: fmt.Sprintf("**%.1f µs**%s, %.2f times the sandbox's in the same run%s", median(cpus), b.each(cpus, "%.1f"),
			median(own), b.each(own, "%.2f")),
		target: "≤ 40 µs", verdict: b.verdict(median(cpus) <= 40)}
	if ceiling {
		ratios, cpuRatios := make([]float64, len(runs)), make([]float64, len(runs))
		for i := range runs {
			ratios[i], cpuRatios[i] = rates[i]/minRates[i], cpus[i]/minCPUs[i]
		}
		e2eRow.measured += fmt.Sprintf("; **÷ ceiling = %.2f**%s", median(ratios), b.each(ratios, "%.2f"))
		e2eRow.verdict = b.verdict(median(ratios) >= 0.70)
		cpuRow.measured += fmt.Sprintf("; ÷ the minimal client's = %.2f%s", median(cpuRatios), b.each(cpuRatios, "%.2f"))
	} else {
		e2eRow.measured += "; ceiling not measured in this run"
	}
	b.add(e2eRow)
	b.add(cpuRow)
	b.add(row{scenario: "e2e", what: "peak RSS of megasend, same runs (the highest)", measured: rss(peak)})
	return nil
}

// endToEnd runs megasend over a fresh database at zero latency with the
// ceiling's concurrency and recipients, import included.
func (b *bench) endToEnd(ctx context.Context, round int) (r runResult, sandboxCPU time.Duration, err error) {
	n := b.sz.e2e
	users, err := b.writeUsers(n)
	if err != nil {
		return runResult{}, 0, err
	}
	sb, err := b.startSandbox(false, "--quota", "2000000")
	if err != nil {
		return runResult{}, 0, err
	}
	defer sb.stop()
	r, err = b.megasend(ctx, sb, filepath.Join(b.dir, fmt.Sprintf("e2e-%d.db", round)), 5*time.Minute, []int{0},
		b.campaign(users, "e2e", "--concurrency", strconv.Itoa(b.sz.conc))...)
	if err != nil {
		return r, 0, err
	}
	if err := checkAccepted(ctx, sb, n); err != nil {
		return r, 0, err
	}
	sb.stop()
	return r, sb.cpu(), nil
}

// each lists one figure per round in parentheses, or nothing for one round.
func (b *bench) each(xs []float64, format string) string {
	if len(xs) < 2 {
		return ""
	}
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf(format, x)
		if format == "%.0f" {
			parts[i] = count(int(x))
		}
	}
	return fmt.Sprintf(" (median of %d rounds: %s)", len(xs), strings.Join(parts, ", "))
}

// median of xs; the lower middle one for an even count.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// ratio is a ÷ b, or 0 when b is unknown.
func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func perMsgMicros(cpu time.Duration, n int) float64 {
	return float64(cpu.Nanoseconds()) / 1e3 / float64(n)
}
