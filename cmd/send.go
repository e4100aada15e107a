package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/megasend/megasend/campaign"
	"github.com/megasend/megasend/sender"
)

// sendBatch runs a locked, imported batch (campaign.Run) with this
// invocation's client, prompt and progress display, and maps how it ended
// to the exit code.
func (a *app) sendBatch(ctx context.Context, l *ledger, b *campaign.Batch, o campaignOptions,
	cr credentials, threshold sender.Threshold) error {
	client, stop, err := a.newWeChat(cr, l.db, o.sandbox, o.concurrency)
	if err != nil {
		return err
	}
	defer stop()
	res, err := l.svc.Run(ctx, b, campaign.RunOptions{
		Client: client, Concurrency: o.concurrency, Rate: o.rate, MaxErrors: threshold, DedupWindow: o.dedupWindow,
		RetryUnknown: o.retryUnknown, Abort: a.kill, OnEvent: a.logEvent, QuietHours: cr.QuietHours, Cap: cr.Cap,
		Confirm: func(n int64) bool { return a.confirm(o, b, n, cr) },
		Started: func(eng *sender.Engine) func() { return a.startProgress(ctx, l.svc, b, eng) },
	})
	if err != nil {
		return err
	}
	return a.finish(res, o)
}

// nothingSent settles a run that stopped before its first send (declined
// at the prompt, WeChat out of reach, input or account refused): a batch
// the run created is not kept when the user gave it no name, since the same
// command would only create another one next time; a kept batch is named,
// with how to continue it. It returns the error carrying the exit code.
func (a *app) nothingSent(ctx context.Context, l *ledger, b *campaign.Batch, o campaignOptions, err error) error {
	usage := exitCode(err) == exitUsage
	declined := errors.Is(err, campaign.ErrDeclined)
	if !usage && !declined && !errors.Is(err, campaign.ErrUnreachable) {
		return err
	}
	if b.Created && (usage || o.batch == "") {
		// Exit 2 keeps nothing of the run even when named: the batch holds
		// input or an account that was refused.
		dropped, derr := l.svc.DropUnsent(ctx, b)
		switch {
		case derr != nil:
			return errors.Join(err, derr)
		case dropped && usage:
			return err
		case dropped:
			return a.noteUnsent(err, false, "nothing was sent, and no batch was kept: run the same command again")
		}
	}
	if usage {
		return err
	}
	cur, berr := l.svc.Find(ctx, b.Name)
	if berr != nil {
		return errors.Join(err, berr)
	}
	return a.noteUnsent(err, true, fmt.Sprintf("nothing was sent by this run; batch %s is kept (%s): the same command continues it, or: %s",
		b.Name, cur.Status, a.resumeCommand(b.Name, o.sandbox)))
}

// noteUnsent adds what became of the batch to err; a declined prompt,
// which is no error, prints it instead. Declined, a kept batch exits 4
// (resumable), one that was not kept 1.
func (a *app) noteUnsent(err error, kept bool, note string) error {
	if !errors.Is(err, campaign.ErrDeclined) {
		return fmt.Errorf("%w; %s", err, note)
	}
	fmt.Fprintln(a.streams.Err, note)
	if kept {
		return withCode(exitResumable, nil)
	}
	return withCode(exitRuntime, nil)
}

// confirm asks before sending when a person is at a terminal and did not
// pass --yes. Cron and scripts have no terminal and are never asked.
func (a *app) confirm(o campaignOptions, b *campaign.Batch, n int64, cr credentials) bool {
	if o.yes || !a.streams.InIsTerminal || !a.streams.ErrIsTerminal || o.users == "-" {
		return true
	}
	target := "account " + cr.Name
	if o.sandbox {
		target = "the sandbox"
	}
	fmt.Fprintf(a.rawErr, "Send template %s to %d recipients (batch %s) via %s? [y/N] ", b.Template.Key, n, b.Name, target)
	var answer string
	if _, err := fmt.Fscanln(a.streams.In, &answer); errors.Is(err, io.EOF) {
		fmt.Fprintln(a.rawErr) // end the prompt's line: Ctrl-D echoes none
	}
	return strings.EqualFold(answer, "y") || strings.EqualFold(answer, "yes")
}

func (a *app) printPreviews(bodies [][]byte) {
	for _, b := range bodies {
		fmt.Fprintf(a.streams.Out, "%s\n", b)
	}
}
