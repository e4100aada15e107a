package main

// Script commands for WeChat's delivery receipts (issue 17): a real
// `megasend sandbox` process, the account's server opening the receipts it
// posts with the wechat package (as serve will), and a check of what
// arrived against what the sandbox delivered.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/megasend/megasend/wechat"
	"github.com/megasend/megasend/wechat/wechattest"
)

// receiptsKey finds a script's receipt state in its Values.
type receiptsKey struct{}

// receiptsState is what the receipt commands share within one script.
type receiptsState struct {
	recv *scriptReceiver
	proc *exec.Cmd
	wait chan error // the sandbox process's exit
}

func receiptsOf(ts *testscript.TestScript) *receiptsState {
	return ts.Value(receiptsKey{}).(*receiptsState)
}

// scriptReceiver is the account's server: every push opened with
// wechat.Receiver, good ones answered with status, refusals with
// wechat.CallbackHTTPStatus.
type scriptReceiver struct {
	recv   *wechat.Receiver
	status int

	mu      sync.Mutex
	events  []wechat.Event
	refused []string
}

func (r *scriptReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, wechat.MaxPushBytes))
	var e wechat.Event
	if err == nil {
		e, err = r.recv.Open(req.URL.Query(), body)
	}
	r.mu.Lock()
	if err != nil {
		r.refused = append(r.refused, err.Error())
	} else {
		r.events = append(r.events, e)
	}
	r.mu.Unlock()
	if err != nil {
		http.Error(w, "refused", wechat.CallbackHTTPStatus(err))
		return
	}
	w.WriteHeader(r.status)
	if r.status == http.StatusOK {
		io.WriteString(w, wechat.CallbackSuccess)
	}
}

// cmdReceiver starts the account's callback server and sets $CALLBACK to
// its URL:
//
//	receiver token=T [aes=KEY] [answer=STATUS]
func cmdReceiver(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! receiver")
	}
	cfg := wechat.CallbackConfig{AppID: wechattest.DefaultAppID}
	status := http.StatusOK
	for _, a := range args {
		k, v, _ := strings.Cut(a, "=")
		switch k {
		case "token":
			cfg.Token = v
		case "aes":
			cfg.EncodingAESKey = v
		case "answer":
			n, err := strconv.Atoi(v)
			ts.Check(err)
			status = n
		default:
			ts.Fatalf("receiver: unknown option %q", a)
		}
	}
	recv, err := wechat.NewReceiver(cfg)
	ts.Check(err)
	r := &scriptReceiver{recv: recv, status: status}
	srv := httptest.NewServer(r)
	ts.Defer(srv.Close)
	receiptsOf(ts).recv = r
	ts.Setenv("CALLBACK", srv.URL+"/wechat/callback/main")
}

// cmdReceipts waits up to ten seconds for N receipts (then a moment for
// any extra one), and prints one line per receipt, "OPENID STATUS
// OUTCOME", sorted, then "refused: K". With a deliveries file (the
// sandbox's --deliveries) it checks each receipt's msgid against the
// message delivered to that openid:
//
//	receipts N [deliveries=FILE]
func cmdReceipts(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: receipts N [deliveries=FILE]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	r := receiptsOf(ts).recv
	if r == nil {
		ts.Fatalf("no receiver: run 'receiver' first")
	}
	count := func() int {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.events) + len(r.refused)
	}
	for deadline := time.Now().Add(10 * time.Second); count() < want && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // room for one too many
	r.mu.Lock()
	events, refused := slices.Clone(r.events), slices.Clone(r.refused)
	r.mu.Unlock()
	if len(events)+len(refused) != want {
		ts.Fatalf("receiver got %d receipts and %d refused pushes, want %d in all", len(events), len(refused), want)
	}

	if len(args) == 2 {
		path, ok := strings.CutPrefix(args[1], "deliveries=")
		if !ok {
			ts.Fatalf("usage: receipts N [deliveries=FILE]")
		}
		checkReceiptMsgIDs(ts, ts.MkAbs(path), events)
	}
	lines := make([]string, 0, len(events))
	for _, e := range events {
		if !e.IsReceipt() {
			ts.Fatalf("not a receipt: %+v", e)
		}
		lines = append(lines, fmt.Sprintf("%s %s %s", e.FromUserName, strconv.Quote(string(e.Status)), e.Status.Outcome()))
	}
	slices.Sort(lines)
	for _, l := range lines {
		fmt.Fprintln(ts.Stdout(), l)
	}
	fmt.Fprintf(ts.Stdout(), "refused: %d\n", len(refused))
	for _, err := range refused {
		ts.Logf("refused: %s", err)
	}
}

// checkReceiptMsgIDs checks that every receipt carries the msgid of the
// one message delivered to its openid, per the deliveries file.
func checkReceiptMsgIDs(ts *testscript.TestScript, path string, events []wechat.Event) {
	data, err := os.ReadFile(path)
	ts.Check(err)
	msgIDs := map[string]int64{}
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var d wechattest.Delivery
		ts.Check(json.Unmarshal(line, &d))
		msgIDs[d.OpenID] = d.MsgID
	}
	for _, e := range events {
		if id, ok := msgIDs[e.FromUserName]; !ok || id != e.MsgID {
			ts.Fatalf("receipt for %s has msgid %d; the sandbox delivered %d", e.FromUserName, e.MsgID, id)
		}
	}
}

// cmdSandboxProc starts `megasend sandbox --addr 127.0.0.1:0 ARGS...` as
// its own process in $WORK, with its log in $WORK/sandbox.log, waits for
// its url, and points megasend at it as the sandbox command does; stop
// interrupts it and waits for it to exit (the script's end does too),
// after which another may start:
//
//	sandbox-proc start ARGS... | sandbox-proc stop
func cmdSandboxProc(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: sandbox-proc start ARGS... | sandbox-proc stop")
	}
	st := receiptsOf(ts)
	switch args[0] {
	case "start":
		if st.proc != nil {
			ts.Fatalf("sandbox-proc: already started")
		}
		logf, err := os.Create(ts.MkAbs("sandbox.log"))
		ts.Check(err)
		cmd := exec.Command("megasend", append([]string{"sandbox", "--addr", "127.0.0.1:0"}, args[1:]...)...)
		cmd.Dir = ts.Getenv("WORK")
		cmd.Stderr = logf
		out, err := cmd.StdoutPipe()
		ts.Check(err)
		ts.Check(cmd.Start())
		st.proc, st.wait = cmd, make(chan error, 1)
		sc := bufio.NewScanner(out)
		var base string
		for base == "" && sc.Scan() {
			base, _ = strings.CutPrefix(sc.Text(), "url: ")
		}
		go func() {
			io.Copy(io.Discard, out)
			st.wait <- cmd.Wait()
			logf.Close()
		}()
		ts.Defer(func() { stopSandboxProc(st) })
		if base == "" {
			stopSandboxProc(st)
			log, _ := os.ReadFile(logf.Name())
			ts.Fatalf("sandbox printed no url: %s", log)
		}
		ts.Setenv("MEGASEND_API_BASE", base)
		ts.Setenv("MEGASEND_APP_ID", wechattest.DefaultAppID)
		ts.Setenv("MEGASEND_APP_SECRET", wechattest.DefaultAppSecret)
	case "stop":
		if st.proc == nil {
			ts.Fatalf("sandbox-proc: not started")
		}
		if err := stopSandboxProc(st); err != nil {
			ts.Fatalf("sandbox exited: %v", err)
		}
	default:
		ts.Fatalf("sandbox-proc: unknown action %q", args[0])
	}
}

// stopSandboxProc interrupts the sandbox process once and waits for it.
func stopSandboxProc(st *receiptsState) error {
	if st.proc == nil {
		return nil
	}
	st.proc.Process.Signal(os.Interrupt)
	var err error
	select {
	case err = <-st.wait:
	case <-time.After(10 * time.Second):
		st.proc.Process.Kill()
		err = <-st.wait
	}
	st.proc, st.wait = nil, nil
	return err
}
