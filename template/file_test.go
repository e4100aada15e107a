package template

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestIsPath(t *testing.T) {
	tests := []struct {
		ref  string
		want bool
	}{
		{"order_paid", false},
		{"order-paid.v2", false},
		{"购买成功", false},
		{"order_paid.json", true},
		{"ORDER.JSON", true},
		{"order_paid.toml", true},
		{"./order_paid", true},
		{"templates/order_paid", true},
		{`templates\order_paid`, true},
		{"/abs/path.txt", true},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			if got := IsPath(tt.ref); got != tt.want {
				t.Errorf("IsPath(%q) = %v, want %v", tt.ref, got, tt.want)
			}
		})
	}
}

func TestCheckKey(t *testing.T) {
	tests := []struct {
		name, key string
		ok        bool
	}{
		{"plain", "order_paid", true},
		{"dots", "order.paid.v2", true},
		{"chinese", "购买成功", true},
		{"empty", "", false},
		{"slash", "a/b", false},
		{"backslash", `a\b`, false},
		{"json", "a.json", false},
		{"toml upper", "a.TOML", false},
		{"space", "order paid", false},
		{"tab", "order\tpaid", false},
		{"ideographic space", "order\u3000paid", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckKey(tt.key)
			if (err == nil) != tt.ok {
				t.Errorf("CheckKey(%q) = %v, want ok %v", tt.key, err, tt.ok)
			}
			if err == nil && IsPath(tt.key) {
				t.Errorf("valid key %q reads as a path", tt.key)
			}
		})
	}
}

func TestParseFile(t *testing.T) {
	const body = "{\n  \"touser\": \"${openid}\",\n  \"template_id\": \"T\",\n  \"data\": {\"keyword1\": {\"value\": \"${x}\"}}\n}"
	tests := []struct {
		name              string
		file              string
		data              string
		key, title, wantB string
	}{
		{"Bare", "dir/order_paid.json", body + "\n", "order_paid", "", body},
		{"BareWithBOMAndSpace", "order_paid.json", "\uFEFF\n  " + body + "\n\n", "order_paid", "", body},
		{"BareOtherExtension", "body.txt", body, "body", "", body},
		{"Stdin", "-", body, "-", "", body},
		{"Wrapper", "x.json", "{\n  \"key\": \"order_paid\",\n  \"title\": \"购买成功\",\n  \"body\": " + body + "\n}\n", "order_paid", "购买成功", body},
		{"WrapperKeyFromName", "order_paid.json", `{"title":"t","body":` + body + `}`, "order_paid", "t", body},
		{"TOML", "order_paid.toml", "key = \"paid\"\ntitle = \"购买成功\"\nbody = '''\n" + body + "\n'''\n", "paid", "购买成功", body},
		{"TOMLKeyFromName", "conf/order_paid.toml", "body = '''" + body + "'''", "order_paid", "", body},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := ParseFile(tt.file, []byte(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if tmpl.Key != tt.key || tmpl.Title != tt.title || string(tmpl.Body()) != tt.wantB {
				t.Errorf("ParseFile() = key %q title %q body\n%s\nwant key %q title %q body\n%s", tmpl.Key, tmpl.Title, tmpl.Body(), tt.key, tt.title, tt.wantB)
			}
			// Messages name the file given, never the key derived from it.
			if tmpl.File != tt.file {
				t.Errorf("File = %q, want %q", tmpl.File, tt.file)
			}
		})
	}
}

func TestParseFile_Errors(t *testing.T) {
	tests := []struct {
		name, file, data, want string
	}{
		{"BareSyntax", "a.json", "\n\n{\n  \"touser\": x\n}", "a.json:4:13: invalid character 'x'"},
		{"BarePlaceholder", "a.json", "{\"touser\": \"${openid}\",\n \"url\": \"${}\"}", "a.json:2: url: bad placeholder"},
		{"WrapperPlaceholder", "w.json", "{\"key\": \"k\",\n\"body\": {\n\"data\": {\"keyword1\": {\"value\": \"${a b}\"}}}}", "w.json:3: data.keyword1.value: bad placeholder"},
		{"WrapperUnknownField", "w.json", `{"key":"k","tittle":"t","body":{}}`, `w.json: unknown field "tittle"`},
		{"WrapperKeyNotString", "w.json", `{"key":1,"body":{}}`, "w.json: key must be a string"},
		{"TOMLSyntax", "a.toml", "key = \n", "a.toml: toml:"},
		{"TOMLUnknown", "a.toml", "key = \"k\"\nbodi = \"{}\"\n", `a.toml: unknown field "bodi"`},
		{"TOMLNoBody", "a.toml", "key = \"k\"\n", "a.toml: no body"},
		{"TOMLBadBody", "a.toml", "key = \"k\"\nbody = '''{\"a\": }'''", "a.toml:2:17: invalid character '}'"},
		{"TOMLBadBodyEscaped", "a.toml", `body = "{\"a\": }"`, "a.toml: body: line 1, column 7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFile(tt.file, []byte(tt.data))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("ParseFile() error = %v, want prefix %q", err, tt.want)
			}
		})
	}
	t.Run("ParseErrorInFile", func(t *testing.T) {
		_, err := ParseFile("a.json", []byte("{\"touser\": \"${}\"}"))
		var pe *ParseError
		if !errors.As(err, &pe) || pe.File != "a.json" || pe.Path != "touser" {
			t.Errorf("error = %#v, want *ParseError in a.json at touser", err)
		}
	})
}

// TestParseFile_LintLines checks that Lint gives lines of the file, not
// of the body, whichever form the file has.
func TestParseFile_LintLines(t *testing.T) {
	const body = "{\n  \"touser\": \"${openid}\",\n  \"template_id\": \"T\",\n  \"data\": {\"first\": {\"value\": \"x\"}}\n}"
	tests := []struct {
		name, file, data string
		line             int
	}{
		{"Bare", "a.json", body, 4},
		{"BareLeadingLines", "a.json", "\n\n" + body, 6},
		{"Wrapper", "a.json", "{\n  \"key\": \"k\",\n  \"body\": " + body + "\n}", 6},
		{"TOML", "a.toml", "key = \"k\"\ntitle = \"t\"\nbody = '''\n" + body + "\n'''\n", 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := ParseFile(tt.file, []byte(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			ps := tmpl.Lint()
			if len(ps) != 1 || ps[0].Line != tt.line {
				t.Errorf("Lint() = %+v, want one problem on line %d", ps, tt.line)
			}
		})
	}
}

// TestEncodeFile checks that the wrapper form reads back to the same key,
// title and body bytes, for every sample template.
func TestEncodeFile(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "testdata", "templates", "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no sample templates: %v", err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			orig, err := ParseFile(path, data)
			if err != nil {
				t.Fatal(err)
			}
			enc := EncodeFile(orig.Key, `标题 "quoted" & <b>`, KindTemplate, orig.Body())
			back, err := ParseFile("elsewhere.json", enc)
			if err != nil {
				t.Fatalf("ParseFile(EncodeFile()) = %v\n%s", err, enc)
			}
			if back.Key != orig.Key || back.Title != `标题 "quoted" & <b>` || !bytes.Equal(back.Body(), orig.Body()) {
				t.Errorf("round trip changed the template:\n%s", enc)
			}
			if again := EncodeFile(back.Key, back.Title, back.Kind, back.Body()); !bytes.Equal(again, enc) {
				t.Errorf("EncodeFile is not stable:\n%s\n%s", enc, again)
			}
		})
	}
}

func TestEncodeFile_Golden(t *testing.T) {
	tmpl := mustReadTemplate(t, "shipment_update.json")
	golden(t, "shipment_update.wrapper.golden", EncodeFile(tmpl.Key, "物流状态更新通知", tmpl.Kind, tmpl.Body()))
}

// TestParseFile_WrapperIndent reads wrappers whose body is indented as
// EncodeFile writes it, and as it wrote it before (the body's lines as
// stored): both give the stored bytes, and an error's place in the file.
func TestParseFile_WrapperIndent(t *testing.T) {
	body := "{\n  \"touser\": \"${openid}\",\n  \"data\": {\"k\": {\"value\": \"${v}\"}}\n}"
	tests := []struct {
		name, file string
	}{
		{"Indented", "{\n  \"key\": \"k\",\n  \"title\": \"\",\n  \"body\": {\n    \"touser\": \"${openid}\",\n    \"data\": {\"k\": {\"value\": \"${v}\"}}\n  }\n}\n"},
		{"AsStored", "{\n  \"key\": \"k\",\n  \"title\": \"\",\n  \"body\": {\n  \"touser\": \"${openid}\",\n  \"data\": {\"k\": {\"value\": \"${v}\"}}\n}\n}\n"},
		{"CRLF", "{\r\n  \"key\": \"k\",\r\n  \"title\": \"\",\r\n  \"body\": {\r\n    \"touser\": \"${openid}\",\r\n    \"data\": {\"k\": {\"value\": \"${v}\"}}\r\n  }\r\n}\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFile("k.json", []byte(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			want := body
			if tt.name == "CRLF" {
				want = strings.ReplaceAll(body, "\n", "\r\n")
			}
			if string(got.Body()) != want {
				t.Errorf("Body() =\n%s\nwant\n%s", got.Body(), want)
			}
		})
	}
	if enc := string(EncodeFile("k", "", KindTemplate, []byte(body))); enc != tests[0].file {
		t.Errorf("EncodeFile() =\n%s\nwant\n%s", enc, tests[0].file)
	}

	// Invalid UTF-8 on the body's third line, in column 14 of the file (the
	// wrapper decodes, so the body's own parse finds it, in its columns).
	bad := "{\n  \"key\": \"k\",\n  \"body\": {\n    \"touser\": \"${openid}\",\n    \"data\": \"\xff\"\n  }\n}\n"
	_, err := ParseFile("k.json", []byte(bad))
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 5 || pe.Column != 14 {
		t.Errorf("ParseFile() error = %v; want k.json:5:14", err)
	}
}

// FuzzEncodeFile proves that every body Parse accepts comes back from
// ParseFile(EncodeFile()) byte for byte, under its key and title, as
// ParseFile stores it (without white space around it).
func FuzzEncodeFile(f *testing.F) {
	f.Add([]byte("{\n  \"touser\": \"${openid}\",\n  \"data\": {}\n}"), "标题 \"q\"")
	f.Add([]byte("{\"a\":\n\n\"b\"\r\n}"), "")
	f.Add([]byte("{\n\"body\": {\"key\": 1}\n  }"), "t")
	f.Fuzz(func(t *testing.T, body []byte, title string) {
		// Every body megasend stores came through ParseFile, which trims the
		// white space around it; JSON cannot carry that white space inside
		// the wrapper's "body" value ("{} " came back "{}").
		if trimmed, _ := trimBody(body); len(trimmed) != len(body) {
			return
		}
		tmpl, err := Parse("k", "", body)
		if err != nil {
			return
		}
		title = strings.ToValidUTF8(title, "\uFFFD")
		enc := EncodeFile("k", title, "", tmpl.Body())
		back, err := ParseFile("x.json", enc)
		if err != nil {
			t.Fatalf("ParseFile(EncodeFile()) = %v\n%s", err, enc)
		}
		if back.Key != "k" || back.Title != title || !bytes.Equal(back.Body(), tmpl.Body()) {
			t.Fatalf("round trip changed the template:\n%q\n%q", tmpl.Body(), back.Body())
		}
	})
}
