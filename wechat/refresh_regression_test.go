package wechat_test

import (
	"testing"

	"github.com/megasend/megasend/wechat"
	"github.com/megasend/megasend/wechat/wechattest"
)

// A data endpoint's success body has no errcode: after a token refresh, the
// retried call must not report the first attempt's 40014 (found by
// 'template pull --sandbox' run twice on one database).
func TestClient_RetryAfterRefreshClearsStatus(t *testing.T) {
	srv := wechattest.NewServer(wechattest.Options{})
	t.Cleanup(srv.Close)
	c, err := wechat.New(wechat.Config{AppID: wechattest.DefaultAppID, AppSecret: wechattest.DefaultAppSecret, BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PrivateTemplates(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv.RevokeTokens()
	list, err := c.PrivateTemplates(t.Context())
	if err != nil {
		t.Fatalf("PrivateTemplates after revocation: %v", err)
	}
	if len(list) == 0 {
		t.Error("no templates listed")
	}
}
