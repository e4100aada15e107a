package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/rivo/uniseg"

	"github.com/megasend/megasend/wechat/wechattest"
)

// TestTerminal runs the real binary under a pseudo-terminal, as a person
// at a terminal runs it, through a batch long enough for the progress bar
// to be redrawn many times, while WeChat answers a few sends with -1 (each
// retry a log line with -v while the bar is up). What the terminal shows,
// per vterm, must have:
//   - a bar that never wraps onto a second row, at 80 or 40 columns, or
//     after the terminal is narrowed from 80 to 40 during the run;
//   - every log line whole on its own line, never glued to the bar;
//   - no bar left at the end (and nothing but a log line saying "sending"):
//     the summary follows.
func TestTerminal(t *testing.T) {
	bin := megasendBinary(t)
	for _, tc := range []struct {
		name       string
		cols       int
		resizeTo   int // after a few redraws; 0 keeps cols
		recipients int
	}{
		{name: "80", cols: 80, recipients: 600},
		{name: "40", cols: 40, recipients: 600},
		{name: "80to40", cols: 80, resizeTo: 40, recipients: 600},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			users, _ := writeUsers(t, dir, tc.recipients, 15)
			srv := startSim(t, wechattest.Options{})
			// A few -1 answers once the bar is up: with -v, each retry is
			// a log line printed while the bar is on the screen. (Not
			// 45011: the slow-down would make the run long, and the
			// description it gives is tested in cmd with the real bar.)
			var n atomic.Int64
			srv.SetHook(func(wechattest.SendRequest) *wechattest.Fault {
				if k := n.Add(1); k%100 == 50 {
					return &wechattest.Fault{Errcode: -1}
				}
				return nil
			})
			args := append([]string{"-v"}, campaignArgs(users, "tty", "--rate", "200", "--yes")...)
			run := startInPTY(t, bin, simEnv(srv.URL, filepath.Join(dir, "megasend.db")), tc.cols, args...)
			var switchAt int // where in the output the narrower bar begins
			if tc.resizeTo > 0 {
				run.waitFrames(t, 3)
				mark := run.resize(t, tc.resizeTo)
				switchAt = run.firstFrameNarrower(t, mark, tc.resizeTo)
			}
			out, code := run.wait(t)
			if code != 0 {
				t.Fatalf("exit %d; want 0; output:\n%q", code, out)
			}
			checkScreen(t, out, tc.cols, tc.resizeTo, switchAt)
		})
	}
}

// frameRE is one drawing of the bar, which progressbar starts at the
// line's start: "\r 42% [==>...] (252/600) …" ("|███   |" in its default
// theme).
var frameRE = regexp.MustCompile(`\r( *\d+% [\[|][^\r\n\x1b]*)`)

var (
	barRE = regexp.MustCompile(`\d+% [\[|]`)
	// logRE is the start of a log line: the terminal's time stamp, or
	// slog's text handler's.
	logRE = regexp.MustCompile(`\d\d:\d\d:\d\d |time=\S+ level=`)
)

// checkScreen feeds out to a terminal cols wide (resized to resizeTo at
// byte switchAt) and checks what it shows.
func checkScreen(t *testing.T, out []byte, cols, resizeTo, switchAt int) {
	t.Helper()
	frames := frameRE.FindAllSubmatchIndex(out, -1)
	if len(frames) < 5 {
		t.Errorf("the bar was drawn %d times; want many", len(frames))
	}
	vt := newVTerm(cols)
	if resizeTo > 0 {
		vt.Write(out[:switchAt])
		vt.resize(resizeTo)
		vt.Write(out[switchAt:])
	} else {
		vt.Write(out)
	}
	for _, e := range vt.errs {
		t.Errorf("unexpected output: %s", e)
	}
	for _, w := range vt.wraps {
		if barRE.MatchString(w) {
			t.Errorf("the bar wrapped onto a new row:\n%s", w)
		}
	}
	lines := vt.lines()
	screen := strings.Join(lines, "\n")
	for _, l := range lines {
		if loc := logRE.FindStringIndex(l); loc != nil && loc[0] != 0 {
			t.Errorf("a log line does not start its line:\n%s", l)
		}
		if barRE.MatchString(l) {
			t.Errorf("a bar is left on the screen:\n%s", l)
		}
		if strings.Contains(l, "sending") && !logRE.MatchString(l) {
			t.Errorf("the screen says sending after the run:\n%s", l)
		}
	}
	// Some log lines came while the bar was up, with a bar drawn before
	// and after them, or the test has not tested what it is for.
	during := 0
	if len(frames) > 0 {
		for _, loc := range logRE.FindAllIndex(out, -1) {
			if frames[0][0] < loc[0] && loc[0] < frames[len(frames)-1][0] {
				during++
			}
		}
	}
	if during == 0 {
		t.Errorf("no log line was printed while the bar was drawn")
	}
	if !strings.Contains(screen, "batch tty: done") {
		t.Errorf("no summary on the screen:\n%s", screen)
	}
	if t.Failed() {
		t.Logf("the screen at the end:\n%s", screen)
	}
}

// ptyRun is megasend running with a pseudo-terminal as its standard
// streams, and what it wrote there so far.
type ptyRun struct {
	cmd  *exec.Cmd
	ptmx *os.File
	mu   sync.Mutex
	out  []byte
	done chan struct{} // closed when the output ends
}

// startInPTY starts bin under a pseudo-terminal cols wide, or skips the
// test where this machine has none.
func startInPTY(t *testing.T, bin string, env []string, cols int, args ...string) *ptyRun {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal here (%v): the progress bar on a terminal is not tested", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: uint16(cols)}); err != nil {
		t.Fatal(err)
	}
	r := &ptyRun{cmd: exec.Command(bin, args...), ptmx: ptmx, done: make(chan struct{})}
	r.cmd.Env = env
	r.cmd.Stdin, r.cmd.Stdout, r.cmd.Stderr = tty, tty, tty
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close() // the child holds it; the output ends when the child does
	t.Cleanup(func() { r.cmd.Process.Kill() })
	go func() {
		defer close(r.done)
		buf := make([]byte, 32<<10)
		for {
			n, err := ptmx.Read(buf)
			r.mu.Lock()
			r.out = append(r.out, buf[:n]...)
			r.mu.Unlock()
			if err != nil { // EIO once the child is gone
				return
			}
		}
	}()
	return r
}

func (r *ptyRun) output() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.out)
}

// waitFrames waits until the bar has been drawn n times.
func (r *ptyRun) waitFrames(t *testing.T, n int) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if len(frameRE.FindAllIndex(r.output(), -1)) >= n {
			return
		}
	}
	t.Fatalf("the bar was not drawn %d times in a minute:\n%q", n, r.output())
}

// resize narrows the terminal and returns how much output came before.
func (r *ptyRun) resize(t *testing.T, cols int) int {
	t.Helper()
	mark := len(r.output())
	if err := pty.Setsize(r.ptmx, &pty.Winsize{Rows: 40, Cols: uint16(cols)}); err != nil {
		t.Fatal(err)
	}
	return mark
}

// firstFrameNarrower waits for the first bar drawn after byte mark that
// fits cols, and returns where it starts. Bars before it may have been
// drawn for the old width before the terminal changed; every one from it on
// is drawn for the new one.
func (r *ptyRun) firstFrameNarrower(t *testing.T, mark, cols int) int {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		out := r.output()
		for _, f := range frameRE.FindAllSubmatchIndex(out[mark:], -1) {
			if uniseg.StringWidth(string(out[mark+f[2]:mark+f[3]])) <= cols {
				return mark + f[0]
			}
		}
		select {
		case <-r.done:
			t.Fatalf("the bar was never drawn for %d columns after the terminal narrowed", cols)
		default:
		}
	}
	t.Fatalf("the bar was not drawn for %d columns within a minute of the terminal narrowing", cols)
	return 0
}

// wait waits for the run to end (two minutes at most) and returns all it
// wrote and its exit code.
func (r *ptyRun) wait(t *testing.T) ([]byte, int) {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("megasend did not finish in two minutes:\n%q", r.output())
	}
	err := r.cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return r.output(), 0
	case errors.As(err, &ee) && ee.Exited():
		return r.output(), ee.ExitCode()
	}
	t.Fatal(err)
	return nil, 0
}
