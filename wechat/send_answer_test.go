package wechat

import (
	"encoding/json"
	"testing"
)

var sendAnswerCases = []struct {
	name, data string
	short      bool // read without encoding/json
}{
	{name: "OK", data: `{"errcode":0,"errmsg":"ok","msgid":3557254367693782077}`, short: true},
	{name: "OKNewline", data: `{"errcode":0,"errmsg":"ok","msgid":1}` + "\n", short: true},
	{name: "OKTrailingSpace", data: `{"errcode":0,"errmsg":"ok","msgid":0} ` + "\t\r\n", short: true},
	{name: "MaxInt64", data: `{"errcode":0,"errmsg":"ok","msgid":9223372036854775807}`, short: true},
	{name: "Negative", data: `{"errcode":0,"errmsg":"ok","msgid":-5}`, short: true},
	{name: "MinusZero", data: `{"errcode":0,"errmsg":"ok","msgid":-0}`, short: true},

	{name: "Overflow", data: `{"errcode":0,"errmsg":"ok","msgid":9223372036854775808}`},
	{name: "LeadingZero", data: `{"errcode":0,"errmsg":"ok","msgid":01}`},
	{name: "NegativeLeadingZero", data: `{"errcode":0,"errmsg":"ok","msgid":-01}`},
	{name: "Plus", data: `{"errcode":0,"errmsg":"ok","msgid":+1}`},
	{name: "Fraction", data: `{"errcode":0,"errmsg":"ok","msgid":1.5}`},
	{name: "Exponent", data: `{"errcode":0,"errmsg":"ok","msgid":1e3}`},
	{name: "NoDigits", data: `{"errcode":0,"errmsg":"ok","msgid":}`},
	{name: "Error", data: `{"errcode":45009,"errmsg":"reach max api daily quota limit rid: 1-2-3"}`},
	{name: "OtherOrder", data: `{"msgid":7,"errcode":0,"errmsg":"ok"}`},
	{name: "Spaced", data: `{"errcode": 0, "errmsg": "ok", "msgid": 7}`},
	{name: "LeadingSpace", data: ` {"errcode":0,"errmsg":"ok","msgid":7}`},
	{name: "MoreFields", data: `{"errcode":0,"errmsg":"ok","msgid":7,"extra":1}`},
	{name: "Trailing", data: `{"errcode":0,"errmsg":"ok","msgid":7}}`},
	{name: "Empty", data: ``},
}

// The short path reads WeChat's success answer, and only that; whatever it
// reads, encoding/json reads the same.
func TestSendAnswer_Decode(t *testing.T) {
	for _, tt := range sendAnswerCases {
		t.Run(tt.name, func(t *testing.T) {
			if _, short := parseOK([]byte(tt.data)); short != tt.short {
				t.Errorf("short path taken = %v, want %v", short, tt.short)
			}
			checkSameAnswer(t, []byte(tt.data))
		})
	}
}

// FuzzSendAnswer checks sendAnswer.decode against encoding/json.
func FuzzSendAnswer(f *testing.F) {
	for _, tt := range sendAnswerCases {
		f.Add([]byte(tt.data))
	}
	f.Fuzz(checkSameAnswer)
}

func checkSameAnswer(t *testing.T, data []byte) {
	var got, want sendAnswer
	gotErr := got.decode(data)
	wantErr := json.Unmarshal(data, &want)
	if (gotErr != nil) != (wantErr != nil) {
		t.Fatalf("decode(%q) error %v, encoding/json %v", data, gotErr, wantErr)
	}
	if gotErr == nil && got != want {
		t.Fatalf("decode(%q) = %+v, encoding/json %+v", data, got, want)
	}
}
