package cmd

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/megasend/megasend/campaign"
	"github.com/megasend/megasend/sender"
)

// finish prints the batch's summary from the ledger and returns the error
// that carries the exit code: 0 all sent, 3 done with failures, 4 stopped
// and resumable (with the command that resumes it), 1 a local failure.
func (a *app) finish(r campaign.RunResult, o campaignOptions) error {
	b, c, res := r.Outcome.Batch, r.Outcome.Counts, r.Result
	sum := newSummary(r.Outcome, res, r.Took)
	if a.said != nil {
		sum.log(a.said.log)
	} else {
		sum.write(a.streams.Out)
	}

	if errors.As(res.Err, new(notAfterError)) {
		a.dropResumeFlag(flgNotAfter) // the deadline that stopped the run has passed
	}
	resume := a.resumeCommand(b.Name, o.sandbox)
	if res.Stop == sender.StopFatal && campaign.NeedsNewTemplate(res.Err) {
		// The batch's own template would be refused again: only a resume
		// with another one can work.
		resume = a.resumeCommand(b.Name, o.sandbox, "--"+flgTemplate, "FIXED")
	}
	switch res.Stop {
	case sender.StopNone:
	case sender.StopError:
		a.next("to resume", resume)
		return withCode(exitRuntime, fmt.Errorf("batch %s stopped: %w", b.Name, res.Err))
	default:
		fmt.Fprintf(a.streams.Err, "batch %s paused: %s\n%s", b.Name, b.PauseReason, inflightAdvice(c.Inflight, o.dedupWindow))
		a.next("to resume", resume)
		return withCode(exitResumable, nil)
	}
	if c.Pending+c.Inflight > 0 {
		fmt.Fprint(a.streams.Err, inflightAdvice(c.Inflight, o.dedupWindow))
		a.next("to resume", resume)
		return withCode(exitResumable, nil)
	}
	if c.Failed+c.Unknown > 0 {
		a.next("see the failures", a.commandLine("report", shellQuote(b.Name), "--failed"))
		return withCode(exitFailures, nil)
	}
	return nil
}

// summary is what a campaign run ends with: the batch's counts by state,
// this run's pace, and the failures grouped by errcode with what each
// means. It is built once and written in either output format.
type summary struct {
	batch, status                           string
	sent, failed, unknown, skipped, pending int64
	skippedWhy                              string
	inflight                                int64 // may have reached WeChat; the resume rule decides
	retriedLate                             int64 // of the batch's recipients, over all its runs
	runMessages                             int64 // sent, failed or unknown by this run
	took                                    time.Duration
	failures                                []summaryFailure
	sentByKind                              map[string]int64 // a batch with a fallback's: the kind that reached each
}

type summaryFailure struct {
	Errcode int    `json:"errcode"`
	State   string `json:"state"`
	Count   int64  `json:"count"`
	Meaning string `json:"meaning"`
}

func newSummary(o campaign.Outcome, res sender.Result, took time.Duration) summary {
	b, c := o.Batch, o.Counts
	s := summary{batch: b.Name, status: b.Status, sent: c.Sent, failed: c.Failed, unknown: c.Unknown,
		sentByKind: o.SentByKind, skipped: c.Skipped, skippedWhy: skippedText(o.SkippedReasons), pending: c.Pending, inflight: c.Inflight,
		retriedLate: c.RetriedLate, runMessages: res.Sent + res.Failed + res.Unknown, took: took}
	for _, g := range o.Failures {
		meaning, _ := campaign.Describe(g, b.Name)
		s.failures = append(s.failures, summaryFailure{Errcode: g.Errcode, State: g.State, Count: g.Count, Meaning: meaning})
	}
	return s
}

// ran reports whether the run sent anything in a measurable time, so that
// its pace means something.
func (s summary) ran() bool { return s.took > 0 && s.runMessages > 0 }

func (s summary) rate() float64 { return float64(s.runMessages) / s.took.Seconds() }

// write prints the summary as a table.
func (s summary) write(w io.Writer) {
	fmt.Fprintf(w, "batch %s: %s\n", s.batch, s.status)
	fmt.Fprintf(w, "  sent     %8d  (accepted by WeChat%s)\n", s.sent, kindCounts(s.sentByKind, "; "))
	fmt.Fprintf(w, "  failed   %8d\n", s.failed)
	fmt.Fprintf(w, "  unknown  %8d  (may have been delivered; not resent unless asked)\n", s.unknown)
	fmt.Fprintf(w, "  skipped  %8d  (%s)\n", s.skipped, s.skippedWhy)
	fmt.Fprintf(w, "  pending  %8d\n", s.pending)
	if s.inflight > 0 {
		fmt.Fprintf(w, "  in flight %7d  (may have reached WeChat; a resume decides by the dedup window)\n", s.inflight)
	}
	writeRetriedLate(w, s.retriedLate)
	if s.ran() {
		fmt.Fprintf(w, "  this run: %d messages in %s (%.1f msgs/s)\n", s.runMessages, summaryDuration(s.took), s.rate())
	}
	if len(s.failures) > 0 {
		fmt.Fprintln(w, "failures by errcode:")
		for _, f := range s.failures {
			fmt.Fprintf(w, "  %-7s %6d  %-8s %s\n", fmt.Sprint(f.Errcode), f.Count, f.State, f.Meaning)
		}
	}
}

// log writes the summary as one record, for --log-format json.
func (s summary) log(log *slog.Logger) {
	attrs := []any{"batch", s.batch, "status", s.status, "sent", s.sent, "failed", s.failed, "unknown", s.unknown,
		"skipped", s.skipped, "pending", s.pending}
	if s.inflight > 0 {
		attrs = append(attrs, "inflight", s.inflight)
	}
	if s.sentByKind != nil {
		attrs = append(attrs, "sent_by_kind", s.sentByKind)
	}
	if s.retriedLate > 0 {
		attrs = append(attrs, "retried_late", s.retriedLate)
	}
	if s.ran() {
		attrs = append(attrs, "run_messages", s.runMessages, "run_seconds", s.took.Round(time.Millisecond).Seconds(),
			"msgs_per_s", math.Round(s.rate()*10)/10)
	}
	if len(s.failures) > 0 {
		attrs = append(attrs, "failures", s.failures)
	}
	log.Info("summary", attrs...)
}

// summaryDuration rounds d to what a person reads: milliseconds under a
// second, tenths under a minute, whole seconds above ("1m7s", not
// "1m7.254311s").
func summaryDuration(d time.Duration) time.Duration {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond)
	case d < time.Minute:
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}

// next tells what to run next: a line "what: command", or with
// --log-format json a record with the command as its own field, for a
// collector to act on.
func (a *app) next(what, command string) {
	if a.said != nil {
		a.said.log.Info(what, "command", command)
		return
	}
	fmt.Fprintf(a.streams.Err, "%s: %s\n", what, command)
}

// writeRetriedLate prints how many recipients were retried late, if any:
// the campaign summary and the report share the line.
func writeRetriedLate(w io.Writer, n int64) {
	if n > 0 {
		fmt.Fprintf(w, "  retried late %4d  (transient errors outlasted their retries; tried once more at the end of a run)\n", n)
	}
}

// inflightAdvice says what a resume does with recipients left inflight, if
// there are any: their requests may have reached WeChat, so only a resume
// inside the dedup window may resend them.
func inflightAdvice(n int64, window time.Duration) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d in flight: their requests may have reached WeChat; a resume within the dedup window (%s) "+
		"resends them with the same client_msg_id, which WeChat deduplicates; after it they become unknown\n",
		n, shortDuration(window))
}

// shortDuration is d without zero units at its end: 10m, not 10m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// resumeCommand is the exact command that continues the batch, with the
// global flags this invocation was given; extra (quoted already) follows
// the name.
func (a *app) resumeCommand(name string, sandbox bool, extra ...string) string {
	args := append([]string{"campaign", "--resume", shellQuote(name)}, extra...)
	if sandbox {
		args = append(args, "--sandbox")
	}
	for _, f := range a.resumeFlags {
		args = append(args, shellQuote(f))
	}
	return a.commandLine(args...)
}

// commandLine is a megasend command line with args (quoted already) and
// the global flags this invocation was given, so a hint copied from the
// output finds the same database and account.
func (a *app) commandLine(args ...string) string {
	parts := []string{"megasend"}
	// Values that came from the environment come from it again; only flags
	// given on the command line are repeated.
	for _, f := range []struct{ flag, val, env string }{
		{flgConfig, a.configPath, envConfig},
		{flgDB, a.dbPath, envDB},
		{flgAccount, a.account, envAccount},
	} {
		if f.val != "" && f.val != a.streams.getenv(f.env) {
			parts = append(parts, "--"+f.flag, shellQuote(f.val))
		}
	}
	return strings.Join(append(parts, args...), " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string { return campaign.ShellQuote(s) }
