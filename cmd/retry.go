package cmd

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/megasend/megasend/campaign"
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

// selection is which recipients --errcode and --unknown choose: without
// either, every failed one.
func (o retryOptions) selection() (campaign.Selection, error) {
	s := campaign.Selection{Unknown: o.unknown, Failed: o.errcodes != "" || !o.unknown}
	if o.errcodes == "" {
		return s, nil
	}
	for _, f := range strings.Split(o.errcodes, ",") {
		code, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return campaign.Selection{}, usageErrorf("--%s: %q is not an errcode; want a list such as 43004,-1", flgErrcode, f)
		}
		s.Codes = append(s.Codes, code)
	}
	return s, nil
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
	l, b, err := a.openBatch(ctx, o.name)
	if err != nil {
		return err
	}
	defer l.db.Close()
	if !o.sandbox {
		// Credentials WeChat refuses leave the ledger as it was. The token
		// lands in the shared cache, where the send picks it up.
		client, stop, err := a.newWeChat(cr, l.db, false, 1)
		if err != nil {
			return err
		}
		_, err = client.Token(ctx)
		stop()
		if err != nil {
			return campaign.TokenError(err)
		}
	}
	// The batch stays locked when recipients were requeued: the campaign
	// run that follows, by the same process, takes it over.
	n, err := l.svc.Requeue(ctx, b, sel)
	if campaign.ErrorCode(err) == campaign.Invalid && b.Status == store.StatusImporting {
		return fmt.Errorf("%w: %s", err, a.resumeCommand(b.Name, false))
	}
	if err != nil {
		return err
	}
	if n == 0 {
		msg := fmt.Sprintf("nothing to retry in batch %s: no recipients %s", b.Name, sel)
		if c, err := l.svc.Counts(ctx, b); err == nil && c.Pending+c.Inflight > 0 {
			msg += fmt.Sprintf("; its %d pending recipients are sent by: %s", c.Pending+c.Inflight, a.resumeCommand(b.Name, o.sandbox))
		}
		a.tell("%s", msg)
		return nil
	}
	a.tell("requeued %d %s of batch %s (%s)", n, plural(int(n), "recipient"), b.Name, sel)
	return a.runCampaignIn(ctx, co, l)
}
