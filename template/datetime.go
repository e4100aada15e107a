package template

// The time and date category types take free text in a few shapes:
// "15:01", "2019年10月1日 15:01", "2019-10-01 15:01", and ranges of them
// joined by "~" ("2019年10月1日 15:01~16:00"). These helpers recognise
// those shapes; they check ranges of fields (month 1–12), not calendars.

import (
	"strconv"
	"strings"
)

// isRange reports whether s is one point accepted by first, or two points
// joined by "~" (or the full-width "～") with the second accepted by second.
func isRange(s string, first, second func(string) bool) bool {
	s = strings.ReplaceAll(s, "～", "~")
	a, b, isPair := strings.Cut(s, "~")
	if !isPair {
		return first(strings.TrimSpace(s))
	}
	return first(strings.TrimSpace(a)) && second(strings.TrimSpace(b))
}

// isTimePoint accepts a 24-hour clock time, optionally after a date.
func isTimePoint(s string) bool {
	if isClock(s) {
		return true
	}
	d, c, ok := splitDateClock(s)
	return ok && isDate(d) && isClock(c)
}

// isDatePoint accepts a date, optionally followed by a clock time.
func isDatePoint(s string) bool {
	if isDate(s) {
		return true
	}
	d, c, ok := splitDateClock(s)
	return ok && isDate(d) && isClock(c)
}

// splitDateClock splits "DATE CLOCK" at the last space, or "…日CLOCK" right
// after 日, since Chinese writers often leave the space out.
func splitDateClock(s string) (date, clock string, ok bool) {
	if i := strings.LastIndexByte(s, ' '); i >= 0 {
		return strings.TrimRight(s[:i], " "), s[i+1:], true
	}
	if i := strings.Index(s, "日"); i >= 0 {
		return s[:i+len("日")], s[i+len("日"):], true
	}
	return "", "", false
}

// isClock accepts H:MM and H:MM:SS with hours 0–23.
func isClock(s string) bool {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return false
	}
	if !field(parts[0], 1, 2, 0, 23) || !field(parts[1], 2, 2, 0, 59) {
		return false
	}
	return len(parts) == 2 || field(parts[2], 2, 2, 0, 59)
}

// isDate accepts 2019年10月1日, 10月1日, 2019-10-01, 2019/10/01 and 2019.10.01.
func isDate(s string) bool {
	if rest, ok := strings.CutSuffix(s, "日"); ok {
		ym, day, ok := strings.Cut(rest, "月")
		if !ok || !field(day, 1, 2, 1, 31) {
			return false
		}
		if year, month, ok := strings.Cut(ym, "年"); ok {
			return field(year, 4, 4, 1, 9999) && field(month, 1, 2, 1, 12)
		}
		return field(ym, 1, 2, 1, 12)
	}
	for _, sep := range []string{"-", "/", "."} {
		if parts := strings.Split(s, sep); len(parts) == 3 {
			return field(parts[0], 4, 4, 1, 9999) && field(parts[1], 1, 2, 1, 12) && field(parts[2], 1, 2, 1, 31)
		}
	}
	return false
}

// field reports whether s is minLen to maxLen ASCII digits worth lo to hi.
func field(s string, minLen, maxLen, lo, hi int) bool {
	if len(s) < minLen || len(s) > maxLen || !allDigits(s) {
		return false
	}
	n, err := strconv.Atoi(s)
	return err == nil && lo <= n && n <= hi
}
