package wechat_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/megasend/megasend/wechat"
	"github.com/megasend/megasend/wechat/wechattest"
)

func customText(to, text string) []byte {
	return fmt.Appendf(nil, `{"touser":%q,"msgtype":"text","text":{"content":%q}}`, to, text)
}

func subscribeBody(to, tmpl string) []byte {
	return fmt.Appendf(nil, `{"touser":%q,"template_id":%q,"page":"https://example.com/?a=1&b=2","data":{"thing1":{"value":"订阅"}}}`, to, tmpl)
}

// The client's custom and subscribe sends against the simulator: what
// WeChat answers and how each answer is classed for its kind.
func TestClient_SendKinds(t *testing.T) {
	inside, outside := openID(1), openID(2)
	srv := mustServer(t, wechattest.Options{
		CustomLimit: 1,
		Interacted:  &wechattest.Audience{OpenIDs: []string{inside}},
		Subscribed:  &wechattest.Audience{OpenIDs: []string{inside}},
		TemplateIDs: []string{"SUBSCRIBE_TMPL"},
	})
	c := mustClient(t, srv.URL, wechat.Config{})
	ctx := t.Context()

	tests := []struct {
		name        string
		send        func() error
		code        int
		class       wechat.Class
		unreachable bool
	}{
		{"custom inside", func() error { return c.SendCustomBody(ctx, customText(inside, "hi")) }, 0, wechat.ClassNone, false},
		{"custom count used up", func() error { return c.SendCustomBody(ctx, customText(inside, "again")) }, 45047, wechat.ClassRecipient, true},
		{"custom outside", func() error { return c.SendCustomBody(ctx, customText(outside, "hi")) }, 45015, wechat.ClassRecipient, true},
		{"custom bad msgtype", func() error {
			return c.SendCustomBody(ctx, []byte(`{"touser":"`+inside+`","msgtype":"sms"}`))
		}, 40008, wechat.ClassFatal, false},
		{"subscribe", func() error { return c.SendSubscribeBody(ctx, subscribeBody(inside, "SUBSCRIBE_TMPL")) }, 0, wechat.ClassNone, false},
		{"subscribe refused", func() error { return c.SendSubscribeBody(ctx, subscribeBody(outside, "SUBSCRIBE_TMPL")) }, 43101, wechat.ClassRecipient, false},
		{"subscribe unknown template", func() error { return c.SendSubscribeBody(ctx, subscribeBody(inside, "nope")) }, 40037, wechat.ClassFatal, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.send()
			if got := wechat.Errcode(err); got != tt.code {
				t.Fatalf("errcode %d (%v), want %d", got, err, tt.code)
			}
			if got := wechat.ClassOf(err); got != tt.class {
				t.Errorf("class %v, want %v", got, tt.class)
			}
			if got := wechat.Unreachable(err); got != tt.unreachable {
				t.Errorf("Unreachable = %v, want %v", got, tt.unreachable)
			}
		})
	}
	kinds := map[string]int{}
	for _, d := range srv.Deliveries() {
		kinds[d.Kind]++
	}
	if kinds[wechattest.KindCustom] != 1 || kinds[wechattest.KindSubscribe] != 1 || len(kinds) != 2 {
		t.Errorf("deliveries by kind %v, want one custom and one subscribe", kinds)
	}
}

// The same errcode classes by the endpoint that answered it: 45015 from a
// template send is no call for a fallback, and the meaning names the kind.
func TestClassifyKind(t *testing.T) {
	meaning, _ := wechat.DescribeKind(wechat.KindCustom, 45015)
	if !strings.Contains(meaning, "48-hour window") {
		t.Errorf("custom 45015 means %q", meaning)
	}
	meaning, _ = wechat.DescribeKind(wechat.KindSubscribe, 43101)
	if !strings.Contains(meaning, "subscribe") {
		t.Errorf("subscribe 43101 means %q", meaning)
	}
	if c := wechat.ClassifyKind(wechat.KindCustom, 40008); c != wechat.ClassFatal {
		t.Errorf("custom 40008 class %v, want fatal", c)
	}
	if c := wechat.ClassifyKind(wechat.KindTemplate, 40008); c != wechat.ClassRecipient {
		t.Errorf("template 40008 class %v, want recipient (unknown code)", c)
	}
	templateErr := &wechat.APIError{Op: "message/template/send", Code: 45015, Class: wechat.ClassRecipient}
	if wechat.Unreachable(templateErr) {
		t.Error("Unreachable(template 45015) = true: only a custom message falls back")
	}
	if c := wechat.ClassOfKind(wechat.KindCustom, templateErr); c != wechat.ClassRecipient {
		t.Errorf("ClassOfKind(custom, 45015) = %v", c)
	}
	if c := wechat.ClassOfKind(wechat.KindCustom, &wechat.APIError{Op: "x", Code: 40008}); c != wechat.ClassFatal {
		t.Errorf("ClassOfKind(custom, 40008) = %v, want fatal", c)
	}
	if c := wechat.ClassOfKind(wechat.KindCustom, errors.New("x")); c != wechat.ClassNone {
		t.Errorf("ClassOfKind(custom, plain error) = %v, want none", c)
	}
}

// An API the sandbox does not simulate answers HTTP 501 "not simulated":
// the client says so, and does not retry it as a transient error.
func TestClient_NotSimulated(t *testing.T) {
	// The sandbox as if it did not model custom/send: the request goes to
	// the mini program's business/send, which it does not serve.
	sim := wechattest.New(wechattest.Options{Seed: 1})
	url := mustServe(t, sim, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/cgi-bin/message/custom/send" {
			r.URL.Path = "/cgi-bin/message/custom/business/send"
		}
		sim.ServeHTTP(w, r)
	}))
	c := mustClient(t, url, wechat.Config{})
	err := c.SendCustomBody(t.Context(), customText(openID(1), "x"))
	re := asRequestError(t, err)
	if re.Status != 501 || !strings.Contains(err.Error(), "not simulated") {
		t.Errorf("error %v, want HTTP 501 saying not simulated", err)
	}
	if wechat.ClassOf(err) != wechat.ClassFatal || wechat.IsRetryable(err) {
		t.Errorf("class %v, retryable %v: want fatal and not retried", wechat.ClassOf(err), wechat.IsRetryable(err))
	}
}

// The errmsg of an HTTP error status is shown, but never the token it may
// echo, and a long one is cut short.
func TestClient_StatusDetailRedacted(t *testing.T) {
	sim := wechattest.New(wechattest.Options{Seed: 1})
	var token string
	url := mustServe(t, sim, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/cgi-bin/message/custom/send" {
			sim.ServeHTTP(w, r)
			return
		}
		token = r.URL.Query().Get("access_token")
		w.WriteHeader(http.StatusNotImplemented)
		fmt.Fprintf(w, `{"errcode":501,"errmsg":"no %s for access_token=%s %s"}`, r.URL.Path, token, strings.Repeat("x", 500))
	}))
	c := mustClient(t, url, wechat.Config{})
	err := c.SendCustomBody(t.Context(), customText(openID(1), "x"))
	if token == "" || strings.Contains(err.Error(), token) {
		t.Fatalf("error %q shows the token", err)
	}
	if !strings.Contains(err.Error(), "Not Implemented: no /cgi-bin/message/custom/send for access_token=REDACTED") || len(err.Error()) > 400 {
		t.Errorf("error %q", err)
	}
}
