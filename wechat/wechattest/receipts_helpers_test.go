package wechattest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/megasend/megasend/wechat"
)

// Callback fixtures: a token as the console takes it, and an
// EncodingAESKey of 43 letters and digits.
const (
	testCallbackToken = "sandboxReceiptToken7"
	testAESKey        = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
	otherAESKey       = "Z9yXwVuTsRqPoNmLkJiHgFeDcBa0123456789abcdef"
)

// receivedPush is one request the account's server got.
type receivedPush struct {
	Query       url.Values
	ContentType string
	Body        string
	Event       wechat.Event
	Err         error // from wechat.Receiver.Open
}

// receiptReceiver is the account's server in these tests: an httptest
// server that opens every push with the wechat package's Receiver (the
// code serve will use), keeps what it got, and answers the n-th request
// (from 1) as answer says; nil answers as a good server does.
type receiptReceiver struct {
	*httptest.Server
	recv   *wechat.Receiver
	answer func(n int) (status int, body string)

	mu  sync.Mutex
	got []receivedPush
}

func newReceiptReceiver(tb testing.TB, cfg wechat.CallbackConfig, answer func(n int) (int, string)) *receiptReceiver {
	tb.Helper()
	recv, err := wechat.NewReceiver(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	rr := &receiptReceiver{recv: recv, answer: answer}
	rr.Server = httptest.NewServer(http.HandlerFunc(rr.serve))
	tb.Cleanup(rr.Close)
	return rr
}

func (rr *receiptReceiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(http.MaxBytesReader(w, r.Body, wechat.MaxPushBytes))
	e, err := rr.recv.Open(r.URL.Query(), body)
	rr.mu.Lock()
	rr.got = append(rr.got, receivedPush{Query: r.URL.Query(), ContentType: r.Header.Get("Content-Type"),
		Body: string(body), Event: e, Err: err})
	n := len(rr.got)
	rr.mu.Unlock()
	status, answer := wechat.CallbackHTTPStatus(err), wechat.CallbackSuccess
	if rr.answer != nil && err == nil {
		status, answer = rr.answer(n)
	}
	w.WriteHeader(status)
	io.WriteString(w, answer)
}

// pushes returns what the receiver got so far.
func (rr *receiptReceiver) pushes() []receivedPush {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	return append([]receivedPush(nil), rr.got...)
}

// waitStats polls the simulator's stats until cond holds, or fails after
// ten seconds (receipts go out in the background).
func waitStats(tb testing.TB, s *Sim, what string, cond func(Stats) bool) Stats {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := s.Stats()
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			tb.Fatalf("waited 10s for %s; stats %+v", what, st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// receiptOptions are a simulator's options posting receipts to rr fast.
func receiptOptions(rr *receiptReceiver) Options {
	return Options{
		CallbackURL:       rr.URL + "/wechat/callback/main",
		CallbackToken:     testCallbackToken,
		ReceiptDelay:      5 * time.Millisecond,
		ReceiptRetryDelay: 5 * time.Millisecond,
	}
}
