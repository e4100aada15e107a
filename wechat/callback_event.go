package wechat

// The XML WeChat pushes to an account's callback URL (消息推送), as far as
// megasend reads it: the common header of every push, the template
// delivery receipt (TEMPLATESENDJOBFINISH), and the safe-mode envelope. A
// receipt looks like this (wechat-api.md §10):
//
//	<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName>
//	<FromUserName><![CDATA[oia2TjuEGTNoeX76QEjQNrcURxG8]]></FromUserName>
//	<CreateTime>1395658920</CreateTime><MsgType><![CDATA[event]]></MsgType>
//	<Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event><MsgID>200163836</MsgID>
//	<Status><![CDATA[success]]></Status></xml>

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MaxPushBytes is the largest push body ParseEvent reads. WeChat's pushes
// are a few hundred bytes (three times that in compatible mode), so a
// callback handler can bound its read with http.MaxBytesReader at this
// size and refuse anything longer unread.
const MaxPushBytes = 64 << 10

// ErrBadPush is a request that is not a well-formed push: a body that is
// empty, too large, not XML with an <xml> root, a number field that is not
// a number, a receipt without its MsgID, a safe-mode push without
// <Encrypt>, or an unknown encrypt_type. A callback answers it 400.
var ErrBadPush = errors.New("malformed push")

// Push types megasend acts on.
const (
	// MsgTypeEvent is the MsgType of every event push.
	MsgTypeEvent = "event"
	// EventTemplateSendJobFinish is the Event of a template message's
	// delivery receipt.
	EventTemplateSendJobFinish = "TEMPLATESENDJOBFINISH"
)

// Event is one push from WeChat: the fields every push carries, and those
// of a delivery receipt. Fields a push does not have are zero.
type Event struct {
	// ToUserName is the account's original id (gh_…).
	ToUserName string
	// FromUserName is the openid of the user the push is about.
	FromUserName string
	// CreateTime is when WeChat made the push, in Unix seconds.
	CreateTime int64
	// MsgType is "event" for events, or a user message's type ("text", …).
	MsgType string
	// Event names an event push: EventTemplateSendJobFinish for a receipt.
	Event string
	// MsgID is a receipt's msgid (tag <MsgID>), the value template/send
	// answered; a user message's <MsgId> lands here too. It may exceed
	// 2^53, so it is never decoded through a float.
	MsgID int64
	// Status is a receipt's delivery status.
	Status ReceiptStatus
	// Encrypt is the safe-mode ciphertext when the body is an envelope
	// (compatible mode sends it beside the plain fields). Receiver.Open
	// returns the decrypted event, where it is empty.
	Encrypt string
}

// IsReceipt reports whether e is a template message's delivery receipt.
func (e Event) IsReceipt() bool {
	return e.MsgType == MsgTypeEvent && strings.EqualFold(e.Event, EventTemplateSendJobFinish)
}

// ReceiptStatus is a delivery receipt's Status, verbatim.
type ReceiptStatus string

// The statuses WeChat documents for TEMPLATESENDJOBFINISH. Note the space
// after the colon in one and not the other: that is how WeChat writes them.
const (
	ReceiptSuccess      ReceiptStatus = "success"
	ReceiptUserBlock    ReceiptStatus = "failed:user block"
	ReceiptSystemFailed ReceiptStatus = "failed: system failed"
)

// Receipt outcomes: the names ledgers, reports and metrics use.
const (
	OutcomeSuccess      = "success"
	OutcomeUserBlock    = "user_block"
	OutcomeSystemFailed = "system_failed"
)

// Outcome maps s to OutcomeSuccess, OutcomeUserBlock or
// OutcomeSystemFailed, or "" for a status WeChat does not document (keep
// it verbatim rather than guess). Case and spaces are ignored, so that
// "failed:system failed" is read as the documented "failed: system
// failed": the two documented spellings already disagree on the space.
func (s ReceiptStatus) Outcome() string {
	switch strings.ToLower(strings.ReplaceAll(string(s), " ", "")) {
	case "success":
		return OutcomeSuccess
	case "failed:userblock":
		return OutcomeUserBlock
	case "failed:systemfailed":
		return OutcomeSystemFailed
	}
	return ""
}

// pushXML is a push body as encoding/xml sees it. Numbers are read as text
// and parsed here, so that a bad one is ErrBadPush naming the field.
type pushXML struct {
	XMLName      xml.Name
	ToUserName   string `xml:"ToUserName"`
	FromUserName string `xml:"FromUserName"`
	CreateTime   string `xml:"CreateTime"`
	MsgType      string `xml:"MsgType"`
	Event        string `xml:"Event"`
	MsgID        string `xml:"MsgID"` // receipts
	MsgId        string `xml:"MsgId"` // user messages
	Status       string `xml:"Status"`
	Encrypt      string `xml:"Encrypt"`
}

// ParseEvent parses a push body: plain XML, the safe-mode envelope
// (<Encrypt> only) or compatible mode's both. It checks no signature and
// decrypts nothing; Receiver.Open does both. It returns an error wrapping
// ErrBadPush for a body that is not a push (see ErrBadPush); an unknown
// MsgType, Event or Status is not an error. It never panics.
func ParseEvent(body []byte) (Event, error) {
	switch {
	case len(bytes.TrimSpace(body)) == 0:
		return Event{}, fmt.Errorf("%w: empty body", ErrBadPush)
	case len(body) > MaxPushBytes:
		return Event{}, fmt.Errorf("%w: body over %d bytes", ErrBadPush, MaxPushBytes)
	}
	var p pushXML
	if err := xml.Unmarshal(body, &p); err != nil {
		return Event{}, fmt.Errorf("%w: not XML", ErrBadPush)
	}
	if p.XMLName.Local != "xml" {
		return Event{}, fmt.Errorf("%w: root element is not <xml>", ErrBadPush)
	}
	e := Event{
		ToUserName:   p.ToUserName,
		FromUserName: p.FromUserName,
		MsgType:      strings.TrimSpace(p.MsgType),
		Event:        strings.TrimSpace(p.Event),
		Status:       ReceiptStatus(p.Status),
		Encrypt:      strings.TrimSpace(p.Encrypt),
	}
	var err error
	if e.CreateTime, err = pushNumber("CreateTime", p.CreateTime); err != nil {
		return Event{}, err
	}
	id := p.MsgID
	if strings.TrimSpace(id) == "" {
		id = p.MsgId
	}
	if e.MsgID, err = pushNumber("MsgID", id); err != nil {
		return Event{}, err
	}
	if e.IsReceipt() && e.MsgID == 0 {
		return Event{}, fmt.Errorf("%w: receipt without MsgID", ErrBadPush)
	}
	return e, nil
}

// pushNumber parses a non-negative decimal field; empty is zero.
func pushNumber(field, s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: %s is not a non-negative integer", ErrBadPush, field)
	}
	return n, nil
}
