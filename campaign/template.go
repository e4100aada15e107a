package campaign

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/template"
)

// Template returns the template stored under key. Returns a NotFound error
// if there is none.
func (s *Service) Template(ctx context.Context, key string) (*template.Template, error) {
	st, err := s.db.Template(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &Error{Code: NotFound, Field: "template", Msg: fmt.Sprintf("no template %q", key), Err: err}
	}
	if err != nil {
		return nil, err
	}
	t, err := parseStored(st)
	if err != nil {
		return nil, Errorf(Invalid, "template %s: %w", key, err)
	}
	return t, nil
}

// CheckTemplate applies lint to a template about to be sent: its errors
// refuse it (an Invalid error whose Problems list them), its warnings are
// returned for the face to show. A template whose touser is not the
// recipient's openid is refused here, so the ledger's "sent" always means
// sent to that recipient.
func CheckTemplate(t *template.Template) (warnings []template.Problem, err error) {
	name := TemplateName(t)
	bad := NewProblems(template.Error)
	for _, p := range t.Lint() {
		if p.Severity == template.Error {
			bad.Add(LintProblem(name, p))
		} else {
			warnings = append(warnings, p)
		}
	}
	if bad.Count > 0 {
		return warnings, &Error{Code: Invalid, Field: "template", Problems: bad,
			Msg: fmt.Sprintf("template %s: %d %s; nothing was sent", name, bad.Count, Plural(bad.Count, "error"))}
	}
	return warnings, nil
}

// batchTemplate parses the template batch b keeps, and refuses it as
// CheckTemplate would: a batch created before a lint rule existed (a fixed
// touser) must not be sent by a resume either.
func batchTemplate(b store.Batch) (*template.Template, error) {
	t, err := parseStored(store.Template{Key: KeyOf(b.TemplateRef), Kind: b.TemplateKind, Body: b.TemplateBody})
	if err != nil {
		return nil, fmt.Errorf("batch %s: stored template: %w", b.Name, err)
	}
	if _, err := CheckTemplate(t); err != nil {
		var e *Error
		errors.As(err, &e)
		e.Msg = fmt.Sprintf("batch %s keeps template %s, which cannot be sent: %d %s; resume it with --template FIXED, nothing was sent",
			b.Name, b.TemplateRef, e.Problems.Count, Plural(e.Problems.Count, "error"))
		return nil, e
	}
	return t, nil
}

// TemplateID returns the template_id of the template batch b keeps, or "".
func TemplateID(b store.Batch) string {
	t, err := template.Parse(KeyOf(b.TemplateRef), "", b.TemplateBody)
	if err != nil {
		return ""
	}
	return t.TemplateID()
}

// KeyOf is how a batch names its template: the key, or a file's base name
// without extension.
func KeyOf(ref string) string {
	base := filepath.Base(ref)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// hashBytes is the hex sha256 by which a batch recognises its template.
func hashBytes(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
