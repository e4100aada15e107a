package wechattest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// customMsg builds a text customer-service message to to.
func customMsg(to, text string) string {
	return fmt.Sprintf(`{"touser":%q,"msgtype":"text","text":{"content":%q}}`, to, text)
}

// sendCustom posts a customer-service message body.
func sendCustom(tb testing.TB, srv *Server, tok, body string) reply {
	tb.Helper()
	return post(tb, srv, "/cgi-bin/message/custom/send", tok, body)
}

// wantPlainOK checks the success answer of the endpoints with no msgid.
func wantPlainOK(tb testing.TB, r reply) {
	tb.Helper()
	if r.Status != http.StatusOK || r.Errcode != 0 || r.Errmsg != "ok" || strings.Contains(r.Body, "msgid") {
		tb.Fatalf("status %d, body %s; want errcode 0, ok and no msgid", r.Status, r.Body)
	}
}

func TestCustom_Errors(t *testing.T) {
	outside := "oOutsideTheWindowXXXXXXXX_01"
	srv := mustServer(t, Options{
		Unfollowed: []string{openID2},
		Interacted: &Audience{OpenIDs: []string{openID1}},
	})
	tok := mustToken(t, srv)
	tests := []struct {
		name string
		body string
		code int
	}{
		{"empty body", ``, 44002},
		{"not an object", `[1]`, 47001},
		{"touser not a string", `{"touser":1,"msgtype":"text","text":{"content":"x"}}`, 47001},
		{"no touser", `{"msgtype":"text","text":{"content":"x"}}`, 40003},
		{"toUser is not touser", `{"toUser":"` + openID1 + `","msgtype":"text","text":{"content":"x"}}`, 40003},
		{"malformed openid", customMsg("short", "x"), 40003},
		{"unfollowed", customMsg(openID2, "x"), 45015},
		{"no msgtype", `{"touser":"` + openID1 + `","text":{"content":"x"}}`, 40008},
		{"unknown msgtype", `{"touser":"` + openID1 + `","msgtype":"sms","sms":{"content":"x"}}`, 40008},
		{"object missing", `{"touser":"` + openID1 + `","msgtype":"text"}`, 47001},
		{"object not an object", `{"touser":"` + openID1 + `","msgtype":"text","text":"x"}`, 47001},
		{"empty content", customMsg(openID1, ""), 44004},
		{"content not a string", `{"touser":"` + openID1 + `","msgtype":"text","text":{"content":5}}`, 47001},
		{"image without media_id", `{"touser":"` + openID1 + `","msgtype":"image","image":{}}`, 40007},
		{"news without articles", `{"touser":"` + openID1 + `","msgtype":"news","news":{"articles":[]}}`, 44003},
		{"news with two articles", `{"touser":"` + openID1 + `","msgtype":"news","news":{"articles":[{"title":"a"},{"title":"b"}]}}`, 45008},
		{"miniprogrampage without appid", `{"touser":"` + openID1 + `","msgtype":"miniprogrampage","miniprogrampage":{"pagepath":"p","thumb_media_id":"m"}}`, 47001},
		{"msgmenu without list", `{"touser":"` + openID1 + `","msgtype":"msgmenu","msgmenu":{"head_content":"h"}}`, 47001},
		{"outside the window", customMsg(outside, "x"), 45015},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, sendCustom(t, srv, tok, tt.body), tt.code)
		})
	}
	if n := len(srv.Deliveries()); n != 0 {
		t.Errorf("%d deliveries after errors only", n)
	}
	if got := srv.Stats().Rejected[45015]; got != 2 {
		t.Errorf("Rejected[45015] = %d, want 2", got)
	}
}

func TestCustom_Shapes(t *testing.T) {
	srv := mustServer(t, Options{CustomLimit: -1})
	tok := mustToken(t, srv)
	for _, body := range []string{
		customMsg(openID1, "你好 & <b>"),
		`{"touser":"` + openID1 + `","msgtype":"image","image":{"media_id":"MEDIA"}}`,
		`{"touser":"` + openID1 + `","msgtype":"news","news":{"articles":[{"title":"t","url":"https://example.com/?a=1&b=2"}]}}`,
		`{"touser":"` + openID1 + `","msgtype":"mpnews","mpnews":{"media_id":"MEDIA"}}`,
		`{"touser":"` + openID1 + `","msgtype":"miniprogrampage","miniprogrampage":{"title":"t","appid":"wx1","pagepath":"pages/i","thumb_media_id":"M"}}`,
		`{"touser":"` + openID1 + `","msgtype":"msgmenu","msgmenu":{"head_content":"h","list":[{"id":"1","content":"yes"}]}}`,
		`{"touser":"` + openID1 + `","msgtype":"text","text":{"content":"kf"},"customservice":{"kf_account":"a@b"}}`,
	} {
		wantPlainOK(t, sendCustom(t, srv, tok, body))
	}
	ds := srv.Deliveries()
	if len(ds) != 7 {
		t.Fatalf("%d deliveries, want 7", len(ds))
	}
	d := ds[0]
	if d.Kind != KindCustom || d.OpenID != openID1 || d.MsgType != "text" || d.MsgID != 0 || d.TemplateID != "" ||
		string(d.Data) != `{"content":"你好 & <b>"}` {
		t.Errorf("delivery = %+v", d)
	}
	line, err := deliveryLine(d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(line), `{"kind":"custom","openid":"`+openID1+`","msgtype":"text",`) ||
		strings.Contains(string(line), "msgid") || strings.Contains(string(line), "template_id") {
		t.Errorf("line %s", line)
	}
	if got := srv.Stats().AcceptedByKind[KindCustom]; got != 7 {
		t.Errorf("AcceptedByKind[custom] = %d, want 7", got)
	}
}

// Inside the window an openid may be sent CustomLimit messages; the next
// answers 45047, for that openid only. Once 48 hours have passed since the
// window opened, every custom message answers 45015.
func TestCustom_Window(t *testing.T) {
	clock := newFakeClock()
	srv := mustServer(t, Options{Now: clock.Now, CustomLimit: 2, TokenTTL: 1000 * time.Hour})
	tok := mustToken(t, srv)
	for i := range 2 {
		wantPlainOK(t, sendCustom(t, srv, tok, customMsg(openID1, fmt.Sprint(i))))
	}
	wantError(t, sendCustom(t, srv, tok, customMsg(openID1, "third")), 45047)
	wantPlainOK(t, sendCustom(t, srv, tok, customMsg(openID2, "other")))

	// The count is no daily one: a new day in China does not reset it.
	clock.Advance(30 * time.Hour)
	wantError(t, sendCustom(t, srv, tok, customMsg(openID1, "next day")), 45047)
	wantPlainOK(t, sendCustom(t, srv, tok, customMsg(openID2, "next day")))

	clock.Advance(18 * time.Hour)
	wantError(t, sendCustom(t, srv, tok, customMsg(openID2, "too late")), 45015)
	if n := len(srv.Deliveries()); n != 4 {
		t.Errorf("%d deliveries, want 4", n)
	}
}

func TestCustom_DefaultLimitIsFive(t *testing.T) {
	srv := mustServer(t, Options{})
	tok := mustToken(t, srv)
	for i := range 5 {
		wantPlainOK(t, sendCustom(t, srv, tok, customMsg(openID1, fmt.Sprint(i))))
	}
	wantError(t, sendCustom(t, srv, tok, customMsg(openID1, "6")), 45047)
}

// Custom messages carry no client_msg_id: WeChat has nothing to dedup on,
// and the same body sent twice is delivered twice.
func TestCustom_NoDedup(t *testing.T) {
	srv := mustServer(t, Options{})
	tok := mustToken(t, srv)
	body := `{"touser":"` + openID1 + `","msgtype":"text","text":{"content":"x"},"client_msg_id":"c1"}`
	wantPlainOK(t, sendCustom(t, srv, tok, body))
	wantPlainOK(t, sendCustom(t, srv, tok, body))
	if n := len(srv.Deliveries()); n != 2 {
		t.Errorf("%d deliveries, want 2", n)
	}
}

// The queued faults and the hook apply to every kind of send.
func TestCustom_Faults(t *testing.T) {
	srv := mustServer(t, Options{})
	tok := mustToken(t, srv)
	var kinds []string
	srv.SetHook(func(req SendRequest) *Fault {
		kinds = append(kinds, req.Kind+"/"+req.MsgType)
		return nil
	})
	srv.FailNext(1, -1)
	wantError(t, sendCustom(t, srv, tok, customMsg(openID1, "x")), -1)
	wantPlainOK(t, sendCustom(t, srv, tok, customMsg(openID1, "x")))
	if fmt.Sprint(kinds) != "[custom/text custom/text]" {
		t.Errorf("hook saw %v", kinds)
	}
	if n := len(srv.Deliveries()); n != 1 {
		t.Errorf("%d deliveries, want 1 (the failed send is not delivered)", n)
	}
}

// A share of openids chosen by hash is in the window: the same ones every
// time, and about the share asked for.
func TestCustom_InteractedShare(t *testing.T) {
	opts := Options{Followers: 2000, Interacted: &Audience{Percent: 30}, CustomLimit: -1}
	srv := mustServer(t, opts)
	tok := mustToken(t, srv)
	ids := srv.followerSet().ids
	in := 0
	for _, id := range ids {
		r := sendCustom(t, srv, tok, customMsg(id, "x"))
		switch r.Errcode {
		case 0:
			in++
		case 45015:
		default:
			t.Fatalf("%s: %s", id, r.Body)
		}
		if (r.Errcode == 0) != newAudience(opts.Interacted).has(id) {
			t.Fatalf("%s answered %d, but the audience says otherwise", id, r.Errcode)
		}
	}
	if in < 500 || in > 700 {
		t.Errorf("%d of 2000 inside a 30%% window, want about 600", in)
	}
	var st Stats
	if err := json.Unmarshal([]byte(do(t, srv.Client(), "GET", srv.URL+"/sandbox/stats", "").Body), &st); err != nil {
		t.Fatal(err)
	}
	if st.AcceptedByKind[KindCustom] != int64(in) {
		t.Errorf("/sandbox/stats accepted_by_kind = %v, want custom %d", st.AcceptedByKind, in)
	}
}
