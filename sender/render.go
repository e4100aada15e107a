package sender

import (
	"fmt"

	"github.com/megasend/megasend/recipient"
	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/template"
)

// TemplateRenderer renders recipients with one template: the ledger keeps
// each recipient's variables (recipient.AppendVarsJSON), its openid, and
// the client_msg_id that makes a resend recognisable.
type TemplateRenderer struct {
	T *template.Template
}

// Render implements Renderer. A recipient without a client_msg_id is
// refused: sent without one, a resend after an ambiguous answer could
// deliver twice.
func (tr TemplateRenderer) Render(dst []byte, r *store.Recipient) ([]byte, error) {
	if r.ClientMsgID == "" {
		return nil, fmt.Errorf("line %d: no client_msg_id", r.Line)
	}
	var buf [16]recipient.Var
	vars, err := recipient.ParseVarsJSON(r.Vars, buf[:0])
	if err != nil {
		return nil, fmt.Errorf("line %d: stored %w", r.Line, err)
	}
	row := recipient.Row{OpenID: r.OpenID, Vars: vars}
	return tr.T.Render(dst, row.Lookup, r.ClientMsgID)
}
