package template

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestTemplate_Lint(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string // Problem.String() with the line: "3: warning: …"
	}{
		{
			name: "OK",
			body: `{"touser":"${openid}","template_id":"T","data":{"thing1":{"value":"${x}"},"phrase2":{"value":"配送中"}}}`,
		},
		{
			name: "Missing",
			body: `{"url":"x"}`,
			want: []string{
				`0: error: touser: missing: it must be "${openid}", the recipient's openid`,
				"0: error: template_id: missing: WeChat refuses the message with 40036",
				"0: error: data: missing: the message has no content",
			},
		},
		{
			name: "WrongKinds",
			body: "{\"touser\":\"\",\n\"template_id\":7,\n\"data\":[]}",
			want: []string{
				`1: error: touser: must be "${openid}", the recipient's openid`,
				"2: error: template_id: must be the template's id, a non-empty string",
				"3: error: data: must be an object of keys such as keyword1 or thing1",
			},
		},
		{
			name: "FixedTouser",
			body: `{"touser":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o","template_id":"T","data":{}}`,
			want: []string{`1: error: touser: fixed openid "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o": every recipient's message would go to that one user; use "${openid}"`},
		},
		{
			// The case: a fixed touser beside per-recipient values.
			name: "FixedTouserWithVariables",
			body: `{"touser":"oFIXED0000000000000000000000","template_id":"T1","data":{"keyword1":{"value":"${name}"}}}`,
			want: []string{`1: error: touser: fixed openid "oFIXED0000000000000000000000": every recipient's message would go to that one user; use "${openid}"`},
		},
		{
			name: "TouserOtherVariable",
			body: `{"touser":"${wxid}","template_id":"T","data":{}}`,
			want: []string{`1: error: touser: must be exactly "${openid}", not "${wxid}": the ledger records each message as sent to its recipient's openid`},
		},
		{
			// Every row has an openid, so a default could only mean "send
			// to this one user".
			name: "TouserDefault",
			body: `{"touser":"${openid:-oFIXED0000000000000000000000}","template_id":"T","data":{}}`,
			want: []string{`1: error: touser: must be exactly "${openid}", not "${openid:-oFIXED0000000000000000000000}": the ledger records each message as sent to its recipient's openid`},
		},
		{
			name: "TouserWithText",
			body: `{"touser":" ${openid}","template_id":"T","data":{}}`,
			want: []string{`1: error: touser: must be exactly "${openid}", not " ${openid}": the ledger records each message as sent to its recipient's openid`},
		},
		{
			name: "TouserEscaped",
			body: `{"touser":"$${openid}","template_id":"T","data":{}}`,
			want: []string{`1: error: touser: fixed openid "${openid}": every recipient's message would go to that one user; use "${openid}"`},
		},
		{
			name: "TouserTwoVariables",
			body: `{"touser":"${openid}${x}","template_id":"T","data":{}}`,
			want: []string{`1: error: touser: must be exactly "${openid}", not "${openid}${x}": the ledger records each message as sent to its recipient's openid`},
		},
		{
			name: "PlaceholderInKey",
			body: "{\"touser\":\"${openid}\",\"template_id\":\"T\",\"data\":{\n\"${name}\":{\"value\":\"${x}\"},\n\"keyword2\":{\"${k}\":\"v\",\"value\":\"$${y}\"}},\n\"${top}\":1}",
			want: []string{
				"2: error: data.${name}: placeholder in a key: keys are sent as written; placeholders work in string values only",
				"3: error: data.keyword2.${k}: placeholder in a key: keys are sent as written; placeholders work in string values only",
				"4: error: ${top}: placeholder in a key: keys are sent as written; placeholders work in string values only",
			},
		},
		{
			// "$${" is no placeholder in a value, but a key is sent as
			// written, escape and all: refused as well.
			name: "EscapedPlaceholderInKey",
			body: `{"touser":"${openid}","template_id":"T","data":{"$${a}":{"value":"x"}}}`,
			want: []string{"1: error: data.$${a}: placeholder in a key: keys are sent as written; placeholders work in string values only"},
		},
		{
			name: "Legacy2023",
			body: "{\"touser\":\"${openid}\",\"template_id\":\"T\",\"topcolor\":\"#FF0000\",\"data\":{\n" +
				"\"first\":{\"value\":\"您好\",\"color\":\"#173177\"},\n" +
				"\"keyword1\":{\"value\":\"一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十\"},\n" +
				"\"keyword2\":{\"value\":\"第一行\\n第二行\"},\n" +
				"\"remark\":{\"value\":\"谢谢\"}}}",
			want: []string{
				"1: warning: topcolor: WeChat ignores topcolor",
				"2: warning: data.first: WeChat has dropped first since 2023-05-04; it is not shown",
				"2: warning: data.first.color: WeChat has ignored color since 2023-05-04",
				`3: warning: data.keyword1.value: 30 characters: WeChat shows only the first 20, "一二三四五六七八九十一二三四五六七八九十"`,
				`4: warning: data.keyword2.value: line break: WeChat drops everything after it, showing "第一行"`,
				"5: warning: data.remark: WeChat has dropped remark since 2023-05-04; it is not shown",
			},
		},
		{
			name: "CategoryLiteral",
			body: "{\"touser\":\"${openid}\",\"template_id\":\"T\",\"data\":{\n\"phrase3\":{\"value\":\"正在配送中请稍\"},\n\"time4\":{\"value\":\"明天\"}}}",
			want: []string{
				`2: error: data.phrase3.value: phrase value "正在配送中请稍": at most 5 characters, got 7; WeChat refuses the message with 47003`,
				`3: error: data.time4.value: time value "明天": want a 24-hour time such as 15:01 or 2019年10月1日 15:01, got "明天"; WeChat refuses the message with 47003`,
			},
		},
		{
			name: "BadEntries",
			body: `{"touser":"${openid}","template_id":"T","data":{"keyword1":"x","keyword2":{"color":"#000"},"keyword3":{"value":5}}}`,
			want: []string{
				`1: error: data.keyword1: a data entry must be an object such as {"value": "…"}`,
				"1: error: data.keyword2: no value",
				"1: warning: data.keyword2.color: WeChat has ignored color since 2023-05-04",
				"1: error: data.keyword3.value: the value must be a string",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := formatProblems(mustParse(t, tt.body).Lint())
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("Lint() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestTemplate_LintRendered(t *testing.T) {
	const body = `{"touser":"${openid}","template_id":"T","data":{
		"first":{"value":"${name}"},
		"keyword1":{"value":"${product}"},
		"keyword2":{"value":"固定的很长很长很长很长很长很长很长很长很长很长的文字"},
		"thing3":{"value":"${product}"},
		"phrase4":{"value":"${status}"}}}`
	tests := []struct {
		name string
		vars map[string]string
		want []string
	}{
		{
			name: "OK",
			vars: map[string]string{"name": strings.Repeat("名", 30), "product": "巧克力", "status": "配送中"},
		},
		{
			name: "LongLegacyValue",
			vars: map[string]string{"product": "Apple iPhone 15 Pro Max 256GB", "status": "已发货"},
			want: []string{
				`warning: data.keyword1.value: 29 characters: WeChat shows only the first 20, "Apple iPhone 15 Pro "`,
				`error: data.thing3.value: thing value "Apple iPhone 15 Pro Max 256GB": at most 20 characters, got 29; WeChat refuses the message with 47003`,
			},
		},
		{
			name: "SevenCharPhrase",
			vars: map[string]string{"product": "巧克力", "status": "正在配送中请稍"},
			want: []string{
				`error: data.phrase4.value: phrase value "正在配送中请稍": at most 5 characters, got 7; WeChat refuses the message with 47003`,
			},
		},
		{
			name: "Emoji",
			vars: map[string]string{"product": "🎂蛋糕", "status": "配送中"},
			want: []string{
				"warning: data.keyword1.value: WeChat has removed emoji since 2023-05-04",
				"warning: data.thing3.value: WeChat has removed emoji since 2023-05-04",
			},
		},
	}
	tmpl := mustParse(t, body)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.vars["openid"] = "o1"
			if _, ok := tt.vars["name"]; !ok {
				tt.vars["name"] = "x"
			}
			rendered, err := tmpl.Render(nil, mapLookup(tt.vars), "")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range tmpl.LintRendered(rendered) {
				got = append(got, p.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("LintRendered() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if lv := tmpl.LintValues(mapLookup(tt.vars)); !reflect.DeepEqual(lv, tmpl.LintRendered(rendered)) {
				t.Errorf("LintValues() = %v, differs from LintRendered()", lv)
			}
		})
	}
	t.Run("OtherEntryMisshapen", func(t *testing.T) {
		odd := mustParse(t, `{"touser":"${openid}","template_id":"T","data":{"keyword1":{"value":5},"keyword2":"x","phrase3":{"value":"${s}"}}}`)
		body, err := odd.Render(nil, mapLookup(map[string]string{"openid": "o", "s": "太长的状态文字"}), "")
		if err != nil {
			t.Fatal(err)
		}
		ps := odd.LintRendered(body)
		if len(ps) != 1 || ps[0].Path != "data.phrase3.value" {
			t.Errorf("LintRendered() = %v, want the phrase3 error only", ps)
		}
	})
	t.Run("NotJSON", func(t *testing.T) {
		ps := tmpl.LintRendered([]byte("{"))
		if len(ps) != 1 || ps[0].Severity != Error {
			t.Errorf("LintRendered(garbage) = %v, want one error", ps)
		}
	})
}

// TestTemplate_Lint_Golden lints the sample templates, then every sample
// recipient rendered with them, as `template lint --users` would.
func TestTemplate_Lint_Golden(t *testing.T) {
	tests := []struct {
		name, template, users string
	}{
		{"order_paid", "order_paid.json", "users.csv"},
		{"order_paid_legacy", "order_paid_legacy.json", "users.csv"},
		{"designer_dispatch", "designer_dispatch.json", ""},
		{"audit_pending", "audit_pending.json", ""},
		{"shipment_update", "shipment_update.json", "shipments.csv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := mustReadTemplate(t, tt.template)
			var b strings.Builder
			for _, p := range formatProblems(tmpl.Lint()) {
				fmt.Fprintf(&b, "%s:%s\n", tt.template, p)
			}
			if tt.users != "" {
				for i, row := range readCSV(t, tt.users) {
					body, err := tmpl.Render(nil, mapLookup(row), "")
					if err != nil {
						t.Fatal(err)
					}
					for _, p := range tmpl.LintRendered(body) {
						fmt.Fprintf(&b, "%s:%d: %s\n", tt.users, i+2, p)
					}
				}
			}
			golden(t, tt.name+".lint.golden", []byte(b.String()))
		})
	}
}

func formatProblems(ps []Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, fmt.Sprintf("%d: %s", p.Line, p))
	}
	return out
}

func TestSeverity_String(t *testing.T) {
	if Warning.String() != "warning" || Error.String() != "error" || Severity(9).String() != "severity(9)" {
		t.Errorf("Severity strings: %v %v %v", Warning, Error, Severity(9))
	}
}

// hasEmoji's byte search must agree with the rune-by-rune definition,
// at both ends of the range and just outside them.
func TestHasEmoji(t *testing.T) {
	for _, s := range []string{"", "plain", "★✓", "用户0", "\U0001F000", "x\U0001FAFF", "\U0001FB00", "\U0001EFFF",
		"\U00010000", "🎉 emoji", "a\xf0\x9f", "\xf0\x9f\x80", "flag 🇨🇳"} {
		if got, want := hasEmoji(s), strings.IndexFunc(s, isEmoji) >= 0; got != want {
			t.Errorf("hasEmoji(%q) = %v, want %v", s, got, want)
		}
	}
}
