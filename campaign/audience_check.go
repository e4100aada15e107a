package campaign

import (
	"context"

	"github.com/megasend/megasend/recipient"
	"github.com/megasend/megasend/template"
)

// CheckAudience is Check for an audience: the shared variables are checked
// against the template, the tag is looked up, the audience is paged and its
// first recipients rendered, and nothing is recorded. With a users file,
// every row is checked and the rows outside the audience counted. Errors:
// Invalid (with Problems), Unavailable (WeChat could not be paged).
func CheckAudience(ctx context.Context, t *template.Template, au *AudienceSource, in Input, preview int) (*Imported, error) {
	if _, err := CheckTemplate(t); err != nil {
		return nil, err
	}
	if au.Users == nil {
		if err := checkSet(t, au.Set); err != nil {
			return nil, err
		}
	}
	rec, err := resolveAudience(ctx, au)
	if err != nil {
		return nil, err
	}
	if au.Users == nil {
		set := rec.vars()
		imp := &Imported{Warnings: NewProblems(template.Warning)}
		_, err := pageAudience(ctx, au.Followers, rec, au.Paged, func(id string) error {
			imp.Rows++
			if len(imp.Previews) < preview {
				row := recipient.Row{OpenID: id, Vars: set}
				body, err := t.Render(nil, row.Lookup, "")
				if err != nil {
					return err
				}
				imp.Previews = append(imp.Previews, body)
			}
			return nil
		})
		if err != nil {
			return imp, pagingError(rec, err)
		}
		if imp.Rows == 0 {
			return imp, Errorf(Invalid, "audience %s has no followers: nothing to send", rec.label())
		}
		return imp, nil
	}
	members := newOpenIDSet()
	if _, err := pageAudience(ctx, au.Followers, rec, au.Paged, func(id string) error { members.add(id); return nil }); err != nil {
		return nil, pagingError(rec, err)
	}
	src := *au.Users
	c := newChecker(t, src.Name, preview)
	c.renderAll, c.set = true, rec.vars()
	var outside int64
	n, err := readRows(src, in, c, func(r recipient.Row) error {
		if !members.has(r.OpenID) {
			outside++
		}
		return nil
	})
	imp := &Imported{Warnings: &c.warns, Previews: c.previews, Rows: n, Outside: outside}
	if err != nil {
		return imp, err
	}
	if c.errs.Count == 0 && n > 0 && outside == n {
		c.errs.Addf("%s: none of its %d %s is in audience %s: nothing to send", src.Name, n, Plural(int(n), "recipient"), rec.label())
	}
	if c.errs.Count > 0 {
		return imp, inputError(src.Name, &c.errs)
	}
	return imp, nil
}
