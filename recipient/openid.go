package recipient

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// OpenIDLen is the length of every openid WeChat issues to a service
// account's followers: 28 characters of A-Z, a-z, 0-9, '_' and '-'
// (reference/wechat-api.md, §6: "ocYxcuAEy30bX0NXmGn4ypqx3tI0").
const OpenIDLen = 28

// maxOpenIDLen bounds an openid under OpenIDLoose: room for other formats
// while still catching a whole row pasted into the column.
const maxOpenIDLen = 64

// OpenIDCheck is how strictly openids are checked before anything is sent.
// The zero value is OpenIDStrict.
type OpenIDCheck uint8

const (
	// OpenIDStrict accepts what WeChat issues: exactly 28 characters of
	// A-Z, a-z, 0-9, '_' and '-'. Anything else would be refused with
	// 40003 at send, one recipient at a time.
	OpenIDStrict OpenIDCheck = iota
	// OpenIDLoose accepts 1 to 64 characters of the same alphabet, for an
	// account whose openids differ (a proxy that maps its own ids, a
	// platform with longer ones). It still refuses spaces, quotes and
	// every other character a spreadsheet slips in.
	OpenIDLoose
)

// ParseOpenIDCheck parses a --openid-check or openid_check value: "strict"
// (also "") or "loose", in any case. Anything else is an error naming both.
func ParseOpenIDCheck(s string) (OpenIDCheck, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "strict":
		return OpenIDStrict, nil
	case "loose":
		return OpenIDLoose, nil
	}
	return OpenIDStrict, fmt.Errorf("unknown openid check %q (want strict or loose)", s)
}

// String returns the name ParseOpenIDCheck accepts for c.
func (c OpenIDCheck) String() string {
	switch c {
	case OpenIDStrict:
		return "strict"
	case OpenIDLoose:
		return "loose"
	}
	return fmt.Sprintf("OpenIDCheck(%d)", int(c))
}

// MarshalText returns c's name, so configuration files can hold it.
func (c OpenIDCheck) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText parses a name as ParseOpenIDCheck does, so configuration
// files can hold a check: openid_check = "loose".
func (c *OpenIDCheck) UnmarshalText(b []byte) error {
	v, err := ParseOpenIDCheck(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// openIDByte marks the bytes an openid may hold.
var openIDByte = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
	}
	return t
}()

// Check reports whether s is a plausible openid under c. It cannot tell
// whether the openid belongs to a follower (only WeChat can, with errcode
// 40003); it catches the mistakes a spreadsheet makes. The error says what
// is wrong: "empty", "longer than 64 bytes", "contains a space", "invalid
// UTF-8", "invalid character %q", or under OpenIDStrict "%d characters, not
// 28 …", with the way to accept other lengths.
//
// It runs for every row of an import, so a good openid costs one pass over
// its bytes and no allocation.
func (c OpenIDCheck) Check(s string) error {
	n := len(s)
	ok := n > 0 && n <= maxOpenIDLen && (c == OpenIDLoose || n == OpenIDLen)
	for i := 0; ok && i < n; i++ {
		ok = openIDByte[s[i]]
	}
	if ok {
		return nil
	}
	return c.explain(s)
}

// explain says why s failed Check, most telling problem first.
func (c OpenIDCheck) explain(s string) error {
	if s == "" {
		return errors.New("empty")
	}
	// A whole row pasted into the column says more by its length than by
	// the comma or space in it.
	if len(s) > maxOpenIDLen {
		return fmt.Errorf("longer than %d bytes", maxOpenIDLen)
	}
	// Spaces first: a stray space (often a trailing one, or U+3000 from a
	// Chinese IME) is the commonest mistake and deserves a plain message.
	for _, r := range s {
		if unicode.IsSpace(r) {
			return errors.New("contains a space")
		}
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return errors.New("invalid UTF-8")
		}
		if r >= utf8.RuneSelf || !openIDByte[r] {
			return fmt.Errorf("invalid character %q", r)
		}
		i += size
	}
	return fmt.Errorf("%d characters, not %d as WeChat's openids have (an account whose openids differ: --openid-check loose)",
		len(s), OpenIDLen)
}

// CheckOpenID is OpenIDStrict.Check: whether s looks like an openid WeChat
// issued.
func CheckOpenID(s string) error { return OpenIDStrict.Check(s) }

// validName reports whether s can be a template variable name:
// [A-Za-z_][A-Za-z0-9_]*. Columns and keys must be, so that every one of them
// can be referenced as ${name} and a file converts between CSV and JSONL
// without renaming.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
