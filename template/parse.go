package template

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"strconv"
	"unicode/utf8"
)

// Template is a parsed template: a key, a title and a compiled request body.
// It is immutable after Parse and safe for concurrent use.
type Template struct {
	Key   string
	Title string
	// File is the name a template read by ParseFile was read from, as
	// given; "" for Parse. Messages name it rather than Key, which for a
	// file is no key any command could look up.
	File string
	// Kind is the endpoint the body is for: KindTemplate from Parse, the
	// file's "kind" from ParseFile, another through WithKind. Lint checks
	// the body as its kind's.
	Kind Kind

	kindStated bool      // the file said Kind
	body       []byte    // as given to Parse
	segs       []segment // the compiled body; see render.go
	vars       []string  // sorted, unique
	required   []string  // sorted, unique; the vars used without a default
	templateID string    // literal template_id, or ""
	nodes      []node    // every value in document order, for Lint
	hasCMID    bool      // the body has a top-level client_msg_id
	topLen     int       // number of top-level members
	line0      int       // lines of the file before the body, for ParseFile's templates
}

// node is one value of the body, kept so Lint can check the template's
// shape without parsing it again.
type node struct {
	path []string // keys from the root; array elements are "[i]"
	line int
	kind nodeKind
	// For strings: text is the literal value when vars is false; parts
	// the unescaped pieces when it is true, so LintValues can check a
	// recipient's values without rendering and parsing the body.
	text  string
	vars  bool
	parts []rawPart
}

type nodeKind uint8

const (
	kindOther nodeKind = iota
	kindObject
	kindArray
	kindString
)

// ParseError reports why and where a template body was refused.
type ParseError struct {
	File   string // the file, when the body came from ParseFile; else ""
	Line   int    // 1-based line in the body, or in File
	Column int    // 1-based column in characters; 0 when only the line is known
	Path   string // JSON path of the offending value, e.g. data.keyword1.value; "" for syntax errors
	Msg    string
}

// Error formats e as "line 3, column 7: msg", or in a file as the
// compilers' "body.json:3:7: msg".
func (e *ParseError) Error() string {
	var pos string
	if e.File != "" {
		pos = e.File + ":" + strconv.Itoa(e.Line)
		if e.Column > 0 {
			pos += ":" + strconv.Itoa(e.Column)
		}
	} else {
		pos = "line " + strconv.Itoa(e.Line)
		if e.Column > 0 {
			pos += ", column " + strconv.Itoa(e.Column)
		}
	}
	if e.Path != "" {
		return pos + ": " + e.Path + ": " + e.Msg
	}
	return pos + ": " + e.Msg
}

// Parse compiles body, a JSON object with ${var} placeholders in its string
// values, into a Template named key and titled title. It returns a
// *ParseError for invalid UTF-8 or JSON (with line and column), for a body
// that is not an object or repeats a key, and for bad placeholder syntax
// ("${", "${}", "${a b}"), naming the JSON path of the value. Parse does
// not check the body's meaning; Lint does.
func Parse(key, title string, body []byte) (*Template, error) {
	c := &compiler{body: body}
	if err := c.validate(); err != nil {
		return nil, err
	}
	t := &Template{Key: key, Title: title, Kind: KindTemplate, body: slices.Clone(body)}
	c.t = t
	c.vars = map[string]bool{}
	c.dec = json.NewDecoder(bytes.NewReader(body))
	c.dec.UseNumber()
	if err := c.value(nil); err != nil {
		return nil, err
	}
	c.flush()
	for name, required := range c.vars {
		t.vars = append(t.vars, name)
		if required {
			t.required = append(t.required, name)
		}
	}
	sort.Strings(t.vars)
	sort.Strings(t.required)
	for _, n := range t.nodes {
		if len(n.path) == 1 && n.path[0] == "template_id" && n.kind == kindString && !n.vars {
			t.templateID = n.text
		}
	}
	return t, nil
}

// Body returns a copy of exactly the bytes given to Parse.
func (t *Template) Body() []byte { return slices.Clone(t.body) }

// Vars returns every variable the template references, sorted and unique.
func (t *Template) Vars() []string { return slices.Clone(t.vars) }

// Required returns the variables used at least once without a default:
// a recipient lacking one of them cannot be rendered.
func (t *Template) Required() []string { return slices.Clone(t.required) }

// TemplateID returns the literal template_id, or "" if the body has none
// or builds it from placeholders.
func (t *Template) TemplateID() string { return t.templateID }

// compiler turns a body into segments and nodes in one pass of a JSON
// token stream. The body has been validated, so token errors cannot occur
// except through bugs; they are still returned, never ignored.
type compiler struct {
	body  []byte
	dec   *json.Decoder
	t     *Template
	buf   []byte          // literal output not yet flushed into a segment
	vars  map[string]bool // name → used without a default somewhere
	lines []int           // offsets of '\n' in body, built on demand
}

// validate checks UTF-8, JSON syntax and the top-level kind, so the error
// can give a line and column.
func (c *compiler) validate() error {
	if !utf8.Valid(c.body) {
		off := 0
		for off < len(c.body) {
			r, size := utf8.DecodeRune(c.body[off:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			off += size
		}
		return c.errAt(off, "", "invalid UTF-8")
	}
	if !json.Valid(c.body) {
		var v any
		err := json.Unmarshal(c.body, &v)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			// Offset counts the bytes read, including the offending one.
			return c.errAt(int(max(se.Offset-1, 0)), "", se.Error())
		}
		return c.errAt(0, "", "invalid JSON")
	}
	trimmed := bytes.TrimLeft(c.body, " \t\r\n")
	if trimmed[0] != '{' {
		return c.errAt(len(c.body)-len(trimmed), "", "the body must be a JSON object")
	}
	return nil
}

// errAt builds a *ParseError for byte offset off.
func (c *compiler) errAt(off int, path, msg string) *ParseError {
	line, col := c.position(off)
	return &ParseError{Line: line, Column: col, Path: path, Msg: msg}
}

// position converts a byte offset into a 1-based line and column; the
// column counts characters, as editors do.
func (c *compiler) position(off int) (line, col int) {
	if c.lines == nil {
		c.lines = []int{}
		for i, b := range c.body {
			if b == '\n' {
				c.lines = append(c.lines, i)
			}
		}
	}
	off = min(max(off, 0), len(c.body))
	n := sort.SearchInts(c.lines, off) // newlines before off
	start := 0
	if n > 0 {
		start = c.lines[n-1] + 1
	}
	return n + 1, utf8.RuneCount(c.body[start:off]) + 1
}

// lineAt is the line of the token that ended at byte offset end.
func (c *compiler) lineAt(end int64) int {
	line, _ := c.position(int(end) - 1)
	return line
}

func (c *compiler) flush() {
	if len(c.buf) > 0 {
		c.t.segs = append(c.t.segs, segment{kind: segLit, lit: c.buf})
		c.buf = nil
	}
}

// value compiles the next value of the stream, found at path.
func (c *compiler) value(path []string) error {
	tok, err := c.dec.Token()
	if err != nil {
		return c.errAt(int(c.dec.InputOffset()), pathString(path), err.Error())
	}
	line := c.lineAt(c.dec.InputOffset())
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			c.addNode(node{path: path, line: line, kind: kindObject})
			return c.object(path)
		}
		c.addNode(node{path: path, line: line, kind: kindArray})
		return c.array(path)
	case string:
		return c.str(path, line, v)
	case json.Number:
		c.buf = append(c.buf, v...)
	case bool:
		c.buf = strconv.AppendBool(c.buf, v)
	case nil:
		c.buf = append(c.buf, "null"...)
	}
	c.addNode(node{path: path, line: line})
	return nil
}

func (c *compiler) addNode(n node) {
	if len(n.path) > 0 {
		c.t.nodes = append(c.t.nodes, n)
	}
}

func (c *compiler) object(path []string) error {
	top := len(path) == 0
	c.buf = append(c.buf, '{')
	seen := map[string]bool{}
	for c.dec.More() {
		tok, err := c.dec.Token()
		if err != nil {
			return c.errAt(int(c.dec.InputOffset()), pathString(path), err.Error())
		}
		key := tok.(string) // keys are strings in valid JSON
		sub := append(slices.Clip(path), key)
		if seen[key] {
			return &ParseError{Line: c.lineAt(c.dec.InputOffset()), Path: pathString(sub), Msg: "duplicate key"}
		}
		if len(seen) > 0 {
			c.buf = append(c.buf, ',')
		}
		seen[key] = true
		c.buf, _ = appendQuoted(c.buf, key) // decoded JSON is valid UTF-8
		c.buf = append(c.buf, ':')
		if top && key == "client_msg_id" {
			// The value is compiled normally, but preceded by a marker so
			// Render can replace it with the batch's own id.
			c.flush()
			mark := len(c.t.segs)
			c.t.segs = append(c.t.segs, segment{kind: segCMID})
			if err := c.value(sub); err != nil {
				return err
			}
			c.flush()
			c.t.segs[mark].skip = len(c.t.segs) - mark - 1
			c.t.hasCMID = true
			continue
		}
		if err := c.value(sub); err != nil {
			return err
		}
	}
	if _, err := c.dec.Token(); err != nil { // the closing '}'
		return c.errAt(int(c.dec.InputOffset()), pathString(path), err.Error())
	}
	if top {
		c.flush()
		c.t.segs = append(c.t.segs, segment{kind: segCMIDAppend})
		c.t.topLen = len(seen)
	}
	c.buf = append(c.buf, '}')
	return nil
}

func (c *compiler) array(path []string) error {
	c.buf = append(c.buf, '[')
	for i := 0; c.dec.More(); i++ {
		if i > 0 {
			c.buf = append(c.buf, ',')
		}
		if err := c.value(append(slices.Clip(path), "["+strconv.Itoa(i)+"]")); err != nil {
			return err
		}
	}
	if _, err := c.dec.Token(); err != nil { // the closing ']'
		return c.errAt(int(c.dec.InputOffset()), pathString(path), err.Error())
	}
	c.buf = append(c.buf, ']')
	return nil
}

// str compiles a string value: a literal if it holds no placeholder,
// otherwise a hole that Render fills.
func (c *compiler) str(path []string, line int, s string) error {
	parts, err := parsePlaceholders(s)
	if err != nil {
		return &ParseError{Line: line, Path: pathString(path), Msg: err.Error()}
	}
	n := node{path: path, line: line, kind: kindString}
	if len(parts) == 0 || len(parts) == 1 && parts[0].name == "" {
		if len(parts) == 1 {
			n.text = parts[0].text
		}
		c.buf, _ = appendQuoted(c.buf, n.text)
		c.addNode(n)
		return nil
	}
	n.vars = true
	n.parts = parts
	c.addNode(n)
	h := &hole{path: pathString(path)}
	for _, p := range parts {
		if p.name == "" {
			lit, _ := appendEscaped(nil, p.text)
			h.parts = append(h.parts, part{lit: lit})
			continue
		}
		def, _ := appendEscaped(nil, p.def)
		h.parts = append(h.parts, part{name: p.name, def: def, hasDef: p.hasDef})
		c.vars[p.name] = c.vars[p.name] || !p.hasDef
	}
	c.flush()
	c.t.segs = append(c.t.segs, segment{kind: segHole, hole: h})
	return nil
}

// pathString joins path as data.keyword1.value or list[0]. An empty key,
// which JSON allows, is written "" so that it still shows.
func pathString(path []string) string {
	var b []byte
	for i, p := range path {
		if i > 0 && (p == "" || p[0] != '[') {
			b = append(b, '.')
		}
		if p == "" {
			p = `""`
		}
		b = append(b, p...)
	}
	return string(b)
}
