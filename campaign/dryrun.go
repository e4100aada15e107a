package campaign

import (
	"context"
	"fmt"
	"io"

	"github.com/megasend/megasend/recipient"
	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/template"
)

// Check validates spec's template and every row of its source and renders
// them all, as Create would before sending, and records nothing: a dry
// run. Errors: Invalid, with Problems.
func Check(spec Spec) (*Imported, error) {
	if _, err := CheckTemplate(spec.Template); err != nil {
		return nil, err
	}
	c := newChecker(spec.Template, spec.Source.Name, spec.Preview)
	c.renderAll = true
	n, err := readRows(spec.Source, spec.Input, c, func(recipient.Row) error { return nil })
	imp := &Imported{Warnings: &c.warns, Previews: c.previews, Rows: n}
	if err != nil {
		return imp, err
	}
	if c.errs.Count > 0 {
		return imp, inputError(spec.Source.Name, &c.errs)
	}
	return imp, nil
}

// CheckResume shows what Resume would send, and sends and records
// nothing: the recipients left are rendered with the batch's template (or
// spec.Template, checked as a replacement would be), retryUnknown counting
// the unknown ones too. It returns the template that would be sent.
func (s *Service) CheckResume(ctx context.Context, spec ResumeSpec, retryUnknown bool) (Remaining, *template.Template, error) {
	b, err := s.Find(ctx, spec.Name)
	if err != nil {
		return Remaining{}, nil, err
	}
	if b.Status == store.StatusImporting {
		return Remaining{}, nil, Errorf(Invalid, "batch %s has not finished importing, so what it will send is not known yet; resume it, or dry-run its users file", b.Name)
	}
	if spec.Input.Encoding != "" {
		return Remaining{}, nil, &Error{Code: Invalid, Field: "encoding",
			Msg: fmt.Sprintf("batch %s has imported its users already: --resume reads no users file; drop --encoding", b.Name)}
	}
	send := []string{store.StatePending, store.StateInflight}
	if retryUnknown {
		send = append(send, store.StateUnknown)
	}
	check, t := send, spec.Template
	if t != nil {
		if _, err := CheckTemplate(t); err != nil {
			return Remaining{}, nil, err
		}
		check = StillSendable()
	} else if t, err = batchTemplate(b); err != nil {
		return Remaining{}, nil, err
	}
	rem, err := s.checkRemaining(ctx, b, t, check, send, spec.Preview)
	return rem, t, err
}

// LintCounts is what Lint found.
type LintCounts struct {
	Rows             int64
	Errors, Warnings int
}

// Lint checks every row read from r, a recipient file shown as name,
// against t as Create would, and hands each problem to emit as it is found:
// a file lint passes is one a campaign accepts.
func Lint(r io.Reader, name string, t *template.Template, in Input, emit func(Problem)) (LintCounts, error) {
	c := newChecker(t, name, 0)
	c.renderAll = true
	c.errs.Emit, c.warns.Emit = emit, emit
	rows, err := readRowsFrom(r, name, in, c, func(recipient.Row) error { return nil })
	return LintCounts{Rows: rows, Errors: c.errs.Count, Warnings: c.warns.Count}, err
}
