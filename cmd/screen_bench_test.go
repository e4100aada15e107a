package cmd

import (
	"io"
	"log/slog"
	"testing"
)

// BenchmarkScreenLogLine is what a log line costs on a terminal with the
// bar up (cleared, printed, redrawn at the width read again) against the
// same line with no bar: the ratio is the price of keeping them apart.
func BenchmarkScreenLogLine(b *testing.B) {
	for _, bar := range []bool{false, true} {
		name := "NoBar"
		if bar {
			name = "Bar"
		}
		b.Run(name, func(b *testing.B) {
			s := newScreen(io.Discard)
			if bar {
				s.startBar(1_000_000, 1000, barStatus{sent: 1000, pending: 999_000, rate: 200, state: "sending"})
			}
			l := slog.New(newTermHandler(s, nil))
			b.ReportAllocs()
			for b.Loop() {
				l.Info("retrying", "line", 151, "err", "errcode -1: system error")
			}
		})
	}
}
