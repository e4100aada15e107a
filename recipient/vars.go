package recipient

import (
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// The ledger keeps each recipient's variables as one JSON object of
// strings, in input order: readable in the database, and a cheap format to
// write at import and read back at every send. These two functions are that
// format; nothing else should write it.

// AppendVarsJSON appends vars to dst as a JSON object of strings, in order.
// Values from a Reader are valid UTF-8; invalid bytes would be written
// as-is, and ParseVarsJSON would then refuse the object.
func AppendVarsJSON(dst []byte, vars []Var) []byte {
	dst = append(dst, '{')
	for i, v := range vars {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, v.Name)
		dst = append(dst, ':')
		dst = appendJSONString(dst, v.Value)
	}
	return append(dst, '}')
}

var errVarsJSON = errors.New("variables: not a JSON object of strings")

// ParseVarsJSON parses an object written by AppendVarsJSON, appending its
// members to dst in order. Anything else (another shape, a truncated or
// corrupt value) is an error, never a panic.
func ParseVarsJSON(s string, dst []Var) ([]Var, error) {
	i := skipSpace(s, 0)
	if i >= len(s) || s[i] != '{' {
		return dst, errVarsJSON
	}
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == '}' {
		return dst, nil
	}
	for {
		name, next, ok := parseString(s, i)
		if !ok {
			return dst, errVarsJSON
		}
		i = skipSpace(s, next)
		if i >= len(s) || s[i] != ':' {
			return dst, errVarsJSON
		}
		value, next, ok := parseString(s, skipSpace(s, i+1))
		if !ok {
			return dst, errVarsJSON
		}
		dst = append(dst, Var{Name: name, Value: value})
		i = skipSpace(s, next)
		if i >= len(s) {
			return dst, errVarsJSON
		}
		switch s[i] {
		case '}':
			if skipSpace(s, i+1) != len(s) {
				return dst, errVarsJSON
			}
			return dst, nil
		case ',':
			i = skipSpace(s, i+1)
		default:
			return dst, errVarsJSON
		}
	}
}

// parseString reads the JSON string starting at s[i], bounds-checked. The
// common case, no escapes, is a substring; escapes go through encoding/json.
func parseString(s string, i int) (string, int, bool) {
	if i >= len(s) || s[i] != '"' {
		return "", 0, false
	}
	escaped := false
	j := i + 1
	for ; j < len(s) && s[j] != '"'; j++ {
		switch {
		case s[j] == '\\':
			escaped = true
			j++
		case s[j] < 0x20:
			return "", 0, false
		}
	}
	if j >= len(s) {
		return "", 0, false
	}
	if !escaped {
		v := s[i+1 : j]
		return v, j + 1, utf8.ValidString(v)
	}
	var v string
	if err := json.Unmarshal([]byte(s[i:j+1]), &v); err != nil {
		return "", 0, false
	}
	return v, j + 1, true
}
