package cmd

import (
	"strings"
	"testing"
	"time"
)

func TestParseAge(t *testing.T) {
	day := 24 * time.Hour
	for _, tt := range []struct {
		in   string
		want time.Duration
		err  string
	}{
		{in: "30d", want: 30 * day},
		{in: "2w", want: 14 * day},
		{in: "1.5d", want: 36 * time.Hour},
		{in: "36h", want: 36 * time.Hour},
		{in: "90m", want: 90 * time.Minute},
		{in: "0s", want: 0},
		{in: "0d", want: 0},
		{in: "", err: "want an age"},
		{in: "d", err: "want an age"},
		{in: "30", err: "want an age"},
		{in: "30dw", err: "want an age"},
		{in: "-3d", err: "want an age"},
		{in: "-1h", err: "must not be negative"},
		{in: "1e9w", err: "want an age"},
		{in: "soon", err: "want an age"},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseAge(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("parseAge(%q) = %v, %v; want an error with %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseAge(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

// FuzzParseAge: any input gives an error or an age that is not negative,
// and that age written as Go writes durations reads back the same.
func FuzzParseAge(f *testing.F) {
	for _, s := range []string{"30d", "2w", "1.5d", "36h", "-1h", "d", "1e9w", "0.000001d", "9223372036s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseAge(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("parseAge(%q) = %v, negative", s, d)
		}
		if again, err := parseAge(d.String()); err != nil || again != d {
			t.Fatalf("parseAge(%q) = %v; parseAge(%q) = %v, %v", s, d, d.String(), again, err)
		}
	})
}

func TestFmtBytes(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		want string
	}{{0, "0 B"}, {999, "999 B"}, {1000, "1.0 kB"}, {49152, "49.2 kB"}, {247914496, "247.9 MB"}, {3 << 40, "3.3 TB"}} {
		if got := fmtBytes(tt.n); got != tt.want {
			t.Errorf("fmtBytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
