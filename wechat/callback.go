package wechat

// The callback protocol (消息推送): what an account's server checks before
// it believes a request came from WeChat. From WeChat's "接入概述" and
// "消息加解密说明" (wechat-api.md §10):
//
//   - URL verification, when the URL is saved in the console:
//     GET ?signature=S&timestamp=T&nonce=N&echostr=E, where
//     S = hex(sha1(concat(sort(token, T, N)))); answer E verbatim.
//   - Plain mode: POST ?signature=S&timestamp=T&nonce=N&openid=O with the
//     XML. S covers the query only, not the body.
//   - Safe mode: the same plus encrypt_type=aes and
//     msg_signature = hex(sha1(concat(sort(token, T, N, Encrypt)))), with
//     the body the <Encrypt> envelope (callback_crypto.go). Compatible mode
//     is the same with the plain fields beside <Encrypt>.
//   - Answer "success" or an empty body within 5 s, or WeChat tries again
//     (three tries in all): record pushes idempotently, receipts by MsgID.
//
// Nothing here serves HTTP: Receiver turns a request's query and body into
// an Event or a sentinel error, and CallbackHTTPStatus turns the error into
// the status to answer, so that a handler is a few lines.

import (
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// CallbackSuccess is the body that tells WeChat a push was taken; an empty
// body does too.
const CallbackSuccess = "success"

// Errors of the callback protocol, besides ErrBadPush, ErrBadCiphertext and
// ErrForeignAppID. Receiver wraps them with the reason; test with errors.Is
// or map with CallbackHTTPStatus.
var (
	// ErrBadSignature is a request whose signature or msg_signature is
	// missing or does not match the callback token, or a plain push to an
	// account configured for safe mode. A callback answers it 403.
	ErrBadSignature = errors.New("bad signature")
	// ErrNoAESKey is a safe-mode push (<Encrypt> only) to a receiver with
	// no EncodingAESKey: the account's configuration is incomplete, so a
	// callback answers it 500 and WeChat tries again.
	ErrNoAESKey = errors.New("encrypted push, but no EncodingAESKey is configured")
)

// Signature is WeChat's callback signature: the lowercase hex SHA-1 of the
// parts sorted bytewise and joined. URL verification and plain pushes sign
// (token, timestamp, nonce); safe mode's msg_signature adds the Encrypt
// value.
func Signature(parts ...string) string {
	sorted := slices.Clone(parts)
	slices.Sort(sorted)
	h := sha1.New()
	for _, p := range sorted {
		io.WriteString(h, p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// VerifySignature reports whether signature is WeChat's signature of
// (token, timestamp, nonce), as URL verification and every push carry it.
// The comparison takes constant time; an empty token verifies nothing.
func VerifySignature(token, timestamp, nonce, signature string) bool {
	return token != "" && sameSignature(signature, token, timestamp, nonce)
}

// VerifyMsgSignature reports whether msgSignature is safe mode's signature
// of (token, timestamp, nonce, encrypted), encrypted being the push's
// Encrypt value. The comparison takes constant time; an empty token
// verifies nothing.
func VerifyMsgSignature(token, timestamp, nonce, encrypted, msgSignature string) bool {
	return token != "" && sameSignature(msgSignature, token, timestamp, nonce, encrypted)
}

// sameSignature compares got with the signature of parts in constant time,
// ignoring the case of got's hex digits.
func sameSignature(got string, parts ...string) bool {
	want := Signature(parts...)
	return subtle.ConstantTimeCompare([]byte(strings.ToLower(got)), []byte(want)) == 1
}

// CallbackConfig is what an account's server knows to check WeChat's
// pushes: the console's Token and, for safe or compatible mode, its
// EncodingAESKey and the account's app id. String, GoString and LogValue
// hide the token and the key.
type CallbackConfig struct {
	// Token is the callback token set in the console (令牌). Required.
	Token string
	// EncodingAESKey is the 43-character message key (消息加解密密钥).
	// Empty means plain mode; set, the receiver accepts encrypted pushes
	// only.
	EncodingAESKey string
	// AppID is the account's app id, which every encrypted message must
	// end with. Required with EncodingAESKey.
	AppID string
}

// String shows the config without its token and key.
func (c CallbackConfig) String() string {
	mode := "plain"
	if c.EncodingAESKey != "" {
		mode = "safe"
	}
	return fmt.Sprintf("wechat.CallbackConfig{AppID:%s Mode:%s Token:[redacted]}", c.AppID, mode)
}

// GoString is String, for %#v.
func (c CallbackConfig) GoString() string { return c.String() }

// LogValue is String, for log/slog.
func (c CallbackConfig) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Receiver checks and opens the pushes of one account. Build one with
// NewReceiver at start-up; it is safe for concurrent use.
type Receiver struct {
	token   string
	crypter *Crypter // nil in plain mode
}

// NewReceiver returns a Receiver for cfg. It fails if the token is empty,
// and with ErrBadAESKey if an EncodingAESKey is set but malformed or the
// app id is missing; no error reveals the token or the key.
func NewReceiver(cfg CallbackConfig) (*Receiver, error) {
	if cfg.Token == "" {
		return nil, errors.New("callback: empty token")
	}
	r := &Receiver{token: cfg.Token}
	if cfg.EncodingAESKey != "" {
		if cfg.AppID == "" {
			return nil, fmt.Errorf("callback: %w: safe mode needs the account's app id", ErrBadAESKey)
		}
		c, err := NewCrypter(cfg.EncodingAESKey, cfg.AppID)
		if err != nil {
			return nil, fmt.Errorf("callback: %w", err)
		}
		r.crypter = c
	}
	return r, nil
}

// String shows the receiver's mode, never its token or key (the value
// receiver covers a dereferenced Receiver too).
func (r Receiver) String() string {
	if r.crypter != nil {
		return "wechat.Receiver(safe, " + r.crypter.appID + ")"
	}
	return "wechat.Receiver(plain)"
}

// GoString is String, for %#v.
func (r Receiver) GoString() string { return r.String() }

// LogValue is String, for log/slog.
func (r Receiver) LogValue() slog.Value { return slog.StringValue(r.String()) }

// VerifyURL answers WeChat's URL verification: it returns the echostr to
// write back verbatim (and nothing else) if the query's signature matches
// the token, ErrBadSignature if it does not, and ErrBadPush if there is no
// echostr. WeChat sends this request unencrypted in every mode.
func (r *Receiver) VerifyURL(query url.Values) (string, error) {
	echo := query.Get("echostr")
	if echo == "" {
		return "", fmt.Errorf("url verification: %w: no echostr", ErrBadPush)
	}
	if !VerifySignature(r.token, query.Get("timestamp"), query.Get("nonce"), query.Get("signature")) {
		return "", fmt.Errorf("url verification: %w", ErrBadSignature)
	}
	return echo, nil
}

// Open checks a push's signature, decrypts it in safe mode, and parses it.
// query is the request's URL query, body its body (bound it by
// MaxPushBytes when reading).
//
// In plain mode (no encrypt_type, or "raw") the signature must match; a
// receiver configured with an EncodingAESKey refuses plain pushes, since
// a plain signature covers the query and not the body, and anyone who saw
// one signed URL could post any body under it. With encrypt_type=aes the
// msg_signature must match the <Encrypt> value (and a signature beside
// it must match too), then the message is decrypted and must end with the
// account's app id. A receiver without an EncodingAESKey takes a
// compatible-mode push by its plain fields and answers ErrNoAESKey to one
// that has only <Encrypt>.
//
// Errors wrap ErrBadSignature, ErrBadPush, ErrBadCiphertext,
// ErrForeignAppID or ErrNoAESKey (see CallbackHTTPStatus). Open never
// panics.
func (r *Receiver) Open(query url.Values, body []byte) (Event, error) {
	ts, nonce := query.Get("timestamp"), query.Get("nonce")
	switch query.Get("encrypt_type") {
	case "", "raw":
		if r.crypter != nil {
			return Event{}, fmt.Errorf("open push: %w: a plain push, but the account is in safe mode", ErrBadSignature)
		}
		if !VerifySignature(r.token, ts, nonce, query.Get("signature")) {
			return Event{}, fmt.Errorf("open push: %w", ErrBadSignature)
		}
		e, err := ParseEvent(body)
		if err != nil {
			return Event{}, fmt.Errorf("open push: %w", err)
		}
		e.Encrypt = ""
		return e, nil
	case "aes":
	default:
		return Event{}, fmt.Errorf("open push: %w: unknown encrypt_type", ErrBadPush)
	}

	outer, err := ParseEvent(body)
	switch {
	case err != nil:
		return Event{}, fmt.Errorf("open push: %w", err)
	case outer.Encrypt == "":
		return Event{}, fmt.Errorf("open push: %w: encrypt_type=aes without <Encrypt>", ErrBadPush)
	}
	// Signatures first: until they match, the ciphertext is a stranger's,
	// and Decrypt's refusals must not answer a stranger (padding oracle).
	if !VerifyMsgSignature(r.token, ts, nonce, outer.Encrypt, query.Get("msg_signature")) {
		return Event{}, fmt.Errorf("open push: %w: msg_signature", ErrBadSignature)
	}
	if query.Has("signature") && !VerifySignature(r.token, ts, nonce, query.Get("signature")) {
		return Event{}, fmt.Errorf("open push: %w", ErrBadSignature)
	}
	if r.crypter == nil {
		if outer.MsgType == "" {
			return Event{}, fmt.Errorf("open push: %w", ErrNoAESKey)
		}
		outer.Encrypt = "" // compatible mode: the plain fields, as plain mode would read them
		return outer, nil
	}
	msg, err := r.crypter.Decrypt(outer.Encrypt)
	if err != nil {
		return Event{}, fmt.Errorf("open push: %w", err)
	}
	e, err := ParseEvent(msg)
	switch {
	case err != nil:
		return Event{}, fmt.Errorf("open push: decrypted message: %w", err)
	case e.Encrypt != "":
		return Event{}, fmt.Errorf("open push: %w: an envelope inside the envelope", ErrBadPush)
	}
	return e, nil
}

// OpenPush is NewReceiver(cfg) and Open in one call, for a handler that
// does not keep a Receiver.
func OpenPush(cfg CallbackConfig, query url.Values, body []byte) (Event, error) {
	r, err := NewReceiver(cfg)
	if err != nil {
		return Event{}, err
	}
	return r.Open(query, body)
}

// VerifyURL is NewReceiver(cfg) and VerifyURL in one call.
func VerifyURL(cfg CallbackConfig, query url.Values) (string, error) {
	r, err := NewReceiver(cfg)
	if err != nil {
		return "", err
	}
	return r.VerifyURL(query)
}

// CallbackHTTPStatus is the status a callback answers for an error from
// Receiver (or a body refused by http.MaxBytesReader): 200 for nil, 400
// for a malformed request or ciphertext, 403 for a bad signature or
// another account's message, 413 for a body over the limit, and 500 for
// anything else, such as a missing EncodingAESKey or a failure to record,
// which WeChat should try again.
func CallbackHTTPStatus(err error) int {
	var tooBig *http.MaxBytesError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrBadSignature), errors.Is(err, ErrForeignAppID):
		return http.StatusForbidden
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrBadPush), errors.Is(err, ErrBadCiphertext):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}
