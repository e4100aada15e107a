package main

import (
	"bytes"
	"context"
	"database/sql"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/megasend/megasend/wechat"
	"github.com/megasend/megasend/wechat/wechattest"
)

// TestAudienceKilled sends to an audience of 25,000 followers with the real
// binary and the sandbox binary, killing megasend (SIGKILL) once while it
// pages the followers and once while it sends: a resume pages again, the
// same command finishes, and every follower is delivered exactly once.
//
//	MEGASEND_AUDIENCE_N (25000)
func TestAudienceKilled(t *testing.T) {
	bin := megasendBinary(t)
	n := envInt(t, "MEGASEND_AUDIENCE_N", 25000)
	dir := t.TempDir()
	db := filepath.Join(dir, "megasend.db")
	sp := startSandbox(t, bin, "--followers", strconv.Itoa(n), "--latency", "0ms-2ms")
	args := []string{"-q", "campaign", "--template", "testdata/templates/order_paid.json", "--audience", "followers",
		"--set", "product=巧克力, 两盒", "--set", "amount=39.80", "--set", "paid_at=今天", "--set", "order_no=SO1",
		"--batch", "fans", "--concurrency", "16"}
	start := func(args ...string) (*exec.Cmd, chan error, *bytes.Buffer) {
		cmd := exec.Command(bin, args...)
		cmd.Env = campaignEnv(sp, db)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		return cmd, done, &stderr
	}
	// killWhen kills the run once cond holds, polling the ledger; it
	// reports false if the run ended first.
	killWhen := func(cmd *exec.Cmd, done chan error, cond func() bool) bool {
		for {
			select {
			case <-done:
				return false
			default:
			}
			if cond() {
				cmd.Process.Signal(syscall.SIGKILL)
				<-done
				return true
			}
			time.Sleep(time.Millisecond)
		}
	}

	// 1. Killed while paging: the batch is there, importing, nothing sent.
	cmd, done, stderr := start(args...)
	if !killWhen(cmd, done, func() bool { return batchStatus(t, db, "fans") == "importing" }) {
		t.Fatalf("the run ended before it was seen paging: %s", stderr)
	}
	if s := batchStatus(t, db, "fans"); s != "importing" {
		t.Fatalf("after a kill during paging: status %q, want importing", s)
	}
	if got := sp.delivered(t); len(got) != 0 {
		t.Fatalf("%d delivered while paging", len(got))
	}

	// 2. The resume pages again, and is killed while sending.
	cmd, done, stderr = start("-q", "campaign", "--resume", "fans", "--rate", "5000")
	if !killWhen(cmd, done, func() bool { return ledgerCounts(t, db, "fans")["sent"] >= n/5 }) {
		t.Logf("the resume finished before the kill: %s", stderr)
	}

	// 3. The same command again (a cron line) finishes the batch.
	_, done, stderr = start(args...)
	if err := <-done; err != nil {
		t.Fatalf("the same command again: %v\n%s", err, stderr)
	}

	want := followers(t, n)
	got := sp.delivered(t)
	for _, id := range want {
		if got[id] != 1 {
			t.Fatalf("follower %s delivered %d times", id, got[id])
		}
	}
	if len(got) != n {
		t.Fatalf("%d openids delivered, want the %d followers", len(got), n)
	}
	if c := ledgerCounts(t, db, "fans"); c["sent"] != n || len(c) != 1 {
		t.Fatalf("ledger %v, want %d sent and nothing else", c, n)
	}
}

// followers pages an in-process simulator with the sandbox's account and n
// followers: the same openids the sandbox binary serves.
func followers(t *testing.T, n int) []string {
	t.Helper()
	srv := wechattest.NewServer(wechattest.Options{Followers: n})
	defer srv.Close()
	c, err := wechat.New(wechat.Config{AppID: wechattest.DefaultAppID, AppSecret: wechattest.DefaultAppSecret, BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for id, err := range c.Followers(context.Background(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// batchStatus reads a batch's status from the ledger ("" before it exists).
func batchStatus(t *testing.T, db, batch string) string {
	t.Helper()
	sdb, err := sql.Open("sqlite", "file:"+db+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	var s string
	if err := sdb.QueryRow(`SELECT status FROM batches WHERE name = ?`, batch).Scan(&s); err != nil && err != sql.ErrNoRows {
		return "" // the database is still being made
	}
	return s
}
