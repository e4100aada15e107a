package wechat

import (
	"context"
	"errors"
	"net/http"
)

// Kind is a kind of message and the endpoint that sends it. An errcode
// can mean something else, and call for something else, from one endpoint
// to another: 45015 from custom/send says the user is outside the 48-hour
// window, which a template message would still reach.
type Kind string

// The kinds of message megasend sends.
const (
	KindTemplate  Kind = "template"  // message/template/send
	KindCustom    Kind = "custom"    // message/custom/send, customer-service messages
	KindSubscribe Kind = "subscribe" // message/subscribe/bizsend, subscribe notifications
)

// The ops (APIError.Op) of the send endpoints.
const (
	opTemplateSend  = "message/template/send"
	opCustomSend    = "message/custom/send"
	opSubscribeSend = "message/subscribe/bizsend"
)

// opKinds maps a send endpoint's op to its kind; other ops have none.
var opKinds = map[string]Kind{
	opTemplateSend:  KindTemplate,
	opCustomSend:    KindCustom,
	opSubscribeSend: KindSubscribe,
}

// kindCodes are the errcodes whose class or meaning differs for a kind
// from the common table (codes), which stays template/send's. Read-only.
var kindCodes = map[Kind]map[int]codeInfo{
	KindCustom: {
		45015: {ClassRecipient, "outside the user's 48-hour window for customer-service messages, or they unfollowed", "reached with the --fallback template message, if the campaign has one"},
		45047: {ClassRecipient, "the user's count of customer-service messages for this 48-hour window is used up", "reached with the --fallback template message, if the campaign has one"},
		45009: {ClassQuota, "daily limit of customer-service messages reached", "the batch is paused; resume after midnight Beijing time"},
		40008: {ClassFatal, "invalid message type", "the body's msgtype is not one WeChat knows: check megasend template lint"},
		40007: {ClassFatal, "invalid media_id", "the body names a media_id the account has not uploaded"},
		44003: {ClassFatal, "empty news message", "a news message needs one article"},
		45008: {ClassFatal, "too many articles", "a news message carries one article"},
		44004: {ClassRecipient, "empty text content", "the text rendered empty for this recipient: check the variables"},
		48001: {ClassFatal, "customer-service messages unauthorized for this account", "the account needs the customer-service message permission (a verified account)"},
	},
	KindSubscribe: {
		43101: {ClassRecipient, "the user has not subscribed to this notification, or a one-time subscription is used up", "drop the recipient: they must subscribe again"},
		40037: {ClassFatal, "invalid template_id", "the template_id is not one of this account's subscribe notification templates (priTmplId); fix it, then resume"},
		48001: {ClassFatal, "subscribe notifications unauthorized for this account", "the account needs subscribe notification templates added in the MP console"},
	},
}

// lookup returns what megasend knows of code from kind's endpoint.
func lookup(kind Kind, code int) (codeInfo, bool) {
	if ci, ok := kindCodes[kind][code]; ok {
		return ci, true
	}
	ci, ok := codes[code]
	return ci, ok
}

// ClassifyKind returns the class of errcode answered by kind's endpoint.
// For KindTemplate it is Classify's.
func ClassifyKind(kind Kind, code int) Class {
	if ci, ok := lookup(kind, code); ok {
		return ci.class
	}
	return ClassRecipient
}

// DescribeKind returns what errcode means from kind's endpoint and what to
// do about it; unknown codes get empty strings.
func DescribeKind(kind Kind, code int) (meaning, advice string) {
	ci, _ := lookup(kind, code)
	return ci.meaning, ci.advice
}

// ClassOfKind returns the class err has for a send of kind: an APIError's
// code as kind's endpoint means it, otherwise ClassOf(err). Errors from
// SendCustomBody and SendSubscribeBody are already classed by their kind.
func ClassOfKind(kind Kind, err error) Class {
	var ae *APIError
	if errors.As(err, &ae) {
		return ClassifyKind(kind, ae.Code)
	}
	return ClassOf(err)
}

// Unreachable reports whether err says the recipient cannot be reached by
// the kind of message that was sent, though another kind may reach them:
// 45015 (outside the 48-hour window) and 45047 (the window's count used
// up) from custom/send. The engine sends them the fallback template
// message instead.
func Unreachable(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Op == opCustomSend && (ae.Code == 45015 || ae.Code == 45047)
}

// SendCustomBody sends an encoded customer-service message
// ({"touser","msgtype",…}). custom/send answers no msgid. Errors are
// *APIError (classed as KindCustom's: 45015 and 45047 are recipient-level,
// see Unreachable) or *RequestError. The message has no client_msg_id:
// WeChat does not deduplicate customer-service messages.
func (c *Client) SendCustomBody(ctx context.Context, body []byte) error {
	return c.sendPlain(ctx, opCustomSend, "/cgi-bin/message/custom/send", body)
}

// SendSubscribeBody sends an encoded subscribe notification
// ({"touser","template_id","page","miniprogram","data"}). bizsend answers no
// msgid. Errors are *APIError (classed as KindSubscribe's: 43101 is
// recipient-level) or *RequestError.
func (c *Client) SendSubscribeBody(ctx context.Context, body []byte) error {
	return c.sendPlain(ctx, opSubscribeSend, "/cgi-bin/message/subscribe/bizsend", body)
}

// sendPlain posts body to a send endpoint whose answer is a bare status.
func (c *Client) sendPlain(ctx context.Context, op, path string, body []byte) error {
	var r status
	return c.withToken(ctx, func(tok string) error {
		return c.do(ctx, op, http.MethodPost, path, tokenQuery(tok), body, &r)
	})
}

// DescribeErr is DescribeKind for err's code as the endpoint that answered
// it means it (a send's APIError names its op); template/send's meaning
// for any other error.
func DescribeErr(err error) (meaning, advice string) {
	kind := KindTemplate
	var ae *APIError
	if errors.As(err, &ae) {
		if k, ok := opKinds[ae.Op]; ok {
			kind = k
		}
	}
	return DescribeKind(kind, Errcode(err))
}
