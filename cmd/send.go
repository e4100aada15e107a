package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/megasend/megasend/recipient"
	"github.com/megasend/megasend/sender"
	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/template"
	"github.com/megasend/megasend/wechat"
)

// sendBatch runs the engine over a locked, imported batch and maps how it
// ended to the exit code.
func (a *app) sendBatch(ctx context.Context, db *store.DB, b store.Batch, t *template.Template, o campaignOptions,
	cr credentials, threshold sender.Threshold, owner string) error {
	remaining, err := db.Remaining(ctx, b.ID)
	if err != nil {
		return err
	}
	if remaining == 0 && !o.retryUnknown {
		if b.Status != store.StatusDone {
			if err := db.SetStatus(ctx, b.ID, store.StatusDone, ""); err != nil {
				return err
			}
		}
		a.log.Info("batch already finished; nothing to send", "batch", b.Name)
		return a.finish(ctx, db, b.Name, o, sender.Result{}, 0)
	}

	// A signal before the first send leaves the batch as it was: resumable.
	interrupted := func(err error) error {
		if ctx.Err() != nil {
			return a.finish(context.WithoutCancel(ctx), db, b.Name, o, sender.Result{Stop: sender.StopInterrupted}, 0)
		}
		return err
	}
	client, stop, err := a.newWeChat(cr, db, o.sandbox, o.concurrency)
	if err != nil {
		return err
	}
	defer stop()
	if err := preflight(ctx, client, t, remaining, a.log); err != nil {
		return interrupted(err)
	}
	cutoff := time.Now().Add(-(o.dedupWindow - o.dedupWindow/10))
	resend, unknown, err := db.RecoverInflight(ctx, b.ID, cutoff)
	if err != nil {
		return interrupted(err)
	}
	if resend+unknown > 0 {
		a.log.Warn("recovered recipients a stopped run left in flight", "resent_with_same_client_msg_id", resend, "now_unknown", unknown)
	}
	remaining -= unknown
	if o.retryUnknown {
		n, err := db.Requeue(ctx, b.ID, false, nil, true)
		if err != nil {
			return interrupted(err)
		}
		a.log.Info("requeued recipients whose outcome was unknown", "count", n)
		remaining += n // the sending line and the prompt count them
	}
	if !a.confirm(o, b, t, remaining, cr) {
		return errDeclined
	}
	if err := db.SetStatus(ctx, b.ID, store.StatusRunning, ""); err != nil {
		return interrupted(err)
	}

	ledger := db.OpenLedger(ctx, b.ID, owner)
	eng := sender.New(sender.Config{
		BatchID: b.ID, Concurrency: o.concurrency, Rate: o.rate, DedupWindow: o.dedupWindow,
		MaxErrors: threshold, Abort: a.kill, Log: a.log, OnEvent: a.logEvent,
	}, client, db, ledger, sender.TemplateRenderer{T: t})
	a.log.Info("sending", "batch", b.Name, "recipients", remaining, "concurrency", o.concurrency,
		"rate", rateText(o.rate))
	start := time.Now()
	stopProgress := a.startProgress(ctx, db, b, eng)
	res := eng.Run(ctx)
	if err := ledger.Close(); err != nil && res.Stop == sender.StopNone {
		res = sender.Result{Stop: sender.StopError, Err: err}
	}
	stopProgress() // after the ledger's last commit: the bar ends where it does
	if store.IsCorrupt(res.Err) {
		// Not a word more to a damaged file, not even the batch's status.
		return fmt.Errorf("batch %s stopped: %w", b.Name, res.Err)
	}
	if err := a.settle(context.WithoutCancel(ctx), db, b, t, res); err != nil {
		return err
	}
	if res.Stop == sender.StopUnreachable && res.Sent+res.Failed+res.Unknown == 0 {
		// The preflight reached WeChat, the first sends did not: still
		// before the first send, by the same rule, unless a request may
		// have been written (a row left inflight).
		if c, err := db.Counts(context.WithoutCancel(ctx), b.ID); err == nil && c.Inflight == 0 {
			return fmt.Errorf("%w: %w", errUnreachable, res.Err)
		}
	}
	return a.finish(context.WithoutCancel(ctx), db, b.Name, o, res, time.Since(start))
}

// errDeclined is the answer "no" at the confirmation prompt.
var errDeclined = errors.New("not confirmed")

// nothingSent settles a run that stopped before its first send (declined
// at the prompt, WeChat out of reach, input or account refused): a batch
// the run created is not kept when the user gave it no name, since the same
// command would only create another one next time; a kept batch is named,
// with how to continue it. It returns the error carrying the exit code.
func (a *app) nothingSent(ctx context.Context, db *store.DB, b store.Batch, o campaignOptions, err error) error {
	usage := exitCode(err) == exitUsage
	declined := errors.Is(err, errDeclined)
	if !usage && !declined && !errors.Is(err, errUnreachable) {
		return err
	}
	if a.created == b.ID && (usage || o.batch == "") {
		// Exit 2 keeps nothing of the run even when named: the batch holds
		// input or an account that was refused.
		dropped, derr := a.dropUnsent(ctx, db, b)
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
	cur, berr := db.Batch(ctx, b.Name)
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
	if !errors.Is(err, errDeclined) {
		return fmt.Errorf("%w; %s", err, note)
	}
	fmt.Fprintln(a.streams.Err, note)
	if kept {
		return withCode(exitResumable, nil)
	}
	return withCode(exitRuntime, nil)
}

// settle writes the batch's status from how the run ended and what the
// ledger holds.
func (a *app) settle(ctx context.Context, db *store.DB, b store.Batch, t *template.Template, res sender.Result) error {
	c, err := db.Counts(ctx, b.ID)
	if err != nil {
		return err
	}
	if res.Stop == sender.StopNone && c.Pending == 0 && c.Inflight == 0 {
		return db.SetStatus(ctx, b.ID, store.StatusDone, "")
	}
	return db.SetStatus(ctx, b.ID, store.StatusPaused, pauseReason(res, b.Name, t))
}

// pauseReason is the sentence the ledger keeps for a paused batch.
func pauseReason(res sender.Result, name string, t *template.Template) string {
	switch res.Stop {
	case sender.StopNone:
		return "stopped with recipients left"
	case sender.StopQuota:
		return fmt.Sprintf("%s (%s); quota resets at %s", res.Stop, errText(res.Err), res.QuotaResetAt.Format("2006-01-02 15:04 MST"))
	case sender.StopFatal:
		_, advice := wechat.Describe(wechat.Errcode(res.Err))
		advice = strings.ReplaceAll(advice, " NAME ", " "+shellQuote(name)+" ")
		return fmt.Sprintf("%s with template %s (template_id %s): %s; %s", res.Stop, t.Key, t.TemplateID(), errText(res.Err), advice)
	}
	if res.Err != nil && res.Err.Error() != res.Stop.String() {
		return fmt.Sprintf("%s: %s", res.Stop, errText(res.Err))
	}
	return res.Stop.String()
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func rateText(r float64) string {
	if r <= 0 {
		return "unlimited"
	}
	return fmt.Sprintf("%g/s", r)
}

// dryRun validates the template and every recipient, renders them, and
// runs the preflight checks, without creating a batch or sending.
func (a *app) dryRun(ctx context.Context, o campaignOptions, cr credentials) error {
	db, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if o.resume != "" {
		return a.dryRunResume(ctx, db, o, cr)
	}
	t, err := a.loadTemplate(ctx, db, o.template)
	if err != nil {
		return err
	}
	if err := lintTemplate(t, a); err != nil {
		return err
	}
	src, err := openSource(o.users, a.streams.In, "")
	if err != nil {
		return err
	}
	defer src.cleanup()
	c := newChecker(t, src.display, o.preview)
	c.renderAll = true
	n, err := readRows(src, o.input(), c, func(recipient.Row) error { return nil })
	if err != nil {
		return err
	}
	if !a.quiet {
		c.warns.print(a.streams.Err)
	}
	a.printPreviews(c.previews)
	if c.errs.count > 0 {
		c.errs.print(a.streams.Err)
		return c.errs.inputError(src.display)
	}
	client, stop, err := a.newWeChat(cr, db, o.sandbox, o.concurrency)
	if err != nil {
		return err
	}
	defer stop()
	if err := preflight(ctx, client, t, n, a.log); err != nil {
		return err
	}
	a.tell("dry run: %d recipients in %s are valid for template %s; nothing was sent", n, src.display, t.Key)
	return nil
}

// dryRunResume shows what --resume would send, and sends and records
// nothing: the recipients left are rendered with the batch's template (or
// the --template that would replace it, checked as the resume would check
// it), and the preflight checks run.
func (a *app) dryRunResume(ctx context.Context, db *store.DB, o campaignOptions, cr credentials) error {
	b, err := findBatch(ctx, db, o.resume)
	if err != nil {
		return err
	}
	if b.Status == store.StatusImporting {
		return usageErrorf("batch %s has not finished importing, so what it will send is not known yet; resume it, or dry-run its users file", b.Name)
	}
	if o.encoding != "" {
		return usageErrorf("batch %s has imported its users already: --resume reads no users file; drop --%s", b.Name, flgEncoding)
	}
	send := []string{store.StatePending, store.StateInflight}
	if o.retryUnknown {
		send = append(send, store.StateUnknown)
	}
	check := send
	var t *template.Template
	if o.template != "" {
		if t, err = a.loadTemplate(ctx, db, o.template); err != nil {
			return err
		}
		if err := lintTemplate(t, a); err != nil {
			return err
		}
		check = stillSendable()
	} else if t, err = template.Parse(templateKey(b.TemplateRef), "", b.TemplateBody); err != nil {
		return fmt.Errorf("batch %s: stored template: %w", b.Name, err)
	}
	rem, err := a.checkRemaining(ctx, db, b, t, check, send, o.preview)
	if err != nil {
		return err
	}
	a.printPreviews(rem.previews)
	if rem.sendable == 0 {
		a.tell("dry run: batch %s has nothing left to send; nothing was sent", b.Name)
		return nil
	}
	client, stop, err := a.newWeChat(cr, db, o.sandbox, o.concurrency)
	if err != nil {
		return err
	}
	defer stop()
	if err := preflight(ctx, client, t, rem.sendable, a.log); err != nil {
		return err
	}
	a.tell("dry run: the %d recipients left in batch %s render with template %s; nothing was sent",
		rem.sendable, b.Name, t.Key)
	return nil
}

func (a *app) printPreviews(bodies [][]byte) {
	for _, b := range bodies {
		fmt.Fprintf(a.streams.Out, "%s\n", b)
	}
}

// confirm asks before sending when a person is at a terminal and did not
// pass --yes. Cron and scripts have no terminal and are never asked.
func (a *app) confirm(o campaignOptions, b store.Batch, t *template.Template, n int64, cr credentials) bool {
	if o.yes || !a.streams.InIsTerminal || !a.streams.ErrIsTerminal || o.users == "-" {
		return true
	}
	target := "account " + cr.Name
	if o.sandbox {
		target = "the sandbox"
	}
	fmt.Fprintf(a.rawErr, "Send template %s to %d recipients (batch %s) via %s? [y/N] ", t.Key, n, b.Name, target)
	var answer string
	if _, err := fmt.Fscanln(a.streams.In, &answer); errors.Is(err, io.EOF) {
		fmt.Fprintln(a.rawErr) // end the prompt's line: Ctrl-D echoes none
	}
	return strings.EqualFold(answer, "y") || strings.EqualFold(answer, "yes")
}
