package cmd

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxShown is how many input problems are printed before the rest are
// only counted.
const maxShown = 20

// problems collects input errors (or warnings) in one pass, keeping the
// first few for display: a million bad rows must not mean a million lines
// of output or of memory.
type problems struct {
	kind  string // "error" or "warning"
	shown []string
	count int
}

func (p *problems) add(format string, args ...any) {
	p.count++
	if len(p.shown) < maxShown {
		p.shown = append(p.shown, fmt.Sprintf(format, args...))
	}
}

func (p *problems) addErr(err error) { p.add("%v", err) }

// print writes the problems to w, one per line, then the count of the rest.
func (p *problems) print(w io.Writer) {
	for _, s := range p.shown {
		fmt.Fprintf(w, "%s: %s\n", p.kind, s)
	}
	if rest := p.count - len(p.shown); rest > 0 {
		fmt.Fprintf(w, "... and %d more %ss\n", rest, p.kind)
	}
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
