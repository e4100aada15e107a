package cmd

import (
	"context"
	"fmt"
	"slices"

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
	if _, err := a.checkRemaining(ctx, db, b, t, stillSendable(), nil, 0); err != nil {
		return nil, err
	}
	if err := db.SetTemplate(ctx, b.ID, ref, t.Body(), hashBytes(t.Body())); err != nil {
		return nil, err
	}
	a.log.Info("batch template replaced", "batch", b.Name, "template", ref, "template_id", t.TemplateID())
	return t, nil
}

// stillSendable are the states of the recipients a batch's template may
// still be sent to: pending and inflight now, failed and unknown after a
// retry requeues them. A replacement template must fit them all.
func stillSendable() []string {
	return []string{store.StatePending, store.StateInflight, store.StateFailed, store.StateUnknown}
}

// remaining is what checkRemaining found: how many of the recipients it
// rendered are in a state to be sent, and the first of their bodies.
type remaining struct {
	sendable int64
	previews [][]byte
}

// checkRemaining renders every recipient of batch b in one of states with
// t and applies its value rules. Any problem is printed and makes a usage
// error (exit 2) that names the batch and template; nothing is written.
// Recipients in one of send are counted, and the first preview of them
// kept rendered.
func (a *app) checkRemaining(ctx context.Context, db *store.DB, b store.Batch, t *template.Template, states, send []string, preview int) (remaining, error) {
	var out remaining
	bad := problems{kind: "error"}
	var buf []byte
	err := db.Recipients(ctx, b.ID, states, func(r store.Recipient) error {
		vars, err := recipient.ParseVarsJSON(r.Vars, nil)
		if err != nil {
			return fmt.Errorf("batch %s line %d: stored %w", b.Name, r.Line, err)
		}
		row := recipient.Row{OpenID: r.OpenID, Vars: vars}
		if buf, err = t.Render(buf[:0], row.Lookup, r.ClientMsgID); err != nil {
			bad.add("batch %s line %d (%s): %v", b.Name, r.Line, r.OpenID, err)
			return nil
		}
		for _, p := range t.LintValues(row.Lookup) {
			if p.Severity == template.Error {
				bad.add("batch %s line %d (%s): %s: %s", b.Name, r.Line, r.OpenID, p.Path, p.Msg)
			}
		}
		if slices.Contains(send, r.State) {
			out.sendable++
			if len(out.previews) < preview {
				out.previews = append(out.previews, append([]byte(nil), buf...))
			}
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	if bad.count > 0 {
		bad.print(a.streams.Err)
		return out, usageErrorf("template %s does not fit batch %s: %d %s; the batch keeps its template, nothing was sent",
			t.Key, b.Name, bad.count, plural(bad.count, "problem"))
	}
	return out, nil
}
