package cmd

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/megasend/megasend/sender"
)

// A pace change is logged as what happened: WeChat asking with 45011 is
// not megasend trying a slower pace because sends answered -1.
func TestLogEvent_Pace(t *testing.T) {
	for _, tt := range []struct {
		name    string
		ev      sender.Event
		want    []string
		notWant []string
	}{
		{name: "45011", ev: sender.Event{Kind: sender.EventPace, Limit: 500, Slower: true},
			want: []string{"level=WARN", "WeChat asked to slow down (45011)", "msgs_per_s=500.0"}},
		{name: "BusyTrial", ev: sender.Event{Kind: sender.EventPace, Limit: 1414.2, Slower: true, Trial: true},
			want:    []string{"level=INFO", "answered -1", "trying a slower pace", "msgs_per_s=1414.2"},
			notWant: []string{"asked", "45011"}},
		{name: "SpeedUp", ev: sender.Event{Kind: sender.EventPace, Limit: 1000},
			want: []string{"speeding up", "msgs_per_s=1000.0"}, notWant: []string{"slow"}},
		{name: "Back", ev: sender.Event{Kind: sender.EventPace},
			want: []string{"back to the configured rate"}, notWant: []string{"slow"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			a := &app{log: slog.New(slog.NewTextHandler(&buf, nil))}
			a.logEvent(tt.ev)
			got := buf.String()
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("log %q lacks %q", got, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(got, w) {
					t.Errorf("log %q says %q", got, w)
				}
			}
		})
	}
}
