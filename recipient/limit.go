package recipient

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// encoding/csv buffers a whole line, and a whole record when a quoted field
// spans lines, before returning anything. Fed a 10 GB line, or a quote that is
// never closed, it would try to hold all of it. limitReader sits between the
// input and csv.Reader and stops both cases early:
//
//   - a physical line longer than max fails with *lineTooLongError; the rest
//     of that line is then discarded, so csv.Reader resumes on the next line
//     and reading can continue;
//   - a record growing past max + csvBufSize bytes (csv.Reader may hold up to
//     its buffer's size unconsumed, so this is past max for certain) fails
//     with *recordTooLongError. The stream cannot be resynchronised: the
//     record is inside a quoted field that may never close.

// csvBufSize is the size of the bufio.Reader that csv.NewReader creates.
const csvBufSize = 4096

// lineTooLongError reports a physical line longer than the limit.
type lineTooLongError struct{ line int }

func (e *lineTooLongError) Error() string { return fmt.Sprintf("line %d too long", e.line) }

// recordTooLongError reports a record growing without end.
type recordTooLongError struct{}

func (e *recordTooLongError) Error() string { return "record too long" }

type limitReader struct {
	br  *bufio.Reader
	max int

	line    int   // physical line now being delivered, 1-based
	lineLen int   // bytes of that line delivered so far, '\n' excluded
	off     int64 // bytes delivered; discarded bytes are not counted

	// recordStart is the offset, in delivered bytes, where the record that
	// csv.Reader is parsing began. The CSV source sets it from
	// csv.Reader.InputOffset after every record.
	recordStart int64

	skip bool  // discard up to and including the next '\n' before delivering
	eof  bool  // the input has been read to its end
	err  error // returned by the next Read, once
}

// atEOF reports whether the whole input has been delivered.
func (g *limitReader) atEOF() bool { return g.eof }

func newLimitReader(br *bufio.Reader, max int) *limitReader {
	return &limitReader{br: br, max: max, line: 1}
}

// Read delivers input to csv.Reader, line by line within the limits. Each
// error is returned once, after the bytes before it have been delivered.
func (g *limitReader) Read(p []byte) (int, error) {
	if g.err != nil {
		err := g.err
		g.err = nil
		return 0, err
	}
	if g.skip {
		if err := g.skipLine(); err != nil {
			return 0, err
		}
	}
	if len(p) == 0 {
		return 0, nil
	}
	if _, err := g.br.Peek(1); err != nil {
		g.eof = err == io.EOF
		return 0, err // io.EOF or a read error, passed through unchanged
	}
	buf, _ := g.br.Peek(min(len(p), g.br.Buffered()))
	recordFull := false
	if limit := g.recordStart + int64(g.max) + csvBufSize - g.off; int64(len(buf)) > limit {
		buf = buf[:max(limit, 0)]
		recordFull = true
	}
	n := g.scan(buf)
	if recordFull && g.err == nil {
		// Only when no overlong line came first: errors are reported in
		// stream order.
		g.err = &recordTooLongError{}
	}
	copy(p, buf[:n])
	g.br.Discard(n)
	g.off += int64(n)
	if n == 0 {
		err := g.err
		g.err = nil
		return 0, err
	}
	return n, nil
}

// scan advances the line counters over buf and returns how many of its bytes
// may be delivered. It stops, setting g.err and g.skip, where a line
// exceeds the limit.
func (g *limitReader) scan(buf []byte) int {
	n := 0
	for n < len(buf) {
		rest := buf[n:]
		i := bytes.IndexByte(rest, '\n')
		seg := rest
		if i >= 0 {
			seg = rest[:i]
		}
		if room := g.max - g.lineLen; len(seg) > room {
			g.lineLen = g.max
			g.err = &lineTooLongError{line: g.line}
			g.skip = true
			return n + room
		}
		if i < 0 {
			g.lineLen += len(seg)
			return len(buf)
		}
		n += i + 1
		g.line++
		g.lineLen = 0
	}
	return n
}

// skipLine discards the rest of an overlong line, its '\n' included.
func (g *limitReader) skipLine() error {
	for {
		b, err := g.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			continue
		}
		g.skip = false
		g.eof = err == io.EOF
		if err == nil || len(b) > 0 && err == io.EOF {
			g.line++
			g.lineLen = 0
			return nil
		}
		return err
	}
}
