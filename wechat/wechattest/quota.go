package wechattest

import "net/http"

// Paths whose quota/get answer comes from the simulator's own counters.
const (
	pathTemplateSend = "/cgi-bin/message/template/send"
	pathToken        = "/cgi-bin/token"
	pathStableToken  = "/cgi-bin/stable_token"
)

// documentedLimits are the daily limits WeChat documents for a newly
// registered account (its API call limits table, reference notes §1.1,
// §1.2, §2.3, §4, §6), by cgi_path. quota/get reports them for any of these
// paths, served by the simulator or not, with the day's calls the
// simulator saw as "used". Only template/send's limit (Options.Quota, or
// SetQuota) and the token endpoints' are enforced. Read-only.
var documentedLimits = map[string]int{
	pathToken:                         tokenDailyLimit,
	pathStableToken:                   stableDailyLimit,
	"/cgi-bin/message/custom/send":    500000,
	"/cgi-bin/message/mass/sendall":   100,
	"/cgi-bin/user/get":               500,
	"/cgi-bin/user/info":              5000000,
	"/cgi-bin/user/info/updateremark": 10000,
	"/cgi-bin/menu/create":            1000,
	"/cgi-bin/menu/get":               10000,
	"/cgi-bin/menu/delete":            1000,
	"/cgi-bin/media/upload":           5000,
	"/cgi-bin/media/get":              10000,
	"/cgi-bin/qrcode/create":          100000,
}

// undocumentedLimits are APIs WeChat has, which the simulator serves or
// megasend calls, whose daily limit nothing documents. WeChat's quota/get
// knows them; the simulator cannot say what WeChat would, and says so
// rather than answer 76021 "cgi_path not found". Read-only.
var undocumentedLimits = map[string]bool{
	"/cgi-bin/template/get_all_private_template": true,
	"/cgi-bin/openapi/quota/get":                 true,
	"/cgi-bin/user/tag/get":                      true,
	"/cgi-bin/tags/get":                          true,
	"/cgi-bin/tags/getidlist":                    true,
	"/cgi-bin/message/subscribe/bizsend":         true,
}

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
// (the simulator's quota and usage) and the documentedLimits; for the
// undocumentedLimits it answers "not simulated", and any other cgi_path
// answers 76021 "cgi_path not found".
func (s *Sim) serveQuotaGet(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r) {
		return
	}
	var req quotaRequest
	if !s.decodePOST(w, r, &req) {
		return
	}
	if undocumentedLimits[req.CGIPath] {
		writeNotSimulated(w, "the daily limit of "+req.CGIPath+", which WeChat does not document")
		return
	}
	s.mu.Lock()
	s.nowLocked()
	limit, known := documentedLimits[req.CGIPath]
	used := s.callsToday[req.CGIPath]
	switch req.CGIPath {
	case pathTemplateSend:
		limit, used, known = s.quota, s.quotaUsed, true
	case pathToken:
		used = s.tokenCallsToday
	case pathStableToken:
		used = s.stableCallsToday
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
