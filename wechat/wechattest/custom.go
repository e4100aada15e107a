package wechattest

// POST /cgi-bin/message/custom/send, customer-service (客服) messages
// (reference notes §4). Checks run in this order, and the first failure
// answers:
//
//	token          41001 missing, 40001 unknown/superseded/revoked, 42001 expired
//	method         43002 unless POST
//	body           44002 empty, 45002 over 1 MiB, 47001 not a JSON object or wrong field types
//	touser         40003 unless 28 characters of [A-Za-z0-9_-] (keys are case-sensitive:
//	               "toUser" is no touser)
//	follower       45015 for Options.Unfollowed ("subscription is canceled"), 40003 outside
//	               the follower set when Options.Followers makes membership real
//	msgtype        40008 missing or not one WeChat knows
//	its object     47001 missing or not an object; 44004 empty text content; 44003 news
//	               without articles, 45008 more than one (WeChat's limit since 2018);
//	               40007 an empty media_id (media ids are not checked against
//	               uploads: the simulator keeps none); 47001 another required field empty
//	window         45015 outside Options.Interacted, or 48 hours after the window opened
//	faults         the hook, the queued knobs, FailRate (shared with template/send)
//	count          45047 once the openid's CustomLimit is used inside the window
//	quota          45009 past custom/send's documented 500,000 a day
//	accept         {"errcode":0,"errmsg":"ok"} (no msgid), Delivery recorded with Kind custom
//
// WeChat documents no client_msg_id for this endpoint, so there is no
// dedup: a message sent twice is delivered twice, and counts twice. The
// codes for a malformed message object are WeChat's global return codes for
// each fault; which one WeChat answers for which field is not documented.

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// maxCustomNewsArticle is how many articles a news message may carry.
const maxCustomNewsArticle = 1

// customFields are the fields each msgtype's object must carry non-empty
// (OffDoc api_sendcustommessage), with the errcode an empty one answers.
// news and msgmenu carry lists and are checked on their own. Read-only.
var customFields = map[string][]struct {
	name string
	code int
}{
	"text":            {{"content", codeEmptyContent}},
	"image":           {{"media_id", codeInvalidMediaID}},
	"voice":           {{"media_id", codeInvalidMediaID}},
	"video":           {{"media_id", codeInvalidMediaID}},
	"music":           {{"thumb_media_id", codeInvalidMediaID}},
	"mpnews":          {{"media_id", codeInvalidMediaID}},
	"mpnewsarticle":   {{"article_id", codeDataFormat}},
	"wxcard":          {{"card_id", codeDataFormat}},
	"miniprogrampage": {{"appid", codeDataFormat}, {"pagepath", codeDataFormat}, {"thumb_media_id", codeInvalidMediaID}},
	"news":            nil,
	"msgmenu":         nil,
}

// serveCustom is POST /cgi-bin/message/custom/send.
func (s *Sim) serveCustom(w http.ResponseWriter, r *http.Request) {
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
	req, raw, code := s.validateCustom(obj)
	if code != 0 {
		s.reject(w, code, "")
		return
	}
	req.N = seq
	s.deliver(w, r, req, raw)
}

// validateCustom applies every check before the faults to a decoded body.
// It returns the request, the compact message object, and 0 or the errcode.
func (s *Sim) validateCustom(obj map[string]json.RawMessage) (SendRequest, json.RawMessage, int) {
	req := SendRequest{Kind: KindCustom}
	var ok bool
	if req.ToUser, ok = stringField(obj, "touser"); !ok {
		return req, nil, codeDataFormat
	}
	if req.MsgType, ok = stringField(obj, "msgtype"); !ok {
		return req, nil, codeDataFormat
	}
	switch {
	case !openIDPattern.MatchString(req.ToUser):
		return req, nil, codeInvalidOpenID
	case s.unfollowed[req.ToUser]:
		return req, nil, codeOutOfWindow
	case !s.isFollower(req.ToUser):
		return req, nil, codeInvalidOpenID
	}
	fields, known := customFields[req.MsgType]
	if !known {
		return req, nil, codeInvalidMsgType
	}
	raw := bytes.TrimSpace(obj[req.MsgType])
	var body map[string]json.RawMessage
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &body) != nil {
		return req, nil, codeDataFormat
	}
	for _, f := range fields {
		v, ok := stringField(body, f.name)
		if !ok {
			return req, nil, codeDataFormat
		}
		if v == "" {
			return req, nil, f.code
		}
	}
	switch req.MsgType {
	case "news":
		var news struct {
			Articles []json.RawMessage `json:"articles"`
		}
		if json.Unmarshal(raw, &news) != nil {
			return req, nil, codeDataFormat
		}
		switch {
		case len(news.Articles) == 0:
			return req, nil, codeEmptyNews
		case len(news.Articles) > maxCustomNewsArticle:
			return req, nil, codeArticleSize
		}
	case "msgmenu":
		var menu struct {
			List []json.RawMessage `json:"list"`
		}
		if json.Unmarshal(raw, &menu) != nil || len(menu.List) == 0 {
			return req, nil, codeDataFormat
		}
	}
	if !s.inWindow(req.ToUser) {
		return req, nil, codeOutOfWindow
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return req, nil, codeDataFormat
	}
	return req, buf.Bytes(), 0
}

// inWindow reports whether openID is inside its 48-hour interaction
// window: one of Options.Interacted, less than 48 hours after it opened.
func (s *Sim) inWindow(openID string) bool {
	if !s.interacted.has(openID) {
		return false
	}
	s.mu.Lock()
	now := s.nowLocked()
	s.mu.Unlock()
	return now.Before(s.windowOpened.Add(customWindow))
}

// acceptCustomLocked counts a customer-service message against the
// openid's window and the day's limit and records its delivery. It returns
// 0, 45047 or 45009. Callers hold s.mu.
func (s *Sim) acceptCustomLocked(req SendRequest, raw json.RawMessage, now time.Time) int {
	if limit := s.opts.CustomLimit; limit > 0 && s.customSent[req.ToUser] >= limit {
		return codeOutOfCount
	}
	if s.customUsed >= customDailyLimit {
		return codeDailyQuota
	}
	if s.customSent == nil {
		s.customSent = make(map[string]int)
	}
	s.customSent[req.ToUser]++
	s.customUsed++
	s.recordLocked(Delivery{Kind: KindCustom, OpenID: req.ToUser, MsgType: req.MsgType, Data: raw, Time: now})
	s.stats.Accepted++
	s.stats.AcceptedByKind[KindCustom]++
	return 0
}

// decodeObjectBody reads a POST body that must be a JSON object and
// returns its members by exact key (WeChat's field names are
// case-sensitive, unlike encoding/json's matching into a struct), and 0, a
// body errcode (44002, 45002, 47001), or -1 if the client went away.
func decodeObjectBody(r *http.Request) (map[string]json.RawMessage, int) {
	body, err := readBody(r)
	switch {
	case errors.Is(err, errBodyTooLarge):
		return nil, codeContentSize
	case err != nil:
		return nil, -1
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, codeEmptyPostData
	}
	var obj map[string]json.RawMessage
	if body[0] != '{' || json.Unmarshal(body, &obj) != nil {
		return nil, codeDataFormat
	}
	return obj, 0
}

// stringField returns obj[key] as a string: "" when absent or null, and
// false when it is there but not a string.
func stringField(obj map[string]json.RawMessage, key string) (string, bool) {
	raw, ok := obj[key]
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return "", true
	}
	var v string
	if json.Unmarshal(raw, &v) != nil {
		return "", false
	}
	return v, true
}
