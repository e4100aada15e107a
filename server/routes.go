package server

import (
	"net/http"
	"time"
)

// handlerFunc is a route's handler: it writes a successful answer, or
// returns the error that Error writes.
type handlerFunc func(http.ResponseWriter, *http.Request) error

// route is one entry of the API: a method and a ServeMux path pattern, and
// whether it needs a Bearer key. Every /v1/ route does.
type route struct {
	Method string
	Path   string
	Auth   bool
	h      handlerFunc
}

// Pattern is the route's http.ServeMux pattern.
func (rt route) Pattern() string { return rt.Method + " " + rt.Path }

// routes lists every route the server answers, once: the mux is built from
// it, the auth test walks it, and openapi.json must describe exactly it.
func (s *Server) routes() []route {
	return []route{
		{"GET", "/healthz", false, s.handleHealth},
		{"GET", "/metrics", false, s.handleMetrics},
		{"GET", "/wechat/callback/{account}", false, s.handleCallbackVerify},
		{"POST", "/wechat/callback/{account}", false, s.handleCallbackPush},

		{"GET", "/v1/openapi.json", true, s.handleOpenAPI},
		{"POST", "/v1/messages", true, s.handleCreateMessage},
		{"GET", "/v1/messages/{id}", true, s.handleGetMessage},
		{"POST", "/v1/batches", true, s.handleCreateBatch},
		{"GET", "/v1/batches", true, s.handleListBatches},
		{"GET", "/v1/batches/{name}", true, s.handleGetBatch},
		{"GET", "/v1/batches/{name}/recipients", true, s.handleRecipients},
		{"POST", "/v1/batches/{name}/pause", true, s.handlePause},
		{"POST", "/v1/batches/{name}/resume", true, s.handleResume},
		{"POST", "/v1/batches/{name}/retry", true, s.handleRetry},
		{"POST", "/v1/batches/{name}/cancel", true, s.handleCancel},
		{"GET", "/v1/templates", true, s.handleListTemplates},
		{"GET", "/v1/templates/{key}", true, s.handleGetTemplate},
		{"PUT", "/v1/templates/{key}", true, s.handlePutTemplate},
		{"DELETE", "/v1/templates/{key}", true, s.handleDeleteTemplate},
	}
}

// newMux registers every route, behind auth where it needs it and behind
// the access log, and answers anything else with a JSON 404.
func (s *Server) newMux() *http.ServeMux {
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		h := rt.h
		if rt.Auth {
			h = s.authenticate(h)
		}
		mux.Handle(rt.Pattern(), s.adapt(h))
	}
	// The pages (package web) answer /, /signin, /batches/... beside the
	// API: a person's face on the same ledger, behind a session instead of
	// a Bearer key.
	for _, p := range s.web.Patterns() {
		mux.Handle(p, s.adapt(func(w http.ResponseWriter, r *http.Request) error {
			s.web.ServeHTTP(w, r)
			return nil
		}))
	}
	mux.Handle("/", s.adapt(func(w http.ResponseWriter, r *http.Request) error {
		return &httpError{Status: http.StatusNotFound, Code: "not_found", Msg: "no such route: " + r.Method + " " + r.URL.Path}
	}))
	return mux
}

// adapt turns h into an http.Handler: its error is written by Error (or,
// once an answer has begun, only logged, and the connection cut so that the
// client cannot take a truncated answer for a whole one), and every request
// is logged, without its query or headers.
func (s *Server) adapt(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx, ri := withInfo(r.Context())
		r = r.WithContext(ctx)
		sw := &statusWriter{ResponseWriter: w}
		err := h(sw, r)
		if err != nil && sw.status != 0 {
			s.log.Error("request failed after its answer began", "method", r.Method, "path", r.URL.Path, "err", err)
			panic(http.ErrAbortHandler)
		}
		if err != nil {
			s.Error(sw, r, err)
		}
		s.log.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"bytes", sw.written, "took", time.Since(start).Round(time.Microsecond), "account", ri.account)
	})
}

// statusWriter records the status and size of an answer.
type statusWriter struct {
	http.ResponseWriter
	status  int
	written int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.written += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (read
// deadlines, flushes).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
