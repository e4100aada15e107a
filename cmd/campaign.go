package cmd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/megasend/megasend/campaign"
	"github.com/megasend/megasend/policy"
	"github.com/megasend/megasend/sender"
	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/template"
	"github.com/megasend/megasend/wechat"
)

// campaignOptions are the parsed flags of megasend campaign.
type campaignOptions struct {
	template    string
	fallback    string // --fallback KEY|PATH
	users       string
	batch       string
	resume      string
	rate        float64
	concurrency int
	// rateSet and concurrencySet tell "--rate 0" (as fast as the workers
	// go) from no --rate (the account's rate).
	rateSet        bool
	concurrencySet bool
	timeoutSet     bool
	dryRun         bool
	preview        int
	sandbox        bool
	maxErrors      string
	yes            bool
	retryUnknown   bool
	encoding       string
	openidCheck    string
	dedupWindow    time.Duration
	timeout        time.Duration
	notAfter       string
	quietHours     string
	freqCap        string
	// policy is what --quiet-hours and --cap ask of the batch; nil
	// without them.
	policy *campaign.Policy
	// audience and set are --audience and --set (campaign_audience.go).
	audience string
	set      setFlag
}

func (a *app) campaignCommand() *cli.Command {
	var o campaignOptions
	return &cli.Command{
		Name:  "campaign",
		Usage: "send a template to every recipient of a file, or resume a batch",
		UsageText: `megasend campaign --template KEY|PATH --users PATH|- [--fallback KEY|PATH] [--batch NAME] [--rate N] [--concurrency N]
                  [--dry-run] [--preview N] [--sandbox] [--max-errors N|P%] [--yes] [--encoding gbk]
                  [--not-after TIME] [--quiet-hours HH:MM-HH:MM|off] [--cap N/DURATION|off]
                  [--request-timeout DURATION] [--openid-check loose]
megasend campaign --template KEY|PATH --audience followers|tag:NAME|tag:ID [--set KEY=VALUE ...]
                  [--users PATH] [--batch NAME] [...as above]
megasend campaign --resume NAME [--template KEY|PATH] [--retry-unknown] [--dry-run] [--preview N] [--sandbox]
                  [--rate N] [--concurrency N] [--max-errors N|P%] [--yes] [--not-after TIME]
                  [--quiet-hours HH:MM-HH:MM|off] [--cap N/DURATION|off] [--request-timeout DURATION]

--template takes a key stored with 'megasend template add', or a path: an argument
containing a / or ending in .json or .toml is a file path. With a customer-service
template (kind custom), --fallback names a template message (kind template) sent,
once, to each recipient the customer-service message cannot reach (45015, 45047).`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: flgTemplate, Aliases: []string{"t"}, Usage: "template `KEY` or PATH", Destination: &o.template},
			&cli.StringFlag{Name: flgFallback, Usage: "with a custom --template: the template message `KEY` or PATH sent to whom it cannot reach (45015, 45047)", Destination: &o.fallback},
			&cli.StringFlag{Name: flgUsers, Aliases: []string{"u"}, Usage: "recipients: CSV or JSONL `PATH`, - for stdin", Destination: &o.users},
			&cli.StringFlag{Name: flgAudience, Usage: "recipients: the account's `followers`, or a tag's (tag:NAME or tag:ID), paged from WeChat; with --users, the file's rows in it",
				Destination: &o.audience},
			&cli.GenericFlag{Name: flgSet, Usage: "`KEY=VALUE`: a variable every recipient shares (repeatable); a users file must not have it too",
				Value: &o.set},
			&cli.StringFlag{Name: flgBatch, Usage: "batch `NAME` (default: template key and time); an existing batch with the same input continues", Destination: &o.batch},
			&cli.StringFlag{Name: flgResume, Usage: "resume the batch `NAME`", Destination: &o.resume},
			&cli.Float64Flag{Name: flgRate, Usage: "at most `N` messages per second", DefaultText: "the account's rate, else unlimited", Destination: &o.rate},
			&cli.IntFlag{Name: flgConcurrency, Usage: "`N` concurrent sends", DefaultText: "the account's concurrency, else 32", Destination: &o.concurrency},
			&cli.BoolFlag{Name: flgDryRun, Usage: "validate, render and preflight; send nothing, record nothing", Destination: &o.dryRun},
			&cli.IntFlag{Name: flgPreview, Usage: "print the first `N` rendered messages (then send, unless --dry-run or declined at the prompt)", DefaultText: "none", Destination: &o.preview},
			&cli.BoolFlag{Name: flgSandbox, Usage: "send to a simulated WeChat API in-process (no account needed)", Destination: &o.sandbox},
			&cli.StringFlag{Name: flgMaxErrors, Usage: "`N|P%`: pause once more than N recipients failed in the run, or more than P% of the last 200 outcomes", Destination: &o.maxErrors},
			&cli.BoolFlag{Name: flgYes, Aliases: []string{"y"}, Usage: "do not ask for confirmation on a terminal", Destination: &o.yes},
			&cli.BoolFlag{Name: flgRetryUnk, Usage: "with --resume: also resend recipients whose outcome is unknown", Destination: &o.retryUnknown},
			&cli.StringFlag{Name: flgEncoding, Usage: "`NAME` of the users file's encoding: utf-8 or gbk", DefaultText: "utf-8", Destination: &o.encoding},
			openIDCheckFlag(&o.openidCheck),
			&cli.StringFlag{Name: flgNotAfter, Usage: "do not start or continue sending after `TIME` (2026-11-22T18:00:00+08:00, 2026-11-22 18:00, or 18:00 today)", Destination: &o.notAfter},
			&cli.StringFlag{Name: flgQuietHours, Usage: "send nothing between `HH:MM-HH:MM` (the account's timezone, default Asia/Shanghai; off: none); kept with the batch", DefaultText: "the account's quiet_hours", Destination: &o.quietHours},
			&cli.StringFlag{Name: flgCap, Usage: "skip a recipient this account already sent `N/DURATION` messages (1/24h, 3/7d: at most N within the duration, from the ledger, decided at each send; off: none); kept with the batch", DefaultText: "the account's cap", Destination: &o.freqCap},
			&cli.DurationFlag{Name: flgReqTimeout, Usage: "give up on one WeChat API request after `DURATION` (15s, 1m)", DefaultText: "the account's timeout, else 15s", Destination: &o.timeout},
			&cli.DurationFlag{Name: "dedup-window", Value: 10 * time.Minute, Hidden: true, Destination: &o.dedupWindow,
				Usage: "WeChat's client_msg_id dedup window (tests shorten it)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("campaign: unexpected argument %q", c.Args().First())
			}
			o.rateSet, o.concurrencySet, o.timeoutSet = c.IsSet(flgRate), c.IsSet(flgConcurrency), c.IsSet(flgReqTimeout)
			return a.runCampaign(c.Context, o)
		},
	}
}

func (o campaignOptions) validate() error {
	switch {
	case o.resume != "" && o.users != "":
		return usageErrorf("--resume continues a batch with its own users; drop --users")
	case o.resume != "" && o.audience != "":
		return usageErrorf("--resume continues a batch with its own audience; drop --%s", flgAudience)
	case o.resume != "" && len(o.set) > 0:
		return usageErrorf("--resume continues a batch with its own variables; drop --%s", flgSet)
	case len(o.set) > 0 && o.audience == "":
		return usageErrorf("--%s gives the variables an --%s shares; a users file alone carries them in a column", flgSet, flgAudience)
	case o.audience != "" && o.users == "-":
		return usageErrorf("--%s with --users -: give the users file by its path (an interrupted import reads it again)", flgAudience)
	case o.resume != "" && o.fallback != "":
		return usageErrorf("--resume continues a batch with its own --%s; drop --%s", flgFallback, flgFallback)
	case o.resume != "" && o.batch != "":
		return usageErrorf("--resume %s names the batch already; drop --batch", o.resume)
	case o.resume == "" && (o.template == "" || o.users == "" && o.audience == ""):
		return usageErrorf("campaign needs --template and --users or --%s (or --resume NAME)", flgAudience)
	case o.retryUnknown && o.resume == "" && o.batch == "":
		return usageErrorf("--retry-unknown applies to an existing batch: use it with --resume NAME")
	case o.rate < 0:
		return usageErrorf("--rate must not be negative")
	case o.concurrency < 0 || o.concurrencySet && o.concurrency == 0:
		return usageErrorf("--%s %d: want at least 1 concurrent send (without the flag: the account's concurrency, else 32)",
			flgConcurrency, o.concurrency)
	case o.preview < 0:
		return usageErrorf("--preview must not be negative")
	case o.timeout < 0 || o.timeoutSet && o.timeout == 0:
		return usageErrorf("--%s %s: want a positive duration such as 15s (without the flag: the account's timeout, else 15s)",
			flgReqTimeout, o.timeout)
	}
	return nil
}

// runCampaign imports (or finds) the batch, checks the account, and sends.
func (a *app) runCampaign(ctx context.Context, o campaignOptions) error {
	return a.runCampaignIn(ctx, o, nil)
}

// ledger is an open database and the lifecycle of its batches, for a
// command that hands the batch it holds to a campaign run (retry).
type ledger struct {
	db  *store.DB
	svc *campaign.Service
}

// openLedger opens the database for the lifecycle's use; the caller closes
// l.db.
func (a *app) openLedger(ctx context.Context) (*ledger, error) {
	db, err := a.openStore(ctx)
	if err != nil {
		return nil, err
	}
	return &ledger{db: db, svc: campaign.New(db, a.owner(), a.log)}, nil
}

// runCampaignIn is runCampaign in the ledger l, or, if l is nil, in the
// database it opens.
func (a *app) runCampaignIn(ctx context.Context, o campaignOptions, l *ledger) error {
	if err := o.validate(); err != nil {
		return err
	}
	a.resumeFlags = o.pacingFlags() // as given, before defaults fill them in
	threshold, err := sender.ParseThreshold(o.maxErrors)
	if err != nil {
		return usageError(err)
	}
	cr, err := a.credentials()
	if err != nil {
		return err
	}
	if err := checkCredentials(cr, o.sandbox); err != nil {
		return err
	}
	if o.timeout > 0 {
		cr.Timeout = o.timeout
	}
	if o.notAfter != "" {
		deadline, err := parseDeadline(o.notAfter, time.Now())
		if err != nil {
			return usageError(err)
		}
		if time.Now().After(deadline) {
			return a.pastDeadline(ctx, o, deadline)
		}
		// A cancel at the time, not a context deadline: rate.Limiter.Wait
		// refuses at once a wait that would end past a deadline, which
		// ended paced runs early, as "interrupted".
		var stop context.CancelCauseFunc
		ctx, stop = context.WithCancelCause(ctx)
		defer stop(nil)
		at := time.AfterFunc(time.Until(deadline), func() { stop(notAfterError{deadline}) })
		defer at.Stop()
	}
	if o.quietHours != "" {
		q, err := policy.ParseQuietHours(o.quietHours, cr.TimeZone)
		if err != nil {
			return usageErrorf("--%s: %w", flgQuietHours, err)
		}
		o.policy = cmp.Or(o.policy, &campaign.Policy{})
		o.policy.QuietHours = &q
	}
	if o.freqCap != "" {
		c, err := policy.ParseCap(o.freqCap)
		if err != nil {
			return usageErrorf("--%s: %w", flgCap, err)
		}
		o.policy = cmp.Or(o.policy, &campaign.Policy{})
		o.policy.Cap = &c
	}
	if !o.rateSet {
		o.rate = cr.Rate // 0: as fast as the workers go
	}
	if !o.concurrencySet {
		o.concurrency = cr.Concurrency
	}
	if o.concurrency == 0 {
		o.concurrency = 32
	}
	if o.openidCheck == "" {
		o.openidCheck = cr.OpenIDCheck.String()
	}
	if l == nil {
		if l, err = a.openLedger(ctx); err != nil {
			return err
		}
		defer l.db.Close()
	}
	if o.dryRun {
		return a.dryRun(ctx, l, o, cr)
	}
	b, err := a.prepareBatch(ctx, l, o, cr)
	if err != nil {
		if b != nil {
			l.svc.Release(ctx, b)
		}
		return err
	}
	defer l.svc.Release(ctx, b)
	err = a.sendBatch(ctx, l, b, o, cr, threshold)
	if err != nil {
		// A batch this run created and refused before its first send (a
		// wrong app secret, a declined prompt, WeChat out of reach) is not
		// left behind, one more per attempt, unless the user named it.
		err = a.nothingSent(context.WithoutCancel(ctx), l, b, o, err)
	}
	return err
}

// notAfterError is the cause of a run stopped at its --not-after time.
type notAfterError struct{ deadline time.Time }

func (e notAfterError) Error() string {
	return fmt.Sprintf("past --%s %s", flgNotAfter, e.deadline.Format(time.RFC3339))
}

// dropResumeFlag leaves flag (and its value) out of the resume commands
// printed from now on.
func (a *app) dropResumeFlag(flag string) {
	if i := slices.Index(a.resumeFlags, "--"+flag); i >= 0 {
		a.resumeFlags = slices.Delete(slices.Clone(a.resumeFlags), i, i+2)
	}
}

// pastDeadline answers a run that starts past --not-after: nothing is sent.
// It exits 4 when a batch with recipients left is there to resume later (the
// cron line that continues it ran late), and 2 otherwise: nothing was
// created, and there is nothing to resume.
func (a *app) pastDeadline(ctx context.Context, o campaignOptions, deadline time.Time) error {
	past := notAfterError{deadline}.Error() + ": nothing sent"
	name := cmp.Or(o.resume, o.batch)
	if name == "" {
		return usageErrorf("%s", past)
	}
	l, b, err := a.openBatch(ctx, name)
	if exitCode(err) == exitUsage {
		return usageErrorf("%s, and no batch %q to resume", past, name)
	} else if err != nil {
		return err
	}
	defer l.db.Close()
	left, err := l.svc.Remaining(ctx, b)
	if err != nil {
		return err
	}
	if left == 0 && b.Status != store.StatusImporting {
		return usageErrorf("%s; batch %s has nothing left to send", past, b.Name)
	}
	a.dropResumeFlag(flgNotAfter) // the deadline has passed
	fmt.Fprintf(a.streams.Err, "megasend: %s; batch %s is kept with recipients left: %s\n",
		past, b.Name, a.resumeCommand(b.Name, o.sandbox))
	return withCode(exitResumable, nil)
}

// prepareBatch creates or continues the batch --users makes, or takes up
// the one --resume names, and shows what its import found. The batch comes
// back locked.
func (a *app) prepareBatch(ctx context.Context, l *ledger, o campaignOptions, cr credentials) (*campaign.Batch, error) {
	if o.resume != "" {
		return a.resumeBatch(ctx, l, o, cr)
	}
	t, err := a.loadTemplate(ctx, l.svc, o.template)
	if err != nil {
		return nil, err
	}
	if o.audience != "" {
		return a.prepareAudience(ctx, l, o, cr, t)
	}
	src, err := openSource(o.users, a.streams.In, filepath.Dir(l.db.Path()))
	if err != nil {
		return nil, err
	}
	defer src.cleanup()
	if err := a.checkTemplate(t); err != nil {
		return nil, err
	}
	fb, err := a.loadFallback(ctx, l, o, t)
	if err != nil {
		return nil, err
	}
	b, imp, err := l.svc.Create(ctx, campaign.Spec{
		Name: o.batch, Template: t, TemplateRef: o.template, Source: src.Source, Account: cr.Name,
		Input: o.input(), Preview: o.preview, Policy: o.policy, Fallback: fb, FallbackRef: o.fallback,
	})
	if campaign.ErrorCode(err) == campaign.Conflict {
		err = fmt.Errorf("%w; use another --%s name, or --resume %s to continue the original", err, flgBatch, cmp.Or(o.batch, "NAME"))
	}
	return b, a.imported(b, imp, err, o)
}

// resumeBatch takes up the batch --resume names, with the template
// --template gives it if set.
func (a *app) resumeBatch(ctx context.Context, l *ledger, o campaignOptions, cr credentials) (*campaign.Batch, error) {
	spec := campaign.ResumeSpec{Name: o.resume, TemplateRef: o.template, Input: o.input(), Preview: o.preview, Policy: o.policy}
	// A batch made from an audience whose paging was interrupted pages it
	// again: only then is the account's client made.
	lazy := &lazyFollowers{make: func() (*wechat.Client, func(), error) { return a.newWeChat(cr, l.db, o.sandbox, o.concurrency) }}
	defer lazy.close()
	paged, stopProgress := a.pagingProgress("the batch's audience")
	defer stopProgress()
	spec.Followers, spec.Paged = lazy, paged
	if o.template != "" {
		// The batch first: a missing batch is the news, not its template.
		if _, err := l.svc.Find(ctx, o.resume); err != nil {
			return nil, a.batchError(err)
		}
		t, err := a.loadTemplate(ctx, l.svc, o.template)
		if err != nil {
			return nil, err
		}
		if _, err := campaign.CheckTemplate(t); err == nil {
			a.templateWarnings(t)
		}
		spec.Template = t
	}
	b, imp, err := l.svc.Resume(ctx, spec)
	return b, a.imported(b, imp, a.batchError(err), o)
}

// imported shows what reading the users file found (warnings, previews,
// the import's counts and duplicates, the problems that refused it) and
// returns err as the command's error.
func (a *app) imported(b *campaign.Batch, imp *campaign.Imported, err error, o campaignOptions) error {
	if imp != nil {
		if !a.quiet {
			a.printProblems(imp.Warnings)
		}
		a.printPreviews(imp.Previews)
	}
	var ce *campaign.Error
	switch {
	case campaign.ErrorCode(err) == campaign.Stopped && errors.As(err, &ce) && b != nil:
		// Interrupted, not rejected: the same command (or --resume) imports
		// the batch again from the start, reading the file as this run did.
		var extra []string
		if o.encoding != "" {
			extra = append(extra, "--"+flgEncoding, shellQuote(o.encoding))
		}
		fmt.Fprintf(a.streams.Err, "%s; run the same command again, or: %s\n", ce.Msg, a.resumeCommand(b.Name, o.sandbox, extra...))
		return withCode(exitResumable, nil)
	case err != nil:
		a.printProblems(campaign.ErrorProblems(err))
		return err
	}
	if imp != nil && b != nil {
		res := imp.ImportResult
		a.log.Info("imported", "batch", b.Name, "recipients", res.Total, "duplicates_skipped", res.Duplicates)
		for _, d := range res.FirstDuplicates {
			a.log.Warn("duplicate openid skipped", "line", d.Line, "openid", d.OpenID, "first_line", d.FirstLine)
		}
		if extra := res.Duplicates - int64(len(res.FirstDuplicates)); extra > 0 {
			a.log.Warn(fmt.Sprintf("... and %d more duplicates skipped", extra))
		}
	}
	return nil
}

// loadFallback loads --fallback, if set, by the rule of --template, and
// refuses it unless t is a customer-service message and it a template
// message (campaign.CheckFallback); nil without the flag.
func (a *app) loadFallback(ctx context.Context, l *ledger, o campaignOptions, t *template.Template) (*template.Template, error) {
	if o.fallback == "" {
		return nil, nil
	}
	fb, err := a.loadTemplate(ctx, l.svc, o.fallback)
	if err != nil {
		return nil, err
	}
	if err := campaign.CheckFallback(t, fb, o.fallback); err != nil {
		a.printProblems(campaign.ErrorProblems(err))
		return nil, err
	}
	return fb, nil
}

// loadTemplate resolves --template: a path (contains a separator, or ends in
// .json or .toml) is read from disk; anything else is a key in the database.
func (a *app) loadTemplate(ctx context.Context, svc *campaign.Service, ref string) (*template.Template, error) {
	if template.IsPath(ref) {
		data, err := os.ReadFile(ref)
		if err != nil {
			return nil, usageErrorf("template: %w", err)
		}
		t, err := template.ParseFile(ref, data)
		if err != nil {
			return nil, usageError(err)
		}
		return t, nil
	}
	t, err := svc.Template(ctx, ref)
	if campaign.ErrorCode(err) == campaign.NotFound {
		return nil, fmt.Errorf("%w; see 'megasend template list' (a file path must contain / or end in .json or .toml)", err)
	}
	return t, err
}

// checkTemplate refuses the template's lint errors, each printed on a line
// of its own in lint's format, and shows its warnings.
func (a *app) checkTemplate(t *template.Template) error {
	if _, err := campaign.CheckTemplate(t); err != nil {
		a.printProblems(campaign.ErrorProblems(err))
		return err
	}
	a.templateWarnings(t)
	return nil
}

// templateWarnings logs the warnings of a template about to be sent, which
// repeat on every run, compactly, each in its own words: one line per
// distinct warning, naming the paths it applies to, then where 'template
// lint' lists them all. The template is named as given: its file, or its
// key.
func (a *app) templateWarnings(t *template.Template) {
	warns, _ := campaign.CheckTemplate(t)
	if len(warns) == 0 {
		return
	}
	name := campaign.TemplateName(t)
	// Group by message: five colours are one line naming five paths.
	var msgs []string
	paths := map[string][]string{}
	for _, p := range warns {
		if _, ok := paths[p.Msg]; !ok {
			msgs = append(msgs, p.Msg)
		}
		paths[p.Msg] = append(paths[p.Msg], p.Path)
	}
	for _, msg := range msgs {
		a.log.Warn(fmt.Sprintf("template %s: %s: %s", name, strings.Join(paths[msg], ", "), msg))
	}
	a.log.Warn(fmt.Sprintf("template %s: %d %s; 'megasend template lint %s' shows each with its line",
		name, len(warns), plural(len(warns), "warning"), shellQuote(name)))
}

// parseDeadline reads --not-after: RFC 3339, a local "2006-01-02 15:04", or
// a local "15:04" meaning today.
func parseDeadline(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, s, now.Location()); err == nil {
			return t, nil
		}
	}
	for _, layout := range []string{"15:04:05", "15:04"} {
		if t, err := time.ParseInLocation(layout, s, now.Location()); err == nil {
			y, m, d := now.Date()
			return time.Date(y, m, d, t.Hour(), t.Minute(), t.Second(), 0, now.Location()), nil
		}
	}
	return time.Time{}, fmt.Errorf("--%s %q: want 2026-11-22T18:00:00+08:00, 2026-11-22 18:00, or 18:00", flgNotAfter, s)
}

// pacingFlags are the flags given to this run that shape how it sends; a
// printed resume command repeats them (the ledger does not keep them: a
// resume may rightly choose other ones).
func (o campaignOptions) pacingFlags() []string {
	var f []string
	if o.rateSet {
		f = append(f, "--"+flgRate, strconv.FormatFloat(o.rate, 'f', -1, 64))
	}
	if o.concurrencySet {
		f = append(f, "--"+flgConcurrency, strconv.Itoa(o.concurrency))
	}
	if o.maxErrors != "" {
		f = append(f, "--"+flgMaxErrors, o.maxErrors)
	}
	if o.notAfter != "" {
		f = append(f, "--"+flgNotAfter, o.notAfter)
	}
	if o.timeout > 0 {
		f = append(f, "--"+flgReqTimeout, o.timeout.String())
	}
	return f
}
