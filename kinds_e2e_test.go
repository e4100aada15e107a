package main

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/megasend/megasend/wechat"
)

// The template files of each kind the kind tests send. Their variables are
// writeUsers' columns.
const (
	subscribeFile = `{
  "key": "order_sub",
  "title": "订单状态",
  "kind": "subscribe",
  "body": {
    "touser": "${openid}",
    "template_id": "SUBSCRIBE-ORDER-1",
    "page": "https://shop.example.com/o/${order_no}",
    "data": {
      "character_string1": {"value": "${order_no}"},
      "amount2": {"value": "${amount}"}
    }
  }
}
`
	customFile = `{
  "key": "order_text",
  "kind": "custom",
  "body": {"touser": "${openid}", "msgtype": "text", "text": {"content": "${name}，您的订单 ${order_no} 已支付 ${amount} 元"}}
}
`
)

// writeFile writes data to name in dir and returns its path.
func writeFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestKindSubscribe sends a subscribe notification to recipients of whom
// the sandbox counts half subscribed: the others are refused with 43101,
// which fails them alone, and the report says what 43101 means from
// subscribe/bizsend. Every sent row was delivered once, as a subscribe
// notification, without a msgid.
func TestKindSubscribe(t *testing.T) {
	bin := megasendBinary(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "megasend.db")
	users, _ := writeUsers(t, dir, 200, 18)
	tmpl := writeFile(t, dir, "order_sub.json", subscribeFile)
	sp := startSandbox(t, bin, "--subscribed", "50%", "--template-ids", "SUBSCRIBE-ORDER-1", "--latency", "0ms-1ms")
	env := campaignEnv(sp, db)

	r := runMegasend(t, bin, env, "-q", "campaign", "--template", tmpl, "--users", users, "--batch", "sub", "--concurrency", "8")
	if r.code != 3 {
		t.Fatalf("campaign: want exit 3 (some refused)\n%s", r)
	}
	counts := checkLedger(t, db, "sub", sp.deliveryList(t))
	if counts["sent"] == 0 || counts["failed"] == 0 || counts["sent"]+counts["failed"] != 200 {
		t.Fatalf("ledger %v; want 200 sent or failed, some of each", counts)
	}
	for _, row := range ledgerRows(t, db, "sub") {
		if row.kind != "subscribe" || row.state == "failed" && row.errcode.Int64 != 43101 {
			t.Fatalf("line %d: %s %s errcode %v; want subscribe, failed only with 43101", row.line, row.kind, row.state, row.errcode)
		}
	}
	rep := runMegasend(t, bin, env, "report", "sub")
	meaning, _ := wechat.DescribeKind(wechat.KindSubscribe, 43101)
	if !strings.Contains(rep.stdout, "43101") || !strings.Contains(rep.stdout, meaning) {
		t.Errorf("report: want 43101 with %q\n%s", meaning, rep)
	}
}

// TestKindCustom sends a customer-service message to recipients all inside
// the 48-hour window: each is delivered once, as a custom message.
func TestKindCustom(t *testing.T) {
	bin := megasendBinary(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "megasend.db")
	users, _ := writeUsers(t, dir, 100, 19)
	tmpl := writeFile(t, dir, "order_text.json", customFile)
	sp := startSandbox(t, bin, "--interacted", "100%", "--latency", "0ms-1ms")
	env := campaignEnv(sp, db)

	// Stored with its kind, and sent by key.
	if r := runMegasend(t, bin, env, "template", "import", tmpl); r.code != 0 || !strings.Contains(r.stdout, "order_text") {
		t.Fatalf("template import\n%s", r)
	}
	if r := runMegasend(t, bin, env, "template", "list"); !strings.Contains(r.stdout, "custom") {
		t.Errorf("template list does not show the kind\n%s", r)
	}
	r := runMegasend(t, bin, env, "-q", "campaign", "--template", "order_text", "--users", users, "--batch", "text", "--concurrency", "8")
	if r.code != 0 {
		t.Fatalf("campaign: want exit 0\n%s", r)
	}
	deliveries := sp.deliveryList(t)
	wantCounts(t, checkLedger(t, db, "text", deliveries), map[string]int{"sent": 100})
	for _, d := range deliveries {
		if d.Kind != "custom" || d.MsgType != "text" || !strings.Contains(string(d.Data), "已支付") {
			t.Fatalf("delivery %+v; want a custom text message", d)
		}
	}
}

// TestKindMismatch: a body that is not its kind's, or a kind megasend does
// not know, is refused with exit 2 and nothing is sent.
func TestKindMismatch(t *testing.T) {
	bin := megasendBinary(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "megasend.db")
	users, _ := writeUsers(t, dir, 10, 20)
	sp := startSandbox(t, bin, "--interacted", "100%", "--subscribed", "100%", "--template-ids", "any")
	env := campaignEnv(sp, db)
	orderPaidBody, err := os.ReadFile(orderPaid)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, file, want string
	}{
		{"TemplateBodyAsCustom", `{"kind":"custom","body":` + string(orderPaidBody) + `}`, "msgtype: missing"},
		{"SubscribeWithURL", strings.Replace(subscribeFile, `"page"`, `"url"`, 1), "url: a subscribe notification has no url"},
		{"UnknownKind", strings.Replace(customFile, `"custom"`, `"sms"`, 1), `unknown template kind "sms"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := writeFile(t, dir, tt.name+".json", tt.file)
			r := runMegasend(t, bin, env, "campaign", "--template", tmpl, "--users", users, "--batch", tt.name, "--yes")
			if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("campaign: want exit 2 and %q\n%s", tt.want, r)
			}
		})
	}
	if r := runMegasend(t, bin, env, "template", "add", "k", "--kind", "sms", "--file", orderPaid); r.code != 2 || !strings.Contains(r.stderr, `unknown template kind "sms"`) {
		t.Errorf("template add --kind sms: want exit 2\n%s", r)
	}
	if r := runMegasend(t, bin, env, "template", "add", "k", "--kind", "subscribe", "--file", writeFile(t, dir, "c.json", customFile)); r.code != 2 || !strings.Contains(r.stderr, "--kind subscribe, but") {
		t.Errorf("template add --kind against the file's kind: want exit 2\n%s", r)
	}
	if got := sp.deliveryList(t); len(got) != 0 {
		t.Errorf("%d delivered; want none", len(got))
	}
}

// TestKindFallback sends a customer-service message with --fallback to
// recipients of whom half are inside the 48-hour window, killing megasend
// (SIGKILL) mid-run and resuming: every recipient is reached once, those
// inside the window by the customer-service message and the rest by the
// template message, and the report counts each kind. A customer-service
// message the kill left without an answer is unknown, never resent
// (WeChat does not deduplicate them); checkLedger allows it at most once.
func TestKindFallback(t *testing.T) {
	bin := megasendBinary(t)
	const n = 1500
	dir := t.TempDir()
	db := filepath.Join(dir, "megasend.db")
	users, _ := writeUsers(t, dir, n, 21)
	tmpl := writeFile(t, dir, "order_text.json", customFile)
	sp := startSandbox(t, bin, "--interacted", "50%", "--latency", "0ms-2ms")
	env := campaignEnv(sp, db)

	cmd := exec.Command(bin, "-q", "campaign", "--template", tmpl, "--fallback", orderPaid, "--users", users,
		"--batch", "fb", "--concurrency", "8", "--rate", "1500")
	cmd.Env = env
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	killed := false
	for !killed {
		select {
		case <-done:
			t.Log("the run finished before the kill")
			killed = true
			continue
		default:
		}
		if sentSoFar(db, "fb") >= n/3 {
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			killed = true
		}
		time.Sleep(2 * time.Millisecond)
	}
	r := runMegasend(t, bin, env, "-q", "campaign", "--resume", "fb", "--concurrency", "8")
	if r.code != 0 && r.code != 3 {
		t.Fatalf("resume: want exit 0, or 3 for outcomes the kill left unknown\n%s", r)
	}
	deliveries := sp.deliveryList(t)
	counts := checkLedger(t, db, "fb", deliveries)
	if counts["sent"]+counts["unknown"] != n || counts["failed"] != 0 || counts["unknown"] > 8 {
		t.Fatalf("ledger %v; want %d sent or (at most 8, one per worker) unknown", counts, n)
	}
	t.Logf("after the kill and the resume (exit %d): ledger %v", r.code, counts)
	byKind := map[string]int{}
	for _, row := range ledgerRows(t, db, "fb") {
		if row.state == "sent" {
			byKind[row.kind]++
		}
	}
	delivered := map[string]int{}
	for _, d := range deliveries {
		delivered[d.Kind]++
	}
	if byKind["custom"] == 0 || byKind["template"] == 0 || delivered["custom"] < byKind["custom"] || delivered["template"] != byKind["template"] {
		t.Errorf("sent by kind %v, delivered by kind %v", byKind, delivered)
	}
	rep := runMegasend(t, bin, env, "report", "fb")
	want := fmt.Sprintf("(custom %d, template %d)", byKind["custom"], byKind["template"])
	if !strings.Contains(rep.stdout, want) {
		t.Errorf("report: want %q\n%s", want, rep)
	}
	csv := runMegasend(t, bin, env, "report", "fb", "--format", "csv")
	if !strings.HasPrefix(csv.stdout, "line,openid,state,attempts,errcode,errmsg,msgid,kind,") || !strings.Contains(csv.stdout, ",custom,") {
		t.Errorf("report --format csv: want the kind of each row\n%.400s", csv.stdout)
	}
}

// TestKindFallbackMismatch: --fallback with a template message, or a
// fallback that is not a template message, is exit 2 naming both, and
// nothing is sent.
func TestKindFallbackMismatch(t *testing.T) {
	bin := megasendBinary(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "megasend.db")
	users, _ := writeUsers(t, dir, 10, 22)
	custom := writeFile(t, dir, "order_text.json", customFile)
	sp := startSandbox(t, bin, "--interacted", "0%")
	env := campaignEnv(sp, db)
	tests := []struct {
		name, tmpl, fallback, want string
	}{
		{"TemplateMessage", orderPaid, orderPaid, "only a customer-service message (kind custom) has a fallback"},
		{"CustomFallback", custom, custom, "is of kind custom; the fallback of template " + custom + " (custom) must be a template message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runMegasend(t, bin, env, "campaign", "--template", tt.tmpl, "--fallback", tt.fallback, "--users", users, "--batch", tt.name)
			if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("campaign: want exit 2 and %q\n%s", tt.want, r)
			}
		})
	}
	if got := sp.deliveryList(t); len(got) != 0 {
		t.Errorf("%d delivered; want none", len(got))
	}
}

// sentSoFar is how many of the batch's recipients the ledger holds sent;
// 0 while there is no ledger or batch yet.
func sentSoFar(db, batch string) int {
	sdb, err := sql.Open("sqlite", "file:"+db+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return 0
	}
	defer sdb.Close()
	var n int
	sdb.QueryRow(`SELECT COUNT(*) FROM sends s JOIN batches b ON b.id = s.batch_id WHERE b.name = ? AND s.state = 'sent'`, batch).Scan(&n)
	return n
}
