package policy

import (
	"strings"
	"testing"
	"time"
)

func TestParseCap(t *testing.T) {
	for _, tt := range []struct {
		in, want, err string
		per           time.Duration
	}{
		{in: "1/24h", want: "1/24h", per: 24 * time.Hour},
		{in: " 3 / 7d ", want: "3/7d", per: 7 * Day},
		{in: "2/1d", want: "2/24h", per: Day},
		{in: "2/1d12h", want: "2/36h", per: 36 * time.Hour},
		{in: "5/90m", want: "5/1h30m", per: 90 * time.Minute},
		{in: "1/2h0m", want: "1/2h", per: 2 * time.Hour},
		{in: "1/30s", want: "1/30s", per: 30 * time.Second},
		{in: "off", want: ""},
		{in: "", want: ""},
		{in: "0/24h", err: "want a whole number of messages from 1"},
		{in: "-1/24h", err: "want a whole number of messages from 1"},
		{in: "x/1h", err: `the count "x"`},
		{in: "1/", err: "no duration after the slash"},
		{in: "1", err: "want N/DURATION"},
		{in: "1/0s", err: "want at least a second"},
		{in: "1/0d", err: "want at least a second"},
		{in: "1/-1h", err: "want a duration such as"},
		{in: "1/-1d", err: "want a duration such as"},
		{in: "1/1d-1h", err: "want a duration such as"},
		{in: "1/100ms", err: "want at least a second"},
		{in: "1/24x", err: "want a duration such as"},
		{in: "1/3651d", err: "at most 3650d"},
		{in: "1/3650d1h", err: "at most 3650d"},
		{in: "1/d", err: "want a duration such as"},
	} {
		c, err := ParseCap(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want one saying %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || c.String() != tt.want || c.Per != tt.per {
			t.Errorf("%q: %q (%v), %v; want %q (%v)", tt.in, c, c.Per, err, tt.want, tt.per)
		}
	}
}

func TestCap_Since(t *testing.T) {
	c, _ := ParseCap("1/24h")
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	if got := c.Since(now); !got.Equal(now.Add(-24 * time.Hour)) {
		t.Errorf("since %v", got)
	}
}

func FuzzParseCap(f *testing.F) {
	for _, s := range []string{"1/24h", "3/7d", "0/24h", "1/", "x/1h", "2/1d12h", "1/-1h", "off", "1/3650d", "9/1.5h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCap(s)
		if err != nil || c.IsZero() {
			return
		}
		if c.N < 1 || c.Per < time.Second || c.Per > maxCapDays*Day {
			t.Fatalf("%q: accepted %d/%v", s, c.N, c.Per)
		}
		back, err := ParseCap(c.String())
		if err != nil || back != c {
			t.Fatalf("%q: %q reads back as %+v, %v", s, c, back, err)
		}
	})
}
