package recipient

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// jsonlSource reads JSONL recipients: one JSON object per line, with an
// "openid" string and any other keys as variables. Lines are read with
// bufio.Reader rather than bufio.Scanner, whose 64 KiB token limit would be
// a second, different line limit; an overlong line is discarded as it is
// read, never held whole.
type jsonlSource struct {
	name string
	br   *bufio.Reader
	dec  *textDecoder
	max  int
	ids  OpenIDCheck
	line int    // number of the last line read
	buf  []byte // assembles a line that spans more than one buffer fill

	// width is the previous row's number of variables: rows of a file
	// tend to be alike, so it sizes the next row's Vars in one allocation.
	width int

	held *heldLine // the first line, read ahead by newJSONLSource
}

// heldLine is a line read ahead of time, as readLine returned it.
type heldLine struct {
	data    []byte
	line    int
	tooLong bool
}

func newJSONLSource(br *bufio.Reader, name string, dec *textDecoder, max int, ids OpenIDCheck) (*jsonlSource, error) {
	s := &jsonlSource{name: name, br: br, dec: dec, max: max, ids: ids}
	// Read up to the first non-blank line, to refuse an empty file here as
	// the CSV reader refuses a missing header.
	for {
		data, tooLong, err := s.readLine()
		switch {
		case err == io.EOF:
			return nil, errorf(name, 1, "", "empty file")
		case err != nil:
			return nil, fatalf(name, s.line+1, err, "read: %v", err)
		case !tooLong && isBlankLine(data):
			continue
		}
		s.held = &heldLine{data: bytes.Clone(data), line: s.line, tooLong: tooLong}
		return s, nil
	}
}

// next returns the next row. Blank lines are skipped; they still count for
// the line numbers of the rows after them.
func (s *jsonlSource) next() (Row, error) {
	for {
		var (
			data    []byte
			line    int
			tooLong bool
			err     error
		)
		if h := s.held; h != nil {
			s.held = nil
			data, line, tooLong = h.data, h.line, h.tooLong
		} else {
			data, tooLong, err = s.readLine()
			line = s.line
		}
		switch {
		case err == io.EOF:
			return Row{}, io.EOF
		case err != nil:
			return Row{Line: line + 1}, fatalf(s.name, line+1, err, "read: %v", err)
		case tooLong:
			return Row{Line: line}, errorf(s.name, line, "", "line longer than %d bytes", s.max)
		case isBlankLine(data):
			continue
		}
		row, le := s.parse(line, data)
		if le != nil {
			return Row{Line: line}, le
		}
		return row, nil
	}
}

// readLine returns the next line without its "\n" or "\r\n", valid until the
// next call. A line longer than s.max bytes ("\n" excluded) is consumed
// without being kept, and reported by tooLong. At the end of input it
// returns io.EOF; any other error is a read error, and s.line is not
// advanced.
func (s *jsonlSource) readLine() (data []byte, tooLong bool, err error) {
	s.buf = s.buf[:0]
	n, read := 0, 0
	for {
		chunk, err := s.br.ReadSlice('\n')
		read += len(chunk)
		content := bytes.TrimSuffix(chunk, []byte{'\n'})
		n += len(content)
		switch {
		case n > s.max:
			tooLong = true
			s.buf = s.buf[:0]
		case err != bufio.ErrBufferFull && len(s.buf) == 0:
			data = content // the whole line is in br's buffer: no copy
		default:
			s.buf = append(s.buf, content...)
			data = s.buf
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && (err != io.EOF || read == 0) {
			return nil, false, err
		}
		s.line++
		if tooLong {
			return nil, true, nil
		}
		return bytes.TrimSuffix(data, []byte{'\r'}), false, nil
	}
}

// parse decodes one line into a Row, reporting the first problem found.
// Members are read in order, not into a map, to keep the file's key order
// and to notice duplicate keys, which a map would silently merge.
//
// Two parsers feed the same rules (rowBuilder). A valid line, by far the
// commonest, goes through scanFlat, which allocates one string for the line
// and slices it; json.Valid vouches for the syntax first. Anything else goes
// through encoding/json's tokenizer, whose errors say what is wrong and where.
func (s *jsonlSource) parse(line int, raw []byte) (Row, *LineError) {
	text, msg := s.dec.decodeBytes(raw)
	if msg != "" {
		return Row{}, errorf(s.name, line, "", "%s", msg)
	}
	b := rowBuilder{name: s.name, ids: s.ids, row: Row{Line: line, Vars: make([]Var, 0, s.width)}}
	var le *LineError
	if json.Valid(text) && bytes.TrimLeft(text, " \t\r")[0] == '{' {
		le = scanFlat(string(text), &b)
	} else {
		le = tokenParse(text, &b)
	}
	if le == nil {
		le = b.finish()
	}
	if le != nil {
		return Row{}, le
	}
	s.width = len(b.row.Vars)
	return b.row, nil
}

// rowBuilder applies the rules for an object's members, whichever parser
// found them.
type rowBuilder struct {
	name      string
	ids       OpenIDCheck
	row       Row
	hasOpenID bool
	seen      map[string]bool // built once a row has many keys, to keep checks linear
}

// add takes one member. kind names the value's JSON type for messages
// ("string", "a number", "an object", ...). Objects and arrays are always
// refused, so a parser may stop at one without skipping over it.
func (b *rowBuilder) add(key, value, kind string) *LineError {
	line := b.row.Line
	if key == "openid" {
		switch {
		case b.hasOpenID:
			return errorf(b.name, line, "openid", "duplicate key")
		case kind != "string":
			return errorf(b.name, line, "openid", "must be a string, not %s", kind)
		}
		b.row.OpenID, b.hasOpenID = value, true
		return nil
	}
	switch {
	case !validName(key):
		return errorf(b.name, line, "", "key %q is not a valid variable name "+
			"(use letters, digits and _, not starting with a digit)", key)
	case hasVar(b.row.Vars, key, &b.seen):
		return errorf(b.name, line, key, "duplicate key")
	case kind == "an object" || kind == "an array":
		return errorf(b.name, line, key, "value is %s; only strings, numbers, booleans and null are allowed", kind)
	case strings.IndexByte(value, 0) >= 0:
		return errorf(b.name, line, key, "contains a NUL byte")
	}
	b.row.Vars = append(b.row.Vars, Var{Name: key, Value: value})
	return nil
}

// finish checks what can only be checked once the object is complete.
func (b *rowBuilder) finish() *LineError {
	if !b.hasOpenID {
		return errorf(b.name, b.row.Line, "openid", "missing")
	}
	if err := b.ids.Check(b.row.OpenID); err != nil {
		return errorf(b.name, b.row.Line, "openid", "%v", err)
	}
	return nil
}

// tokenParse reads a line with encoding/json's tokenizer, which reports
// malformed JSON precisely. Numbers keep their literal text (UseNumber):
// 13800138000 stays as written.
func tokenParse(text []byte, b *rowBuilder) *LineError {
	line := b.row.Line
	d := json.NewDecoder(bytes.NewReader(text))
	d.UseNumber()
	tok, err := d.Token()
	if err != nil {
		return syntaxError(b.name, line, err)
	}
	if delim, ok := tok.(json.Delim); !ok || delim != '{' {
		return errorf(b.name, line, "", "not a JSON object")
	}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return syntaxError(b.name, line, err)
		}
		key := tok.(string) // Token only returns strings in key position
		if tok, err = d.Token(); err != nil {
			return syntaxError(b.name, line, err)
		}
		value, kind := scalar(tok)
		if le := b.add(key, value, kind); le != nil {
			return le
		}
	}
	if _, err := d.Token(); err != nil { // the closing '}'
		return syntaxError(b.name, line, err)
	}
	if _, err := d.Token(); err != io.EOF {
		return errorf(b.name, line, "", "unexpected data after the object (one object per line)")
	}
	return nil
}

// scalar converts a value token to its variable text, and names its kind for
// messages. Objects and arrays have no text: their kind is the error.
func scalar(tok json.Token) (value, kind string) {
	switch v := tok.(type) {
	case string:
		return v, "string"
	case json.Number:
		return string(v), "a number"
	case bool:
		if v {
			return "true", "a boolean"
		}
		return "false", "a boolean"
	case nil:
		return "", "null"
	case json.Delim:
		if v == '[' {
			return "", "an array"
		}
		return "", "an object"
	}
	return "", fmt.Sprintf("%T", tok)
}

// hasVar reports whether vars already has name. Rows are short, so a linear
// scan does; past 16 keys a map takes over, so a hostile line with 100,000
// keys costs linear time, not quadratic.
func hasVar(vars []Var, name string, seen *map[string]bool) bool {
	if len(vars) < 16 {
		for _, v := range vars {
			if v.Name == name {
				return true
			}
		}
		return false
	}
	if *seen == nil {
		*seen = make(map[string]bool, 2*len(vars))
		for _, v := range vars {
			(*seen)[v.Name] = true
		}
	}
	if (*seen)[name] {
		return true
	}
	(*seen)[name] = true // the caller appends it next
	return false
}

// syntaxError describes malformed JSON. The position is 1-based, as in CSV
// errors; json's Offset counts the bytes before the offending one.
func syntaxError(name string, line int, err error) *LineError {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return errorf(name, line, "", "invalid JSON at byte %d: %v", se.Offset+1, se)
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(name, line, "", "invalid JSON: the line ends inside the object")
	}
	return errorf(name, line, "", "invalid JSON: %v", err)
}

func isBlankLine(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}
