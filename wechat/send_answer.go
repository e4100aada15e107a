package wechat

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// sendAnswer is template/send's answer: a status and, on success, the msgid.
type sendAnswer struct {
	status
	MsgID int64 `json:"msgid"`
}

// okPrefix is how WeChat's success answer to template/send begins, byte for
// byte; the msgid follows.
const okPrefix = `{"errcode":0,"errmsg":"ok","msgid":`

// decode fills a from data. Nearly every answer of a bulk send is the same
// success object, which is read here without encoding/json's reflection (a
// few µs per message); anything else, including any other spelling of the
// same object, goes through encoding/json, and FuzzSendAnswer checks that
// the two agree wherever the short path answers.
func (a *sendAnswer) decode(data []byte) error {
	if id, ok := parseOK(data); ok {
		*a = sendAnswer{status: status{Errmsg: "ok"}, MsgID: id}
		return nil
	}
	return json.Unmarshal(data, a)
}

// parseOK returns the msgid of exactly okPrefix, a JSON integer that fits
// int64, "}" and optional trailing white space.
func parseOK(data []byte) (int64, bool) {
	rest, ok := bytes.CutPrefix(data, []byte(okPrefix))
	if !ok {
		return 0, false
	}
	rest = bytes.TrimRight(rest, " \t\r\n")
	digits, ok := bytes.CutSuffix(rest, []byte("}"))
	// A JSON integer: no sign but '-', no leading zero.
	if !ok || len(digits) == 0 || digits[0] == '+' || len(digits) > 1 && digits[0] == '0' ||
		len(digits) > 2 && digits[0] == '-' && digits[1] == '0' {
		return 0, false
	}
	id, err := strconv.ParseInt(string(digits), 10, 64)
	if err != nil {
		return 0, false
	}
	return id, true
}
