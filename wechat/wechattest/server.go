package wechattest

import (
	"net/http"
	"net/http/httptest"
)

// Server is a Sim listening on a loopback port, like httptest.Server. Its
// URL is the API base to give a client in place of https://api.weixin.qq.com.
type Server struct {
	*Sim
	// URL is the base URL, http://127.0.0.1:PORT, with no trailing slash.
	URL string

	ts *httptest.Server
}

// NewServer starts a Sim configured by opts on 127.0.0.1 and a random port.
// It panics if it cannot listen, as httptest.NewServer does. The caller
// must Close it.
func NewServer(opts Options) *Server {
	sim := New(opts)
	ts := httptest.NewServer(sim)
	return &Server{Sim: sim, URL: ts.URL, ts: ts}
}

// Client returns an HTTP client for the server: it closes its idle
// connections when the server closes.
func (s *Server) Client() *http.Client {
	return s.ts.Client()
}

// Close releases any held answers, then shuts the server down, blocking
// until every request in progress has finished.
func (s *Server) Close() {
	s.Sim.Close()
	s.ts.Close()
}
