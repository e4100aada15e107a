package campaign

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/megasend/megasend/recipient"
	"github.com/megasend/megasend/template"
)

// checker validates recipient rows against a template in one streaming
// pass: every problem is collected with its file and line, and the first
// rendered bodies are kept for --preview.
type checker struct {
	t        *template.Template
	name     string   // how messages name the template: its file, or its key
	required []string // t.Required(), which copies, asked once
	file     string
	errs     Problems
	warns    Problems
	preview  int
	previews [][]byte
	// renderAll renders every row, for --dry-run, which promises it; an
	// import renders only what --preview shows (see check).
	renderAll bool

	// noColumn holds the variables a CSV header lacks: reported once, from
	// the header, and not again for each row.
	noColumn map[string]bool
	// absent groups, for JSONL, the rows that lack a key the template
	// needs: one line per key names them all (see finish).
	absent []*absentKey

	// set is the variables every row shares (--set); setClash holds those
	// a CSV header has as columns too, reported once (see withSet).
	set      []recipient.Var
	setClash map[string]bool
}

// absentKey is a key missing from some JSONL rows.
type absentKey struct {
	name  string
	lines []int // the first few
	count int
}

// absentLinesShown is how many line numbers a grouped missing key lists.
const absentLinesShown = 10

func newChecker(t *template.Template, file string, preview int) *checker {
	return &checker{t: t, name: TemplateName(t), required: t.Required(), file: file,
		errs: *NewProblems(template.Error), warns: *NewProblems(template.Warning), preview: preview}
}

// TemplateName is how messages name a template: the file it was read from
// as the user gave it, else its key.
func TemplateName(t *template.Template) string {
	if t.File != "" {
		return t.File
	}
	return t.Key
}

// header checks a CSV file's columns against the template: every variable
// the template needs must be a column. A missing one is reported once, on
// the header's line, with the columns the template needs; rows are then not
// checked for it. (JSONL has no header; finish groups its missing keys.)
func (c *checker) header(columns []string) {
	if columns == nil {
		return
	}
	has := map[string]bool{"openid": true}
	for _, col := range columns {
		has[col] = true
	}
	c.setHeader(columns, has)
	var needs []string
	for _, name := range c.required {
		if name != "openid" {
			needs = append(needs, name)
		}
	}
	for _, name := range needs {
		if has[name] {
			continue
		}
		if c.noColumn == nil {
			c.noColumn = map[string]bool{}
		}
		c.noColumn[name] = true
		msg := fmt.Sprintf("missing column; template %s needs %s %s", c.name, Plural(len(needs), "the column"), strings.Join(needs, ", "))
		if i := slices.IndexFunc(columns, func(col string) bool { return strings.EqualFold(col, name) }); i >= 0 {
			msg += fmt.Sprintf(" (the file has %q: column names are case-sensitive)", columns[i])
		}
		c.errs.AddAt(c.file, 1, name, msg)
	}
}

// check validates one row: every variable the template needs is there and
// no value breaks a rule WeChat enforces. It reports
// whether the row is good.
func (c *checker) check(row recipient.Row) bool {
	before, missing := c.errs.Count, false
	for _, name := range c.required {
		if c.noColumn[name] {
			missing = true
			continue
		}
		// An empty value is as good as missing: WeChat would show a blank
		// keyword. A template that allows it says so with ${name:-default}.
		switch v, ok := row.Lookup(name); {
		case !ok:
			c.absentKey(name, row.Line)
			missing = true
		case v == "":
			c.errs.AddAt(c.file, row.Line, name, fmt.Sprintf("empty value for a variable template %s needs (a template can allow it: ${%s:-default})",
				c.name, name))
		}
	}
	if missing || c.errs.Count > before {
		return false
	}
	for _, p := range c.t.LintValues(row.Lookup) {
		q := Problem{Severity: p.Severity, File: c.file, Line: row.Line, Field: p.Path, Msg: p.Msg}
		if p.Severity == template.Error {
			c.errs.Add(q)
		} else {
			c.warns.Add(q)
		}
	}
	if c.errs.Count > before {
		return false
	}
	// Rendering cannot fail once every required variable is there: the
	// reader has refused invalid UTF-8 and NUL. So a row is rendered here
	// only for --preview; the engine renders it for real when it sends.
	if c.renderAll || len(c.previews) < c.preview {
		body, err := c.t.Render(nil, row.Lookup, "")
		if err != nil {
			c.errs.AddAt(c.file, row.Line, "", err.Error())
			return false
		}
		if len(c.previews) < c.preview {
			c.previews = append(c.previews, body)
		}
	}
	return true
}

// absentKey notes that the row on line lacks the key name.
func (c *checker) absentKey(name string, line int) {
	i := slices.IndexFunc(c.absent, func(a *absentKey) bool { return a.name == name })
	if i < 0 {
		c.absent = append(c.absent, &absentKey{name: name})
		i = len(c.absent) - 1
	}
	a := c.absent[i]
	a.count++
	if len(a.lines) < absentLinesShown {
		a.lines = append(a.lines, line)
	}
}

// finish reports what can only be said once all rows have been read:
// each key some rows lack, once, with their lines: "name: missing on 19
// lines (2, 3, 4, …)", on the line of the first.
func (c *checker) finish(rows int64) {
	for _, a := range c.absent {
		msg := fmt.Sprintf("missing variable needed by template %s", c.name)
		switch {
		case a.count > 1 && int64(a.count) == rows:
			msg = fmt.Sprintf("missing on all %d lines, and template %s needs it", a.count, c.name)
		case a.count > 1:
			lines := make([]string, len(a.lines))
			for i, l := range a.lines {
				lines[i] = strconv.Itoa(l)
			}
			if a.count > len(a.lines) {
				lines = append(lines, "…")
			}
			msg = fmt.Sprintf("missing on %d lines (%s), and template %s needs it", a.count, strings.Join(lines, ", "), c.name)
		}
		c.errs.addSummary(Problem{File: c.file, Line: a.lines[0], Field: a.name, Msg: msg})
	}
	c.absent = nil
}

// readRowsFrom is readRows from an open reader, whose file is shown as name.
func readRowsFrom(r io.Reader, name string, in Input, c *checker, row func(recipient.Row) error) (int64, error) {
	format := in.Format
	if format == recipient.FormatAuto {
		format = recipient.FormatFromPath(name)
	}
	rd, err := recipient.NewReader(r, recipient.Options{
		Name: name, Format: format, Encoding: in.Encoding, OpenIDs: in.OpenIDs,
	})
	if err != nil {
		var le *recipient.LineError
		if errors.As(err, &le) {
			c.errs.AddErr(err)
			return 0, nil
		}
		return 0, &Error{Code: Invalid, Msg: err.Error(), Err: err}
	}
	c.header(rd.Columns())
	var n int64
	for {
		r, err := rd.Next()
		if err == io.EOF {
			break
		}
		var le *recipient.LineError
		if errors.As(err, &le) {
			c.errs.AddErr(err)
			if le.Fatal {
				break
			}
			continue
		}
		if err != nil {
			return n, fmt.Errorf("read %s: %w", name, err)
		}
		n++
		r, ok := c.withSet(r)
		if ok && c.check(r) && c.errs.Count == 0 {
			if err := row(r); err != nil {
				return n, err
			}
		}
	}
	c.finish(n)
	if n == 0 && c.errs.Count == 0 {
		c.errs.Addf("%s: no recipients", name)
	}
	return n, nil
}
