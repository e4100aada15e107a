package sender_test

import (
	"testing"

	"github.com/megasend/megasend/recipient"
	"github.com/megasend/megasend/sender"
	"github.com/megasend/megasend/store"
)

// BenchmarkTemplateRenderer_Render measures the engine's render step per
// message: decode the variables the ledger stored, then render the body
// into a reused buffer. template's BenchmarkTemplate_Render measures the
// second half alone. One op is one message.
func BenchmarkTemplateRenderer_Render(b *testing.B) {
	tr := sender.TemplateRenderer{T: loadTemplate(b)}
	r := &store.Recipient{Line: 12347, OpenID: "o000000000000000000000012345", ClientMsgID: "ms-0123456789ab-12347",
		Vars: string(recipient.AppendVarsJSON(nil, []recipient.Var{
			{Name: "name", Value: "用户12345"}, {Name: "product", Value: "商品12345"}, {Name: "amount", Value: "12345.00"},
			{Name: "paid_at", Value: "2024年3月1日 10:15"}, {Name: "order_no", Value: "SO12345"},
		}))}
	dst := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if dst, err = tr.Render(dst[:0], r); err != nil {
			b.Fatal(err)
		}
	}
}
