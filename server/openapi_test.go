package server

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestOpenAPI_Routes: openapi.json describes exactly the routes the mux
// serves, each with the same path and method, and needs a key exactly
// where the route does.
func TestOpenAPI_Routes(t *testing.T) {
	var doc struct {
		OpenAPI  string                                `json:"openapi"`
		Security []map[string][]string                 `json:"security"`
		Paths    map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") || len(doc.Security) != 1 {
		t.Fatalf("openapi %q, security %v", doc.OpenAPI, doc.Security)
	}
	var described []string
	open := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if method == "parameters" {
				continue
			}
			p := strings.ToUpper(method) + " " + path
			described = append(described, p)
			var o struct {
				Security *[]any `json:"security"`
			}
			if err := json.Unmarshal(op, &o); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			open[p] = o.Security != nil && len(*o.Security) == 0
		}
	}
	f := newFixture(t, fixtureOptions{})
	var served []string
	for _, rt := range f.srv.routes() {
		served = append(served, rt.Pattern())
		if open[rt.Pattern()] == rt.Auth {
			t.Errorf("%s: auth %v, but openapi.json says security %v", rt.Pattern(), rt.Auth, !open[rt.Pattern()])
		}
	}
	slices.Sort(described)
	slices.Sort(served)
	if !slices.Equal(described, served) {
		t.Errorf("openapi.json describes\n  %s\nthe server serves\n  %s", strings.Join(described, "\n  "), strings.Join(served, "\n  "))
	}

	w := f.do("GET", "/v1/openapi.json", f.keyA, "", "")
	want(t, w, http.StatusOK)
	if w.Body.String() != string(openAPI) {
		t.Error("GET /v1/openapi.json is not the embedded document")
	}
}

// TestHealth: 200 while the database answers, 503 once it does not; no
// key needed. Routes that do not exist are a JSON 404.
func TestHealth(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	w := f.do("GET", "/healthz", "", "", "")
	want(t, w, http.StatusOK)
	if strings.TrimSpace(w.Body.String()) != "{\n  \"status\": \"ok\"\n}" {
		t.Errorf("body %s", w.Body)
	}
	for _, path := range []string{"/v1/messages", "/metrics", "/v1/nosuch"} {
		w := f.do("GET", path, f.keyA, "", "")
		want(t, w, http.StatusNotFound)
		apiError(t, w)
	}
	f.db.Close()
	w = f.do("GET", "/healthz", "", "", "")
	want(t, w, http.StatusServiceUnavailable)
	if e := apiError(t, w); e.Code != "unavailable" {
		t.Errorf("error %+v", e)
	}
	// Anything else that fails is internal: a generic message, the cause
	// only in the log.
	w = f.do("GET", "/v1/batches", f.keyA, "", "")
	want(t, w, http.StatusInternalServerError)
	if e := apiError(t, w); e.Code != "internal" || strings.Contains(e.Message, "sql") || strings.Contains(e.Message, "closed") {
		t.Errorf("internal error shows its cause: %+v", e)
	}
}
