package main

// The end-to-end test of `megasend serve` (issue 17): the real binary,
// driven over HTTP as another service would, against a real `megasend
// sandbox` process that posts delivery receipts to serve's callback URL.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	serveToken  = "serveCallbackToken42"
	serveAESKey = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
)

// serveProc is a running `megasend serve`.
type serveProc struct {
	cmd  *exec.Cmd
	base string
	log  string // its stderr
	key  string
	done chan error
}

// freePort returns a port nothing listens on, for a process to take: the
// sandbox needs serve's callback URL before serve starts.
// mustRun runs the binary to the end and returns its stdout; an exit
// other than 0 fails the test.
func mustRun(t *testing.T, bin string, env []string, args ...string) string {
	t.Helper()
	r := runMegasend(t, bin, env, args...)
	if r.code != 0 {
		t.Fatalf("megasend %s: %s", strings.Join(args, " "), r)
	}
	return r.stdout
}

// withConfig writes config as a megasend.toml in a temporary directory
// and returns env naming it.
func withConfig(t *testing.T, env []string, config string) []string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "megasend.toml")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return append(env, "MEGASEND_CONFIG="+cfg)
}

// serveKey stores the order_paid template and an API key called name, as
// a new service's operator would, and returns the key (the last line
// 'apikey add' prints).
func serveKey(t *testing.T, bin string, env []string, name string) string {
	t.Helper()
	mustRun(t, bin, env, "template", "add", "order_paid", "--file", "testdata/templates/order_paid.json")
	out := strings.Split(strings.TrimSpace(mustRun(t, bin, env, "apikey", "add", name)), "\n")
	return out[len(out)-1]
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startServe starts serve on port with env and waits for its address.
func startServe(t *testing.T, bin string, env []string, port int, key string, args ...string) *serveProc {
	t.Helper()
	sp := &serveProc{key: key, log: filepath.Join(t.TempDir(), "serve.log"), done: make(chan error, 1)}
	sp.cmd = exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:" + strconv.Itoa(port)}, args...)...)
	sp.cmd.Env = env
	logf, err := os.Create(sp.log)
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := sp.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sp.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		fmt.Fprintln(logf, sc.Text())
		if u, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
			sp.base = u
			break
		}
	}
	go func() {
		io.Copy(logf, stderr)
		sp.done <- sp.cmd.Wait()
		logf.Close()
	}()
	t.Cleanup(func() { sp.cmd.Process.Kill() })
	if sp.base == "" {
		sp.cmd.Process.Kill()
		<-sp.done
		t.Fatalf("serve printed no address:\n%s", sp.logText())
	}
	return sp
}

func (sp *serveProc) logText() string {
	b, _ := os.ReadFile(sp.log)
	return string(b)
}

// stop signals serve and returns how it exited.
func (sp *serveProc) stop(t *testing.T, sig os.Signal) error {
	t.Helper()
	sp.cmd.Process.Signal(sig)
	select {
	case err := <-sp.done:
		return err
	case <-time.After(30 * time.Second):
		sp.cmd.Process.Kill()
		t.Fatalf("serve did not stop on %v:\n%s", sig, sp.logText())
		return nil
	}
}

// call makes one API request with the key and returns the status and body.
func (sp *serveProc) call(t *testing.T, method, path, ctype, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, sp.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+sp.key)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", method, path, err, sp.logText())
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// mustCall is call that fails the test unless the status is want.
func (sp *serveProc) mustCall(t *testing.T, want int, method, path, ctype, body string) []byte {
	t.Helper()
	status, b := sp.call(t, method, path, ctype, body)
	if status != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, status, want, b)
	}
	return b
}

// servedBatch is what the end-to-end test reads of a batch's answer.
type servedBatch struct {
	Batch struct {
		Name, Status, Account string
	}
	Counts   map[string]int64
	Receipts map[string]int64
	Schedule struct{ State string }
}

// await polls batch name until cond holds.
func (sp *serveProc) await(t *testing.T, name, what string, cond func(servedBatch) bool) servedBatch {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var b servedBatch
		if err := json.Unmarshal(sp.mustCall(t, 200, "GET", "/v1/batches/"+name, "", ""), &b); err != nil {
			t.Fatal(err)
		}
		if cond(b) {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("batch %s never %s: %+v\n%s", name, what, b, sp.logText())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func isServedDone(b servedBatch) bool { return b.Batch.Status == "done" }

// TestServe_EndToEnd drives the real binary as a user would: a key, a CSV
// batch sent and reported, the same upload again, other content under the
// same name, a bad row; pause and resume; SIGKILL mid-batch and a restart
// with every recipient sent exactly once; delivery receipts from the
// sandbox in plain and in safe mode, counted in the batch; SIGTERM exits 0.
func TestServe_EndToEnd(t *testing.T) {
	bin := megasendBinary(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "m.db")
	port := freePort(t)
	callback := fmt.Sprintf("http://127.0.0.1:%d/wechat/callback/main", port)
	blocked := filepath.Join(dir, "blocked.txt")
	if err := os.WriteFile(blocked, []byte("ovIC7uccmSMFeuYJj2PjM7KkdBnY\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sandbox := startSandbox(t, bin, "--callback", callback, "--callback-token", serveToken, "--blocked", blocked,
		"--receipt-delay", "10ms", "--receipt-retry", "50ms", "--latency", "2ms")
	// rate 400: the big batch takes seconds, long enough to pause and to kill.
	config := withConfig(t, nil, "[accounts.main]\nrate = 400\nconcurrency = 8\ncallback_token = \""+serveToken+"\"\n")
	env := append(campaignEnv(sandbox, db), config...)
	run := func(args ...string) string { return mustRun(t, bin, env, args...) }
	key := serveKey(t, bin, env, "svc")

	sp := startServe(t, bin, env, port, key)
	small, err := os.ReadFile("testdata/users.csv")
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := sp.call(t, "GET", "/v1/batches", "", ""); status != 200 {
		t.Fatalf("list: %d", status)
	}
	sp.key = "msk_wrong"
	if status, _ := sp.call(t, "GET", "/v1/batches", "", ""); status != 401 {
		t.Fatalf("a wrong key: %d, want 401", status)
	}
	sp.key = key

	// A CSV batch: 201, sent, its receipts counted (one user blocks the
	// account's messages).
	sp.mustCall(t, 201, "POST", "/v1/batches?name=small&template=order_paid", "text/csv", string(small))
	sp.await(t, "small", "done", isServedDone)
	b := sp.await(t, "small", "receipted (plain mode)", func(b servedBatch) bool { return b.Receipts["awaiting"] == 0 })
	if b.Counts["sent"] != 20 || b.Receipts["success"] != 19 || b.Receipts["user_block"] != 1 {
		t.Errorf("small: counts %v, receipts %v", b.Counts, b.Receipts)
	}
	// report --format json is the same document, without the schedule.
	var fromAPI, fromCLI map[string]any
	json.Unmarshal(sp.mustCall(t, 200, "GET", "/v1/batches/small", "", ""), &fromAPI)
	json.Unmarshal([]byte(run("report", "small", "--format", "json")), &fromCLI)
	delete(fromAPI, "schedule")
	if a, c := fmt.Sprint(fromAPI), fmt.Sprint(fromCLI); a != c {
		t.Errorf("GET /v1/batches/small:\n%s\nreport --format json:\n%s", a, c)
	}

	// The same upload again is the same batch; other content under its
	// name is refused; a bad row is refused with its line, and nothing of
	// it is recorded.
	sp.mustCall(t, 200, "POST", "/v1/batches?name=small&template=order_paid", "text/csv", string(small))
	sp.mustCall(t, 409, "POST", "/v1/batches?name=small&template=order_paid", "text/csv", string(small)+"oTest0000000000000000000000001,x,y,1,2,3\n")
	bad := sp.mustCall(t, 422, "POST", "/v1/batches?name=bad&template=order_paid", "text/csv",
		"openid,name,product,amount,paid_at,order_no\nnot-an-openid,a,b,1,2,3\n")
	if !bytes.Contains(bad, []byte(`"line": 2`)) || !bytes.Contains(bad, []byte(`"field": "openid"`)) {
		t.Errorf("bad row: %s", bad)
	}
	sp.mustCall(t, 404, "GET", "/v1/batches/bad", "", "")
	if list := run("batches", "--json"); strings.Contains(list, `"bad"`) {
		t.Errorf("the refused batch is listed: %s", list)
	}

	// Pause and resume a batch being sent.
	users, ids := writeUsers(t, dir, 3000, 7)
	big, err := os.ReadFile(users)
	if err != nil {
		t.Fatal(err)
	}
	sp.mustCall(t, 201, "POST", "/v1/batches?name=big&template=order_paid", "text/csv", string(big))
	sp.await(t, "big", "sending", func(b servedBatch) bool { return b.Counts["sent"] > 100 })
	sp.mustCall(t, 200, "POST", "/v1/batches/big/pause", "", "")
	paused := sp.await(t, "big", "paused", func(b servedBatch) bool { return b.Batch.Status == "paused" })
	time.Sleep(300 * time.Millisecond)
	if b := sp.await(t, "big", "read", func(servedBatch) bool { return true }); b.Counts["sent"] != paused.Counts["sent"] || b.Schedule.State != "held" {
		t.Fatalf("paused at %d sent, then %d, schedule %s", paused.Counts["sent"], b.Counts["sent"], b.Schedule.State)
	}
	sp.mustCall(t, 200, "POST", "/v1/batches/big/resume", "", "")

	// SIGKILL mid-batch; the next serve takes the batch up by itself.
	resumedAt := paused.Counts["sent"]
	sp.await(t, "big", "sending again", func(b servedBatch) bool { return b.Counts["sent"] > resumedAt+200 })
	if err := sp.stop(t, syscall.SIGKILL); err == nil {
		t.Fatal("serve survived SIGKILL")
	}
	sp = startServe(t, bin, env, port, key)
	sp.await(t, "big", "done after the restart", isServedDone)
	delivered := sandbox.delivered(t)
	for _, id := range ids {
		if delivered[id] != 1 {
			t.Errorf("%s delivered %d times", id, delivered[id])
		}
	}
	if len(delivered) != len(ids)+20 {
		t.Errorf("%d openids delivered, want %d", len(delivered), len(ids)+20)
	}
	sp.await(t, "big", "receipted", func(b servedBatch) bool { return b.Receipts["success"] == int64(len(ids)) })

	// SIGTERM: exit 0.
	if err := sp.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("serve on SIGTERM: %v\n%s", err, sp.logText())
	}
	if strings.Contains(sp.logText(), serveToken) {
		t.Error("serve's log shows the callback token")
	}

	// Safe mode: receipts encrypted with the EncodingAESKey.
	safeBox := startSandbox(t, bin, "--callback", callback, "--callback-token", serveToken, "--callback-aes-key", serveAESKey,
		"--system-failed", blocked, "--receipt-delay", "10ms", "--receipt-retry", "50ms")
	env = append(append(campaignEnv(safeBox, db), config...), "MEGASEND_ENCODING_AES_KEY="+serveAESKey)
	sp = startServe(t, bin, env, port, key)
	sp.mustCall(t, 201, "POST", "/v1/batches?name=safe&template=order_paid", "text/csv", string(small))
	b = sp.await(t, "safe", "receipted (safe mode)", func(b servedBatch) bool {
		return b.Batch.Status == "done" && b.Receipts["awaiting"] == 0
	})
	if b.Receipts["success"] != 19 || b.Receipts["system_failed"] != 1 {
		t.Errorf("safe: receipts %v", b.Receipts)
	}
	if err := sp.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("serve on SIGTERM: %v", err)
	}
	if strings.Contains(sp.logText(), serveAESKey) {
		t.Error("serve's log shows the EncodingAESKey")
	}
}
