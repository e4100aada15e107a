package recipient

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestNewWriterOptions(t *testing.T) {
	tests := []struct {
		name    string
		format  Format
		opts    WriterOptions
		wantErr string
	}{
		{name: "UTF8", format: FormatCSV},
		{name: "UTF8BOM", format: FormatCSV, opts: WriterOptions{Encoding: "UTF-8", BOM: true}},
		{name: "GBK", format: FormatCSV, opts: WriterOptions{Encoding: "GBK"}},
		{name: "GBKWithBOM", format: FormatCSV, opts: WriterOptions{Encoding: "gbk", BOM: true},
			wantErr: "new writer: a byte order mark marks UTF-8: it cannot start a GBK file"},
		{name: "Latin1", format: FormatCSV, opts: WriterOptions{Encoding: "latin1"},
			wantErr: `new writer: unknown encoding "latin1" (want utf-8 or gbk)`},
		{name: "JSONLGBK", format: FormatJSONL, opts: WriterOptions{Encoding: "gbk"},
			wantErr: "new writer: JSONL is always UTF-8 without a byte order mark: the encoding and the mark are for CSV"},
		{name: "JSONLBOM", format: FormatJSONL, opts: WriterOptions{BOM: true},
			wantErr: "new writer: JSONL is always UTF-8 without a byte order mark: the encoding and the mark are for CSV"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewWriterOptions(io.Discard, tt.format, []string{"name"}, tt.opts)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.wantErr {
				t.Fatalf("error = %q, want %q", got, tt.wantErr)
			}
		})
	}
}

// TestWriter_Encodings writes the same rows in each encoding Excel users
// need and reads them back: the bytes are what Excel expects, and a Reader
// gives back the rows unchanged.
func TestWriter_Encodings(t *testing.T) {
	rows := []Row{
		{OpenID: id1, Vars: []Var{{"name", "张伟"}, {"note", "€5, \"引号\""}}},
		{OpenID: id2, Vars: []Var{{"name", "Lü Bu"}, {"note", "阿依古丽·买买提"}}},
	}
	tests := []struct {
		name     string
		opts     WriterOptions
		encoding string // for the Reader
		prefix   string // the file's first bytes
	}{
		{name: "UTF8", prefix: "openid,name,note\n"},
		{name: "UTF8BOM", opts: WriterOptions{BOM: true}, prefix: "\xef\xbb\xbfopenid,name,note\n"},
		// 张 is D5C5 and 伟 is CEB0 in GBK (code page 936).
		{name: "GBK", opts: WriterOptions{Encoding: "gbk"}, encoding: "gbk", prefix: "openid,name,note\n" + id1 + ",\xd5\xc5\xce\xb0,"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := NewWriterOptions(&buf, FormatCSV, []string{"name", "note"}, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				if err := w.Write(r.OpenID, r.Vars); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(buf.String(), tt.prefix) {
				t.Fatalf("file starts %q, want %q", buf.String()[:min(len(buf.String()), 60)], tt.prefix)
			}
			got := read(t, buf.String(), Options{Name: "f", Format: FormatCSV, Encoding: tt.encoding})
			want := []string{
				`2:` + id1 + ` name="张伟" note="€5, \"引号\""`,
				`3:` + id2 + ` name="Lü Bu" note="阿依古丽·买买提"`,
			}
			diffEvents(t, got, want)
		})
	}
}

// TestWriter_GBKRefusesWhatItCannotHold: an emoji has no GBK code. The row
// is refused whole, naming the column and the character, and the rows
// around it are written; nothing becomes '?'.
func TestWriter_GBKRefusesWhatItCannotHold(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriterOptions(&buf, FormatCSV, []string{"name"}, WriterOptions{Encoding: "gbk"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(id1, []Var{{"name", "张伟"}}); err != nil {
		t.Fatal(err)
	}
	err = w.Write(id2, []Var{{"name", "刘洋 🎉"}})
	var ee *EncodeError
	if !errors.As(err, &ee) {
		t.Fatalf("Write = %v, want an *EncodeError", err)
	}
	if *ee != (EncodeError{Encoding: "GBK", Record: 3, Column: "name", Char: '🎉'}) {
		t.Errorf("EncodeError = %+v", *ee)
	}
	if want := "write recipient " + id2 + `: name: '🎉' (U+1F389) cannot be written in GBK`; err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}
	if err := w.Write(id3, []Var{{"name", "王芳"}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), []byte("?")) || bytes.Contains(buf.Bytes(), []byte(id2)) {
		t.Errorf("the refused row left a trace: %q", buf.Bytes())
	}
	diffEvents(t, read(t, buf.String(), Options{Name: "f", Format: FormatCSV, Encoding: "gbk"}), []string{
		`2:` + id1 + ` name="张伟"`,
		`3:` + id3 + ` name="王芳"`,
	})
}

func TestCSVWriter_HeaderNamesColumns(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewCSVWriter(&buf, WriterOptions{Encoding: "gbk"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]string{"line", "errmsg"}); err != nil {
		t.Fatal(err)
	}
	err = w.Write([]string{"2", "ok \u00a0 \U0001F600"})
	var ee *EncodeError
	if !errors.As(err, &ee) || ee.Column != "errmsg" || ee.Record != 2 {
		t.Fatalf("Write = %v (%+v), want column errmsg of record 2", err, ee)
	}
}
