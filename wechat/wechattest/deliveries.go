package wechattest

import (
	"bytes"
	"encoding/json"
	"slices"
	"time"
)

// The kinds of message the simulator delivers, as Delivery.Kind and
// SendRequest.Kind name them.
const (
	KindTemplate  = "template"  // message/template/send
	KindCustom    = "custom"    // message/custom/send, customer-service messages
	KindSubscribe = "subscribe" // message/subscribe/bizsend, subscribe notifications
)

// Delivery is one message WeChat accepted and would show the user: every
// accepted send of any kind that was not a duplicate, including those whose answer a
// fault dropped or held. Its JSON encoding is the line written to
// Options.Deliveries and served by GET /sandbox/deliveries.
type Delivery struct {
	// Kind is what was delivered: KindTemplate, KindCustom or
	// KindSubscribe.
	Kind   string `json:"kind"`
	OpenID string `json:"openid"`
	// TemplateID is empty for a customer-service message, which has none.
	TemplateID string `json:"template_id,omitempty"`
	// MsgType is a customer-service message's msgtype (text, news …).
	MsgType     string `json:"msgtype,omitempty"`
	ClientMsgID string `json:"client_msg_id"`
	// MsgID is 0 (and left out) for the kinds WeChat answers no msgid for.
	MsgID int64 `json:"msgid,omitempty"`
	// Data is the request's data object as sent (compacted), or for a
	// customer-service message the object its msgtype names ({"content":
	// …} for text); WeChat's own stripping of first/remark/color for
	// display is not applied.
	Data json.RawMessage `json:"data"`
	Time time.Time       `json:"time"`
}

// Deliveries returns every delivered message so far, in acceptance order.
// The slice is the caller's.
func (s *Sim) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.deliveries)
}

// recordLocked appends d and writes its line to Options.Deliveries. Writing
// under the lock keeps the file in acceptance order and every line whole: a
// reader tailing the file while the sandbox runs never sees two lines
// interleaved.
func (s *Sim) recordLocked(d Delivery) {
	s.deliveries = append(s.deliveries, d)
	out := s.opts.Deliveries
	if out == nil {
		return
	}
	line, err := deliveryLine(d)
	if err == nil {
		_, err = out.Write(line) // one Write per line: no torn lines
	}
	if f, ok := out.(interface{ Flush() error }); ok && err == nil {
		err = f.Flush()
	}
	if err != nil {
		s.stats.DeliveryWriteErrors++
	}
}

// deliveryLine encodes d as one JSON line without HTML escaping, so that
// the file shows URLs and text as sent.
func deliveryLine(d Delivery) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
