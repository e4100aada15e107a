package cmd

import (
	"context"

	"github.com/megasend/megasend/campaign"
)

// dryRun validates the template and every recipient, renders them, and
// runs the preflight checks, without creating a batch or sending.
func (a *app) dryRun(ctx context.Context, l *ledger, o campaignOptions, cr credentials) error {
	if o.resume != "" {
		return a.dryRunResume(ctx, l, o, cr)
	}
	if o.audience != "" {
		return a.dryRunAudience(ctx, l, o, cr)
	}
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
	src, err := openSource(o.users, a.streams.In, "")
	if err != nil {
		return err
	}
	defer src.cleanup()
	imp, err := campaign.Check(campaign.Spec{Template: t, TemplateRef: o.template, Source: src.Source, Input: o.input(), Preview: o.preview})
	if err := a.imported(nil, imp, err, o); err != nil {
		return err
	}
	if err := a.preflight(ctx, l, o, cr, t, imp.Rows); err != nil {
		return err
	}
	a.tell("dry run: %d recipients in %s are valid for template %s; nothing was sent", imp.Rows, src.Name, t.Key)
	return nil
}

// dryRunResume shows what --resume would send, and sends and records
// nothing: the recipients left are rendered with the batch's template (or
// the --template that would replace it, checked as the resume would check
// it), and the preflight checks run.
func (a *app) dryRunResume(ctx context.Context, l *ledger, o campaignOptions, cr credentials) error {
	spec := campaign.ResumeSpec{Name: o.resume, TemplateRef: o.template, Input: o.input(), Preview: o.preview}
	if o.template != "" {
		if _, err := l.svc.Find(ctx, o.resume); err != nil {
			return a.batchError(err)
		}
		t, err := a.loadTemplate(ctx, l.svc, o.template)
		if err != nil {
			return err
		}
		if err := a.checkTemplate(t); err != nil {
			return err
		}
		spec.Template = t
	}
	rem, t, err := l.svc.CheckResume(ctx, spec, o.retryUnknown)
	if err != nil {
		a.printProblems(campaign.ErrorProblems(err))
		return a.batchError(err)
	}
	a.printPreviews(rem.Previews)
	if rem.Sendable == 0 {
		a.tell("dry run: batch %s has nothing left to send; nothing was sent", o.resume)
		return nil
	}
	if err := a.preflight(ctx, l, o, cr, t, rem.Sendable); err != nil {
		return err
	}
	a.tell("dry run: the %d recipients left in batch %s render with template %s; nothing was sent",
		rem.Sendable, o.resume, t.Key)
	return nil
}
