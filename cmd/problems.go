package cmd

// Problems in the input, reported the same way by campaign and template
// lint: one line each, "file:line: field: problem", and for a warning
// "file:line: warning: field: problem" (the location first, as compilers
// and editors expect; a warning says so after it, an error needs no word).
// With --log-format json each is one record whose fields are file, line
// (a number), field and problem.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/megasend/megasend/recipient"
	"github.com/megasend/megasend/template"
)

// maxShown is how many input problems are printed before the rest are
// only counted.
const maxShown = 20

// problem is one finding: where, in which field, what is wrong.
type problem struct {
	severity template.Severity // template.Error or template.Warning
	file     string            // "" for a problem that has no file
	line     int               // 0 when the problem has no line
	field    string            // the column, key or JSON path; "" for the whole line
	msg      string
}

// String formats p as one line: "file:line: field: problem", with
// "warning: " after the location for a warning.
func (p problem) String() string {
	var b strings.Builder
	if p.file != "" {
		b.WriteString(p.file)
		if p.line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(p.line))
		}
		b.WriteString(": ")
	}
	if p.severity == template.Warning {
		b.WriteString("warning: ")
	}
	if p.field != "" {
		b.WriteString(p.field)
		b.WriteString(": ")
	}
	b.WriteString(p.msg)
	return b.String()
}

// attrs are p's fields for a JSON log record.
func (p problem) attrs() []slog.Attr {
	as := make([]slog.Attr, 0, 4)
	if p.file != "" {
		as = append(as, slog.String("file", p.file))
	}
	if p.line > 0 {
		as = append(as, slog.Int("line", p.line))
	}
	if p.field != "" {
		as = append(as, slog.String("field", p.field))
	}
	return append(as, slog.String("problem", p.msg))
}

// lintProblem is a template's own problem, placed in file (the template's
// file, or its key for a stored one).
func lintProblem(file string, p template.Problem) problem {
	return problem{severity: p.Severity, file: file, line: p.Line, field: p.Path, msg: p.Msg}
}

// problems collects input errors (or warnings) in one pass, keeping the
// first few for display: a million bad rows must not mean a million lines
// of output or of memory. With emit set, every problem is handed to it as
// it is found instead (template lint prints them all).
type problems struct {
	kind  string // "error" or "warning"
	shown []problem
	count int
	emit  func(problem)
}

// addProblem records p.
func (p *problems) addProblem(q problem) {
	if q.severity == 0 {
		q.severity = template.Error
		if p.kind == "warning" {
			q.severity = template.Warning
		}
	}
	p.count++
	switch {
	case p.emit != nil:
		p.emit(q)
	case len(p.shown) < maxShown:
		p.shown = append(p.shown, q)
	}
}

// addSummary records q, a problem that sums up many rows (a key missing on
// every line): it is shown even when the list is full, in place of the
// last single-row problem, which is still counted.
func (p *problems) addSummary(q problem) {
	if p.emit == nil && len(p.shown) >= maxShown {
		p.shown = p.shown[:maxShown-1]
	}
	p.addProblem(q)
}

// addAt records a problem of this list's kind at file:line, in field.
func (p *problems) addAt(file string, line int, field, msg string) {
	p.addProblem(problem{file: file, line: line, field: field, msg: msg})
}

// add records a problem that has no place in a file, such as a batch's
// stored row.
func (p *problems) add(format string, args ...any) {
	p.addProblem(problem{msg: fmt.Sprintf(format, args...)})
}

// addErr records an error: a recipient file's *LineError keeps its place.
func (p *problems) addErr(err error) {
	var le *recipient.LineError
	if errors.As(err, &le) {
		p.addAt(le.File, le.Line, le.Field, le.Msg)
		return
	}
	p.add("%v", err)
}

// print writes the problems to w, one per line, then the count of the rest.
// When w is the JSON log (--log-format json), each is a record with its
// fields instead.
func (p *problems) print(w io.Writer) {
	// In line order: a summary found at the end of the file names the
	// line where its rows start.
	slices.SortStableFunc(p.shown, func(a, b problem) int {
		if a.file != b.file {
			return 0
		}
		return a.line - b.line
	})
	for _, q := range p.shown {
		printProblem(w, q)
	}
	if rest := p.count - len(p.shown); rest > 0 && p.emit == nil {
		line := fmt.Sprintf("... and %d more %ss", rest, p.kind)
		if ll, ok := w.(*logLines); ok {
			ll.log.LogAttrs(context.Background(), p.level(), line, slog.Int("more", rest))
			return
		}
		fmt.Fprintln(w, line)
	}
}

func (p *problems) level() slog.Level {
	if p.kind == "warning" {
		return slog.LevelWarn
	}
	return slog.LevelError
}

// printProblem writes one problem to w as a line, or as a JSON log record
// with its fields.
func printProblem(w io.Writer, q problem) {
	if ll, ok := w.(*logLines); ok {
		level := slog.LevelError
		if q.severity == template.Warning {
			level = slog.LevelWarn
		}
		ll.log.LogAttrs(context.Background(), level, q.String(), q.attrs()...)
		return
	}
	fmt.Fprintln(w, q.String())
}

// errInvalidInput is the error of a rejected recipient file; the problems
// were printed already.
var errInvalidInput = errors.New("invalid input")

// inputError is a usage error summarising the problems of a file.
func (p *problems) inputError(file string) error {
	return usageError(fmt.Errorf("%s: %d %s; nothing was sent: %w", file, p.count, plural(p.count, "problem"), errInvalidInput))
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	if strings.HasSuffix(word, "s") {
		return word + "es"
	}
	return word + "s"
}
