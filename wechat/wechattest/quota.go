package wechattest

import "net/http"

// Paths quota/get knows, with the daily limit of each.
const (
	pathTemplateSend = "/cgi-bin/message/template/send"
	pathToken        = "/cgi-bin/token"
	pathStableToken  = "/cgi-bin/stable_token"
)

// SetQuota sets the daily template/send limit to n (the day's usage is
// kept); sends answer 45009 once the usage reaches it.
func (s *Sim) SetQuota(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.quota = max(n, 0)
}

// ResetQuota starts a new quota day: the template/send usage goes back to
// 0, as at midnight in China or after clear_quota.
func (s *Sim) ResetQuota() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.quotaUsed = 0
}

// QuotaUsed returns how many template sends today's quota has been charged
// for: accepted messages, not duplicates or errors.
func (s *Sim) QuotaUsed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nowLocked()
	return s.quotaUsed
}

// quotaRequest is the body of quota/get.
type quotaRequest struct {
	CGIPath string `json:"cgi_path"`
}

// quotaInfo is one API's daily quota.
type quotaInfo struct {
	DailyLimit int `json:"daily_limit"`
	Used       int `json:"used"`
	Remain     int `json:"remain"`
}

// quotaResponse is the success body of quota/get, an action-style body
// with errcode 0.
type quotaResponse struct {
	Errcode int       `json:"errcode"`
	Errmsg  string    `json:"errmsg"`
	Quota   quotaInfo `json:"quota"`
}

// serveQuotaGet is POST /cgi-bin/openapi/quota/get. It knows template/send
// and the two token endpoints; any other cgi_path answers 76021.
func (s *Sim) serveQuotaGet(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r) {
		return
	}
	var req quotaRequest
	if !s.decodePOST(w, r, &req) {
		return
	}
	s.mu.Lock()
	s.nowLocked()
	var limit, used int
	known := true
	switch req.CGIPath {
	case pathTemplateSend:
		limit, used = s.quota, s.quotaUsed
	case pathToken:
		limit, used = tokenDailyLimit, s.tokenCallsToday
	case pathStableToken:
		limit, used = stableDailyLimit, s.stableCallsToday
	default:
		known = false
	}
	s.mu.Unlock()
	if !known {
		s.writeError(w, codeCGIPathNotFound)
		return
	}
	writeJSON(w, quotaResponse{
		Errmsg: "ok",
		Quota:  quotaInfo{DailyLimit: limit, Used: used, Remain: max(limit-used, 0)},
	})
}
