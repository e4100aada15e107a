package server

// Every error the API answers is written here, by Error, as
//
//	{"error":{"code":"...","message":"...","field":"...","problems":[...]}}
//
// with the status its code calls for. The lifecycle's codes (campaign.Code)
// map to statuses in one table; the server's own refusals (a malformed
// body, a missing key) are *httpError values that carry theirs. An error
// that is neither is internal: the client reads a generic message, the log
// the details.

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/megasend/megasend/campaign"
)

// httpError is a refusal the server itself decides: its status, code,
// message and the field it is about.
type httpError struct {
	Status int
	Code   string
	Msg    string
	Field  string
	Err    error // the cause, for the log; never shown
}

func (e *httpError) Error() string { return e.Msg }
func (e *httpError) Unwrap() error { return e.Err }

// badRequest is a 400 about field.
func badRequest(field, msg string) *httpError {
	return &httpError{Status: http.StatusBadRequest, Code: "bad_request", Msg: msg, Field: field}
}

// invalid is a 422 about field: a request understood, but that cannot be
// carried out (the lifecycle's Invalid).
func invalid(field, msg string) error {
	return &campaign.Error{Code: campaign.Invalid, Field: field, Msg: msg}
}

// statusOf maps the lifecycle's codes to statuses.
var statusOf = map[campaign.Code]int{
	campaign.Invalid:     http.StatusUnprocessableEntity,
	campaign.NotFound:    http.StatusNotFound,
	campaign.Conflict:    http.StatusConflict,
	campaign.Locked:      http.StatusConflict,
	campaign.Unavailable: http.StatusServiceUnavailable,
	campaign.Stopped:     http.StatusServiceUnavailable,
	campaign.Internal:    http.StatusInternalServerError,
}

// errorBody is the JSON of an error answer.
type errorBody struct {
	Error errorDoc `json:"error"`
}

type errorDoc struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field"`
	// Problems are the input's problems, line by line (422 only), and
	// ProblemsNotShown how many more were found.
	Problems         []problemDoc `json:"problems,omitempty"`
	ProblemsNotShown int          `json:"problems_not_shown,omitempty"`
}

// problemDoc is one campaign.Problem.
type problemDoc struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Field   string `json:"field"`
	Problem string `json:"problem"`
}

// Error writes err as the API's JSON error with its status. A body over
// the limit is 413; an internal error is logged with the request and
// answered 500 with a message that says nothing of its cause.
func (s *Server) Error(w http.ResponseWriter, r *http.Request, err error) {
	status, doc := s.describe(r, err)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="megasend"`)
	}
	writeJSON(w, status, errorBody{Error: doc})
}

// describe returns the status and the document of err.
func (s *Server) describe(r *http.Request, err error) (int, errorDoc) {
	var (
		he      *httpError
		tooBig  *http.MaxBytesError
		ce      *campaign.Error
		jsonErr *json.SyntaxError
	)
	switch {
	case errors.As(err, &he):
		return he.Status, errorDoc{Code: he.Code, Message: he.Msg, Field: he.Field}
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, errorDoc{Code: "too_large",
			Message: "request body over the limit of " + byteSize(tooBig.Limit)}
	case errors.As(err, &jsonErr):
		return http.StatusBadRequest, errorDoc{Code: "bad_request", Message: "malformed JSON: " + jsonErr.Error()}
	case errors.As(err, &ce) && ce.Code != campaign.Internal:
		doc := errorDoc{Code: string(ce.Code), Message: ce.Error(), Field: ce.Field}
		if p := campaign.ErrorProblems(err); p != nil {
			for _, q := range p.Sorted() {
				doc.Problems = append(doc.Problems, problemDoc{File: q.File, Line: q.Line, Field: q.Field, Problem: q.Msg})
			}
			doc.ProblemsNotShown = p.Rest()
		}
		status, ok := statusOf[ce.Code]
		if !ok {
			status = http.StatusInternalServerError
		}
		return status, doc
	}
	s.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	return http.StatusInternalServerError, errorDoc{Code: string(campaign.Internal),
		Message: "internal error; the server's log has the details"}
}

// writeJSON writes v as an indented JSON answer with status, HTML left
// unescaped (as report --format json writes it).
func writeJSON(w http.ResponseWriter, status int, v any) error {
	return encodeJSON(w, status, v, "  ")
}

// writeCompactJSON writes v as writeJSON does, without the indentation:
// for the answers a client asks for by the thousand a second (POST
// /v1/messages), where indenting cost more than encoding.
func writeCompactJSON(w http.ResponseWriter, status int, v any) error {
	return encodeJSON(w, status, v, "")
}

func encodeJSON(w http.ResponseWriter, status int, v any, indent string) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	return enc.Encode(v)
}
