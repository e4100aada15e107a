package server

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/megasend/megasend/apikey"
)

// TestAuth_EveryRoute walks the router: every /v1/ route needs a key, and
// answers 401 with a JSON error without one, with a wrong one, or with
// something that is not Bearer credentials. The routes outside /v1/ are
// the ones WeChat and supervisors call.
func TestAuth_EveryRoute(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	wrong, _ := apikey.New() // well formed, never stored
	open := map[string]bool{"GET /healthz": true, "GET /wechat/callback/{account}": true, "POST /wechat/callback/{account}": true,
		"GET /metrics": true} // Prometheus scrapes without a key; loopback clients only, unless opened (metrics.go)
	for _, rt := range f.srv.routes() {
		if strings.HasPrefix(rt.Path, "/v1/") != rt.Auth {
			t.Errorf("%s: auth %v; every /v1/ route, and only they, need a key", rt.Pattern(), rt.Auth)
		}
		if !rt.Auth {
			if !open[rt.Pattern()] {
				t.Errorf("%s needs no key: a new open route is a decision, make it in this test", rt.Pattern())
			}
			continue
		}
		path := strings.NewReplacer("{name}", "b1", "{key}", "order").Replace(rt.Path)
		for _, c := range []struct{ name, header string }{
			{"none", ""},
			{"wrong", "Bearer " + wrong},
			{"malformed", "Bearer msk_short"},
			{"basic", "Basic " + f.keyA},
			{"bare", f.keyA},
		} {
			t.Run(rt.Pattern()+"/"+c.name, func(t *testing.T) {
				req, _ := http.NewRequest(rt.Method, path, strings.NewReader(`{}`))
				req.Header.Set("Content-Type", "application/json")
				if c.header != "" {
					req.Header.Set("Authorization", c.header)
				}
				w := newRecorder()
				f.srv.ServeHTTP(w, req)
				want(t, w, http.StatusUnauthorized)
				if e := apiError(t, w); e.Code != "unauthorized" {
					t.Errorf("code %q", e.Code)
				}
				if w.Header().Get("WWW-Authenticate") == "" {
					t.Error("no WWW-Authenticate header")
				}
				if strings.Contains(w.Body.String(), f.keyA) || strings.Contains(w.Body.String(), wrong) {
					t.Errorf("the answer quotes the key: %s", w.Body)
				}
			})
		}
	}
	if len(f.spoolLeft()) > 0 || f.batches(t) != 0 {
		t.Error("a refused request left something behind")
	}
	if l, err := f.svc.ListTemplates(context.Background()); err != nil || len(l) != 1 || l[0].Key != "order" || !l[0].CreatedAt.Equal(l[0].UpdatedAt) {
		t.Errorf("a refused request changed the templates: %+v, %v", l, err)
	}
}

// A key sees its own account's batches only: another account's is not
// found (as one that does not exist), is not listed, and its name cannot
// be taken over.
func TestAuth_OtherAccountsBatches(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	want(t, f.do("POST", "/v1/batches?name=mine&template=order", f.keyA, "text/csv", usersCSV(2)), http.StatusCreated)

	missing := f.do("GET", "/v1/batches/nosuch", f.keyB, "", "")
	want(t, missing, http.StatusNotFound)
	for _, c := range []struct{ method, path string }{
		{"GET", "/v1/batches/mine"},
		{"GET", "/v1/batches/mine/recipients"},
		{"POST", "/v1/batches/mine/pause"},
		{"POST", "/v1/batches/mine/resume"},
		{"POST", "/v1/batches/mine/retry"},
		{"POST", "/v1/batches/mine/cancel"},
	} {
		w := f.do(c.method, c.path, f.keyB, "", "")
		want(t, w, http.StatusNotFound)
		if got, want := apiError(t, w), apiError(t, missing); strings.ReplaceAll(got.Message, "mine", "X") != strings.ReplaceAll(want.Message, "nosuch", "X") || got.Field != want.Field {
			t.Errorf("%s %s: %+v; want it to read as a batch that does not exist, %+v", c.method, c.path, got, want)
		}
	}
	w := f.do("GET", "/v1/batches", f.keyB, "", "")
	want(t, w, http.StatusOK)
	if strings.Contains(w.Body.String(), "mine") {
		t.Errorf("account b's list shows account a's batch: %s", w.Body)
	}
	w = f.do("POST", "/v1/batches?name=mine&template=order", f.keyB, "text/csv", usersCSV(2))
	want(t, w, http.StatusConflict)
	if e := apiError(t, w); e.Field != "name" {
		t.Errorf("taken name: %+v", e)
	}
}

// A key of an account this process does not send for is refused: a batch
// created with it would never be sent.
func TestAuth_AccountNotServed(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	w := f.do("POST", "/v1/batches?name=x&template=order", f.keyOut, "text/csv", usersCSV(1))
	want(t, w, http.StatusForbidden)
	if e := apiError(t, w); e.Code != "forbidden" || !strings.Contains(e.Message, "elsewhere") {
		t.Errorf("error %+v", e)
	}
	if f.batches(t) != 0 {
		t.Error("a batch was recorded")
	}
}
