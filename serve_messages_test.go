package main

// The end-to-end test of single messages in `megasend serve` (issue 17):
// the real binary and a real sandbox, driven over HTTP.

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// servedMessage is what the test reads of a message's answer.
type servedMessage struct {
	ID      int64
	State   string
	MsgID   int64
	Errcode int64
	Receipt *struct{ Status string }
	Events  []struct {
		State, Detail string
	}
}

// awaitMessage polls message id until cond holds.
func (sp *serveProc) awaitMessage(t *testing.T, id int64, what string, cond func(servedMessage) bool) servedMessage {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var m servedMessage
		if err := json.Unmarshal(sp.mustCall(t, 200, "GET", fmt.Sprintf("/v1/messages/%d", id), "", ""), &m); err != nil {
			t.Fatal(err)
		}
		if cond(m) {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %d never %s: %+v\n%s", id, what, m, sp.logText())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// push posts a message to openid and returns the answer's status and
// message.
func (sp *serveProc) push(t *testing.T, openid, key, extra string) (int, servedMessage) {
	t.Helper()
	body := fmt.Sprintf(`{"template":"order_paid","openid":%q,"vars":{"product":"巧克力","amount":"39.80","paid_at":"2024年3月1日 10:15","order_no":"SO1"},"idempotency_key":%q%s}`,
		openid, key, extra)
	status, b := sp.call(t, "POST", "/v1/messages", "application/json", body)
	var m servedMessage
	json.Unmarshal(b, &m)
	return status, m
}

func messageRowCount(t *testing.T, db string) int {
	t.Helper()
	sdb, err := sql.Open("sqlite", "file:"+db+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	var n int
	if err := sdb.QueryRow(`SELECT COUNT(*) FROM messages`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func isSent(m servedMessage) bool { return m.State == "sent" }

// TestServe_Messages: single messages through the real binary — sent and
// traced to their delivery receipt, idempotent, refused with nothing
// recorded, held until send_at, sent ahead of a running batch, every one
// exactly once across a SIGKILL right after their 202s, held by a spent
// quota and resumed by themselves once WeChat has quota again.
func TestServe_Messages(t *testing.T) {
	bin := megasendBinary(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "m.db")
	port := freePort(t)
	callback := fmt.Sprintf("http://127.0.0.1:%d/wechat/callback/main", port)
	sandbox := startSandbox(t, bin, "--callback", callback, "--callback-token", serveToken,
		"--receipt-delay", "10ms", "--receipt-retry", "50ms", "--latency", "2ms")
	env := withConfig(t, campaignEnv(sandbox, db), "[accounts.main]\nrate = 300\nconcurrency = 8\ncallback_token = \""+serveToken+"\"\n")
	key := serveKey(t, bin, env, "svc")
	sp := startServe(t, bin, env, port, key, "--quota-probe", "100ms")
	const first = "ovIC7uccmSMFeuYJj2PjM7KkdBnY"

	// One message: 202 once committed, sent, traced to its receipt.
	status, m := sp.push(t, first, "order-1", "")
	if status != http.StatusAccepted || m.State != "pending" {
		t.Fatalf("push: %d %+v", status, m)
	}
	m = sp.awaitMessage(t, m.ID, "receipted", func(m servedMessage) bool { return m.Receipt != nil })
	if m.State != "sent" || m.MsgID == 0 || m.Receipt.Status != "success" || len(m.Events) != 3 {
		t.Errorf("trace %+v", m)
	}
	// The same key and request: the same message, not sent again; the key
	// with another request: 409.
	if status, again := sp.push(t, first, "order-1", ""); status != http.StatusOK || again.ID != m.ID {
		t.Errorf("repeat: %d, message %d, want 200 and %d", status, again.ID, m.ID)
	}
	if status, _ := sp.push(t, "optl3tY5_LvLXNtjJ-wlRnarOP8H", "order-1", ""); status != http.StatusConflict {
		t.Errorf("the key with another request: %d, want 409", status)
	}
	// Refused: nothing recorded.
	for _, body := range []string{`{"template":"nope","openid":"` + first + `"}`, `{"template":"order_paid","openid":"` + first + `","vars":{}}`, `{"template":`} {
		if status, b := sp.call(t, "POST", "/v1/messages", "application/json", body); status != 422 && status != 400 {
			t.Errorf("%s: %d %s", body, status, b)
		}
	}
	if n := messageRowCount(t, db); n != 1 {
		t.Errorf("%d messages recorded, want 1", n)
	}

	// send_at holds a message until then.
	at := time.Now().Add(1500 * time.Millisecond).UTC().Format(time.RFC3339Nano)
	_, later := sp.push(t, "oLater0000000000000000000001", "", fmt.Sprintf(`,"send_at":%q`, at))
	if later.State != "scheduled" {
		t.Fatalf("with send_at: %+v", later)
	}

	// A batch runs; messages pushed meanwhile go ahead of it; SIGKILL right
	// after the last 202, and the next serve sends what is left: each
	// message and each recipient exactly once.
	users, ids := writeUsers(t, dir, 2000, 11)
	big, err := os.ReadFile(users)
	if err != nil {
		t.Fatal(err)
	}
	sp.mustCall(t, 201, "POST", "/v1/batches?name=big&template=order_paid", "text/csv", string(big))
	sp.await(t, "big", "sending", func(b servedBatch) bool { return b.Counts["sent"] > 50 })
	var (
		wg     sync.WaitGroup
		pushed = make([]string, 100)
	)
	for i := range pushed {
		wg.Go(func() {
			pushed[i] = fmt.Sprintf("oPush%023d", i)
			if status, m := sp.push(t, pushed[i], fmt.Sprintf("push-%d", i), ""); status != http.StatusAccepted {
				t.Errorf("push %d: %d %+v", i, status, m)
			}
		})
	}
	wg.Wait()
	if err := sp.stop(t, syscall.SIGKILL); err == nil {
		t.Fatal("serve survived SIGKILL")
	}
	if b := ledgerCounts(t, db, "big"); b["sent"] == 2000 {
		t.Fatal("the batch ended before the kill: nothing was left to take up")
	}
	sp = startServe(t, bin, env, port, key, "--quota-probe", "100ms")
	sp.await(t, "big", "done after the restart", isServedDone)
	sp.awaitMessage(t, later.ID, "sent", isSent)
	for i := range pushed {
		if status, m := sp.push(t, pushed[i], fmt.Sprintf("push-%d", i), ""); status != http.StatusOK {
			t.Fatalf("push %d again: %d", i, status)
		} else {
			sp.awaitMessage(t, m.ID, "sent", isSent)
		}
	}
	delivered := sandbox.delivered(t)
	for _, id := range append(append(ids, pushed...), first, "oLater0000000000000000000001") {
		if delivered[id] != 1 {
			t.Errorf("%s delivered %d times", id, delivered[id])
		}
	}

	// The daily quota runs out: a message waits, pending, and is sent by
	// itself once WeChat has quota again (here: the sandbox's is raised,
	// as an administrator's clear_quota would).
	control := func(path string) {
		resp, err := http.Post(sandbox.url+path, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("sandbox %s: %d", path, resp.StatusCode)
		}
	}
	control("/sandbox/quota?n=0")
	_, held := sp.push(t, "oQuota0000000000000000000001", "", "")
	held = sp.awaitMessage(t, held.ID, "held by the quota", func(m servedMessage) bool {
		return len(m.Events) > 0 && strings.Contains(m.Events[len(m.Events)-1].Detail, "quota")
	})
	if held.State != "pending" {
		t.Errorf("held by the quota: %+v", held)
	}
	control("/sandbox/quota?n=100000")
	sp.awaitMessage(t, held.ID, "sent once the quota is back", isSent)

	if err := sp.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("serve on SIGTERM: %v\n%s", err, sp.logText())
	}
}
