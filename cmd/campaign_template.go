package cmd

import (
	"context"
	"fmt"

	"github.com/megasend/megasend/recipient"
	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/template"
)

// replaceTemplate gives a batch being resumed a new template (--resume NAME
// --template KEY|PATH): a batch stopped because WeChat refused its
// template_id (40037, 43116) is finished once the template is fixed. Every
// recipient that may still be sent (pending, inflight, failed, unknown) must
// render with the new template and pass its value rules, or nothing changes
// and the exit code is 2. Recipients already sent are not touched.
func (a *app) replaceTemplate(ctx context.Context, db *store.DB, b store.Batch, ref string) (*template.Template, error) {
	t, err := a.loadTemplate(ctx, db, ref)
	if err != nil {
		return nil, err
	}
	if err := lintTemplate(t, a); err != nil {
		return nil, err
	}
	if hashBytes(t.Body()) == b.TemplateHash {
		return t, nil
	}
	var problems []string
	bad := 0
	var buf []byte
	states := []string{store.StatePending, store.StateInflight, store.StateFailed, store.StateUnknown}
	err = db.Recipients(ctx, b.ID, states, func(r store.Recipient) error {
		vars, err := recipient.ParseVarsJSON(r.Vars, nil)
		if err != nil {
			return fmt.Errorf("batch %s line %d: stored %w", b.Name, r.Line, err)
		}
		row := recipient.Row{OpenID: r.OpenID, Vars: vars}
		var msgs []string
		if buf, err = t.Render(buf[:0], row.Lookup, r.ClientMsgID); err != nil {
			msgs = append(msgs, err.Error())
		} else {
			for _, p := range t.LintValues(row.Lookup) {
				if p.Severity == template.Error {
					msgs = append(msgs, p.Path+": "+p.Msg)
				}
			}
		}
		for _, m := range msgs {
			if bad++; bad <= maxShown {
				problems = append(problems, fmt.Sprintf("batch %s line %d (%s): %s", b.Name, r.Line, r.OpenID, m))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if bad > 0 {
		for _, p := range problems {
			fmt.Fprintf(a.streams.Err, "error: %s\n", p)
		}
		return nil, usageErrorf("template %s does not fit batch %s: %d %s; the batch keeps its template, nothing was sent",
			t.Key, b.Name, bad, plural(bad, "problem"))
	}
	if err := db.SetTemplate(ctx, b.ID, ref, t.Body(), hashBytes(t.Body())); err != nil {
		return nil, err
	}
	a.log.Info("batch template replaced", "batch", b.Name, "template", ref, "template_id", t.TemplateID())
	return t, nil
}
