package cmd

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/megasend/megasend/sender"
	"github.com/megasend/megasend/store"
)

// retryOptions are the parsed flags of megasend retry.
type retryOptions struct {
	name        string
	errcodes    string // comma-separated; empty: every failed recipient
	unknown     bool
	sandbox     bool
	rate        float64
	concurrency int
	// rateSet and concurrencySet: as campaignOptions'.
	rateSet        bool
	concurrencySet bool
	maxErrors      string
	yes            bool
	dedupWindow    time.Duration
}

func (a *app) retryCommand() *cli.Command {
	var o retryOptions
	return &cli.Command{
		Name:      "retry",
		Usage:     "requeue a batch's failed or unknown recipients and send them again",
		ArgsUsage: "NAME",
		UsageText: `megasend retry NAME [--errcode CODE,...] [--unknown] [--sandbox] [--rate N] [--concurrency N]
               [--max-errors N|P%] [--yes]

Without flags every failed recipient is requeued; --errcode only those that failed
with one of the codes. --unknown requeues the recipients whose outcome is unknown:
they may have been delivered already, so a resend may deliver twice. The batch
keeps its history: attempts add up, and 'megasend report NAME' shows the outcome.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: flgErrcode, Usage: "requeue the recipients that failed with one of the errcodes `CODE,...` (e.g. 43004,-1)", Destination: &o.errcodes},
			&cli.BoolFlag{Name: flgUnknown, Usage: "requeue the recipients whose outcome is unknown (may deliver twice)", Destination: &o.unknown},
			&cli.BoolFlag{Name: flgSandbox, Usage: "send to a simulated WeChat API in-process (no account needed)", Destination: &o.sandbox},
			&cli.Float64Flag{Name: flgRate, Usage: "at most `N` messages per second", DefaultText: "the account's rate, else unlimited", Destination: &o.rate},
			&cli.IntFlag{Name: flgConcurrency, Usage: "`N` concurrent sends", DefaultText: "the account's concurrency, else 32", Destination: &o.concurrency},
			&cli.StringFlag{Name: flgMaxErrors, Usage: "`N|P%`: pause once more than N recipients failed in the run, or more than P% of the last 200 outcomes", Destination: &o.maxErrors},
			&cli.BoolFlag{Name: flgYes, Aliases: []string{"y"}, Usage: "do not ask for confirmation on a terminal", Destination: &o.yes},
			&cli.DurationFlag{Name: "dedup-window", Value: 10 * time.Minute, Hidden: true, Destination: &o.dedupWindow,
				Usage: "WeChat's client_msg_id dedup window (tests shorten it)"},
		},
		Action: func(c *cli.Context) error {
			args, err := parseInterleaved(c, &o)
			if err != nil {
				return usageError(explainUsage(c, innermost(err)))
			}
			if o.name, err = oneName(c, args); err != nil {
				return err
			}
			if o.name == "" {
				return usageErrorf("retry: empty batch name (an unset variable in a script?); see 'megasend batches'")
			}
			o.rateSet, o.concurrencySet = flagGiven(c, flgRate), flagGiven(c, flgConcurrency)
			return a.runRetry(c.Context, o)
		},
	}
}

// selection is which recipients a retry requeues.
type selection struct {
	failed  bool
	codes   []int // with failed: only these; empty: all
	unknown bool
}

func (o retryOptions) selection() (selection, error) {
	s := selection{unknown: o.unknown, failed: o.errcodes != "" || !o.unknown}
	if o.errcodes == "" {
		return s, nil
	}
	for _, f := range strings.Split(o.errcodes, ",") {
		code, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return selection{}, usageErrorf("--%s: %q is not an errcode; want a list such as 43004,-1", flgErrcode, f)
		}
		s.codes = append(s.codes, code)
	}
	return s, nil
}

// String describes the selection: "failed with errcode 43004 or -1".
func (s selection) String() string {
	var parts []string
	if s.failed {
		p := "failed"
		if len(s.codes) > 0 {
			codes := make([]string, len(s.codes))
			for i, c := range s.codes {
				codes[i] = strconv.Itoa(c)
			}
			p += " with errcode " + strings.Join(codes, " or ")
		}
		parts = append(parts, p)
	}
	if s.unknown {
		parts = append(parts, "with an unknown outcome")
	}
	return strings.Join(parts, " or ")
}

// runRetry requeues the chosen recipients and sends the batch as
// 'campaign --resume' does. Nothing to requeue is not an error: exit 0.
func (a *app) runRetry(ctx context.Context, o retryOptions) error {
	sel, err := o.selection()
	if err != nil {
		return err
	}
	co := campaignOptions{
		resume: o.name, sandbox: o.sandbox, rate: o.rate, concurrency: o.concurrency, maxErrors: o.maxErrors,
		yes: o.yes, dedupWindow: o.dedupWindow, rateSet: o.rateSet, concurrencySet: o.concurrencySet,
	}
	if co.dedupWindow <= 0 {
		co.dedupWindow = 10 * time.Minute
	}
	// Everything that can be refused is refused before the ledger changes.
	if err := co.validate(); err != nil {
		return err
	}
	if _, err := sender.ParseThreshold(o.maxErrors); err != nil {
		return usageError(err)
	}
	cr, err := a.credentials()
	if err != nil {
		return err
	}
	if err := checkCredentials(cr, o.sandbox); err != nil {
		return err
	}
	db, b, err := a.openBatch(ctx, o.name)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := a.checkLedger(ctx, db); err != nil {
		return err
	}
	if b.Status == store.StatusImporting {
		return usageErrorf("batch %s has not finished importing; finish it first: %s", b.Name, a.resumeCommand(b.Name, false))
	}
	if !o.sandbox {
		// Credentials WeChat refuses leave the ledger as it was. The token
		// lands in the shared cache, where the send picks it up.
		client, stop, err := a.newWeChat(cr, db, false, 1)
		if err != nil {
			return err
		}
		_, err = client.Token(ctx)
		stop()
		if err != nil {
			return tokenError(err)
		}
	}
	n, err := a.requeue(ctx, db, b, sel, o.sandbox)
	if err != nil || n == 0 {
		return err
	}
	return a.runCampaign(ctx, co)
}

// requeue puts the selected recipients of batch b back to pending while
// holding the batch's lock, so it cannot race a process sending the batch.
// The lock stays taken when recipients were requeued: runCampaign, run next
// by the same process, takes it over and releases it.
func (a *app) requeue(ctx context.Context, db *store.DB, b store.Batch, sel selection, sandbox bool) (int64, error) {
	owner := store.Owner(a.streams.PID, a.streams.Hostname)
	if err := db.Lock(ctx, b.ID, owner); err != nil {
		return 0, lockError(err)
	}
	n, err := db.Requeue(ctx, b.ID, sel.failed, sel.codes, sel.unknown)
	if err != nil || n == 0 {
		if uerr := db.Unlock(context.WithoutCancel(ctx), b.ID, owner); err == nil {
			err = uerr
		}
	}
	if err != nil {
		return 0, err
	}
	if n == 0 {
		msg := fmt.Sprintf("nothing to retry in batch %s: no recipients %s", b.Name, sel)
		if c, err := db.Counts(ctx, b.ID); err == nil && c.Pending+c.Inflight > 0 {
			msg += fmt.Sprintf("; its %d pending recipients are sent by: %s", c.Pending+c.Inflight, a.resumeCommand(b.Name, sandbox))
		}
		a.tell("%s", msg)
		return 0, nil
	}
	a.tell("requeued %d %s of batch %s (%s)", n, plural(int(n), "recipient"), b.Name, sel)
	return n, nil
}
