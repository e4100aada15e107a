package campaign

import (
	"errors"
	"fmt"
)

// Code classifies an Error by what a face does about it: the CLI maps it to
// an exit code, the HTTP service to a status. The codes follow
// benbjohnson/wtf's: a few, each a decision the caller makes.
type Code string

// The codes.
const (
	// Invalid input or a request that cannot be carried out as given: a
	// recipient file with problems (Error.Problems), a template lint
	// refuses, an account WeChat refuses. Nothing was recorded or sent.
	Invalid Code = "invalid"
	// NotFound: no batch or template by that name.
	NotFound Code = "not_found"
	// Conflict: a batch by that name exists with other content.
	Conflict Code = "conflict"
	// Locked: another live process holds the batch. The same request works
	// once it is done.
	Locked Code = "locked"
	// Unavailable: WeChat could not be reached before anything was sent.
	Unavailable Code = "unavailable"
	// Stopped: the work stopped before its end and can be resumed (an
	// import interrupted by a signal).
	Stopped Code = "stopped"
	// Internal: everything else (the database, a bug).
	Internal Code = "internal"
)

// Error is a lifecycle error a face acts on by its Code.
type Error struct {
	Code Code
	// Msg is the whole message, the cause's text included where it says
	// something: Error returns it as it is.
	Msg string
	// Field names what was wrong in the request, where one thing was.
	Field string
	// Problems lists what was wrong with the input, line by line (Invalid).
	Problems *Problems
	// Err is the cause, for errors.Is and errors.As.
	Err error
}

func (e *Error) Error() string {
	if e.Msg == "" {
		return errText(e.Err)
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an Error with code and a formatted message; errors.Is and
// errors.As find the arguments of its %w verbs.
func Errorf(code Code, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Code: code, Msg: err.Error(), Err: err}
}

// ErrorCode returns the Code of the first *Error in err's chain: "" for nil,
// Internal for an error that is not one.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// ErrorProblems returns the input problems err carries, or nil.
func ErrorProblems(err error) *Problems {
	var e *Error
	if errors.As(err, &e) {
		return e.Problems
	}
	return nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
