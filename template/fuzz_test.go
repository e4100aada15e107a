package template

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzBody puts the fuzzed values a, b and c everywhere a value can go:
// alone, between literal text, after a default, in a URL.
const fuzzBody = `{
  "touser": "${openid}",
  "template_id": "T",
  "url": "https://shop.example.com/o/${b}?q=1&r=${c}",
  "data": {
    "keyword1": {"value": "${a}"},
    "keyword2": {"value": "前${b}后${c:-默认}"},
    "thing3": {"value": "${a}${b}"}
  }
}`

// FuzzRender proves that any values render to valid JSON holding exactly
// those values, or fail with *InvalidValueError when not valid UTF-8.
func FuzzRender(f *testing.F) {
	f.Add("王\"小明\"", `C:\path\`, "$1 & <b>", "")
	f.Add("line\nbreak\r\n", "\x00nul", "🎉 emoji", "batch-1")
	f.Add("${a}", "$${b}", "", "m\"id")
	f.Add("\xff", "ok", "ok", "")
	f.Add("\u2028\u2029", "</script>", "\\u0026", "cmid")
	tmpl, err := Parse("fuzz", "", []byte(fuzzBody))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, a, b, c, cmid string) {
		vars := map[string]string{"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "a": a, "b": b, "c": c}
		out, err := tmpl.Render(nil, mapLookup(vars), cmid)
		if !utf8.ValidString(a) || !utf8.ValidString(b) || !utf8.ValidString(c) || !utf8.ValidString(cmid) {
			var iv *InvalidValueError
			if !errors.As(err, &iv) {
				t.Fatalf("Render() with invalid UTF-8 = %v, want *InvalidValueError", err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Render() = %v", err)
		}
		if !json.Valid(out) {
			t.Fatalf("Render() is not valid JSON: %q", out)
		}
		var got struct {
			Touser      string  `json:"touser"`
			TemplateID  string  `json:"template_id"`
			URL         string  `json:"url"`
			ClientMsgID *string `json:"client_msg_id"`
			Data        map[string]struct{ Value string }
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		cDef := c
		if c == "" {
			cDef = "默认"
		}
		want := map[string]string{
			"touser":   vars["openid"],
			"url":      "https://shop.example.com/o/" + b + "?q=1&r=" + c,
			"keyword1": a,
			"keyword2": "前" + b + "后" + cDef,
			"thing3":   a + b,
		}
		gotVals := map[string]string{
			"touser":   got.Touser,
			"url":      got.URL,
			"keyword1": got.Data["keyword1"].Value,
			"keyword2": got.Data["keyword2"].Value,
			"thing3":   got.Data["thing3"].Value,
		}
		if !reflect.DeepEqual(gotVals, want) {
			t.Errorf("Render() values = %q, want %q", gotVals, want)
		}
		if cmid == "" && got.ClientMsgID != nil || cmid != "" && (got.ClientMsgID == nil || *got.ClientMsgID != cmid) {
			t.Errorf("client_msg_id = %v, want %q", got.ClientMsgID, cmid)
		}
		// Linting a rendered body must never fail on its own output.
		for _, p := range tmpl.LintRendered(out) {
			if p.Path == "" {
				t.Errorf("LintRendered() = %v", p)
			}
		}
		// The import lints values without rendering; it must agree.
		if lv, lr := tmpl.LintValues(mapLookup(vars)), tmpl.LintRendered(out); !reflect.DeepEqual(lv, lr) {
			t.Errorf("LintValues() = %v, LintRendered() = %v", lv, lr)
		}
	})
}

// FuzzParse proves Parse never panics, refuses with *ParseError, and that
// every template it accepts renders to valid JSON with the same meaning.
// strayDot reports a problem's path that starts with a separator, as one
// joined from an empty prefix would, unless it names a top-level key of
// body that starts with a dot itself ({".000": …}, found by the fuzzer).
func strayDot(path string, body []byte) bool {
	if !strings.HasPrefix(path, ".") {
		return false
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) == nil {
		for k := range top {
			if strings.HasPrefix(k, ".") && strings.HasPrefix(path, k) {
				return false
			}
		}
	}
	return true
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(fuzzBody))
	f.Add([]byte(`{"a":[1,2.5e3,true,null,{"b":"${x:-y}"}],"client_msg_id":"${z}"}`))
	f.Add([]byte(`{"a":"$${not} $1 ${"}`))
	f.Add([]byte("{\"\":\"\\u0000\\ud800\"}"))
	f.Add([]byte(`{"a":1,"a":2}`))
	f.Add([]byte(`{"touser":"oFIXED0000000000000000000000","template_id":"T1","data":{"k":{"value":"${name}"}}}`))
	f.Add([]byte(`{"touser":"${openid:-x}","template_id":"T","data":{"${name}":{"value":"v"}}}`))
	f.Add([]byte(`{"touser":"${openid}","template_id":"T","data":{"\u0024{a}":{"value":"v"}}}`))
	f.Add([]byte(`{"touser":"${openid}","msgtype":"news","news":{"articles":[{"title":"${t}"}]}}`))
	f.Add([]byte(`{"touser":"${openid}","msgtype":"miniprogrampage","miniprogrampage":{"title":"t","appid":"a","pagepath":"p","thumb_media_id":"m"}}`))
	f.Add([]byte(`{"touser":"${openid}","template_id":"S","page":"p","miniprogram":{"appid":"a","pagepath":"p"},"data":{"thing1":{"value":"${x}"}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		tmpl, err := Parse("fuzz", "", body)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line < 1 {
				t.Fatalf("Parse() error = %#v, want *ParseError with a line", err)
			}
			return
		}
		if !bytes.Equal(tmpl.Body(), body) {
			t.Fatal("Body() differs from the input")
		}
		// Every variable gets a value; the rendering must be valid JSON.
		lookup := func(name string) (string, bool) { return "v<&>\"" + name, true }
		for _, cmid := range []string{"", "m1"} {
			out, err := tmpl.Render(nil, lookup, cmid)
			if err != nil {
				t.Fatalf("Render() = %v", err)
			}
			if !json.Valid(out) {
				t.Fatalf("Render(%q) is not valid JSON: %q", body, out)
			}
			// Without placeholders and with no client_msg_id to set, the
			// rendering means exactly what the body means.
			if cmid == "" && !bytes.Contains(body, []byte("$")) && !bytes.Contains(body, []byte(`\u0024`)) {
				if a, b := decodeNumbers(t, body), decodeNumbers(t, out); !reflect.DeepEqual(a, b) {
					t.Fatalf("Render() changed the meaning:\n%s\n%s", body, out)
				}
			}
			tmpl.LintRendered(out)
		}
		lintErrors := 0
		for _, p := range tmpl.Lint() {
			if p.Msg == "" || strayDot(p.Path, body) {
				t.Errorf("Lint() = %+v", p)
			}
			if p.Severity == Error {
				lintErrors++
			}
		}
		// A template Lint passes sends each message to its recipient, and
		// no key of it holds a placeholder, which would be sent as written.
		if lintErrors == 0 {
			out, _ := tmpl.Render(nil, lookup, "")
			var msg map[string]any
			if err := json.Unmarshal(out, &msg); err != nil {
				t.Fatal(err)
			}
			if want, _ := lookup("openid"); msg["touser"] != want {
				t.Fatalf("Lint() passes %s, which sends to %q", body, msg["touser"])
			}
			if k := placeholderKey(msg); k != "" {
				t.Fatalf("Lint() passes %s, with the key %q", body, k)
			}
		}
		// Each kind's lint holds to the same: a body it passes goes to its
		// recipient.
		for _, k := range []Kind{KindCustom, KindSubscribe} {
			errs := 0
			for _, p := range tmpl.WithKind(k).Lint() {
				if p.Msg == "" || strayDot(p.Path, body) {
					t.Errorf("Lint() as %s = %+v", k, p)
				}
				if p.Severity == Error {
					errs++
				}
			}
			if errs > 0 {
				continue
			}
			out, _ := tmpl.Render(nil, lookup, "")
			var msg map[string]any
			if err := json.Unmarshal(out, &msg); err != nil {
				t.Fatal(err)
			}
			if want, _ := lookup("openid"); msg["touser"] != want {
				t.Fatalf("Lint() as %s passes %s, which sends to %q", k, body, msg["touser"])
			}
		}
	})
}

// placeholderKey returns a key of v, at any depth, that holds "${".
func placeholderKey(v any) string {
	switch v := v.(type) {
	case map[string]any:
		for k, sub := range v {
			if strings.Contains(k, "${") {
				return k
			}
			if k := placeholderKey(sub); k != "" {
				return k
			}
		}
	case []any:
		for _, sub := range v {
			if k := placeholderKey(sub); k != "" {
				return k
			}
		}
	}
	return ""
}

func decodeNumbers(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}
