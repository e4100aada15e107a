package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/megasend/megasend/campaign"
)

// maxMessageBody bounds the body of POST /v1/messages: one recipient's
// variables.
const maxMessageBody = 64 << 10

// messageRequest is the body of POST /v1/messages.
type messageRequest struct {
	Template       string                     `json:"template"`
	OpenID         string                     `json:"openid"`
	Vars           map[string]json.RawMessage `json:"vars"`
	IdempotencyKey string                     `json:"idempotency_key"`
	SendAt         string                     `json:"send_at"`
}

// handleCreateMessage accepts a single message: 202 with the message once
// it is committed to the ledger; the same idempotency key and request again
// is 200 with the same message, never a second send; 409 for the key with
// another request; 422 naming the field for a message that cannot be sent.
func (s *Server) handleCreateMessage(w http.ResponseWriter, r *http.Request) error {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != mediaJSON {
		return &httpError{Status: http.StatusBadRequest, Code: "unsupported_media_type", Field: "Content-Type",
			Msg: "a message is JSON: send Content-Type: " + mediaJSON}
	}
	var req messageRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxMessageBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return messageJSONError(err)
	}
	if dec.More() {
		return badRequest("", "malformed JSON: data after the object")
	}
	spec, err := s.messageSpec(r, req)
	if err != nil {
		return err
	}
	m, replayed, err := s.svc.Accept(r.Context(), spec)
	if err != nil {
		return err
	}
	status := http.StatusAccepted
	if replayed {
		status = http.StatusOK
	}
	w.Header().Set("Location", "/v1/messages/"+strconv.FormatInt(m.ID, 10))
	return writeCompactJSON(w, status, m)
}

// messageSpec turns a decoded request into the lifecycle's spec.
func (s *Server) messageSpec(r *http.Request, req messageRequest) (campaign.MessageSpec, error) {
	account := accountOf(r.Context())
	spec := campaign.MessageSpec{Account: account, Template: req.Template, OpenID: req.OpenID,
		IdempotencyKey: req.IdempotencyKey, OpenIDs: s.accounts[account].OpenIDs, Vars: make(map[string]string, len(req.Vars))}
	if req.OpenID == "" {
		return spec, invalid("openid", "a message needs an openid")
	}
	for name, raw := range req.Vars {
		v, err := varValue(raw)
		if err != nil {
			return spec, invalid("vars."+name, fmt.Sprintf("vars.%s: %v", name, err))
		}
		spec.Vars[name] = v
	}
	if req.SendAt != "" {
		t, err := time.Parse(time.RFC3339, req.SendAt)
		if err != nil {
			return spec, invalid("send_at", fmt.Sprintf("send_at %q: want an RFC 3339 time such as 2026-11-22T18:00:00+08:00", req.SendAt))
		}
		spec.SendAt = t
	}
	return spec, nil
}

// varValue reads a variable's JSON value as a JSONL recipient file's are
// read: a string as it is, a number or boolean as its text, null as empty.
func varValue(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0:
		return "", errors.New("no value")
	case raw[0] == '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	case string(raw) == "null":
		return "", nil
	case string(raw) == "true", string(raw) == "false":
		return string(raw), nil
	case raw[0] == '-' || '0' <= raw[0] && raw[0] <= '9':
		return string(raw), nil
	}
	return "", errors.New("an object or array; only strings, numbers, booleans and null are allowed")
}

// messageJSONError is the 400 (or 413) for a message body that cannot be
// decoded.
func messageJSONError(err error) error {
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return badRequest("", "no body: a message is a JSON object {\"template\",\"openid\",\"vars\",...}")
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return badRequest("", err.Error())
	case errors.As(err, &te):
		return badRequest(te.Field, fmt.Sprintf("%s: want %s, got %s", te.Field, te.Type, te.Value))
	}
	return jsonError(err)
}

// handleGetMessage answers a message's whole trace: its states with their
// times, its attempts, WeChat's errcode or msgid, and its delivery receipt.
func (s *Server) handleGetMessage(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return &campaign.Error{Code: campaign.NotFound, Field: "id", Msg: fmt.Sprintf("no message %q: ids are positive numbers", r.PathValue("id"))}
	}
	m, err := s.svc.Trace(r.Context(), accountOf(r.Context()), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, m)
}
