package cmd

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/megasend/megasend/sender"
	"github.com/megasend/megasend/store"
)

// Progress reads the ledger, never an in-memory counter: what it shows is
// what a resume would find.
const (
	barInterval = 500 * time.Millisecond // terminal refresh
	logInterval = 5 * time.Second        // a log line without a terminal
)

// startProgress shows the batch's progress until the returned func is
// called: a bar on a terminal, a log line every few seconds otherwise,
// nothing with --quiet.
func (a *app) startProgress(ctx context.Context, db *store.DB, b store.Batch, eng *sender.Engine) func() {
	if a.quiet {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	start := time.Now()
	var (
		bar   *progressbar.ProgressBar
		done0 int64 // outcomes before this run
		total int64
	)
	// A bar only for a person at a terminal reading text, not for JSON logs.
	useBar := a.streams.ErrIsTerminal && a.said == nil
	interval := logInterval
	if useBar {
		interval = barInterval
	}
	// The first reading happens here, beside the first sends, not before
	// them: it is cheap (the counts read past the batch's frontier), but
	// nothing the first send needs waits on it.
	first := func() {
		c0, _ := db.Counts(ctx, b.ID)
		done0 = c0.Sent + c0.Failed + c0.Unknown
		total = c0.Total() - c0.Skipped
		if useBar {
			bar = progressbar.NewOptions64(total,
				progressbar.OptionSetWriter(a.streams.Err),
				progressbar.OptionSetWidth(30),
				progressbar.OptionShowCount(),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionShowDescriptionAtLineEnd(),
				progressbar.OptionSetRenderBlankState(true),
			)
			_ = bar.Set64(done0)
		}
	}
	show := func() {
		c, err := db.Counts(ctx, b.ID)
		if err != nil {
			return
		}
		done := c.Sent + c.Failed + c.Unknown
		elapsed := time.Since(start).Seconds()
		rate := float64(done-done0) / max(elapsed, 0.001)
		if bar != nil {
			bar.Describe(fmt.Sprintf("sent %d · failed %d · pending %d · %.0f msg/s · %s",
				c.Sent, c.Failed+c.Unknown, c.Pending+c.Inflight, rate, eng.State()))
			_ = bar.Set64(done)
			return
		}
		a.log.Info("progress", "batch", b.Name, "sent", c.Sent, "failed", c.Failed, "unknown", c.Unknown,
			"pending", c.Pending+c.Inflight, "total", total, "msgs_per_s", fmt.Sprintf("%.1f", rate), "state", eng.State())
	}
	wg.Go(func() {
		first()
		t := time.NewTimer(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				// A reading counts the sends rows past the batch's frontier and
				// the unsent ones (about 3 ms with a million rows, half sent):
				// space readings to ten times their cost all the same, so
				// watching never takes more than a tenth of a core from sending.
				began := time.Now()
				show()
				t.Reset(max(interval, 10*time.Since(began)))
			}
		}
	})
	return func() {
		cancel()
		wg.Wait()
		if bar != nil {
			// One last reading, so the bar ends where the ledger does.
			ctx = context.WithoutCancel(ctx)
			show()
			_ = bar.Exit()
			fmt.Fprintln(a.streams.Err)
		}
	}
}

// logEvent turns engine events into log lines: slow-downs and stops are
// what an operator needs to see as they happen.
func (a *app) logEvent(ev sender.Event) {
	switch ev.Kind {
	case sender.EventPace:
		switch {
		case ev.Slower:
			a.log.Warn("WeChat asked to slow down; pacing the batch", "msgs_per_s", fmt.Sprintf("%.1f", ev.Limit))
		case ev.Limit > 0:
			a.log.Info("WeChat is quiet; speeding up", "msgs_per_s", fmt.Sprintf("%.1f", ev.Limit))
		default:
			a.log.Info("back to the configured rate")
		}
	case sender.EventRetry:
		a.log.Debug("retrying", "line", ev.Line, "err", ev.Err)
	case sender.EventStop:
		a.log.Warn("stopping the batch", "reason", ev.Stop.String(), "err", ev.Err)
	}
}
