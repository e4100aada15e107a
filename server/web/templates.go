package web

import (
	"net/http"

	"github.com/megasend/megasend/campaign"
	"github.com/megasend/megasend/template"
)

// templatesView is the templates page: the database's stored templates
// (shared by every account, as the CLI's are), read-only, each with what
// lint finds in it.
type templatesView struct {
	page
	Templates []templateRow
}

type templateRow struct {
	campaign.StoredTemplate
	Errors, Warnings int
	Body             string
}

// isError reports a lint problem that refuses the template.
func isError(p template.Problem) bool { return p.Severity == template.Error }

// handleTemplates shows the stored templates with their lint results;
// changing them is the CLI's or the API's (PUT /v1/templates/{key}).
func (h *Handler) handleTemplates(w http.ResponseWriter, r *http.Request) {
	all, err := h.svc.ListTemplates(r.Context())
	if err != nil {
		h.internal(w, r, err)
		return
	}
	v := templatesView{page: pageOf(r, "Templates")}
	for _, t := range all {
		errs, warns := t.LintCounts()
		v.Templates = append(v.Templates, templateRow{StoredTemplate: t, Errors: errs, Warnings: warns, Body: string(t.Body)})
	}
	h.render(w, r, http.StatusOK, "templates.html", v)
}
