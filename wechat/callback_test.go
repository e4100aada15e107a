package wechat

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

const testToken = "megasendCallbackToken42"

func TestSignature(t *testing.T) {
	tests := []struct {
		name  string
		parts []string
		want  string
	}{
		// WeChat's "消息加解密说明", plain mode example: Token "AAAAA".
		{"WeChatDocPlain", []string{"AAAAA", "1714037059", "486452656"}, "899cf89e464efb63f54ddac96b0a0a235f53aa78"},
		// The safe-mode example of docVector: signature and msg_signature.
		{"DocVectorSignature", []string{docVector.token, docVector.timestamp, docVector.nonce}, docVector.signature},
		{"DocVectorMsgSignature", []string{docVector.token, docVector.timestamp, docVector.nonce, docVector.encrypt}, docVector.msgSignature},
		// Sorting is bytewise, not numeric: "10" < "9"; the order given does not matter.
		{"SortedBytewise", []string{"9", "10", "tok"}, sha1Hex("109tok")},
		{"OrderFree", []string{"tok", "9", "10"}, sha1Hex("109tok")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Signature(tt.parts...); got != tt.want {
				t.Fatalf("Signature(%q) = %s, want %s", tt.parts, got, tt.want)
			}
		})
	}
}

func TestVerifySignature(t *testing.T) {
	const ts, nonce = "1714037059", "486452656"
	good := "899cf89e464efb63f54ddac96b0a0a235f53aa78"
	tests := []struct {
		name, token, sig string
		want             bool
	}{
		{"OK", "AAAAA", good, true},
		{"UpperHex", "AAAAA", strings.ToUpper(good), true},
		{"WrongToken", "AAAAB", good, false},
		{"OneDigitOff", "AAAAA", good[:39] + "9", false},
		{"Truncated", "AAAAA", good[:20], false},
		{"Missing", "AAAAA", "", false},
		{"EmptyToken", "", Signature("", ts, nonce), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VerifySignature(tt.token, ts, nonce, tt.sig); got != tt.want {
				t.Fatalf("VerifySignature = %v, want %v", got, tt.want)
			}
		})
	}
	if !VerifyMsgSignature(docVector.token, docVector.timestamp, docVector.nonce, docVector.encrypt, docVector.msgSignature) {
		t.Error("VerifyMsgSignature refuses the doc vector")
	}
	if VerifyMsgSignature(docVector.token, docVector.timestamp, docVector.nonce, docVector.encrypt+"x", docVector.msgSignature) {
		t.Error("VerifyMsgSignature accepts an edited ciphertext")
	}
}

func sha1Hex(s string) string { return Signature(s) }

// plainPush signs body as WeChat's plain mode does.
func plainPush(token, body string) (url.Values, []byte) {
	q := url.Values{"timestamp": {"1700000000"}, "nonce": {"123456789"}, "openid": {"oia2TjuEGTNoeX76QEjQNrcURxG8"}}
	q.Set("signature", Signature(token, q.Get("timestamp"), q.Get("nonce")))
	return q, []byte(body)
}

// safePush encrypts and signs body as WeChat's safe mode does; compatible
// puts the plain fields beside the envelope, as compatible mode does.
func safePush(tb testing.TB, token string, c *Crypter, body string, compatible bool) (url.Values, []byte) {
	tb.Helper()
	enc, err := c.Encrypt([]byte(body))
	if err != nil {
		tb.Fatal(err)
	}
	q, _ := plainPush(token, "")
	q.Set("encrypt_type", "aes")
	q.Set("msg_signature", Signature(token, q.Get("timestamp"), q.Get("nonce"), enc))
	envelope := "<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName><Encrypt><![CDATA[" + enc + "]]></Encrypt></xml>"
	if compatible {
		envelope = strings.Replace(body, "</xml>", "<Encrypt><![CDATA["+enc+"]]></Encrypt></xml>", 1)
	}
	return q, []byte(envelope)
}

func TestReceiver_Open(t *testing.T) {
	plain := mustReceiver(t, CallbackConfig{Token: testToken})
	safe := mustReceiver(t, CallbackConfig{Token: testToken, EncodingAESKey: testAESKey, AppID: testAppID})
	c := mustCrypter(t, testAESKey, testAppID)
	foreign := mustCrypter(t, testAESKey, "wx0000000000000000")
	wantReceipt, _ := ParseEvent([]byte(receiptXML))

	edit := func(q url.Values, k, v string) url.Values {
		q = cloneValues(q)
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
		return q
	}
	type push struct {
		q    url.Values
		body []byte
	}
	mk := func(q url.Values, body []byte) push { return push{q, body} }
	plainOK := mk(plainPush(testToken, receiptXML))
	safeOK := mk(safePush(t, testToken, c, receiptXML, false))
	compatOK := mk(safePush(t, testToken, c, receiptXML, true))
	withEncrypt := func(p push, enc string) push {
		q := edit(p.q, "msg_signature", Signature(testToken, p.q.Get("timestamp"), p.q.Get("nonce"), enc))
		return push{q, []byte("<xml><Encrypt><![CDATA[" + enc + "]]></Encrypt></xml>")}
	}
	nested, _ := c.Encrypt(safeOK.body)
	foreignEnc, _ := foreign.Encrypt([]byte(receiptXML))
	badXMLEnc, _ := c.Encrypt([]byte("not xml"))

	tests := []struct {
		name       string
		r          *Receiver
		p          push
		wantErr    error
		wantStatus int
	}{
		{"Plain", plain, plainOK, nil, 200},
		{"PlainRaw", plain, mk(edit(plainOK.q, "encrypt_type", "raw"), plainOK.body), nil, 200},
		{"PlainBadSignature", plain, mk(edit(plainOK.q, "signature", Signature("other", "1700000000", "123456789")), plainOK.body), ErrBadSignature, 403},
		{"PlainNoSignature", plain, mk(edit(plainOK.q, "signature", ""), plainOK.body), ErrBadSignature, 403},
		{"PlainTimestampEdited", plain, mk(edit(plainOK.q, "timestamp", "1700000001"), plainOK.body), ErrBadSignature, 403},
		{"PlainBadBody", plain, mk(plainOK.q, []byte("<xml>")), ErrBadPush, 400},
		{"PlainToSafeReceiver", safe, plainOK, ErrBadSignature, 403},
		{"Safe", safe, safeOK, nil, 200},
		{"Compatible", safe, compatOK, nil, 200},
		{"SafeWithoutSignature", safe, mk(edit(safeOK.q, "signature", ""), safeOK.body), nil, 200},
		{"SafeBadMsgSignature", safe, mk(edit(safeOK.q, "msg_signature", plainOK.q.Get("signature")), safeOK.body), ErrBadSignature, 403},
		{"SafeNoMsgSignature", safe, mk(edit(safeOK.q, "msg_signature", ""), safeOK.body), ErrBadSignature, 403},
		{"SafeBadSignatureBeside", safe, mk(edit(safeOK.q, "signature", strings.Repeat("0", 40)), safeOK.body), ErrBadSignature, 403},
		{"SafeWrongToken", mustReceiver(t, CallbackConfig{Token: "another", EncodingAESKey: testAESKey, AppID: testAppID}), safeOK, ErrBadSignature, 403},
		{"SafeNoEncrypt", safe, mk(safeOK.q, []byte(receiptXML)), ErrBadPush, 400},
		{"SafeBodyNotXML", safe, mk(safeOK.q, []byte("Encrypt=abc")), ErrBadPush, 400},
		{"UnknownEncryptType", safe, mk(edit(safeOK.q, "encrypt_type", "des"), safeOK.body), ErrBadPush, 400},
		{"SignedGarbage", safe, withEncrypt(safeOK, "bm90IGEgY2lwaGVydGV4dA=="), ErrBadCiphertext, 400},
		{"SignedNotBase64", safe, withEncrypt(safeOK, "%%%"), ErrBadCiphertext, 400},
		{"ForeignAppID", safe, withEncrypt(safeOK, foreignEnc), ErrForeignAppID, 403},
		{"DecryptsToNonXML", safe, withEncrypt(safeOK, badXMLEnc), ErrBadPush, 400},
		{"Nested", safe, withEncrypt(safeOK, nested), ErrBadPush, 400},
		{"SafeToPlainReceiver", plain, safeOK, ErrNoAESKey, 500},
		{"CompatibleToPlainReceiver", plain, compatOK, nil, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.r.Open(tt.p.q, tt.p.body)
			if tt.wantErr == nil && err != nil {
				t.Fatalf("Open: %v", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("Open = %+v, %v; want %v", got, err, tt.wantErr)
			}
			if st := CallbackHTTPStatus(err); st != tt.wantStatus {
				t.Errorf("CallbackHTTPStatus(%v) = %d, want %d", err, st, tt.wantStatus)
			}
			if err == nil && got != wantReceipt {
				t.Errorf("Open = %+v, want %+v", got, wantReceipt)
			}
			if err != nil && strings.Contains(err.Error(), testToken) {
				t.Errorf("error %q shows the token", err)
			}
		})
	}
}

// The documented safe-mode push, query and body as WeChat posted them,
// opens to the user's text message (MsgId above 2^53).
func TestReceiver_Open_DocVector(t *testing.T) {
	q := url.Values{
		"signature": {docVector.signature}, "timestamp": {docVector.timestamp}, "nonce": {docVector.nonce},
		"encrypt_type": {"aes"}, "msg_signature": {docVector.msgSignature},
	}
	body := "<xml>\n    <ToUserName><![CDATA[gh_680bdefc8c5d]]></ToUserName>\n    <Encrypt><![CDATA[" +
		docVector.encrypt + "]]></Encrypt>\n</xml>"
	got, err := OpenPush(CallbackConfig{Token: docVector.token, EncodingAESKey: docVector.aesKey, AppID: docVector.appID}, q, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := Event{ToUserName: "gh_680bdefc8c5d", FromUserName: "oIDrpjpQ8j8mBuQ8nM26HWzNEZgg",
		CreateTime: 1414243737, MsgType: "text", MsgID: 6074130599188426998}
	if got != want {
		t.Fatalf("OpenPush = %+v, want %+v", got, want)
	}
}

func TestReceiver_VerifyURL(t *testing.T) {
	r := mustReceiver(t, CallbackConfig{Token: "AAAAA", EncodingAESKey: testAESKey, AppID: testAppID})
	q := url.Values{"signature": {"899cf89e464efb63f54ddac96b0a0a235f53aa78"}, "timestamp": {"1714037059"},
		"nonce": {"486452656"}, "echostr": {"6918312906417157963"}}
	echo, err := r.VerifyURL(q)
	if err != nil || echo != "6918312906417157963" {
		t.Fatalf("VerifyURL = %q, %v", echo, err)
	}
	bad := cloneValues(q)
	bad.Set("nonce", "486452657")
	if _, err := r.VerifyURL(bad); !errors.Is(err, ErrBadSignature) || CallbackHTTPStatus(err) != 403 {
		t.Errorf("edited nonce: %v", err)
	}
	none := cloneValues(q)
	none.Del("echostr")
	if _, err := r.VerifyURL(none); !errors.Is(err, ErrBadPush) || CallbackHTTPStatus(err) != 400 {
		t.Errorf("no echostr: %v", err)
	}
	if echo, err := VerifyURL(CallbackConfig{Token: "AAAAA"}, q); err != nil || echo != "6918312906417157963" {
		t.Errorf("VerifyURL(cfg) = %q, %v", echo, err)
	}
}

func TestNewReceiver(t *testing.T) {
	tests := []struct {
		name       string
		cfg        CallbackConfig
		wantBadKey bool
	}{
		{name: "NoToken", cfg: CallbackConfig{EncodingAESKey: testAESKey, AppID: testAppID}},
		{name: "BadKey", cfg: CallbackConfig{Token: testToken, EncodingAESKey: testAESKey[:40], AppID: testAppID}, wantBadKey: true},
		{name: "KeyWithoutAppID", cfg: CallbackConfig{Token: testToken, EncodingAESKey: testAESKey}, wantBadKey: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReceiver(tt.cfg)
			if err == nil {
				t.Fatalf("NewReceiver = %v, want an error", r)
			}
			if errors.Is(err, ErrBadAESKey) != tt.wantBadKey {
				t.Errorf("err = %v, ErrBadAESKey %v", err, tt.wantBadKey)
			}
			if _, err := OpenPush(tt.cfg, url.Values{}, []byte(receiptXML)); err == nil || CallbackHTTPStatus(err) != 500 {
				t.Errorf("OpenPush with a bad config = %v, want a 500 error", err)
			}
			if strings.Contains(err.Error(), testAESKey[:20]) || strings.Contains(err.Error(), testToken) {
				t.Errorf("err %q shows a secret", err)
			}
		})
	}
}

// A config, receiver or crypter printed or logged by mistake shows
// neither the token nor the key.
func TestCallbackConfig_NoSecretsWhenPrinted(t *testing.T) {
	cfg := CallbackConfig{Token: testToken, EncodingAESKey: testAESKey, AppID: testAppID}
	r := mustReceiver(t, cfg)
	var logged bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logged, nil))
	log.Info("config", "cfg", cfg, "receiver", r)
	printed := []string{
		fmt.Sprint(cfg), fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg), fmt.Sprintf("%+v", &cfg),
		fmt.Sprintf("%v %+v %#v", r, r, r), fmt.Sprintf("%+v", *r), fmt.Sprintf("%+v", struct{ C CallbackConfig }{cfg}),
		logged.String(),
	}
	for _, s := range printed {
		if strings.Contains(s, testToken) || strings.Contains(s, testAESKey) {
			t.Errorf("printed %q shows a secret", s)
		}
	}
	if !strings.Contains(printed[0], testAppID) || !strings.Contains(printed[0], "safe") {
		t.Errorf("String() = %q; want the app id and the mode", printed[0])
	}
}

func TestCallbackHTTPStatus(t *testing.T) {
	// A body over the limit, as http.MaxBytesReader reports it.
	req := httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", 100)))
	rec := httptest.NewRecorder()
	_, tooBig := io.ReadAll(http.MaxBytesReader(rec, req.Body, 10))
	tests := []struct {
		err  error
		want int
	}{
		{nil, 200},
		{fmt.Errorf("x: %w", ErrBadSignature), 403},
		{ErrForeignAppID, 403},
		{fmt.Errorf("x: %w", ErrBadPush), 400},
		{ErrBadCiphertext, 400},
		{tooBig, 413},
		{ErrNoAESKey, 500},
		{errors.New("disk full"), 500},
	}
	for _, tt := range tests {
		if got := CallbackHTTPStatus(tt.err); got != tt.want {
			t.Errorf("CallbackHTTPStatus(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func mustReceiver(tb testing.TB, cfg CallbackConfig) *Receiver {
	tb.Helper()
	r, err := NewReceiver(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func cloneValues(q url.Values) url.Values {
	out := make(url.Values, len(q))
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}
