package recipient

import (
	"encoding/json"
	"strings"
)

// scanFlat walks one JSONL line that json.Valid has accepted and whose first
// byte that is not white space is '{', handing each member to b. Because the
// syntax is known to be good, it only has to find where things end; it never
// reports a syntax error. Keys and plain string values are slices of text, so
// a row costs one allocation for its text plus one for its Vars.
//
// It must agree with tokenParse on every valid line; FuzzJSONLParsers checks
// that.
func scanFlat(text string, b *rowBuilder) *LineError {
	i := skipSpace(text, 0) + 1 // past '{'
	for {
		i = skipSpace(text, i)
		switch text[i] {
		case '}':
			return nil // valid JSON: nothing but white space follows
		case ',':
			i = skipSpace(text, i+1)
		}
		key, next := jsonString(text, i)
		i = skipSpace(text, skipSpace(text, next)+1) // past ':'

		var value, kind string
		switch c := text[i]; c {
		case '"':
			value, i = jsonString(text, i)
			kind = "string"
		case '{', '[':
			// add refuses objects and arrays, so there is no need to skip
			// over one: the row ends here.
			kind = "an object"
			if c == '[' {
				kind = "an array"
			}
			return b.add(key, "", kind)
		case 't':
			value, kind, i = "true", "a boolean", i+len("true")
		case 'f':
			value, kind, i = "false", "a boolean", i+len("false")
		case 'n':
			value, kind, i = "", "null", i+len("null")
		default: // a number, kept as written
			end := i
			for end < len(text) && !strings.ContainsRune(",} \t\r", rune(text[end])) {
				end++
			}
			value, kind, i = text[i:end], "a number", end
		}
		if le := b.add(key, value, kind); le != nil {
			return le
		}
	}
}

// jsonString returns the value of the JSON string starting at text[i] (a
// '"') and the index just past its closing quote. A string with escapes is
// decoded by encoding/json itself, so both parsers agree on every escape,
// invalid surrogates included.
func jsonString(text string, i int) (string, int) {
	escaped := false
	j := i + 1
	for ; text[j] != '"'; j++ {
		if text[j] == '\\' {
			escaped = true
			j++ // the escaped byte cannot end the string
		}
	}
	if !escaped {
		return text[i+1 : j], j + 1
	}
	var s string
	_ = json.Unmarshal([]byte(text[i:j+1]), &s) // cannot fail: json.Valid accepted the line
	return s, j + 1
}

func skipSpace(text string, i int) int {
	for i < len(text) && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n') {
		i++
	}
	return i
}
