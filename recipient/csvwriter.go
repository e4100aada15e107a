package recipient

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Files megasend writes are opened in Excel as often as they are read back
// by megasend. Excel takes a CSV file without a byte order mark to be in the
// system's code page, which on Chinese Windows is GBK (code page 936), so
// UTF-8 without a mark shows as mojibake there. Two ways out, both read back
// by a Reader: UTF-8 with a byte order mark, which every Excel since 2016
// reads as UTF-8 and which holds every character; or GBK itself, for older
// Excel and for systems that insist on it, which cannot hold emoji and
// other characters outside its repertoire. A value GBK cannot hold is an
// error naming the column and the character, never a silent '?'.

// WriterOptions sets the bytes a CSV file is written in. The zero value
// writes UTF-8 without a byte order mark.
type WriterOptions struct {
	// Encoding is "" or "utf-8" (also "utf8"), or "gbk" (CSV only), in any
	// case.
	Encoding string
	// BOM begins a UTF-8 CSV file with a byte order mark, which tells
	// Excel the file is UTF-8. It cannot be combined with GBK.
	BOM bool
}

// validate checks the options for a file of format f.
func (o WriterOptions) validate(f Format) (gbk bool, err error) {
	switch strings.ToLower(strings.TrimSpace(o.Encoding)) {
	case "", "utf-8", "utf8":
	case "gbk":
		gbk = true
	default:
		return false, fmt.Errorf("unknown encoding %q (want utf-8 or gbk)", o.Encoding)
	}
	switch {
	case gbk && o.BOM:
		return false, errors.New("a byte order mark marks UTF-8: it cannot start a GBK file")
	case f == FormatJSONL && (gbk || o.BOM):
		return false, errors.New("JSONL is always UTF-8 without a byte order mark: the encoding and the mark are for CSV")
	}
	return gbk, nil
}

// EncodeError reports a value that the chosen encoding cannot hold. The
// record it belongs to was not written.
type EncodeError struct {
	Encoding string // "GBK"
	Record   int    // 1-based record of the file; the header is record 1
	Column   string // the column's heading, from the file's first record
	Char     rune   // the first character that cannot be written
}

// Error says which character of which column cannot be written.
func (e *EncodeError) Error() string {
	return fmt.Sprintf("%s: %q (U+%04X) cannot be written in %s", e.Column, e.Char, e.Char, e.Encoding)
}

// CSVWriter writes CSV records in UTF-8, with or without a byte order mark,
// or in GBK. Its first record is taken as the header, to name columns in
// errors. It is not safe for concurrent use.
type CSVWriter struct {
	cw     *csv.Writer
	header []string
	n      int // records written

	// For GBK: each record is written to buf as UTF-8 CSV, then encoded
	// whole into out, so a record that cannot be encoded is refused
	// before any of it is written.
	gbk  *encoding.Encoder
	buf  bytes.Buffer
	out  io.Writer
	werr error // the first error writing to out
}

// NewCSVWriter returns a CSVWriter writing to w. With opts.BOM it writes the
// byte order mark at once. It fails for an unknown encoding, and for GBK with
// a byte order mark.
func NewCSVWriter(w io.Writer, opts WriterOptions) (*CSVWriter, error) {
	gbk, err := opts.validate(FormatCSV)
	if err != nil {
		return nil, fmt.Errorf("new csv writer: %w", err)
	}
	if !gbk {
		if opts.BOM {
			if _, err := w.Write(utf8BOM); err != nil {
				return nil, fmt.Errorf("new csv writer: %w", err)
			}
		}
		return &CSVWriter{cw: csv.NewWriter(w)}, nil
	}
	cw := &CSVWriter{gbk: simplifiedchinese.GBK.NewEncoder(), out: w}
	cw.cw = csv.NewWriter(&cw.buf)
	return cw, nil
}

// Write writes one record, as csv.Writer does. In GBK, a field GBK cannot
// hold fails with an *EncodeError and nothing of the record is written.
// Errors of the underlying writer may show only at Flush.
func (w *CSVWriter) Write(record []string) error {
	w.n++
	if w.header == nil {
		w.header = append([]string{}, record...)
	}
	if w.gbk == nil {
		return w.cw.Write(record)
	}
	if w.werr != nil {
		return w.werr
	}
	w.buf.Reset()
	if err := w.cw.Write(record); err != nil {
		return err
	}
	w.cw.Flush()
	encoded, err := w.gbk.Bytes(w.buf.Bytes())
	if err != nil {
		w.n--
		return w.encodeError(record)
	}
	_, w.werr = w.out.Write(encoded)
	return w.werr
}

// encodeError finds the field and character GBK cannot hold.
func (w *CSVWriter) encodeError(record []string) error {
	var one [utf8.UTFMax]byte
	for i, f := range record {
		for _, r := range f {
			if _, err := w.gbk.Bytes(one[:utf8.EncodeRune(one[:], r)]); err != nil {
				col := fmt.Sprintf("column %d", i+1)
				if i < len(w.header) && w.n > 0 {
					col = w.header[i]
				}
				return &EncodeError{Encoding: "GBK", Record: w.n + 1, Column: col, Char: r}
			}
		}
	}
	// Every character encodes on its own (invalid UTF-8 aside, which
	// callers have refused): not expected, and still not written.
	return &EncodeError{Encoding: "GBK", Record: w.n + 1, Column: "record", Char: utf8.RuneError}
}

// Flush writes any buffered data to the underlying writer and returns the
// first error met.
func (w *CSVWriter) Flush() error {
	w.cw.Flush()
	if err := w.cw.Error(); err != nil {
		return err
	}
	return w.werr
}
