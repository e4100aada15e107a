package cmd

// Problems in the input, reported the same way by campaign and template
// lint: one line each, "file:line: field: problem", and for a warning
// "file:line: warning: field: problem" (the location first, as compilers
// and editors expect; a warning says so after it, an error needs no word).
// With --log-format json each is one record whose fields are file, line
// (a number), field and problem. The lifecycle (campaign.Problems) finds
// them; this file only shows them.

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/megasend/megasend/campaign"
	"github.com/megasend/megasend/template"
)

// printProblems writes p's problems to the error stream, one per line,
// then the count of the rest. A nil p prints nothing.
func (a *app) printProblems(p *campaign.Problems) {
	if p == nil {
		return
	}
	w := a.streams.Err
	for _, q := range p.Sorted() {
		printProblem(w, q)
	}
	if rest := p.Rest(); rest > 0 {
		kind := "error"
		if p.Severity == template.Warning {
			kind = "warning"
		}
		line := fmt.Sprintf("... and %d more %ss", rest, kind)
		if ll, ok := w.(*logLines); ok {
			ll.log.LogAttrs(context.Background(), level(p.Severity), line, slog.Int("more", rest))
			return
		}
		fmt.Fprintln(w, line)
	}
}

func level(s template.Severity) slog.Level {
	if s == template.Warning {
		return slog.LevelWarn
	}
	return slog.LevelError
}

// printProblem writes one problem to w as a line, or as a JSON log record
// with its fields.
func printProblem(w io.Writer, q campaign.Problem) {
	if ll, ok := w.(*logLines); ok {
		ll.log.LogAttrs(context.Background(), level(q.Severity), q.String(), problemAttrs(q)...)
		return
	}
	fmt.Fprintln(w, q.String())
}

// problemAttrs are q's fields for a JSON log record.
func problemAttrs(q campaign.Problem) []slog.Attr {
	as := make([]slog.Attr, 0, 4)
	if q.File != "" {
		as = append(as, slog.String("file", q.File))
	}
	if q.Line > 0 {
		as = append(as, slog.Int("line", q.Line))
	}
	if q.Field != "" {
		as = append(as, slog.String("field", q.Field))
	}
	return append(as, slog.String("problem", q.Msg))
}

func plural(n int, word string) string { return campaign.Plural(n, word) }
