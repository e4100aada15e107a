package wechattest

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// decodeCases are bodies for decodeSendFast: fast says whether it must
// answer (the shape megasend sends) or leave the body to decodeSendJSON (a
// point where encoding/json has semantics the fast path does not copy).
// FuzzDecodeSend seeds its corpus with them.
var decodeCases = []struct {
	name string
	body string
	fast bool
}{
	// Answered.
	{name: "EmptyObject", body: `{}`, fast: true},
	{name: "EmptyData", body: `{"touser":"a","data":{}}`, fast: true},
	{name: "EmptyDataValue", body: `{"data":{"k":{}}}`, fast: true},
	{name: "EmptyMiniProgram", body: `{"miniprogram":{}}`, fast: true},
	{name: "MiniProgram", body: `{"touser":"a","miniprogram":{"pagepath":"p?a=1&b=2","appid":"wx1"},"data":{"k":{"color":"#fff","value":"v"}}}`, fast: true},
	{name: "AllFields", body: `{"touser":"` + openID1 + `","template_id":"` + legacyTmpl + `","url":"https://x/y?a=1&b=2","miniprogram":{"appid":"wx1","pagepath":"p"},"client_msg_id":"c1","data":{"first":{"value":"你好","color":"#173177"},"remark":{"value":"谢谢"}}}`, fast: true},
	{name: "SurroundingSpace", body: " \t\r\n" + `{"touser":"a"}` + "\n", fast: true},
	{name: "ShortEscapes", body: `{"touser":"\"\\\/\b\f\n\r\t","data":{"k":{"value":"a\"b\\c\/d\ne"}}}`, fast: true},
	{name: "UnicodeEscapes", body: `{"url":"\u0041\u00e9\u4E2D\u0000\u001f\uFFFF","data":{"k":{"value":"\u0001x\u2028"}}}`, fast: true},
	{name: "RawUnicode", body: "{\"data\":{\"k\":{\"value\":\"中文 🎉 \u2028\u2029 \ufffd \x7f\"}}}", fast: true},
	{name: "ClientMsgIDTooLong", body: `{"client_msg_id":"` + strings.Repeat("x", 65) + `","data":{}}`, fast: true},
	{name: "ClientMsgIDEscapedTooLong", body: `{"client_msg_id":"` + strings.Repeat(`\u4e2d`, 22) + `"}`, fast: true},

	// Left to encoding/json: white space between tokens.
	{name: "SpaceAfterBrace", body: `{ "touser":"a"}`},
	{name: "SpaceBeforeColon", body: `{"touser" :"a"}`},
	{name: "SpaceInData", body: `{"data":{"k": {"value":"v"}}}`},
	{name: "NewlineInData", body: "{\"data\":{\"k\":{\"value\":\"v\"}\n}}"},
	// Keys encoding/json would match case-insensitively, or unknown.
	{name: "UpperKey", body: `{"ToUser":"a"}`},
	{name: "UpperDataValueKey", body: `{"data":{"k":{"Value":"v"}}}`},
	{name: "UpperMiniProgramKey", body: `{"miniprogram":{"AppID":"wx1"}}`},
	{name: "EscapedKey", body: `{"tous\u0065r":"a"}`},
	{name: "UnknownKey", body: `{"touser":"a","topcolor":"#fff"}`},
	{name: "UnknownDataValueKey", body: `{"data":{"k":{"value":"v","extra":"x"}}}`},
	{name: "UnknownMiniProgramKey", body: `{"miniprogram":{"appid":"wx1","path":"p"}}`},
	{name: "NonASCIIDataKey", body: `{"data":{"关键":{"value":"v"}}}`},
	{name: "EscapedDataKey", body: `{"data":{"k\u0031":{"value":"v"}}}`},
	// Duplicate keys: encoding/json keeps the last (and merges objects).
	{name: "DuplicateTopKey", body: `{"touser":"a","touser":"b"}`},
	{name: "DuplicateData", body: `{"data":{"a":{"value":"1"}},"data":{"b":{"value":"2"}}}`},
	{name: "DuplicateDataKey", body: `{"data":{"k":{"value":"1"},"k":{"value":"2"}}}`},
	{name: "DuplicateValueKey", body: `{"data":{"k":{"value":"1","value":"2"}}}`},
	{name: "DuplicateColorKey", body: `{"data":{"k":{"color":"1","color":"2"}}}`},
	{name: "DuplicateMiniProgram", body: `{"miniprogram":{"appid":"a"},"miniprogram":{"pagepath":"p"}}`},
	{name: "DuplicateAppID", body: `{"miniprogram":{"appid":"a","appid":"b"}}`},
	// Values other than strings and objects.
	{name: "NullTouser", body: `{"touser":null}`},
	{name: "NullData", body: `{"data":null}`},
	{name: "NullMiniProgram", body: `{"miniprogram":null}`},
	{name: "EmptyArrayMiniProgram", body: `{"miniprogram":[]}`},
	{name: "SpacedEmptyArrayMiniProgram", body: `{"miniprogram":[ ]}`},
	{name: "ArrayMiniProgram", body: `{"miniprogram":["wx1"]}`},
	{name: "ArrayThenMiniProgram", body: `{"miniprogram":[],"miniprogram":{"appid":"a"}}`},
	{name: "MiniProgramThenArray", body: `{"miniprogram":{"appid":"a"},"miniprogram":[]}`},
	{name: "NullDataValue", body: `{"data":{"k":null}}`},
	{name: "NullValue", body: `{"data":{"k":{"value":null}}}`},
	{name: "NumberTouser", body: `{"touser":1}`},
	{name: "BoolValue", body: `{"data":{"k":{"value":true}}}`},
	{name: "ArrayData", body: `{"data":[]}`},
	{name: "StringData", body: `{"data":"x"}`},
	{name: "StringDataValue", body: `{"data":{"k":"v"}}`},
	{name: "NestedMiniProgram", body: `{"miniprogram":{"appid":{"x":"y"}}}`},
	{name: "TopArray", body: `[]`},
	{name: "TopString", body: `"x"`},
	// Bytes after the object, or the object cut short.
	{name: "TrailingGarbage", body: `{"touser":"a"}x`},
	{name: "TwoObjects", body: `{}{}`},
	{name: "TrailingComma", body: `{"touser":"a",}`},
	{name: "Truncated", body: `{"touser":"a`},
	{name: "TruncatedEscape", body: `{"touser":"a\`},
	{name: "Empty", body: ``},
	{name: "Blank", body: " \n"},
	// Strings encoding/json repairs or refuses.
	{name: "InvalidUTF8", body: "{\"touser\":\"a\xffb\"}"},
	{name: "InvalidUTF8InData", body: "{\"data\":{\"k\":{\"value\":\"\xe4\xb8\"}}}"},
	{name: "EncodedSurrogate", body: "{\"touser\":\"\xed\xa0\x80\"}"},
	{name: "RawTab", body: "{\"touser\":\"a\tb\"}"},
	{name: "RawNUL", body: "{\"data\":{\"k\":{\"value\":\"\x00\"}}}"},
	{name: "SurrogatePair", body: `{"touser":"\ud83c\udf89"}`},
	{name: "LoneSurrogate", body: `{"touser":"\ud800"}`},
	{name: "SingleQuoteEscape", body: `{"touser":"\'"}`},
	{name: "UnknownEscape", body: `{"touser":"\x41"}`},
	{name: "ShortUnicodeEscape", body: `{"touser":"\u12"}`},
}

func TestDecodeSendFast(t *testing.T) {
	for _, tt := range decodeCases {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkSameDecode(t, []byte(tt.body)); got != tt.fast {
				t.Errorf("fast path answered = %v, want %v, for %q", got, tt.fast, tt.body)
			}
		})
	}
}

// TestDecodeSendFast_Rendered checks that what megasend's renderer sends
// takes the fast path: were it to bail on every body, the simulator would
// still be right, and slow.
func TestDecodeSendFast_Rendered(t *testing.T) {
	for _, c := range renderedCases {
		t.Run(c.name, func(t *testing.T) {
			body := c.render(t)
			if !checkSameDecode(t, body) {
				t.Fatalf("fast path bailed on %s", body)
			}
			req, _, code, _ := decodeSendFast(body)
			if code != 0 || req.ToUser != c.vars["openid"] || len(req.Data) == 0 {
				t.Errorf("decoded %+v, code %d, from %s", req, code, body)
			}
		})
	}
}

// checkSameDecode fails tb if decodeSendFast answers body differently from
// decodeSendJSON, and reports whether it answered. It also checks that the
// fast path leaves body alone and that its answer does not alias body.
func checkSameDecode(tb testing.TB, body []byte) bool {
	tb.Helper()
	orig := bytes.Clone(body)
	req, raw, code, ok := decodeSendFast(body)
	if !bytes.Equal(body, orig) {
		tb.Fatalf("decodeSendFast modified the body: %q, was %q", body, orig)
	}
	if !ok {
		return false
	}
	// Clobber the body: an answer aliasing it would change with it.
	for i := range body {
		body[i] = 'x'
	}
	wantReq, wantRaw, wantCode := decodeSendJSON(orig)
	copy(body, orig)
	if code != wantCode {
		tb.Fatalf("body %q: code %d, encoding/json says %d", body, code, wantCode)
	}
	if !reflect.DeepEqual(req, wantReq) {
		tb.Fatalf("body %q:\nfast  %#v\njson  %#v", body, req, wantReq)
	}
	if !bytes.Equal(raw, wantRaw) || (raw == nil) != (wantRaw == nil) {
		tb.Fatalf("body %q: raw %q, encoding/json gives %q", body, raw, wantRaw)
	}
	return true
}
