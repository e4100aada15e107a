package wechattest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/megasend/megasend/wechat/wechattest"
)

// Example shows a simulator's lifecycle: start it, fetch a stable token,
// send a template message, and read what was delivered.
func Example() {
	srv := wechattest.NewServer(wechattest.Options{})
	defer srv.Close()

	// A stable token, with the sandbox's own public credentials.
	resp, err := http.Post(srv.URL+"/cgi-bin/stable_token", "application/json", strings.NewReader(
		`{"grant_type":"client_credential","appid":"`+wechattest.DefaultAppID+
			`","secret":"`+wechattest.DefaultAppSecret+`","force_refresh":false}`))
	if err != nil {
		panic(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	fmt.Println("expires_in:", tok.ExpiresIn)

	// A template message. msgid is above 2^53: decode it as int64.
	resp, err = http.Post(srv.URL+"/cgi-bin/message/template/send?access_token="+tok.AccessToken,
		"application/json", strings.NewReader(`{
			"touser": "oAbCdEfGhIjKlMnOpQrStUvWx_01",
			"template_id": "mf_E7on5Vh9SIIdieRcvRSv7yFCR0-wFhtdfeA0XY3g",
			"client_msg_id": "batch-42/1",
			"data": {"keyword1": {"value": "巧克力"}, "keyword2": {"value": "39.8元"}}
		}`))
	if err != nil {
		panic(err)
	}
	var sent struct {
		Errcode int    `json:"errcode"`
		Errmsg  string `json:"errmsg"`
		MsgID   int64  `json:"msgid"`
	}
	json.NewDecoder(resp.Body).Decode(&sent)
	resp.Body.Close()
	fmt.Println("errcode:", sent.Errcode, sent.Errmsg)

	for _, d := range srv.Deliveries() {
		fmt.Println("delivered:", d.OpenID, d.ClientMsgID, d.MsgID == sent.MsgID)
	}
	fmt.Println("quota used:", srv.QuotaUsed())
	// Output:
	// expires_in: 7200
	// errcode: 0 ok
	// delivered: oAbCdEfGhIjKlMnOpQrStUvWx_01 batch-42/1 true
	// quota used: 1
}
