package wechattest

import (
	"net/url"
	"strings"
	"testing"
)

// The safe-mode push worked through in public by 方倍工作室's walkthrough
// of WeChat's message encryption (made with WeChat's sample code; also the
// test data of twinh/wei's WeChatAppTest::testEncrypt). The wechat package
// tests its Crypter against the same vector; here it pins the sandbox's own
// cipher, so that the two implementations agree with WeChat and not merely
// with each other.
const (
	docToken     = "weixin"
	docAppID     = "wxbad0b45542aa0b5e"
	docAESKey    = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	docTimestamp = "1414243737"
	docNonce     = "1792106704"
	docSignature = "35703636de2f9df2a77a662b68e521ce17c34db4"
	docMsgSig    = "6147984331daf7a1a9eed6e0ec3ba69055256154"
	docRandom    = "fd219fb17e4d1657"
	docEncrypt   = "MNn4+jJ/VsFh2gUyKAaOJArwEVYCvVmyN0iXzNarP3O6vXzK62ft1/KG2/XPZ4y5bPWU/jfIfQxODRQ7sLkUsrDRqsWimuhI" +
		"T8Eq+w4E/28m+XDAQKEOjWTQIOp1p6kNsIV1DdC3B+AtcKcKSNAeJDr7x7GHLx5DZYK09qQsYDOjP6R5NqebFjKt/NpEl/GU3gWF" +
		"wG8LCtRNuIYdK5axbFSfmXbh5CZ6Bk5wSwj5fu5aS90cMAgUhGsxrxZTY562QR6c+3ydXxb+GHI5w+qA+eqJjrQqR7u5hS+1x5sE" +
		"sA7vS+bZ5LYAR3+PZ243avQkGllQ+rg7a6TeSGDxxhvLw+mxxinyk88BNHkJnyK//hM1k9PuvuLAASdaud4vzRQlAmnYOslZl8CN" +
		"7gjCjV41skUTZv3wwGPxvEqtm/nf5fQ="
	docPlain = "<xml><ToUserName><![CDATA[gh_680bdefc8c5d]]></ToUserName>\n" +
		"<FromUserName><![CDATA[oIDrpjpQ8j8mBuQ8nM26HWzNEZgg]]></FromUserName>\n" +
		"<CreateTime>1414243737</CreateTime>\n" +
		"<MsgType><![CDATA[text]]></MsgType>\n" +
		"<Content><![CDATA[?]]></Content>\n" +
		"<MsgId>6074130599188426998</MsgId>\n" +
		"</xml>"
)

func TestCallbackCipher_DocVector(t *testing.T) {
	c, err := newCallbackCipher(docAESKey, docAppID)
	if err != nil {
		t.Fatal(err)
	}
	var random [16]byte
	copy(random[:], docRandom)
	if got := c.seal(random, []byte(docPlain)); got != docEncrypt {
		t.Fatalf("seal =\n%s\nwant\n%s", got, docEncrypt)
	}
	if got := callbackSignature(docToken, docTimestamp, docNonce); got != docSignature {
		t.Errorf("signature %s, want %s", got, docSignature)
	}
	if got := callbackSignature(docToken, docTimestamp, docNonce, docEncrypt); got != docMsgSig {
		t.Errorf("msg_signature %s, want %s", got, docMsgSig)
	}
	// WeChat's own plain-mode example ("消息加解密说明", Token "AAAAA").
	if got := callbackSignature("AAAAA", "1714037059", "486452656"); got != "899cf89e464efb63f54ddac96b0a0a235f53aa78" {
		t.Errorf("plain signature %s", got)
	}
}

func TestReceiptRequest(t *testing.T) {
	xml := receiptXML("gh_7f083739789a", openID1, 1395658920, 3557254367693750277, statusUserBlock)
	want := `<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName><FromUserName><![CDATA[` + openID1 + `]]></FromUserName>` +
		`<CreateTime>1395658920</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event>` +
		`<MsgID>3557254367693750277</MsgID><Status><![CDATA[failed:user block]]></Status></xml>`
	if string(xml) != want {
		t.Fatalf("receiptXML =\n%s\nwant\n%s", xml, want)
	}

	base := url.Values{"account": {"main"}}
	q, body, err := receiptRequest(base, "tok123", nil, "gh_7f083739789a", openID1, xml, 1700000000, "42")
	if err != nil {
		t.Fatal(err)
	}
	wantQ := url.Values{"account": {"main"}, "timestamp": {"1700000000"}, "nonce": {"42"}, "openid": {openID1},
		"signature": {callbackSignature("tok123", "1700000000", "42")}}
	if q.Encode() != wantQ.Encode() || string(body) != want {
		t.Errorf("plain: query %s body %s", q.Encode(), body)
	}
	if base.Has("signature") {
		t.Error("receiptRequest wrote into the callback URL's query")
	}

	c, _ := newCallbackCipher(testAESKey, DefaultAppID)
	q, body, err = receiptRequest(nil, "tok123", c, "gh_7f083739789a", openID1, xml, 1700000000, "42")
	if err != nil {
		t.Fatal(err)
	}
	enc, ok := strings.CutPrefix(string(body), "<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName><Encrypt><![CDATA[")
	enc, ok2 := strings.CutSuffix(enc, "]]></Encrypt></xml>")
	if !ok || !ok2 || q.Get("encrypt_type") != "aes" ||
		q.Get("msg_signature") != callbackSignature("tok123", "1700000000", "42", enc) ||
		q.Get("signature") != callbackSignature("tok123", "1700000000", "42") {
		t.Errorf("safe: query %s body %s", q.Encode(), body)
	}
}

func TestOriginalID(t *testing.T) {
	id := originalID(DefaultAppID)
	if len(id) != 15 || !strings.HasPrefix(id, "gh_") || id != New(Options{}).OriginalID() || id == originalID("wx0000000000000000") {
		t.Errorf("originalID = %q", id)
	}
}
