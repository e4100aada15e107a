package template

import (
	"slices"
	"testing"
)

func TestSkeletonFromContent(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		content := "{{first.DATA}}\n商品名称：{{keyword1.DATA}}\n商品价格：{{ keyword2.DATA }}\n购买时间：{ {keyword3.DATA} }\n{{keyword1.DATA}}\n{{remark.DATA}}"
		tmpl, body, err := SkeletonFromContent("mf_E7on5Vh9SIIdieRcvRSv7yFCR0-wFhtdfeA0XY3g", "购买成功通知", content)
		if err != nil {
			t.Fatal(err)
		}
		if tmpl.Key != "mf_E7on5Vh9SIIdieRcvRSv7yFCR0-wFhtdfeA0XY3g" || tmpl.Title != "购买成功通知" {
			t.Errorf("Key, Title = %q, %q", tmpl.Key, tmpl.Title)
		}
		if string(tmpl.Body()) != string(body) {
			t.Errorf("Body() differs from the returned body")
		}
		if got, want := tmpl.Vars(), []string{"keyword1", "keyword2", "keyword3", "openid"}; !slices.Equal(got, want) {
			t.Errorf("Vars() = %q, want %q", got, want)
		}
		if ps := tmpl.Lint(); len(ps) != 0 {
			t.Errorf("Lint() = %v, want no problems", ps)
		}
		golden(t, "skeleton.golden", append(body, '\n'))
	})
	t.Run("Category", func(t *testing.T) {
		_, body, err := SkeletonFromContent("C3rh", "物流", "商品：{{thing1.DATA}}\n单号：{{character_string2.DATA}}")
		if err != nil {
			t.Fatal(err)
		}
		want := "{\n  \"touser\": \"${openid}\",\n  \"template_id\": \"C3rh\",\n  \"data\": {\n    \"thing1\": {\"value\": \"${thing1}\"},\n    \"character_string2\": {\"value\": \"${character_string2}\"}\n  }\n}"
		if string(body) != want {
			t.Errorf("body =\n%s\nwant\n%s", body, want)
		}
	})
	t.Run("Errors", func(t *testing.T) {
		for _, tt := range []struct{ name, id, content string }{
			{"no id", "", "{{keyword1.DATA}}"},
			{"no fields", "T", "您好"},
			{"only dropped fields", "T", "{{first.DATA}}{{remark.DATA}}"},
			{"bad id", "T\xff", "{{keyword1.DATA}}"},
		} {
			if _, _, err := SkeletonFromContent(tt.id, "", tt.content); err == nil {
				t.Errorf("%s: no error", tt.name)
			}
		}
	})
}
