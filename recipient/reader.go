// Package recipient reads and writes recipient files: CSV with a header row
// or JSONL, one recipient per row, each with an openid and named variables.
//
// A Reader streams: it holds one row at a time, so a file of a million rows
// needs no more memory than a file of ten. It validates as it goes and
// reports every problem as a *LineError naming the file, line and field, and
// keeps going after a bad row, so one pass finds them all. A Writer produces
// files a Reader accepts back unchanged; the failed-recipients export is one.
//
// The package does not deduplicate openids, and it does not check that a
// template's variables are present: those need the whole file or the
// template, and belong to the import and to template lint.
package recipient

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// Format is the syntax of a recipient file.
type Format int

// Formats. FormatAuto lets NewReader sniff the input.
const (
	FormatAuto Format = iota
	FormatCSV
	FormatJSONL
)

// String returns the name ParseFormat accepts for f.
func (f Format) String() string {
	switch f {
	case FormatAuto:
		return "auto"
	case FormatCSV:
		return "csv"
	case FormatJSONL:
		return "jsonl"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// FormatFromPath guesses the format from a file name's extension
// (case-insensitive): .jsonl and .ndjson are JSONL, .csv and .txt are CSV,
// anything else (including "-" for stdin) is FormatAuto. It never fails.
func FormatFromPath(path string) Format {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl", ".ndjson":
		return FormatJSONL
	case ".csv", ".txt":
		return FormatCSV
	}
	return FormatAuto
}

// ParseFormat parses a --format value: "csv", "jsonl", or "auto" (also "").
// Case is ignored. Any other value is an error naming the accepted ones.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return FormatAuto, nil
	case "csv":
		return FormatCSV, nil
	case "jsonl":
		return FormatJSONL, nil
	}
	return FormatAuto, fmt.Errorf("unknown format %q (want csv, jsonl or auto)", s)
}

// DefaultMaxLine is the longest line or record accepted when Options.MaxLine
// is 0. A recipient row is a few hundred bytes; a megabyte-long line is a
// broken file, and must not be buffered whole.
const DefaultMaxLine = 1 << 20

// Options configures a Reader. The zero value reads UTF-8, sniffs the format
// and names the input "input" in errors.
type Options struct {
	Name     string // file name used in every error ("-" is shown as "stdin")
	Format   Format // FormatAuto sniffs: a first non-space byte '{' means JSONL, else CSV
	Encoding string // "", "utf-8", "utf8", "gbk", "gb18030" (case-insensitive)
	MaxLine  int    // longest allowed line or record in bytes, line terminator excluded; 0 means DefaultMaxLine
	// OpenIDs is how openids are checked; the zero value, OpenIDStrict,
	// accepts only the 28-character openids WeChat issues.
	OpenIDs OpenIDCheck
}

// Reader reads recipient rows from a CSV or JSONL stream, one at a time.
// It is not safe for concurrent use.
type Reader struct {
	src  source
	cols []string
	done bool // io.EOF or a fatal error has been returned
}

// Row is one recipient.
type Row struct {
	Line   int    // 1-based line where the record starts (the CSV header is line 1)
	OpenID string // passed Options.OpenIDs.Check
	Vars   []Var  // CSV: every non-openid column, in header order; JSONL: every other key, in file order
}

// Var is one named value of a row. Values are UTF-8 and contain no NUL byte.
type Var struct {
	Name, Value string
}

// Lookup returns the value of the variable name, and whether the row has it.
// "openid" returns the row's OpenID.
func (r Row) Lookup(name string) (string, bool) {
	if name == "openid" {
		return r.OpenID, true
	}
	for _, v := range r.Vars {
		if v.Name == name {
			return v.Value, true
		}
	}
	return "", false
}

// source is one file format's row decoder.
type source interface {
	next() (Row, error)
}

// sniffWindow bounds how much leading whitespace FormatAuto looks past; the
// buffer below is this size, so sniffing never reads more than it can keep.
const sniffWindow = 64 << 10

// NewReader prepares to read recipients from r. It reads as far as the CSV
// header, or the first JSONL line, and fails if:
//   - opts.Encoding or opts.Format is unknown (a plain error);
//   - the input is empty: "no header row (empty file)" for CSV, "empty file"
//     for JSONL;
//   - the input is a spreadsheet workbook (.xlsx, .xls, .ods) or UTF-16
//     text, found by its first bytes whatever its name: "this is an Excel
//     workbook (.xlsx), not CSV: save it as …";
//   - the CSV header is unusable: malformed, longer than MaxLine, without an
//     openid column, or with a column name that is empty, duplicated, or not
//     a valid variable name ([A-Za-z_][A-Za-z0-9_]*);
//   - reading fails.
//
// All but the first are *LineError values; a read error's is Fatal and wraps
// the cause.
//
// A leading UTF-8 byte order mark is skipped. It also overrides
// Encoding "gbk": a file that starts with one is UTF-8, whatever the flag
// says (as web browsers do).
func NewReader(r io.Reader, opts Options) (*Reader, error) {
	dec, err := newTextDecoder(opts.Encoding)
	if err != nil {
		return nil, err
	}
	if opts.MaxLine <= 0 {
		opts.MaxLine = DefaultMaxLine
	}
	name := displayName(opts.Name)
	br := bufio.NewReaderSize(r, sniffWindow)
	if kind := notText(br); kind != "" {
		return nil, errorf(name, 1, "", "this is %s%s", kind, saveAsCSV)
	}
	if skipBOM(br) {
		dec.overrideBOM()
	}
	format := opts.Format
	if format == FormatAuto {
		format = sniff(br)
	}
	switch format {
	case FormatCSV:
		src, err := newCSVSource(br, name, dec, opts.MaxLine, opts.OpenIDs)
		if err != nil {
			return nil, err
		}
		return &Reader{src: src, cols: src.vars}, nil
	case FormatJSONL:
		src, err := newJSONLSource(br, name, dec, opts.MaxLine, opts.OpenIDs)
		if err != nil {
			return nil, err
		}
		return &Reader{src: src}, nil
	}
	return nil, fmt.Errorf("unknown format %v", opts.Format)
}

// sniff picks JSONL when the first byte that is not white space is '{'.
// Input that is blank for the whole window is called CSV, whose reader then
// reports it.
func sniff(br *bufio.Reader) Format {
	for n := 512; ; n *= 2 {
		n = min(n, sniffWindow)
		b, err := br.Peek(n)
		for _, c := range b {
			switch c {
			case ' ', '\t', '\r', '\n':
				continue
			case '{':
				return FormatJSONL
			}
			return FormatCSV
		}
		if err != nil || n == sniffWindow {
			return FormatCSV
		}
	}
}

// Columns returns the CSV header's variable names in order, without openid;
// the caller may modify the slice. For JSONL, where each row has its own
// keys, it returns nil.
func (r *Reader) Columns() []string {
	if r.cols == nil {
		return nil
	}
	out := make([]string, len(r.cols)) // not append: an empty header must stay non-nil
	copy(out, r.cols)
	return out
}

// Next returns the next valid row, or io.EOF after the last one. CSV records
// whose fields are all empty (",,,", which spreadsheets save for rows that
// once held data) and blank JSONL lines are skipped; they still count in the
// line numbers.
//
// A problem with one row is returned as a *LineError (with Row.Line set);
// calling Next again continues with the following row, so a caller can
// collect every problem in one pass. At most one problem is reported per row:
// the first found. A problem after which the stream cannot be
// resynchronised (a quote left open at the end of the file, a read error) is
// a *LineError with Fatal set, and every later call returns io.EOF.
func (r *Reader) Next() (Row, error) {
	if r.done {
		return Row{}, io.EOF
	}
	row, err := r.src.next()
	if err != nil {
		var le *LineError
		if err == io.EOF || errors.As(err, &le) && le.Fatal {
			r.done = true
		}
	}
	return row, err
}
