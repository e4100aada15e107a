package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

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
