// Package policy holds the guards that keep an account from being reported
// as spam: quiet hours (nothing sent at night) and frequency caps (at most N
// messages to one person within a duration).
// It is a leaf: plain values and time arithmetic, no I/O.
package policy

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// DefaultTimeZone is the zone quiet hours are read in when the account
// names none: WeChat's users are, overwhelmingly, in China.
const DefaultTimeZone = "Asia/Shanghai"

// QuietHours is a daily window in which nothing is sent, in a time zone.
// A window may cross midnight (22:00-08:00). The zero value is no window.
type QuietHours struct {
	start, end int // seconds after midnight; they differ
	loc        *time.Location
}

// ParseQuietHours reads "HH:MM-HH:MM" in the zone named tz ("" is
// DefaultTimeZone); HH:MM:SS is read too. "" and "off" are no window.
func ParseQuietHours(s, tz string) (QuietHours, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "off") {
		return QuietHours{}, nil
	}
	if tz == "" {
		tz = DefaultTimeZone
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return QuietHours{}, fmt.Errorf("time zone %q: want an IANA name such as Asia/Shanghai", tz)
	}
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return QuietHours{}, fmt.Errorf("quiet hours %q: want HH:MM-HH:MM, such as 22:00-08:00", s)
	}
	start, err := clock(from)
	if err != nil {
		return QuietHours{}, fmt.Errorf("quiet hours %q: %w", s, err)
	}
	end, err := clock(to)
	if err != nil {
		return QuietHours{}, fmt.Errorf("quiet hours %q: %w", s, err)
	}
	if (end-start)%day == 0 {
		return QuietHours{}, fmt.Errorf("quiet hours %q: a window of no time or of the whole day; \"off\" is no window, and a day without sending is no campaign", s)
	}
	return QuietHours{start: start, end: end, loc: loc}, nil
}

// day is a day's seconds on a clock.
const day = 24 * 60 * 60

// clock reads HH:MM or HH:MM:SS (24:00 is the end of the day) as seconds
// after midnight.
func clock(s string) (int, error) {
	s = strings.TrimSpace(s)
	if len(s) != 5 && len(s) != 8 {
		return 0, fmt.Errorf("%q: want HH:MM", s)
	}
	var v [3]int
	for i := 0; i < len(s); i += 3 {
		if s[i] < '0' || s[i] > '9' || s[i+1] < '0' || s[i+1] > '9' || i+2 < len(s) && s[i+2] != ':' {
			return 0, fmt.Errorf("%q: want HH:MM", s)
		}
		v[i/3] = int(s[i]-'0')*10 + int(s[i+1]-'0')
	}
	h, m, sec := v[0], v[1], v[2]
	if m > 59 || sec > 59 || h > 24 || h == 24 && (m != 0 || sec != 0) {
		return 0, fmt.Errorf("%q: not a time of day", s)
	}
	return h*3600 + m*60 + sec, nil
}

// IsZero reports no window.
func (q QuietHours) IsZero() bool { return q.loc == nil }

// String is the window as ParseQuietHours reads it, with its zone:
// "22:00-08:00 Asia/Shanghai"; "" for none.
func (q QuietHours) String() string {
	if q.IsZero() {
		return ""
	}
	return clockText(q.start) + "-" + clockText(q.end) + " " + q.loc.String()
}

func clockText(sec int) string {
	if sec%60 == 0 {
		return fmt.Sprintf("%02d:%02d", sec/3600, sec/60%60)
	}
	return fmt.Sprintf("%02d:%02d:%02d", sec/3600, sec/60%60, sec%60)
}

// ParseStored reads what String wrote.
func ParseStored(s string) (QuietHours, error) {
	if s == "" {
		return QuietHours{}, nil
	}
	window, tz, ok := strings.Cut(s, " ")
	if !ok {
		return QuietHours{}, errors.New("stored quiet hours without a time zone: " + s)
	}
	return ParseQuietHours(window, tz)
}

// Contains reports whether t is inside the window.
func (q QuietHours) Contains(t time.Time) bool {
	if q.IsZero() {
		return false
	}
	lt := t.In(q.loc)
	m := lt.Hour()*3600 + lt.Minute()*60 + lt.Second()
	if q.start < q.end {
		return q.start <= m && m < q.end
	}
	return m >= q.start || m < q.end // across midnight
}

// Next returns, for t outside the window, when the next window starts;
// for t inside it, when it ends. Zero for no window.
func (q QuietHours) Next(t time.Time) time.Time {
	if q.IsZero() {
		return time.Time{}
	}
	edge := q.start
	if q.Contains(t) {
		edge = q.end
	}
	lt := t.In(q.loc)
	midnight := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, q.loc)
	for d := 0; d < 3; d++ {
		// AddDate and a wall clock, not 24h steps: a zone with daylight
		// saving time has days of 23 and 25 hours.
		at := time.Date(midnight.Year(), midnight.Month(), midnight.Day()+d, edge/3600, edge/60%60, edge%60, 0, q.loc)
		if at.After(t) {
			return at
		}
	}
	return time.Time{} // unreachable: an edge comes within two days
}
