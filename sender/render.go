package sender

import (
	"encoding/json"
	"fmt"

	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/template"
)

// TemplateRenderer renders recipients with one template: the ledger keeps
// each recipient's variables as a JSON object, and the openid, and the
// client_msg_id that makes a resend recognisable.
type TemplateRenderer struct {
	T *template.Template
}

// Render implements Renderer.
func (tr TemplateRenderer) Render(dst []byte, r *store.Recipient) ([]byte, error) {
	vars := map[string]string{}
	if len(r.Vars) > 0 {
		if err := json.Unmarshal(r.Vars, &vars); err != nil {
			return nil, fmt.Errorf("line %d: stored variables: %w", r.Line, err)
		}
	}
	lookup := func(name string) (string, bool) {
		if name == "openid" {
			return r.OpenID, true
		}
		v, ok := vars[name]
		return v, ok
	}
	return tr.T.Render(dst, lookup, r.ClientMsgID)
}
