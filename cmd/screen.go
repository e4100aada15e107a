package cmd

import (
	"bytes"
	"io"
	"os"
	"sync"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// screen is stderr when it is a terminal. Log lines and the progress bar
// share it, and one mutex orders them: a log line clears the bar's line,
// prints, and the bar is drawn again below it, so neither is ever glued to
// the other. The bar is always one line shorter than the terminal is wide,
// read again at every redraw because the terminal may be resized during a
// run; where even a short bar does not fit, none is drawn.
type screen struct {
	mu   sync.Mutex
	out  io.Writer  // the terminal
	cols func() int // the terminal's width now

	bar     *progressbar.ProgressBar // nil when no bar is shown
	total   int64                    // the bar's end
	done    int64                    // where the bar is
	status  barStatus                // what the bar says besides its count
	drawn   bool                     // the bar is on the screen
	partial []byte                   // the start of a line written while the bar is shown
}

// newScreen returns a screen on out, a terminal.
func newScreen(out io.Writer) *screen {
	return &screen{out: out, cols: func() int { return termWidth(out) }}
}

// termWidth is the width of the terminal w writes to, or 80 when it cannot
// be known. It is one ioctl, cheap enough for every redraw.
func termWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 {
			return cols
		}
	}
	// progressbar's own guess for a writer that is not a terminal, so the
	// bar and its description agree.
	return 80
}

// Write writes whole lines above the bar. The start of a line is held
// until its end arrives (or the bar goes), so the bar is never drawn in
// the middle of someone else's line.
func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bar == nil {
		return s.out.Write(p)
	}
	s.partial = append(s.partial, p...)
	end := bytes.LastIndexByte(s.partial, '\n') + 1
	if end == 0 {
		return len(p), nil
	}
	if s.drawn {
		_ = s.bar.Clear()
		s.drawn = false
	}
	_, err := s.out.Write(s.partial[:end])
	s.partial = append(s.partial[:0], s.partial[end:]...)
	s.redraw()
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// startBar shows a bar that ends at total, done of which are finished
// already. It draws through progressbar: the bar fills the terminal's
// width (OptionFullWidth reads it at every render), and ANSI erase-line
// codes replace the lines of blanks progressbar otherwise overwrites an
// old bar with, which wrap onto a new line once the terminal is narrower
// than the widest bar drawn. The bar is cleared when it is full: the
// summary printed next says the same, in full.
func (s *screen) startBar(total, done int64, st barStatus) {
	if total <= 0 {
		return // progressbar refuses an empty bar; there is nothing to show
	}
	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(s.out),
		progressbar.OptionFullWidth(),
		progressbar.OptionUseANSICodes(true),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(false), // the description has the time left, from the ledger
		progressbar.OptionShowDescriptionAtLineEnd(),
		// ASCII, not progressbar's "█": a terminal set for CJK text draws
		// ambiguous-width characters (█, ·) two columns wide, and the
		// bar would wrap there.
		progressbar.OptionSetTheme(progressbar.ThemeASCII),
	)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bar, s.total, s.done, s.status, s.drawn = bar, total, done, st, false
	s.redraw()
}

// updateBar moves the bar to done and has it say st.
func (s *screen) updateBar(done int64, st barStatus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done, s.status = done, st
	s.redraw()
}

// stopBar removes the bar from the screen and prints any line held back.
func (s *screen) stopBar() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bar != nil {
		if s.drawn {
			_ = s.bar.Clear()
		}
		_ = s.bar.Exit()
		s.bar, s.drawn = nil, false
	}
	if len(s.partial) > 0 {
		_, _ = s.out.Write(s.partial)
		s.partial = s.partial[:0]
	}
}

// redraw draws the bar at the terminal's width now. It is called with
// s.mu held.
func (s *screen) redraw() {
	if s.bar == nil {
		return
	}
	desc, ok := s.status.fit(s.cols(), s.total)
	if !ok {
		if s.drawn {
			_ = s.bar.Clear()
			s.drawn = false
		}
		return
	}
	// The description first: it is fitted to the width now, and the count
	// beside it is never wider than the one it was fitted with.
	s.bar.Describe(desc)
	if s.bar.State().CurrentNum != s.done {
		_ = s.bar.Set64(s.done)
	}
	s.drawn = true
	if s.bar.IsFinished() {
		// progressbar cleared the full bar itself (OptionClearOnFinish).
		_ = s.bar.Exit()
		s.bar, s.drawn = nil, false
	}
}
