package campaign

// The stored templates, as both faces manage them: the CLI's template
// commands and the service's /v1/templates routes. Templates are shared by
// every account of the database. A batch keeps a snapshot of its
// template's body when it is created (store.Batch.TemplateBody), so no
// change here ever alters a batch already created.

import (
	"context"
	"errors"
	"fmt"

	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/template"
)

// StoredTemplate is a stored template as the lifecycle hands it out: the
// ledger's row, the template it parses to, and what lint finds in it.
type StoredTemplate struct {
	store.Template
	// Parsed is the body parsed; nil if it no longer parses (a body stored
	// by an older version), and ParseErr says why.
	Parsed   *template.Template
	ParseErr error
	// Problems are lint's findings, errors and warnings, in lint's order
	// (none if the body does not parse).
	Problems []template.Problem
	// Created reports that this call created the template (PutTemplate and
	// SaveTemplate; false for a replaced one).
	Created bool
}

// LintCounts returns how many of t's problems are errors and how many
// warnings; a body that no longer parses counts as one error.
func (t StoredTemplate) LintCounts() (errs, warnings int) {
	if t.ParseErr != nil {
		return 1, 0
	}
	for _, p := range t.Problems {
		if p.Severity == template.Error {
			errs++
		} else {
			warnings++
		}
	}
	return errs, warnings
}

func storedTemplate(st store.Template) StoredTemplate {
	out := StoredTemplate{Template: st}
	out.Parsed, out.ParseErr = parseStored(st)
	if out.Parsed != nil {
		out.Problems = out.Parsed.Lint()
	}
	return out
}

// parseStored parses a stored template as its kind's body. A kind this
// version does not know is an error, as a body that no longer parses is.
func parseStored(st store.Template) (*template.Template, error) {
	kind, err := template.ParseKind(st.Kind)
	if err != nil {
		return nil, err
	}
	t, err := template.Parse(st.Key, st.Title, st.Body)
	if err != nil {
		return nil, err
	}
	return t.WithKind(kind), nil
}

// ListTemplates returns every stored template, sorted by key, each linted.
func (s *Service) ListTemplates(ctx context.Context) ([]StoredTemplate, error) {
	list, err := s.db.Templates(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]StoredTemplate, 0, len(list))
	for _, st := range list {
		out = append(out, storedTemplate(st))
	}
	return out, nil
}

// GetTemplate returns the template stored under key, linted. Returns a
// NotFound error if there is none.
func (s *Service) GetTemplate(ctx context.Context, key string) (StoredTemplate, error) {
	st, err := s.db.Template(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return StoredTemplate{}, notFoundTemplate(key, err)
	}
	if err != nil {
		return StoredTemplate{}, err
	}
	return storedTemplate(st), nil
}

func notFoundTemplate(key string, err error) *Error {
	return &Error{Code: NotFound, Field: "template", Msg: fmt.Sprintf("no template %q", key), Err: err}
}

// PutTemplate stores body, of kind kind ("" is template.KindTemplate),
// under key with title, creating the template or
// replacing it, once lint has found no error in it: the lint of the CLI's
// template lint and template add, whose errors a campaign refuses anyway.
// Lint's warnings are returned in the result's Problems, not refused.
// Errors, with nothing stored: Invalid for a key that cannot name a
// template (Field "key"), a body that does not parse (Field "body", the
// line and column in the message) or one with lint errors (Field "body",
// Problems listing them).
func (s *Service) PutTemplate(ctx context.Context, key, title string, kind template.Kind, body []byte) (StoredTemplate, error) {
	return s.putTemplate(ctx, key, title, kind, body, true)
}

// SaveTemplate is PutTemplate that stores a template with lint errors too,
// returning them in Problems: the CLI's template add and import keep a
// half-done template, which campaigns refuse until it is fixed. A key or a
// body that does not parse is refused as by PutTemplate.
func (s *Service) SaveTemplate(ctx context.Context, key, title string, kind template.Kind, body []byte) (StoredTemplate, error) {
	return s.putTemplate(ctx, key, title, kind, body, false)
}

func (s *Service) putTemplate(ctx context.Context, key, title string, kind template.Kind, body []byte, refuseErrors bool) (StoredTemplate, error) {
	if err := template.CheckKey(key); err != nil {
		return StoredTemplate{}, &Error{Code: Invalid, Field: "key", Msg: err.Error(), Err: err}
	}
	kind, err := template.ParseKind(string(kind))
	if err != nil {
		return StoredTemplate{}, &Error{Code: Invalid, Field: "kind", Msg: err.Error(), Err: err}
	}
	t, err := template.Parse(key, title, body)
	if err != nil {
		return StoredTemplate{}, &Error{Code: Invalid, Field: "body", Msg: fmt.Sprintf("template %s: body: %v", key, err), Err: err}
	}
	t = t.WithKind(kind)
	out := StoredTemplate{Parsed: t, Problems: t.Lint()}
	if refuseErrors {
		bad := NewProblems(template.Error)
		for _, p := range out.Problems {
			if p.Severity == template.Error {
				bad.Add(LintProblem(key, p))
			}
		}
		if bad.Count > 0 {
			return StoredTemplate{}, &Error{Code: Invalid, Field: "body", Problems: bad,
				Msg: fmt.Sprintf("template %s: %d lint %s; nothing was stored", key, bad.Count, Plural(bad.Count, "error"))}
		}
	}
	created, err := s.db.SaveTemplate(ctx, store.Template{Key: key, Title: title, Kind: string(kind), Body: t.Body()})
	s.templates.forget(key) // single messages accepted from now on use this body
	if err != nil {
		return StoredTemplate{}, err
	}
	if out.Template, err = s.db.Template(ctx, key); err != nil {
		return StoredTemplate{}, err
	}
	out.Created = created
	return out, nil
}

// DeleteTemplate removes the template stored under key. Batches keep their
// own snapshot of the body, so none is affected. Returns a NotFound error
// if there is none.
func (s *Service) DeleteTemplate(ctx context.Context, key string) error {
	_, err := s.DeleteTemplates(ctx, []string{key})
	return err
}

// DeleteTemplates removes the templates stored under keys, all of them or,
// if some are missing, none: a mistyped key in a list must not leave the
// rest half removed. Then it returns the missing keys, in the order given,
// and a NotFound error naming them.
func (s *Service) DeleteTemplates(ctx context.Context, keys []string) (missing []string, err error) {
	missing, err = s.db.DeleteTemplates(ctx, keys)
	for _, k := range keys {
		s.templates.forget(k) // no single message is accepted with it from now on
	}
	if errors.Is(err, store.ErrNotFound) {
		if len(missing) == 1 {
			return missing, notFoundTemplate(missing[0], err)
		}
		return missing, &Error{Code: NotFound, Field: "template", Msg: fmt.Sprintf("no templates %q", missing), Err: err}
	}
	return missing, err
}
