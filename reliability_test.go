package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// These tests run the real binary against the real simulator binary (megasend
// sandbox) and try to break megasend's promise: nobody twice, nobody lost.
// Sizes are env-tunable; the defaults fit CI in under a minute:
//
//	MEGASEND_CRASH_TRIALS (20), MEGASEND_CRASH_N (2000)

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	if v := os.Getenv(name); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return n
	}
	return def
}

var buildOnce struct {
	sync.Once
	path string
	err  error
}

// megasendBinary builds the binary once per test run.
func megasendBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "megasend-bin-")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.path = filepath.Join(dir, "megasend")
		out, err := exec.Command("go", "build", "-o", buildOnce.path, ".").CombinedOutput()
		if err != nil {
			buildOnce.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildOnce.err != nil {
		t.Fatal(buildOnce.err)
	}
	return buildOnce.path
}

// sandboxProc is a `megasend sandbox` process with a deliveries log.
type sandboxProc struct {
	url        string
	deliveries string
	cmd        *exec.Cmd
}

func startSandbox(t *testing.T, bin string, args ...string) *sandboxProc {
	t.Helper()
	dir := t.TempDir()
	sp := &sandboxProc{deliveries: filepath.Join(dir, "deliveries.jsonl")}
	sp.cmd = exec.Command(bin, append([]string{"sandbox", "--addr", "127.0.0.1:0", "--deliveries", sp.deliveries}, args...)...)
	stdout, err := sp.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	sp.cmd.Stderr = io.Discard
	if err := sp.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sp.cmd.Process.Signal(os.Interrupt)
		sp.cmd.Wait()
	})
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "url: "); ok {
			sp.url = u
			break
		}
	}
	if sp.url == "" {
		t.Fatal("sandbox printed no url")
	}
	go func() {
		for sc.Scan() {
		}
	}()
	return sp
}

// delivered counts the sandbox's deliveries per openid.
func (sp *sandboxProc) delivered(t *testing.T) map[string]int {
	t.Helper()
	data, err := os.ReadFile(sp.deliveries)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	m := map[string]int{}
	for _, line := range bytes.Split(data, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var d struct {
			OpenID string `json:"openid"`
		}
		if err := json.Unmarshal(line, &d); err != nil {
			t.Fatalf("deliveries line %q: %v", line, err)
		}
		m[d.OpenID]++
	}
	return m
}

// writeUsers writes n recipients for testdata/templates/order_paid.json.
func writeUsers(t *testing.T, dir string, n int, seed uint64) (string, []string) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
	var b strings.Builder
	b.WriteString("openid,name,product,amount,paid_at,order_no\n")
	ids := make([]string, n)
	for i := range n {
		id := []byte("o")
		for range 27 {
			id = append(id, alphabet[r.IntN(len(alphabet))])
		}
		ids[i] = string(id)
		fmt.Fprintf(&b, "%s,用户%d,\"商品 \"\"%d\"\"\",%d.00,2024年3月1日 10:15,SO%06d\n", id, i, i, i, i)
	}
	path := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, ids
}

func campaignEnv(sp *sandboxProc, db string) []string {
	return append(os.Environ(),
		"MEGASEND_API_BASE="+sp.url,
		"MEGASEND_APP_ID=wx5a4d3b2c1e0f9a8b",
		"MEGASEND_APP_SECRET=sandbox-secret-not-for-production",
		"MEGASEND_DB="+db,
		"MEGASEND_CONFIG=",
	)
}

// ledgerCounts reads the batch's state counts straight from the database
// (the recipients_now view, sends in progress included).
func ledgerCounts(t *testing.T, db, batch string) map[string]int {
	t.Helper()
	sdb, err := sql.Open("sqlite", "file:"+db+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	rows, err := sdb.Query(`SELECT state, COUNT(*) FROM recipients_now r JOIN batches b ON b.id = r.batch_id
		WHERE b.name = ? GROUP BY state`, batch)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		m[s] = n
	}
	return m
}

// TestCrashLoop kills the sender with SIGKILL at random moments (import
// included) and runs the same command again until it finishes. Every
// recipient must be delivered exactly once, and the ledger must agree with
// the deliveries.
func TestCrashLoop(t *testing.T) {
	bin := megasendBinary(t)
	trials := envInt(t, "MEGASEND_CRASH_TRIALS", 20)
	n := envInt(t, "MEGASEND_CRASH_N", 2000)
	kills := 0
	for trial := range trials {
		dir := t.TempDir()
		sp := startSandbox(t, bin, "--latency", "1ms-6ms")
		users, ids := writeUsers(t, dir, n, uint64(trial))
		db := filepath.Join(dir, "megasend.db")
		r := rand.New(rand.NewPCG(uint64(trial), 2))
		for run := 0; ; run++ {
			if run > 200 {
				t.Fatalf("trial %d: not finished after %d runs", trial, run)
			}
			cmd := exec.Command(bin, "-q", "campaign", "--template", "testdata/templates/order_paid.json",
				"--users", users, "--batch", "crash", "--concurrency", "16")
			cmd.Env = campaignEnv(sp, db)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("trial %d run %d: %v\n%s", trial, run, err, stderr.String())
				}
			case <-time.After(time.Duration(20+r.IntN(400)) * time.Millisecond):
				cmd.Process.Signal(syscall.SIGKILL)
				<-done
				kills++
				continue
			}
			break
		}
		got := sp.delivered(t)
		for _, id := range ids {
			if got[id] != 1 {
				t.Fatalf("trial %d: %s delivered %d times", trial, id, got[id])
			}
		}
		if len(got) != n {
			t.Fatalf("trial %d: %d openids delivered, want %d", trial, len(got), n)
		}
		if c := ledgerCounts(t, db, "crash"); c["sent"] != n || len(c) != 1 {
			t.Fatalf("trial %d: ledger %v, want %d sent and nothing else", trial, c, n)
		}
	}
	t.Logf("%d trials × %d recipients, %d SIGKILLs: duplicates 0, losses 0", trials, n, kills)
}

// TestCrashAfterDedupWindow resumes after WeChat's dedup window has passed:
// rows left inflight become unknown and are not resent without
// --retry-unknown; nothing is lost or sent twice.
func TestCrashAfterDedupWindow(t *testing.T) {
	bin := megasendBinary(t)
	const n = 1000
	dir := t.TempDir()
	sp := startSandbox(t, bin, "--latency", "200ms", "--dedup-window", "2s")
	users, ids := writeUsers(t, dir, n, 99)
	db := filepath.Join(dir, "megasend.db")
	args := []string{"campaign", "--template", "testdata/templates/order_paid.json", "--users", users,
		"--batch", "late", "--concurrency", "32", "--dedup-window", "2s"}
	run := func(extra ...string) (*exec.Cmd, *bytes.Buffer) {
		cmd := exec.Command(bin, append(args, extra...)...)
		cmd.Env = campaignEnv(sp, db)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		return cmd, &out
	}
	cmd, _ := run()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // import, preflight, then a few waves of 32 in flight
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	inflight := ledgerCounts(t, db, "late")["inflight"]
	if inflight == 0 {
		t.Fatal("no row was in flight at the kill; the test proves nothing")
	}
	time.Sleep(2500 * time.Millisecond) // past the window

	cmd, out := run()
	err := cmd.Run()
	if code := cmd.ProcessState.ExitCode(); code != 3 {
		t.Fatalf("resume after the window: exit %d (%v), want 3 (unknown recipients)\n%s", code, err, out)
	}
	c := ledgerCounts(t, db, "late")
	if c["unknown"] != inflight || c["sent"]+c["unknown"] != n {
		t.Fatalf("ledger %v; want %d unknown (the rows in flight at the kill) and the rest sent", c, inflight)
	}
	got := sp.delivered(t)
	for _, id := range ids {
		if got[id] > 1 {
			t.Fatalf("%s delivered %d times", id, got[id])
		}
	}
	if !strings.Contains(out.String(), "unknown") {
		t.Errorf("summary does not report the unknown recipients:\n%s", out)
	}
	t.Logf("%d in flight at the kill became unknown; %d delivered, none twice", inflight, len(got))
}

// TestTwoProcessesOneBatch starts two senders of the same batch at the same
// instant, on a fresh database: one sends, the other refuses and says who
// holds the batch.
func TestTwoProcessesOneBatch(t *testing.T) {
	bin := megasendBinary(t)
	const n = 600
	dir := t.TempDir()
	sp := startSandbox(t, bin, "--latency", "20ms")
	users, ids := writeUsers(t, dir, n, 7)
	db := filepath.Join(dir, "megasend.db")
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	type result struct {
		code int
		out  string
	}
	// Both start at the same instant, on a database neither has created:
	// they race for the migrations, the batch's creation and its lock.
	results := make(chan result, 2)
	start := make(chan struct{})
	for range 2 {
		go func() {
			cmd := exec.CommandContext(ctx, bin, "campaign", "--template", "testdata/templates/order_paid.json",
				"--users", users, "--batch", "shared", "--concurrency", "4")
			cmd.Env = campaignEnv(sp, db)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			<-start
			err := cmd.Run()
			code := -1
			if cmd.ProcessState != nil {
				code = cmd.ProcessState.ExitCode()
			} else if err != nil {
				out.WriteString(err.Error())
			}
			results <- result{code, out.String()}
		}()
	}
	close(start)
	a, b := <-results, <-results
	if a.code != 0 {
		a, b = b, a
	}
	if a.code != 0 || b.code != 1 || !strings.Contains(b.out, "is being sent by pid") {
		t.Fatalf("want one exit 0 and one refusal (exit 1, 'is being sent by pid'); got %d and %d:\n%s\n---\n%s", a.code, b.code, a.out, b.out)
	}
	got := sp.delivered(t)
	for _, id := range ids {
		if got[id] != 1 {
			t.Fatalf("%s delivered %d times", id, got[id])
		}
	}
}
