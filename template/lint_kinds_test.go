package template

import (
	"strings"
	"testing"
)

func TestTemplate_LintCustom(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string // Problem.String() with the line: "3: error: …"
	}{
		{name: "Text", body: customText},
		{name: "News", body: `{"touser":"${openid}","msgtype":"news","news":{"articles":[{"title":"${t}","url":"https://e.com","picurl":"https://e.com/p.png"}]}}`},
		{name: "MiniProgramPage", body: `{"touser":"${openid}","msgtype":"miniprogrampage","miniprogrampage":{"title":"订单","appid":"wx1","pagepath":"pages/o?id=${id}","thumb_media_id":"M1"}}`},
		{name: "Image", body: `{"touser":"${openid}","msgtype":"image","image":{"media_id":"M1"}}`},
		{name: "MpNewsArticle", body: `{"touser":"${openid}","msgtype":"mpnewsarticle","mpnewsarticle":{"article_id":"A1"}}`},
		{name: "Menu", body: `{"touser":"${openid}","msgtype":"msgmenu","msgmenu":{"head_content":"满意吗","list":[{"id":"1","content":"满意"}]}}`},
		{
			name: "NoMsgtype",
			body: `{"touser":"${openid}","text":{"content":"x"}}`,
			want: []string{`0: error: msgtype: missing: a customer-service message names its type, such as "text" (one of image, miniprogrampage, mpnews, mpnewsarticle, msgmenu, music, news, text, video, voice, wxcard)`},
		},
		{
			name: "UnknownMsgtype",
			body: `{"touser":"${openid}","msgtype":"sms","sms":{}}`,
			want: []string{`1: error: msgtype: "sms" is not a type WeChat knows (40008); one of image, miniprogrampage, mpnews, mpnewsarticle, msgmenu, music, news, text, video, voice, wxcard`},
		},
		{
			name: "MsgtypeFromVariable",
			body: `{"touser":"${openid}","msgtype":"${t}"}`,
			want: []string{`1: error: msgtype: must be a literal string, one of image, miniprogrampage, mpnews, mpnewsarticle, msgmenu, music, news, text, video, voice, wxcard`},
		},
		{
			name: "NoObject",
			body: `{"touser":"${openid}","msgtype":"text"}`,
			want: []string{`0: error: text: missing: a text message carries its content in "text"`},
		},
		{
			name: "EmptyContent",
			body: "{\"touser\":\"${openid}\",\"msgtype\":\"text\",\n\"text\":{\"content\":\"\"}}",
			want: []string{`2: error: text.content: empty`},
		},
		{
			name: "MiniProgramPageFields",
			body: `{"touser":"${openid}","msgtype":"miniprogrampage","miniprogrampage":{"title":"t","appid":1}}`,
			want: []string{
				`1: error: miniprogrampage.appid: must be a string`,
				`0: error: miniprogrampage.pagepath: missing`,
				`0: error: miniprogrampage.thumb_media_id: missing`,
			},
		},
		{
			name: "TwoArticles",
			body: `{"touser":"${openid}","msgtype":"news","news":{"articles":[{"title":"a"},{"title":"b"}]}}`,
			want: []string{`1: error: news.articles: 2 elements: a news message carries exactly one article (45008 for more, 44003 for none)`},
		},
		{
			name: "TemplateBody",
			body: `{"touser":"${openid}","template_id":"T","url":"https://e.com","data":{"thing1":{"value":"x"}}}`,
			want: []string{
				`1: error: template_id: a customer-service message has no template_id: is this a template message (kind "template")?`,
				`1: error: data: a customer-service message has no data: is this a template message (kind "template")?`,
				`1: error: url: a customer-service message has no url: is this a template message (kind "template")?`,
				`0: error: msgtype: missing: a customer-service message names its type, such as "text" (one of image, miniprogrampage, mpnews, mpnewsarticle, msgmenu, music, news, text, video, voice, wxcard)`,
			},
		},
		{
			name: "FixedTouser",
			body: `{"touser":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o","msgtype":"text","text":{"content":"x"}}`,
			want: []string{`1: error: touser: fixed openid "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o": every recipient's message would go to that one user; use "${openid}"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := formatProblems(mustParse(t, tt.body).WithKind(KindCustom).Lint())
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("Lint() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestTemplate_LintSubscribe(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string
	}{
		{name: "OK", body: `{"touser":"${openid}","template_id":"S1","page":"https://e.com/o/${id}","data":{"thing1":{"value":"${x}"},"phrase3":{"value":"审核通过"}}}`},
		{name: "MiniProgram", body: `{"touser":"${openid}","template_id":"S1","miniprogram":{"appid":"wx1","pagepath":"index?a=${a}"},"data":{"thing1":{"value":"x"}}}`},
		{
			name: "URL",
			body: "{\"touser\":\"${openid}\",\"template_id\":\"S1\",\n\"url\":\"https://e.com\",\"data\":{\"thing1\":{\"value\":\"x\"}}}",
			want: []string{`2: error: url: a subscribe notification has no url: use page (a web page) or miniprogram`},
		},
		{
			name: "Missing",
			body: `{"touser":"${openid}"}`,
			want: []string{
				`0: error: template_id: missing: the subscribe notification's template id (priTmplId); WeChat refuses the message with 40036`,
				`0: error: data: missing: the notification has no content`,
			},
		},
		{
			name: "CategoryValue",
			body: `{"touser":"${openid}","template_id":"S1","data":{"phrase3":{"value":"一二三四五六"}}}`,
			want: []string{`1: error: data.phrase3.value: phrase value "一二三四五六": at most 5 characters, got 6; WeChat refuses the message with 47003`},
		},
		{
			name: "EntryNotObject",
			body: `{"touser":"${openid}","template_id":"S1","data":{"thing1":"x"}}`,
			want: []string{`1: error: data.thing1: a data entry must be an object such as {"value": "…"}`},
		},
		{
			name: "MiniProgramFields",
			body: `{"touser":"${openid}","template_id":"S1","miniprogram":{"appid":""},"page":1,"data":{}}`,
			want: []string{
				`1: error: page: must be a string, the web page the notification opens`,
				`1: error: miniprogram.appid: must be a non-empty string`,
				`0: error: miniprogram.pagepath: missing`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := formatProblems(mustParse(t, tt.body).WithKind(KindSubscribe).Lint())
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("Lint() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
