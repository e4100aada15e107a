package cmd

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/megasend/megasend/wechat"
	"github.com/megasend/megasend/wechat/wechattest"
)

const (
	sbToken  = "sandboxToken42"
	sbAESKey = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
	sbOpenID = "oAbCdEfGhIjKlMnOpQrStUvWx_01"
	sbBlock  = "oAbCdEfGhIjKlMnOpQrStUvWx_02"
)

func TestSandboxOptions_Callback(t *testing.T) {
	dir := t.TempDir()
	blocked := filepath.Join(dir, "blocked.txt")
	os.WriteFile(blocked, []byte("# refuse us\n"+sbBlock+"\n"), 0o600)
	badBlocked := filepath.Join(dir, "bad.txt")
	os.WriteFile(badBlocked, []byte(sbBlock+"\nnot-an-openid\n"), 0o600)

	tests := []struct {
		name    string
		edit    func(*sandboxOptions)
		check   func(*testing.T, wechattest.Options)
		wantErr string
	}{
		{name: "NoCallback", check: func(t *testing.T, o wechattest.Options) {
			if o.CallbackURL != "" || o.Blocked != nil {
				t.Errorf("%+v", o)
			}
		}},
		{name: "Full", edit: func(o *sandboxOptions) {
			o.callback, o.callbackToken, o.callbackAESKey, o.blocked = "http://127.0.0.1:8081/wechat/callback/main", sbToken, sbAESKey, blocked
			o.systemFailed, o.receiptDelay, o.receiptRetry = blocked, 0, time.Second
		}, check: func(t *testing.T, o wechattest.Options) {
			if o.CallbackURL != "http://127.0.0.1:8081/wechat/callback/main" || o.CallbackToken != sbToken || o.CallbackAESKey != sbAESKey ||
				len(o.Blocked) != 1 || o.Blocked[0] != sbBlock || len(o.SystemFailed) != 1 ||
				o.ReceiptDelay >= 0 || o.ReceiptRetryDelay != time.Second {
				t.Errorf("%+v", o)
			}
		}},
		{name: "TokenWithoutCallback", edit: func(o *sandboxOptions) { o.callbackToken = sbToken }, wantErr: "--callback-token needs --callback"},
		{name: "BlockedWithoutCallback", edit: func(o *sandboxOptions) { o.blocked = blocked }, wantErr: "--blocked needs --callback"},
		{name: "KeyWithoutCallback", edit: func(o *sandboxOptions) { o.callbackAESKey = sbAESKey }, wantErr: "--callback-aes-key needs --callback"},
		{name: "CallbackWithoutToken", edit: func(o *sandboxOptions) { o.callback = "http://127.0.0.1:1/cb" }, wantErr: "--callback needs --callback-token"},
		{name: "BadURL", edit: func(o *sandboxOptions) { o.callback, o.callbackToken = "127.0.0.1:1/cb", sbToken }, wantErr: "--callback: "},
		{name: "BadToken", edit: func(o *sandboxOptions) { o.callback, o.callbackToken = "http://127.0.0.1:1/cb", "my-token!" }, wantErr: "--callback-token: want 3 to 32 letters and digits"},
		{name: "BadKey", edit: func(o *sandboxOptions) {
			o.callback, o.callbackToken, o.callbackAESKey = "http://127.0.0.1:1/cb", sbToken, sbAESKey[:40]
		}, wantErr: "--callback-aes-key: want 43 characters, got 40"},
		{name: "BlockedBadLine", edit: func(o *sandboxOptions) {
			o.callback, o.callbackToken, o.blocked = "http://127.0.0.1:1/cb", sbToken, badBlocked
		}, wantErr: "--blocked " + badBlocked + `: line 2: "not-an-openid" is not an openid`},
		{name: "SystemFailedMissing", edit: func(o *sandboxOptions) {
			o.callback, o.callbackToken, o.systemFailed = "http://127.0.0.1:1/cb", sbToken, filepath.Join(dir, "nope.txt")
		}, wantErr: "--system-failed: open"},
		{name: "NegativeDelay", edit: func(o *sandboxOptions) {
			o.callback, o.callbackToken, o.receiptDelay = "http://127.0.0.1:1/cb", sbToken, -time.Second
		}, wantErr: "--receipt-delay: want 0 or more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := defaultSandboxOptions()
			o.receiptDelay, o.receiptRetry = 200*time.Millisecond, 3*time.Second
			if tt.edit != nil {
				tt.edit(&o)
			}
			got, err := o.simOptions()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				tt.check(t, got)
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if exitCode(err) != exitUsage {
				t.Errorf("exit code %d, want %d", exitCode(err), exitUsage)
			}
			if strings.Contains(err.Error(), sbAESKey[:20]) || strings.Contains(err.Error(), sbToken) {
				t.Errorf("err %q shows a secret", err)
			}
		})
	}
}

// TestSandbox_Receipts runs `megasend sandbox` with the receipt flags
// through the real command line, sends two messages through it, and checks
// the receipts an account's server (the wechat package's Receiver, in
// safe mode) gets: one each, the msgids the sends were answered, the
// blocked openid's failed:user block.
func TestSandbox_Receipts(t *testing.T) {
	recv, err := wechat.NewReceiver(wechat.CallbackConfig{Token: sbToken, EncodingAESKey: sbAESKey, AppID: wechattest.DefaultAppID})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []wechat.Event
	account := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		e, err := recv.Open(r.URL.Query(), body)
		if err != nil {
			t.Errorf("receiver: %v", err)
			w.WriteHeader(wechat.CallbackHTTPStatus(err))
			return
		}
		mu.Lock()
		got = append(got, e)
		mu.Unlock()
		io.WriteString(w, wechat.CallbackSuccess)
	}))
	defer account.Close()
	blocked := filepath.Join(t.TempDir(), "blocked.txt")
	os.WriteFile(blocked, []byte(sbBlock+"\n"), 0o600)

	pr, pw := io.Pipe()
	var errOut strings.Builder
	sigs := make(chan os.Signal, 1)
	done := make(chan int, 1)
	go func() {
		s := Streams{In: strings.NewReader(""), Out: pw, Err: &errOut, Getenv: func(string) string { return "" }}
		done <- Main(context.Background(), []string{"megasend", "sandbox", "--addr", "127.0.0.1:0",
			"--callback", account.URL + "/wechat/callback/main", "--callback-token", sbToken,
			"--callback-aes-key", sbAESKey, "--blocked", blocked, "--receipt-delay", "5ms"}, s, sigs)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var base string
	for base == "" && sc.Scan() {
		base, _ = strings.CutPrefix(sc.Text(), "url: ")
	}
	go io.Copy(io.Discard, pr)
	if base == "" {
		t.Fatalf("sandbox printed no url; stderr %s", errOut.String())
	}

	post := func(path, body string, v any) {
		t.Helper()
		resp, err := http.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	post("/cgi-bin/stable_token", `{"grant_type":"client_credential","appid":"`+wechattest.DefaultAppID+`","secret":"`+wechattest.DefaultAppSecret+`"}`, &tok)
	sent := map[string]int64{}
	for _, id := range []string{sbOpenID, sbBlock} {
		var r struct {
			Errcode int   `json:"errcode"`
			MsgID   int64 `json:"msgid"`
		}
		post("/cgi-bin/message/template/send?access_token="+tok.AccessToken,
			`{"touser":"`+id+`","template_id":"mf_E7on5Vh9SIIdieRcvRSv7yFCR0-wFhtdfeA0XY3g","data":{"keyword1":{"value":"x"}}}`, &r)
		if r.Errcode != 0 {
			t.Fatalf("send to %s: errcode %d", id, r.Errcode)
		}
		sent[id] = r.MsgID
	}

	var st wechattest.Stats
	for deadline := time.Now().Add(10 * time.Second); st.ReceiptsAnswered < 2 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		resp, err := http.Get(base + "/sandbox/stats")
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
	}
	sigs <- os.Interrupt
	if code := <-done; code != 0 {
		t.Fatalf("sandbox exited %d; stderr %s", code, errOut.String())
	}

	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || st.ReceiptsAnswered != 2 || st.ReceiptsPosted != 2 {
		t.Fatalf("receipts %+v, stats %+v", got, st)
	}
	want := map[string]wechat.ReceiptStatus{sbOpenID: wechat.ReceiptSuccess, sbBlock: wechat.ReceiptUserBlock}
	for _, e := range got {
		if !e.IsReceipt() || e.MsgID != sent[e.FromUserName] || e.Status != want[e.FromUserName] {
			t.Errorf("receipt %+v; sent %v", e, sent)
		}
	}
	for _, secret := range []string{sbToken, sbAESKey} {
		if strings.Contains(errOut.String(), secret) {
			t.Errorf("stderr shows a secret: %s", errOut.String())
		}
	}
	if !strings.Contains(errOut.String(), "receipts_answered=2") {
		t.Errorf("stop log lacks the receipts: %s", errOut.String())
	}
}
