package wechat

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
)

// ExampleReceiver is an account's callback handler: URL verification on
// GET, pushes on POST, each refusal answered with CallbackHTTPStatus. It
// is fed the safe-mode push of WeChat's published example (docVector), as
// WeChat posted it, and then the same push with its ciphertext altered.
func ExampleReceiver() {
	recv, err := NewReceiver(CallbackConfig{Token: "weixin",
		EncodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", AppID: "wxbad0b45542aa0b5e"})
	if err != nil {
		panic(err)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			echo, err := recv.VerifyURL(r.URL.Query())
			if err != nil {
				http.Error(w, "refused", CallbackHTTPStatus(err))
				return
			}
			io.WriteString(w, echo)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxPushBytes))
		var e Event
		if err == nil {
			e, err = recv.Open(r.URL.Query(), body)
		}
		if err != nil {
			http.Error(w, "refused", CallbackHTTPStatus(err))
			return
		}
		// Record e here, idempotently (receipts by e.MsgID), then:
		fmt.Printf("opened: %s from %s, MsgID %d\n", e.MsgType, e.FromUserName, e.MsgID)
		io.WriteString(w, CallbackSuccess)
	})

	q := url.Values{"signature": {docVector.signature}, "timestamp": {docVector.timestamp}, "nonce": {docVector.nonce},
		"openid": {"oIDrpjpQ8j8mBuQ8nM26HWzNEZgg"}, "encrypt_type": {"aes"}, "msg_signature": {docVector.msgSignature}}
	for _, enc := range []string{docVector.encrypt, "A" + docVector.encrypt[1:]} {
		body := "<xml><ToUserName><![CDATA[gh_680bdefc8c5d]]></ToUserName><Encrypt><![CDATA[" + enc + "]]></Encrypt></xml>"
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/wechat/callback/main?"+q.Encode(), strings.NewReader(body)))
		fmt.Println(w.Code, strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// opened: text from oIDrpjpQ8j8mBuQ8nM26HWzNEZgg, MsgID 6074130599188426998
	// 200 success
	// 403 refused
}
