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
	// Fallback, if set, renders the recipients moved to the batch's
	// fallback (a store.Recipient with a Kind), with the row's variables
	// and a client_msg_id of their own (FallbackMsgID).
	Fallback *template.Template
}

// FallbackMsgID is the client_msg_id of a recipient's fallback message,
// derived from its own (store.ClientMsgID), and never equal to one.
func FallbackMsgID(clientMsgID string) string { return clientMsgID + "-fb" }

// Render implements Renderer. A recipient without a client_msg_id is
// refused: sent without one, a resend after an ambiguous answer could
// deliver twice. Only template messages carry it: the other kinds'
// endpoints know no client_msg_id.
func (tr TemplateRenderer) Render(dst []byte, r *store.Recipient) ([]byte, error) {
	if r.ClientMsgID == "" {
		return nil, fmt.Errorf("line %d: no client_msg_id", r.Line)
	}
	t, cmid := tr.T, r.ClientMsgID
	if r.Kind != "" && tr.Fallback != nil {
		t, cmid = tr.Fallback, FallbackMsgID(cmid)
	}
	var buf [16]recipient.Var
	vars, err := recipient.ParseVarsJSON(r.Vars, buf[:0])
	if err != nil {
		return nil, fmt.Errorf("line %d: stored %w", r.Line, err)
	}
	row := recipient.Row{OpenID: r.OpenID, Vars: vars}
	return t.Render(dst, row.Lookup, t.MsgID(cmid))
}
