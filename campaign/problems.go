package campaign

// Problems in the input, found in one streaming pass and kept the same way
// for every face: each says where (file and line), in which field, and
// what is wrong. The CLI prints them one to a line, "file:line: field:
// problem"; the HTTP service returns them as JSON.

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/megasend/megasend/recipient"
	"github.com/megasend/megasend/template"
)

// MaxShown is how many problems a Problems keeps; the rest are only
// counted. A million bad rows must not mean a million lines of output or of
// memory.
const MaxShown = 20

// Problem is one finding: where, in which field, what is wrong.
type Problem struct {
	Severity template.Severity // template.Error or template.Warning
	File     string            // "" for a problem that has no file
	Line     int               // 0 when the problem has no line
	Field    string            // the column, key or JSON path; "" for the whole line
	Msg      string
}

// String formats p as one line: "file:line: field: problem", with
// "warning: " after the location for a warning (the location first, as
// compilers and editors expect).
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(p.Line))
		}
		b.WriteString(": ")
	}
	if p.Severity == template.Warning {
		b.WriteString("warning: ")
	}
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// LintProblem is a template's own problem, placed in file (the template's
// file, or its key for a stored one).
func LintProblem(file string, p template.Problem) Problem {
	return Problem{Severity: p.Severity, File: file, Line: p.Line, Field: p.Path, Msg: p.Msg}
}

// Problems collects problems of one severity, keeping the first MaxShown.
// With Emit set, every problem is handed to it as it is found instead (lint
// shows them all).
type Problems struct {
	Severity template.Severity
	Shown    []Problem
	Count    int
	Emit     func(Problem)
}

// NewProblems returns an empty list of problems of severity s.
func NewProblems(s template.Severity) *Problems { return &Problems{Severity: s} }

// Rest is how many problems were counted and not kept.
func (p *Problems) Rest() int {
	if p.Emit != nil {
		return 0
	}
	return p.Count - len(p.Shown)
}

// Add records q, in this list's severity unless q has one.
func (p *Problems) Add(q Problem) {
	if q.Severity == 0 {
		q.Severity = p.Severity
	}
	p.Count++
	switch {
	case p.Emit != nil:
		p.Emit(q)
	case len(p.Shown) < MaxShown:
		p.Shown = append(p.Shown, q)
	}
}

// addSummary records q, a problem that sums up many rows (a key missing on
// every line): it is kept even when the list is full, in place of the last
// single-row problem, which is still counted.
func (p *Problems) addSummary(q Problem) {
	if p.Emit == nil && len(p.Shown) >= MaxShown {
		p.Shown = p.Shown[:MaxShown-1]
	}
	p.Add(q)
}

// AddAt records a problem at file:line, in field.
func (p *Problems) AddAt(file string, line int, field, msg string) {
	p.Add(Problem{File: file, Line: line, Field: field, Msg: msg})
}

// Addf records a problem that has no place in a file, such as a batch's
// stored row.
func (p *Problems) Addf(format string, args ...any) {
	p.Add(Problem{Msg: fmt.Sprintf(format, args...)})
}

// AddErr records an error: a recipient file's *recipient.LineError keeps
// its place.
func (p *Problems) AddErr(err error) {
	var le *recipient.LineError
	if errors.As(err, &le) {
		p.AddAt(le.File, le.Line, le.Field, le.Msg)
		return
	}
	p.Addf("%v", err)
}

// Sorted returns the kept problems in line order within each file: a
// summary found at the end of a file names the line its rows start on.
func (p *Problems) Sorted() []Problem {
	s := slices.Clone(p.Shown)
	slices.SortStableFunc(s, func(a, b Problem) int {
		if a.File != b.File {
			return 0
		}
		return a.Line - b.Line
	})
	return s
}

// ErrInvalidInput is the cause of an Error that rejects an input file for
// the problems it carries.
var ErrInvalidInput = errors.New("invalid input")

// inputError rejects the file named file for the problems in p.
func inputError(file string, p *Problems) *Error {
	return &Error{Code: Invalid, Problems: p, Err: ErrInvalidInput,
		Msg: fmt.Sprintf("%s: %d %s; nothing was sent: %v", file, p.Count, Plural(p.Count, "problem"), ErrInvalidInput)}
}

// Plural returns word for one, its plural otherwise.
func Plural(n int, word string) string {
	if n == 1 {
		return word
	}
	if strings.HasSuffix(word, "s") {
		return word + "es"
	}
	return word + "s"
}
