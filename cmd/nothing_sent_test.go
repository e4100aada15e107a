package cmd

import (
	"bytes"
	"context"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/wechat/wechattest"
)

// runWith runs megasend in-process with stdin, the environment env, and
// whether stdin and stderr are a terminal.
func runWith(t *testing.T, stdin string, terminal bool, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	s := Streams{
		In: strings.NewReader(stdin), Out: &out, Err: &errOut, Getenv: func(k string) string { return env[k] },
		InIsTerminal: terminal, ErrIsTerminal: terminal, Hostname: "test-host", PID: os.Getpid(),
	}
	code := Main(context.Background(), append([]string{"megasend"}, args...), s, nil)
	return code, out.String(), errOut.String()
}

// batchNames lists the batches in the database at path.
func batchNames(t *testing.T, path string) map[string]string {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	bs, err := db.Batches(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, b := range bs {
		m[b.Name] = b.Status
	}
	return m
}

// TestCampaign_Declined answers the confirmation prompt: "no" keeps a
// named batch (exit 4, resumable) and no unnamed one (exit 1), and says
// which; "y" sends.
func TestCampaign_Declined(t *testing.T) {
	tests := []struct {
		name, answer string
		batch        []string
		code         int
		say          string
		kept         map[string]string
	}{
		{name: "Unnamed", answer: "n\n", code: exitRuntime, say: "nothing was sent, and no batch was kept: run the same command again",
			kept: map[string]string{}},
		{name: "EOF", answer: "", code: exitRuntime, say: "no batch was kept", kept: map[string]string{}},
		{name: "Named", answer: "no\n", batch: []string{"--batch", "b"}, code: exitResumable,
			say:  "nothing was sent by this run; batch b is kept (ready): the same command continues it, or: megasend --db ",
			kept: map[string]string{"b": store.StatusReady}},
		{name: "Yes", answer: "y\n", code: exitOK, say: "Send template order_paid to 20 recipients"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "m.db")
			args := append([]string{"--db", db, "campaign", "--sandbox", "--template", "../testdata/templates/order_paid.json",
				"--users", "../testdata/users.csv"}, tt.batch...)
			code, _, stderr := runWith(t, tt.answer, true, nil, args...)
			if code != tt.code || !strings.Contains(stderr, tt.say) {
				t.Fatalf("exit %d; want %d and %q in:\n%s", code, tt.code, tt.say, stderr)
			}
			if tt.kept == nil {
				return
			}
			if got := batchNames(t, db); !maps.Equal(got, tt.kept) {
				t.Errorf("batches %v; want %v", got, tt.kept)
			}
		})
	}
}

// TestCampaign_UnreachableAtFirstSend puts WeChat out of reach between the
// preflight and the first send: the same rule as for the preflight (exit
// 1, an unnamed batch not kept, a named one kept), not a paused batch.
// Each case waits out the sends' retries (about 8 s, asleep).
func TestCampaign_UnreachableAtFirstSend(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the retries of refused connections")
	}
	for _, tt := range []struct {
		name  string
		batch []string
		say   string
		kept  map[string]string
	}{
		{name: "Unnamed", say: "nothing was sent, and no batch was kept", kept: map[string]string{}},
		{name: "Named", batch: []string{"--batch", "b"}, say: "batch b is kept (paused)", kept: map[string]string{"b": store.StatusPaused}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := wechattest.NewServer(wechattest.Options{})
			defer srv.Close()
			proxy := cutAfterPreflight(t, srv.URL)
			env := map[string]string{
				envAPIBase: proxy, envAppID: wechattest.DefaultAppID, envAppSecret: wechattest.DefaultAppSecret,
			}
			db := filepath.Join(t.TempDir(), "m.db")
			args := append([]string{"--db", db, "campaign", "--template", "../testdata/templates/order_paid.json",
				"--users", "../testdata/users.csv"}, tt.batch...)
			code, _, stderr := runWith(t, "", false, env, args...)
			want := "cannot reach WeChat before the first send: message/template/send: "
			if code != exitRuntime || !strings.Contains(stderr, want) || !strings.Contains(stderr, tt.say) {
				t.Fatalf("exit %d; want 1, %q and %q in:\n%s", code, want, tt.say, stderr)
			}
			if got := batchNames(t, db); !maps.Equal(got, tt.kept) {
				t.Errorf("batches %v; want %v", got, tt.kept)
			}
			if n := len(srv.Deliveries()); n != 0 {
				t.Errorf("%d delivered; want 0", n)
			}
		})
	}
}

// cutAfterPreflight serves a proxy to target that refuses every connection
// once the preflight's template list and quota were answered: the sends
// find WeChat out of reach. Keep-alives are off, so every request needs a
// new connection.
func cutAfterPreflight(t *testing.T, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
	)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rp.ServeHTTP(w, r)
		mu.Lock()
		defer mu.Unlock()
		seen[r.URL.Path] = true
		if seen["/cgi-bin/template/get_all_private_template"] && seen["/cgi-bin/openapi/quota/get"] {
			ln.Close()
		}
	})
	srv := &http.Server{Handler: handler, ErrorLog: log.New(io.Discard, "", 0)}
	srv.SetKeepAlivesEnabled(false)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}
