package cmd

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/megasend/megasend/campaign"
	"github.com/megasend/megasend/template"
	"github.com/megasend/megasend/wechat"
)

// setFlag collects repeated --set key=value arguments as given: unlike a
// cli.StringSliceFlag it does not split a value at commas, which a shared
// text may well contain.
type setFlag []string

func (f *setFlag) Set(s string) error { *f = append(*f, s); return nil }
func (f *setFlag) String() string     { return strings.Join(*f, " ") }

// audienceSource builds what --audience, --set and --users ask for:
// the audience parsed, its shared variables, the users file it restricts,
// the account's client to page it, and the paging's progress. done releases
// them all; call it once the import has finished.
func (a *app) audienceSource(ctx context.Context, l *ledger, o campaignOptions, cr credentials) (*campaign.AudienceSource, func(), error) {
	aud, err := campaign.ParseAudience(o.audience)
	if err != nil {
		return nil, nil, usageErrorf("--%w", err)
	}
	set, err := campaign.ParseSet(o.set)
	if err != nil {
		return nil, nil, usageErrorf("--%w", err)
	}
	au := &campaign.AudienceSource{Audience: aud, Set: set}
	cleanup := func() {}
	if o.users != "" {
		src, err := openSource(o.users, a.streams.In, filepath.Dir(l.db.Path()))
		if err != nil {
			return nil, nil, err
		}
		au.Users, cleanup = &src.Source, src.cleanup
	}
	client, stop, err := a.newWeChat(cr, l.db, o.sandbox, o.concurrency)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	au.Followers = client
	paged, stopProgress := a.pagingProgress(aud.String())
	au.Paged = paged
	return au, func() { stopProgress(); stop(); cleanup() }, nil
}

// lazyFollowers is the account's client for a resume, made only if the
// batch turns out to need its audience paged again.
type lazyFollowers struct {
	once   sync.Once
	make   func() (*wechat.Client, func(), error)
	client *wechat.Client
	stop   func()
	err    error
}

func (f *lazyFollowers) get() (*wechat.Client, error) {
	f.once.Do(func() { f.client, f.stop, f.err = f.make() })
	return f.client, f.err
}

func (f *lazyFollowers) close() {
	if f.stop != nil {
		f.stop()
	}
}

func (f *lazyFollowers) FollowersPage(ctx context.Context, next string) (wechat.FollowerPage, error) {
	c, err := f.get()
	if err != nil {
		return wechat.FollowerPage{}, err
	}
	return c.FollowersPage(ctx, next)
}

func (f *lazyFollowers) TagFollowersPage(ctx context.Context, tagID int, next string) (wechat.FollowerPage, error) {
	c, err := f.get()
	if err != nil {
		return wechat.FollowerPage{}, err
	}
	return c.TagFollowersPage(ctx, tagID, next)
}

func (f *lazyFollowers) Tags(ctx context.Context) ([]wechat.Tag, error) {
	c, err := f.get()
	if err != nil {
		return nil, err
	}
	return c.Tags(ctx)
}

// pagingProgress shows an audience being paged, as a run's progress is
// shown: a bar on a terminal, a log line every few seconds otherwise,
// nothing with --quiet. It returns the callback for every page and what
// ends the display (after which a last line says how many were paged).
func (a *app) pagingProgress(audience string) (func(paged, total int64), func()) {
	sc, _ := a.streams.Err.(*screen)
	useBar := sc != nil && a.said == nil && !a.quiet
	interval := logInterval
	if useBar {
		interval = barInterval
	}
	return a.pagingDisplay(audience, sc, useBar, interval)
}

// pagingDisplay is pagingProgress drawing at most every interval, on sc if
// useBar.
func (a *app) pagingDisplay(audience string, sc *screen, useBar bool, interval time.Duration) (func(paged, total int64), func()) {
	var (
		mu sync.Mutex
		// last is when progress was last shown: a small audience, paged
		// within one interval, shows only the closing line.
		last     = time.Now()
		started  bool
		n, total int64
	)
	label := "paging " + audience
	paged := func(p, t int64) {
		mu.Lock()
		defer mu.Unlock()
		n, total = p, t
		if a.quiet || time.Since(last) < interval {
			return
		}
		last = time.Now()
		switch {
		case useBar && !started:
			sc.startBar(t, p, barStatus{label: label})
			started = true
		case useBar:
			sc.updateBar(p, barStatus{label: label})
		default:
			a.log.Info("paging audience", "audience", audience, "paged", p, "total", t)
		}
	}
	return paged, func() {
		mu.Lock()
		defer mu.Unlock()
		if started {
			sc.stopBar()
		}
		if n > 0 {
			a.log.Info("paged audience", "audience", audience, "openids", n, "total", total)
		}
	}
}

// auditAudience tells what an audience import left out.
func (a *app) auditAudience(imp *campaign.Imported, o campaignOptions) {
	if imp == nil || o.audience == "" || o.users == "" {
		return
	}
	if imp.Outside > 0 {
		a.log.Info(fmt.Sprintf("%d %s of %s not in audience %s left out", imp.Outside, plural(int(imp.Outside), "row"), o.users, o.audience),
			"left_out", imp.Outside)
	}
}

// dryRunAudience is a dry run of an --audience campaign: the audience is
// paged and checked, and nothing is recorded or sent.
func (a *app) dryRunAudience(ctx context.Context, l *ledger, o campaignOptions, cr credentials) error {
	t, err := a.loadTemplate(ctx, l.svc, o.template)
	if err != nil {
		return err
	}
	if err := a.checkTemplate(t); err != nil {
		return err
	}
	if _, err := a.loadFallback(ctx, l, o, t); err != nil {
		return err
	}
	au, done, err := a.audienceSource(ctx, l, o, cr)
	if err != nil {
		return err
	}
	imp, err := campaign.CheckAudience(ctx, t, au, o.input(), o.preview)
	done()
	a.auditAudience(imp, o)
	if err := a.imported(nil, imp, err, o); err != nil {
		return err
	}
	sendable := imp.Rows - imp.Outside
	if err := a.preflight(ctx, l, o, cr, t, sendable); err != nil {
		return err
	}
	a.tell("dry run: %d recipients in audience %s are valid for template %s; nothing was sent", sendable, o.audience, t.Key)
	return nil
}

// prepareAudience creates or continues the batch --audience makes: the
// audience paged into it, with the --set variables, restricted to --users
// if given. The batch comes back locked.
func (a *app) prepareAudience(ctx context.Context, l *ledger, o campaignOptions, cr credentials, t *template.Template) (*campaign.Batch, error) {
	if err := a.checkTemplate(t); err != nil {
		return nil, err
	}
	fb, err := a.loadFallback(ctx, l, o, t)
	if err != nil {
		return nil, err
	}
	au, done, err := a.audienceSource(ctx, l, o, cr)
	if err != nil {
		return nil, err
	}
	b, imp, err := l.svc.Create(ctx, campaign.Spec{
		Name: o.batch, Template: t, TemplateRef: o.template, Audience: au, Account: cr.Name,
		Input: o.input(), Preview: o.preview, Fallback: fb, FallbackRef: o.fallback,
	})
	done()
	if campaign.ErrorCode(err) == campaign.Conflict {
		err = fmt.Errorf("%w; use another --%s name, or --resume %s to continue the original", err, flgBatch, cmp.Or(o.batch, "NAME"))
	}
	a.auditAudience(imp, o)
	return b, a.imported(b, imp, err, o)
}
