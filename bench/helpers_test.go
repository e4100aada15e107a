package main

import (
	"testing"
	"time"
)

func TestCount(t *testing.T) {
	for _, tt := range []struct {
		n    int
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1,000"}, {100000, "100,000"}, {1234567, "1,234,567"}, {-1500, "-1,500"}} {
		if got := count(tt.n); got != tt.want {
			t.Errorf("count(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

// The median is the middle round, the lower middle one for an even count,
// and never reorders the rounds the table lists.
func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		xs   []float64
		want float64
	}{{nil, 0}, {[]float64{5}, 5}, {[]float64{0.55, 0.61, 0.57}, 0.57}, {[]float64{3, 1}, 1}, {[]float64{4, 2, 3, 1}, 2}} {
		orig := append([]float64(nil), tt.xs...)
		if got := median(tt.xs); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.xs, got, tt.want)
		}
		for i := range orig {
			if tt.xs[i] != orig[i] {
				t.Fatalf("median reordered its argument: %v, was %v", tt.xs, orig)
			}
		}
	}
}

func TestEach(t *testing.T) {
	b := &bench{}
	if got := b.each([]float64{7}, "%.2f"); got != "" {
		t.Errorf("one round: %q, want nothing", got)
	}
	if got, want := b.each([]float64{16495.2, 16005, 18251}, "%.0f"), " (median of 3 rounds: 16,495, 16,005, 18,251)"; got != want {
		t.Errorf("each = %q, want %q", got, want)
	}
	if got, want := b.each([]float64{0.55, 0.61}, "%.2f"), " (median of 2 rounds: 0.55, 0.61)"; got != want {
		t.Errorf("each = %q, want %q", got, want)
	}
}

func TestPerMsgMicros(t *testing.T) {
	if got := perMsgMicros(8850*time.Millisecond, 100000); got < 88.49 || got > 88.51 {
		t.Errorf("perMsgMicros = %v, want 88.5", got)
	}
}

// A child's rusage peak is its own only above the parent's peak at exec.
func TestPeakRSS(t *testing.T) {
	for _, tt := range []struct {
		rusage, parent, sampled, want int64
		sampled2                      bool
	}{
		{rusage: 50, parent: 30, sampled: 48, want: 50},
		{rusage: 30, parent: 30, sampled: 20, want: 20, sampled2: true},
		{rusage: 30, parent: 30, sampled: 0, want: 30},
	} {
		got, isSampled := peakRSS(tt.rusage, tt.parent, tt.sampled)
		if got != tt.want || isSampled != tt.sampled2 {
			t.Errorf("peakRSS(%d, %d, %d) = %d, %v; want %d, %v", tt.rusage, tt.parent, tt.sampled, got, isSampled, tt.want, tt.sampled2)
		}
	}
}

// serve's address is read from its plain line or from its JSON log.
func TestListening(t *testing.T) {
	for _, tt := range []struct {
		line, want string
		ok         bool
	}{
		{"listening on http://127.0.0.1:4242", "http://127.0.0.1:4242", true},
		{`{"time":"2026-12-05T16:27:39Z","level":"INFO","msg":"listening on http://127.0.0.1:42881"}`, "http://127.0.0.1:42881", true},
		{`{"level":"INFO","msg":"serving","addr":"127.0.0.1:42881"}`, "", false},
		{"", "", false},
	} {
		if got, ok := listening([]byte(tt.line)); got != tt.want || ok != tt.ok {
			t.Errorf("listening(%q) = %q, %v; want %q, %v", tt.line, got, ok, tt.want, tt.ok)
		}
	}
}

// The upload's own request line is found among serve's others.
func TestRequestTook(t *testing.T) {
	log := []byte(`{"time":"2026-12-05T16:27:40Z","msg":"request","path":"/healthz","took":1000}
not json
{"time":"2026-12-05T16:27:45.071Z","msg":"request","method":"POST","path":"/v1/batches","status":201,"took":34752000}
`)
	took, at, err := requestTook(log, "/v1/batches")
	if err != nil || took != 34752*time.Microsecond || !at.Equal(time.Date(2026, 12, 5, 16, 27, 45, 71e6, time.UTC)) {
		t.Errorf("requestTook = %v, %v, %v", took, at, err)
	}
	if _, _, err := requestTook(log, "/v1/messages"); err == nil {
		t.Error("a request never logged was found")
	}
}
