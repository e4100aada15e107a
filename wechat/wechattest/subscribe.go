package wechattest

// POST /cgi-bin/message/subscribe/bizsend, subscribe notifications (订阅通知,
// reference notes §5). Checks run in this order, and the first failure
// answers:
//
//	token          41001 missing, 40001 unknown/superseded/revoked, 42001 expired
//	method         43002 unless POST
//	body           44002 empty, 45002 over 1 MiB, 47001 not a JSON object or wrong
//	               field types ("miniprogram":[] is taken as absent, as on template/send)
//	template_id    40036 empty, 40037 not registered (the same registry as
//	               template/send: DefaultTemplates and Options.TemplateIDs)
//	touser         40003 unless 28 characters of [A-Za-z0-9_-] (keys are case-sensitive:
//	               "toUser" is no touser, §5)
//	follower       43101 for Options.Unfollowed (nothing reaches them), 40003 outside
//	               the follower set when Options.Followers makes membership real
//	data           47001 missing or not {"key":{"value":"…"}}, 47003 a category value
//	               breaking its rule (the key in errmsg)
//	subscribed     43101 outside Options.Subscribed
//	faults         the hook, the queued knobs, FailRate (shared with template/send)
//	accept         {"errcode":0,"errmsg":"ok"} (no msgid), Delivery recorded with Kind subscribe
//
// The body has no url (a page field instead) and no client_msg_id; WeChat
// documents neither, nor an answer for them, so a url is ignored like any
// other unknown field, and there is no dedup. Nor is there a documented
// daily limit to enforce. Long-term subscriptions are modelled: a
// subscribed openid may be sent any number of notifications.

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"
)

// serveSubscribe is POST /cgi-bin/message/subscribe/bizsend.
func (s *Sim) serveSubscribe(w http.ResponseWriter, r *http.Request) {
	seq, ok := s.startSend(w, r, false)
	if !ok {
		return
	}
	obj, code := decodeObjectBody(r)
	switch {
	case code < 0:
		return
	case code > 0:
		s.reject(w, code, "")
		return
	}
	req, raw, code, key := s.validateSubscribe(obj)
	if code != 0 {
		s.reject(w, code, key)
		return
	}
	req.N = seq
	s.deliver(w, r, req, raw)
}

// validateSubscribe applies every check before the faults to a decoded
// body. It returns the request, the compact data object, and 0 or the
// errcode, with the offending key for 47003.
func (s *Sim) validateSubscribe(obj map[string]json.RawMessage) (req SendRequest, raw json.RawMessage, code int, key string) {
	req.Kind = KindSubscribe
	var ok1, ok2, ok3 bool
	req.ToUser, ok1 = stringField(obj, "touser")
	req.TemplateID, ok2 = stringField(obj, "template_id")
	req.URL, ok3 = stringField(obj, "page")
	if !ok1 || !ok2 || !ok3 {
		return req, nil, codeDataFormat, ""
	}
	if mp, ok := obj["miniprogram"]; ok {
		var f miniProgramField
		if err := f.UnmarshalJSON(bytes.TrimSpace(mp)); err != nil {
			return req, nil, codeDataFormat, ""
		}
		req.MiniProgram = f.mp
	}
	switch {
	case req.TemplateID == "":
		return req, nil, codeTemplateIDSize, ""
	case !s.templateKnown(req.TemplateID):
		return req, nil, codeInvalidTemplate, ""
	case !openIDPattern.MatchString(req.ToUser):
		return req, nil, codeInvalidOpenID, ""
	case s.unfollowed[req.ToUser]:
		return req, nil, codeRefuseSubscribe, ""
	case !s.isFollower(req.ToUser):
		return req, nil, codeInvalidOpenID, ""
	}
	d := bytes.TrimSpace(obj["data"])
	if len(d) == 0 || d[0] != '{' || json.Unmarshal(d, &req.Data) != nil {
		return req, nil, codeDataFormat, ""
	}
	if key := firstInvalidValue(req.Data); key != "" {
		return req, nil, codeArgumentInvalid, key
	}
	if !s.subscribed.has(req.ToUser) {
		return req, nil, codeRefuseSubscribe, ""
	}
	var buf bytes.Buffer
	if json.Compact(&buf, d) != nil {
		return req, nil, codeDataFormat, ""
	}
	return req, buf.Bytes(), 0, ""
}

// acceptSubscribeLocked records a subscribe notification's delivery. It
// returns 0: no limit is documented to enforce. Callers hold s.mu.
func (s *Sim) acceptSubscribeLocked(req SendRequest, raw json.RawMessage, now time.Time) int {
	s.recordLocked(Delivery{Kind: KindSubscribe, OpenID: req.ToUser, TemplateID: req.TemplateID, Data: raw, Time: now})
	s.stats.Accepted++
	s.stats.AcceptedByKind[KindSubscribe]++
	return 0
}
