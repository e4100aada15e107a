package cmd

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/megasend/megasend/sender"
	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/template"
)

// campaignOptions are the parsed flags of megasend campaign.
type campaignOptions struct {
	template    string
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
}

func (a *app) campaignCommand() *cli.Command {
	var o campaignOptions
	return &cli.Command{
		Name:  "campaign",
		Usage: "send a template to every recipient of a file, or resume a batch",
		UsageText: `megasend campaign --template KEY|PATH --users PATH|- [--batch NAME] [--rate N] [--concurrency N]
                  [--dry-run] [--preview N] [--sandbox] [--max-errors N|P%] [--yes] [--encoding gbk]
                  [--not-after TIME] [--request-timeout DURATION] [--openid-check loose]
megasend campaign --resume NAME [--template KEY|PATH] [--retry-unknown] [--dry-run] [--preview N] [--sandbox]
                  [--rate N] [--concurrency N] [--max-errors N|P%] [--yes] [--not-after TIME]
                  [--request-timeout DURATION]

--template takes a key stored with 'megasend template add', or a path: an argument
containing a / or ending in .json or .toml is a file path.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: flgTemplate, Aliases: []string{"t"}, Usage: "template `KEY` or PATH", Destination: &o.template},
			&cli.StringFlag{Name: flgUsers, Aliases: []string{"u"}, Usage: "recipients: CSV or JSONL `PATH`, - for stdin", Destination: &o.users},
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
	case o.resume != "" && o.batch != "":
		return usageErrorf("--resume %s names the batch already; drop --batch", o.resume)
	case o.resume == "" && (o.template == "" || o.users == ""):
		return usageErrorf("campaign needs --template and --users (or --resume NAME)")
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
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadlineCause(ctx, deadline, fmt.Errorf("past --%s %s", flgNotAfter, deadline.Format(time.RFC3339)))
		defer cancel()
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
	if o.dryRun {
		return a.dryRun(ctx, o, cr)
	}
	db, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	owner := store.Owner(a.streams.PID, a.streams.Hostname)

	b, t, err := a.prepareBatch(ctx, db, o, cr, owner)
	if err != nil {
		return err
	}
	defer db.Unlock(context.WithoutCancel(ctx), b.ID, owner)
	err = a.sendBatch(ctx, db, b, t, o, cr, threshold, owner)
	if err != nil {
		// A batch this run created and refused before its first send (a
		// wrong app secret, a declined prompt, WeChat out of reach) is not
		// left behind, one more per attempt, unless the user named it.
		err = a.nothingSent(context.WithoutCancel(ctx), db, b, o, err)
	}
	return err
}

// pastDeadline answers a run that starts past --not-after: nothing is sent.
// It exits 4 when a batch with recipients left is there to resume later (the
// cron line that continues it ran late), and 2 otherwise: nothing was
// created, and there is nothing to resume.
func (a *app) pastDeadline(ctx context.Context, o campaignOptions, deadline time.Time) error {
	past := fmt.Sprintf("past --%s %s: nothing sent", flgNotAfter, deadline.Format(time.RFC3339))
	name := cmp.Or(o.resume, o.batch)
	if name == "" {
		return usageErrorf("%s", past)
	}
	db, b, err := a.openBatch(ctx, name)
	if exitCode(err) == exitUsage {
		return usageErrorf("%s, and no batch %q to resume", past, name)
	} else if err != nil {
		return err
	}
	defer db.Close()
	left, err := db.Remaining(ctx, b.ID)
	if err != nil {
		return err
	}
	if left == 0 && b.Status != store.StatusImporting {
		return usageErrorf("%s; batch %s has nothing left to send", past, b.Name)
	}
	// The resume command leaves out the deadline that has passed.
	if i := slices.Index(a.resumeFlags, "--"+flgNotAfter); i >= 0 {
		a.resumeFlags = slices.Delete(slices.Clone(a.resumeFlags), i, i+2)
	}
	fmt.Fprintf(a.streams.Err, "megasend: %s; batch %s is kept with recipients left: %s\n",
		past, b.Name, a.resumeCommand(b.Name, o.sandbox))
	return withCode(exitResumable, nil)
}

// dropUnsent deletes batch b if nothing of it was ever sent, and reports
// whether it did.
func (a *app) dropUnsent(ctx context.Context, db *store.DB, b store.Batch) (bool, error) {
	c, err := db.Counts(ctx, b.ID)
	if err != nil || c.Sent+c.Failed+c.Unknown+c.Inflight > 0 {
		return false, err
	}
	return true, db.DeleteBatch(ctx, b.ID)
}

// prepareBatch finds or creates the batch, imports its recipients if that
// has not finished, and takes its lock.
func (a *app) prepareBatch(ctx context.Context, db *store.DB, o campaignOptions, cr credentials, owner string) (store.Batch, *template.Template, error) {
	if o.resume != "" {
		b, err := findBatch(ctx, db, o.resume)
		if err == nil {
			err = a.checkLedger(ctx, db) // a damaged ledger must not decide who is sent next
		}
		if err != nil {
			return store.Batch{}, nil, err
		}
		if o.encoding != "" && b.Status != store.StatusImporting {
			// Only an import a killed run left half done reads the file again.
			return store.Batch{}, nil, usageErrorf("batch %s has imported its users already: --resume reads no users file; drop --%s", b.Name, flgEncoding)
		}
		if err := db.Lock(ctx, b.ID, owner); err != nil {
			return store.Batch{}, nil, lockError(err)
		}
		if o.template != "" {
			if b.Status == store.StatusImporting {
				return store.Batch{}, nil, usageErrorf("batch %s has not finished importing; resume it with its own template first", b.Name)
			}
			t, err := a.replaceTemplate(ctx, db, b, o.template)
			return b, t, err
		}
		t, err := template.Parse(templateKey(b.TemplateRef), "", b.TemplateBody)
		if err != nil {
			return store.Batch{}, nil, fmt.Errorf("batch %s: stored template: %w", b.Name, err)
		}
		if b.Status == store.StatusImporting {
			b, err = a.reimport(ctx, db, b, t, o)
		}
		return b, t, err
	}

	t, err := a.loadTemplate(ctx, db, o.template)
	if err != nil {
		return store.Batch{}, nil, err
	}
	src, err := openSource(o.users, a.streams.In, filepath.Dir(db.Path()))
	if err != nil {
		return store.Batch{}, nil, err
	}
	defer src.cleanup()
	if err := lintTemplate(t, a); err != nil {
		return store.Batch{}, nil, err
	}
	name := o.batch
	if name == "" {
		name = fmt.Sprintf("%s-%s", templateKey(t.Key), time.Now().Format("20060102-150405"))
	}
	nb := store.NewBatch{
		Name: name, TemplateRef: o.template, TemplateBody: t.Body(), TemplateHash: hashBytes(t.Body()),
		SourcePath: absPath(o.users), SourceHash: src.hash, Account: cr.Name,
	}
	if o.users == "-" {
		nb.SourcePath = "-"
	}
	b, err := db.CreateBatch(ctx, nb, owner)
	if err == nil {
		a.created = b.ID
	}
	if errors.Is(err, store.ErrExists) {
		b, err = a.continueBatch(ctx, db, nb, owner)
		if err != nil || b.Status != store.StatusImporting {
			return b, t, err
		}
	} else if err != nil {
		return store.Batch{}, nil, err
	}
	a.log.Info("importing recipients", "batch", b.Name, "users", src.display)
	res, err := a.importBatch(ctx, db, b, t, src, o.input(), o.preview)
	if err != nil {
		return store.Batch{}, nil, err
	}
	a.reportImport(b.Name, res)
	b, err = db.Batch(ctx, b.Name)
	return b, t, err
}

// continueBatch handles --batch NAME for an existing batch: the same
// template and file continue it (a re-run cron line is safe); anything else
// is refused, because it would mix two campaigns in one ledger.
func (a *app) continueBatch(ctx context.Context, db *store.DB, nb store.NewBatch, owner string) (store.Batch, error) {
	b, err := db.Batch(ctx, nb.Name)
	if err == nil {
		err = a.checkLedger(ctx, db) // continuing is resuming: see prepareBatch
	}
	if err != nil {
		return store.Batch{}, err
	}
	switch {
	case b.SourceHash != nb.SourceHash && b.SourcePath != nb.SourcePath:
		return store.Batch{}, usageErrorf("batch %s exists with a different users file (%s, not %s); use another --batch name, or --resume %s to continue the original",
			b.Name, b.SourcePath, nb.SourcePath, b.Name)
	case b.SourceHash != nb.SourceHash:
		return store.Batch{}, usageErrorf("batch %s exists with users file %s, whose content has changed since; use another --batch name, or --resume %s to continue the original",
			b.Name, b.SourcePath, b.Name)
	case b.TemplateHash != nb.TemplateHash:
		return store.Batch{}, usageErrorf("batch %s exists with a different template; use another --batch name, or --resume %s to continue the original",
			b.Name, b.Name)
	}
	if err := db.Lock(ctx, b.ID, owner); err != nil {
		return store.Batch{}, lockError(err)
	}
	a.log.Info("continuing existing batch", "batch", b.Name, "status", b.Status)
	return b, nil
}

// reimport finishes an import that a killed run left half done: from the
// recorded source, if it still has the same content.
func (a *app) reimport(ctx context.Context, db *store.DB, b store.Batch, t *template.Template, o campaignOptions) (store.Batch, error) {
	if b.SourcePath == "-" {
		return store.Batch{}, usageErrorf("batch %s was interrupted while importing from stdin; run the original command again", b.Name)
	}
	hash, err := hashFile(b.SourcePath)
	if err != nil || hash != b.SourceHash {
		return store.Batch{}, usageErrorf("batch %s was interrupted while importing and %s changed or is gone; start a new batch", b.Name, b.SourcePath)
	}
	src := &source{path: b.SourcePath, display: b.SourcePath, hash: hash, cleanup: func() {}}
	res, err := a.importBatch(ctx, db, b, t, src, o.input(), o.preview)
	if err != nil {
		return store.Batch{}, err
	}
	a.reportImport(b.Name, res)
	return db.Batch(ctx, b.Name)
}

func (a *app) reportImport(name string, res store.ImportResult) {
	a.log.Info("imported", "batch", name, "recipients", res.Total, "duplicates_skipped", res.Duplicates)
	for _, d := range res.FirstDuplicates {
		a.log.Warn("duplicate openid skipped", "line", d.Line, "openid", d.OpenID, "first_line", d.FirstLine)
	}
	if extra := res.Duplicates - int64(len(res.FirstDuplicates)); extra > 0 {
		a.log.Warn(fmt.Sprintf("... and %d more duplicates skipped", extra))
	}
}

// loadTemplate resolves --template: a path (contains a separator, or ends in
// .json or .toml) is read from disk; anything else is a key in the database.
func (a *app) loadTemplate(ctx context.Context, db *store.DB, ref string) (*template.Template, error) {
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
	st, err := db.Template(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		return nil, usageErrorf("no template %q; see 'megasend template list' (a file path must contain / or end in .json or .toml)", ref)
	}
	if err != nil {
		return nil, err
	}
	t, err := template.Parse(st.Key, st.Title, st.Body)
	if err != nil {
		return nil, usageErrorf("template %s: %w", ref, err)
	}
	return t, nil
}

// lintTemplate refuses the template's errors, each on a line of its own
// in lint's format. Its warnings, which repeat on every run, are logged
// compactly, each in its own words: one line per distinct warning, naming
// the paths it applies to, then where 'template lint' lists them all. The
// template is named as given: its file, or its key.
func lintTemplate(t *template.Template, a *app) error {
	name := templateName(t)
	bad := problems{kind: "error"}
	var warns []template.Problem
	for _, p := range t.Lint() {
		if p.Severity == template.Error {
			bad.addProblem(lintProblem(name, p))
		} else {
			warns = append(warns, p)
		}
	}
	if bad.count > 0 {
		bad.print(a.streams.Err)
		return usageErrorf("template %s: %d %s; nothing was sent", name, bad.count, plural(bad.count, "error"))
	}
	if len(warns) == 0 {
		return nil
	}
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
	return nil
}

// templateKey is how a batch names its template: the key, or a file's base
// name without extension.
func templateKey(ref string) string {
	base := filepath.Base(ref)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

func hashBytes(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// lockError says who holds the batch. It is a runtime condition (exit 1),
// not bad input: the same command succeeds once the other process is gone.
func lockError(err error) error {
	var le *store.LockedError
	if errors.As(err, &le) {
		return fmt.Errorf("%w; nothing was sent by this process (the batch can be resumed when it ends)", le)
	}
	return err
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
