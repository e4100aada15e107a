package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync/atomic"
	"time"
)

// maxBody bounds how much of a response is read: WeChat's answers are small,
// and a proxy's error page must not be slurped whole.
const maxBody = 1 << 20

// status is the errcode and errmsg every WeChat response may carry. Data
// endpoints omit them on success, which decodes as 0.
type status struct {
	Errcode int    `json:"errcode"`
	Errmsg  string `json:"errmsg"`
}

func (s *status) apiStatus() *status { return s }

// response is implemented by every response type through its embedded status.
type response interface{ apiStatus() *status }

// apiError is errcode code from op, classed as op's kind of message means
// it (Classify's class for every op that sends no message).
func apiError(op string, code int, msg string) *APIError {
	return &APIError{Op: op, Code: code, Msg: msg, Class: ClassifyKind(opKinds[op], code)}
}

// do performs one API call: method to path with the encoded query (which may
// hold the access token) and body, decoding the answer into out. The request
// goes to the fallback host only if the primary cannot be connected to.
func (c *Client) do(ctx context.Context, op, method, path, query string, body []byte, out response) error {
	useFallback := c.fallback != "" && c.now().UnixNano() < c.fallbackUntil.Load()
	base := c.base
	if useFallback {
		base = c.fallback
	}
	err := c.doAt(ctx, base, op, method, path, query, body, out)
	if c.fallback != "" && !useFallback && isConnectFailure(err) {
		c.log.Warn("api host unreachable; using the fallback host", "host", hostOf(c.base), "fallback", hostOf(c.fallback))
		c.fallbackUntil.Store(c.now().Add(time.Minute).UnixNano())
		err = c.doAt(ctx, c.fallback, op, method, path, query, body, out)
	}
	return err
}

func (c *Client) doAt(ctx context.Context, base, op, method, path, query string, body []byte, out response) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	// written says the request may have reached WeChat. net/http reports
	// WroteRequest once the request is in the connection's buffer, before
	// the flush; when that flush fails with nothing sent on a pooled
	// connection (its peer gone a moment ago), the transport tries again
	// on a new one. Only the last try counts: each starts with GetConn, and
	// a try refused a connection writes nothing.
	var written atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GetConn:      func(string) { written.Store(false) },
		WroteRequest: func(info httptrace.WroteRequestInfo) { written.Store(info.Err == nil) },
	})
	u := base + path
	if query != "" {
		u += "?" + query
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return &RequestError{Op: op, Err: c.clean(err)}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return &RequestError{Op: op, Sent: written.Load(), Err: c.clean(err)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return &RequestError{Op: op, Sent: true, Status: resp.StatusCode, Err: c.clean(err)}
	}
	if resp.StatusCode != http.StatusOK {
		return &RequestError{Op: op, Sent: true, Status: resp.StatusCode, Err: c.statusError(resp.StatusCode, data)}
	}
	// Data endpoints omit errcode on success: a status left from an earlier
	// attempt decoded into the same value must not survive into this one.
	*out.apiStatus() = status{}
	if err := decodeAnswer(data, out); err != nil {
		ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		return &RequestError{Op: op, Sent: true, Status: resp.StatusCode,
			Err: fmt.Errorf("response is not WeChat's JSON (content type %q, %d bytes)", ct, len(data))}
	}
	if st := out.apiStatus(); st.Errcode != 0 {
		return apiError(op, st.Errcode, st.Errmsg)
	}
	return nil
}

// maxStatusDetail bounds how much of an error status's errmsg is kept.
const maxStatusDetail = 200

// statusError describes an HTTP error status. WeChat never answers one
// with JSON, but megasend's sandbox does for what it does not simulate
// (HTTP 501 and an errmsg saying so): its errmsg is kept, redacted and
// cut short, so that the user reads why instead of a bare "Not
// Implemented". A gateway's HTML page is not.
func (c *Client) statusError(code int, data []byte) error {
	text := http.StatusText(code)
	var st status
	if json.Unmarshal(data, &st) != nil || st.Errmsg == "" {
		return errors.New(text)
	}
	msg := redactQuery(st.Errmsg)
	if c.redact != nil {
		msg = c.redact.Replace(msg)
	}
	if r := []rune(msg); len(r) > maxStatusDetail {
		msg = string(r[:maxStatusDetail]) + "…"
	}
	return fmt.Errorf("%s: %s", text, msg)
}

// decodeAnswer decodes a response body into out, by out's own decoder if it
// has one.
func decodeAnswer(data []byte, out response) error {
	if d, ok := out.(interface{ decode([]byte) error }); ok {
		return d.decode(data)
	}
	return json.Unmarshal(data, out)
}

// clean strips what an HTTP error may carry of the request: *url.Error
// prints the whole URL, access token included.
func (c *Client) clean(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := err.Error()
	redacted := redactQuery(msg)
	if c.redact != nil {
		redacted = c.redact.Replace(redacted)
	}
	if redacted == msg {
		return err
	}
	return &redactedError{msg: redacted, err: err}
}

// redactedError keeps the cause for errors.Is while its text is scrubbed.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redactQuery blanks access_token= and secret= values anywhere in s.
func redactQuery(s string) string {
	for _, key := range []string{"access_token=", "secret="} {
		for i := 0; ; {
			j := bytes.Index([]byte(s[i:]), []byte(key))
			if j < 0 {
				break
			}
			start := i + j + len(key)
			end := start
			for end < len(s) && s[end] != '&' && s[end] != ' ' && s[end] != '"' {
				end++
			}
			s = s[:start] + "REDACTED" + s[end:]
			i = start + len("REDACTED")
		}
	}
	return s
}

// isConnectFailure reports an error that proves the request never left:
// the host could not be resolved or connected to.
func isConnectFailure(err error) bool {
	var re *RequestError
	if !errors.As(err, &re) || re.Sent {
		return false
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}

// tokenQuery is the query string of a call that carries only the token.
func tokenQuery(tok string) string { return "access_token=" + url.QueryEscape(tok) }

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Host
}

// postJSON marshals v without HTML escaping: WeChat rejects \u0026 in some
// bodies (40033), and URLs in templates carry '&'.
func postJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
