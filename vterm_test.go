package main

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// vterm is the smallest terminal that can tell a good progress bar from a
// bad one: a cursor on an endless column of rows, carriage return, line
// feed, backspace, erase-in-line, and autowrap as xterm does it (a
// character printed past the last column goes to the start of the next
// row; a row filled exactly does not wrap until one more character comes).
// Wide characters take two columns, as uniseg measures them. Every other
// escape sequence is an error: megasend should write none.
type vterm struct {
	cols     int
	rows     []vrow
	row, col int
	wraps    []string // the text of each row at the moment it wrapped
	errs     []string
	held     []byte // an escape sequence or a character not yet complete
}

type vrow struct {
	cells []string // one per column; "" is blank, a wide character's second column holds "\x00"
	cont  bool     // this row continues the one above: it was reached by autowrap
}

func newVTerm(cols int) *vterm { return &vterm{cols: cols, rows: make([]vrow, 1)} }

// resize changes the width, as a terminal resized by its user; rows
// already drawn stay as they are.
func (t *vterm) resize(cols int) {
	t.cols = cols
	t.col = min(t.col, cols)
}

func (t *vterm) Write(p []byte) (int, error) {
	s := string(t.held) + string(p)
	t.held = nil
	for len(s) > 0 {
		if s[0] == 0x1b {
			n := t.escape(s)
			if n == 0 { // incomplete: wait for the rest
				t.held = []byte(s)
				break
			}
			s = s[n:]
			continue
		}
		if !utf8.FullRuneInString(s) {
			t.held = []byte(s)
			break
		}
		g, rest, w, _ := uniseg.FirstGraphemeClusterInString(s, -1)
		s = rest
		switch g {
		case "\r":
			t.col = 0
		case "\n", "\r\n":
			if g == "\r\n" {
				t.col = 0
			}
			t.down(false)
		case "\b":
			t.col = max(t.col-1, 0)
		case "\t":
			t.col = min((t.col/8+1)*8, t.cols-1)
		default:
			if w == 0 {
				continue // other control characters: nothing to see
			}
			t.print(g, w)
		}
	}
	return len(p), nil
}

func (t *vterm) down(wrapped bool) {
	t.row++
	if t.row == len(t.rows) {
		t.rows = append(t.rows, vrow{cont: wrapped})
	}
}

func (t *vterm) print(g string, w int) {
	if t.col+w > t.cols {
		t.wraps = append(t.wraps, t.text(t.row))
		t.col = 0
		t.down(true)
	}
	r := &t.rows[t.row]
	for len(r.cells) < t.col+w {
		r.cells = append(r.cells, "")
	}
	r.cells[t.col] = g
	if w == 2 {
		r.cells[t.col+1] = "\x00"
	}
	t.col += w
}

// escape handles the escape sequence at the start of s and returns its
// length, or 0 if s ends before it does.
func (t *vterm) escape(s string) int {
	if len(s) < 2 {
		return 0
	}
	if s[1] != '[' {
		t.errs = append(t.errs, fmt.Sprintf("escape sequence %q", s[:2]))
		return 2
	}
	for i := 2; i < len(s); i++ {
		c := s[i]
		if c >= 0x40 && c <= 0x7e {
			params := s[2:i]
			switch c {
			case 'K':
				t.eraseLine(params)
			case 'm': // colours: nothing to see here
			default:
				t.errs = append(t.errs, fmt.Sprintf("escape sequence %q", s[:i+1]))
			}
			return i + 1
		}
	}
	return 0
}

func (t *vterm) eraseLine(params string) {
	r := &t.rows[t.row]
	from, to := 0, len(r.cells)
	switch params {
	case "", "0":
		from = t.col
	case "1":
		to = min(t.col+1, len(r.cells))
	case "2":
	default:
		t.errs = append(t.errs, fmt.Sprintf("erase in line with %q", params))
	}
	for i := from; i < to; i++ {
		r.cells[i] = ""
	}
}

// text is row i as a string, without trailing blanks; a row that autowrap
// continued keeps the spaces written at its end, which are part of the text.
func (t *vterm) text(i int) string {
	cells := t.rows[i].cells
	continued := i+1 < len(t.rows) && t.rows[i+1].cont
	if continued {
		for len(cells) > 0 && cells[len(cells)-1] == "" {
			cells = cells[:len(cells)-1]
		}
	}
	var b strings.Builder
	for _, c := range cells {
		switch c {
		case "":
			b.WriteByte(' ')
		case "\x00":
		default:
			b.WriteString(c)
		}
	}
	if continued {
		return b.String()
	}
	return strings.TrimRight(b.String(), " ")
}

// lines is what the screen shows, each row that autowrap continued joined
// to the one before it.
func (t *vterm) lines() []string {
	var out []string
	for i := range t.rows {
		if t.rows[i].cont && len(out) > 0 {
			out[len(out)-1] += t.text(i)
			continue
		}
		out = append(out, t.text(i))
	}
	return out
}

func TestVTerm(t *testing.T) {
	tests := []struct {
		name      string
		cols      int
		in        string
		lines     []string
		wraps     int
		wantError bool
	}{
		{name: "Redraw", cols: 10, in: "\r 10% bar\x1b[0K\r 20% b\x1b[0K", lines: []string{" 20% b"}},
		{name: "ExactWidthDoesNotWrap", cols: 5, in: "abcde\rxy", lines: []string{"xycde"}},
		{name: "OneMoreWraps", cols: 5, in: "abcdef", lines: []string{"abcdef"}, wraps: 1},
		{name: "WrapAtBlank", cols: 5, in: "abcd ef", lines: []string{"abcd ef"}, wraps: 1},
		{name: "WideWrapsEarly", cols: 5, in: "abcd用", lines: []string{"abcd用"}, wraps: 1},
		{name: "EraseAndLog", cols: 20, in: "\r 50% [==]\x1b[0K\x1b[2K\r12:00:00 hi\r\n\r 60% [==]\x1b[0K",
			lines: []string{"12:00:00 hi", " 60% [==]"}},
		{name: "GluedLog", cols: 20, in: "\r 50% [==] a\x1b[0Ktime=1\n", lines: []string{" 50% [==] atime=1", ""}},
		{name: "SplitEscape", cols: 20, in: "abc\x1b", lines: []string{"abc"}},
		{name: "UnknownEscape", cols: 20, in: "\x1b[2J", lines: []string{""}, wantError: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vt := newVTerm(tt.cols)
			for i := range len(tt.in) { // byte by byte: sequences split across reads
				vt.Write([]byte(tt.in[i : i+1]))
			}
			if got := vt.lines(); strings.Join(got, "|") != strings.Join(tt.lines, "|") {
				t.Errorf("lines %q, want %q", got, tt.lines)
			}
			if len(vt.wraps) != tt.wraps {
				t.Errorf("%d wraps (%q), want %d", len(vt.wraps), vt.wraps, tt.wraps)
			}
			if (len(vt.errs) > 0) != tt.wantError {
				t.Errorf("errors %q, want any: %v", vt.errs, tt.wantError)
			}
		})
	}
}
