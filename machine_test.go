package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/megasend/megasend/wechat/wechattest"
)

// When the machine fails rather than WeChat: the database read-only, the
// disk full, the database locked by another program. Each run must stop
// with a clear error and exit 1, leave the ledger intact (integrity_check
// ok, every sent row delivered once, nothing delivered twice) and
// resumable: once the fault is gone, a resume delivers everyone exactly
// once.
//
// The read-only and disk-full tests mount a tmpfs (and bind mounts), which
// needs root on Linux; elsewhere they skip. CI runs them as root.

// mountTmpfs mounts a tmpfs of size ("8m") on a new directory, unmounted
// when the test ends, or skips the test where mounting is not allowed.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	mount(t, "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir)
	return dir
}

// mount runs mount(8) with args, whose last is the mount point, and
// unmounts it at the end of the test; it skips the test if mount fails.
func mount(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("mount", args...).CombinedOutput(); err != nil {
		t.Skipf("cannot mount (needs root on Linux): mount %s: %v %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	target := args[len(args)-1]
	t.Cleanup(func() { unmount(t, target) })
}

func unmount(t *testing.T, target string) {
	t.Helper()
	exec.Command("umount", "-l", target).Run() // -l: a lingering handle must not fail the cleanup
}

// remount changes a mount's options, or fails the test.
func remount(t *testing.T, opts, target string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "remount,"+opts, target).CombinedOutput(); err != nil {
		t.Fatalf("mount -o remount,%s %s: %v %s", opts, target, err, out)
	}
}

// bindReadOnly makes a read-only view of src at dst (a file or directory).
func bindReadOnly(t *testing.T, src, dst string) {
	t.Helper()
	mount(t, "--bind", src, dst)
	remount(t, "ro,bind", dst)
}

// pausedBatch sends the first half of a batch, then WeChat's quota runs
// out: the batch is paused, half sent, half pending. It returns the
// simulator, whose quota is still exhausted.
func pausedBatch(t *testing.T, fc *faultCase, batch string) *wechattest.Server {
	t.Helper()
	srv := startSim(t, wechattest.Options{Quota: fc.n / 2})
	r := fc.run(t, srv.URL, campaignArgs(fc.users, batch)...)
	wantExit(t, r, 4, "quota exhausted halfway")
	wantCounts(t, checkLedger(t, fc.db, batch, srv.Deliveries()), map[string]int{"sent": fc.n / 2, "pending": fc.n - fc.n/2})
	return srv
}

// TestMachineReadOnly resumes a paused batch whose database directory,
// then whose database file, is read-only (a read-only bind mount: root ignores
// file modes). Each attempt exits 1 with a clear error and changes
// nothing; with the database writable again, the resume finishes.
func TestMachineReadOnly(t *testing.T) {
	fc := newFaultCase(t, 201)
	dir := mountTmpfs(t, "16m")
	fc.db = filepath.Join(dir, "megasend.db")
	srv := pausedBatch(t, fc, "ro")
	srv.ResetQuota()
	srv.SetQuota(100000)
	before := srv.Stats().Requests

	// The directory first: SQLite then has no -wal and -shm files to
	// open (the paused run closed cleanly) and cannot create them.
	t.Run("directory", func(t *testing.T) {
		view := filepath.Join(t.TempDir(), "ro")
		if err := os.Mkdir(view, 0o755); err != nil {
			t.Fatal(err)
		}
		bindReadOnly(t, dir, view)
		fcView := *fc
		fcView.db = filepath.Join(view, "megasend.db")
		r := fcView.run(t, srv.URL, "campaign", "--resume", "ro")
		wantExit(t, r, 1, "read-only database directory")
		wantOutput(t, r, "megasend.db")
		if !strings.Contains(r.stderr, "read-only") && !strings.Contains(r.stderr, "readonly") {
			t.Errorf("BUG: the error does not say the database is read-only (store.Open passes SQLite's %q through):\n%s",
				"unable to open database file", r.stderr)
		}
		unmount(t, view)
	})

	t.Run("file", func(t *testing.T) {
		bindReadOnly(t, fc.db, fc.db)
		r := fc.run(t, srv.URL, "campaign", "--resume", "ro")
		wantExit(t, r, 1, "read-only database file")
		wantOutput(t, r, "readonly database")
		unmount(t, fc.db)
	})
	if n := srv.Stats().Requests; n != before {
		t.Fatalf("%d sends while the database was read-only", n-before)
	}
	integrityCheck(t, fc.db)
	wantCounts(t, checkLedger(t, fc.db, "ro", srv.Deliveries()), map[string]int{"sent": fc.n / 2, "pending": fc.n - fc.n/2})
	r := fc.run(t, srv.URL, "campaign", "--resume", "ro")
	wantExit(t, r, 0, "resume with the database writable")
	wantCounts(t, checkLedger(t, fc.db, "ro", srv.Deliveries()), map[string]int{"sent": fc.n})
	fc.everyoneOnce(t, srv.Deliveries())
	figures(t, fc, "ro", srv.Deliveries(), "read-only directory, then file: exit 1 twice, ledger unchanged, 0 sends; resume exit 0")
}

// TestMachineDiskFull fills the disk holding the database: while
// importing (a 1 MB tmpfs), and while sending (a paused batch resumed with
// 64 KB left: the ledger writes only narrow sends rows, and a few hundred
// KB outlasted the whole batch). Each run exits 1 saying the disk is full; rows
// the stopped run had in flight are resent with the same client_msg_id,
// so nobody gets the message twice.
func TestMachineDiskFull(t *testing.T) {
	t.Run("import", func(t *testing.T) {
		fc := newFaultCaseN(t, 202, 8000)
		dir := mountTmpfs(t, "1m")
		fc.db = filepath.Join(dir, "megasend.db")
		srv := startSim(t, wechattest.Options{})
		r := fc.run(t, srv.URL, campaignArgs(fc.users, "full")...)
		wantExit(t, r, 1, "disk full while importing")
		wantOutput(t, r, "database or disk is full")
		integrityCheck(t, fc.db)
		if len(srv.Deliveries()) != 0 {
			t.Fatalf("%d delivered from a batch whose import failed", len(srv.Deliveries()))
		}

		remount(t, "size=64m", dir)
		r = fc.run(t, srv.URL, campaignArgs(fc.users, "full")...)
		wantExit(t, r, 0, "the same command with space again")
		wantCounts(t, checkLedger(t, fc.db, "full", srv.Deliveries()), map[string]int{"sent": fc.n})
		fc.everyoneOnce(t, srv.Deliveries())
		figures(t, fc, "full", srv.Deliveries(), "1 MB disk full while importing: exit 1, nothing sent; re-run with space: exit 0")
	})
	t.Run("start", func(t *testing.T) {
		fc := newFaultCase(t, 204)
		dir := mountTmpfs(t, "8m")
		fc.db = filepath.Join(dir, "megasend.db")
		srv := pausedBatch(t, fc, "full")
		srv.ResetQuota()
		srv.SetQuota(100000)
		filler := fill(t, dir, 0)

		r := fc.run(t, srv.URL, "campaign", "--resume", "full")
		wantExit(t, r, 1, "disk full before the run")
		wantOutput(t, r, "megasend.db")
		if !strings.Contains(r.stderr, "full") && !strings.Contains(r.stderr, "no space") {
			t.Errorf("BUG: the error does not say the disk is full (store.Open passes SQLite's %q through):\n%s",
				"disk I/O error", r.stderr)
		}
		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}
		integrityCheck(t, fc.db)
		wantCounts(t, checkLedger(t, fc.db, "full", srv.Deliveries()), map[string]int{"sent": fc.n / 2, "pending": fc.n - fc.n/2})
		r2 := fc.run(t, srv.URL, "campaign", "--resume", "full")
		wantExit(t, r2, 0, "resume with space again")
		wantCounts(t, checkLedger(t, fc.db, "full", srv.Deliveries()), map[string]int{"sent": fc.n})
		fc.everyoneOnce(t, srv.Deliveries())
		figures(t, fc, "full", srv.Deliveries(), "disk 100%% full before a resume: exit 1, ledger unchanged; resume with space: exit 0")
	})
	t.Run("sending", func(t *testing.T) {
		fc := newFaultCaseN(t, 203, 2*envInt(t, "MEGASEND_FAULT_N", 200))
		dir := mountTmpfs(t, "8m")
		fc.db = filepath.Join(dir, "megasend.db")
		srv := pausedBatch(t, fc, "full")
		srv.ResetQuota()
		srv.SetQuota(100000)
		// Sending has begun when the disk fills if rows were marked in
		// flight or recorded sent past the paused half. Where the WAL fills
		// first depends on timing: a run that filled it before its first
		// send (the ledger as it was) is tried again with more room.
		var mid map[string]int
		for _, room := range []int64{64 << 10, 128 << 10, 256 << 10} {
			filler := fill(t, dir, room)
			r := fc.run(t, srv.URL, "campaign", "--resume", "full")
			wantExit(t, r, 1, "disk full while sending")
			wantOutput(t, r, "database or disk is full")
			integrityCheck(t, fc.db)
			mid = checkLedger(t, fc.db, "full", srv.Deliveries())
			if err := os.Remove(filler); err != nil {
				t.Fatal(err)
			}
			if mid["sent"] > fc.n/2 || mid["inflight"] > 0 {
				break
			}
			t.Logf("with %d KiB free the disk filled before the first send (ledger %v); again with more", room>>10, mid)
		}
		if mid["sent"] == fc.n || (mid["sent"] <= fc.n/2 && mid["inflight"] == 0) {
			t.Fatalf("ledger %v: the disk did not fill while sending", mid)
		}

		r2 := fc.run(t, srv.URL, "campaign", "--resume", "full")
		wantExit(t, r2, 0, "resume with space again")
		wantCounts(t, checkLedger(t, fc.db, "full", srv.Deliveries()), map[string]int{"sent": fc.n})
		fc.everyoneOnce(t, srv.Deliveries())
		figures(t, fc, "full", srv.Deliveries(), "disk full while sending: exit 1 with ledger %v (%d delivered, %d deduplicated on resume); resume exit 0",
			mid, len(srv.Deliveries()), srv.Stats().Deduplicated)
	})
}

// fill writes a file in dir that leaves about free bytes of the file
// system unused, and returns its path.
func fill(t *testing.T, dir string, free int64) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	var written int64
	for {
		if _, err := f.Write(buf); err != nil {
			break // ENOSPC: full
		}
		written += int64(len(buf))
	}
	if err := f.Truncate(max(written-free, 0)); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestMachineLocked holds a write transaction on the database from another
// program for 12 s, longer than megasend's 10 s busy timeout, while a
// batch is being sent. megasend stops with exit 1 saying the database is
// locked; rows it had in flight are resent with the same client_msg_id on
// resume, and nobody gets the message twice.
func TestMachineLocked(t *testing.T) {
	fc := newFaultCaseN(t, 205, 2*envInt(t, "MEGASEND_FAULT_N", 200))
	srv := startSim(t, wechattest.Options{Latency: 20 * time.Millisecond})

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, fc.bin, campaignArgs(fc.users, "locked", "--concurrency", "4")...)
	cmd.Env = simEnv(srv.URL, fc.db)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()

	for deadline := time.Now().Add(30 * time.Second); len(srv.Deliveries()) < fc.n/10; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no progress:\n%s", out.String())
		}
	}
	other := openLedger(t, fc.db)
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	locked := time.Now()
	select {
	case err := <-waitErr:
		t.Fatalf("megasend ended while the database was locked (%v):\n%s", err, out.String())
	case <-time.After(12 * time.Second):
	}
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	<-waitErr
	code := cmd.ProcessState.ExitCode()
	if code != 1 || !strings.Contains(out.String(), "database is locked") {
		t.Fatalf("want exit 1 saying the database is locked; got exit %d after the lock was taken %v ago:\n%s",
			code, time.Since(locked).Round(time.Millisecond), out.String())
	}
	integrityCheck(t, fc.db)
	mid := checkLedger(t, fc.db, "locked", srv.Deliveries())
	if mid["sent"] == fc.n {
		t.Fatalf("ledger %v: the lock stopped nothing", mid)
	}

	r := fc.run(t, srv.URL, "campaign", "--resume", "locked")
	wantExit(t, r, 0, "resume once the lock is released")
	wantCounts(t, checkLedger(t, fc.db, "locked", srv.Deliveries()), map[string]int{"sent": fc.n})
	fc.everyoneOnce(t, srv.Deliveries())
	figures(t, fc, "locked", srv.Deliveries(), "write lock held 12 s mid-run: exit 1 with ledger %v; resume exit 0, %d resends deduplicated",
		mid, srv.Stats().Deduplicated)
}
