package recipient

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

func TestFormatFromPath(t *testing.T) {
	tests := []struct {
		name string
		path string
		want Format
	}{
		{name: "CSV", path: "users.csv", want: FormatCSV},
		{name: "CSVUpper", path: "/tmp/USERS.CSV", want: FormatCSV},
		{name: "TXT", path: "users.txt", want: FormatCSV},
		{name: "JSONL", path: "dir.v2/users.jsonl", want: FormatJSONL},
		{name: "NDJSON", path: "users.ndjson", want: FormatJSONL},
		{name: "Stdin", path: "-", want: FormatAuto},
		{name: "NoExtension", path: "users", want: FormatAuto},
		{name: "JSON", path: "users.json", want: FormatAuto},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FormatFromPath(tt.path); got != tt.want {
				t.Errorf("FormatFromPath(%q) = %v, want %v", tt.path, got, tt.want)
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Format
		wantErr string
	}{
		{name: "Empty", in: "", want: FormatAuto},
		{name: "Auto", in: "auto", want: FormatAuto},
		{name: "CSV", in: "CSV", want: FormatCSV},
		{name: "JSONL", in: "jsonl", want: FormatJSONL},
		{name: "Unknown", in: "xlsx", wantErr: `unknown format "xlsx" (want csv, jsonl or auto)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFormat(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ParseFormat(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseFormat(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			if back, _ := ParseFormat(got.String()); back != got {
				t.Errorf("ParseFormat(%v.String()) = %v", got, back)
			}
		})
	}
}

func TestNewReader_Options(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		input   string
		wantErr string
	}{
		{name: "UnknownEncoding", opts: Options{Encoding: "latin1"}, wantErr: `unknown encoding "latin1" (want utf-8 or gbk)`},
		{name: "UnknownFormat", opts: Options{Format: Format(9)}, wantErr: "unknown format Format(9)"},
		{name: "EncodingCase", opts: Options{Encoding: "UTF-8"}, input: "openid\n"},
		{name: "StdinName", opts: Options{Name: "-"}, wantErr: "stdin:1: no header row (empty file)"},
		{name: "NoName", wantErr: "input:1: no header row (empty file)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tt.input), tt.opts)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.wantErr {
				t.Errorf("NewReader error = %q, want %q", got, tt.wantErr)
			}
		})
	}
}

func TestNewReader_Sniff(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{name: "JSONL", input: `{"openid":"` + id1 + `"}`, want: []string{"1:" + id1}},
		{name: "JSONLAfterBOMAndSpace", input: "\xef\xbb\xbf \n\t" + `{"openid":"` + id1 + `"}`, want: []string{"2:" + id1}},
		{name: "JSONLAfterLongBlank", input: strings.Repeat(" ", 5000) + `{"openid":"` + id1 + `"}`, want: []string{"1:" + id1}},
		{name: "CSV", input: "openid\n" + id1, want: []string{"2:" + id1}},
		{name: "CSVQuotedHeader", input: `"openid"` + "\n" + id1, want: []string{"2:" + id1}},
		{name: "JSONArrayIsCSV", input: `[{"openid":"x"}]`, want: []string{
			`OPEN stdin:1: stray quote in an unquoted field (byte 3): quote the whole field and double the quote`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			diffEvents(t, read(t, tt.input, Options{Name: "-"}), tt.want)
		})
	}
}

func TestRow_Lookup(t *testing.T) {
	row := Row{OpenID: id1, Vars: []Var{{"name", "Alice"}, {"empty", ""}}}
	tests := []struct {
		name   string
		key    string
		want   string
		wantOK bool
	}{
		{name: "OpenID", key: "openid", want: id1, wantOK: true},
		{name: "Var", key: "name", want: "Alice", wantOK: true},
		{name: "EmptyVar", key: "empty", want: "", wantOK: true},
		{name: "Missing", key: "amount", want: "", wantOK: false},
		{name: "CaseSensitive", key: "Name", want: "", wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := row.Lookup(tt.key)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tt.key, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestLineError_Error(t *testing.T) {
	tests := []struct {
		name string
		err  *LineError
		want string
	}{
		{name: "Field", err: &LineError{File: "users.csv", Line: 12, Field: "openid", Msg: "empty"}, want: "users.csv:12: openid: empty"},
		{name: "NoField", err: &LineError{File: "users.csv", Line: 3, Msg: "invalid UTF-8 (try --encoding gbk)"}, want: "users.csv:3: invalid UTF-8 (try --encoding gbk)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestReader_ReadError checks that a failing input ends reading with a fatal
// LineError that wraps the cause, after the rows that could be read.
func TestReader_ReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	tests := []struct {
		name   string
		input  string
		format Format
		want   []string
	}{
		{name: "CSV", input: "openid\n" + id1 + "\n" + id2, format: FormatCSV, want: []string{
			"2:" + id1, "FATAL users:3: read: disk on fire",
		}},
		{name: "JSONL", input: `{"openid":"` + id1 + `"}` + "\n{", format: FormatJSONL, want: []string{
			"1:" + id1, "FATAL users:2: read: disk on fire",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := io.MultiReader(strings.NewReader(tt.input), iotest.ErrReader(boom))
			r, err := NewReader(in, Options{Name: "users", Format: tt.format})
			if err != nil {
				t.Fatal(err)
			}
			var last error
			for range 10 {
				if _, last = r.Next(); last != nil && last != io.EOF && errors.Is(last, boom) {
					break
				}
			}
			if !errors.Is(last, boom) {
				t.Errorf("no error wraps the read error; last = %v", last)
			}
			r, _ = NewReader(io.MultiReader(strings.NewReader(tt.input), iotest.ErrReader(boom)),
				Options{Name: "users", Format: tt.format})
			diffEvents(t, events(t, r, 10), tt.want)
		})
	}
}

func TestNewReader_ReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	tests := []struct {
		name   string
		input  string
		format Format
		want   string
	}{
		{name: "CSVHeader", input: "openid,na", format: FormatCSV, want: "users:1: read: disk on fire"},
		{name: "JSONLFirstLine", input: "\n{", format: FormatJSONL, want: "users:2: read: disk on fire"},
		{name: "Sniffing", input: "", format: FormatAuto, want: "users:1: read: disk on fire"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := io.MultiReader(strings.NewReader(tt.input), iotest.ErrReader(boom))
			_, err := NewReader(in, Options{Name: "users", Format: tt.format})
			var le *LineError
			if !errors.As(err, &le) || !le.Fatal || !errors.Is(err, boom) || err.Error() != tt.want {
				t.Errorf("NewReader error = %v, want fatal *LineError %q wrapping the read error", err, tt.want)
			}
		})
	}
}

// TestReader_EOFAfterFatal checks that Next keeps returning io.EOF once a
// fatal error has been returned.
func TestReader_EOFAfterFatal(t *testing.T) {
	r, err := NewReader(strings.NewReader("openid,name\n"+id1+",\"open\n"+id2+",x\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var le *LineError
	if _, err := r.Next(); !errors.As(err, &le) || !le.Fatal {
		t.Fatalf("Next = %v, want a fatal *LineError", err)
	}
	for range 3 {
		if _, err := r.Next(); err != io.EOF {
			t.Fatalf("Next after fatal = %v, want io.EOF", err)
		}
	}
}

// rowSource generates a CSV or JSONL file of n rows on the fly, so a test can
// stream far more data than it holds.
type rowSource struct {
	jsonl bool
	n, i  int
	buf   []byte
}

func (s *rowSource) Read(p []byte) (int, error) {
	for len(s.buf) == 0 {
		switch {
		case s.i > s.n:
			return 0, io.EOF
		case s.i == 0 && s.jsonl:
			// no header
		case s.i == 0:
			s.buf = []byte("openid,name,amount,note\n")
		case s.jsonl:
			s.buf = fmt.Appendf(s.buf, `{"openid":"oMem%024d","name":"用户%d","amount":"%d.00","note":"a, \"quoted\" note"}`+"\n", s.i, s.i, s.i%1000)
		default:
			s.buf = fmt.Appendf(s.buf, "oMem%024d,用户%d,%d.00,\"a, \"\"quoted\"\" note\"\n", s.i, s.i, s.i%1000)
		}
		s.i++
	}
	n := copy(p, s.buf)
	s.buf = s.buf[n:]
	return n, nil
}

// TestReader_ConstantMemory streams 200,000 rows and checks the live heap
// stays small: memory must not grow with the number of rows.
func TestReader_ConstantMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 200,000 rows")
	}
	for _, jsonl := range []bool{false, true} {
		t.Run(map[bool]string{false: "CSV", true: "JSONL"}[jsonl], func(t *testing.T) {
			const rows = 200_000
			r, err := NewReader(&rowSource{jsonl: jsonl, n: rows}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var ms runtime.MemStats
			var peak uint64
			count := 0
			for {
				_, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if count++; count%40_000 == 0 {
					runtime.GC()
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapAlloc)
				}
			}
			if count != rows {
				t.Fatalf("read %d rows, want %d", count, rows)
			}
			// 200,000 rows are ~17 MB of input; holding them would show.
			if peak > 8<<20 {
				t.Errorf("live heap reached %d bytes while streaming", peak)
			}
		})
	}
}
