package cmd

// template pull: skeletons for the WeChat account's own templates.

import (
	"context"
	"fmt"
	"strings"

	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/template"
)

// runTemplatePull stores a skeleton for each of the account's templates
// that no stored template sends yet. Existing templates are never changed.
func (a *app) runTemplatePull(ctx context.Context, sandbox bool) error {
	cr, err := a.credentials()
	if err != nil {
		return err
	}
	db, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	stored, err := db.Templates(ctx)
	if err != nil {
		return err
	}
	have := map[string]store.Template{} // template_id → the stored template sending it
	for _, st := range stored {
		if st.Kind != "" && st.Kind != store.KindTemplate {
			continue // a subscribe notification's id is no template message's
		}
		if t, err := template.Parse(st.Key, st.Title, st.Body); err == nil && t.TemplateID() != "" {
			have[t.TemplateID()] = st
		}
	}
	c, stop, err := a.newWeChat(cr, db, sandbox, 1)
	if err != nil {
		return err
	}
	defer stop()
	list, err := c.PrivateTemplates(ctx)
	if err != nil {
		return fmt.Errorf("template pull: %w", err)
	}
	for _, p := range list {
		if st, ok := have[p.TemplateID]; ok {
			if st.Title != "" || p.Title == "" {
				fmt.Fprintf(a.streams.Out, "kept template %s (%s): already stored\n", st.Key, p.Title)
				continue
			}
			// The body stays as stored; only the missing title is the
			// account's, which 'template list' then shows.
			st.Title = p.Title
			if err := db.PutTemplate(ctx, st); err != nil {
				return err
			}
			have[p.TemplateID] = st
			fmt.Fprintf(a.streams.Out, "kept template %s: already stored; its title is now the account's, %s\n", st.Key, p.Title)
			continue
		}
		t, body, err := template.SkeletonFromContent(p.TemplateID, p.Title, p.Content)
		if err != nil {
			// WeChat has been seen to list category templates without content.
			fmt.Fprintf(a.streams.Err, "skipped %s (%s): %v\n", p.TemplateID, p.Title, err)
			continue
		}
		if err := db.PutTemplate(ctx, store.Template{Key: t.Key, Title: t.Title, Kind: store.KindTemplate, Body: body}); err != nil {
			return err
		}
		have[p.TemplateID] = store.Template{Key: t.Key, Title: t.Title, Body: body}
		fmt.Fprintf(a.streams.Out, "pulled template %s (%s): variables %s\n", t.Key, p.Title, strings.Join(t.Vars(), ", "))
	}
	return nil
}
