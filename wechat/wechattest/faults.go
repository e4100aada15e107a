package wechattest

// Faults shape the answer to an otherwise valid send of any kind (template
// message, customer-service message, subscribe notification), all from one
// queue: "the next n sends" counts every kind. They are consulted after the
// request has passed validation (so a fault never hides a 40037 or a 47003)
// and before dedup and quota. Order of precedence: the
// hook, then the queued knobs (FailNext, FailHTTP, HTMLNext, DropNext,
// StallNext, first queued first served), then FailRate.

import (
	"fmt"
	"net/http"
	"time"
)

// Fault describes how the simulator misbehaves for one send. The
// zero Fault (or a nil *Fault) means normal handling.
type Fault struct {
	// Errcode, if non-zero, is answered as a JSON error with WeChat's errmsg
	// for it (or Errmsg), e.g. -1, 45011, 40037, 43116, 48001.
	Errcode int
	// Errmsg overrides the errmsg for Errcode; the rid suffix is added.
	Errmsg string
	// HTTPStatus, if non-zero, is answered with an HTML gateway page, the
	// way the load balancer in front of WeChat fails (500, 502, 503 …).
	HTTPStatus int
	// HTML answers HTTP 200 with an HTML page instead of JSON, as a captive
	// portal or misconfigured proxy does.
	HTML bool
	// Drop closes the TCP connection without any answer.
	Drop bool
	// Delay holds the answer this long; a cancelled request or Close ends
	// the wait early.
	Delay time.Duration
	// Deliver makes the fault happen after WeChat accepted the message:
	// dedup, quota and the Delivery are recorded as for a normal send, and
	// only the answer misbehaves. Without Deliver, a fault that answers
	// (Errcode, HTTPStatus, HTML, Drop) means nothing was delivered, and a
	// Delay is spent before the message arrives (a client that gives up
	// during it sent nothing).
	Deliver bool
}

// answers reports whether f replaces the normal answer.
func (f *Fault) answers() bool {
	return f.Errcode != 0 || f.HTTPStatus != 0 || f.HTML || f.Drop
}

// queuedFault is a knob's fault with the number of sends it still applies to.
type queuedFault struct {
	fault Fault
	left  int
}

// SetHook installs a function consulted for every valid send; it
// returns the Fault to apply, or nil for the queued knobs and FailRate to
// decide. The hook runs without the simulator's lock held, concurrently for
// concurrent requests, so it may call the knobs but must synchronize its own
// state. SetHook(nil) removes it.
func (s *Sim) SetHook(hook func(req SendRequest) *Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = hook
}

// FailNext makes the next n valid sends answer errcode, with
// WeChat's errmsg for it; they are not delivered. A 45011 burst, a banned
// template (43116) or a whitelist error (40164) are all one call away.
func (s *Sim) FailNext(n int, errcode int) {
	s.queue(n, Fault{Errcode: errcode})
}

// FailHTTP makes the next n valid sends answer HTTP status (500,
// 502, 503 …) with an HTML body, like a gateway error page; they are not
// delivered.
func (s *Sim) FailHTTP(n int, status int) {
	s.queue(n, Fault{HTTPStatus: status})
}

// HTMLNext makes the next n valid sends answer HTTP 200 with an
// HTML page instead of JSON, as a proxy in the way would; they are not
// delivered.
func (s *Sim) HTMLNext(n int) {
	s.queue(n, Fault{HTML: true})
}

// DropNext makes the next n valid sends be delivered (recorded,
// charged to the quota, remembered for dedup) and then closes the
// connection without an answer: the client cannot tell it was sent.
func (s *Sim) DropNext(n int) {
	s.queue(n, Fault{Deliver: true, Drop: true})
}

// StallNext makes the next n valid sends be delivered, then holds
// each answer for d (longer than the client's timeout, typically); the hold
// ends early if the client gives up or the Sim is closed.
func (s *Sim) StallNext(n int, d time.Duration) {
	s.queue(n, Fault{Deliver: true, Delay: d})
}

// queue appends a fault for the next n sends; n <= 0 does nothing.
func (s *Sim) queue(n int, f Fault) {
	if n <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, queuedFault{fault: f, left: n})
}

// ClearFaults drops every fault the queued knobs (FailNext, FailHTTP,
// HTMLNext, DropNext, StallNext) still hold, and returns how many sends they
// would have applied to. A script ends a burst early this way; ResetQuota
// leaves faults alone. The hook, FailRate and RevokeAt have knobs of their
// own (SetHook(nil), SetFailRate(0)) and are not touched.
func (s *Sim) ClearFaults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.queuedLocked()
	s.faults = nil
	return n
}

// queuedLocked counts the sends the queued faults still apply to.
func (s *Sim) queuedLocked() int {
	n := 0
	for _, q := range s.faults {
		n += q.left
	}
	return n
}

// SetFailRate sets the fraction p (0 to 1) of valid sends answered
// errcode -1 "system error" and not delivered.
func (s *Sim) SetFailRate(p float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failRate = p
}

// SetLatency delays every API answer by min, or by a uniform draw from
// [min, max] if max > min. Zero removes the latency.
func (s *Sim) SetLatency(min, max time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latencyMin, s.latencyMax = min, max
}

// latencyLocked draws the delay for one request.
func (s *Sim) latencyLocked() time.Duration {
	if s.latencyMax > s.latencyMin {
		return s.latencyMin + time.Duration(s.rng.Int64N(int64(s.latencyMax-s.latencyMin)+1))
	}
	return s.latencyMin
}

// pickFault decides the fault for one send, consuming a queued one.
func (s *Sim) pickFault(req SendRequest) *Fault {
	s.mu.Lock()
	hook := s.hook
	s.mu.Unlock()
	if hook != nil {
		if f := hook(req); f != nil {
			return f
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults) > 0 {
		q := &s.faults[0]
		f := q.fault
		if q.left--; q.left == 0 {
			s.faults = s.faults[1:]
		}
		return &f
	}
	if s.failRate > 0 && s.rng.Float64() < s.failRate {
		return &Fault{Errcode: codeSystemError}
	}
	return nil
}

// writeFault gives the answer f dictates; f.answers() is true.
func (s *Sim) writeFault(w http.ResponseWriter, f *Fault) {
	switch {
	case f.Drop:
		s.count(func(st *Stats) { st.Dropped++ })
		dropConnection(w)
	case f.HTTPStatus != 0:
		s.count(func(st *Stats) { st.HTTPFaults++ })
		writeHTML(w, f.HTTPStatus, gatewayPage(f.HTTPStatus))
	case f.HTML:
		s.count(func(st *Stats) { st.HTTPFaults++ })
		writeHTML(w, http.StatusOK, proxyPage)
	default:
		msg := f.Errmsg
		if msg == "" {
			msg = errmsg(f.Errcode)
		}
		s.count(func(st *Stats) { st.Rejected[f.Errcode]++ })
		s.writeErrorMsg(w, f.Errcode, msg)
	}
}

// dropConnection closes the client's connection without an answer. Where
// the connection cannot be hijacked (HTTP/2), aborting the handler resets
// the stream, which the client sees the same way.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

// writeHTML answers status with an HTML page.
func writeHTML(w http.ResponseWriter, status int, page string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", fmt.Sprint(len(page)))
	w.WriteHeader(status)
	w.Write([]byte(page))
}

// gatewayPage is the page a Tengine/nginx front end serves for status.
func gatewayPage(status int) string {
	text := fmt.Sprintf("%d %s", status, http.StatusText(status))
	return "<html>\r\n<head><title>" + text + "</title></head>\r\n<body>\r\n<center><h1>" + text +
		"</h1></center>\r\n<hr><center>Tengine</center>\r\n</body>\r\n</html>\r\n"
}

// proxyPage is what a proxy or captive portal answers with status 200.
const proxyPage = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>访问受限</title></head>
<body><h1>访问受限</h1><p>您访问的网址已被代理服务器拦截。Access to this site is blocked by the proxy.</p></body></html>
`
