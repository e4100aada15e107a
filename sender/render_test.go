package sender_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/megasend/megasend/recipient"
	"github.com/megasend/megasend/sender"
	"github.com/megasend/megasend/store"
)

// The renderer puts the recipient's client_msg_id into the body, and
// refuses a recipient without one: sent without it, a resend after an
// ambiguous answer could deliver twice.
func TestTemplateRenderer_ClientMsgID(t *testing.T) {
	tr := sender.TemplateRenderer{T: loadTemplate(t)}
	vars := string(recipient.AppendVarsJSON(nil, []recipient.Var{
		{Name: "name", Value: "张伟"}, {Name: "product", Value: "巧克力"}, {Name: "amount", Value: "39.80"},
		{Name: "paid_at", Value: "2024年3月1日 10:15"}, {Name: "order_no", Value: "SO1"},
	}))
	body, err := tr.Render(nil, &store.Recipient{Line: 2, OpenID: "ovIC7uccmSMFeuYJj2PjM7KkdBnY", ClientMsgID: "ms-0123456789ab-2", Vars: vars})
	if err != nil || !bytes.Contains(body, []byte(`"client_msg_id":"ms-0123456789ab-2"`)) {
		t.Errorf("Render = %s, %v; want the client_msg_id in the body", body, err)
	}
	_, err = tr.Render(nil, &store.Recipient{Line: 3, OpenID: "ovIC7uccmSMFeuYJj2PjM7KkdBnY", Vars: vars})
	if err == nil || !strings.Contains(err.Error(), "line 3: no client_msg_id") {
		t.Errorf("Render without client_msg_id = %v, want a refusal", err)
	}
}
