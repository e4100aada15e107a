package wechattest

// POST /cgi-bin/message/template/send. Checks run in this order, and the
// first failure answers:
//
//	token          41001 missing, 40001 unknown/superseded/revoked, 42001 expired
//	method         43002 unless POST
//	body           44002 empty, 45002 over 1 MiB, 47001 not a JSON object or wrong field types
//	               (but "miniprogram":[], which PHP clients send, is taken as absent),
//	               45067 client_msg_id over 64 bytes
//	template_id    40036 empty, 40037 not registered
//	touser         40003 unless 28 characters of [A-Za-z0-9_-]
//	follower       43004 for Options.Unfollowed, 40003 outside the follower
//	               set when Options.Followers makes membership real
//	data           47001 missing, 47003 a category value breaking its rule
//	faults         the hook, the queued knobs, FailRate
//	dedup          same (touser, client_msg_id) inside DedupWindow: errcode 0 with the original msgid
//	quota          45009 once the day's quota is used
//	accept         errcode 0, msgid, Delivery recorded, receipt queued (Options.CallbackURL)
//
// WeChat documents no answer for an over-long client_msg_id on this
// endpoint; the simulator borrows mass-send's 45067 "clientmsgid size out of
// limit", whose 64-byte limit PRODUCT.md also adopts.

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
)

// maxClientMsgID is the longest client_msg_id accepted, in bytes.
const maxClientMsgID = 64

// openIDPattern is what a real openid looks like: 28 url-safe characters.
var openIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{28}$`)

// SendRequest is a send as the simulator decoded it, handed to the hook
// installed with SetHook: a template message, a customer-service message or
// a subscribe notification (Kind).
type SendRequest struct {
	// N is the ordinal of this request among all send requests of every
	// kind since New, from 1: "fail every 100th" is N%100 == 0.
	N int64
	// Kind is KindTemplate, KindCustom or KindSubscribe.
	Kind string
	// MsgType is a customer-service message's msgtype (text, news …).
	MsgType    string
	ToUser     string
	TemplateID string
	// URL is a template message's url, or a subscribe notification's page.
	URL         string
	MiniProgram *MiniProgram
	ClientMsgID string
	Data        map[string]DataValue
}

// MiniProgram is the optional miniprogram field of a send.
type MiniProgram struct {
	AppID    string `json:"appid"`
	PagePath string `json:"pagepath"`
}

// DataValue is one entry of a send's data object.
type DataValue struct {
	Value string `json:"value"`
	// Color is accepted and ignored, as WeChat has since 2023-05-04.
	Color string `json:"color,omitempty"`
}

// sendWire is the request body, decoded independently of the wechat client
// package so that the simulator cross-checks what the client encodes.
type sendWire struct {
	ToUser      string           `json:"touser"`
	TemplateID  string           `json:"template_id"`
	URL         string           `json:"url"`
	MiniProgram miniProgramField `json:"miniprogram"`
	ClientMsgID string           `json:"client_msg_id"`
	Data        json.RawMessage  `json:"data"`
}

// miniProgramField decodes the miniprogram member: an object, null, or an
// empty array. PHP's json_encode writes an empty array as [], so PHP clients
// that leave the jump unset send "miniprogram":[], and WeChat takes it as
// absent; anything else that is not an object is 47001.
type miniProgramField struct{ mp *MiniProgram }

func (f *miniProgramField) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		f.mp = nil
		return nil
	case b[0] == '[' && len(bytes.TrimSpace(b[1:len(b)-1])) == 0:
		f.mp = nil
		return nil
	}
	if f.mp == nil {
		f.mp = new(MiniProgram)
	}
	// Into the object a duplicate key already filled, as encoding/json does
	// for a pointer field.
	return json.Unmarshal(b, f.mp)
}

// serveSend is POST /cgi-bin/message/template/send.
func (s *Sim) serveSend(w http.ResponseWriter, r *http.Request) {
	seq, ok := s.startSend(w, r, true)
	if !ok {
		return
	}
	req, raw, code := s.decodeSend(r)
	switch {
	case code < 0:
		return // the client went away mid-body
	case code > 0:
		s.reject(w, code, "")
		return
	}
	req.N, req.Kind = seq, KindTemplate
	if code, detail := s.validateSend(req, raw); code != 0 {
		s.reject(w, code, detail)
		return
	}
	s.deliver(w, r, req, raw)
}

// startSend counts a send request of any kind and checks its token and
// method, answering the error itself. It returns the request's ordinal and
// whether the request may go on. template counts it in Stats.Requests.
func (s *Sim) startSend(w http.ResponseWriter, r *http.Request, template bool) (int64, bool) {
	s.mu.Lock()
	s.sendSeq++
	seq := s.sendSeq
	if template {
		s.stats.Requests++
	}
	if s.revokeDueLocked(seq) {
		s.revokeLocked()
	}
	code := s.tokenCodeLocked(r.URL.Query().Get("access_token"), s.nowLocked())
	s.mu.Unlock()
	if code != 0 {
		s.reject(w, code, "")
		return 0, false
	}
	if r.Method != http.MethodPost {
		s.reject(w, codeRequirePOST, "")
		return 0, false
	}
	return seq, true
}

// decodeSend reads and decodes the body. It returns the request, the compact
// data object, and 0, a body errcode, or -1 if the body could not be read.
func (s *Sim) decodeSend(r *http.Request) (SendRequest, json.RawMessage, int) {
	body, err := readBody(r)
	switch {
	case errors.Is(err, errBodyTooLarge):
		return SendRequest{}, nil, codeContentSize
	case err != nil:
		return SendRequest{}, nil, -1
	}
	return decodeSendBody(body)
}

// decodeSendBody decodes a body read whole: by decodeSendFast when it can
// answer, which is for every body megasend's renderer produces, and by
// decodeSendJSON otherwise. The two give the same answer (FuzzDecodeSend).
func decodeSendBody(body []byte) (SendRequest, json.RawMessage, int) {
	if req, raw, code, ok := decodeSendFast(body); ok {
		return req, raw, code
	}
	return decodeSendJSON(body)
}

// decodeSendJSON decodes body with encoding/json. It is the reference: its
// answer for any body, including what it tolerates (keys in any case,
// duplicate keys, null, white space, invalid UTF-8), defines the endpoint,
// and decodeSendFast must agree with it wherever that one answers. It
// returns the request, the compact data object, and 0 or a body errcode.
func decodeSendJSON(body []byte) (SendRequest, json.RawMessage, int) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return SendRequest{}, nil, codeEmptyPostData
	}
	var wire sendWire
	if body[0] != '{' || json.Unmarshal(body, &wire) != nil {
		return SendRequest{}, nil, codeDataFormat
	}
	req := SendRequest{
		ToUser:      wire.ToUser,
		TemplateID:  wire.TemplateID,
		URL:         wire.URL,
		MiniProgram: wire.MiniProgram.mp,
		ClientMsgID: wire.ClientMsgID,
	}
	var raw json.RawMessage
	if d := bytes.TrimSpace(wire.Data); len(d) > 0 && !bytes.Equal(d, []byte("null")) {
		if d[0] != '{' || json.Unmarshal(d, &req.Data) != nil {
			return SendRequest{}, nil, codeDataFormat
		}
		var buf bytes.Buffer
		if json.Compact(&buf, d) != nil {
			return SendRequest{}, nil, codeDataFormat
		}
		raw = buf.Bytes()
	}
	if len(req.ClientMsgID) > maxClientMsgID {
		return SendRequest{}, nil, codeClientMsgIDSize
	}
	return req, raw, 0
}

// validateSend applies the checks that depend on the account: template,
// recipient, data. It returns 0 or the errcode, and for 47003 the key.
func (s *Sim) validateSend(req SendRequest, raw json.RawMessage) (code int, key string) {
	switch {
	case req.TemplateID == "":
		return codeTemplateIDSize, ""
	case !s.templateKnown(req.TemplateID):
		return codeInvalidTemplate, ""
	case !openIDPattern.MatchString(req.ToUser):
		return codeInvalidOpenID, ""
	case s.unfollowed[req.ToUser]:
		return codeRequireSubscribe, ""
	case !s.isFollower(req.ToUser):
		return codeInvalidOpenID, ""
	case raw == nil:
		return codeDataFormat, ""
	}
	if key := firstInvalidValue(req.Data); key != "" {
		return codeArgumentInvalid, key
	}
	return 0, ""
}

// deliver runs a valid send through the faults, dedup, quota and
// acceptance, and writes the answer the fault (if any) dictates.
func (s *Sim) deliver(w http.ResponseWriter, r *http.Request, req SendRequest, raw json.RawMessage) {
	f := s.pickFault(req)
	if f != nil && !f.Deliver {
		// The fault happens before the message reaches WeChat: a delay is
		// time on the wire (a client giving up means nothing was sent).
		if !s.wait(r.Context(), f.Delay) {
			return
		}
		if f.answers() {
			s.writeFault(w, f)
			return
		}
	}

	code, msgID := s.accept(req, raw)

	if f != nil && f.Deliver {
		// Delivered, but the client is not told: it holds, or breaks.
		if f.Delay > 0 {
			s.count(func(st *Stats) { st.Stalled++ })
			if !s.wait(r.Context(), f.Delay) {
				return
			}
		}
		if f.answers() {
			s.writeFault(w, f)
			return
		}
	}
	if code != 0 {
		s.reject(w, code, "")
		return
	}
	if req.Kind != KindTemplate {
		writeJSON(w, apiError{Errmsg: "ok"}) // no msgid: custom/send and bizsend answer none
		return
	}
	writeSendOK(w, msgID)
}

// accept applies dedup and quota, and records the delivery. It returns the
// errcode (0 or 45009; for custom messages 45047 too) and the msgid: the
// original one for a duplicate, 0 for the kinds that answer none.
func (s *Sim) accept(req SendRequest, raw json.RawMessage) (int, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	switch req.Kind {
	case KindCustom:
		return s.acceptCustomLocked(req, raw, now), 0
	case KindSubscribe:
		return s.acceptSubscribeLocked(req, raw, now), 0
	}
	window := s.opts.DedupWindow
	dedup := req.ClientMsgID != "" && window > 0
	key := dedupKey{openID: req.ToUser, clientMsgID: req.ClientMsgID}
	if dedup {
		if id, ok := s.dedup.lookup(key, now, window); ok {
			s.stats.Deduplicated++
			return 0, id
		}
	}
	if s.quotaUsed >= s.quota {
		return codeDailyQuota, 0
	}
	s.quotaUsed++
	s.nextMsgID += 1 + s.rng.Int64N(4096)
	id := s.nextMsgID
	if dedup {
		s.dedup.add(key, id, now)
	}
	s.recordLocked(Delivery{
		Kind:        KindTemplate,
		OpenID:      req.ToUser,
		TemplateID:  req.TemplateID,
		ClientMsgID: req.ClientMsgID,
		MsgID:       id,
		Data:        raw,
		Time:        now,
	})
	if s.receipts != nil {
		// Under the lock, so receipts queue in acceptance order; enqueue
		// never blocks.
		s.receipts.enqueue(receiptJob{openID: req.ToUser, msgID: id, createTime: now.Unix(), status: s.receiptStatus(req.ToUser)})
	}
	s.stats.Accepted++
	s.stats.AcceptedByKind[KindTemplate]++
	return 0, id
}

// reject answers a send of any kind with errcode code and counts it. key names
// the offending data key of a 47003.
func (s *Sim) reject(w http.ResponseWriter, code int, key string) {
	s.count(func(st *Stats) { st.Rejected[code]++ })
	msg := errmsg(code)
	if code == codeArgumentInvalid && key != "" {
		msg += " data." + key + ".value invalid"
	}
	s.writeErrorMsg(w, code, msg)
}

// count updates the stats under the lock.
func (s *Sim) count(f func(*Stats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.stats)
}
