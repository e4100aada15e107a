package wechat

import (
	"bytes"
	"errors"
	"net/url"
	"testing"
)

// FuzzParseEvent feeds arbitrary bodies to the push parser: it must never
// panic, refuse only with ErrBadPush, and never hand back a receipt that
// cannot be recorded (no MsgID) or a negative number.
func FuzzParseEvent(f *testing.F) {
	for _, s := range []string{
		receiptXML, docVector.plain, receipt("3557254367693750277", "failed: system failed"),
		"<xml><Encrypt><![CDATA[" + docVector.encrypt + "]]></Encrypt></xml>",
		"<xml><MsgID>1</MsgID><MsgId>2</MsgId></xml>", "<xml/>", "<a><xml></xml></a>", "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := ParseEvent(body)
		if err != nil {
			if !errors.Is(err, ErrBadPush) {
				t.Fatalf("ParseEvent(%q): %v is not ErrBadPush", body, err)
			}
			return
		}
		if e.CreateTime < 0 || e.MsgID < 0 {
			t.Fatalf("ParseEvent(%q) = %+v: negative number", body, e)
		}
		if e.IsReceipt() && e.MsgID == 0 {
			t.Fatalf("ParseEvent(%q) = %+v: a receipt without MsgID", body, e)
		}
	})
}

// FuzzDecrypt checks the safe-mode cipher both ways: any message survives
// Encrypt then Decrypt unchanged, and Decrypt of any string, the message
// read as base64 included, never panics and refuses only with the
// sentinels a callback maps to 400 and 403.
func FuzzDecrypt(f *testing.F) {
	f.Add([]byte(docVector.plain), docVector.encrypt)
	f.Add([]byte{}, "")
	f.Add([]byte(receiptXML), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	c := mustCrypter(f, testAESKey, testAppID)
	doc := mustCrypter(f, docVector.aesKey, docVector.appID)
	f.Fuzz(func(t *testing.T, msg []byte, b64 string) {
		enc, err := c.Encrypt(msg)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Decrypt(enc)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("Decrypt(Encrypt(%q)) = %q, %v", msg, got, err)
		}
		for _, s := range []string{b64, string(msg)} {
			if _, err := doc.Decrypt(s); err != nil && !errors.Is(err, ErrBadCiphertext) && !errors.Is(err, ErrForeignAppID) {
				t.Fatalf("Decrypt(%q): unclassified error %v", s, err)
			}
		}
	})
}

// FuzzOpenPush drives a receiver with any query and body. With sign set,
// the fuzz function first signs whatever it was given with the receiver's
// token (signature, and msg_signature over the body's <Encrypt>), so that
// inputs reach decryption and parsing instead of stopping at the
// signature. Open must never panic, and every refusal must be one of the
// errors CallbackHTTPStatus maps to 400, 403 or (no key) 500.
func FuzzOpenPush(f *testing.F) {
	c := mustCrypter(f, testAESKey, testAppID)
	safeQ, safeBody := safePush(f, testToken, c, receiptXML, false)
	compatQ, compatBody := safePush(f, testToken, c, receiptXML, true)
	plainQ, plainBody := plainPush(testToken, receiptXML)
	for _, p := range []struct {
		q    url.Values
		body []byte
	}{{safeQ, safeBody}, {compatQ, compatBody}, {plainQ, plainBody}} {
		f.Add(p.q.Encode(), p.body, false, true)
		f.Add(p.q.Encode(), p.body, true, false)
	}
	f.Add("encrypt_type=aes&timestamp=1&nonce=2", []byte("<xml><Encrypt>!!</Encrypt></xml>"), true, true)
	f.Add("encrypt_type=raw", []byte("<xml/>"), true, false)

	safe := mustReceiver(f, CallbackConfig{Token: testToken, EncodingAESKey: testAESKey, AppID: testAppID})
	plain := mustReceiver(f, CallbackConfig{Token: testToken})
	f.Fuzz(func(t *testing.T, rawQuery string, body []byte, sign, safeMode bool) {
		q, err := url.ParseQuery(rawQuery)
		if err != nil {
			return // net/http would have handed over what it could parse; so do we below
		}
		if sign {
			ts, nonce := q.Get("timestamp"), q.Get("nonce")
			q.Set("signature", Signature(testToken, ts, nonce))
			if e, err := ParseEvent(body); err == nil && e.Encrypt != "" {
				q.Set("msg_signature", Signature(testToken, ts, nonce, e.Encrypt))
			}
		}
		r := plain
		if safeMode {
			r = safe
		}
		e, err := r.Open(q, body)
		if err == nil {
			if e.Encrypt != "" {
				t.Fatalf("Open returned an envelope: %+v", e)
			}
			return
		}
		switch {
		case errors.Is(err, ErrBadSignature), errors.Is(err, ErrForeignAppID),
			errors.Is(err, ErrBadPush), errors.Is(err, ErrBadCiphertext),
			errors.Is(err, ErrNoAESKey) && !safeMode:
		default:
			t.Fatalf("Open(%q, %q): unclassified error %v", rawQuery, body, err)
		}
		if CallbackHTTPStatus(err) == 200 {
			t.Fatalf("status 200 for the error %v", err)
		}
	})
}
