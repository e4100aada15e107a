package wechat

import (
	"errors"
	"fmt"
	"net/http"
)

// Class tells the engine what to do about an error; the ledger keeps the
// errcode itself. The classes are the table in PRODUCT.md.
type Class int

// The error classes.
const (
	// ClassNone is the class of nil and of errors that are not about WeChat
	// at all (a token command that failed, a bug). A request ended by its
	// own context is a *RequestError, so transient: callers that stop on
	// purpose check their context first.
	ClassNone Class = iota
	// ClassTransient errors are retried with backoff and the same client_msg_id.
	ClassTransient
	// ClassToken errors mean the access token is stale: refresh once, retry.
	ClassToken
	// ClassRate errors mean WeChat wants the whole batch to slow down.
	ClassRate
	// ClassQuota is the daily quota (45009): pause until it resets.
	ClassQuota
	// ClassRecipient errors are permanent for one recipient; carry on.
	ClassRecipient
	// ClassFatal errors stop the batch at once: configuration, template or
	// account problems that every further send would repeat.
	ClassFatal
)

var classNames = [...]string{"none", "transient", "token", "rate", "quota", "recipient", "fatal"}

func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("class(%d)", int(c))
}

// APIError is an answer from WeChat with a non-zero errcode.
type APIError struct {
	Op    string // the API called, e.g. "message/template/send"
	Code  int    // errcode
	Msg   string // errmsg as WeChat sent it, with its rid
	Class Class
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s: errcode %d: %s", e.Op, e.Code, e.Msg)
}

// RequestError is a request that got no usable answer from WeChat: a
// connection failure, a timeout, an HTTP error status or a body that is not
// WeChat's JSON. It is transient, but for HTTP 501 Not Implemented, which
// WeChat never answers and no retry changes (megasend's sandbox answers it
// for an API it does not simulate): that is fatal.
type RequestError struct {
	Op string
	// Sent reports that the request may have reached WeChat (it was written
	// to the connection). Such a send may have been delivered; it is safe to
	// resend only with the same client_msg_id inside the dedup window.
	Sent bool
	// Status is the HTTP status, or 0 if none was received.
	Status int
	Err    error // with every URL and secret removed
}

func (e *RequestError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("%s: HTTP %d: %v", e.Op, e.Status, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Op, e.Err)
}

func (e *RequestError) Unwrap() error { return e.Err }

// ClassOf returns the class of err: the APIError's class, ClassTransient
// for a RequestError (ClassFatal for HTTP 501), ClassNone otherwise.
func ClassOf(err error) Class {
	// Without errors.As, whose target escapes to the heap: the client and
	// the engine ask after every send, nearly always about nil.
	if err == nil {
		return ClassNone
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Class
	}
	var re *RequestError
	if errors.As(err, &re) {
		if re.Status == http.StatusNotImplemented {
			return ClassFatal
		}
		return ClassTransient
	}
	return ClassNone
}

// Errcode returns the errcode carried by err: the APIError's code, -1 for a
// RequestError (WeChat's "system error", which is how the ledger records a
// send that got no answer), 0 otherwise.
func Errcode(err error) int {
	if err == nil {
		return 0
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Code
	}
	var re *RequestError
	if errors.As(err, &re) {
		return -1
	}
	return 0
}

// IsRefused reports a request that never left: the connection was refused
// or the host could not be resolved, so nothing reached WeChat and no
// answer came back.
func IsRefused(err error) bool {
	var re *RequestError
	return errors.As(err, &re) && !re.Sent && re.Status == 0
}

// IsAmbiguous reports whether err leaves open that WeChat accepted the
// message: the request was written but no answer came back.
func IsAmbiguous(err error) bool {
	var re *RequestError
	return errors.As(err, &re) && re.Sent
}

// IsTokenExpired reports whether err says the access token must be refreshed.
func IsTokenExpired(err error) bool { return ClassOf(err) == ClassToken }

// IsRetryable reports whether the same request may succeed if sent again
// later: transient, token and rate errors.
func IsRetryable(err error) bool {
	switch ClassOf(err) {
	case ClassTransient, ClassToken, ClassRate:
		return true
	}
	return false
}
