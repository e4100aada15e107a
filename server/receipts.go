package server

// The account's callback URL, /wechat/callback/{account}: WeChat's URL
// verification, and the pushes it posts there, of which megasend records
// the template messages' delivery receipts (TEMPLATESENDJOBFINISH). No API
// key: WeChat signs each request with the account's callback token, and
// wechat.Receiver checks it (plain and safe mode) before anything is read.

import (
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/megasend/megasend/wechat"
)

// receiver returns the account's receiver: 404 for an account this server
// does not serve, or serves without a callback token.
func (s *Server) receiver(r *http.Request) (string, *wechat.Receiver, error) {
	account := r.PathValue("account")
	recv, ok := s.receivers[account]
	if !ok {
		return "", nil, &httpError{Status: http.StatusNotFound, Code: "not_found", Field: "account",
			Msg: fmt.Sprintf("no callback for account %q: it is not served here, or has no callback_token", account)}
	}
	return account, recv, nil
}

// callbackError is a refusal of the callback protocol, with the status
// wechat.CallbackHTTPStatus gives it (403 for a bad signature).
func callbackError(err error) error {
	status := wechat.CallbackHTTPStatus(err)
	code := "bad_request"
	switch status {
	case http.StatusForbidden:
		code = "forbidden"
	case http.StatusRequestEntityTooLarge:
		return err // Error writes the 413
	case http.StatusInternalServerError:
		return err
	}
	return &httpError{Status: status, Code: code, Msg: err.Error(), Err: err}
}

// handleCallbackVerify answers WeChat's URL verification with the echostr,
// as it came, when the signature is the account's.
func (s *Server) handleCallbackVerify(w http.ResponseWriter, r *http.Request) error {
	_, recv, err := s.receiver(r)
	if err != nil {
		return err
	}
	echo, err := recv.VerifyURL(r.URL.Query())
	if err != nil {
		return callbackError(err)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err = io.WriteString(w, echo)
	return err
}

// handleCallbackPush opens a push and records it if it is a delivery
// receipt, once per msgid however often WeChat repeats it; it answers
// "success", which stops WeChat's retries. A push whose receipt cannot be
// recorded is answered 500, so that WeChat tries it again.
func (s *Server) handleCallbackPush(w http.ResponseWriter, r *http.Request) error {
	account, recv, err := s.receiver(r)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, wechat.MaxPushBytes))
	if err != nil {
		return readError(err)
	}
	e, err := recv.Open(r.URL.Query(), body)
	if err != nil {
		s.log.Warn("callback refused", "account", account, "err", err)
		return callbackError(err)
	}
	if e.IsReceipt() {
		if err := s.recordReceipt(r, account, e); err != nil {
			return err
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err = io.WriteString(w, wechat.CallbackSuccess)
	return err
}

// recordReceipt records receipt e of account's message. A status WeChat
// does not document is logged and not recorded: guessing would misreport,
// and asking WeChat to repeat it would not change it.
func (s *Server) recordReceipt(r *http.Request, account string, e wechat.Event) error {
	outcome := e.Status.Outcome()
	if outcome == "" {
		s.log.Warn("receipt with an unknown status, not recorded", "account", account, "msgid", e.MsgID, "status", string(e.Status))
		return nil
	}
	var at time.Time
	if e.CreateTime > 0 {
		at = time.Unix(e.CreateTime, 0)
	}
	added, err := s.db.RecordReceipt(r.Context(), account, e.MsgID, outcome, at)
	if err != nil {
		return err
	}
	s.log.Debug("receipt", "account", account, "msgid", e.MsgID, "status", outcome, "new", added)
	return nil
}
