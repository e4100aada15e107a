package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/megasend/megasend/wechat/wechattest"
)

// Helpers shared by the fault matrix (faults_test.go) and the machine
// failures (machine_test.go). They run the real binary (megasendBinary)
// against a simulator in the test process, whose knobs (hooks, drops,
// stalls) the sandbox's HTTP control endpoints do not all reach.

// orderPaid is the template every scenario sends.
const orderPaid = "testdata/templates/order_paid.json"

// startSim serves the simulator on loopback for one test.
func startSim(t *testing.T, opts wechattest.Options) *wechattest.Server {
	t.Helper()
	srv := wechattest.NewServer(opts)
	t.Cleanup(srv.Close)
	return srv
}

// simEnv is the environment that points megasend at the API at base with
// the simulator's credentials and the ledger at db, and no config file.
func simEnv(base, db string) []string {
	return append(os.Environ(),
		"MEGASEND_API_BASE="+base,
		"MEGASEND_APP_ID="+wechattest.DefaultAppID,
		"MEGASEND_APP_SECRET="+wechattest.DefaultAppSecret,
		"MEGASEND_DB="+db,
		"MEGASEND_CONFIG=",
	)
}

// runResult is how one megasend process ended.
type runResult struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

func (r runResult) String() string {
	return fmt.Sprintf("exit %d after %v\n--- stdout\n%s--- stderr\n%s", r.code, r.took.Round(time.Millisecond), r.stdout, r.stderr)
}

// runMegasend runs the binary to the end (two minutes at most) and returns
// its exit code and output. A process that cannot start fails the test.
func runMegasend(t *testing.T, bin string, env []string, args ...string) runResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	res := runResult{stdout: stdout.String(), stderr: stderr.String(), took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
		res.code = ee.ExitCode()
	default:
		t.Fatalf("megasend %s: %v\n%s", strings.Join(args, " "), err, res)
	}
	return res
}

// campaignArgs is a campaign of users as batch with --concurrency 16 and
// whatever else the scenario adds.
func campaignArgs(users, batch string, extra ...string) []string {
	return append([]string{"campaign", "--template", orderPaid, "--users", users, "--batch", batch,
		"--concurrency", "16"}, extra...)
}

// row is one recipient as the ledger holds it.
type row struct {
	line    int64
	openid  string
	state   string
	errcode sql.NullInt64
	msgid   sql.NullInt64
	kind    string // template, custom or subscribe: the kind the row is sent with
}

// openLedger opens megasend's database read-write with a busy timeout,
// the way another program would. The caller closes it: an open handle
// keeps SQLite's -wal and -shm files in place.
func openLedger(t *testing.T, db string) *sql.DB {
	t.Helper()
	sdb, err := sql.Open("sqlite", "file:"+db+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	return sdb
}

// ledgerRows reads every recipient of the batch as another program would:
// through the recipients_now view, sends in progress included.
func ledgerRows(t *testing.T, db, batch string) []row {
	t.Helper()
	sdb := openLedger(t, db)
	defer sdb.Close()
	rows, err := sdb.Query(`SELECT r.line, r.openid, r.state, r.errcode, r.msgid, r.kind
		FROM recipients_now r JOIN batches b ON b.id = r.batch_id WHERE b.name = ? ORDER BY r.line`, batch)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.line, &r.openid, &r.state, &r.errcode, &r.msgid, &r.kind); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkLedger proves the batch's ledger and WeChat's deliveries agree, and
// returns the ledger's counts by state:
//
//   - no openid was delivered twice, and nothing outside the batch was;
//   - every sent row was delivered once, as the kind the ledger records,
//     with the msgid the ledger records (template messages; the other
//     kinds have none);
//   - no pending or failed row was delivered;
//   - an unknown or inflight row was delivered at most once: its request
//     may have reached WeChat (that is what unknown means, and an inflight
//     row is one a stopped run could not record).
func checkLedger(t *testing.T, db, batch string, deliveries []wechattest.Delivery) map[string]int {
	t.Helper()
	got := map[string][]wechattest.Delivery{}
	for _, d := range deliveries {
		got[d.OpenID] = append(got[d.OpenID], d)
	}
	for id, ds := range got {
		if len(ds) > 1 {
			t.Errorf("%s delivered %d times (client_msg_id %s, %s)", id, len(ds), ds[0].ClientMsgID, ds[1].ClientMsgID)
		}
	}
	counts := map[string]int{}
	inBatch := map[string]bool{}
	for _, r := range ledgerRows(t, db, batch) {
		counts[r.state]++
		inBatch[r.openid] = true
		ds := got[r.openid]
		switch r.state {
		case "sent":
			switch {
			case len(ds) != 1:
				t.Errorf("line %d %s: sent in the ledger, delivered %d times", r.line, r.openid, len(ds))
			case ds[0].Kind != r.kind:
				t.Errorf("line %d %s: sent as %s in the ledger, delivered as %s", r.line, r.openid, r.kind, ds[0].Kind)
			case r.kind != "template" && r.msgid.Valid:
				t.Errorf("line %d %s: a %s message has no msgid, the ledger records %d", r.line, r.openid, r.kind, r.msgid.Int64)
			case r.kind == "template" && (!r.msgid.Valid || r.msgid.Int64 != ds[0].MsgID):
				t.Errorf("line %d %s: ledger msgid %v, WeChat's %d", r.line, r.openid, r.msgid, ds[0].MsgID)
			}
		case "pending", "failed":
			if len(ds) != 0 {
				t.Errorf("line %d %s: %s in the ledger but delivered", r.line, r.openid, r.state)
			}
		}
	}
	for id := range got {
		if !inBatch[id] {
			t.Errorf("%s delivered but not in batch %s", id, batch)
		}
	}
	return counts
}

// wantCounts fails unless the ledger's counts are exactly want (states not
// named must be absent).
func wantCounts(t *testing.T, got map[string]int, want map[string]int) {
	t.Helper()
	for s, n := range want {
		if n == 0 {
			delete(want, s)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("ledger %v, want %v", got, want)
	}
	for s, n := range want {
		if got[s] != n {
			t.Fatalf("ledger %v, want %v", got, want)
		}
	}
}

// integrityCheck runs PRAGMA integrity_check on the database file.
func integrityCheck(t *testing.T, db string) {
	t.Helper()
	var res string
	sdb := openLedger(t, db)
	defer sdb.Close()
	if err := sdb.QueryRow(`PRAGMA integrity_check`).Scan(&res); err != nil {
		t.Fatalf("integrity_check: %v", err)
	}
	if res != "ok" {
		t.Fatalf("integrity_check: %s", res)
	}
}

// cutProxy stands between megasend and the simulator and can make the API
// unreachable: after cut, connections are refused. It closes every
// connection after one request, so no kept-alive connection outlives a cut.
type cutProxy struct {
	URL  string
	ln   net.Listener
	srv  *http.Server
	once sync.Once
}

func startCutProxy(t *testing.T, target string) *cutProxy {
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
	rp.ErrorLog = log.New(io.Discard, "", 0)
	p := &cutProxy{URL: "http://" + ln.Addr().String(), ln: ln, srv: &http.Server{Handler: rp, ErrorLog: log.New(io.Discard, "", 0)}}
	p.srv.SetKeepAlivesEnabled(false)
	go p.srv.Serve(ln)
	t.Cleanup(func() { p.srv.Close() })
	return p
}

// cut refuses every later connection; requests already accepted finish.
func (p *cutProxy) cut() { p.once.Do(func() { p.ln.Close() }) }

// closedURL is an http URL nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// faultCase is one scenario's batch: the binary, a users file, the ledger.
type faultCase struct {
	bin   string
	n     int
	ids   []string
	users string
	db    string
}

func newFaultCase(t *testing.T, seed uint64) *faultCase {
	t.Helper()
	return newFaultCaseN(t, seed, envInt(t, "MEGASEND_FAULT_N", 200))
}

func newFaultCaseN(t *testing.T, seed uint64, n int) *faultCase {
	t.Helper()
	bin := megasendBinary(t)
	t.Parallel()
	dir := t.TempDir()
	users, ids := writeUsers(t, dir, n, seed)
	return &faultCase{bin: bin, n: n, ids: ids, users: users, db: filepath.Join(dir, "megasend.db")}
}

// run runs megasend against the API at base.
func (fc *faultCase) run(t *testing.T, base string, args ...string) runResult {
	t.Helper()
	return runMegasend(t, fc.bin, simEnv(base, fc.db), args...)
}

// wantExit fails unless r exited with code.
func wantExit(t *testing.T, r runResult, code int, what string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("%s: want exit %d; got %s", what, code, r)
	}
}

// wantOutput fails unless the combined output holds every string.
func wantOutput(t *testing.T, r runResult, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(r.stdout+r.stderr, s) {
			t.Errorf("output lacks %q:\n%s", s, r)
		}
	}
}

// everyoneOnce fails unless every recipient was delivered exactly once.
func (fc *faultCase) everyoneOnce(t *testing.T, deliveries []wechattest.Delivery) {
	t.Helper()
	seen := map[string]int{}
	for _, d := range deliveries {
		seen[d.OpenID]++
	}
	for _, id := range fc.ids {
		if seen[id] != 1 {
			t.Fatalf("%s delivered %d times", id, seen[id])
		}
	}
	if len(seen) != fc.n {
		t.Fatalf("%d openids delivered, want %d", len(seen), fc.n)
	}
}

// figures logs the line RELIABILITY.md quotes. A duplicate is a second
// delivery to one openid; a loss is a recipient the ledger calls sent that
// WeChat never delivered, or one delivered that the ledger calls pending or
// failed (checkLedger fails the test on either). A recipient that ends
// failed or unknown is reported, with its errcode, not lost.
func figures(t *testing.T, fc *faultCase, batch string, deliveries []wechattest.Delivery, format string, args ...any) {
	t.Helper()
	seen := map[string]int{}
	dups := 0
	for _, d := range deliveries {
		if seen[d.OpenID]++; seen[d.OpenID] > 1 {
			dups++
		}
	}
	losses := 0
	counts := map[string]int{}
	for _, r := range ledgerRows(t, fc.db, batch) {
		counts[r.state]++
		switch r.state {
		case "sent":
			if seen[r.openid] == 0 {
				losses++
			}
		case "pending", "failed":
			if seen[r.openid] > 0 {
				losses++
			}
		}
	}
	t.Logf("%d recipients, ledger %v, %d delivered, duplicates %d, losses %d; "+format,
		append([]any{fc.n, counts, len(seen), dups, losses}, args...)...)
}
