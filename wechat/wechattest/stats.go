package wechattest

import (
	"maps"
	"net/http"
	"strconv"
)

// Stats counts what the simulator has seen since New. It is also served as
// JSON at GET /sandbox/stats.
type Stats struct {
	// Requests is every template/send request, whatever its outcome.
	Requests int64 `json:"requests"`
	// Accepted is every delivered message of every kind (duplicates
	// excluded); those whose answer was dropped or held count too.
	Accepted int64 `json:"accepted"`
	// AcceptedByKind splits Accepted by Delivery.Kind.
	AcceptedByKind map[string]int64 `json:"accepted_by_kind"`
	// Deduplicated is every send answered with an earlier msgid because its
	// (touser, client_msg_id) was seen inside the dedup window.
	Deduplicated int64 `json:"deduplicated"`
	// Rejected counts the send endpoints' error answers (every kind) by
	// errcode, injected ones included.
	Rejected map[int]int64 `json:"rejected"`
	// HTTPFaults counts sends of any kind answered with an HTTP error status
	// or an HTML page; Dropped those whose connection was closed; Stalled
	// those whose answer was held after delivery.
	HTTPFaults int64 `json:"http_faults"`
	Dropped    int64 `json:"dropped"`
	Stalled    int64 `json:"stalled"`
	// TokenCalls and StableTokenCalls count requests to /cgi-bin/token and
	// /cgi-bin/stable_token; ForceRefreshes counts stable_token requests
	// with valid credentials asking force_refresh=true, honoured or not.
	TokenCalls       int64 `json:"token_calls"`
	StableTokenCalls int64 `json:"stable_token_calls"`
	ForceRefreshes   int64 `json:"force_refreshes"`
	// Quota and QuotaUsed are today's template/send limit and usage.
	Quota     int `json:"quota"`
	QuotaUsed int `json:"quota_used"`
	// QueuedFaults is how many sends the queued faults (FailNext and the
	// like, POST /sandbox/fail) still apply to.
	QueuedFaults int `json:"queued_faults"`
	// Calls counts requests by URL path, every API path included.
	Calls map[string]int64 `json:"calls"`
	// DeliveryWriteErrors counts lines Options.Deliveries failed to take.
	DeliveryWriteErrors int64 `json:"delivery_write_errors"`

	// Receipts (Options.CallbackURL): ReceiptsQueued counts receipts put on
	// the queue, one per delivered message; ReceiptsPosted every POST to
	// the callback, retries included; ReceiptsAnswered the receipts the
	// receiver took; ReceiptsFailed those given up after three tries;
	// ReceiptsDropped those never posted or abandoned, because the queue
	// was full or the simulator closed; ReceiptsPending those queued,
	// waiting to retry or being posted.
	ReceiptsQueued   int64 `json:"receipts_queued"`
	ReceiptsPosted   int64 `json:"receipts_posted"`
	ReceiptsAnswered int64 `json:"receipts_answered"`
	ReceiptsFailed   int64 `json:"receipts_failed"`
	ReceiptsDropped  int64 `json:"receipts_dropped"`
	ReceiptsPending  int64 `json:"receipts_pending"`
}

// Stats returns a snapshot of the counters; its maps are the caller's.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nowLocked()
	st := s.stats
	st.Rejected = maps.Clone(s.stats.Rejected)
	st.Calls = maps.Clone(s.stats.Calls)
	st.AcceptedByKind = maps.Clone(s.stats.AcceptedByKind)
	st.Quota, st.QuotaUsed = s.quota, s.quotaUsed
	st.QueuedFaults = s.queuedLocked()
	if p := s.receipts; p != nil {
		st.ReceiptsQueued, st.ReceiptsPosted = p.queued.Load(), p.posted.Load()
		st.ReceiptsAnswered, st.ReceiptsFailed = p.answered.Load(), p.failed.Load()
		st.ReceiptsDropped, st.ReceiptsPending = p.dropped.Load(), p.pending.Load()
	}
	return st
}

// controlOK is a control endpoint's success answer. Cleared is set by
// /sandbox/fail/clear only: the sends the dropped faults would have hit.
type controlOK struct {
	Errcode int    `json:"errcode"`
	Errmsg  string `json:"errmsg"`
	Cleared *int   `json:"cleared,omitempty"`
}

// serveControl answers the /sandbox/ endpoints, which let scripts and other
// processes inspect the simulator and drive faults over HTTP. They answer
// {"errcode":0,"errmsg":"ok"} on success, and plain HTTP errors (404, 405,
// 400) on misuse, since they are not WeChat's.
func (s *Sim) serveControl(w http.ResponseWriter, r *http.Request) {
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	post := r.Method == http.MethodPost
	switch r.URL.Path {
	case "/sandbox/stats":
		if !get {
			http.Error(w, "use GET", http.StatusMethodNotAllowed)
			return
		}
		writeJSON(w, s.Stats())
	case "/sandbox/deliveries":
		if !get {
			http.Error(w, "use GET", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		for _, d := range s.Deliveries() {
			line, err := deliveryLine(d)
			if err != nil {
				return
			}
			w.Write(line)
		}
	default:
		act := s.controlAction(r)
		switch {
		case act == nil:
			http.NotFound(w, r)
		case !post:
			http.Error(w, "use POST", http.StatusMethodNotAllowed)
		default:
			answer := controlOK{Errmsg: "ok"}
			if err := act(&answer); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			writeJSON(w, answer)
		}
	}
}

// controlAction returns the action a POST to r's path performs, or nil for
// an unknown path. The action may add to the success answer.
func (s *Sim) controlAction(r *http.Request) func(*controlOK) error {
	q := r.URL.Query()
	switch r.URL.Path {
	case "/sandbox/revoke":
		return func(*controlOK) error { s.RevokeTokens(); return nil }
	case "/sandbox/expire":
		return func(*controlOK) error { s.ExpireTokens(); return nil }
	case "/sandbox/quota/reset":
		return func(*controlOK) error { s.ResetQuota(); return nil }
	case "/sandbox/fail/clear":
		return func(a *controlOK) error {
			n := s.ClearFaults()
			a.Cleared = &n
			return nil
		}
	case "/sandbox/quota":
		return func(*controlOK) error {
			n, err := intParam(q.Get("n"), -1)
			if err != nil || n < 0 {
				return errBadParam("n", q.Get("n"))
			}
			s.SetQuota(n)
			return nil
		}
	case "/sandbox/fail":
		// code=N answers errcode N; status=N answers HTTP status N instead;
		// n=K applies to the next K sends (default 1).
		return func(*controlOK) error {
			n, err := intParam(q.Get("n"), 1)
			if err != nil || n < 1 {
				return errBadParam("n", q.Get("n"))
			}
			if st := q.Get("status"); st != "" {
				status, err := strconv.Atoi(st)
				if err != nil || status < 400 || status > 599 {
					return errBadParam("status", st)
				}
				s.FailHTTP(n, status)
				return nil
			}
			code, err := strconv.Atoi(q.Get("code"))
			if err != nil || code == 0 {
				return errBadParam("code", q.Get("code"))
			}
			s.FailNext(n, code)
			return nil
		}
	}
	return nil
}

// intParam parses a query parameter, def if it is absent.
func intParam(v string, def int) (int, error) {
	if v == "" {
		return def, nil
	}
	return strconv.Atoi(v)
}

// badParamError is a control endpoint's complaint about a parameter.
type badParamError struct{ name, value string }

func (e *badParamError) Error() string {
	return "bad " + e.name + " " + strconv.Quote(e.value)
}

// errBadParam returns a *badParamError for name=value.
func errBadParam(name, value string) error {
	return &badParamError{name: name, value: value}
}
