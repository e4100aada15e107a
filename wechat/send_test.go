package wechat_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/megasend/megasend/wechat"
	"github.com/megasend/megasend/wechat/wechattest"
)

func TestClient_SendTemplate(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		srv := mustServer(t, wechattest.Options{})
		c := mustClient(t, srv.URL, wechat.Config{})
		msgid, err := c.SendTemplate(t.Context(), orderPaid(openID(1), "batch-1/1"))
		if err != nil {
			t.Fatalf("SendTemplate: %v", err)
		}
		d := srv.Deliveries()
		if len(d) != 1 || d[0].OpenID != openID(1) || d[0].TemplateID != legacyTemplate || d[0].ClientMsgID != "batch-1/1" {
			t.Fatalf("deliveries = %+v", d)
		}
		if msgid != d[0].MsgID {
			t.Errorf("msgid = %d, WeChat sent %d", msgid, d[0].MsgID)
		}
	})

	// Same (openid, client_msg_id) inside the window: WeChat answers the
	// first msgid again and delivers once. msgids are above 2^53: a decode
	// through float64 would lose the last digits.
	t.Run("DedupSameMsgID", func(t *testing.T) {
		srv := mustServer(t, wechattest.Options{})
		c := mustClient(t, srv.URL, wechat.Config{})
		first, err := c.SendTemplate(t.Context(), orderPaid(openID(1), "batch-1/1"))
		if err != nil {
			t.Fatal(err)
		}
		second, err := c.SendTemplate(t.Context(), orderPaid(openID(1), "batch-1/1"))
		if err != nil {
			t.Fatal(err)
		}
		d := srv.Deliveries()
		if len(d) != 1 {
			t.Fatalf("%d deliveries, want 1", len(d))
		}
		if first != second || first != d[0].MsgID {
			t.Errorf("msgids %d, %d; WeChat's is %d", first, second, d[0].MsgID)
		}
		if first <= 1<<53 {
			t.Errorf("msgid %d is not above 2^53: the test proves nothing", first)
		}
		if st := srv.Stats(); st.Deduplicated != 1 {
			t.Errorf("Deduplicated = %d, want 1", st.Deduplicated)
		}
	})

	// '&' and '<' travel as themselves: Go's default encoder writes \u0026
	// and \u003c, which WeChat may refuse (40033) or show literally.
	t.Run("NoHTMLEscaping", func(t *testing.T) {
		sim, url, rec := mustRecordingServer(t, wechattest.Options{})
		c := mustClient(t, url, wechat.Config{})
		msg := orderPaid(openID(1), "")
		msg.URL = "https://shop.example.com/order?id=42&from=wx<tpl>"
		msg.Data["remark"] = wechat.DataValue{Value: "A&B <欢迎> \"再次\" 购买"}
		var msgid int64 // not float64: the type is the contract
		msgid, err := c.SendTemplate(t.Context(), msg)
		if err != nil {
			t.Fatalf("SendTemplate: %v", err)
		}
		bodies := rec.Bodies()
		if len(bodies) != 1 {
			t.Fatalf("%d send bodies recorded, want 1", len(bodies))
		}
		body := string(bodies[0])
		for _, want := range []string{`"url":"https://shop.example.com/order?id=42&from=wx<tpl>"`, `A&B <欢迎> \"再次\" 购买`} {
			if !strings.Contains(body, want) {
				t.Errorf("body lacks %s:\n%s", want, body)
			}
		}
		for _, esc := range []string{`\u0026`, `\u003c`, `\u003e`} {
			if strings.Contains(body, esc) {
				t.Errorf("body has %s:\n%s", esc, body)
			}
		}
		d := sim.Deliveries()
		if len(d) != 1 || !strings.Contains(string(d[0].Data), "A&B <欢迎>") || d[0].MsgID != msgid {
			t.Errorf("delivery = %+v, want the raw value and msgid %d", d, msgid)
		}
	})

	t.Run("ClientMsgIDTooLong", func(t *testing.T) {
		srv := mustServer(t, wechattest.Options{})
		c := mustClient(t, srv.URL, wechat.Config{})
		_, err := c.SendTemplate(t.Context(), orderPaid(openID(1), strings.Repeat("x", wechat.MaxClientMsgID+1)))
		if err == nil || !strings.Contains(err.Error(), "client_msg_id") {
			t.Fatalf("err = %v, want a client_msg_id error", err)
		}
		if srv.Stats().Requests != 0 {
			t.Error("the message was sent")
		}
	})
}

// Every error class, each from a real answer of the simulator.
func TestClient_SendTemplate_APIErrors(t *testing.T) {
	unfollowed := openID(99)
	tests := []struct {
		name      string
		opts      wechattest.Options
		setup     func(srv *wechattest.Server)
		msg       func() *wechat.TemplateMessage
		wantCode  int
		wantClass wechat.Class
		wantMsg   string // errmsg must contain it, besides "rid:"
	}{
		{name: "SystemError", setup: func(s *wechattest.Server) { s.FailNext(1, -1) },
			wantCode: -1, wantClass: wechat.ClassTransient, wantMsg: "system error"},
		// Refreshing did not help: the 40001 persists and is the caller's.
		{name: "TokenRejectedAfterRefresh", setup: func(s *wechattest.Server) { s.FailNext(2, 40001) },
			wantCode: 40001, wantClass: wechat.ClassToken, wantMsg: "invalid credential"},
		// Each refused token gets its own refresh, three tokens at most:
		// revoked on every try, the tokens fight, and the 40001 is the
		// caller's.
		{name: "TokenRevokedThrice", setup: func(s *wechattest.Server) { s.RevokeAt(1); s.RevokeAt(2); s.RevokeAt(3) },
			wantCode: 40001, wantClass: wechat.ClassToken},
		{name: "MinuteQuota", setup: func(s *wechattest.Server) { s.FailNext(1, 45011) },
			wantCode: 45011, wantClass: wechat.ClassRate},
		{name: "DailyQuotaUsedUp", setup: func(s *wechattest.Server) { s.SetQuota(0) },
			wantCode: 45009, wantClass: wechat.ClassQuota, wantMsg: "daily quota"},
		{name: "NoQuotaAtAll", opts: wechattest.Options{Quota: -1},
			wantCode: 45009, wantClass: wechat.ClassQuota},
		{name: "Unfollowed", opts: wechattest.Options{Unfollowed: []string{unfollowed}},
			msg:      func() *wechat.TemplateMessage { return orderPaid(unfollowed, "") },
			wantCode: 43004, wantClass: wechat.ClassRecipient, wantMsg: "require subscribe"},
		{name: "BadOpenID", msg: func() *wechat.TemplateMessage { return orderPaid("not-an-openid", "") },
			wantCode: 40003, wantClass: wechat.ClassRecipient, wantMsg: "invalid openid"},
		// phrase: at most 5 Chinese characters; this one has 7.
		{name: "CategoryValueRule", msg: func() *wechat.TemplateMessage {
			return &wechat.TemplateMessage{ToUser: openID(1), TemplateID: categoryTemplate, Data: map[string]wechat.DataValue{
				"thing1": {Value: "巧克力"}, "phrase3": {Value: "已经全部发货了"},
			}}
		}, wantCode: 47003, wantClass: wechat.ClassRecipient, wantMsg: "data.phrase3.value invalid"},
		{name: "UnknownTemplate", msg: func() *wechat.TemplateMessage {
			m := orderPaid(openID(1), "")
			m.TemplateID = "no-such-template-id-000000000000000000000000"
			return m
		}, wantCode: 40037, wantClass: wechat.ClassFatal, wantMsg: "invalid template_id"},
		{name: "TemplateBanned", setup: func(s *wechattest.Server) { s.FailNext(1, 43116) },
			wantCode: 43116, wantClass: wechat.ClassFatal},
		{name: "UnknownCode", setup: func(s *wechattest.Server) { s.FailNext(1, 49999) },
			wantCode: 49999, wantClass: wechat.ClassRecipient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mustServer(t, tt.opts)
			c := mustClient(t, srv.URL, wechat.Config{})
			if tt.setup != nil {
				tt.setup(srv)
			}
			msg := orderPaid(openID(1), "")
			if tt.msg != nil {
				msg = tt.msg()
			}
			_, err := c.SendTemplate(t.Context(), msg)
			ae := asAPIError(t, err)
			if ae.Code != tt.wantCode || ae.Class != tt.wantClass || ae.Op != "message/template/send" {
				t.Errorf("err = %+v, want errcode %d, class %v", ae, tt.wantCode, tt.wantClass)
			}
			if got := wechat.ClassOf(err); got != tt.wantClass {
				t.Errorf("ClassOf = %v, want %v", got, tt.wantClass)
			}
			if got := wechat.Errcode(err); got != tt.wantCode {
				t.Errorf("Errcode = %d, want %d", got, tt.wantCode)
			}
			if !strings.Contains(ae.Msg, "rid:") || !strings.Contains(ae.Msg, tt.wantMsg) {
				t.Errorf("errmsg = %q, want WeChat's, with %q and its rid", ae.Msg, tt.wantMsg)
			}
			if wechat.IsAmbiguous(err) {
				t.Error("IsAmbiguous is true for an answer from WeChat")
			}
			if n := len(srv.Deliveries()); n != 0 {
				t.Errorf("%d deliveries, want 0", n)
			}
			if st := srv.Stats(); st.ForceRefreshes != 0 {
				t.Errorf("ForceRefreshes = %d", st.ForceRefreshes)
			}
		})
	}
}

// Failures without a WeChat answer are *RequestError, all transient. Sent
// (IsAmbiguous) says whether the message may have been delivered.
func TestClient_SendTemplate_RequestErrors(t *testing.T) {
	tests := []struct {
		name          string
		timeout       time.Duration
		setup         func(srv *wechattest.Server)
		wantStatus    int
		wantSent      bool
		wantDelivered int
	}{
		{name: "HTTP500", setup: func(s *wechattest.Server) { s.FailHTTP(1, http.StatusInternalServerError) },
			wantStatus: 500, wantSent: true},
		{name: "HTTP502", setup: func(s *wechattest.Server) { s.FailHTTP(1, http.StatusBadGateway) },
			wantStatus: 502, wantSent: true},
		{name: "HTMLPage200", setup: func(s *wechattest.Server) { s.HTMLNext(1) },
			wantStatus: 200, wantSent: true},
		{name: "DroppedAfterDelivery", setup: func(s *wechattest.Server) { s.DropNext(1) },
			wantSent: true, wantDelivered: 1},
		{name: "StalledPastTimeout", timeout: 300 * time.Millisecond,
			setup:    func(s *wechattest.Server) { s.StallNext(1, 30*time.Second) },
			wantSent: true, wantDelivered: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mustServer(t, wechattest.Options{})
			c := mustClient(t, srv.URL, wechat.Config{Timeout: tt.timeout})
			if _, err := c.Token(t.Context()); err != nil {
				t.Fatal(err)
			}
			tt.setup(srv)
			start := time.Now()
			_, err := c.SendTemplate(t.Context(), orderPaid(openID(1), "batch-1/1"))
			re := asRequestError(t, err)
			if re.Status != tt.wantStatus || re.Sent != tt.wantSent || re.Op != "message/template/send" {
				t.Errorf("err = %+v (%v), want status %d, sent %v", re, err, tt.wantStatus, tt.wantSent)
			}
			if wechat.IsAmbiguous(err) != tt.wantSent {
				t.Errorf("IsAmbiguous = %v, want %v", wechat.IsAmbiguous(err), tt.wantSent)
			}
			if wechat.ClassOf(err) != wechat.ClassTransient || !wechat.IsRetryable(err) || wechat.Errcode(err) != -1 {
				t.Errorf("ClassOf = %v, IsRetryable = %v, Errcode = %d; want transient, true, -1",
					wechat.ClassOf(err), wechat.IsRetryable(err), wechat.Errcode(err))
			}
			if n := len(srv.Deliveries()); n != tt.wantDelivered {
				t.Errorf("%d deliveries, want %d", n, tt.wantDelivered)
			}
			if tt.timeout > 0 && time.Since(start) > 10*tt.timeout {
				t.Errorf("took %v with a %v timeout", time.Since(start), tt.timeout)
			}
		})
	}

	t.Run("ConnectionRefused", func(t *testing.T) {
		c := mustClient(t, closedURL(t), wechat.Config{})
		_, err := c.SendTemplate(t.Context(), orderPaid(openID(1), ""))
		re := asRequestError(t, err)
		if re.Sent || wechat.IsAmbiguous(err) || re.Status != 0 {
			t.Errorf("err = %+v, want nothing sent, no status", re)
		}
		if wechat.ClassOf(err) != wechat.ClassTransient {
			t.Errorf("ClassOf = %v, want transient", wechat.ClassOf(err))
		}
	})

	// The server went away after the token was fetched: the send itself is
	// refused, and nothing was written. (Keep-alives are off: a pooled
	// connection the server closed a moment ago could be written to first.)
	t.Run("ConnectionRefusedOnSend", func(t *testing.T) {
		srv := wechattest.NewServer(wechattest.Options{Seed: 1})
		c := mustClient(t, srv.URL, wechat.Config{HTTPClient: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}})
		if _, err := c.Token(t.Context()); err != nil {
			t.Fatal(err)
		}
		srv.Close()
		_, err := c.SendTemplate(t.Context(), orderPaid(openID(1), ""))
		re := asRequestError(t, err)
		if re.Sent || wechat.IsAmbiguous(err) || re.Op != "message/template/send" {
			t.Errorf("err = %+v, want nothing sent", re)
		}
	})

	t.Run("ContextCancelled", func(t *testing.T) {
		srv := mustServer(t, wechattest.Options{})
		c := mustClient(t, srv.URL, wechat.Config{})
		if _, err := c.Token(t.Context()); err != nil {
			t.Fatal(err)
		}
		srv.SetLatency(time.Minute, 0)
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(50*time.Millisecond, cancel)
		start := time.Now()
		_, err := c.SendTemplate(ctx, orderPaid(openID(1), ""))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("SendTemplate returned %v after cancellation", d)
		}
	})

	// A cancelled caller waiting for another worker's token fetch leaves at
	// once instead of queueing behind it.
	t.Run("ContextCancelledWaitingForToken", func(t *testing.T) {
		srv := mustServer(t, wechattest.Options{})
		c := mustClient(t, srv.URL, wechat.Config{})
		srv.SetLatency(time.Minute, 0)
		go c.Token(t.Context()) // holds the refresh until the test ends
		time.Sleep(20 * time.Millisecond)
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.SendTemplate(ctx, orderPaid(openID(1), ""))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("SendTemplate returned after %v", d)
		}
	})
}
