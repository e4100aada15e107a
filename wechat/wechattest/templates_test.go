package wechattest

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestDefaultTemplates(t *testing.T) {
	want := map[string][]string{
		"mf_E7on5Vh9SIIdieRcvRSv7yFCR0-wFhtdfeA0XY3g": {"first", "keyword1", "keyword2", "keyword3", "remark"},
		"GoZCXKuVmkkHW5tqGN2Gz4Ldu3SnTGbKdHRoE63hkeQ": {"first", "keyword1", "keyword2", "keyword3", "remark"},
		"Rtz3kmn62SXVVZcKaziMoVmmsNY0OZy866RXTkWB94g": {"first", "keyword1", "keyword2", "keyword3", "remark"},
		"C3rh1zIuKAsqcJ5uMMsN8JqgRqTVtEm0WISFx__z9fg": {"thing1", "character_string2", "phrase3", "time4", "amount5"},
	}
	got := DefaultTemplates()
	if len(got) != len(want) {
		t.Fatalf("%d templates, want %d", len(got), len(want))
	}
	for _, tmpl := range got {
		t.Run(tmpl.Title, func(t *testing.T) {
			if keys := tmpl.Keys(); !slices.Equal(keys, want[tmpl.TemplateID]) {
				t.Errorf("keys %v, want %v", keys, want[tmpl.TemplateID])
			}
			if tmpl.Example == "" || strings.Contains(tmpl.Example, "{{") {
				t.Errorf("example %q", tmpl.Example)
			}
		})
	}
	got[0].Title = "changed"
	if DefaultTemplates()[0].Title == "changed" {
		t.Error("DefaultTemplates shares its slice between calls")
	}
}

// TestDefaultTemplates_ExamplesAccepted sends each category template's
// example values, so the defaults never contradict the value rules.
func TestDefaultTemplates_ExamplesAccepted(t *testing.T) {
	srv := mustServer(t, Options{})
	tok := mustToken(t, srv)
	for _, tmpl := range DefaultTemplates() {
		t.Run(tmpl.Title, func(t *testing.T) {
			data := make(map[string]DataValue)
			lines := strings.Split(tmpl.Example, "\n")
			for i, key := range tmpl.Keys() {
				v := "示例"
				if i < len(lines) {
					if _, after, ok := strings.Cut(lines[i], "："); ok {
						v = after
					}
				}
				data[key] = DataValue{Value: v}
			}
			body := mustJSON(t, map[string]any{"touser": openID1, "template_id": tmpl.TemplateID, "data": data})
			wantOK(t, send(t, srv, tok, body))
		})
	}
}

func TestGetAllPrivateTemplate(t *testing.T) {
	extra := "Doclyl5uP7Aciu-qZ7mJNPtWkbkYnWBWVja26EGbNyk"
	srv := mustServer(t, Options{TemplateIDs: []string{"any", extra, legacyTmpl}})
	tok := mustToken(t, srv)
	r := do(t, srv.Client(), "GET", srv.URL+"/cgi-bin/template/get_all_private_template?access_token="+tok, "")
	if r.ContentType != contentType || strings.Contains(r.Body, "errcode") {
		t.Errorf("Content-Type %q, body %s", r.ContentType, r.Body)
	}
	var body struct {
		TemplateList []TemplateInfo `json:"template_list"`
	}
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, tmpl := range body.TemplateList {
		ids = append(ids, tmpl.TemplateID)
	}
	want := []string{legacyTmpl, "GoZCXKuVmkkHW5tqGN2Gz4Ldu3SnTGbKdHRoE63hkeQ",
		"Rtz3kmn62SXVVZcKaziMoVmmsNY0OZy866RXTkWB94g", categoryTpl, extra}
	if !slices.Equal(ids, want) {
		t.Errorf("ids %v, want %v", ids, want)
	}
	if !strings.Contains(r.Body, "{{keyword1.DATA}}") {
		t.Error("content lacks {{keyword1.DATA}}: '&' or '{' escaped?")
	}
}
