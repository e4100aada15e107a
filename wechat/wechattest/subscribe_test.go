package wechattest

import (
	"strings"
	"testing"
)

// subscribeTmpl is a subscribe notification template registered through
// Options.TemplateIDs in these tests.
const subscribeTmpl = "SubscribeTemplateIdXXXXXXXXXXXXXXXXXXXXXXX"

// subscribeMsg builds a subscribe notification to to; edit rewrites it.
func subscribeMsg(tb testing.TB, to string, edit func(m map[string]any)) string {
	tb.Helper()
	m := map[string]any{
		"touser":      to,
		"template_id": subscribeTmpl,
		"page":        "https://example.com/order?id=1&x=2",
		"data": map[string]any{
			"thing1":  map[string]string{"value": "订阅"},
			"phrase3": map[string]string{"value": "审核通过"},
			"time2":   map[string]string{"value": "2019-12-25 09:42"},
		},
	}
	if edit != nil {
		edit(m)
	}
	return mustJSON(tb, m)
}

func sendSubscribe(tb testing.TB, srv *Server, tok, body string) reply {
	tb.Helper()
	return post(tb, srv, "/cgi-bin/message/subscribe/bizsend", tok, body)
}

func TestSubscribe_Errors(t *testing.T) {
	refusing := "oRefusedEverythingXXXXXXX_01"
	srv := mustServer(t, Options{
		TemplateIDs: []string{subscribeTmpl},
		Unfollowed:  []string{openID2},
		Subscribed:  &Audience{OpenIDs: []string{openID1}},
	})
	tok := mustToken(t, srv)
	tests := []struct {
		name string
		body string
		code int
		key  string
	}{
		{"empty body", ``, 44002, ""},
		{"not JSON", `{"touser":`, 47001, ""},
		{"no template_id", subscribeMsg(t, openID1, func(m map[string]any) { delete(m, "template_id") }), 40036, ""},
		{"unknown template_id", subscribeMsg(t, openID1, func(m map[string]any) { m["template_id"] = "nope" }), 40037, ""},
		{"toUser is not touser", subscribeMsg(t, "", func(m map[string]any) { delete(m, "touser"); m["toUser"] = openID1 }), 40003, ""},
		{"malformed openid", subscribeMsg(t, "x", nil), 40003, ""},
		{"unfollowed", subscribeMsg(t, openID2, nil), 43101, ""},
		{"no data", subscribeMsg(t, openID1, func(m map[string]any) { delete(m, "data") }), 47001, ""},
		{"data not objects", subscribeMsg(t, openID1, func(m map[string]any) { m["data"] = map[string]any{"thing1": "x"} }), 47001, ""},
		{"page not a string", subscribeMsg(t, openID1, func(m map[string]any) { m["page"] = 1 }), 47001, ""},
		{"miniprogram a string", subscribeMsg(t, openID1, func(m map[string]any) { m["miniprogram"] = "x" }), 47001, ""},
		{"phrase too long", subscribeMsg(t, openID1, func(m map[string]any) {
			m["data"].(map[string]any)["phrase3"] = map[string]string{"value": "这个短语超过了五个字"}
		}), 47003, "phrase3"},
		{"not subscribed", subscribeMsg(t, refusing, nil), 43101, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sendSubscribe(t, srv, tok, tt.body)
			wantError(t, r, tt.code)
			if tt.key != "" && !strings.Contains(r.Errmsg, "data."+tt.key+".value invalid") {
				t.Errorf("errmsg %q does not name %s", r.Errmsg, tt.key)
			}
		})
	}
	if n := len(srv.Deliveries()); n != 0 {
		t.Errorf("%d deliveries after errors only", n)
	}
}

func TestSubscribe_Accept(t *testing.T) {
	srv := mustServer(t, Options{TemplateIDs: []string{subscribeTmpl}})
	tok := mustToken(t, srv)
	wantPlainOK(t, sendSubscribe(t, srv, tok, subscribeMsg(t, openID1, nil)))
	// A mini program jump, "miniprogram":[] from PHP, and a url, which the
	// body does not have and WeChat does not document an answer for, are
	// all taken.
	wantPlainOK(t, sendSubscribe(t, srv, tok, subscribeMsg(t, openID1, func(m map[string]any) {
		m["miniprogram"] = map[string]string{"appid": "wx1", "pagepath": "index?foo=bar"}
	})))
	wantPlainOK(t, sendSubscribe(t, srv, tok, subscribeMsg(t, openID1, func(m map[string]any) { m["miniprogram"] = []any{} })))
	wantPlainOK(t, sendSubscribe(t, srv, tok, subscribeMsg(t, openID1, func(m map[string]any) { m["url"] = "https://x" })))

	ds := srv.Deliveries()
	if len(ds) != 4 {
		t.Fatalf("%d deliveries, want 4", len(ds))
	}
	d := ds[0]
	if d.Kind != KindSubscribe || d.OpenID != openID1 || d.TemplateID != subscribeTmpl || d.MsgID != 0 ||
		!strings.Contains(string(d.Data), `"phrase3":{"value":"审核通过"}`) {
		t.Errorf("delivery = %+v", d)
	}
	line, err := deliveryLine(d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(line), `{"kind":"subscribe",`) {
		t.Errorf("line %s", line)
	}
	// Template messages keep their line, with the kind in front.
	wantOK(t, send(t, srv, tok, msg(t, openID2, "c1", nil)))
	line, err = deliveryLine(srv.Deliveries()[4])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(line), `{"kind":"template","openid":"`+openID2+`","template_id":"`+legacyTmpl+`","client_msg_id":"c1","msgid":`) {
		t.Errorf("template line %s", line)
	}
}

// A share of the followers subscribed: about that share is accepted, the
// others answer 43101.
func TestSubscribe_SubscribedShare(t *testing.T) {
	srv := mustServer(t, Options{Followers: 1000, TemplateIDs: []string{"any"}, Subscribed: &Audience{Percent: 10}})
	tok := mustToken(t, srv)
	ok := 0
	for _, id := range srv.followerSet().ids {
		switch r := sendSubscribe(t, srv, tok, subscribeMsg(t, id, nil)); r.Errcode {
		case 0:
			ok++
		case 43101:
		default:
			t.Fatalf("%s: %s", id, r.Body)
		}
	}
	if ok < 60 || ok > 140 {
		t.Errorf("%d of 1000 accepted with 10%% subscribed, want about 100", ok)
	}
}
