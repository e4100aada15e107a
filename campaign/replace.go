package campaign

import (
	"context"
	"fmt"
	"slices"

	"github.com/megasend/megasend/recipient"
	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/template"
)

// ReplaceTemplate gives batch b a new template, t, named ref: a batch
// stopped because WeChat refused its template_id (40037, 43116) is finished
// once the template is fixed. Every recipient that may still be sent
// (pending, inflight, failed, unknown) must render with t and pass its value
// rules, or nothing changes and the error is Invalid, with Problems.
// Recipients already sent are not touched. The caller holds b's lock.
func (s *Service) ReplaceTemplate(ctx context.Context, b store.Batch, t *template.Template, ref string) error {
	if _, err := CheckTemplate(t); err != nil {
		return err
	}
	if k := string(t.Kind.OrDefault()); k != b.TemplateKind {
		// The ledger's outcomes, and how a resume treats rows left in
		// flight, depend on the kind: it is the batch's for good.
		return &Error{Code: Invalid, Field: "template",
			Msg: fmt.Sprintf("batch %s sends %s messages; template %s is of kind %s; nothing was sent", b.Name, b.TemplateKind, TemplateName(t), k)}
	}
	if hashBytes(t.Body()) == b.TemplateHash {
		return nil
	}
	if _, err := s.checkRemaining(ctx, b, t, StillSendable(), nil, 0); err != nil {
		return err
	}
	if err := s.db.SetTemplate(ctx, b.ID, ref, t.Body(), hashBytes(t.Body())); err != nil {
		return err
	}
	s.log.Info("batch template replaced", "batch", b.Name, "template", ref, "template_id", t.TemplateID())
	return nil
}

// StillSendable are the states of the recipients a batch's template may
// still be sent to: pending and inflight now, failed and unknown after a
// retry requeues them. A replacement template must fit them all.
func StillSendable() []string {
	return []string{store.StatePending, store.StateInflight, store.StateFailed, store.StateUnknown}
}

// Remaining is what a check of a batch's recipients found: how many of
// them are in a state to be sent, and the first of their bodies.
type Remaining struct {
	Sendable int64
	Previews [][]byte
}

// checkRemaining renders every recipient of batch b in one of states with
// t and applies its value rules. Any problem makes an Invalid error that
// names the batch and template; nothing is written. Recipients in one of
// send are counted, and the first preview of them kept rendered.
func (s *Service) checkRemaining(ctx context.Context, b store.Batch, t *template.Template, states, send []string, preview int) (Remaining, error) {
	var out Remaining
	bad := NewProblems(template.Error)
	var buf []byte
	err := s.db.Recipients(ctx, b.ID, states, func(r store.Recipient) error {
		vars, err := recipient.ParseVarsJSON(r.Vars, nil)
		if err != nil {
			return fmt.Errorf("batch %s line %d: stored %w", b.Name, r.Line, err)
		}
		row := recipient.Row{OpenID: r.OpenID, Vars: vars}
		if buf, err = t.Render(buf[:0], row.Lookup, t.MsgID(r.ClientMsgID)); err != nil {
			bad.Addf("batch %s line %d (%s): %v", b.Name, r.Line, r.OpenID, err)
			return nil
		}
		for _, p := range t.LintValues(row.Lookup) {
			if p.Severity == template.Error {
				bad.Addf("batch %s line %d (%s): %s: %s", b.Name, r.Line, r.OpenID, p.Path, p.Msg)
			}
		}
		if slices.Contains(send, r.State) {
			out.Sendable++
			if len(out.Previews) < preview {
				out.Previews = append(out.Previews, append([]byte(nil), buf...))
			}
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	if bad.Count > 0 {
		return out, &Error{Code: Invalid, Field: "template", Problems: bad,
			Msg: fmt.Sprintf("template %s does not fit batch %s: %d %s; the batch keeps its template, nothing was sent",
				t.Key, b.Name, bad.Count, Plural(bad.Count, "problem"))}
	}
	return out, nil
}
