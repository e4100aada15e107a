package template

import (
	"fmt"
	"strings"
)

// rawPart is one piece of a string value: literal text, or a variable
// reference with an optional default.
type rawPart struct {
	text   string // literal text, when name is ""
	name   string
	def    string
	hasDef bool
}

// parsePlaceholders splits s into literal text and ${…} references.
// Adjacent literal text is merged, so a string without references yields
// at most one part. "$${" is a literal "${"; a '$' not followed by '{' is
// literal too, so prices like "$5" and replacement-looking text like "$1"
// need no escaping.
func parsePlaceholders(s string) ([]rawPart, error) {
	var parts []rawPart
	var lit strings.Builder
	flushLit := func() {
		if lit.Len() > 0 {
			parts = append(parts, rawPart{text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '$')
		if j < 0 {
			lit.WriteString(s[i:])
			break
		}
		lit.WriteString(s[i : i+j])
		i += j
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			lit.WriteString("${")
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return nil, fmt.Errorf("unterminated placeholder %q: missing }", s[i:])
			}
			inner := s[i+2 : i+2+end]
			p, err := parseRef(inner)
			if err != nil {
				return nil, fmt.Errorf("bad placeholder %q: %w", "${"+inner+"}", err)
			}
			flushLit()
			parts = append(parts, p)
			i += 2 + end + 1
		default:
			lit.WriteByte('$')
			i++
		}
	}
	flushLit()
	return parts, nil
}

// parseRef parses the inside of ${…}: a name, optionally ":-" and a default.
func parseRef(inner string) (rawPart, error) {
	name, def, hasDef := strings.Cut(inner, ":-")
	if name == "" {
		return rawPart{}, fmt.Errorf("empty variable name")
	}
	for i, r := range name {
		if !isNameRune(r, i == 0) {
			return rawPart{}, fmt.Errorf("%q is not allowed in a variable name (want ASCII letters, digits and _, not starting with a digit; a default is written ${name:-default})", r)
		}
	}
	return rawPart{name: name, def: def, hasDef: hasDef}, nil
}

// isNameRune accepts the characters of a variable name: the rule for
// recipient file columns and JSONL keys ([A-Za-z_][A-Za-z0-9_]*), so that
// every variable a template can name, a recipient file can supply.
func isNameRune(r rune, first bool) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || r == '_' || !first && '0' <= r && r <= '9'
}
