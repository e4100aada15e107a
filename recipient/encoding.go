package recipient

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Decoding happens per field (CSV) or per line (JSONL), not on the stream.
// GBK and GB18030 never use '\n', '\r', ',' or '"' inside a multi-byte
// character (trail bytes are 0x30-0x39 or 0x40-0xFE), so the raw bytes can be
// split into records first. Working on raw bytes keeps two things exact: a
// bad byte is reported with the line and column it is in, and the "(try
// --encoding gbk)" hint can look at the original bytes.

// utf8BOM is what Excel and Notepad put at the start of a "UTF-8" file.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// textDecoder turns the raw bytes of a field or line into UTF-8.
type textDecoder struct {
	gbk bool              // input is GBK/GB18030, not UTF-8
	gb  *encoding.Decoder // GB18030 decoder: for gbk input and for the hint
	// hint follows "invalid UTF-8" when the bytes look like GBK: "try
	// --encoding gbk", unless a byte order mark has made the file UTF-8
	// whatever the flag says; then the flag cannot help (see overrideBOM).
	hint string
}

// gbkHint is the advice for GBK bytes in a file read as UTF-8.
const gbkHint = " (try --encoding gbk)"

// overrideBOM records that the input started with a UTF-8 byte order mark:
// it is read as UTF-8 even under --encoding gbk (as browsers do), so GBK
// rows in it are a file of two encodings, which no flag reads. The advice
// says so instead of pointing at a flag that was given, or would not help.
func (d *textDecoder) overrideBOM() {
	if d.gbk {
		d.hint = ": the file starts with a UTF-8 byte order mark, which overrides --encoding gbk, " +
			"yet this looks like GBK (the file mixes encodings: save it again as CSV UTF-8)"
	} else {
		d.hint = ": looks like GBK, but the file starts with a UTF-8 byte order mark, " +
			"so --encoding gbk cannot help (the file mixes encodings: save it again as CSV UTF-8)"
	}
	d.gbk = false
}

// newTextDecoder parses an Options.Encoding value. GBK input is decoded as
// GB18030, its superset, so characters Excel writes beyond GBK survive.
func newTextDecoder(name string) (*textDecoder, error) {
	d := &textDecoder{gb: simplifiedchinese.GB18030.NewDecoder(), hint: gbkHint}
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", "utf-8", "utf8":
	case "gbk", "gb18030":
		d.gbk = true
	default:
		return nil, fmt.Errorf("unknown encoding %q (want utf-8 or gbk)", name)
	}
	return d, nil
}

// decode returns raw as UTF-8. On failure it returns a message for a
// LineError instead: "invalid UTF-8", with advice when the bytes look like
// GBK ("(try --encoding gbk)", or what overrideBOM says), or "invalid GBK".
func (d *textDecoder) decode(raw string) (string, string) {
	if isASCII(raw) {
		return raw, "" // the common case: nothing to convert or check
	}
	if !d.gbk {
		if utf8.ValidString(raw) {
			return raw, ""
		}
		if looksLikeGBK(d.gb, []byte(raw)) {
			return "", "invalid UTF-8" + d.hint
		}
		return "", "invalid UTF-8"
	}
	s, err := d.gb.String(raw)
	// The x/text decoder replaces bad bytes with U+FFFD instead of failing.
	// A genuine U+FFFD written as GB18030 is rejected too; no spreadsheet
	// produces one on purpose.
	if err != nil || strings.ContainsRune(s, utf8.RuneError) {
		if utf8.ValidString(raw) {
			return "", "invalid GBK (the bytes are valid UTF-8: drop --encoding gbk)"
		}
		return "", "invalid GBK"
	}
	return s, ""
}

// decodeBytes is decode for a JSONL line.
func (d *textDecoder) decodeBytes(raw []byte) ([]byte, string) {
	if !d.gbk {
		if utf8.Valid(raw) {
			return raw, ""
		}
		if looksLikeGBK(d.gb, raw) {
			return nil, "invalid UTF-8" + d.hint
		}
		return nil, "invalid UTF-8"
	}
	if isASCII(raw) {
		return raw, ""
	}
	s, msg := d.decode(string(raw))
	if msg != "" {
		return nil, msg
	}
	return []byte(s), ""
}

// looksLikeGBK reports whether raw, which is not valid UTF-8, looks like text
// a spreadsheet saved in China's default code page: it decodes cleanly as
// GB18030, mostly into Chinese, Japanese or Korean characters, and most of its
// characters are two bytes that are both >= 0x80, as every GB2312 character
// is. The last test keeps Latin-1 away: "M\xfcller" decodes cleanly into one
// rare GBK character (0xFC 0x6C), and must not earn the "--encoding gbk" hint.
func looksLikeGBK(dec *encoding.Decoder, raw []byte) bool {
	out, err := dec.Bytes(raw)
	if err != nil || bytes.ContainsRune(out, utf8.RuneError) {
		return false
	}
	var wide, cjk int
	for _, r := range string(out) {
		if r < utf8.RuneSelf {
			continue
		}
		wide++
		if isCJK(r) {
			cjk++
		}
	}
	// Count characters by their lead byte, and those whose second byte is
	// also high. A GB18030 four-byte character (lead, digit, byte, digit)
	// counts as a character but not as a high pair.
	var chars, highPairs int
	for i := 0; i < len(raw); {
		if raw[i] < utf8.RuneSelf {
			i++
			continue
		}
		chars++
		switch {
		case i+1 < len(raw) && raw[i+1] >= utf8.RuneSelf:
			highPairs++
			i += 2
		case i+1 < len(raw) && raw[i+1] >= '0' && raw[i+1] <= '9':
			i += 4
		default:
			i += 2
		}
	}
	return wide > 0 && 2*cjk > wide && 2*highPairs > chars
}

func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) ||
		r >= 0x3000 && r <= 0x303F || // CJK symbols and punctuation
		r >= 0xFF00 && r <= 0xFFEF // full-width forms
}

func isASCII[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// skipBOM consumes a UTF-8 byte order mark at the start of br and reports
// whether there was one. Peek failures are left for the format reader to
// meet and report.
func skipBOM(br *bufio.Reader) bool {
	b, _ := br.Peek(len(utf8BOM))
	if !bytes.Equal(b, utf8BOM) {
		return false
	}
	br.Discard(len(utf8BOM))
	return true
}
