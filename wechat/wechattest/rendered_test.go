package wechattest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/megasend/megasend/template"
)

// renderedCase is a template of the repository's testdata and the variables
// of one recipient.
type renderedCase struct {
	name string
	file string
	vars map[string]string
	cmid string
}

// renderedCases are bodies as megasend itself sends them, so that the
// decoder's tests and benchmarks see what the simulator really receives:
// compact JSON, raw UTF-8, and the renderer's escapes.
var renderedCases = []renderedCase{
	{name: "OrderPaid", file: "order_paid.json", cmid: "b42-000001", vars: map[string]string{
		"openid": openID1, "order_no": "SO202403010001", "name": "张伟",
		"product": "巧克力", "amount": "39.80", "paid_at": "2024年3月1日 10:15",
	}},
	{name: "OrderPaidEscapes", file: "order_paid.json", cmid: "b42-000002", vars: map[string]string{
		"openid": openID1, "order_no": "SO/2024\"03", "name": `王"小明"`,
		"product": "C:\\驱动 U盘\n第二行\t\x01\x1f 🎉 M&M's <限定版> a/b", "amount": "39.80", "paid_at": "",
	}},
	{name: "OrderPaidDefault", file: "order_paid.json", vars: map[string]string{
		"openid": openID2, "order_no": "SO1", "product": "鼠标", "amount": "1.00", "paid_at": "2024-03-01 12:30",
	}},
	{name: "MiniProgram", file: "audit_pending.json", cmid: "audit-7", vars: map[string]string{
		"openid": openID1, "apply_id": "A17", "applicant": "李娜", "apply_type": "请假", "submitted_at": "2024-03-01 09:00",
	}},
	{name: "Category", file: "shipment_update.json", cmid: "ship-1", vars: map[string]string{
		"openid": openID1, "tracking_no": "SF1234567890", "product": "保温杯 500ml",
		"updated_at": "2024年5月1日 15:01", "amount": "¥39.80",
	}},
	{name: "NoColor", file: "designer_dispatch.json", vars: map[string]string{
		"openid": openID2, "order_no": "D-9", "customer": "O'Brien", "dispatched_at": "2024-03-01 11:02",
	}},
}

// render returns c's body as megasend's renderer produces it.
func (c renderedCase) render(tb testing.TB) []byte {
	tb.Helper()
	path := filepath.Join("..", "..", "testdata", "templates", c.file)
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl, err := template.ParseFile(path, data)
	if err != nil {
		tb.Fatalf("parse %s: %v", path, err)
	}
	body, err := tmpl.Render(nil, func(name string) (string, bool) {
		v, ok := c.vars[name]
		return v, ok
	}, c.cmid)
	if err != nil {
		tb.Fatalf("render %s: %v", path, err)
	}
	return body
}

// renderedBody is the body of the first case, the benchmarks' workload.
func renderedBody(tb testing.TB) []byte {
	tb.Helper()
	return renderedCases[0].render(tb)
}
