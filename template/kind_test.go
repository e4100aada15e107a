package template

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseKind(t *testing.T) {
	tests := []struct {
		in   string
		want Kind
		ok   bool
	}{
		{"", KindTemplate, true},
		{"template", KindTemplate, true},
		{"custom", KindCustom, true},
		{"subscribe", KindSubscribe, true},
		{"Custom", "", false},
		{"kefu", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseKind(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("ParseKind(%q) = %q, %v; want %q, ok %v", tt.in, got, err, tt.want, tt.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "template, custom, subscribe") {
				t.Errorf("ParseKind(%q) error %q does not list the kinds", tt.in, err)
			}
		})
	}
}

const customText = `{"touser":"${openid}","msgtype":"text","text":{"content":"你好 ${name}"}}`

func TestParseFile_Kind(t *testing.T) {
	tests := []struct {
		name, file, data string
		want             Kind
		stated           bool
		err              string // a substring of the error; "" for none
	}{
		{"Bare", "k.json", customText, KindTemplate, false, ""},
		{"Wrapper", "k.json", `{"key":"k","kind":"custom","body":` + customText + `}`, KindCustom, true, ""},
		{"WrapperTemplate", "k.json", `{"key":"k","kind":"template","body":{"touser":"${openid}"}}`, KindTemplate, true, ""},
		{"WrapperNoKind", "k.json", `{"key":"k","body":{"touser":"${openid}"}}`, KindTemplate, false, ""},
		{"TOML", "k.toml", "key = \"k\"\nkind = \"subscribe\"\nbody = '''{\"touser\":\"${openid}\"}'''\n", KindSubscribe, true, ""},
		{"TOMLNoKind", "k.toml", "body = '''{\"touser\":\"${openid}\"}'''\n", KindTemplate, false, ""},
		{"UnknownKind", "k.json", `{"kind":"kefu","body":{"touser":"${openid}"}}`, "", false, `k.json: kind: unknown template kind "kefu"`},
		{"KindNotString", "k.json", `{"kind":1,"body":{"touser":"${openid}"}}`, "", false, "k.json: kind must be a string"},
		{"TOMLUnknownKind", "k.toml", "kind = \"sms\"\nbody = '{\"touser\":\"x\"}'\n", "", false, `k.toml: kind: unknown template kind "sms"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFile(tt.file, []byte(tt.data))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseFile() error = %v; want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Kind != tt.want || got.KindStated() != tt.stated {
				t.Errorf("Kind = %q, stated %v; want %q, %v", got.Kind, got.KindStated(), tt.want, tt.stated)
			}
		})
	}
}

// A custom or subscribe template's file says its kind, and reads back as
// it; a template message's file reads as it did before kinds.
func TestEncodeFile_Kind(t *testing.T) {
	for _, k := range Kinds() {
		t.Run(string(k), func(t *testing.T) {
			enc := EncodeFile("k", "title", k, []byte(customText))
			if has := bytes.Contains(enc, []byte(`"kind"`)); has != (k != KindTemplate) {
				t.Errorf("EncodeFile(%s) has a kind field: %v\n%s", k, has, enc)
			}
			back, err := ParseFile("k.json", enc)
			if err != nil {
				t.Fatal(err)
			}
			if back.Kind != k || !bytes.Equal(back.Body(), []byte(customText)) {
				t.Errorf("round trip: kind %q, body %s", back.Kind, back.Body())
			}
		})
	}
}

func TestTemplate_WithKind(t *testing.T) {
	tmpl, err := Parse("k", "", []byte(customText))
	if err != nil {
		t.Fatal(err)
	}
	c := tmpl.WithKind(KindCustom)
	if tmpl.Kind != KindTemplate || c.Kind != KindCustom || c.Key != "k" {
		t.Errorf("WithKind: original %q, copy %q", tmpl.Kind, c.Kind)
	}
	if len(tmpl.Lint()) == 0 || len(c.Lint()) != 0 {
		t.Errorf("a text message linted as a template message: %v; as custom: %v", tmpl.Lint(), c.Lint())
	}
}

// FuzzParseFileKind proves that a template file's kind is one of Kinds or
// an error naming the file, and that EncodeFile writes it back.
func FuzzParseFileKind(f *testing.F) {
	f.Add("custom", false)
	f.Add("subscribe", true)
	f.Add("template", false)
	f.Add("", true)
	f.Add("CUSTOM", false)
	f.Add("custom\"", true)
	f.Add("\xff", false)
	f.Fuzz(func(t *testing.T, kind string, toml bool) {
		var name string
		var data []byte
		if toml {
			name = "k.toml"
			data = []byte("kind = " + quoteTOML(kind) + "\nbody = '''" + customText + "'''\n")
		} else {
			name = "k.json"
			q, _ := appendQuoted(nil, strings.ToValidUTF8(kind, "\uFFFD"))
			data = []byte(`{"key":"k","kind":` + string(q) + `,"body":` + customText + `}`)
		}
		tmpl, err := ParseFile(name, data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), name+":") {
				t.Fatalf("ParseFile() error %q does not name the file", err)
			}
			return
		}
		if _, err := ParseKind(string(tmpl.Kind)); err != nil || tmpl.Kind == "" {
			t.Fatalf("ParseFile() kind %q", tmpl.Kind)
		}
		back, err := ParseFile("x.json", EncodeFile(tmpl.Key, tmpl.Title, tmpl.Kind, tmpl.Body()))
		if err != nil || back.Kind != tmpl.Kind {
			t.Fatalf("EncodeFile round trip: %v, kind %q want %q", err, back.Kind, tmpl.Kind)
		}
	})
}

// quoteTOML writes s as a TOML basic string, escaping what must be.
func quoteTOML(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == '"' || r == '\\':
			b.WriteString(`\` + string(r))
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\u00` + string("0123456789abcdef"[r>>4]) + string("0123456789abcdef"[r&15]))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
