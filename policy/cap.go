package policy

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Day is the unit a cap's duration may be written in beyond Go's own
// ("7d"): a plain 24 hours, not a calendar day, so that a cap means the
// same length of time whatever the time zone or the season.
const Day = 24 * time.Hour

// maxCapDays bounds a cap's duration: ten years is longer than anyone's
// ledger, and keeps the arithmetic on times far from overflowing.
const maxCapDays = 3650

// Cap is a frequency cap: at most N messages to one person within Per.
// The zero value is no cap.
type Cap struct {
	N   int
	Per time.Duration
}

// ParseCap reads "N/DURATION": a positive count, a slash, and a positive
// duration in Go's syntax (90m, 24h, 1h30m) or in days (7d, 1d12h). ""
// and "off" are no cap. Errors say what was wanted.
func ParseCap(s string) (Cap, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "off") {
		return Cap{}, nil
	}
	count, per, ok := strings.Cut(s, "/")
	if !ok {
		return Cap{}, fmt.Errorf("cap %q: want N/DURATION, such as 1/24h or 3/7d", s)
	}
	n, err := strconv.Atoi(strings.TrimSpace(count))
	if err != nil || n < 1 || n > 1_000_000 {
		return Cap{}, fmt.Errorf("cap %q: the count %q: want a whole number of messages from 1 to 1000000", s, strings.TrimSpace(count))
	}
	d, err := capDuration(strings.TrimSpace(per))
	if err != nil {
		return Cap{}, fmt.Errorf("cap %q: %w", s, err)
	}
	return Cap{N: n, Per: d}, nil
}

// capDuration reads a duration of at least a second: Go's syntax, after an
// optional whole number of days ("3d", "1d12h").
func capDuration(s string) (time.Duration, error) {
	const want = "want a duration such as 90m, 24h or 7d"
	if s == "" {
		return 0, fmt.Errorf("no duration after the slash: %s", want)
	}
	var d time.Duration
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		days, err := strconv.Atoi(s[:i])
		if err != nil || days < 0 || s[0] == '+' || s[0] == '-' {
			return 0, fmt.Errorf("duration %q: %s", s, want)
		}
		if days > maxCapDays {
			return 0, fmt.Errorf("duration %q: at most %dd", s, maxCapDays)
		}
		d, s = time.Duration(days)*Day, s[i+1:]
	}
	if s != "" {
		rest, err := time.ParseDuration(s)
		if err != nil || rest < 0 || s[0] == '+' || s[0] == '-' {
			return 0, fmt.Errorf("duration %q: %s", s, want)
		}
		if rest > maxCapDays*Day-d {
			return 0, fmt.Errorf("duration %q: at most %dd", s, maxCapDays)
		}
		d += rest
	}
	if d < time.Second {
		return 0, fmt.Errorf("duration of %v: want at least a second (%s)", d, want)
	}
	return d, nil
}

// IsZero reports no cap.
func (c Cap) IsZero() bool { return c.N == 0 }

// String is the cap as ParseCap reads it: "1/24h", "3/7d", "2/1h30m"; ""
// for none.
func (c Cap) String() string {
	if c.IsZero() {
		return ""
	}
	return strconv.Itoa(c.N) + "/" + c.PerText()
}

// PerText is the cap's duration as String writes it: "24h", "7d".
func (c Cap) PerText() string { return durationText(c.Per) }

// durationText writes whole days of two or more as days ("7d"), anything
// else as Go does without its trailing zero units ("24h", "1h30m").
func durationText(d time.Duration) string {
	if d%Day == 0 && d/Day > 1 {
		return strconv.FormatInt(int64(d/Day), 10) + "d"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// UnmarshalText reads a cap as ParseCap does: a configuration file's
// `cap = "1/24h"`.
func (c *Cap) UnmarshalText(b []byte) error {
	v, err := ParseCap(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// MarshalText writes the cap as String does.
func (c Cap) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// Since is the start of the cap's window for a send at now: messages
// received at or after it count.
func (c Cap) Since(now time.Time) time.Time { return now.Add(-c.Per) }
