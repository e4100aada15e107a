package cmd

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/megasend/megasend/wechat/wechattest"
)

func TestParseLatency(t *testing.T) {
	tests := []struct {
		in       string
		min, max time.Duration
		wantErr  bool
	}{
		{in: ""},
		{in: "20ms", min: 20 * time.Millisecond, max: 20 * time.Millisecond},
		{in: "5ms-50ms", min: 5 * time.Millisecond, max: 50 * time.Millisecond},
		{in: " 1s - 2s ", min: time.Second, max: 2 * time.Second},
		{in: "0-10ms", max: 10 * time.Millisecond},
		{in: "50ms-5ms", wantErr: true},
		{in: "-5ms", wantErr: true},
		{in: "fast", wantErr: true},
		{in: "5ms-", wantErr: true},
		{in: "20", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			min, max, err := parseLatency(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if min != tt.min || max != tt.max {
				t.Errorf("got %v-%v, want %v-%v", min, max, tt.min, tt.max)
			}
		})
	}
}

// defaultSandboxOptions are the flag defaults, as urfave fills them in.
func defaultSandboxOptions() sandboxOptions {
	return sandboxOptions{
		addr: "127.0.0.1:0", appID: wechattest.DefaultAppID, appSecret: wechattest.DefaultAppSecret,
		quota: 100000, tokenTTL: 7200 * time.Second, dedupWindow: 10 * time.Minute, followers: 25000,
	}
}

func TestSandboxOptions_SimOptions(t *testing.T) {
	dir := t.TempDir()
	unfollowed := filepath.Join(dir, "unfollowed.txt")
	os.WriteFile(unfollowed, []byte("\uFEFF# churned\noAbCdEfGhIjKlMnOpQrStUvWx_01\n\n  oAbCdEfGhIjKlMnOpQrStUvWx_02  \n"), 0o600)
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("oAbCdEfGhIjKlMnOpQrStUvWx_01\nnot-an-openid\n"), 0o600)

	tests := []struct {
		name    string
		edit    func(*sandboxOptions)
		check   func(*testing.T, wechattest.Options)
		wantErr string
	}{
		{name: "Defaults", check: func(t *testing.T, o wechattest.Options) {
			// Followers 0: the simulator's 25,000, every openid a follower.
			if o.Quota != 100000 || o.Followers != 0 || o.DedupWindow != 10*time.Minute || o.TokenTTL != 7200*time.Second ||
				o.AppID != wechattest.DefaultAppID || o.Latency != 0 || o.TemplateIDs != nil {
				t.Errorf("%+v", o)
			}
		}},
		{name: "ZeroMeansZero", edit: func(o *sandboxOptions) { o.quota, o.followers, o.followersSet, o.dedupWindow = 0, 0, true, 0 },
			check: func(t *testing.T, o wechattest.Options) {
				if o.Quota >= 0 || o.Followers >= 0 || o.DedupWindow >= 0 {
					t.Errorf("quota %d followers %d dedup %v: want the 'none' values", o.Quota, o.Followers, o.DedupWindow)
				}
			}},
		{name: "Lists", edit: func(o *sandboxOptions) {
			o.templateIDs, o.unfollowed, o.latency, o.seed = " any, abc ,,", unfollowed, "5ms-50ms", 42
		}, check: func(t *testing.T, o wechattest.Options) {
			if strings.Join(o.TemplateIDs, "|") != "any|abc" || len(o.Unfollowed) != 2 ||
				o.Unfollowed[1] != "oAbCdEfGhIjKlMnOpQrStUvWx_02" || o.LatencyMax != 50*time.Millisecond || o.Seed != 42 {
				t.Errorf("%+v", o)
			}
		}},
		{name: "BadLatency", edit: func(o *sandboxOptions) { o.latency = "soon" }, wantErr: "--latency"},
		{name: "NegativeQuota", edit: func(o *sandboxOptions) { o.quota = -1 }, wantErr: "--quota"},
		{name: "FailRateAboveOne", edit: func(o *sandboxOptions) { o.failRate = 1.5 }, wantErr: "--fail-rate"},
		{name: "ZeroTokenTTL", edit: func(o *sandboxOptions) { o.tokenTTL = 0 }, wantErr: "--token-ttl"},
		{name: "SubSecondTokenTTL", edit: func(o *sandboxOptions) { o.tokenTTL = 500 * time.Millisecond }, wantErr: "want 1s or more"},
		{name: "OneSecondTokenTTL", edit: func(o *sandboxOptions) { o.tokenTTL = time.Second }, check: func(t *testing.T, o wechattest.Options) {
			if o.TokenTTL != time.Second {
				t.Errorf("TokenTTL = %v, want 1s", o.TokenTTL)
			}
		}},
		{name: "EmptyAppID", edit: func(o *sandboxOptions) { o.appID = "" }, wantErr: "--app-id"},
		{name: "MissingUnfollowed", edit: func(o *sandboxOptions) { o.unfollowed = filepath.Join(dir, "nope") }, wantErr: "--unfollowed"},
		{name: "BadUnfollowed", edit: func(o *sandboxOptions) { o.unfollowed = bad }, wantErr: "line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := defaultSandboxOptions()
			if tt.edit != nil {
				tt.edit(&o)
			}
			got, err := o.simOptions()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || exitCode(err) != exitUsage {
					t.Fatalf("err = %v (exit %d), want a usage error mentioning %q", err, exitCode(err), tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, got)
		})
	}
}

// TestRunSandbox starts the command's server on a free port, reads the
// printed url and credentials, gets a token and sends through it, then
// interrupts it and expects a clean exit.
func TestRunSandbox(t *testing.T) {
	deliveries := filepath.Join(t.TempDir(), "deliveries.jsonl")
	o := defaultSandboxOptions()
	o.deliveries = deliveries
	opts, err := o.simOptions()
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- runSandbox(ctx, context.Background(), o, opts, pw, slog.New(slog.DiscardHandler))
		pw.Close()
	}()

	printed := make(map[string]string)
	sc := bufio.NewScanner(pr)
	for len(printed) < 3 && sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ": ")
		printed[k] = v
	}
	go io.Copy(io.Discard, pr)
	base := printed["url"]
	if !strings.HasPrefix(base, "http://127.0.0.1:") || strings.HasSuffix(base, ":0") ||
		printed["app_id"] != wechattest.DefaultAppID || printed["app_secret"] != wechattest.DefaultAppSecret {
		t.Fatalf("printed %v", printed)
	}

	post := func(path, body string) map[string]any {
		t.Helper()
		resp, err := http.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	tok := post("/cgi-bin/stable_token", `{"grant_type":"client_credential","appid":"`+printed["app_id"]+`","secret":"`+printed["app_secret"]+`"}`)
	sent := post("/cgi-bin/message/template/send?access_token="+tok["access_token"].(string),
		`{"touser":"oAbCdEfGhIjKlMnOpQrStUvWx_01","template_id":"mf_E7on5Vh9SIIdieRcvRSv7yFCR0-wFhtdfeA0XY3g","data":{"keyword1":{"value":"x"}}}`)
	if sent["errcode"] != 0.0 {
		t.Fatalf("send: %v", sent)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("runSandbox = %v, want nil after interruption", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("runSandbox did not stop")
	}
	b, err := os.ReadFile(deliveries)
	if err != nil || strings.Count(string(b), "\n") != 1 || !strings.Contains(string(b), `"openid":"oAbCdEfGhIjKlMnOpQrStUvWx_01"`) {
		t.Errorf("deliveries file %q (%v)", b, err)
	}
}

func TestRunSandbox_AddrInUse(t *testing.T) {
	o := defaultSandboxOptions()
	opts, _ := o.simOptions()
	first := make(chan string, 1)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	go runSandbox(ctx, context.Background(), o, opts, pw, slog.New(slog.DiscardHandler))
	sc := bufio.NewScanner(pr)
	sc.Scan()
	first <- strings.TrimPrefix(sc.Text(), "url: http://")
	go io.Copy(io.Discard, pr)

	o.addr = <-first
	err := runSandbox(t.Context(), context.Background(), o, opts, io.Discard, slog.New(slog.DiscardHandler))
	if err == nil || exitCode(err) != exitRuntime {
		t.Fatalf("err = %v, want a runtime error", err)
	}
	var ce *codedError
	if errors.As(err, &ce) {
		t.Errorf("a busy port is not a usage error: %v", err)
	}
}
