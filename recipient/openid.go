package recipient

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// maxOpenIDLen bounds an openid. Real ones are 28 bytes; 64 leaves room for
// other appids' formats while still catching a whole row pasted into the
// column.
const maxOpenIDLen = 64

// CheckOpenID reports whether s is a plausible WeChat openid: 1 to 64 bytes of
// ASCII letters, digits, '_' and '-'. It cannot tell whether the openid
// belongs to a follower (only WeChat can, with errcode 40003); it catches the
// mistakes a spreadsheet makes. The error says what is wrong: "empty",
// "longer than 64 bytes", "contains a space", "invalid UTF-8" or
// "invalid character %q".
func CheckOpenID(s string) error {
	if s == "" {
		return errors.New("empty")
	}
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
		if !isOpenIDChar(r) {
			return fmt.Errorf("invalid character %q", r)
		}
		i += size
	}
	return nil
}

func isOpenIDChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-'
}

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
