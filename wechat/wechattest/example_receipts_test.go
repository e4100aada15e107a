package wechattest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/megasend/megasend/wechat"
	"github.com/megasend/megasend/wechat/wechattest"
)

// Example_receipts shows the receipts lifecycle: the account's server
// (here an httptest server opening pushes with wechat.Receiver, as
// megasend serve does), a simulator posting receipts to it in safe mode,
// two template messages, one to a user who blocks the account, and the
// receipts arriving with the msgids the sends were answered.
func Example_receipts() {
	const token, aesKey = "exampleToken42", "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
	recv, err := wechat.NewReceiver(wechat.CallbackConfig{Token: token, EncodingAESKey: aesKey, AppID: wechattest.DefaultAppID})
	if err != nil {
		panic(err)
	}
	receipts := make(chan wechat.Event, 2)
	account := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, wechat.MaxPushBytes))
		if err == nil {
			var e wechat.Event
			if e, err = recv.Open(r.URL.Query(), body); err == nil && e.IsReceipt() {
				receipts <- e
			}
		}
		if err != nil {
			http.Error(w, "refused", wechat.CallbackHTTPStatus(err))
			return
		}
		io.WriteString(w, wechat.CallbackSuccess)
	}))
	defer account.Close()

	srv := wechattest.NewServer(wechattest.Options{
		CallbackURL:    account.URL + "/wechat/callback/main",
		CallbackToken:  token,
		CallbackAESKey: aesKey,
		Blocked:        []string{"oBlockedBlockedBlockedBloc01"},
		ReceiptDelay:   10 * time.Millisecond,
	})
	defer srv.Close()

	c, err := wechat.New(wechat.Config{AppID: wechattest.DefaultAppID, AppSecret: wechattest.DefaultAppSecret, BaseURL: srv.URL})
	if err != nil {
		panic(err)
	}
	sent := map[string]int64{}
	for _, to := range []string{"oAbCdEfGhIjKlMnOpQrStUvWx_01", "oBlockedBlockedBlockedBloc01"} {
		msgid, err := c.SendTemplate(context.Background(), &wechat.TemplateMessage{
			ToUser: to, TemplateID: "mf_E7on5Vh9SIIdieRcvRSv7yFCR0-wFhtdfeA0XY3g",
			Data: map[string]wechat.DataValue{"keyword1": {Value: "巧克力"}},
		})
		if err != nil {
			panic(err)
		}
		sent[to] = msgid
	}

	for range 2 {
		e := <-receipts
		fmt.Printf("%s %s: %q (%s), msgid matches: %v\n", e.Event, e.FromUserName, e.Status,
			e.Status.Outcome(), e.MsgID == sent[e.FromUserName])
	}
	// The handler has the receipts before the sandbox has its answers:
	// wait for those, since Close abandons whatever is still pending.
	for srv.Stats().ReceiptsPending > 0 {
		time.Sleep(time.Millisecond)
	}
	srv.Close()
	st := srv.Stats()
	fmt.Println("posted:", st.ReceiptsPosted, "answered:", st.ReceiptsAnswered, "failed:", st.ReceiptsFailed)
	// Unordered output:
	// TEMPLATESENDJOBFINISH oAbCdEfGhIjKlMnOpQrStUvWx_01: "success" (success), msgid matches: true
	// TEMPLATESENDJOBFINISH oBlockedBlockedBlockedBloc01: "failed:user block" (user_block), msgid matches: true
	// posted: 2 answered: 2 failed: 0
}
