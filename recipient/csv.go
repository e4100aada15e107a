package recipient

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// csvSource reads CSV recipients: a header row naming the columns, then one
// record per recipient. encoding/csv does the parsing, with the strictest
// settings; raggedness is checked here so the message can say how many
// fields the header has.
type csvSource struct {
	name string
	cr   *csv.Reader
	g    *limitReader
	dec  *textDecoder
	max  int
	ids  OpenIDCheck

	header   []string // every column, openid included, in order
	vars     []string // header without openid
	openidAt int      // index of the openid column in header

	// lastLine is the last physical line of the previous record. Errors that
	// csv.Reader reports without a position (a record too long) are placed on
	// the line after it.
	lastLine int
}

func newCSVSource(br *bufio.Reader, name string, dec *textDecoder, max int, ids OpenIDCheck) (*csvSource, error) {
	g := newLimitReader(br, max)
	cr := csv.NewReader(g)
	cr.ReuseRecord = false // rows' values are kept by the caller
	cr.LazyQuotes = false  // a stray quote is an error, not silently part of a value
	cr.FieldsPerRecord = -1
	s := &csvSource{name: name, cr: cr, g: g, dec: dec, max: max, ids: ids}
	// A JSONL file given a .csv or .txt name fails at its "header"; say why.
	first, _ := br.Peek(1)
	looksJSON := len(first) == 1 && first[0] == '{'

	rec, line, err := s.read()
	if err == io.EOF {
		return nil, errorf(name, 1, "", "no header row (empty file)")
	}
	if err == nil {
		if le := s.parseHeader(line, rec); le != nil {
			err = le // not assigned directly: a nil *LineError is a non-nil error
		}
	}
	var le *LineError
	if errors.As(err, &le) && looksJSON {
		le.Msg += " (the file looks like JSONL, not CSV)"
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// parseHeader checks the header row and records the column layout. It
// reports the first problem found.
func (s *csvSource) parseHeader(line int, rec []string) *LineError {
	s.openidAt = -1
	seen := make(map[string]int, len(rec))
	caseMatch := ""
	for i, raw := range rec {
		name, msg := s.dec.decode(raw)
		switch {
		case msg != "":
			return errorf(s.name, line, "", "column %d: %s", i+1, msg)
		case name == "":
			return errorf(s.name, line, "", "column %d has no name", i+1)
		case !validName(name):
			return errorf(s.name, line, "", "column %d %q is not a valid variable name "+
				"(use letters, digits and _, not starting with a digit)", i+1, name)
		}
		if j, dup := seen[name]; dup {
			return errorf(s.name, line, "", "column %q appears twice (columns %d and %d)", name, j+1, i+1)
		}
		seen[name] = i
		s.header = append(s.header, name)
		switch {
		case name == "openid":
			s.openidAt = i
			continue
		case strings.EqualFold(name, "openid"):
			caseMatch = name
		}
		s.vars = append(s.vars, name)
	}
	if s.openidAt < 0 {
		if caseMatch != "" {
			return errorf(s.name, line, "", "no openid column (found %q; column names are case-sensitive)", caseMatch)
		}
		return errorf(s.name, line, "", "no openid column")
	}
	if s.vars == nil {
		s.vars = []string{} // Columns reports "no variables", not "JSONL"
	}
	return nil
}

// next returns the next row. A record whose fields are all empty is skipped:
// spreadsheets save rows that once held data as ",,,".
func (s *csvSource) next() (Row, error) {
	for {
		rec, line, err := s.read()
		if err != nil {
			var le *LineError
			if errors.As(err, &le) {
				return Row{Line: le.Line}, err
			}
			return Row{}, err
		}
		if isBlankRecord(rec) {
			continue
		}
		row, le := s.row(line, rec)
		if le != nil {
			return Row{Line: line}, le
		}
		return row, nil
	}
}

// read returns the next record and the line it starts on. Every error but
// io.EOF is a *LineError.
func (s *csvSource) read() ([]string, int, error) {
	rec, err := s.cr.Read()
	// Whatever happened, csv.Reader has finished with everything before
	// InputOffset: the next record starts there, and the limit reader
	// measures the record's growth from that point.
	s.g.recordStart = s.cr.InputOffset()
	if err != nil {
		return nil, 0, s.readError(err)
	}
	// csv.Reader counts lines itself, quoted newlines included, so FieldPos
	// is right even after multi-line values. A record ends on the line its
	// last field starts on, plus the newlines inside that field ("\r\n"
	// has become "\n"; GBK bytes never contain '\n').
	line, _ := s.cr.FieldPos(0)
	last, _ := s.cr.FieldPos(len(rec) - 1)
	s.lastLine = last + strings.Count(rec[len(rec)-1], "\n")
	return rec, line, nil
}

// readError turns an error from csv.Reader into a *LineError, deciding
// whether reading can go on.
func (s *csvSource) readError(err error) error {
	var (
		pe       *csv.ParseError
		tooLong  *lineTooLongError
		tooLongR *recordTooLongError
	)
	switch {
	case err == io.EOF:
		return io.EOF
	case errors.As(err, &tooLong):
		s.lastLine = tooLong.line
		return errorf(s.name, tooLong.line, "", "line longer than %d bytes", s.max)
	case errors.As(err, &tooLongR):
		return fatalf(s.name, s.lastLine+1, nil,
			"record runs past %d bytes (is a quoted field missing its closing quote?)", s.max)
	case errors.As(err, &pe):
		// csv.Reader drops the rest of the line it failed on and starts
		// afresh on the next one.
		s.lastLine = pe.Line
		return s.parseError(pe)
	}
	// A read error from the input itself: nothing after it can be trusted.
	return fatalf(s.name, s.g.line, err, "read: %v", err)
}

// parseError explains a csv.ParseError in a spreadsheet user's terms. Byte
// positions are 1-based within the line, as csv.Reader counts them.
func (s *csvSource) parseError(pe *csv.ParseError) *LineError {
	switch {
	case errors.Is(pe.Err, csv.ErrQuote) && s.g.atEOF() && s.cr.InputOffset() == s.g.off:
		// csv.Reader reached the end still inside the quoted field: there
		// is no later line to resume at.
		return fatalf(s.name, pe.StartLine, nil, "quoted field is never closed (still open at end of file)")
	case errors.Is(pe.Err, csv.ErrQuote):
		// A quote opened on an earlier line swallowed the lines between:
		// report the record where it starts, and say where it broke.
		le := errorf(s.name, pe.StartLine, "",
			`quote in a quoted field must be doubled ("") or followed by a comma (line %d, byte %d)`,
			pe.Line, pe.Column)
		if pe.Line == pe.StartLine {
			le.Msg = fmt.Sprintf(`quote in a quoted field must be doubled ("") or followed by a comma (byte %d)`, pe.Column)
		}
		return le
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return errorf(s.name, pe.Line, "",
			`stray quote in an unquoted field (byte %d): quote the whole field and double the quote`, pe.Column)
	}
	return errorf(s.name, pe.Line, "", "%v", pe.Err)
}

// row validates a record and builds its Row. At most one problem is
// reported: the first found, checking the shape, then each field in column
// order, then the openid.
func (s *csvSource) row(line int, rec []string) (Row, *LineError) {
	// encoding/csv's own FieldsPerRecord check would only say "wrong number
	// of fields"; counting here lets the message give both numbers.
	if len(rec) != len(s.header) {
		return Row{}, errorf(s.name, line, "", "%s, header has %d", plural(len(rec), "field"), len(s.header))
	}
	// The limit reader stops a record only well past max (it cannot see
	// csv.Reader's buffer); this catches the ones between.
	size := 0
	for _, f := range rec {
		size += len(f)
	}
	if size > s.max {
		return Row{}, errorf(s.name, line, "", "record longer than %d bytes", s.max)
	}
	row := Row{Line: line, Vars: make([]Var, 0, len(s.vars))}
	for i, raw := range rec {
		// A field of a multi-line record is reported on its own line.
		fline, _ := s.cr.FieldPos(i)
		v, msg := s.dec.decode(raw)
		if msg != "" {
			return Row{}, errorf(s.name, fline, s.header[i], "%s", msg)
		}
		if i == s.openidAt {
			row.OpenID = v
			continue
		}
		if strings.IndexByte(v, 0) >= 0 {
			return Row{}, errorf(s.name, fline, s.header[i], "contains a NUL byte")
		}
		row.Vars = append(row.Vars, Var{Name: s.header[i], Value: v})
	}
	if err := s.ids.Check(row.OpenID); err != nil {
		fline, _ := s.cr.FieldPos(s.openidAt)
		return Row{}, errorf(s.name, fline, "openid", "%v", err)
	}
	return row, nil
}

func isBlankRecord(rec []string) bool {
	for _, f := range rec {
		if f != "" {
			return false
		}
	}
	return true
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
