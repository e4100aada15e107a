package cmd

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rivo/uniseg"

	"github.com/megasend/megasend/campaign"
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
func (a *app) startProgress(ctx context.Context, svc *campaign.Service, b *campaign.Batch, eng *sender.Engine) func() {
	if a.quiet {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	start := time.Now()
	var (
		done0 int64 // outcomes before this run
		total int64
	)
	// A bar only for a person at a terminal reading text, not for JSON
	// logs: stderr is then a screen (before, in app.go).
	sc, _ := a.streams.Err.(*screen)
	useBar := sc != nil && a.said == nil
	interval := logInterval
	if useBar {
		interval = barInterval
	}
	var recent recentRate // the bar's pace: the last seconds', which a slow-down changes at once
	status := func(c store.Counts) (int64, barStatus) {
		done := c.Sent + c.Failed + c.Unknown
		return done, barStatus{sent: c.Sent, failed: c.Failed + c.Unknown, pending: c.Pending + c.Inflight,
			rate: recent.add(time.Now(), done), state: eng.State()}
	}
	// The first reading happens here, beside the first sends, not before
	// them: it is cheap (the counts read past the batch's frontier), but
	// nothing the first send needs waits on it.
	first := func() {
		c0, _ := svc.Counts(ctx, b.Batch)
		done0 = c0.Sent + c0.Failed + c0.Unknown
		total = c0.Total() - c0.Skipped
		recent.add(start, done0)
		if useBar {
			done, st := status(c0)
			sc.startBar(total, done, st)
		}
	}
	show := func() {
		c, err := svc.Counts(ctx, b.Batch)
		if err != nil {
			return
		}
		done, st := status(c)
		if useBar {
			sc.updateBar(done, st)
			return
		}
		rate := float64(done-done0) / max(time.Since(start).Seconds(), 0.001) // the run's, as the summary's
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
		if useBar {
			// The bar goes, finished or not: the summary printed next says
			// where the batch ended, in full, and a bar left above it would
			// be a second, shorter copy (and a stale "waiting" one a wrong one).
			sc.stopBar()
		}
	}
}

// rateWindow is how far back the bar's pace looks: long enough to smooth
// the ledger's batched commits, short enough to show a slow-down within
// seconds (a run's average would take minutes to).
const rateWindow = 5 * time.Second

// recentRate is the pace over the last rateWindow of readings.
type recentRate struct {
	samples []rateSample
}

type rateSample struct {
	at   time.Time
	done int64
}

// add records that done outcomes were in the ledger at t and returns the
// messages per second since the oldest reading in the window (0 with one
// reading).
func (r *recentRate) add(t time.Time, done int64) float64 {
	r.samples = append(r.samples, rateSample{t, done})
	// Keep one reading at or before the window's start, as its base.
	for len(r.samples) > 2 && !r.samples[1].at.After(t.Add(-rateWindow)) {
		r.samples = r.samples[1:]
	}
	base := r.samples[0]
	secs := t.Sub(base.at).Seconds()
	if secs <= 0 {
		return 0
	}
	return float64(done-base.done) / secs
}

// barStatus is what the bar says besides its count.
type barStatus struct {
	sent, failed, pending int64
	rate                  float64 // messages per second lately; 0 before any
	state                 string  // the engine's state; "sending" is the normal one
	// label, if set, is all the bar says: a bar that counts something
	// other than sends (an audience being paged).
	label string
}

// The bar's line, as progressbar draws it with OptionFullWidth,
// OptionShowCount and the description at the end, is
// "\r 42% [==>   ] (252/600) DESCRIPTION ": five columns of percentage and
// eleven of spaces and brackets besides the count and the description, and
// the bar's own width fills the rest to one column short of the terminal's.
const barFixedCols = 12

// fit returns the description for a terminal cols wide, where the bar ends
// at total, and whether a bar fits at all. The parts that do not fit are
// dropped, least useful first, so the line never wraps: a wrapped bar is
// redrawn on a new line at every refresh and scrolls the screen away.
func (st barStatus) fit(cols int, total int64) (string, bool) {
	countCols := 2*len(fmt.Sprint(total)) + 3 // "(600/600)"
	room := cols - barFixedCols - countCols   // for the bar and the description
	minBar := max(cols/8, 4)                  // the bar keeps an eighth of the line
	if room < 4 {
		return "", false
	}
	budget := room - minBar
	if st.label != "" {
		if uniseg.StringWidth(st.label) > budget {
			return "", true
		}
		return st.label, true
	}

	type part struct {
		text, short string
		rank        int // lower is kept first
	}
	parts := []part{
		{text: fmt.Sprintf("sent %d", st.sent), rank: 5},
		{text: fmt.Sprintf("failed %d", st.failed), rank: 6},
		{text: fmt.Sprintf("pending %d", st.pending), rank: 7},
	}
	if st.failed > 0 {
		parts[1].rank = 2 // failures are what a person must act on
	}
	if st.rate > 0 {
		parts = append(parts, part{text: rateUnit(st.rate), rank: 3})
		if st.pending > 0 {
			left := time.Duration(float64(st.pending) / st.rate * float64(time.Second))
			parts = append(parts, part{text: roundDuration(left) + " left", rank: 4})
		}
	}
	if st.state != "" && st.state != "sending" {
		// "waiting for rate limit", "stopping": the state a person most
		// needs to see, in its first word where the whole does not fit.
		short, _, _ := strings.Cut(st.state, " ")
		parts = append(parts, part{text: st.state, short: short, rank: 1})
	}

	byRank := make([]int, len(parts))
	for i := range byRank {
		byRank[i] = i
	}
	sort.Slice(byRank, func(i, j int) bool { return parts[byRank[i]].rank < parts[byRank[j]].rank })
	keep := make([]string, len(parts))
	used := 0
	for _, i := range byRank {
		for _, t := range []string{parts[i].text, parts[i].short} {
			w := uniseg.StringWidth(t)
			if used > 0 {
				w += 2 // ", "
			}
			if t != "" && used+w <= budget {
				keep[i], used = t, used+w
				break
			}
		}
	}
	var desc []string
	for _, t := range keep {
		if t != "" {
			desc = append(desc, t)
		}
	}
	return strings.Join(desc, ", "), true
}

// rateUnit is a pace in the unit the summary uses.
func rateUnit(r float64) string {
	if r < 10 {
		return fmt.Sprintf("%.1f msgs/s", r)
	}
	return fmt.Sprintf("%.0f msgs/s", r)
}

// roundDuration is d to the second ("1m7s"), at least "1s".
func roundDuration(d time.Duration) string {
	return max(d.Round(time.Second), time.Second).String()
}

// logEvent turns engine events into log lines: slow-downs and stops are
// what an operator needs to see as they happen.
func (a *app) logEvent(ev sender.Event) {
	switch ev.Kind {
	case sender.EventPace:
		switch {
		case ev.Slower && ev.Trial:
			// Not WeChat's request: -1 also comes at random, at any pace.
			a.log.Info("many sends answered -1 (system busy); trying a slower pace to see if fewer do",
				"msgs_per_s", fmt.Sprintf("%.1f", ev.Limit))
		case ev.Slower:
			a.log.Warn("WeChat asked to slow down (45011); pacing the batch", "msgs_per_s", fmt.Sprintf("%.1f", ev.Limit))
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
