package recipient

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// events reads r to the end and describes what Next returned, in order:
// "2:oABC name=\"Alice\"" for a row, "users.csv:3: ..." for an error, with
// "FATAL " in front of a fatal one. It fails the test on an error that is not
// a *LineError, and if Next does not reach io.EOF within bound calls.
func events(tb testing.TB, r *Reader, bound int) []string {
	tb.Helper()
	var got []string
	for range bound {
		row, err := r.Next()
		if err == io.EOF {
			return got
		}
		if err != nil {
			var le *LineError
			if !errors.As(err, &le) {
				tb.Fatalf("Next: error %v (%T) is not a *LineError", err, err)
			}
			if le.Fatal {
				got = append(got, "FATAL "+le.Error())
			} else {
				got = append(got, le.Error())
			}
			continue
		}
		got = append(got, rowString(row))
	}
	tb.Fatalf("Next did not return io.EOF within %d calls", bound)
	return nil
}

// rowString is a compact, unambiguous form of a row for comparisons.
func rowString(r Row) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d:%s", r.Line, r.OpenID)
	for _, v := range r.Vars {
		fmt.Fprintf(&b, " %s=%q", v.Name, v.Value)
	}
	return b.String()
}

// read opens input with opts and returns its events, or the NewReader error
// as the only event, prefixed "OPEN ". That error must be a *LineError: input
// problems always name the file and line.
func read(tb testing.TB, input string, opts Options) []string {
	tb.Helper()
	r, err := NewReader(strings.NewReader(input), opts)
	if err != nil {
		var le *LineError
		if !errors.As(err, &le) {
			tb.Fatalf("NewReader: error %v (%T) is not a *LineError", err, err)
		}
		return []string{"OPEN " + err.Error()}
	}
	return events(tb, r, len(input)+10)
}

func equalEvents(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

func diffEvents(tb testing.TB, got, want []string) {
	tb.Helper()
	if equalEvents(got, want) {
		return
	}
	tb.Errorf("got %d events:\n\t%s\nwant %d:\n\t%s",
		len(got), strings.Join(got, "\n\t"), len(want), strings.Join(want, "\n\t"))
}
