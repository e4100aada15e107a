package wechattest

// JSON strings for decodeSendFast: the subset whose decoding is the same
// as encoding/json's, byte for byte. Invalid UTF-8 and surrogate escapes
// are refused rather than repaired, because encoding/json repairs them
// (U+FFFD, pairing) in ways not worth reproducing for bodies no real client
// sends.

import (
	"unicode/utf16"
	"unicode/utf8"
)

// str reads a string value into a new string, which does not alias the
// body.
func (s *sendScanner) str() (string, bool) {
	start := s.i
	if !s.consume('"') {
		return "", false
	}
	s.plain()
	if s.i < len(s.b) && s.b[s.i] == '"' {
		v := string(s.b[start+1 : s.i])
		s.i++
		return v, true
	}
	// Escapes (or an error): decode again from the quote, into a buffer.
	s.i = start
	buf, ok := s.appendStr(nil)
	return string(buf), ok
}

// appendStr reads a string value and appends its decoded text to dst.
func (s *sendScanner) appendStr(dst []byte) ([]byte, bool) {
	if !s.consume('"') {
		return dst, false
	}
	for {
		start := s.i
		s.plain()
		dst = append(dst, s.b[start:s.i]...)
		if s.i == len(s.b) {
			return dst, false
		}
		switch s.b[s.i] {
		case '"':
			s.i++
			return dst, true
		case '\\':
			var ok bool
			if dst, ok = s.escape(dst); !ok {
				return dst, false
			}
		default: // a control character or invalid UTF-8
			return dst, false
		}
	}
}

// plain advances over bytes that stand for themselves inside a string:
// printable ASCII but '"' and '\\', and valid UTF-8 sequences. It stops at
// anything else.
func (s *sendScanner) plain() {
	// Locals, not s.i: this loop runs for every byte of every string.
	b, i := s.b, s.i
	for i < len(b) {
		c := b[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\' {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			break
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			break
		}
		i += n
	}
	s.i = i
}

// escape reads the escape at s.i, a backslash, and appends what it stands
// for to dst.
func (s *sendScanner) escape(dst []byte) ([]byte, bool) {
	if s.i+1 >= len(s.b) {
		return dst, false
	}
	c := s.b[s.i+1]
	s.i += 2
	switch c {
	case '"', '\\', '/':
		return append(dst, c), true
	case 'b':
		return append(dst, '\b'), true
	case 'f':
		return append(dst, '\f'), true
	case 'n':
		return append(dst, '\n'), true
	case 'r':
		return append(dst, '\r'), true
	case 't':
		return append(dst, '\t'), true
	case 'u':
		r, ok := s.hex4()
		if !ok || utf16.IsSurrogate(r) {
			return dst, false
		}
		return utf8.AppendRune(dst, r), true
	}
	return dst, false
}

// hex4 reads the four hex digits of a \u escape.
func (s *sendScanner) hex4() (rune, bool) {
	if len(s.b)-s.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range s.b[s.i : s.i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	s.i += 4
	return r, true
}
