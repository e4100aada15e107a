package campaign

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/megasend/megasend/recipient"
	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/template"
)

// MessageSpec is a single message to send: POST /v1/messages.
type MessageSpec struct {
	Account  string
	Template string // a stored template's key
	OpenID   string
	Vars     map[string]string
	// IdempotencyKey, if set, makes the request safe to repeat: the same
	// key with the same request is the same message, sent once; with
	// another request it is a Conflict.
	IdempotencyKey string
	// SendAt holds the message until then; zero (or a time past) sends it
	// now.
	SendAt time.Time
	// OpenIDs is how plausible the openid must look (the account's check).
	OpenIDs recipient.OpenIDCheck
}

// maxIdempotencyKey bounds a key's length: it is stored with every message.
const maxIdempotencyKey = 255

// Message is a single message as the service reports it: its state now,
// and with Trace, every step it took.
type Message struct {
	ID             int64      `json:"id"`
	Account        string     `json:"account"`
	State          string     `json:"state"`
	Template       string     `json:"template"`
	OpenID         string     `json:"openid"`
	IdempotencyKey string     `json:"idempotency_key,omitempty"`
	SendAt         *time.Time `json:"send_at,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	Attempts       int        `json:"attempts"`
	Errcode        int64      `json:"errcode,omitempty"`
	Errmsg         string     `json:"errmsg,omitempty"`
	MsgID          int64      `json:"msgid,omitempty"`
	DoneAt         *time.Time `json:"done_at,omitempty"`
	// Receipt is WeChat's delivery receipt for a sent message, once it
	// arrived (Trace only).
	Receipt *MessageReceipt `json:"receipt,omitempty"`
	// Events are the states it took, oldest first (Trace only).
	Events []MessageEvent `json:"events,omitempty"`
}

// MessageReceipt is the delivery receipt of a sent message.
type MessageReceipt struct {
	Status     string     `json:"status"` // success, user_block, system_failed
	EventTime  *time.Time `json:"event_time,omitempty"`
	ReceivedAt time.Time  `json:"received_at"`
}

// MessageEvent is one step of a message's trace.
type MessageEvent struct {
	At      time.Time `json:"at"`
	State   string    `json:"state"`
	Attempt int       `json:"attempt,omitempty"`
	Errcode int64     `json:"errcode,omitempty"`
	Detail  string    `json:"detail,omitempty"`
}

// Accept checks a single message and stores it for the account's runner:
// when it returns, the message is durable (a crash right after loses
// nothing). replayed reports a request whose idempotency key was seen with
// the same request: the message returned is that one, and nothing new is
// sent. Errors: Invalid (unknown template, a template lint refuses, a bad
// openid, a missing variable or a value WeChat would refuse, with the
// field named), Conflict (the idempotency key was used for another
// request). A refused message records nothing.
func (s *Service) Accept(ctx context.Context, spec MessageSpec) (m Message, replayed bool, err error) {
	t, err := s.messageTemplate(ctx, spec.Template)
	if err != nil {
		return Message{}, false, err
	}
	vars, err := checkMessage(t, spec)
	if err != nil {
		return Message{}, false, err
	}
	snap := s.templates.snapshot(t)
	nm := store.NewMessage{
		Account: spec.Account, IdemKey: spec.IdempotencyKey,
		TemplateKey: spec.Template, TemplateHash: snap.hash, TemplateBody: snap.body, TemplateKind: snap.kind,
		OpenID: spec.OpenID, Vars: string(recipient.AppendVarsJSON(nil, vars)),
		ClientMsgID: newClientMsgID(), SendAt: spec.SendAt,
	}
	nm.RequestHash = requestHash(nm)
	res, err := s.commits.accept(ctx, nm)
	if err != nil {
		return Message{}, false, err
	}
	if res.Conflict {
		return Message{}, false, &Error{Code: Conflict, Field: "idempotency_key",
			Msg: fmt.Sprintf("idempotency key %q was used for another message (id %d): a key names one request", spec.IdempotencyKey, res.Message.ID)}
	}
	if !res.Replayed {
		s.wakeMessages(spec.Account)
	}
	return messageOf(res.Message), res.Replayed, nil
}

// Trace returns account's message id with its whole trace: every state
// it took, and WeChat's delivery receipt once it arrived. Another
// account's message is NotFound.
func (s *Service) Trace(ctx context.Context, account string, id int64) (Message, error) {
	sm, err := s.db.Message(ctx, account, id)
	if errors.Is(err, store.ErrNotFound) {
		return Message{}, &Error{Code: NotFound, Field: "id", Msg: fmt.Sprintf("no message %d", id), Err: err}
	}
	if err != nil {
		return Message{}, err
	}
	m := messageOf(sm)
	evs, err := s.db.MessageEvents(ctx, id)
	if err != nil {
		return Message{}, err
	}
	accepted := MessageEvent{At: sm.CreatedAt.UTC(), State: store.StatePending, Detail: "accepted"}
	if sm.SendAt.After(sm.CreatedAt) {
		accepted.State, accepted.Detail = store.StateScheduled, "accepted; held until "+sm.SendAt.UTC().Format(time.RFC3339)
	}
	m.Events = append(m.Events, accepted)
	for _, e := range evs {
		m.Events = append(m.Events, MessageEvent{At: e.At.UTC(), State: e.State, Attempt: e.Attempt, Errcode: e.Errcode, Detail: e.Detail})
	}
	if sm.MsgID != 0 {
		rc, err := s.db.Receipt(ctx, account, sm.MsgID)
		switch {
		case err == nil:
			m.Receipt = &MessageReceipt{Status: rc.Status, EventTime: timePtr(rc.EventTime), ReceivedAt: rc.ReceivedAt}
		case !errors.Is(err, store.ErrNotFound):
			return Message{}, err
		}
	}
	return m, nil
}

// messageTemplate returns the stored template key, checked as a batch's
// is. A service accepting many messages of one template reads its row at
// most once a second (templateRowTrust) and parses and lints each body
// once.
func (s *Service) messageTemplate(ctx context.Context, key string) (*template.Template, error) {
	if key == "" {
		return nil, &Error{Code: Invalid, Field: "template", Msg: "a message needs a template: the key of a stored template"}
	}
	st, err := s.templates.row(key, func() (store.Template, error) { return s.db.Template(ctx, key) })
	if errors.Is(err, store.ErrNotFound) {
		return nil, &Error{Code: Invalid, Field: "template", Msg: fmt.Sprintf("no template %q; store it first with 'megasend template add'", key), Err: err}
	}
	if err != nil {
		return nil, err
	}
	// Cached by key and kind: a template stored again as another kind with
	// the same body is another template.
	return s.templates.get(st.Key+"\x00"+string(st.Kind), st.Body, func() (*template.Template, error) {
		t, err := parseStored(st)
		if err != nil {
			return nil, &Error{Code: Invalid, Field: "template", Msg: fmt.Sprintf("template %s: %v", key, err), Err: err}
		}
		if _, err := CheckTemplate(t); err != nil {
			return nil, err
		}
		return t, nil
	})
}

// checkMessage checks spec against t as an import checks a row: a
// plausible openid, every variable the template needs, no value WeChat
// would refuse. It returns the variables in a stable order.
func checkMessage(t *template.Template, spec MessageSpec) ([]recipient.Var, error) {
	if err := spec.OpenIDs.Check(spec.OpenID); err != nil {
		return nil, &Error{Code: Invalid, Field: "openid", Msg: fmt.Sprintf("openid: %v", err), Err: err}
	}
	if len(spec.IdempotencyKey) > maxIdempotencyKey {
		return nil, &Error{Code: Invalid, Field: "idempotency_key", Msg: fmt.Sprintf("idempotency_key: %d bytes, at most %d", len(spec.IdempotencyKey), maxIdempotencyKey)}
	}
	vars := make([]recipient.Var, 0, len(spec.Vars))
	for name, v := range spec.Vars {
		if name == "openid" {
			return nil, &Error{Code: Invalid, Field: "vars.openid", Msg: "vars.openid: the openid is the message's own field, not a variable"}
		}
		if strings.IndexByte(v, 0) >= 0 {
			return nil, &Error{Code: Invalid, Field: "vars." + name, Msg: fmt.Sprintf("vars.%s: a NUL byte", name)}
		}
		vars = append(vars, recipient.Var{Name: name, Value: v})
	}
	slices.SortFunc(vars, func(a, b recipient.Var) int { return strings.Compare(a.Name, b.Name) })
	row := recipient.Row{OpenID: spec.OpenID, Vars: vars}
	for _, name := range t.Required() {
		switch v, ok := row.Lookup(name); {
		case !ok:
			return nil, &Error{Code: Invalid, Field: "vars." + name, Msg: fmt.Sprintf("vars.%s: template %s needs it", name, spec.Template)}
		case v == "":
			return nil, &Error{Code: Invalid, Field: "vars." + name,
				Msg: fmt.Sprintf("vars.%s: empty, and template %s needs it (a template can allow it: ${%s:-default})", name, spec.Template, name)}
		}
	}
	for _, p := range t.LintValues(row.Lookup) {
		if p.Severity == template.Error {
			return nil, &Error{Code: Invalid, Field: p.Path, Msg: fmt.Sprintf("%s: %s", p.Path, p.Msg)}
		}
	}
	// Rendered only to be checked: into a buffer on the stack, which a
	// message of usual size fits, not a new one on the heap each accept.
	var scratch [1024]byte
	if _, err := t.Render(scratch[:0], row.Lookup, ""); err != nil {
		return nil, &Error{Code: Invalid, Field: "vars", Msg: err.Error(), Err: err}
	}
	return vars, nil
}

// requestHash identifies what a message asks for, so that a repeated
// idempotency key can be told from a reused one. The template's key is in
// it, not its body: a retry after the template changed asks for the same.
func requestHash(m store.NewMessage) string {
	h := sha256.New()
	var at [8]byte
	binary.BigEndian.PutUint64(at[:], uint64(unixMilli(m.SendAt)))
	for _, s := range []string{m.TemplateKey, m.OpenID, m.Vars} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	h.Write(at[:])
	return hex.EncodeToString(h.Sum(nil))
}

// newClientMsgID returns a message's client_msg_id: random, so that no two
// messages of any database share one inside WeChat's dedup window, and
// fixed at accept, so that every attempt carries it.
func newClientMsgID() string {
	var b [10]byte
	rand.Read(b[:])
	return "mm-" + hex.EncodeToString(b[:])
}

func messageOf(sm store.Message) Message {
	return Message{
		ID: sm.ID, Account: sm.Account, State: sm.State, Template: sm.TemplateKey, OpenID: sm.OpenID,
		IdempotencyKey: sm.IdemKey, SendAt: timePtr(sm.SendAt), CreatedAt: sm.CreatedAt, Attempts: sm.Attempts,
		Errcode: sm.Errcode, Errmsg: sm.Errmsg, MsgID: sm.MsgID, DoneAt: timePtr(sm.DoneAt),
	}
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func unixMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
