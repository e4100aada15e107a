package wechattest

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestQuotaGet(t *testing.T) {
	srv := mustServer(t, Options{Quota: 10})
	tok := mustToken(t, srv)
	for range 3 {
		wantOK(t, send(t, srv, tok, msg(t, openID1, "", nil)))
	}
	classicToken(t, srv)
	for range 2 {
		do(t, srv.Client(), "GET", srv.URL+"/cgi-bin/user/get?access_token="+tok, "")
	}

	tests := []struct {
		name, body        string
		want              int
		limit, used, left int
	}{
		{"TemplateSend", `{"cgi_path":"/cgi-bin/message/template/send"}`, 0, 10, 3, 7},
		{"Token", `{"cgi_path":"/cgi-bin/token"}`, 0, 2000, 1, 1999},
		{"StableToken", `{"cgi_path":"/cgi-bin/stable_token"}`, 0, 500000, 1, 499999},
		// Every API WeChat documents a daily limit for is known, served or
		// not: custom/send used to answer 76021 (PRODUCT.md, sandbox fidelity).
		{"CustomSend", `{"cgi_path":"/cgi-bin/message/custom/send"}`, 0, 500000, 0, 500000},
		{"UserGet", `{"cgi_path":"/cgi-bin/user/get"}`, 0, 500, 2, 498},
		{"UserInfo", `{"cgi_path":"/cgi-bin/user/info"}`, 0, 5000000, 0, 5000000},
		{"UnknownPath", `{"cgi_path":"/cgi-bin/nope"}`, 76021, 0, 0, 0},
		{"NoPath", `{}`, 76021, 0, 0, 0},
		{"Empty", ``, 44002, 0, 0, 0},
		// WeChat knows these but documents no limit: the simulator says it
		// cannot answer, rather than "cgi_path not found".
		{"TagsGet", `{"cgi_path":"/cgi-bin/tags/get"}`, codeNotSimulated, 0, 0, 0},
		{"SubscribeSend", `{"cgi_path":"/cgi-bin/message/subscribe/bizsend"}`, codeNotSimulated, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := post(t, srv, "/cgi-bin/openapi/quota/get", tok, tt.body)
			if tt.want == codeNotSimulated {
				if r.Status != http.StatusNotImplemented || r.Errcode != codeNotSimulated || !strings.Contains(r.Errmsg, "not simulated") {
					t.Errorf("HTTP %d: %s; want a 501 'not simulated'", r.Status, r.Body)
				}
				return
			}
			if tt.want != 0 {
				wantError(t, r, tt.want)
				return
			}
			var body struct {
				Errcode int
				Errmsg  string
				Quota   struct {
					DailyLimit int `json:"daily_limit"`
					Used       int `json:"used"`
					Remain     int `json:"remain"`
				} `json:"quota"`
			}
			if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
				t.Fatal(err)
			}
			q := body.Quota
			if body.Errcode != 0 || body.Errmsg != "ok" || q.DailyLimit != tt.limit || q.Used != tt.used || q.Remain != tt.left {
				t.Errorf("got %s", r.Body)
			}
		})
	}
}

// A path the simulator does not serve checks the token first, as every
// WeChat API does, and then answers in a way nobody can take for WeChat's:
// HTTP 501 and "not simulated", not 48001 "api unauthorized", which sent
// users looking for a permission problem (PRODUCT.md, sandbox fidelity).
func TestUnknownPath(t *testing.T) {
	srv := mustServer(t, Options{})
	tok := mustToken(t, srv)
	for _, p := range []string{"/", "/cgi-bin/message/mass/sendall", "/cgi-bin/menu/get", "/cgi-bin/token/extra"} {
		t.Run(p, func(t *testing.T) {
			wantError(t, do(t, srv.Client(), "GET", srv.URL+p, ""), 41001)
			wantError(t, do(t, srv.Client(), "GET", srv.URL+p+"?access_token=garbage", ""), 40001)

			r := do(t, srv.Client(), "POST", srv.URL+p+"?access_token="+tok, `{"touser":"`+openID1+`"}`)
			if r.Status != http.StatusNotImplemented || r.Errcode != 501 {
				t.Fatalf("HTTP %d errcode %d, want HTTP 501 errcode 501: %s", r.Status, r.Errcode, r.Body)
			}
			for _, want := range []string{"not simulated", "POST " + p, "not WeChat's"} {
				if !strings.Contains(r.Errmsg, want) {
					t.Errorf("errmsg %q lacks %q", r.Errmsg, want)
				}
			}
			for _, weChatLike := range []string{"rid:", "api unauthorized", tok} {
				if strings.Contains(r.Body, weChatLike) {
					t.Errorf("answer %s holds %.20q", r.Body, weChatLike)
				}
			}
			if r.ContentType == contentType {
				t.Errorf("Content-Type %q is WeChat's", r.ContentType)
			}
		})
	}
}

func TestControlEndpoints(t *testing.T) {
	srv := mustServer(t, Options{Quota: 1})
	tok := mustToken(t, srv)
	ctl := func(method, path string) reply {
		t.Helper()
		return do(t, srv.Client(), method, srv.URL+path, "")
	}
	ok := func(method, path string) {
		t.Helper()
		if r := ctl(method, path); r.Status != http.StatusOK || r.Errcode != 0 || r.Errmsg != "ok" {
			t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Body)
		}
	}

	ok("POST", "/sandbox/fail?code=45011&n=2")
	wantError(t, send(t, srv, tok, msg(t, openID1, "", nil)), 45011)
	wantError(t, send(t, srv, tok, msg(t, openID1, "", nil)), 45011)
	ok("POST", "/sandbox/fail?status=503")
	if r := send(t, srv, tok, msg(t, openID1, "", nil)); r.Status != 503 {
		t.Errorf("after fail?status=503: %d", r.Status)
	}

	wantOK(t, send(t, srv, tok, msg(t, openID1, "", nil)))
	wantError(t, send(t, srv, tok, msg(t, openID1, "", nil)), 45009)
	ok("POST", "/sandbox/quota/reset")
	wantOK(t, send(t, srv, tok, msg(t, openID1, "", nil)))
	ok("POST", "/sandbox/quota?n=5")
	wantOK(t, send(t, srv, tok, msg(t, openID1, "", nil)))

	ok("POST", "/sandbox/expire")
	wantError(t, send(t, srv, tok, msg(t, openID1, "", nil)), 42001)
	tok = mustToken(t, srv)
	ok("POST", "/sandbox/revoke")
	wantError(t, send(t, srv, tok, msg(t, openID1, "", nil)), 40001)

	r := ctl("GET", "/sandbox/stats")
	var st Stats
	if err := json.Unmarshal([]byte(r.Body), &st); err != nil {
		t.Fatal(err)
	}
	want := Stats{Requests: 9, Accepted: 3, Quota: 5, QuotaUsed: 2, StableTokenCalls: 2}
	if st.Requests != want.Requests || st.Accepted != want.Accepted || st.Quota != want.Quota ||
		st.QuotaUsed != want.QuotaUsed || st.StableTokenCalls != want.StableTokenCalls ||
		st.Rejected[45011] != 2 || st.Rejected[45009] != 1 || st.HTTPFaults != 1 ||
		st.Calls["/cgi-bin/message/template/send"] != 9 {
		t.Errorf("stats %s", r.Body)
	}

	r = ctl("GET", "/sandbox/deliveries")
	sc := bufio.NewScanner(strings.NewReader(r.Body))
	n := 0
	for sc.Scan() {
		var d Delivery
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil || d.OpenID != openID1 {
			t.Errorf("line %q: %v", sc.Text(), err)
		}
		n++
	}
	if n != 3 {
		t.Errorf("%d delivery lines, want 3", n)
	}

	misuse := []struct {
		method, path string
		want         int
	}{
		{"GET", "/sandbox/revoke", http.StatusMethodNotAllowed},
		{"POST", "/sandbox/stats", http.StatusMethodNotAllowed},
		{"POST", "/sandbox/nope", http.StatusNotFound},
		{"POST", "/sandbox/fail", http.StatusBadRequest},
		{"POST", "/sandbox/fail?code=x", http.StatusBadRequest},
		{"POST", "/sandbox/fail?code=-1&n=0", http.StatusBadRequest},
		{"POST", "/sandbox/fail?status=200", http.StatusBadRequest},
		{"POST", "/sandbox/quota?n=-3", http.StatusBadRequest},
	}
	for _, m := range misuse {
		t.Run(m.method+m.path, func(t *testing.T) {
			if r := ctl(m.method, m.path); r.Status != m.want {
				t.Errorf("status %d, want %d", r.Status, m.want)
			}
		})
	}
}
