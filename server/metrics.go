package server

import (
	"net"
	"net/http"
	"net/netip"
)

// handleMetrics serves the Prometheus metrics Config.Metrics gives (text
// format), to loopback clients only unless Config.MetricsPublic: the
// figures say what an account sends and when, which is nobody else's
// business, and a scraper on another host is a decision the operator makes
// (serve --metrics-public). Like /healthz it needs no key: Prometheus
// scrapes without one. A request that came through a proxy (Forwarded,
// X-Forwarded-For) is not a loopback client's, even when the proxy
// connects from the same host. With no Metrics, the route is not found.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) error {
	if s.metrics == nil {
		return &httpError{Status: http.StatusNotFound, Code: "not_found", Msg: "this server serves no metrics"}
	}
	if !s.metricsPublic && !fromLoopback(r) {
		return &httpError{Status: http.StatusForbidden, Code: "forbidden",
			Msg: "metrics are served to loopback clients only; start serve with --metrics-public to open them"}
	}
	s.metrics.ServeHTTP(w, r)
	return nil
}

// fromLoopback reports whether r came straight from this host: its peer is
// in 127.0.0.0/8 or ::1, and no proxy says it forwarded it.
func fromLoopback(r *http.Request) bool {
	if r.Header.Get("Forwarded") != "" || r.Header.Get("X-Forwarded-For") != "" {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback() // an IPv4 loopback mapped into IPv6 too
}
