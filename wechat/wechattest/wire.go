package wechattest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// contentType is the header WeChat really sends, "encoding=" and all.
const contentType = "application/json; encoding=utf-8"

// maxBody bounds a POST body; WeChat's own limit is not documented, and a
// template message is a few KiB at most.
const maxBody = 1 << 20

// errBodyTooLarge is returned by readBody for a body above maxBody.
var errBodyTooLarge = errors.New("request body too large")

// apiError is the JSON of every error answer.
type apiError struct {
	Errcode int    `json:"errcode"`
	Errmsg  string `json:"errmsg"`
}

// writeJSON answers HTTP 200 with v encoded the way WeChat does: raw UTF-8,
// no HTML escaping of & < >.
func writeJSON(w http.ResponseWriter, v any) {
	writeJSONAs(w, http.StatusOK, contentType, v)
}

// codeNotSimulated is the errcode of writeNotSimulated's answer: the HTTP
// status it goes with, and no code of WeChat's.
const codeNotSimulated = 501

// writeNotSimulated answers a request the simulator cannot answer as WeChat
// would, because it does not model what was asked (what). WeChat's own word
// for an API the account may not call, 48001 "api unauthorized", reads as a
// permission problem, so the answer is one no client can take for WeChat's:
// HTTP 501, which WeChat never sends, an ordinary JSON content type, an
// errcode outside WeChat's codes (so that a client reading only the body
// still sees an error) and an errmsg that says where it comes from, without
// a rid.
func writeNotSimulated(w http.ResponseWriter, what string) {
	writeJSONAs(w, http.StatusNotImplemented, "application/json; charset=utf-8", apiError{
		Errcode: codeNotSimulated,
		Errmsg:  "not simulated: the megasend sandbox does not model " + what + "; this answer is not WeChat's",
	})
}

// writeJSONAs answers status with v, encoded as writeJSON does, under the
// content type ct.
func writeJSONAs(w http.ResponseWriter, status int, ct string, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only the simulator's own types reach here; failing to encode
		// them is a bug in this package.
		panic(fmt.Sprintf("wechattest: encode response: %v", err))
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes()) // the client may be gone; nothing to do about it
}

// sendOKPrefix is the success answer of template/send up to the msgid.
const sendOKPrefix = `{"errcode":0,"errmsg":"ok","msgid":`

// writeSendOK answers a successful template/send with the bytes and headers
// writeJSON would for {"errcode":0,"errmsg":"ok","msgid":msgID}, without its
// reflection: this is the answer the sandbox writes most, under load.
func writeSendOK(w http.ResponseWriter, msgID int64) {
	// Room for the prefix, the longest int64, "}\n".
	b := make([]byte, 0, len(sendOKPrefix)+20+2)
	b = append(b, sendOKPrefix...)
	b = strconv.AppendInt(b, msgID, 10)
	b = append(b, '}', '\n') // json.Encoder ends every value with a newline
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	w.Write(b) // the client may be gone; nothing to do about it
}

// writeError answers errcode code with WeChat's message for it.
func (s *Sim) writeError(w http.ResponseWriter, code int) {
	s.writeErrorMsg(w, code, errmsg(code))
}

// writeErrorMsg answers errcode code with msg plus a fresh rid suffix.
func (s *Sim) writeErrorMsg(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, apiError{Errcode: code, Errmsg: msg + " rid: " + s.rid()})
}

// rid returns a request id in WeChat's current shape, 3 groups of 8 hex
// digits; like the real ones, the first group is the Unix time.
func (s *Sim) rid() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("%08x-%08x-%08x", uint32(s.opts.Now().Unix()), s.rng.Uint32(), s.rng.Uint32())
}

// readBody reads a POST body up to maxBody. It returns errBodyTooLarge past
// the limit, or the read error if the client went away.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if len(b) > maxBody {
		return nil, errBodyTooLarge
	}
	return b, nil
}

// decodePOST reads and decodes a JSON object body into v, answering the
// error itself (43002, 44002, 45002, 47001) and returning false when the
// request cannot go on.
func (s *Sim) decodePOST(w http.ResponseWriter, r *http.Request, v any) bool {
	if r.Method != http.MethodPost {
		s.writeError(w, codeRequirePOST)
		return false
	}
	body, err := readBody(r)
	switch {
	case errors.Is(err, errBodyTooLarge):
		s.writeError(w, codeContentSize)
		return false
	case err != nil:
		return false // the client is gone
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		s.writeError(w, codeEmptyPostData)
		return false
	}
	if body[0] != '{' || json.Unmarshal(body, v) != nil {
		s.writeError(w, codeDataFormat)
		return false
	}
	return true
}
