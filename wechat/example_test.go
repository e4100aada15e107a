package wechat_test

import (
	"context"
	"fmt"

	"github.com/megasend/megasend/wechat"
	"github.com/megasend/megasend/wechat/wechattest"
)

// ExampleClient_SendTemplate sends a template message to the simulated
// WeChat API, then one to a follower who left, and acts on the error class.
func ExampleClient_SendTemplate() {
	srv := wechattest.NewServer(wechattest.Options{Unfollowed: []string{"oGoneGoneGoneGoneGoneGone_01"}})
	defer srv.Close()

	c, err := wechat.New(wechat.Config{
		AppID:     wechattest.DefaultAppID,
		AppSecret: wechattest.DefaultAppSecret,
		BaseURL:   srv.URL,
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	msg := &wechat.TemplateMessage{
		ToUser:      "oAbCdEfGhIjKlMnOpQrStUvWx_01",
		TemplateID:  "mf_E7on5Vh9SIIdieRcvRSv7yFCR0-wFhtdfeA0XY3g",
		URL:         "https://shop.example.com/order?id=42&from=wx",
		ClientMsgID: "batch-42/1",
		Data: map[string]wechat.DataValue{
			"keyword1": {Value: "巧克力"},
			"keyword2": {Value: "39.8元"},
		},
	}
	msgid, err := c.SendTemplate(ctx, msg)
	if err != nil {
		panic(err)
	}
	fmt.Println("accepted:", msgid == srv.Deliveries()[0].MsgID)

	msg.ToUser, msg.ClientMsgID = "oGoneGoneGoneGoneGoneGone_01", "batch-42/2"
	_, err = c.SendTemplate(ctx, msg)
	switch wechat.ClassOf(err) {
	case wechat.ClassRecipient:
		meaning, _ := wechat.Describe(wechat.Errcode(err))
		fmt.Println("failed for this recipient:", wechat.Errcode(err), meaning)
	case wechat.ClassFatal, wechat.ClassQuota:
		fmt.Println("stop the batch")
	}
	// Output:
	// accepted: true
	// failed for this recipient: 43004 recipient does not follow the account
}
