package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/megasend/megasend/recipient"
	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/template"
)

// checker validates recipient rows against a template in one streaming
// pass: every problem is collected with its file and line, and the first
// rendered bodies are kept for --preview.
type checker struct {
	t        *template.Template
	required []string // t.Required(), which copies, asked once
	file     string
	errs     problems
	warns    problems
	preview  int
	previews [][]byte
	// renderAll renders every row, for --dry-run, which promises it; an
	// import renders only what --preview shows (see check).
	renderAll bool
}

func newChecker(t *template.Template, file string, preview int) *checker {
	return &checker{t: t, required: t.Required(), file: file, errs: problems{kind: "error"}, warns: problems{kind: "warning"}, preview: preview}
}

// check validates one row: every variable the template needs is there and
// no value breaks a rule WeChat enforces. It reports
// whether the row is good.
func (c *checker) check(row recipient.Row) bool {
	before := c.errs.count
	for _, name := range c.required {
		// An empty value is as good as missing: WeChat would show a blank
		// keyword. A template that allows it says so with ${name:-default}.
		switch v, ok := row.Lookup(name); {
		case !ok:
			c.errs.add("%s:%d: %s: missing variable needed by template %s", c.file, row.Line, name, c.t.Key)
		case v == "":
			c.errs.add("%s:%d: %s: empty value for a variable template %s needs (a template can allow it: ${%s:-default})",
				c.file, row.Line, name, c.t.Key, name)
		}
	}
	if c.errs.count > before {
		return false
	}
	for _, p := range c.t.LintValues(row.Lookup) {
		if p.Severity == template.Error {
			c.errs.add("%s:%d: %s: %s", c.file, row.Line, p.Path, p.Msg)
		} else {
			c.warns.add("%s:%d: %s: %s", c.file, row.Line, p.Path, p.Msg)
		}
	}
	if c.errs.count > before {
		return false
	}
	// Rendering cannot fail once every required variable is there: the
	// reader has refused invalid UTF-8 and NUL. So a row is rendered here
	// only for --preview; the engine renders it for real when it sends.
	if c.renderAll || len(c.previews) < c.preview {
		body, err := c.t.Render(nil, row.Lookup, "")
		if err != nil {
			c.errs.add("%s:%d: %v", c.file, row.Line, err)
			return false
		}
		if len(c.previews) < c.preview {
			c.previews = append(c.previews, body)
		}
	}
	return true
}

// readRows streams src through the recipient reader and calls row for every
// good row. Row-level problems are collected in c; a read error that is not
// the input's fault is returned.
func readRows(src *source, encoding string, c *checker, row func(recipient.Row) error) (int64, error) {
	f, err := os.Open(src.path)
	if err != nil {
		return 0, fmt.Errorf("users file: %w", err)
	}
	defer f.Close()
	rd, err := recipient.NewReader(f, recipient.Options{
		Name: src.display, Format: recipient.FormatFromPath(src.display), Encoding: encoding,
	})
	if err != nil {
		var le *recipient.LineError
		if errors.As(err, &le) {
			c.errs.addErr(err)
			return 0, nil
		}
		return 0, usageError(err)
	}
	var n int64
	for {
		r, err := rd.Next()
		if err == io.EOF {
			break
		}
		var le *recipient.LineError
		if errors.As(err, &le) {
			c.errs.addErr(err)
			if le.Fatal {
				break
			}
			continue
		}
		if err != nil {
			return n, fmt.Errorf("read %s: %w", src.display, err)
		}
		n++
		if c.check(r) && c.errs.count == 0 {
			if err := row(r); err != nil {
				return n, err
			}
		}
	}
	if n == 0 && c.errs.count == 0 {
		c.errs.add("%s: no recipients", src.display)
	}
	return n, nil
}

// importBatch streams the source into batch b. On any input problem the
// batch is deleted again and a usage error returned: nothing is sent and
// nothing of the bad input remains.
func (a *app) importBatch(ctx context.Context, db *store.DB, b store.Batch, t *template.Template, src *source, encoding string, preview int) (store.ImportResult, error) {
	im, err := db.NewImporter(ctx, b)
	if err != nil {
		return store.ImportResult{}, err
	}
	c := newChecker(t, src.display, preview)
	var vars []byte
	_, err = readRows(src, encoding, c, func(r recipient.Row) error {
		vars = recipient.AppendVarsJSON(vars[:0], r.Vars)
		return im.Add(ctx, int64(r.Line), r.OpenID, string(vars))
	})
	if !a.quiet {
		c.warns.print(a.streams.Err)
	}
	a.printPreviews(c.previews)
	if err != nil && ctx.Err() != nil {
		// Interrupted, not rejected: the batch stays "importing", and the same
		// command (or --resume) imports it again from the start.
		im.Abort()
		fmt.Fprintf(a.streams.Err, "batch %s: interrupted while importing; run the same command again, or: %s\n",
			b.Name, a.resumeCommand(b.Name, false))
		return store.ImportResult{}, withCode(exitResumable, nil)
	}
	if err != nil || c.errs.count > 0 {
		im.Abort()
		if derr := db.DeleteBatch(context.WithoutCancel(ctx), b.ID); derr != nil {
			return store.ImportResult{}, errors.Join(err, derr)
		}
		if err != nil {
			return store.ImportResult{}, err
		}
		c.errs.print(a.streams.Err)
		return store.ImportResult{}, c.errs.inputError(src.display)
	}
	return im.Finish(ctx)
}
