package cmd

// template lint: the template's own problems, then every recipient of a
// users file rendered and checked, one problem per line with file and line.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/megasend/megasend/recipient"
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

func (a *app) runTemplateLint(ctx context.Context, ref, users, encoding string) error {
	t, err := a.lintTarget(ctx, ref)
	if err != nil {
		return err
	}
	var n lintCounts
	for _, p := range t.Lint() {
		n.add(p.Severity)
		fmt.Fprintf(a.streams.Out, "%s: %s\n", placeOf(ref, p.Line), p)
	}
	rows := 0
	if users != "" {
		if rows, err = a.lintUsers(t, users, encoding, &n); err != nil {
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
	db, err := a.openStoreToRead(ctx)
	if _, ok := noStore(err); ok {
		return nil, errNoTemplate(ref)
	}
	if err != nil {
		return nil, err
	}
	defer db.Close()
	st, err := getTemplate(ctx, db, ref)
	if err != nil {
		return nil, err
	}
	t, err := template.Parse(st.Key, st.Title, st.Body)
	if err != nil {
		return nil, usageErrorf("template lint: %s: %w", ref, err)
	}
	return t, nil
}

// lintUsers renders every recipient of users with t, without sending, and
// prints each row's problems with its file and line.
func (a *app) lintUsers(t *template.Template, users, encoding string, n *lintCounts) (int, error) {
	var in io.Reader = a.streams.In
	if users != "-" {
		f, err := os.Open(users)
		if err != nil {
			return 0, usageErrorf("template lint: users file: %w", err)
		}
		defer f.Close()
		in = f
	}
	rd, err := recipient.NewReader(in, recipient.Options{Name: users, Format: recipient.FormatFromPath(users), Encoding: encoding})
	if err != nil {
		var le *recipient.LineError
		if errors.As(err, &le) {
			n.add(template.Error)
			a.printLineError(le)
			return 0, nil
		}
		return 0, usageErrorf("template lint: %w", err)
	}
	out := a.streams.Out
	required := t.Required()
	var buf []byte
	rows := 0
	for {
		row, err := rd.Next()
		if err == io.EOF {
			return rows, nil
		}
		var le *recipient.LineError
		if errors.As(err, &le) {
			n.add(template.Error)
			a.printLineError(le)
			if le.Fatal {
				return rows, nil
			}
			continue
		}
		if err != nil {
			return rows, fmt.Errorf("template lint: %w", err)
		}
		rows++
		where := placeOf(displayName(users), row.Line)
		missing := false
		for _, name := range required {
			if _, ok := row.Lookup(name); !ok {
				missing = true
				n.add(template.Error)
				fmt.Fprintf(out, "%s: error: missing variable %q\n", where, name)
			}
		}
		if missing {
			continue
		}
		if buf, err = t.Render(buf[:0], row.Lookup, ""); err != nil {
			n.add(template.Error)
			fmt.Fprintf(out, "%s: error: %v\n", where, err)
			continue
		}
		ps := t.LintRendered(buf)
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].Severity > ps[j].Severity })
		for _, p := range ps {
			n.add(p.Severity)
			fmt.Fprintf(out, "%s: %s\n", where, p)
		}
	}
}

// printLineError prints a recipient file problem in lint's format.
func (a *app) printLineError(le *recipient.LineError) {
	msg := le.Msg
	if le.Field != "" {
		msg = le.Field + ": " + msg
	}
	fmt.Fprintf(a.streams.Out, "%s: error: %s\n", placeOf(le.File, le.Line), msg)
}

// displayName is how lint names the users file, as recipient errors do.
func displayName(users string) string {
	if users == "-" {
		return "stdin"
	}
	return users
}
