package cmd

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestPagingDisplay: an audience being paged is shown as a run is, a bar on
// a terminal and log lines otherwise, and ends with how many were paged.
func TestPagingDisplay(t *testing.T) {
	pages := func(paged func(int64, int64)) {
		for _, n := range []int64{10000, 20000, 25000} {
			paged(n, 25000)
		}
	}
	t.Run("log", func(t *testing.T) {
		var buf bytes.Buffer
		a := &app{log: slog.New(slog.NewTextHandler(&buf, nil))}
		paged, stop := a.pagingDisplay("followers", nil, false, 0)
		pages(paged)
		stop()
		out := buf.String()
		for _, want := range []string{
			`msg="paging audience" audience=followers paged=10000 total=25000`,
			`msg="paging audience" audience=followers paged=25000 total=25000`,
			`msg="paged audience" audience=followers openids=25000 total=25000`,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("no %q in\n%s", want, out)
			}
		}
	})
	t.Run("bar", func(t *testing.T) {
		sc, out := newTestScreen()
		var log bytes.Buffer
		a := &app{log: slog.New(slog.NewTextHandler(&log, nil))}
		paged, stop := a.pagingDisplay("tag:VIP客户", sc, true, 0)
		pages(paged)
		frames := frameRE.FindAllStringSubmatch(out.String(), -1)
		if len(frames) == 0 || !strings.Contains(frames[len(frames)-1][1], "(20000/25000) paging tag:VIP客户") {
			t.Fatalf("frames %q", frames)
		}
		stop()
		if !strings.Contains(log.String(), "openids=25000") {
			t.Errorf("no closing line: %s", log.String())
		}
	})
	t.Run("small", func(t *testing.T) {
		// Paged within one interval: only the closing line.
		var buf bytes.Buffer
		a := &app{log: slog.New(slog.NewTextHandler(&buf, nil))}
		paged, stop := a.pagingDisplay("followers", nil, false, logInterval)
		paged(20, 20)
		stop()
		if strings.Contains(buf.String(), "paging audience") || !strings.Contains(buf.String(), "openids=20") {
			t.Errorf("log %s", buf.String())
		}
	})
}

// TestSetFlag: --set is repeatable and a value keeps its commas.
func TestSetFlag(t *testing.T) {
	var f setFlag
	for _, s := range []string{"product=巧克力, 两盒", "a=b=c"} {
		if err := f.Set(s); err != nil {
			t.Fatal(err)
		}
	}
	if len(f) != 2 || f[0] != "product=巧克力, 两盒" || f[1] != "a=b=c" {
		t.Errorf("%q", f)
	}
}
