package cmd

// template lint: the template's own problems, then every recipient of a
// users file rendered and checked as a campaign checks it, one problem per
// line in the campaign's format, "file:line: field: problem".

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/megasend/megasend/campaign"
	"github.com/megasend/megasend/template"
)

// lintCounts tallies what lint printed.
type lintCounts struct{ errors, warnings int }

func (n *lintCounts) add(s template.Severity) {
	if s == template.Error {
		n.errors++
	} else {
		n.warnings++
	}
}

func (a *app) runTemplateLint(ctx context.Context, ref, users string, in campaign.Input) error {
	t, err := a.lintTarget(ctx, ref)
	if err != nil {
		return err
	}
	var n lintCounts
	for _, p := range t.Lint() {
		n.add(p.Severity)
		fmt.Fprintln(a.streams.Out, campaign.LintProblem(ref, p))
	}
	rows := 0
	if users != "" {
		if rows, err = a.lintUsers(t, users, in, &n); err != nil {
			return err
		}
		fmt.Fprintf(a.streams.Err, "%d %s checked\n", rows, plural(rows, "recipient"))
	}
	if n.errors > 0 {
		return usageErrorf("template lint: %d %s, %d %s", n.errors, plural(n.errors, "error"), n.warnings, plural(n.warnings, "warning"))
	}
	if n.warnings > 0 {
		fmt.Fprintf(a.streams.Err, "%d %s, no errors\n", n.warnings, plural(n.warnings, "warning"))
	}
	return nil
}

// lintTarget loads ref by the rule of campaign --template.
func (a *app) lintTarget(ctx context.Context, ref string) (*template.Template, error) {
	if template.IsPath(ref) {
		data, err := os.ReadFile(ref)
		if err != nil {
			return nil, usageErrorf("template lint: %w", err)
		}
		t, err := template.ParseFile(ref, data)
		if err != nil {
			return nil, usageErrorf("template lint: %w", err)
		}
		return t, nil
	}
	svc, closeDB, err := a.templates(ctx, true)
	if _, ok := noStore(err); ok {
		return nil, errNoTemplate(ref)
	}
	if err != nil {
		return nil, err
	}
	defer closeDB()
	st, err := getTemplate(ctx, svc, ref)
	if err != nil {
		return nil, err
	}
	if st.ParseErr != nil {
		return nil, usageErrorf("template lint: %s: %w", ref, st.ParseErr)
	}
	return st.Parsed, nil
}

// lintUsers renders every recipient of users with t, without sending, and
// prints each problem as it is found. The checks are the campaign's own
// (campaign.Lint), so lint passes exactly the files a campaign accepts.
func (a *app) lintUsers(t *template.Template, users string, in campaign.Input, n *lintCounts) (int, error) {
	var r io.Reader = a.streams.In
	if users != "-" {
		f, err := os.Open(users)
		if err != nil {
			return 0, usageErrorf("template lint: users file: %w", err)
		}
		defer f.Close()
		r = f
	}
	print := func(q campaign.Problem) { fmt.Fprintln(a.streams.Out, q) }
	c, err := campaign.Lint(r, displayName(users), t, in, print)
	n.errors += c.Errors
	n.warnings += c.Warnings
	if err != nil {
		return int(c.Rows), fmt.Errorf("template lint: %w", err)
	}
	return int(c.Rows), nil
}

// displayName is how lint names the users file, as recipient errors do.
func displayName(users string) string {
	if users == "-" {
		return "stdin"
	}
	return users
}
