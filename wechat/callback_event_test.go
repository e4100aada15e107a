package wechat

import (
	"errors"
	"strings"
	"testing"
)

// receiptXML is the receipt of wechat-api.md §10 (WeChat's documentation
// of TEMPLATESENDJOBFINISH), as WeChat lays it out.
const receiptXML = `<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName><FromUserName><![CDATA[oia2TjuEGTNoeX76QEjQNrcURxG8]]></FromUserName>
<CreateTime>1395658920</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event>
<MsgID>200163836</MsgID><Status><![CDATA[success]]></Status></xml>`

// receipt builds a receipt body with the given MsgID and Status text.
func receipt(msgID, status string) string {
	return `<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName><FromUserName><![CDATA[oia2TjuEGTNoeX76QEjQNrcURxG8]]></FromUserName>` +
		`<CreateTime>1395658920</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event>` +
		`<MsgID>` + msgID + `</MsgID><Status><![CDATA[` + status + `]]></Status></xml>`
}

func TestParseEvent(t *testing.T) {
	tests := []struct {
		name string
		body string
		want Event
	}{
		{name: "Receipt", body: receiptXML, want: Event{
			ToUserName: "gh_7f083739789a", FromUserName: "oia2TjuEGTNoeX76QEjQNrcURxG8", CreateTime: 1395658920,
			MsgType: "event", Event: EventTemplateSendJobFinish, MsgID: 200163836, Status: ReceiptSuccess,
		}},
		{name: "MsgIDAbove2To53", body: receipt("3557254367693750277", "failed:user block"), want: Event{
			ToUserName: "gh_7f083739789a", FromUserName: "oia2TjuEGTNoeX76QEjQNrcURxG8", CreateTime: 1395658920,
			MsgType: "event", Event: EventTemplateSendJobFinish, MsgID: 3557254367693750277, Status: ReceiptUserBlock,
		}},
		{name: "MaxInt64", body: receipt("9223372036854775807", "success"), want: Event{
			ToUserName: "gh_7f083739789a", FromUserName: "oia2TjuEGTNoeX76QEjQNrcURxG8", CreateTime: 1395658920,
			MsgType: "event", Event: EventTemplateSendJobFinish, MsgID: 9223372036854775807, Status: ReceiptSuccess,
		}},
		{name: "PlainTags", body: `<xml><MsgType>event</MsgType><Event>TEMPLATESENDJOBFINISH</Event><MsgID> 42 </MsgID>` +
			`<Status>failed: system failed</Status></xml>`, want: Event{
			MsgType: "event", Event: EventTemplateSendJobFinish, MsgID: 42, Status: ReceiptSystemFailed,
		}},
		{name: "UnknownStatusKept", body: receipt("7", "failed: something new"), want: Event{
			ToUserName: "gh_7f083739789a", FromUserName: "oia2TjuEGTNoeX76QEjQNrcURxG8", CreateTime: 1395658920,
			MsgType: "event", Event: EventTemplateSendJobFinish, MsgID: 7, Status: "failed: something new",
		}},
		{name: "UserMessageMsgId", body: docVector.plain, want: Event{
			ToUserName: "gh_680bdefc8c5d", FromUserName: "oIDrpjpQ8j8mBuQ8nM26HWzNEZgg", CreateTime: 1414243737,
			MsgType: "text", MsgID: 6074130599188426998,
		}},
		{name: "Subscribe", body: `<xml><FromUserName><![CDATA[oia2TjuEGTNoeX76QEjQNrcURxG8]]></FromUserName><MsgType><![CDATA[event]]></MsgType>` +
			`<Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[]]></EventKey></xml>`, want: Event{
			FromUserName: "oia2TjuEGTNoeX76QEjQNrcURxG8", MsgType: "event", Event: "subscribe",
		}},
		{name: "Envelope", body: "<xml>\n<ToUserName><![CDATA[gh_680bdefc8c5d]]></ToUserName>\n<Encrypt><![CDATA[" + docVector.encrypt + "]]></Encrypt>\n</xml>",
			want: Event{ToUserName: "gh_680bdefc8c5d", Encrypt: docVector.encrypt}},
		{name: "Compatible", body: strings.Replace(receiptXML, "</xml>", "<Encrypt><![CDATA[abc=]]></Encrypt></xml>", 1), want: Event{
			ToUserName: "gh_7f083739789a", FromUserName: "oia2TjuEGTNoeX76QEjQNrcURxG8", CreateTime: 1395658920,
			MsgType: "event", Event: EventTemplateSendJobFinish, MsgID: 200163836, Status: ReceiptSuccess, Encrypt: "abc=",
		}},
		{name: "Declaration", body: `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + receipt("9", "success"), want: Event{
			ToUserName: "gh_7f083739789a", FromUserName: "oia2TjuEGTNoeX76QEjQNrcURxG8", CreateTime: 1395658920,
			MsgType: "event", Event: EventTemplateSendJobFinish, MsgID: 9, Status: ReceiptSuccess,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEvent([]byte(tt.body))
			if err != nil {
				t.Fatalf("ParseEvent: %v", err)
			}
			if got != tt.want {
				t.Fatalf("ParseEvent =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestParseEvent_ErrBadPush(t *testing.T) {
	tests := []struct{ name, body string }{
		{"Empty", ""},
		{"Blank", " \n\t"},
		{"JSON", `{"ToUserName":"gh_x","MsgType":"event"}`},
		{"Unclosed", `<xml><MsgType>event</MsgType>`},
		{"OtherRoot", `<root><MsgType>event</MsgType></root>`},
		{"Text", `success`},
		{"CreateTimeText", `<xml><CreateTime>yesterday</CreateTime></xml>`},
		{"CreateTimeNegative", `<xml><CreateTime>-1</CreateTime></xml>`},
		{"MsgIDNegative", receipt("-5", "success")},
		{"MsgIDOverflow", receipt("9223372036854775808", "success")},
		{"MsgIDFloat", receipt("2.00163836e8", "success")},
		{"ReceiptWithoutMsgID", `<xml><MsgType>event</MsgType><Event>TEMPLATESENDJOBFINISH</Event><Status>success</Status></xml>`},
		{"ReceiptMsgIDZero", receipt("0", "success")},
		{"TooLarge", "<xml><Content>" + strings.Repeat("a", MaxPushBytes) + "</Content></xml>"},
		{"Charset", `<?xml version="1.0" encoding="GBK"?><xml><MsgType>event</MsgType></xml>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEvent([]byte(tt.body))
			if !errors.Is(err, ErrBadPush) {
				t.Fatalf("ParseEvent = %+v, %v; want ErrBadPush", got, err)
			}
		})
	}
}

func TestReceiptStatus_Outcome(t *testing.T) {
	tests := []struct {
		status ReceiptStatus
		want   string
	}{
		{ReceiptSuccess, OutcomeSuccess},
		{ReceiptUserBlock, OutcomeUserBlock},
		{ReceiptSystemFailed, OutcomeSystemFailed},
		{"failed: user block", OutcomeUserBlock},
		{"failed:system failed", OutcomeSystemFailed},
		{"SUCCESS", OutcomeSuccess},
		{"", ""},
		{"failed", ""},
		{"failed: something new", ""},
		{"successful", ""},
	}
	for _, tt := range tests {
		if got := tt.status.Outcome(); got != tt.want {
			t.Errorf("ReceiptStatus(%q).Outcome() = %q, want %q", tt.status, got, tt.want)
		}
	}
}

func TestEvent_IsReceipt(t *testing.T) {
	tests := []struct {
		e    Event
		want bool
	}{
		{Event{MsgType: "event", Event: "TEMPLATESENDJOBFINISH"}, true},
		{Event{MsgType: "event", Event: "templatesendjobfinish"}, true},
		{Event{MsgType: "event", Event: "subscribe"}, false},
		{Event{MsgType: "text", Event: "TEMPLATESENDJOBFINISH"}, false},
		{Event{}, false},
	}
	for _, tt := range tests {
		if got := tt.e.IsReceipt(); got != tt.want {
			t.Errorf("%+v.IsReceipt() = %v, want %v", tt.e, got, tt.want)
		}
	}
}
