package campaign

// campaign --fallback: a customer-service message reaches only the users
// inside WeChat's 48-hour window (45015 outside it, 45047 once its count is
// used up); a template-kind fallback reaches the rest. The batch keeps the
// fallback's snapshot beside its template's, and the engine moves each
// unreachable recipient to it durably before sending it (sender.Config's
// FallbackKind), so each recipient is reached once, by one kind.

import (
	"context"
	"fmt"

	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/template"
)

// CheckFallback refuses a fallback that cannot serve t: only a
// customer-service message falls back, and only to a template message.
// The fallback's lint errors refuse it too. Errors are Invalid, Field
// "fallback", naming both templates.
func CheckFallback(t, fb *template.Template, ref string) error {
	if fb == nil {
		return nil
	}
	name := TemplateName(t)
	switch {
	case t.Kind.OrDefault() != template.KindCustom:
		return &Error{Code: Invalid, Field: "fallback",
			Msg: fmt.Sprintf("--fallback %s: template %s is of kind %s; only a customer-service message (kind custom) has a fallback; nothing was sent",
				ref, name, t.Kind.OrDefault())}
	case fb.Kind.OrDefault() != template.KindTemplate:
		return &Error{Code: Invalid, Field: "fallback",
			Msg: fmt.Sprintf("--fallback %s is of kind %s; the fallback of template %s (custom) must be a template message (kind template); nothing was sent",
				ref, fb.Kind.OrDefault(), name)}
	}
	if _, err := CheckTemplate(fb); err != nil {
		if e, ok := err.(*Error); ok {
			e.Field = "fallback"
			e.Msg = "--fallback " + e.Msg
		}
		return err
	}
	return nil
}

// checkFallbackRows renders every recipient of the new batch b with its
// fallback, as the import did with its template: a row the fallback cannot
// be sent to refuses the batch, which is not kept, before anything is sent.
func (s *Service) checkFallbackRows(ctx context.Context, b store.Batch, fb *template.Template) error {
	_, err := s.checkRemaining(ctx, b, fb, StillSendable(), nil, 0)
	if err == nil {
		return nil
	}
	if e, ok := err.(*Error); ok {
		e.Field = "fallback"
		e.Msg = fmt.Sprintf("--fallback %s: %s", TemplateName(fb), e.Msg)
	}
	if derr := s.db.DeleteBatch(context.WithoutCancel(ctx), b.ID); derr != nil {
		return fmt.Errorf("%w (and the batch could not be removed: %v)", err, derr)
	}
	return err
}

// batchFallback parses the fallback batch b keeps, or returns nil if it has
// none.
func batchFallback(b store.Batch) (*template.Template, error) {
	if len(b.FallbackBody) == 0 {
		return nil, nil
	}
	t, err := parseStored(store.Template{Key: KeyOf(b.FallbackRef), Kind: store.KindTemplate, Body: b.FallbackBody})
	if err != nil {
		return nil, fmt.Errorf("batch %s: stored fallback: %w", b.Name, err)
	}
	return t, nil
}

// orNone is s, or "none" when s is empty.
func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
