package template

import (
	"fmt"
	"strings"
)

// Kind is what a template's body is: the request body of one of WeChat's
// send endpoints. Each kind has its own shape, which Lint checks.
type Kind string

// The kinds of template.
const (
	// KindTemplate is a template message, /cgi-bin/message/template/send:
	// touser, template_id, url or miniprogram, data. The default.
	KindTemplate Kind = "template"
	// KindCustom is a customer-service message, /cgi-bin/message/custom/send:
	// touser, msgtype and the object it names ("text": {"content": …} …).
	// WeChat delivers it only inside the user's 48-hour interaction window.
	KindCustom Kind = "custom"
	// KindSubscribe is a subscribe notification,
	// /cgi-bin/message/subscribe/bizsend: touser, template_id, page or
	// miniprogram, data. The user must have subscribed to it.
	KindSubscribe Kind = "subscribe"
)

// Kinds lists every kind, the default first.
func Kinds() []Kind { return []Kind{KindTemplate, KindCustom, KindSubscribe} }

// ParseKind returns the kind named s: "template", "custom" or "subscribe";
// "" is KindTemplate. Any other name is an error listing the kinds.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(s); k {
	case "":
		return KindTemplate, nil
	case KindTemplate, KindCustom, KindSubscribe:
		return k, nil
	}
	return "", fmt.Errorf("unknown template kind %q (the kinds are %s)", s, kindList())
}

func kindList() string {
	var names []string
	for _, k := range Kinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// OrDefault is k, or KindTemplate when k is "".
func (k Kind) OrDefault() Kind {
	if k == "" {
		return KindTemplate
	}
	return k
}

// Describe names the kind for people: "template message",
// "customer-service message", "subscribe notification".
func (k Kind) Describe() string {
	switch k.OrDefault() {
	case KindCustom:
		return "customer-service message"
	case KindSubscribe:
		return "subscribe notification"
	}
	return "template message"
}

// KindStated reports whether the template's file named its kind (a
// wrapper's or a TOML file's "kind"); a bare body never does. Kind is then
// the file's; otherwise it is KindTemplate unless set since.
func (t *Template) KindStated() bool { return t.kindStated }

// WithKind returns a copy of t of kind k. t is not changed; the copy shares
// its compiled body, which neither changes.
func (t *Template) WithKind(k Kind) *Template {
	c := *t
	c.Kind = k.OrDefault()
	return &c
}

// MsgID is the client_msg_id t's messages carry for cmid: cmid for a
// template message, none for the kinds whose endpoints know no
// client_msg_id (and deduplicate nothing).
func (t *Template) MsgID(cmid string) string {
	if t.Kind.OrDefault() != KindTemplate {
		return ""
	}
	return cmid
}
