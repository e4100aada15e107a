package policy

import (
	"strings"
	"testing"
	"time"
)

func TestParseQuietHours(t *testing.T) {
	for _, tt := range []struct {
		in, tz, want, err string
	}{
		{"22:00-08:00", "", "22:00-08:00 Asia/Shanghai", ""},
		{" 12:30 - 13:30 ", "UTC", "12:30-13:30 UTC", ""},
		{"00:00-23:59", "UTC", "00:00-23:59 UTC", ""},
		{"12:00:30-12:01", "UTC", "12:00:30-12:01 UTC", ""},
		{"12:00:60-12:01", "UTC", "", "not a time of day"},
		{"12:0a-12:01", "UTC", "", "want HH:MM"},
		{"00:00-24:00", "UTC", "", "the whole day"},
		{"off", "", "", ""},
		{"", "", "", ""},
		{"22:00", "", "", "want HH:MM-HH:MM"},
		{"22-08", "", "", "want HH:MM"},
		{"25:00-08:00", "", "", "not a time of day"},
		{"22:60-08:00", "", "", "not a time of day"},
		{"08:00-08:00", "", "", "no time"},
		{"22:00-08:00", "Mars/Olympus", "", "IANA name"},
	} {
		q, err := ParseQuietHours(tt.in, tt.tz)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want one saying %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || q.String() != tt.want {
			t.Errorf("%q: %q, %v; want %q", tt.in, q, err, tt.want)
		}
		if back, err := ParseStored(q.String()); err != nil || back.String() != q.String() {
			t.Errorf("%q: stored %q reads back as %q, %v", tt.in, q, back, err)
		}
	}
}

func TestQuietHours_ContainsNext(t *testing.T) {
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	night, _ := ParseQuietHours("22:00-08:00", "")
	lunch, _ := ParseQuietHours("12:00-13:30", "")
	for _, tt := range []struct {
		q      QuietHours
		t      string
		inside bool
		next   string
	}{
		{night, "2026-03-01 21:59", false, "2026-03-01 22:00"},
		{night, "2026-03-01 22:00", true, "2026-03-02 08:00"},
		{night, "2026-03-02 03:00", true, "2026-03-02 08:00"},
		{night, "2026-03-02 08:00", false, "2026-03-02 22:00"},
		{lunch, "2026-03-01 11:00", false, "2026-03-01 12:00"},
		{lunch, "2026-03-01 12:45", true, "2026-03-01 13:30"},
		{lunch, "2026-03-01 13:30", false, "2026-03-02 12:00"},
		{QuietHours{}, "2026-03-01 03:00", false, ""},
	} {
		now := at(tt.t)
		if got := tt.q.Contains(now); got != tt.inside {
			t.Errorf("%s at %s: inside %v", tt.q, tt.t, got)
		}
		next := tt.q.Next(now)
		if tt.next == "" {
			if !next.IsZero() {
				t.Errorf("no window: next %v", next)
			}
			continue
		}
		if !next.Equal(at(tt.next)) {
			t.Errorf("%s at %s: next %v, want %s", tt.q, tt.t, next.In(shanghai), tt.next)
		}
	}
	// Another zone: 22:00-08:00 in UTC is 06:00-16:00 in Shanghai.
	utc, _ := ParseQuietHours("22:00-08:00", "UTC")
	if !utc.Contains(at("2026-03-01 07:00")) || utc.Contains(at("2026-03-01 17:00")) {
		t.Error("the window is not read in its own zone")
	}
}

func FuzzParseQuietHours(f *testing.F) {
	for _, s := range []string{"22:00-08:00", "off", "00:00-24:00", "9:00-10:00", "23:59-00:00", "-", ""} {
		f.Add(s)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuietHours(s, "UTC")
		if err != nil || q.IsZero() {
			return
		}
		back, err := ParseStored(q.String())
		if err != nil || back.String() != q.String() {
			t.Fatalf("%q: %q reads back as %q, %v", s, q, back, err)
		}
		next := q.Next(now)
		if !next.After(now) || next.Sub(now) > 24*time.Hour {
			t.Fatalf("%q: next edge %v after %v", s, next, now)
		}
		if q.Contains(next.Add(-time.Second)) == q.Contains(next) {
			t.Fatalf("%q: %v is no edge of the window", s, next)
		}
	})
}
