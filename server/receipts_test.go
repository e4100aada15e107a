package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/wechat"
	"github.com/megasend/megasend/wechat/wechattest"
)

// receiptXML is the TEMPLATESENDJOBFINISH push of msgid with status.
func receiptXML(msgid int64, status wechat.ReceiptStatus) string {
	return fmt.Sprintf(`<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName>`+
		`<CreateTime>1395658920</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event>`+
		`<MsgID>%d</MsgID><Status><![CDATA[%s]]></Status></xml>`, openid(0), msgid, status)
}

// signedQuery is the query WeChat puts on a push or a verification.
func signedQuery(token string, extra ...string) url.Values {
	q := url.Values{"timestamp": {"1700000000"}, "nonce": {"4242"}}
	q.Set("signature", wechat.Signature(token, "1700000000", "4242"))
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return q
}

// sealed is body as a safe-mode push, and its query.
func sealed(t testing.TB, token, body string) (url.Values, string) {
	t.Helper()
	c, err := wechat.NewCrypter(aesKey, wechattest.DefaultAppID)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := c.Encrypt([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	q := signedQuery(token, "encrypt_type", "aes")
	q.Set("msg_signature", wechat.Signature(token, "1700000000", "4242", enc))
	return q, `<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName><Encrypt><![CDATA[` + enc + `]]></Encrypt></xml>`
}

// TestCallback_Verify: WeChat's URL verification is answered with the
// echostr, as it came, only when the signature is the account's.
func TestCallback_Verify(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	for _, c := range []struct {
		name, account string
		query         url.Values
		status        int
	}{
		{"OK", "a", signedQuery(tokenA, "echostr", "echo 42&x"), 200},
		{"SafeModeAccount", "s", signedQuery(tokenS, "echostr", "e"), 200},
		{"OtherToken", "a", signedQuery(tokenS, "echostr", "e"), 403},
		{"NoSignature", "a", url.Values{"echostr": {"e"}}, 403},
		{"NoEchostr", "a", signedQuery(tokenA), 400},
		{"NoCallbackToken", "b", signedQuery(tokenA, "echostr", "e"), 404},
		{"UnknownAccount", "zz", signedQuery(tokenA, "echostr", "e"), 404},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := f.do("GET", "/wechat/callback/"+c.account+"?"+c.query.Encode(), "", "", "")
			want(t, w, c.status)
			if c.status == 200 && w.Body.String() != c.query.Get("echostr") {
				t.Errorf("answered %q; want the echostr %q", w.Body, c.query.Get("echostr"))
			}
			if c.status != 200 {
				apiError(t, w)
			}
		})
	}
}

// TestCallback_Push: a receipt signed with the account's token is recorded
// under its msgid once, however often WeChat posts it, in plain and safe
// mode; a push that is not the account's records nothing.
func TestCallback_Push(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	safeQ, safeBody := sealed(t, tokenS, receiptXML(202, wechat.ReceiptSystemFailed))
	wrongQ, wrongBody := sealed(t, tokenA, receiptXML(203, wechat.ReceiptSuccess))
	for _, c := range []struct {
		name, account string
		query         url.Values
		body          string
		status        int
		msgid         int64  // recorded, when status is 200
		outcome       string // as recorded
	}{
		{"Plain", "a", signedQuery(tokenA, "openid", openid(0)), receiptXML(101, wechat.ReceiptUserBlock), 200, 101, store.ReceiptUserBlock},
		{"PlainAgain", "a", signedQuery(tokenA, "openid", openid(0)), receiptXML(101, wechat.ReceiptSuccess), 200, 101, store.ReceiptUserBlock},
		{"Safe", "s", safeQ, safeBody, 200, 202, store.ReceiptSystemFailed},
		{"SafeAgain", "s", safeQ, safeBody, 200, 202, store.ReceiptSystemFailed},
		{"NotAReceipt", "a", signedQuery(tokenA), `<xml><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event></xml>`, 200, 0, ""},
		{"UnknownStatus", "a", signedQuery(tokenA), receiptXML(104, "failed:who knows"), 200, 0, ""},
		{"BadSignature", "a", signedQuery(tokenS), receiptXML(105, wechat.ReceiptSuccess), 403, 0, ""},
		{"PlainToSafeAccount", "s", signedQuery(tokenS), receiptXML(106, wechat.ReceiptSuccess), 403, 0, ""},
		{"SafeWithOtherToken", "s", wrongQ, wrongBody, 403, 0, ""},
		{"NotXML", "a", signedQuery(tokenA), `{"msgid":107}`, 400, 0, ""},
		{"TooLarge", "a", signedQuery(tokenA), strings.Repeat(" ", wechat.MaxPushBytes+1), 413, 0, ""},
		{"UnknownAccount", "zz", signedQuery(tokenA), receiptXML(108, wechat.ReceiptSuccess), 404, 0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := f.do("POST", "/wechat/callback/"+c.account+"?"+c.query.Encode(), "", "text/xml", c.body)
			want(t, w, c.status)
			if c.status == 200 && w.Body.String() != wechat.CallbackSuccess {
				t.Errorf("answered %q; want success", w.Body)
			}
			if c.msgid == 0 {
				return
			}
			r, err := f.db.Receipt(ctx, c.account, c.msgid)
			if err != nil || r.Status != c.outcome {
				t.Errorf("receipt %+v, %v; want %s", r, err, c.outcome)
			}
		})
	}
	for _, id := range []int64{104, 105, 106, 107, 108} {
		for _, account := range []string{"a", "s", "zz"} {
			if _, err := f.db.Receipt(ctx, account, id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("msgid %d of %s recorded (%v)", id, account, err)
			}
		}
	}
	if _, err := f.db.Receipt(ctx, "s", 203); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a push signed with another account's token was recorded (%v)", err)
	}
}

// Receipts posted for a batch's messages are counted in its answer.
func TestCallback_CountedInBatch(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.startRunner()
	want(t, f.do("POST", "/v1/batches?name=r&template=order", f.keyA, "text/csv", usersCSV(3)), http.StatusCreated)
	f.await("r", "done", func(d batchDoc) bool { return d.Batch.Status == store.StatusDone })
	for i, d := range f.wx.Deliveries() {
		status := wechat.ReceiptSuccess
		if i == 0 {
			status = wechat.ReceiptUserBlock
		}
		want(t, f.do("POST", "/wechat/callback/a?"+signedQuery(tokenA).Encode(), "", "text/xml", receiptXML(d.MsgID, status)), 200)
	}
	d := f.await("r", "receipted", func(d batchDoc) bool { return d.Receipts.Awaiting == 0 })
	if r := d.Receipts; r.Success != 2 || r.UserBlock != 1 || r.SystemFailed != 0 {
		t.Errorf("receipts %+v", r)
	}
}

// FuzzCallbackPush feeds the push handler any account, query and body:
// it never panics, answers only the protocol's statuses, and records a
// receipt only when it answers success.
func FuzzCallbackPush(f *testing.F) {
	fx := newFixture(f, fixtureOptions{})
	safeQ, safeBody := sealed(f, tokenS, receiptXML(9, wechat.ReceiptSuccess))
	f.Add("a", signedQuery(tokenA).Encode(), receiptXML(7, wechat.ReceiptSuccess))
	f.Add("s", safeQ.Encode(), safeBody)
	f.Add("a", "signature=x&timestamp=&nonce=%zz", "<xml><MsgID>1</MsgID></xml>")
	f.Add("s", "encrypt_type=aes&msg_signature=00", "<xml><Encrypt>AAAA</Encrypt></xml>")
	f.Add("a", "encrypt_type=aes&"+signedQuery(tokenA).Encode(), safeBody)
	f.Fuzz(func(t *testing.T, account, rawQuery, body string) {
		if account == "" || account == "." || account == ".." || strings.ContainsAny(account, "/?#% \t\r\n") {
			return // not one path segment: ServeMux redirects to the cleaned path (307)
		}
		req, err := http.NewRequest("POST", "/wechat/callback/"+account+"?"+rawQuery, strings.NewReader(body))
		if err != nil {
			return
		}
		before := fx.receipts(t)
		w := newRecorder()
		fx.srv.ServeHTTP(w, req)
		switch w.Code {
		case 200, 400, 403, 404, 413:
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		if after := fx.receipts(t); after != before && w.Code != 200 {
			t.Fatalf("answered %d and recorded a receipt", w.Code)
		}
	})
}

// receipts counts the receipts recorded, of every account.
func (f *fixture) receipts(t *testing.T) int {
	t.Helper()
	var n int
	if err := f.db.SQL().QueryRow(`SELECT COUNT(*) FROM receipts`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
