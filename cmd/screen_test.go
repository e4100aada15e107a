package cmd

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rivo/uniseg"
)

// The description keeps what matters most that fits, in a fixed order,
// and leaves the bar an eighth of the line.
func TestBarStatus_Fit(t *testing.T) {
	running := barStatus{sent: 252, pending: 348, rate: 200, state: "sending"}
	waiting := running
	waiting.state, waiting.rate = "waiting for rate limit", 12.5
	failing := running
	failing.failed = 3
	for _, tt := range []struct {
		name   string
		st     barStatus
		cols   int
		want   string
		wantOK bool
	}{
		{name: "Wide", st: running, cols: 120, wantOK: true,
			want: "sent 252, failed 0, pending 348, 200 msgs/s, 2s left"},
		{name: "80", st: running, cols: 80, wantOK: true, want: "sent 252, failed 0, 200 msgs/s, 2s left"},
		{name: "40", st: running, cols: 40, wantOK: true, want: "200 msgs/s"},
		{name: "Waiting80", st: waiting, cols: 80, wantOK: true,
			want: "12 msgs/s, 28s left, waiting for rate limit"},
		{name: "Waiting40", st: waiting, cols: 40, wantOK: true, want: "waiting"},
		{name: "Failures40", st: failing, cols: 40, wantOK: true, want: "failed 3"},
		{name: "NoRateYet", st: barStatus{pending: 600}, cols: 80, wantOK: true, want: "sent 0, failed 0, pending 600"},
		{name: "Narrowest", st: running, cols: 25, wantOK: true, want: ""},
		{name: "TooNarrow", st: running, cols: 24},
		// 11 columns, 6 characters: 10 columns of room keep its first word.
		{name: "CJKCountsDouble", st: barStatus{state: "等待 限速中"}, cols: 35, wantOK: true, want: "等待"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.st.fit(tt.cols, 600)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("fit(%d) = %q, %v; want %q, %v", tt.cols, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// At every width, the line progressbar draws with the fitted description
// (its bar filling the rest) is one column short of the terminal and keeps
// a bar at least four columns wide.
func TestBarStatus_FitEveryWidth(t *testing.T) {
	sts := []barStatus{
		{sent: 99999, failed: 99999, pending: 99999, rate: 99999, state: "waiting for rate limit"},
		{sent: 1, pending: 1, rate: 0.1, state: "等待微信限速恢复中"},
	}
	for _, total := range []int64{1, 600, 1_000_000} {
		for _, st := range sts {
			for cols := 1; cols <= 300; cols++ {
				desc, ok := st.fit(cols, total)
				if !ok {
					if cols > 40 {
						t.Errorf("no bar at %d columns", cols)
					}
					continue
				}
				count := len(fmt.Sprintf("(%d/%d)", total, total))
				if bar := cols - 1 - (5 + 1 + 2 + 1 + count + 1 + uniseg.StringWidth(desc) + 1); bar < 4 {
					t.Errorf("%d columns, total %d: description %q leaves the bar %d columns", cols, total, desc, bar)
				}
			}
		}
	}
}

func TestRecentRate(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var r recentRate
	if got := r.add(t0, 100); got != 0 {
		t.Fatalf("one reading: %v msgs/s", got)
	}
	// 100 msgs/s for 10 s, then 10 msgs/s: within the window, the bar
	// shows the new pace, not the run's average.
	done := int64(100)
	for i := 1; i <= 20; i++ {
		done += 50
		r.add(t0.Add(time.Duration(i)*500*time.Millisecond), done)
	}
	var got float64
	for i := 21; i <= 40; i++ {
		done += 5
		got = r.add(t0.Add(time.Duration(i)*500*time.Millisecond), done)
	}
	if got != 10 {
		t.Errorf("after 10 s at 10 msgs/s: %v msgs/s, want 10", got)
	}
	if len(r.samples) > 12 {
		t.Errorf("%d readings kept for a 5 s window of readings every 0.5 s", len(r.samples))
	}
}

var frameRE = regexp.MustCompile(`\r( *\d+% \[[^\r\n\x1b]*)\x1b\[0K`)

// newTestScreen is a screen on a buffer. progressbar takes a writer that
// is not a terminal to be 80 columns wide; so does the screen, unless told
// otherwise.
func newTestScreen() (*screen, *bytes.Buffer) {
	var b bytes.Buffer
	return newScreen(&b), &b
}

func TestScreen_BarFitsWidth(t *testing.T) {
	s, out := newTestScreen()
	s.startBar(600, 0, barStatus{pending: 600})
	for done := int64(0); done < 600; done += 37 {
		s.updateBar(done, barStatus{sent: done, pending: 600 - done, rate: float64(done), state: "waiting for rate limit"})
	}
	frames := frameRE.FindAllStringSubmatch(out.String(), -1)
	if len(frames) < 17 {
		t.Fatalf("%d frames drawn:\n%q", len(frames), out)
	}
	for _, f := range frames {
		if w := uniseg.StringWidth(f[1]); w != 79 {
			t.Errorf("frame %d columns wide at 80, want 79: %q", w, f[1])
		}
	}
}

// A log line clears the bar, prints on its own line, and the bar is drawn
// again below it. A line that comes in pieces is printed whole.
func TestScreen_LogLine(t *testing.T) {
	s, out := newTestScreen()
	s.startBar(600, 0, barStatus{pending: 600})
	s.updateBar(100, barStatus{sent: 100, pending: 500, rate: 50})
	out.Reset()
	fmt.Fprint(s, "14:03:05 warning: ")
	if out.Len() > 0 {
		t.Fatalf("half a line was printed beside the bar: %q", out)
	}
	fmt.Fprint(s, "slow down\n14:03:06 two\nthree")
	want := "\x1b[2K\r14:03:05 warning: slow down\n14:03:06 two\n\r  16% ["
	if !strings.HasPrefix(out.String(), want) || !strings.HasSuffix(out.String(), "\x1b[0K") {
		t.Errorf("got  %q\nwant %q…\\x1b[0K", out, want)
	}
	out.Reset()
	s.stopBar()
	if got := out.String(); got != "\x1b[2K\rthree" {
		t.Errorf("stopping printed %q, want the bar cleared and the held line", got)
	}
	out.Reset()
	fmt.Fprint(s, "after\n")
	if got := out.String(); got != "after\n" {
		t.Errorf("without a bar: %q", got)
	}
}

// Where even a short bar does not fit, none is drawn, and the one drawn
// before is cleared; a wider terminal brings it back.
func TestScreen_TooNarrow(t *testing.T) {
	s, out := newTestScreen()
	cols := 80
	s.cols = func() int { return cols }
	s.startBar(600, 0, barStatus{pending: 600})
	cols = 20
	out.Reset()
	s.updateBar(100, barStatus{sent: 100, pending: 500})
	if got := out.String(); got != "\x1b[2K\r" {
		t.Errorf("narrowed: %q, want the bar cleared", got)
	}
	out.Reset()
	fmt.Fprint(s, "line\n")
	if got := out.String(); got != "line\n" {
		t.Errorf("a log line with no room for a bar: %q", got)
	}
	cols = 80
	out.Reset()
	s.updateBar(200, barStatus{sent: 200, pending: 400})
	if !frameRE.MatchString(out.String()) {
		t.Errorf("widened: %q, want the bar again", out)
	}
}

// A full bar clears itself (the summary follows), and the screen lets go
// of it.
func TestScreen_Finished(t *testing.T) {
	s, out := newTestScreen()
	s.startBar(600, 590, barStatus{sent: 590, pending: 10})
	s.updateBar(600, barStatus{sent: 600})
	if !strings.HasSuffix(out.String(), "\x1b[2K\r") {
		t.Errorf("the full bar was not cleared: %q", out)
	}
	out.Reset()
	fmt.Fprint(s, "summary\n")
	s.stopBar()
	if got := out.String(); got != "summary\n" {
		t.Errorf("after the full bar: %q", got)
	}
}

// The bar's redraws and log lines from other goroutines never interleave:
// every log line starts where the bar was cleared, or after another line.
func TestScreen_Concurrent(t *testing.T) {
	s, out := newTestScreen()
	s.startBar(1000, 0, barStatus{pending: 1000})
	var wg sync.WaitGroup
	wg.Go(func() {
		for done := range int64(999) {
			s.updateBar(done, barStatus{sent: done, pending: 1000 - done, rate: 100, state: "waiting for rate limit"})
		}
	})
	for g := range 4 {
		wg.Go(func() {
			for i := range 100 {
				fmt.Fprintf(s, "14:03:05 worker %d line %d\n", g, i)
			}
		})
	}
	wg.Wait()
	s.stopBar()
	logLine := regexp.MustCompile(`(.?)14:03:05 worker \d line \d+\n`)
	lines := logLine.FindAllStringSubmatch(out.String(), -1)
	if len(lines) != 400 {
		t.Fatalf("%d whole log lines, want 400", len(lines))
	}
	for _, m := range lines {
		if m[1] != "\r" && m[1] != "\n" {
			t.Fatalf("a log line follows %q, not a cleared bar or another line", m[1])
		}
	}
}
