package wechattest

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/megasend/megasend/wechat"
)

const openID3 = "oAbCdEfGhIjKlMnOpQrStUvWx_03"

// sendAll sends one message to each openid and returns the msgid each
// was answered with.
func sendAll(tb testing.TB, srv *Server, ids ...string) map[string]int64 {
	tb.Helper()
	tok := mustToken(tb, srv)
	got := make(map[string]int64, len(ids))
	for _, id := range ids {
		got[id] = wantOK(tb, send(tb, srv, tok, msg(tb, id, "", nil)))
	}
	return got
}

// checkReceipts checks that the receiver opened one receipt per sent
// message, each with the msgid the send answered and the status wanted.
func checkReceipts(t *testing.T, srv *Server, pushes []receivedPush, msgIDs map[string]int64, status map[string]wechat.ReceiptStatus) {
	t.Helper()
	if len(pushes) != len(msgIDs) {
		t.Fatalf("receiver got %d pushes, want %d", len(pushes), len(msgIDs))
	}
	seen := map[string]bool{}
	for _, p := range pushes {
		e := p.Event
		if p.Err != nil {
			t.Fatalf("receiver refused a receipt: %v\nquery %v\nbody %s", p.Err, p.Query, p.Body)
		}
		if !e.IsReceipt() || e.ToUserName != srv.OriginalID() || e.CreateTime == 0 {
			t.Errorf("not a receipt for %s: %+v", srv.OriginalID(), e)
		}
		if want, ok := msgIDs[e.FromUserName]; !ok || e.MsgID != want {
			t.Errorf("receipt for %s has MsgID %d; the send answered %d", e.FromUserName, e.MsgID, want)
		}
		if want := status[e.FromUserName]; e.Status != want {
			t.Errorf("receipt for %s: Status %q, want %q", e.FromUserName, e.Status, want)
		}
		if p.Query.Get("openid") != e.FromUserName {
			t.Errorf("query openid %q, receipt for %q", p.Query.Get("openid"), e.FromUserName)
		}
		if p.ContentType != "text/xml" {
			t.Errorf("Content-Type %q, want text/xml", p.ContentType)
		}
		if seen[e.FromUserName] {
			t.Errorf("two receipts for %s", e.FromUserName)
		}
		seen[e.FromUserName] = true
	}
}

func TestReceipts_Plain(t *testing.T) {
	rr := newReceiptReceiver(t, wechat.CallbackConfig{Token: testCallbackToken}, nil)
	opts := receiptOptions(rr)
	opts.Blocked = []string{openID2}
	opts.SystemFailed = []string{openID3}
	srv := mustServer(t, opts)

	ids := sendAll(t, srv, openID1, openID2, openID3)
	st := waitStats(t, srv.Sim, "3 receipts answered", func(st Stats) bool { return st.ReceiptsAnswered == 3 })
	pushes := rr.pushes()
	checkReceipts(t, srv, pushes, ids, map[string]wechat.ReceiptStatus{
		openID1: wechat.ReceiptSuccess, openID2: wechat.ReceiptUserBlock, openID3: wechat.ReceiptSystemFailed,
	})
	for _, p := range pushes {
		if p.Query.Has("encrypt_type") || p.Query.Has("msg_signature") || strings.Contains(p.Body, "<Encrypt>") {
			t.Errorf("plain mode posted a safe-mode push: %v %s", p.Query, p.Body)
		}
		// The callback URL's path and the account's own query are kept.
		if p.Query.Get("timestamp") == "" || p.Query.Get("nonce") == "" {
			t.Errorf("query %v lacks timestamp or nonce", p.Query)
		}
	}
	if st.ReceiptsQueued != 3 || st.ReceiptsPosted != 3 || st.ReceiptsFailed != 0 || st.ReceiptsDropped != 0 || st.ReceiptsPending != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestReceipts_Safe(t *testing.T) {
	rr := newReceiptReceiver(t, wechat.CallbackConfig{Token: testCallbackToken, EncodingAESKey: testAESKey, AppID: DefaultAppID}, nil)
	opts := receiptOptions(rr)
	opts.CallbackAESKey = testAESKey
	opts.Blocked = []string{openID1}
	srv := mustServer(t, opts)

	ids := sendAll(t, srv, openID1, openID2)
	waitStats(t, srv.Sim, "2 receipts answered", func(st Stats) bool { return st.ReceiptsAnswered == 2 })
	pushes := rr.pushes()
	checkReceipts(t, srv, pushes, ids, map[string]wechat.ReceiptStatus{
		openID1: wechat.ReceiptUserBlock, openID2: wechat.ReceiptSuccess,
	})
	for _, p := range pushes {
		// Safe mode, not compatible mode: the body is the envelope only.
		if p.Query.Get("encrypt_type") != "aes" || p.Query.Get("msg_signature") == "" ||
			!strings.Contains(p.Body, "<Encrypt>") || strings.Contains(p.Body, "Status") || strings.Contains(p.Body, p.Event.FromUserName) {
			t.Errorf("not a safe-mode push: %v %s", p.Query, p.Body)
		}
	}
}

// A receiver holding another key cannot open the receipts and refuses
// them; the sandbox tries each three times and gives up.
func TestReceipts_WrongKeyRefused(t *testing.T) {
	rr := newReceiptReceiver(t, wechat.CallbackConfig{Token: testCallbackToken, EncodingAESKey: otherAESKey, AppID: DefaultAppID}, nil)
	opts := receiptOptions(rr)
	opts.CallbackAESKey = testAESKey
	srv := mustServer(t, opts)
	sendAll(t, srv, openID1)
	st := waitStats(t, srv.Sim, "the receipt to fail", func(st Stats) bool { return st.ReceiptsFailed == 1 })
	if st.ReceiptsPosted != 3 || st.ReceiptsAnswered != 0 {
		t.Errorf("stats %+v, want 3 tries and none answered", st)
	}
	for _, p := range rr.pushes() {
		if wechat.CallbackHTTPStatus(p.Err) != http.StatusBadRequest && wechat.CallbackHTTPStatus(p.Err) != http.StatusForbidden {
			t.Errorf("receiver with the wrong key: %v", p.Err)
		}
	}
}

func TestReceipts_Retry(t *testing.T) {
	tests := []struct {
		name         string
		answer       func(n int) (int, string)
		wantPosted   int
		wantAnswered int64
		wantFailed   int64
	}{
		{"Always500", func(int) (int, string) { return 500, "oops" }, 3, 0, 1},
		{"500Then200", func(n int) (int, string) {
			if n < 3 {
				return 500, ""
			}
			return 200, "success"
		}, 3, 1, 0},
		{"200NotSuccess", func(int) (int, string) { return 200, "received" }, 3, 0, 1},
		{"200Empty", func(int) (int, string) { return 200, "" }, 1, 1, 0},
		{"200SuccessNewline", func(int) (int, string) { return 200, "success\n" }, 1, 1, 0},
		{"204", func(int) (int, string) { return 204, "" }, 3, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rr := newReceiptReceiver(t, wechat.CallbackConfig{Token: testCallbackToken}, tt.answer)
			srv := mustServer(t, receiptOptions(rr))
			ids := sendAll(t, srv, openID1)
			st := waitStats(t, srv.Sim, "the receipt to settle", func(st Stats) bool {
				return st.ReceiptsAnswered+st.ReceiptsFailed == 1
			})
			// Room for a fourth try, had there been one.
			time.Sleep(50 * time.Millisecond)
			pushes := rr.pushes()
			if len(pushes) != tt.wantPosted || st.ReceiptsAnswered != tt.wantAnswered || st.ReceiptsFailed != tt.wantFailed {
				t.Fatalf("%d posts, stats %+v; want %d posts, %d answered, %d failed",
					len(pushes), st, tt.wantPosted, tt.wantAnswered, tt.wantFailed)
			}
			for _, p := range pushes {
				if p.Err != nil || p.Event.MsgID != ids[openID1] {
					t.Errorf("try: %+v, %v; want the msgid %d each time", p.Event, p.Err, ids[openID1])
				}
			}
			if st := srv.Stats(); st.ReceiptsPosted != int64(tt.wantPosted) || st.ReceiptsPending != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// WeChat delivers a message once, so a resend inside the dedup window
// (same client_msg_id) gets no second receipt.
func TestReceipts_DedupResendNoSecondReceipt(t *testing.T) {
	rr := newReceiptReceiver(t, wechat.CallbackConfig{Token: testCallbackToken}, nil)
	srv := mustServer(t, receiptOptions(rr))
	tok := mustToken(t, srv)
	first := wantOK(t, send(t, srv, tok, msg(t, openID1, "order-1", nil)))
	again := wantOK(t, send(t, srv, tok, msg(t, openID1, "order-1", nil)))
	if again != first {
		t.Fatalf("resend msgid %d, first %d", again, first)
	}
	waitStats(t, srv.Sim, "the receipt", func(st Stats) bool { return st.ReceiptsAnswered == 1 })
	time.Sleep(50 * time.Millisecond) // room for a second receipt, had one been queued
	st := srv.Stats()
	if n := len(rr.pushes()); n != 1 || st.Deduplicated != 1 || st.ReceiptsQueued != 1 {
		t.Fatalf("%d receipts, stats %+v; want one receipt for a deduplicated resend", n, st)
	}
}

// A full queue drops receipts and counts them; the sends are not held up.
func TestReceipts_QueueFullDrops(t *testing.T) {
	rr := newReceiptReceiver(t, wechat.CallbackConfig{Token: testCallbackToken}, nil)
	opts := receiptOptions(rr)
	opts.ReceiptQueue = 2
	opts.ReceiptDelay = time.Hour
	srv := mustServer(t, opts)
	tok := mustToken(t, srv)
	for i := range 5 {
		wantOK(t, send(t, srv, tok, msg(t, openID1, "m"+string(rune('a'+i)), nil)))
	}
	st := srv.Stats()
	if st.Accepted != 5 || st.ReceiptsQueued != 2 || st.ReceiptsDropped != 3 || st.ReceiptsPending != 2 {
		t.Fatalf("stats %+v; want 5 accepted, 2 queued, 3 dropped", st)
	}
	// Close abandons the two still waiting, and counts them.
	srv.Sim.Close()
	if st := srv.Stats(); st.ReceiptsDropped != 5 || st.ReceiptsPending != 0 || len(rr.pushes()) != 0 {
		t.Fatalf("after Close: stats %+v, %d posted", st, len(rr.pushes()))
	}
}

// Close stops posting at once, even with a receiver that never answers.
func TestReceipts_CloseStopsHungPost(t *testing.T) {
	hang := make(chan struct{})
	defer close(hang)
	entered := make(chan struct{}, 1)
	rr := newReceiptReceiver(t, wechat.CallbackConfig{Token: testCallbackToken}, func(int) (int, string) {
		entered <- struct{}{}
		<-hang
		return 200, "success"
	})
	srv := mustServer(t, receiptOptions(rr))
	sendAll(t, srv, openID1)
	<-entered
	start := time.Now()
	srv.Sim.Close()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v with a post hanging", d)
	}
	st := srv.Stats()
	if st.ReceiptsDropped != 1 || st.ReceiptsPending != 0 || st.ReceiptsAnswered != 0 {
		t.Errorf("stats %+v, want the hung receipt dropped", st)
	}
	// After Close, an accepted message gets no receipt, and nothing blocks.
	sendAll(t, srv, openID2)
	if st := srv.Stats(); st.ReceiptsDropped != 2 || st.ReceiptsQueued != 1 {
		t.Errorf("after Close: stats %+v", st)
	}
}

// The callback URL's own query (an account name, say) is kept beside the
// signature, and /sandbox/stats serves the counters.
func TestReceipts_URLQueryKeptAndStatsServed(t *testing.T) {
	rr := newReceiptReceiver(t, wechat.CallbackConfig{Token: testCallbackToken}, nil)
	opts := receiptOptions(rr)
	opts.CallbackURL = rr.URL + "/cb?account=main"
	srv := mustServer(t, opts)
	sendAll(t, srv, openID1)
	waitStats(t, srv.Sim, "the receipt", func(st Stats) bool { return st.ReceiptsAnswered == 1 })
	if p := rr.pushes()[0]; p.Query.Get("account") != "main" || p.Err != nil {
		t.Errorf("query %v (%v)", p.Query, p.Err)
	}
	r := do(t, srv.Client(), "GET", srv.URL+"/sandbox/stats", "")
	var st map[string]any
	if err := json.Unmarshal([]byte(r.Body), &st); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]float64{"receipts_queued": 1, "receipts_posted": 1, "receipts_answered": 1,
		"receipts_failed": 0, "receipts_dropped": 0, "receipts_pending": 0} {
		if st[k] != want {
			t.Errorf("/sandbox/stats %s = %v, want %v", k, st[k], want)
		}
	}
	if strings.Contains(r.Body, testCallbackToken) {
		t.Errorf("/sandbox/stats shows the callback token: %s", r.Body)
	}
}

func TestOptions_Validate(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{name: "None", opts: Options{}},
		{name: "Plain", opts: Options{CallbackURL: "http://127.0.0.1:9/cb", CallbackToken: "abc"}},
		{name: "Safe", opts: Options{CallbackURL: "https://example.com/cb", CallbackToken: strings.Repeat("a", 32), CallbackAESKey: testAESKey}},
		{name: "NoToken", opts: Options{CallbackURL: "http://127.0.0.1:9/cb"}, wantErr: "CallbackToken"},
		{name: "ShortToken", opts: Options{CallbackURL: "http://127.0.0.1:9/cb", CallbackToken: "ab"}, wantErr: "CallbackToken"},
		{name: "LongToken", opts: Options{CallbackURL: "http://127.0.0.1:9/cb", CallbackToken: strings.Repeat("a", 33)}, wantErr: "CallbackToken"},
		{name: "TokenPunctuation", opts: Options{CallbackURL: "http://127.0.0.1:9/cb", CallbackToken: "secret-token"}, wantErr: "CallbackToken"},
		{name: "RelativeURL", opts: Options{CallbackURL: "/cb", CallbackToken: "abc"}, wantErr: "CallbackURL"},
		{name: "FTP", opts: Options{CallbackURL: "ftp://example.com/cb", CallbackToken: "abc"}, wantErr: "CallbackURL"},
		{name: "ShortKey", opts: Options{CallbackURL: "http://x/cb", CallbackToken: "abc", CallbackAESKey: testAESKey[:42]}, wantErr: "CallbackAESKey"},
		{name: "KeyNotBase64", opts: Options{CallbackURL: "http://x/cb", CallbackToken: "abc", CallbackAESKey: testAESKey[:42] + "!"}, wantErr: "CallbackAESKey"},
		{name: "TokenWithoutURL", opts: Options{CallbackToken: "abc"}, wantErr: "CallbackToken"},
		{name: "KeyWithoutURL", opts: Options{CallbackAESKey: testAESKey}, wantErr: "CallbackAESKey"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var oe *OptionError
			if !errors.As(err, &oe) || oe.Field != tt.wantErr {
				t.Fatalf("Validate = %v, want an *OptionError about %s", err, tt.wantErr)
			}
			if tt.opts.CallbackAESKey != "" && strings.Contains(err.Error(), tt.opts.CallbackAESKey[:20]) ||
				len(tt.opts.CallbackToken) > 3 && strings.Contains(err.Error(), tt.opts.CallbackToken) {
				t.Errorf("error %q shows a secret", err)
			}
			defer func() {
				if recover() == nil {
					t.Error("New did not panic on options Validate refuses")
				}
			}()
			New(tt.opts)
		})
	}
}
