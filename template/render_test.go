package template

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// mapLookup adapts a map to Render's lookup.
func mapLookup(m map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

func TestTemplate_Render(t *testing.T) {
	const body = `{
  "touser": "${openid}",
  "template_id": "T1",
  "url": "https://example.com/o/${order}?a=1&b=2",
  "data": {"keyword1": {"value": "${name:-朋友}，您好"}, "keyword2": {"value": "${v}"}},
  "n": [1, 2.50, true, null]
}`
	tests := []struct {
		name  string
		vars  map[string]string
		cmid  string
		want  string
		isErr error
	}{
		{
			name: "OK",
			vars: map[string]string{"openid": "oA", "order": "42", "name": "张三", "v": "x"},
			want: `{"touser":"oA","template_id":"T1","url":"https://example.com/o/42?a=1&b=2","data":{"keyword1":{"value":"张三，您好"},"keyword2":{"value":"x"}},"n":[1,2.50,true,null]}`,
		},
		{
			name: "SpecialCharacters",
			vars: map[string]string{"openid": "oA", "order": "a&b<c>", "name": `"王\小明"`, "v": "$1 ${x}\n\t\x00 🎉"},
			want: `{"touser":"oA","template_id":"T1","url":"https://example.com/o/a&b<c>?a=1&b=2","data":{"keyword1":{"value":"\"王\\小明\"，您好"},"keyword2":{"value":"$1 ${x}\n\t\u0000 🎉"}},"n":[1,2.50,true,null]}`,
		},
		{
			name: "DefaultWhenMissing",
			vars: map[string]string{"openid": "oA", "order": "1", "v": ""},
			want: `{"touser":"oA","template_id":"T1","url":"https://example.com/o/1?a=1&b=2","data":{"keyword1":{"value":"朋友，您好"},"keyword2":{"value":""}},"n":[1,2.50,true,null]}`,
		},
		{
			name: "DefaultWhenEmpty",
			vars: map[string]string{"openid": "oA", "order": "1", "name": "", "v": "x"},
			want: `{"touser":"oA","template_id":"T1","url":"https://example.com/o/1?a=1&b=2","data":{"keyword1":{"value":"朋友，您好"},"keyword2":{"value":"x"}},"n":[1,2.50,true,null]}`,
		},
		{
			name: "ClientMsgIDAppended",
			vars: map[string]string{"openid": "oA", "order": "1", "v": "x"},
			cmid: "b42-000001",
			want: `{"touser":"oA","template_id":"T1","url":"https://example.com/o/1?a=1&b=2","data":{"keyword1":{"value":"朋友，您好"},"keyword2":{"value":"x"}},"n":[1,2.50,true,null],"client_msg_id":"b42-000001"}`,
		},
		{
			name:  "ErrMissingVar",
			vars:  map[string]string{"openid": "oA", "order": "1"},
			isErr: &MissingVarError{Var: "v", Path: "data.keyword2.value"},
		},
		{
			name:  "ErrInvalidUTF8",
			vars:  map[string]string{"openid": "oA", "order": "1", "v": "ok\xffno"},
			isErr: &InvalidValueError{Var: "v", Path: "data.keyword2.value"},
		},
	}
	tmpl := mustParse(t, body)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := []byte("prefix:")
			got, err := tmpl.Render(prefix, mapLookup(tt.vars), tt.cmid)
			if tt.isErr != nil {
				if err == nil || err.Error() != tt.isErr.Error() {
					t.Fatalf("Render() error = %v, want %v", err, tt.isErr)
				}
				if string(got) != "prefix:" {
					t.Errorf("Render() on error returned %q, want dst unchanged", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(got, prefix) {
				t.Fatalf("Render() did not append to dst: %q", got)
			}
			got = got[len(prefix):]
			if string(got) != tt.want {
				t.Errorf("Render() =\n%s\nwant\n%s", got, tt.want)
			}
			if !json.Valid(got) {
				t.Errorf("Render() is not valid JSON")
			}
		})
	}
}

func TestTemplate_Render_ErrorTypes(t *testing.T) {
	tmpl := mustParse(t, `{"touser":"${openid}"}`)
	_, err := tmpl.Render(nil, mapLookup(nil), "")
	var mv *MissingVarError
	if !errors.As(err, &mv) || mv.Var != "openid" || mv.Path != "touser" {
		t.Errorf("error = %#v, want *MissingVarError for openid at touser", err)
	}
	_, err = tmpl.Render(nil, mapLookup(map[string]string{"openid": "\xc3"}), "")
	var iv *InvalidValueError
	if !errors.As(err, &iv) || iv.Var != "openid" {
		t.Errorf("error = %#v, want *InvalidValueError for openid", err)
	}
}

func TestTemplate_Render_ClientMsgID(t *testing.T) {
	tests := []struct {
		name, body, cmid, want string
	}{
		{"Replaced", `{"a":1,"client_msg_id":"${x}","b":2}`, "m1", `{"a":1,"client_msg_id":"m1","b":2}`},
		{"Kept", `{"a":1,"client_msg_id":"${x}","b":2}`, "", `{"a":1,"client_msg_id":"X","b":2}`},
		{"ReplacedNonString", `{"client_msg_id":{"odd":"${x}"}}`, "m1", `{"client_msg_id":"m1"}`},
		{"AppendedToEmpty", `{}`, "m1", `{"client_msg_id":"m1"}`},
		{"NotAppendedWhenEmpty", `{"a":{}}`, "", `{"a":{}}`},
		{"NestedIsNotTopLevel", `{"a":{"client_msg_id":"keep"}}`, "m1", `{"a":{"client_msg_id":"keep"},"client_msg_id":"m1"}`},
		{"Escaped", `{}`, `a"b`, `{"client_msg_id":"a\"b"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mustParse(t, tt.body).Render(nil, mapLookup(map[string]string{"x": "X"}), tt.cmid)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("Render() = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestTemplate_Render_Golden renders every recipient of the sample files
// with the sample templates, one JSON body per line.
func TestTemplate_Render_Golden(t *testing.T) {
	tests := []struct {
		name, template, users string
	}{
		{"order_paid", "order_paid.json", "users.csv"},
		{"order_paid_legacy", "order_paid_legacy.json", "users.csv"},
		{"shipment_update", "shipment_update.json", "shipments.csv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := mustReadTemplate(t, tt.template)
			var out []byte
			for i, row := range readCSV(t, tt.users) {
				var err error
				out, err = tmpl.Render(out, mapLookup(row), "golden-"+string(rune('a'+i)))
				if err != nil {
					t.Fatalf("row %d: %v", i+1, err)
				}
				out = append(out, '\n')
			}
			golden(t, tt.name+".render.golden", out)
		})
	}
}

func TestTemplate_Render_Allocs(t *testing.T) {
	tmpl := mustReadTemplate(t, "order_paid.json")
	row := readCSV(t, "users.csv")[2]
	lookup := mapLookup(row)
	dst := make([]byte, 0, 4096)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := tmpl.Render(dst[:0], lookup, "b42-00000003"); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 {
		t.Errorf("Render() allocates %v times per call, want at most 1", allocs)
	}
}

func BenchmarkTemplate_Render(b *testing.B) {
	tmpl := mustReadTemplate(b, "order_paid.json")
	row := readCSV(b, "users.csv")[2]
	lookup := mapLookup(row)
	dst := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if dst, err = tmpl.Render(dst[:0], lookup, "b42-00000003"); err != nil {
			b.Fatal(err)
		}
	}
}

// mustReadTemplate parses one of the examples in the repository's
// testdata/templates.
func mustReadTemplate(tb testing.TB, name string) *Template {
	tb.Helper()
	path := filepath.Join("..", "testdata", "templates", name)
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl, err := ParseFile(path, data)
	if err != nil {
		tb.Fatal(err)
	}
	return tmpl
}

// readCSV reads a sample recipient file from the repository's testdata as
// one map per row.
func readCSV(tb testing.TB, name string) []map[string]string {
	tb.Helper()
	f, err := os.Open(filepath.Join("..", "testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		tb.Fatal(err)
	}
	var rows []map[string]string
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for i, h := range recs[0] {
			row[h] = rec[i]
		}
		rows = append(rows, row)
	}
	return rows
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(tb testing.TB, name string, got []byte) {
	tb.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		tb.Errorf("%s differs (run go test -update to accept):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestAppendEscaped(t *testing.T) {
	for _, s := range []string{"", "plain", `"`, `\`, "\x00\x01\x1f\x7f", "\u2028\u2029", "<>&", "emoji 🎉", "\b\f\n\r\t", strings.Repeat("长", 100)} {
		got, ok := appendQuoted(nil, s)
		if !ok {
			t.Fatalf("appendQuoted(%q) not ok", s)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil || back != s {
			t.Errorf("appendQuoted(%q) = %s, decodes to %q, %v", s, got, back, err)
		}
		if bytes.Contains(got, []byte(`\u00`)) != strings.ContainsAny(s, "\x00\x01\x1f") {
			t.Errorf("appendQuoted(%q) = %s: \\u escapes only for control characters", s, got)
		}
	}
}
