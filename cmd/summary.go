package cmd

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/megasend/megasend/sender"
	"github.com/megasend/megasend/store"
)

// finish prints the batch's summary from the ledger and returns the error
// that carries the exit code: 0 all sent, 3 done with failures, 4 stopped
// and resumable (with the command that resumes it), 1 a local failure.
func (a *app) finish(ctx context.Context, db *store.DB, name string, o campaignOptions, res sender.Result, took time.Duration) error {
	b, err := db.Batch(ctx, name)
	if err != nil {
		return err
	}
	c, groups, err := db.Outcomes(ctx, b.ID)
	if err != nil {
		return err
	}
	if a.said != nil {
		logSummary(a.said.log, b, c, groups, res, took)
	} else {
		writeSummary(a.streams.Out, b, c, groups, res, took)
	}

	resume := a.resumeCommand(b.Name, o.sandbox)
	switch res.Stop {
	case sender.StopNone:
	case sender.StopError:
		fmt.Fprintf(a.streams.Err, "to resume: %s\n", resume)
		return withCode(exitRuntime, fmt.Errorf("batch %s stopped: %w", b.Name, res.Err))
	default:
		fmt.Fprintf(a.streams.Err, "batch %s paused: %s\nto resume: %s\n", b.Name, b.PauseReason, resume)
		return withCode(exitResumable, nil)
	}
	if c.Pending+c.Inflight > 0 {
		fmt.Fprintf(a.streams.Err, "to resume: %s\n", resume)
		return withCode(exitResumable, nil)
	}
	if c.Failed+c.Unknown > 0 {
		fmt.Fprintf(a.streams.Err, "see the failures: %s\n", a.commandLine("report", shellQuote(b.Name), "--failed"))
		return withCode(exitFailures, nil)
	}
	return nil
}

// writeSummary prints counts by state, then failures grouped by errcode
// with what each means.
func writeSummary(w io.Writer, b store.Batch, c store.Counts, groups []store.FailureGroup, res sender.Result, took time.Duration) {
	fmt.Fprintf(w, "batch %s: %s\n", b.Name, b.Status)
	fmt.Fprintf(w, "  sent     %8d  (accepted by WeChat)\n", c.Sent)
	fmt.Fprintf(w, "  failed   %8d\n", c.Failed)
	fmt.Fprintf(w, "  unknown  %8d  (may have been delivered; not resent unless asked)\n", c.Unknown)
	fmt.Fprintf(w, "  skipped  %8d  (duplicate openids)\n", c.Skipped)
	fmt.Fprintf(w, "  pending  %8d\n", c.Pending+c.Inflight)
	if n := res.Sent + res.Failed + res.Unknown; took > 0 && n > 0 {
		fmt.Fprintf(w, "  this run: %d messages in %s (%.1f msgs/s)\n", n, took.Round(time.Millisecond), float64(n)/took.Seconds())
	}
	if len(groups) > 0 {
		fmt.Fprintln(w, "failures by errcode:")
		for _, g := range groups {
			meaning, _ := describe(g, b.Name)
			fmt.Fprintf(w, "  %-7s %6d  %-8s %s\n", fmt.Sprint(g.Errcode), g.Count, g.State, meaning)
		}
	}
}

// logSummary is writeSummary as one log record, for --log-format json.
func logSummary(log *slog.Logger, b store.Batch, c store.Counts, groups []store.FailureGroup, res sender.Result, took time.Duration) {
	type failure struct {
		Errcode int    `json:"errcode"`
		State   string `json:"state"`
		Count   int64  `json:"count"`
		Meaning string `json:"meaning"`
	}
	attrs := []any{"batch", b.Name, "status", b.Status, "sent", c.Sent, "failed", c.Failed, "unknown", c.Unknown,
		"skipped", c.Skipped, "pending", c.Pending + c.Inflight}
	if n := res.Sent + res.Failed + res.Unknown; took > 0 && n > 0 {
		attrs = append(attrs, "run_messages", n, "run_seconds", took.Round(time.Millisecond).Seconds(),
			"msgs_per_s", fmt.Sprintf("%.1f", float64(n)/took.Seconds()))
	}
	if len(groups) > 0 {
		failures := make([]failure, 0, len(groups))
		for _, g := range groups {
			meaning, _ := describe(g, b.Name)
			failures = append(failures, failure{Errcode: g.Errcode, State: g.State, Count: g.Count, Meaning: meaning})
		}
		attrs = append(attrs, "failures", failures)
	}
	log.Info("summary", attrs...)
}

// resumeCommand is the exact command that continues the batch, with the
// global flags this invocation was given.
func (a *app) resumeCommand(name string, sandbox bool) string {
	args := []string{"campaign", "--resume", shellQuote(name)}
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
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@+,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
