package server

// The stored templates over HTTP: list, read, put and delete, through the
// lifecycle's templates (campaign/templates.go). Templates belong to the
// database, not to an account: every key of every account sees and changes
// the same ones, as every account's CLI does. A batch keeps its own copy of
// its template's body, so no change here alters a batch already created.

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/megasend/megasend/campaign"
	"github.com/megasend/megasend/template"
)

// lintCountsDoc is how many errors and warnings lint finds in a template.
// A template with errors is stored (by the CLI) but no batch can use it.
type lintCountsDoc struct {
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
}

// templateItem is one template of GET /v1/templates.
type templateItem struct {
	Key       string        `json:"key"`
	Title     string        `json:"title"`
	Kind      string        `json:"kind"`
	UpdatedAt time.Time     `json:"updated_at"`
	Lint      lintCountsDoc `json:"lint"`
}

// templateListDoc is the answer of GET /v1/templates.
type templateListDoc struct {
	Templates []templateItem `json:"templates"`
}

// templateDoc is the answer for one template: its body as a JSON object,
// and what lint finds in it.
type templateDoc struct {
	Key       string          `json:"key"`
	Title     string          `json:"title"`
	Kind      string          `json:"kind"` // template, custom or subscribe
	Body      json.RawMessage `json:"body"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
	Lint      lintCountsDoc   `json:"lint"`
	Problems  []lintProblem   `json:"problems"`
}

// lintProblem is one finding of lint: line is the line of the body (0
// where the problem has no place, such as a missing field).
type lintProblem struct {
	Severity string `json:"severity"`
	Line     int    `json:"line"`
	Field    string `json:"field"`
	Problem  string `json:"problem"`
}

func lintCounts(st campaign.StoredTemplate) lintCountsDoc {
	errs, warnings := st.LintCounts()
	return lintCountsDoc{Errors: errs, Warnings: warnings}
}

func newTemplateDoc(st campaign.StoredTemplate) templateDoc {
	d := templateDoc{Key: st.Key, Title: st.Title, Kind: st.Kind, Body: json.RawMessage(st.Body), CreatedAt: st.CreatedAt,
		UpdatedAt: st.UpdatedAt, Lint: lintCounts(st), Problems: []lintProblem{}}
	if st.ParseErr != nil {
		// Stored by an older version, and no longer a template: shown as a
		// string, since it may not be JSON at all.
		d.Body, _ = json.Marshal(string(st.Body))
		d.Problems = append(d.Problems, lintProblem{Severity: "error", Problem: st.ParseErr.Error()})
	}
	for _, p := range st.Problems {
		d.Problems = append(d.Problems, lintProblem{Severity: p.Severity.String(), Line: p.Line, Field: p.Path, Problem: p.Msg})
	}
	return d
}

// handleListTemplates lists the stored templates, by key, with lint's
// counts.
func (s *Server) handleListTemplates(w http.ResponseWriter, r *http.Request) error {
	list, err := s.svc.ListTemplates(r.Context())
	if err != nil {
		return err
	}
	doc := templateListDoc{Templates: make([]templateItem, 0, len(list))}
	for _, st := range list {
		doc.Templates = append(doc.Templates, templateItem{Key: st.Key, Title: st.Title, Kind: st.Kind, UpdatedAt: st.UpdatedAt, Lint: lintCounts(st)})
	}
	return writeJSON(w, http.StatusOK, doc)
}

// handleGetTemplate answers one template, its body and lint's problems.
func (s *Server) handleGetTemplate(w http.ResponseWriter, r *http.Request) error {
	st, err := s.svc.GetTemplate(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newTemplateDoc(st))
}

// putTemplateRequest is the body of PUT /v1/templates/{key}.
type putTemplateRequest struct {
	Title string          `json:"title"`
	Kind  string          `json:"kind"` // template (the default), custom or subscribe
	Body  json.RawMessage `json:"body"`
}

// handlePutTemplate stores a template under the path's key once lint has
// found no error in it: 201 created, 200 replaced, with the template and
// its warnings; 422 with the problems for lint errors, and nothing stored.
func (s *Server) handlePutTemplate(w http.ResponseWriter, r *http.Request) error {
	var req putTemplateRequest
	if err := s.decodeOptional(w, r, &req); err != nil {
		return err
	}
	if len(bytes.TrimSpace(req.Body)) == 0 || bytes.TrimSpace(req.Body)[0] != '{' {
		return invalid("body", `a template needs a body: the WeChat request as a JSON object, {"touser":"${openid}","template_id":...,"data":{...}}`)
	}
	st, err := s.svc.PutTemplate(r.Context(), r.PathValue("key"), req.Title, template.Kind(req.Kind), req.Body)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if st.Created {
		status = http.StatusCreated
		w.Header().Set("Location", "/v1/templates/"+url.PathEscape(st.Key))
	}
	return writeJSON(w, status, newTemplateDoc(st))
}

// handleDeleteTemplate removes a template: 204, or 404. Batches created
// with it keep their own copy.
func (s *Server) handleDeleteTemplate(w http.ResponseWriter, r *http.Request) error {
	if err := s.noBody(w, r); err != nil {
		return err
	}
	if err := s.svc.DeleteTemplate(r.Context(), r.PathValue("key")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
