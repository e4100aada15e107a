package recipient

import (
	"fmt"
	"strconv"
	"strings"
)

// LineError is a problem with one place in a recipient file. Every error a
// Reader returns, other than io.EOF, is a *LineError, so a caller can list
// problems as "users.csv:12: openid: empty" and count them.
//
// Fatal reports that reading cannot continue past this error: the next call
// to Next returns io.EOF. A non-fatal LineError concerns one row only; the
// caller keeps calling Next to collect the remaining problems in the same
// pass, which is how "all problems, with line numbers" is reported.
type LineError struct {
	File  string // the file name as shown to the user: "-" is "stdin"
	Line  int    // 1-based; the header is line 1
	Field string // the column or key concerned, or "" for the whole line
	Msg   string
	Fatal bool

	err error // the underlying cause, for read errors; nil for validation problems
}

// Error formats the problem as "file:line: field: msg", omitting the field
// when it is empty.
func (e *LineError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(e.Line))
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the read error behind a fatal LineError, so errors.Is can
// see, for instance, context.Canceled from a cancellable input. It returns
// nil for validation problems.
func (e *LineError) Unwrap() error { return e.err }

// errorf builds a row-level (non-fatal) LineError.
func errorf(file string, line int, field, format string, args ...any) *LineError {
	return &LineError{File: file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// fatalf builds a LineError after which the stream cannot be resynchronised.
func fatalf(file string, line int, cause error, format string, args ...any) *LineError {
	return &LineError{File: file, Line: line, Msg: fmt.Sprintf(format, args...), Fatal: true, err: cause}
}

// displayName is how a file is named in errors: stdin has no name of its own.
func displayName(name string) string {
	switch name {
	case "-":
		return "stdin"
	case "":
		return "input"
	}
	return name
}
