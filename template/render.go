package template

// Rendering runs once per message, so Parse does the work up front: the
// body becomes a list of segments, where literal JSON (keys, punctuation,
// fixed strings, numbers) is stored already encoded and only strings with
// placeholders are left as holes. A render is then appends plus one JSON
// string escape per value, with no allocation when dst has room.

import (
	"fmt"
	"unicode/utf8"
)

type segKind uint8

const (
	segLit        segKind = iota // append lit
	segHole                      // append the string built from hole's parts
	segCMID                      // the template's client_msg_id value follows in skip segments
	segCMIDAppend                // end of the top-level object: where a missing client_msg_id goes
)

type segment struct {
	kind segKind
	lit  []byte
	hole *hole
	skip int
}

// hole is a string value with placeholders.
type hole struct {
	path  string // for errors: data.keyword1.value
	parts []part
}

// part is literal text or a variable; lit and def are escaped already.
type part struct {
	lit    []byte
	name   string
	def    []byte
	hasDef bool
}

// MissingVarError reports a variable a recipient has no value for, used
// without a default.
type MissingVarError struct {
	Var  string
	Path string // where it is used, e.g. data.keyword1.value
}

// Error formats e as `data.keyword1.value: missing variable "name"`.
func (e *MissingVarError) Error() string {
	return fmt.Sprintf("%s: missing variable %q", e.Path, e.Var)
}

// InvalidValueError reports a value that is not valid UTF-8, which JSON
// cannot carry unchanged.
type InvalidValueError struct {
	Var  string
	Path string
}

// Error formats e with the path and the variable.
func (e *InvalidValueError) Error() string {
	return fmt.Sprintf("%s: variable %q is not valid UTF-8", e.Path, e.Var)
}

// Render appends the request body for one recipient to dst as compact JSON
// and returns the extended slice. lookup gives a variable's value and
// whether the recipient has it; ${name:-default} uses the default when the
// value is missing or empty, like the shell. Values are placed as JSON
// strings, so any valid UTF-8 round-trips exactly; nothing is HTML-escaped.
// If clientMsgID is not empty it becomes the top-level client_msg_id,
// replacing the template's own. Key order is the template's.
//
// Render returns a *MissingVarError for a variable without value or
// default and an *InvalidValueError for a value that is not valid UTF-8;
// dst is then returned unextended.
func (t *Template) Render(dst []byte, lookup func(name string) (string, bool), clientMsgID string) ([]byte, error) {
	start := len(dst)
	for i := 0; i < len(t.segs); i++ {
		s := &t.segs[i]
		switch s.kind {
		case segLit:
			dst = append(dst, s.lit...)
		case segHole:
			var err error
			if dst, err = s.hole.render(dst, lookup); err != nil {
				return dst[:start], err
			}
		case segCMID:
			if clientMsgID != "" {
				var ok bool
				if dst, ok = appendQuoted(dst, clientMsgID); !ok {
					return dst[:start], &InvalidValueError{Var: "client_msg_id", Path: "client_msg_id"}
				}
				i += s.skip
			}
		case segCMIDAppend:
			if clientMsgID != "" && !t.hasCMID {
				if t.topLen > 0 {
					dst = append(dst, ',')
				}
				dst = append(dst, `"client_msg_id":`...)
				var ok bool
				if dst, ok = appendQuoted(dst, clientMsgID); !ok {
					return dst[:start], &InvalidValueError{Var: "client_msg_id", Path: "client_msg_id"}
				}
			}
		}
	}
	return dst, nil
}

func (h *hole) render(dst []byte, lookup func(string) (string, bool)) ([]byte, error) {
	dst = append(dst, '"')
	for i := range h.parts {
		p := &h.parts[i]
		if p.name == "" {
			dst = append(dst, p.lit...)
			continue
		}
		v, ok := lookup(p.name)
		if !ok || v == "" {
			if p.hasDef {
				dst = append(dst, p.def...)
				continue
			}
			if !ok {
				return dst, &MissingVarError{Var: p.name, Path: h.path}
			}
		}
		if dst, ok = appendEscaped(dst, v); !ok {
			return dst, &InvalidValueError{Var: p.name, Path: h.path}
		}
	}
	return append(dst, '"'), nil
}

// appendQuoted appends s as a JSON string; ok is false if s is not valid
// UTF-8.
func appendQuoted(dst []byte, s string) (_ []byte, ok bool) {
	dst = append(dst, '"')
	dst, ok = appendEscaped(dst, s)
	return append(dst, '"'), ok
}

const hexDigits = "0123456789abcdef"

// appendEscaped appends s escaped for the inside of a JSON string. Only
// what JSON requires is escaped: '"', '\\' and control characters. '<',
// '>', '&', U+2028 and U+2029 stay literal, because WeChat has refused
// bodies with \uXXXX escapes (reference §0) and URLs are full of '&'.
// It stops with ok false at the first byte that is not valid UTF-8.
func appendEscaped(dst []byte, s string) (_ []byte, ok bool) {
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				return dst, false
			}
			i += size
			continue
		}
		if b >= 0x20 && b != '"' && b != '\\' {
			i++
			continue
		}
		dst = append(dst, s[start:i]...)
		switch b {
		case '"', '\\':
			dst = append(dst, '\\', b)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		default: // other control characters, NUL included, have no short form
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
		}
		i++
		start = i
	}
	return append(dst, s[start:]...), true
}
