package recipient

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Writer writes recipient rows as CSV or JSONL that a Reader reads back
// unchanged: the failed-recipients export is fed straight back in as a
// recipient file. To guarantee that, Write refuses anything a Reader would
// reject (an implausible openid, invalid UTF-8, a NUL byte, a name that is not
// a variable name) instead of writing a file that cannot be re-imported.
//
// Values are written verbatim. In particular a value starting with '=', '+',
// '-' or '@' is not defused for spreadsheets: doing so would change it on the
// way back in.
//
// One limit comes from CSV itself as encoding/csv reads it: "\r\n" inside a
// value reads back as "\n". JSONL keeps it.
type Writer struct {
	format  Format
	columns []string
	index   map[string]int // column name → position in columns

	cw *CSVWriter
	bw *bufio.Writer

	record  []string // CSV: the record being built, openid first
	present []bool   // JSONL: which columns the row being written has
	buf     []byte   // JSONL: the line being built
}

// NewWriter returns a Writer of format f (FormatCSV or FormatJSONL) for rows
// with the given variable columns. CSV writes the header
// "openid,<columns...>" at once (buffered until Flush); JSONL writes each
// object with openid first, then the columns in order. It fails for
// FormatAuto or an unknown format, and for a column that is "openid",
// duplicated, or not a valid variable name. It writes UTF-8 without a byte
// order mark; NewWriterOptions chooses.
func NewWriter(w io.Writer, f Format, columns []string) (*Writer, error) {
	return NewWriterOptions(w, f, columns, WriterOptions{})
}

// NewWriterOptions is NewWriter writing CSV in the encoding opts choose
// (see WriterOptions). It also fails for options that do not apply: GBK or
// a byte order mark for JSONL, a byte order mark with GBK. In GBK, Write
// refuses a row with a value GBK cannot hold, with an *EncodeError.
func NewWriterOptions(w io.Writer, f Format, columns []string, opts WriterOptions) (*Writer, error) {
	if f != FormatCSV && f != FormatJSONL {
		return nil, fmt.Errorf("new writer: format %v: want csv or jsonl", f)
	}
	if _, err := opts.validate(f); err != nil {
		return nil, fmt.Errorf("new writer: %w", err)
	}
	wr := &Writer{
		format:  f,
		columns: append([]string(nil), columns...),
		index:   make(map[string]int, len(columns)),
	}
	for i, c := range columns {
		switch {
		case c == "openid":
			return nil, errors.New("new writer: openid is always the first column; do not list it")
		case !validName(c):
			return nil, fmt.Errorf("new writer: column %q is not a valid variable name", c)
		}
		if _, dup := wr.index[c]; dup {
			return nil, fmt.Errorf("new writer: column %q listed twice", c)
		}
		wr.index[c] = i
	}
	if f == FormatJSONL {
		wr.bw = bufio.NewWriter(w)
		wr.present = make([]bool, len(columns))
		return wr, nil
	}
	cw, err := NewCSVWriter(w, opts)
	if err != nil {
		return nil, fmt.Errorf("new writer: %w", err)
	}
	wr.cw = cw
	wr.record = make([]string, 1+len(columns))
	if err := wr.cw.Write(append([]string{"openid"}, columns...)); err != nil {
		return nil, fmt.Errorf("new writer: write header: %w", err)
	}
	return wr, nil
}

// Write writes one row. CSV places each value under its column, leaving
// columns the row lacks empty, and fails for a variable that is not a
// column. JSONL writes only the variables the row has, as strings: the
// columns first, in order, then any others in the order given.
//
// Write fails, writing nothing, if openid fails OpenIDLoose.Check (the
// export gives back what an import accepted under either check; a file of
// openids only the loose check accepts is read back under it) or a variable is
// named "openid", is listed twice, has a name that is not a valid variable
// name, or has a value that is not valid UTF-8 or contains a NUL byte; in
// GBK, also if a value holds a character GBK cannot (an *EncodeError). It
// also returns errors from the underlying writer.
func (w *Writer) Write(openid string, vars []Var) error {
	if err := OpenIDLoose.Check(openid); err != nil {
		return fmt.Errorf("write recipient: openid %q: %w", openid, err)
	}
	for i, v := range vars {
		if err := checkVar(v); err != nil {
			return fmt.Errorf("write recipient %s: %w", openid, err)
		}
		for _, u := range vars[:i] {
			if u.Name == v.Name {
				return fmt.Errorf("write recipient %s: variable %q given twice", openid, v.Name)
			}
		}
	}
	if w.format == FormatCSV {
		return w.writeCSV(openid, vars)
	}
	return w.writeJSONL(openid, vars)
}

func checkVar(v Var) error {
	switch {
	case v.Name == "openid":
		return errors.New(`variable "openid": pass the openid separately`)
	case !validName(v.Name):
		return fmt.Errorf("variable %q: not a valid variable name", v.Name)
	case !utf8.ValidString(v.Value):
		return fmt.Errorf("variable %s: invalid UTF-8", v.Name)
	case strings.IndexByte(v.Value, 0) >= 0:
		return fmt.Errorf("variable %s: contains a NUL byte", v.Name)
	}
	return nil
}

func (w *Writer) writeCSV(openid string, vars []Var) error {
	clear(w.record)
	w.record[0] = openid
	for _, v := range vars {
		i, ok := w.index[v.Name]
		if !ok {
			return fmt.Errorf("write recipient %s: variable %q is not one of the file's columns", openid, v.Name)
		}
		w.record[1+i] = v.Value
	}
	if err := w.cw.Write(w.record); err != nil {
		return fmt.Errorf("write recipient %s: %w", openid, err)
	}
	return nil
}

func (w *Writer) writeJSONL(openid string, vars []Var) error {
	// Columns in column order: mark the ones present, then walk the columns
	// and look each value up. Rows are short, so the lookup is a scan.
	clear(w.present)
	for _, v := range vars {
		if i, ok := w.index[v.Name]; ok {
			w.present[i] = true
		}
	}
	b := append(w.buf[:0], `{"openid":`...)
	b = appendJSONString(b, openid)
	for i, c := range w.columns {
		if !w.present[i] {
			continue
		}
		for _, v := range vars {
			if v.Name == c {
				b = appendMember(b, v)
				break
			}
		}
	}
	for _, v := range vars {
		if _, ok := w.index[v.Name]; !ok {
			b = appendMember(b, v)
		}
	}
	b = append(b, "}\n"...)
	w.buf = b
	if _, err := w.bw.Write(b); err != nil {
		return fmt.Errorf("write recipient %s: %w", openid, err)
	}
	return nil
}

// Flush writes any buffered data to the underlying io.Writer and returns the
// first write error, if any.
func (w *Writer) Flush() error {
	if w.format == FormatJSONL {
		return w.bw.Flush()
	}
	return w.cw.Flush()
}

func appendMember(b []byte, v Var) []byte {
	b = append(b, ',')
	b = appendJSONString(b, v.Name)
	b = append(b, ':')
	return appendJSONString(b, v.Value)
}

// appendJSONString appends s as a JSON string. Unlike encoding/json it leaves
// '<', '>' and '&' alone, so an exported file stays readable. It escapes
// U+2028 and U+2029, which JavaScript-based line splitters treat as line
// ends. s must be valid UTF-8 (Write checks).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == '\u2028' || r == '\u2029' {
				b = append(b, s[start:i]...)
				b = append(b, `\u202`...)
				b = append(b, hex[r&0xF])
				start = i + size
			}
			i += size
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		default:
			b = append(b, `\u00`...)
			b = append(b, hex[c>>4], hex[c&0xF])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
