package recipient

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// trickyValues are values that break naive CSV or JSON writing.
var trickyValues = []string{
	`say "hi"`,
	"a,b,c",
	"two\nlines",
	"lone\rcarriage return",
	"emoji 😀 and 中文",
	"  leading and trailing  ",
	"\ttab",
	"=HYPERLINK(\"http://x\")",
	"+1", "-1", "@SUM(A1)",
	"",
	`back\slash`,
	`\.`,
	"<b>&amp;</b>",
	"\u2028line separator\u2029",
	"\x01control\x1f",
	"'quoted'",
	"ends with quote\"",
	"\"",
	"\ufeffbom inside",
}

// writeRows writes rows through a Writer and returns the output.
func writeRows(tb testing.TB, f Format, columns []string, rows []Row) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, f, columns)
	if err != nil {
		tb.Fatal(err)
	}
	for _, r := range rows {
		if err := w.Write(r.OpenID, r.Vars); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// readRows reads data back, failing on any error.
func readRows(tb testing.TB, data []byte, f Format) []Row {
	tb.Helper()
	r, err := NewReader(bytes.NewReader(data), Options{Name: "export", Format: f, OpenIDs: OpenIDLoose})
	if err != nil {
		tb.Fatalf("NewReader: %v\n%s", err, data)
	}
	var rows []Row
	for {
		row, err := r.Next()
		if err == io.EOF {
			return rows
		}
		if err != nil {
			tb.Fatalf("Next: %v\n%s", err, data)
		}
		rows = append(rows, row)
	}
}

func TestWriter_RoundTrip(t *testing.T) {
	columns := []string{"name", "note", "errcode", "errmsg"}
	var rows []Row
	for i, v := range trickyValues {
		rows = append(rows, Row{
			OpenID: "oRound-trip_" + itoa(i),
			Vars: []Var{
				{"name", v},
				{"note", strings.Repeat(v, 3)},
				{"errcode", "43004"},
				{"errmsg", "require subscribe rid: 6560d2b3-1a2b3c4d-" + v},
			},
		})
	}
	for _, f := range []Format{FormatCSV, FormatJSONL} {
		t.Run(f.String(), func(t *testing.T) {
			data := writeRows(t, f, columns, rows)
			got := readRows(t, data, f)
			if len(got) != len(rows) {
				t.Fatalf("read %d rows, wrote %d:\n%s", len(got), len(rows), data)
			}
			for i := range rows {
				want := rows[i]
				got[i].Line = 0
				if rowString(got[i]) != rowString(want) {
					t.Errorf("row %d:\n got %s\nwant %s", i, rowString(got[i]), rowString(want))
				}
			}
			// Sniffing must find the format too, as for a file piped to stdin.
			if auto := readRows(t, data, FormatAuto); len(auto) != len(rows) {
				t.Errorf("auto-detected read gave %d rows, want %d", len(auto), len(rows))
			}
		})
	}
}

func TestWriter_Output(t *testing.T) {
	rows := []Row{
		{OpenID: id1, Vars: []Var{{"amount", "1.50"}, {"name", "Alice"}}},
		{OpenID: id2, Vars: []Var{{"name", `B "o" b`}}},
		{OpenID: id3, Vars: []Var{{"extra", "<&>"}, {"name", "张伟"}}},
	}
	tests := []struct {
		name    string
		format  Format
		columns []string
		rows    []Row
		want    string
	}{
		{
			name: "CSV", format: FormatCSV, columns: []string{"name", "amount"}, rows: rows[:2],
			want: "openid,name,amount\n" + id1 + ",Alice,1.50\n" + id2 + `,"B ""o"" b",` + "\n",
		},
		{
			name: "CSVNoColumns", format: FormatCSV, rows: []Row{{OpenID: id1}},
			want: "openid\n" + id1 + "\n",
		},
		{
			name: "JSONL", format: FormatJSONL, columns: []string{"name", "amount"}, rows: rows,
			want: `{"openid":"` + id1 + `","name":"Alice","amount":"1.50"}` + "\n" +
				`{"openid":"` + id2 + `","name":"B \"o\" b"}` + "\n" +
				`{"openid":"` + id3 + `","name":"张伟","extra":"<&>"}` + "\n",
		},
		{
			name: "JSONLEscapes", format: FormatJSONL, rows: []Row{{OpenID: id1, Vars: []Var{{"s", "\n\r\t\\\x01\u2028"}}}},
			want: `{"openid":"` + id1 + `","s":"\n\r\t\\\u0001\u2028"}` + "\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(writeRows(t, tt.format, tt.columns, tt.rows)); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestNewWriter_Errors(t *testing.T) {
	tests := []struct {
		name    string
		format  Format
		columns []string
		wantErr string
	}{
		{name: "Auto", format: FormatAuto, wantErr: "new writer: format auto: want csv or jsonl"},
		{name: "OpenIDColumn", format: FormatCSV, columns: []string{"name", "openid"}, wantErr: "new writer: openid is always the first column; do not list it"},
		{name: "InvalidName", format: FormatJSONL, columns: []string{"first name"}, wantErr: `new writer: column "first name" is not a valid variable name`},
		{name: "Duplicate", format: FormatCSV, columns: []string{"a", "b", "a"}, wantErr: `new writer: column "a" listed twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewWriter(io.Discard, tt.format, tt.columns)
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("NewWriter error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestWriter_WriteErrors(t *testing.T) {
	tests := []struct {
		name    string
		format  Format
		openid  string
		vars    []Var
		wantErr string
	}{
		{name: "EmptyOpenID", format: FormatCSV, openid: "", wantErr: `write recipient: openid "": empty`},
		{name: "SpaceOpenID", format: FormatJSONL, openid: "o x", wantErr: `write recipient: openid "o x": contains a space`},
		{name: "OpenIDVar", format: FormatJSONL, openid: id1, vars: []Var{{"openid", id2}}, wantErr: `write recipient ` + id1 + `: variable "openid": pass the openid separately`},
		{name: "BadName", format: FormatJSONL, openid: id1, vars: []Var{{"a-b", ""}}, wantErr: `write recipient ` + id1 + `: variable "a-b": not a valid variable name`},
		{name: "InvalidUTF8", format: FormatCSV, openid: id1, vars: []Var{{"name", "\xff"}}, wantErr: `write recipient ` + id1 + `: variable name: invalid UTF-8`},
		{name: "NUL", format: FormatJSONL, openid: id1, vars: []Var{{"name", "a\x00"}}, wantErr: `write recipient ` + id1 + `: variable name: contains a NUL byte`},
		{name: "Twice", format: FormatJSONL, openid: id1, vars: []Var{{"name", "a"}, {"name", "b"}}, wantErr: `write recipient ` + id1 + `: variable "name" given twice`},
		{name: "NotAColumn", format: FormatCSV, openid: id1, vars: []Var{{"city", "x"}}, wantErr: `write recipient ` + id1 + `: variable "city" is not one of the file's columns`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := NewWriter(&buf, tt.format, []string{"name"})
			if err != nil {
				t.Fatal(err)
			}
			err = w.Write(tt.openid, tt.vars)
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("Write error = %v, want %q", err, tt.wantErr)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			// Nothing of the refused row may reach the output.
			if strings.Contains(buf.String(), id1) {
				t.Errorf("refused row was written: %q", buf.String())
			}
		})
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriter_FlushError(t *testing.T) {
	for _, f := range []Format{FormatCSV, FormatJSONL} {
		t.Run(f.String(), func(t *testing.T) {
			w, err := NewWriter(failWriter{}, f, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(id1, nil); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(); err == nil || !strings.Contains(err.Error(), "disk full") {
				t.Errorf("Flush error = %v, want disk full", err)
			}
		})
	}
}
