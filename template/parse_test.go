package template

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		body := []byte(`{
  "touser": "${openid}",
  "template_id": "mf_E7on5Vh9SIIdieRcvRSv7yFCR0-wFhtdfeA0XY3g",
  "data": {
    "first": {"value": "${name:-朋友}，您好"},
    "keyword1": {"value": "${product}"},
    "keyword2": {"value": "${amount}元 ${name}"}
  }
}`)
		tmpl, err := Parse("order_paid", "购买成功", body)
		if err != nil {
			t.Fatal(err)
		}
		if tmpl.Key != "order_paid" || tmpl.Title != "购买成功" {
			t.Errorf("Key, Title = %q, %q", tmpl.Key, tmpl.Title)
		}
		if got := tmpl.Body(); !bytes.Equal(got, body) {
			t.Errorf("Body() = %q, want the bytes given", got)
		}
		if got, want := tmpl.Vars(), []string{"amount", "name", "openid", "product"}; !slices.Equal(got, want) {
			t.Errorf("Vars() = %q, want %q", got, want)
		}
		// name has a default in first but not in keyword2, so it is required.
		if got, want := tmpl.Required(), []string{"amount", "name", "openid", "product"}; !slices.Equal(got, want) {
			t.Errorf("Required() = %q, want %q", got, want)
		}
		if got := tmpl.TemplateID(); got != "mf_E7on5Vh9SIIdieRcvRSv7yFCR0-wFhtdfeA0XY3g" {
			t.Errorf("TemplateID() = %q", got)
		}
	})
	t.Run("Defaults", func(t *testing.T) {
		tmpl := mustParse(t, `{"touser":"${openid}","data":{"k":{"value":"${a:-x}${b:-}"}}}`)
		if got, want := tmpl.Required(), []string{"openid"}; !slices.Equal(got, want) {
			t.Errorf("Required() = %q, want %q", got, want)
		}
		if got, want := tmpl.Vars(), []string{"a", "b", "openid"}; !slices.Equal(got, want) {
			t.Errorf("Vars() = %q, want %q", got, want)
		}
	})
	t.Run("TemplateIDPlaceholder", func(t *testing.T) {
		if got := mustParse(t, `{"template_id":"${tid}"}`).TemplateID(); got != "" {
			t.Errorf("TemplateID() = %q, want empty", got)
		}
		if got := mustParse(t, `{"touser":"x"}`).TemplateID(); got != "" {
			t.Errorf("TemplateID() = %q, want empty", got)
		}
	})
}

func TestParse_Errors(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		line     int
		column   int // 0: not checked
		path     string
		contains string
	}{
		{"empty", ``, 1, 0, "", "unexpected end"},
		{"missing comma", "{\n  \"touser\": \"a\"\n  \"data\": {}\n}", 3, 3, "", "invalid character"},
		{"trailing garbage", "{}\n{}", 2, 1, "", "after top-level value"},
		{"not an object", "  [1, 2]", 1, 3, "", "must be a JSON object"},
		{"string body", `"x"`, 1, 1, "", "must be a JSON object"},
		{"invalid utf8", "{\"a\":\n\"\xff\"}", 2, 2, "", "invalid UTF-8"},
		{"duplicate key", "{\"data\": {\n\"k\": 1,\n\"k\": 2}}", 3, 0, "data.k", "duplicate key"},
		{"unterminated", "{\"data\":{\"keyword1\":{\n\"value\": \"${name\"}}}", 2, 0, "data.keyword1.value", "unterminated"},
		{"empty name", `{"url": "x${}"}`, 1, 0, "url", "empty variable name"},
		{"space in name", `{"data":{"keyword1":{"value":"${a b}"}}}`, 1, 0, "data.keyword1.value", `bad placeholder "${a b}"`},
		{"colon without dash", `{"touser":"${openid:x}"}`, 1, 0, "touser", "bad placeholder"},
		{"in array", `{"list":["ok","${}"]}`, 1, 0, "list[1]", "empty variable name"},
		{"chinese name", `{"touser":"${姓名}"}`, 1, 0, "touser", "not allowed in a variable name"},
		{"dash in name", `{"touser":"${paid-at}"}`, 1, 0, "touser", "not allowed in a variable name"},
		{"leading digit", `{"touser":"${1x}"}`, 1, 0, "touser", "not allowed in a variable name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("k", "", []byte(tt.body))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse() error = %v, want *ParseError", err)
			}
			if pe.Line != tt.line || tt.column != 0 && pe.Column != tt.column || pe.Path != tt.path {
				t.Errorf("error at line %d column %d path %q, want line %d column %d path %q (%v)",
					pe.Line, pe.Column, pe.Path, tt.line, tt.column, tt.path, err)
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q does not contain %q", err, tt.contains)
			}
		})
	}
}

func TestParsePlaceholders(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []rawPart
	}{
		{"empty", "", nil},
		{"literal", "hello", []rawPart{{text: "hello"}}},
		{"dollar alone", "$5 and $1 and $", []rawPart{{text: "$5 and $1 and $"}}},
		{"escaped", "$${name}", []rawPart{{text: "${name}"}}},
		{"escaped then var", "$${a}${b}", []rawPart{{text: "${a}"}, {name: "b"}}},
		{"var", "${name}", []rawPart{{name: "name"}}},
		{"default", "${name:-friend}", []rawPart{{name: "name", def: "friend", hasDef: true}}},
		{"empty default", "${name:-}", []rawPart{{name: "name", hasDef: true}}},
		{"default with spaces and colon", "${t:-10:00 am}", []rawPart{{name: "t", def: "10:00 am", hasDef: true}}},
		{"mixed", "您好${name}，金额${amount}元", []rawPart{
			{text: "您好"}, {name: "name"}, {text: "，金额"}, {name: "amount"}, {text: "元"},
		}},
		{"underscores and digits", "${_paid_at2}", []rawPart{{name: "_paid_at2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parsePlaceholders(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("parsePlaceholders(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func mustParse(tb testing.TB, body string) *Template {
	tb.Helper()
	tmpl, err := Parse("test", "", []byte(body))
	if err != nil {
		tb.Fatal(err)
	}
	return tmpl
}
