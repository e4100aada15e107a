package recipient

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// The seed corpora live in testdata/fuzz/<Target>/; the files of
// testdata/bad are added as seeds too. Run a target with, for example,
//
//	go test ./recipient -run '^$' -fuzz '^FuzzCSV$' -fuzztime 30s

// addBadSeeds adds every file of the bad corpus with the given extension.
func addBadSeeds(f *testing.F, ext string, add func([]byte)) {
	files, _ := filepath.Glob(filepath.Join(badDir, "*"+ext))
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil {
			add(data)
		}
	}
}

// checkStream reads everything r returns and checks the invariants every
// input must keep, however broken: no panic, io.EOF within a bounded number
// of calls (each call consumes at least one line), only *LineError errors,
// rows with a plausible openid and valid UTF-8 values without NUL bytes, and
// strictly increasing line numbers starting after minLine.
func checkStream(t *testing.T, r *Reader, ids OpenIDCheck, inputLen, minLine int) {
	t.Helper()
	last := minLine - 1
	for calls := 0; ; calls++ {
		if calls > inputLen+2 {
			t.Fatalf("Next did not reach io.EOF after %d calls", calls)
		}
		row, err := r.Next()
		if err == io.EOF {
			if _, err := r.Next(); err != io.EOF {
				t.Fatalf("Next after io.EOF = %v", err)
			}
			return
		}
		if err != nil {
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("error %v (%T) is not a *LineError", err, err)
			}
			if le.Line < 1 || le.File == "" || le.Msg == "" {
				t.Fatalf("incomplete LineError %+v", le)
			}
			continue
		}
		if err := ids.Check(row.OpenID); err != nil {
			t.Fatalf("row %d: implausible openid %q returned: %v", row.Line, row.OpenID, err)
		}
		for _, v := range row.Vars {
			if !utf8.ValidString(v.Value) || strings.IndexByte(v.Value, 0) >= 0 || !validName(v.Name) {
				t.Fatalf("row %d: bad var %q=%q", row.Line, v.Name, v.Value)
			}
		}
		if row.Line <= last {
			t.Fatalf("row line %d after line %d", row.Line, last)
		}
		last = row.Line
	}
}

// fuzzOptions derives reader options from two fuzzed parameters, so the
// small line limits, GBK decoding and the loose openid check (odd limits)
// are explored too.
func fuzzOptions(format Format, gbk bool, maxLine uint8) Options {
	opts := Options{Name: "fuzz", Format: format, MaxLine: int(maxLine)} // 0 means the default
	if maxLine%2 == 1 {
		opts.OpenIDs = OpenIDLoose
	}
	if gbk {
		opts.Encoding = "gbk"
	}
	return opts
}

func FuzzCSV(f *testing.F) {
	f.Add([]byte("openid,name\n"+id1+",Alice\n"), false, uint8(0))
	f.Add([]byte("openid,name\n"+id1+",\"a\nb\"\n"+id2+",\"open\n"), false, uint8(0))
	f.Add([]byte("openid,note\n"+id1+",\""+strings.Repeat("x\n", 100)+"\"\n"), false, uint8(16))
	addBadSeeds(f, ".csv", func(b []byte) { f.Add(b, false, uint8(0)); f.Add(b, true, uint8(8)) })
	// Spreadsheets and UTF-16 text, which NewReader names instead of reading.
	addBadSeeds(f, ".xlsx", func(b []byte) { f.Add(b, false, uint8(0)) })
	f.Add([]byte("PK\x03\x04\x14\x00xl/"), false, uint8(0))
	f.Add([]byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), false, uint8(0))
	f.Add([]byte("\xff\xfeo\x00p\x00"), false, uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, gbk bool, maxLine uint8) {
		opts := fuzzOptions(FormatCSV, gbk, maxLine)
		r, err := NewReader(bytes.NewReader(data), opts)
		if err != nil {
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("NewReader error %v (%T) is not a *LineError", err, err)
			}
			return
		}
		for _, c := range r.Columns() {
			if !validName(c) || c == "openid" {
				t.Fatalf("column %q accepted", c)
			}
		}
		checkStream(t, r, opts.OpenIDs, len(data), 2)
	})
}

func FuzzJSONL(f *testing.F) {
	f.Add([]byte(`{"openid":"`+id1+`","name":"Alice","n":1.5,"b":true,"z":null}`+"\n"), false, uint8(0))
	f.Add([]byte(`{"openid":"`+id1+`","a":{"b":[1]}}`+"\n\n[]\n"), false, uint8(0))
	f.Add([]byte(`{"openid":"`+id1+`","a":"1","a":"2"}`+"\r\n"+`{"openid":1}`), false, uint8(20))
	addBadSeeds(f, ".jsonl", func(b []byte) { f.Add(b, false, uint8(0)); f.Add(b, true, uint8(8)) })
	f.Fuzz(func(t *testing.T, data []byte, gbk bool, maxLine uint8) {
		opts := fuzzOptions(FormatJSONL, gbk, maxLine)
		r, err := NewReader(bytes.NewReader(data), opts)
		if err != nil {
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("NewReader error %v (%T) is not a *LineError", err, err)
			}
			return
		}
		if r.Columns() != nil {
			t.Fatal("JSONL reader has columns")
		}
		checkStream(t, r, opts.OpenIDs, len(data), 1)
	})
}

// FuzzRoundTrip writes a row with fuzzed values and reads it back. Rows the
// Writer refuses are skipped: refusing is the Writer's way of keeping the
// round-trip promise.
func FuzzRoundTrip(f *testing.F) {
	for i, v := range trickyValues {
		f.Add("oSeed"+itoa(i), v, "x", v+v, i%2 == 0)
	}
	f.Add("o-_9", "a\r\nb", "\r\n", "", false)
	f.Fuzz(func(t *testing.T, openid, a, b, c string, jsonl bool) {
		format := FormatCSV
		if jsonl {
			format = FormatJSONL
		}
		want := Row{OpenID: openid, Vars: []Var{{"a", a}, {"b", b}, {"c", c}}}
		var buf bytes.Buffer
		w, err := NewWriter(&buf, format, []string{"a", "b", "c"})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(want.OpenID, want.Vars); err != nil {
			return
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		got := readRows(t, buf.Bytes(), format)
		if len(got) != 1 {
			t.Fatalf("read %d rows from %q", len(got), buf.Bytes())
		}
		if format == FormatCSV {
			// encoding/csv reads "\r\n" inside a quoted value as "\n"; the
			// Writer's documentation says so.
			for i := range want.Vars {
				want.Vars[i].Value = strings.ReplaceAll(want.Vars[i].Value, "\r\n", "\n")
			}
		}
		got[0].Line = 0
		if rowString(got[0]) != rowString(want) {
			t.Fatalf("round trip through %v:\n got %s\nwant %s\nfile %q", format, rowString(got[0]), rowString(want), buf.Bytes())
		}
	})
}

// FuzzJSONLParsers checks that the fast parser of valid lines, scanFlat,
// agrees with the encoding/json tokenizer on every line both can read.
func FuzzJSONLParsers(f *testing.F) {
	f.Add(`{"openid":"` + id1 + `","n":-1.5e3,"t":true,"f":false,"z":null}`)
	f.Add(` { "openid" : "x" , "a" : "\u00e9\ud800\"" , "b":[1] } `)
	f.Add(`{"openid":"x","a":"1","a":{"b":2}}`)
	f.Add(`{"a\u0000":"x","openid":null}`)
	f.Add(`{}`)
	f.Fuzz(func(t *testing.T, line string) {
		// parse only hands over valid UTF-8 lines, without their "\n".
		if !json.Valid([]byte(line)) || !utf8.ValidString(line) || strings.Contains(line, "\n") {
			return
		}
		if trimmed := strings.TrimLeft(line, " \t\r"); trimmed == "" || trimmed[0] != '{' {
			return
		}
		run := func(parse func(*rowBuilder) *LineError) string {
			b := rowBuilder{name: "f", row: Row{Line: 1}}
			le := parse(&b)
			if le == nil {
				le = b.finish()
			}
			if le != nil {
				return le.Error()
			}
			return rowString(b.row)
		}
		fast := run(func(b *rowBuilder) *LineError { return scanFlat(line, b) })
		slow := run(func(b *rowBuilder) *LineError { return tokenParse([]byte(line), b) })
		if fast != slow {
			t.Fatalf("parsers disagree on %q:\nscanFlat:   %s\ntokenParse: %s", line, fast, slow)
		}
	})
}

// openIDPattern is the strict check written the slow, obvious way, for
// FuzzOpenIDCheck to compare against.
var (
	openIDPattern      = regexp.MustCompile(`^[A-Za-z0-9_-]{28}$`)
	looseOpenIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

// FuzzOpenIDCheck holds the openid check to its definition: strict accepts
// exactly what the pattern does, loose accepts 1 to 64 bytes of the same
// alphabet, whatever strict accepts loose accepts, and every refusal says
// why.
func FuzzOpenIDCheck(f *testing.F) {
	for _, s := range []string{"oRmDq5Jm3Ynl9XCdtgQ7Kz1-ab_c", "ox", "oRmDq5Jm3Ynl9XCdtgQ7Kz1-ab_", "oAbc\u3000", "o\xff", "", strings.Repeat("a", 65)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		strict, loose := OpenIDStrict.Check(s), OpenIDLoose.Check(s)
		if want := openIDPattern.MatchString(s); (strict == nil) != want {
			t.Fatalf("strict check of %q = %v, pattern says %v", s, strict, want)
		}
		if want := looseOpenIDPattern.MatchString(s); (loose == nil) != want {
			t.Fatalf("loose check of %q = %v, pattern says %v", s, loose, want)
		}
		for _, err := range []error{strict, loose} {
			if err != nil && err.Error() == "" {
				t.Fatalf("empty error for %q", s)
			}
		}
	})
}

// FuzzGBKRoundTrip writes a row in GBK, or with a byte order mark, and
// reads it back. A row the GBK writer refuses must name a character GBK
// truly lacks; a row it writes must read back unchanged under
// --encoding gbk, and never hold a '?' the values did not.
func FuzzGBKRoundTrip(f *testing.F) {
	for _, v := range trickyValues {
		f.Add(v, "张伟", false)
	}
	f.Add("刘洋 🎉", "€5", false)
	f.Add("Zoë", "\u00a0", true)
	f.Fuzz(func(t *testing.T, a, b string, bom bool) {
		opts := WriterOptions{Encoding: "gbk"}
		readAs := "gbk"
		if bom {
			opts, readAs = WriterOptions{BOM: true}, ""
		}
		want := Row{OpenID: id1, Vars: []Var{{"a", a}, {"b", b}}}
		var buf bytes.Buffer
		w, err := NewWriterOptions(&buf, FormatCSV, []string{"a", "b"}, opts)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(want.OpenID, want.Vars); err != nil {
			var ee *EncodeError
			if errors.As(err, &ee) {
				if bom {
					t.Fatalf("UTF-8 writer refused %q: %v", want.Vars, err)
				}
				if _, gerr := simplifiedchinese.GBK.NewEncoder().String(string(ee.Char)); gerr == nil {
					t.Fatalf("refused %q, which GBK encodes", ee.Char)
				}
			}
			return
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		r, err := NewReader(bytes.NewReader(buf.Bytes()), Options{Name: "f", Format: FormatCSV, Encoding: readAs})
		if err != nil {
			t.Fatalf("NewReader: %v\n%q", err, buf.Bytes())
		}
		got, err := r.Next()
		if err != nil {
			t.Fatalf("Next: %v\n%q", err, buf.Bytes())
		}
		for i := range want.Vars {
			// encoding/csv reads "\r\n" inside a quoted value as "\n".
			want.Vars[i].Value = strings.ReplaceAll(want.Vars[i].Value, "\r\n", "\n")
		}
		got.Line = 0
		if rowString(got) != rowString(want) {
			t.Fatalf("round trip:\n got %s\nwant %s\nfile %q", rowString(got), rowString(want), buf.Bytes())
		}
	})
}
