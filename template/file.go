package template

// Templates travel as files: import reads them, export writes them, and a
// campaign may name one instead of a stored key. The formats are described
// in the package documentation; this file implements them.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/BurntSushi/toml"
)

// IsPath reports whether ref, the argument of campaign --template or
// template lint, names a file rather than a stored template. The rule:
// ref is a path if it contains a path separator ('/' or '\', on every
// system) or ends in ".json" or ".toml" (in any case); anything else is a
// key in the database. CheckKey refuses keys a path could be mistaken for,
// so the rule is never ambiguous.
func IsPath(ref string) bool {
	return strings.ContainsAny(ref, `/\`) || hasFileExt(ref)
}

func hasFileExt(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".json" || ext == ".toml"
}

// CheckKey returns an error if key cannot name a stored template: it must
// be non-empty, free of white space, control characters, '/' and '\', and
// must not end in ".json" or ".toml", so that IsPath(key) is false.
func CheckKey(key string) error {
	switch {
	case key == "":
		return errors.New("empty template key")
	case strings.ContainsAny(key, `/\`):
		return fmt.Errorf("template key %q contains a path separator", key)
	case hasFileExt(key):
		return fmt.Errorf("template key %q ends in a file extension", key)
	case strings.IndexFunc(key, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return fmt.Errorf("template key %q contains white space", key)
	}
	return nil
}

// ParseFile parses a template file named name (only its extension and
// base name matter) holding data. A ".toml" name is read as TOML with
// string fields key, title, kind and body; any other name as JSON, either
// the bare request body or a {"key", "title", "kind", "body"} wrapper. The
// kind (ParseKind) is KindTemplate when the file has none, and always for
// a bare body; KindStated tells. A key missing
// from the file is the file name without its extension. The body is kept
// exactly as written, minus surrounding white space and a byte order mark.
// The template's File is name.
//
// Errors name the file; a *ParseError from a JSON file gives the line and
// column in the file. Unknown wrapper or TOML fields are errors.
func ParseFile(name string, data []byte) (*Template, error) {
	t, err := parseFile(name, data)
	if err != nil {
		return nil, err
	}
	t.File = name
	return t, nil
}

func parseFile(name string, data []byte) (*Template, error) {
	base := filepath.Base(name)
	key := strings.TrimSuffix(base, filepath.Ext(base))
	if strings.ToLower(filepath.Ext(name)) == ".toml" {
		return parseTOML(name, key, data)
	}
	body, skipped := trimBody(data)
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) == nil && isWrapper(top) {
		return parseWrapper(name, key, data, skipped)
	}
	return parseAt(name, key, "", data, skipped, body)
}

// parseAt parses body, found at byte offset off of the file data, so that
// errors and lint problems give lines of the file.
func parseAt(name, key, title string, data []byte, off int, body []byte) (*Template, error) {
	t, err := Parse(key, title, body)
	if err != nil {
		return nil, inFile(name, data, off, err)
	}
	line, _ := (&compiler{body: data}).position(off)
	t.line0 = line - 1
	return t, nil
}

// trimBody removes a byte order mark and surrounding white space, and says
// how many leading bytes went, so positions can be mapped back.
func trimBody(b []byte) (body []byte, skipped int) {
	t := bytes.TrimPrefix(b, []byte("\uFEFF"))
	t = bytes.TrimLeft(t, " \t\r\n")
	return bytes.TrimRight(t, " \t\r\n"), len(b) - len(t)
}

// isWrapper tells the wrapper form from a bare body: a bare body always
// has touser or template_id, a wrapper never does, and its body is an object.
func isWrapper(top map[string]json.RawMessage) bool {
	_, hasTouser := top["touser"]
	_, hasID := top["template_id"]
	b, hasBody := top["body"]
	return hasBody && len(b) > 0 && b[0] == '{' && !hasTouser && !hasID
}

// parseWrapper reads {"key", "title", "body"}, keeping the body's bytes as
// they appear in the file.
func parseWrapper(name, key string, data []byte, skipped int) (*Template, error) {
	dec := json.NewDecoder(bytes.NewReader(data[skipped:]))
	if _, err := dec.Token(); err != nil { // '{'
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var title, kindName string
	var kindSet bool
	var body json.RawMessage
	bodyOff := 0
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		field := tok.(string)
		if seen[field] {
			return nil, fmt.Errorf("%s: duplicate field %q", name, field)
		}
		seen[field] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", name, field, err)
		}
		switch field {
		case "key":
			if err := json.Unmarshal(raw, &key); err != nil {
				return nil, fmt.Errorf("%s: key must be a string", name)
			}
		case "title":
			if err := json.Unmarshal(raw, &title); err != nil {
				return nil, fmt.Errorf("%s: title must be a string", name)
			}
		case "kind":
			if err := json.Unmarshal(raw, &kindName); err != nil {
				return nil, fmt.Errorf("%s: kind must be a string", name)
			}
			kindSet = true
		case "body":
			body = raw
			bodyOff = skipped + int(dec.InputOffset()) - len(raw)
		default:
			return nil, fmt.Errorf("%s: unknown field %q (a template file has key, title, kind and body)", name, field)
		}
	}
	kind, err := ParseKind(kindName)
	if err != nil {
		return nil, fmt.Errorf("%s: kind: %w", name, err)
	}
	// The body nested in the wrapper, as EncodeFile writes it, is stored
	// without the nesting's indentation: export and import round-trip it.
	body, dedented := dedent(body, wrapperIndent)
	t, err := Parse(key, title, body)
	if err != nil {
		var pe *ParseError
		if dedented && errors.As(err, &pe) && pe.Line > 1 && pe.Column > 0 {
			pe.Column += len(wrapperIndent)
		}
		return nil, inFile(name, data, bodyOff, err)
	}
	line, _ := (&compiler{body: data}).position(bodyOff)
	t.line0 = line - 1
	t.Kind, t.kindStated = kind, kindSet
	return t, nil
}

// tomlFile is the TOML form of a template.
type tomlFile struct {
	Key   string  `toml:"key"`
	Title string  `toml:"title"`
	Kind  *string `toml:"kind"`
	Body  string  `toml:"body"`
}

func parseTOML(name, key string, data []byte) (*Template, error) {
	var f tomlFile
	md, err := toml.Decode(string(bytes.TrimPrefix(data, []byte("\uFEFF"))), &f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("%s: unknown field %q (a template file has key, title, kind and body)", name, und[0].String())
	}
	if f.Key != "" {
		key = f.Key
	}
	t, err := parseTOMLBody(name, key, f, data)
	if err != nil {
		return nil, err
	}
	if f.Kind != nil {
		if t.Kind, err = ParseKind(*f.Kind); err != nil {
			return nil, fmt.Errorf("%s: kind: %w", name, err)
		}
		t.kindStated = true
	}
	return t, nil
}

// parseTOMLBody parses the body of TOML file f.
func parseTOMLBody(name, key string, f tomlFile, data []byte) (*Template, error) {
	body, _ := trimBody([]byte(f.Body))
	if len(body) == 0 {
		return nil, fmt.Errorf("%s: no body", name)
	}
	// A literal string ('''…''') holds the body verbatim, so its place in
	// the file can be found; a basic string with escapes cannot be mapped,
	// and positions are then in the body.
	if off := bytes.Index(data, body); off >= 0 {
		return parseAt(name, key, f.Title, data, off, body)
	}
	t, err := Parse(key, f.Title, body)
	if err != nil {
		return nil, fmt.Errorf("%s: body: %w", name, err)
	}
	return t, nil
}

// inFile moves a *ParseError's position from the body, which starts at
// byte offset off of data, to the file, and names the file.
func inFile(name string, data []byte, off int, err error) error {
	var pe *ParseError
	if !errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", name, err)
	}
	c := &compiler{body: data}
	line, col := c.position(off)
	if pe.Line == 1 && pe.Column > 0 {
		pe.Column += col - 1
	}
	pe.Line += line - 1
	pe.File = name
	return pe
}

// EncodeFile returns the wrapper form of a template, which ParseFile reads
// back to the same key, title, kind and body bytes:
//
//	{
//	  "key": "order_paid",
//	  "title": "购买成功通知",
//	  "kind": "custom",
//	  "body": {
//	    …the body, each line after the first indented by two spaces…
//	  }
//	}
//
// The kind is written unless it is KindTemplate, which a file without one
// is: files of template messages read as they always have.
// body must be a JSON object, as any parsed template's body is. Its line
// breaks are white space between JSON tokens (a JSON string holds none), so
// the indentation changes no value, and ParseFile takes it off again.
func EncodeFile(key, title string, kind Kind, body []byte) []byte {
	b := []byte("{\n  \"key\": ")
	b, _ = appendQuoted(b, strings.ToValidUTF8(key, "\uFFFD"))
	b = append(b, ",\n  \"title\": "...)
	b, _ = appendQuoted(b, strings.ToValidUTF8(title, "\uFFFD"))
	if kind := kind.OrDefault(); kind != KindTemplate {
		b = append(b, ",\n  \"kind\": "...)
		b, _ = appendQuoted(b, strings.ToValidUTF8(string(kind), "\uFFFD"))
	}
	b = append(b, ",\n  \"body\": "...)
	b = append(b, bytes.ReplaceAll(body, []byte("\n"), []byte("\n"+wrapperIndent))...)
	return append(b, "\n}\n"...)
}

// wrapperIndent is how much EncodeFile indents a body's lines after the
// first, so that it reads as nested in the wrapper.
const wrapperIndent = "  "

// dedent takes indent off every line of body after the first, if each one
// has it (or is empty), and reports whether it did. A wrapper written by an
// earlier EncodeFile, with the body's lines as stored, has a closing brace
// in column one and is read as it is.
func dedent(body []byte, indent string) ([]byte, bool) {
	lines := bytes.Split(body, []byte("\n"))
	if len(lines) < 2 {
		return body, false
	}
	for _, l := range lines[1:] {
		if len(bytes.TrimRight(l, "\r")) > 0 && !bytes.HasPrefix(l, []byte(indent)) {
			return body, false
		}
	}
	for i, l := range lines[1:] {
		lines[i+1] = bytes.TrimPrefix(l, []byte(indent))
	}
	return bytes.Join(lines, []byte("\n")), true
}
