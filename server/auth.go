package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/megasend/megasend/apikey"
	"github.com/megasend/megasend/campaign"
	"github.com/megasend/megasend/store"
)

// requestKey finds a request's *requestInfo in its context.
type requestKey struct{}

// requestInfo is what the handling of one request learns about it: the
// account of the key that authenticated it, for the handler and the
// access log.
type requestInfo struct {
	account string
}

// withInfo returns ctx carrying a fresh requestInfo.
func withInfo(ctx context.Context) (context.Context, *requestInfo) {
	ri := &requestInfo{}
	return context.WithValue(ctx, requestKey{}, ri), ri
}

// accountOf returns the account of the key that authenticated the request
// ctx belongs to, or "" if none did.
func accountOf(ctx context.Context) string {
	if ri, ok := ctx.Value(requestKey{}).(*requestInfo); ok {
		return ri.account
	}
	return ""
}

// authenticate lets a request through to h only with an
// "Authorization: Bearer KEY" header whose key is stored: otherwise 401,
// with apikey's reason and never the key. The key's account goes into the
// request's context; a key of an account this process does not send for
// is refused with 403.
func (s *Server) authenticate(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		key, err := bearer(r.Header.Get("Authorization"))
		if err != nil {
			return err
		}
		account, name, err := s.keys.Authenticate(r.Context(), key)
		var wk *apikey.WrongKeyError
		if errors.As(err, &wk) {
			return &httpError{Status: http.StatusUnauthorized, Code: "unauthorized", Msg: wk.Error(), Err: err}
		}
		if err != nil {
			return err
		}
		if _, ok := s.accounts[account]; !ok {
			return &httpError{Status: http.StatusForbidden, Code: "forbidden", Field: "account",
				Msg: "API key " + name + " acts for account " + account + ", which this server does not send for (start serve with --account " + account + ")"}
		}
		if ri, ok := r.Context().Value(requestKey{}).(*requestInfo); ok {
			ri.account = account
		}
		return h(w, r)
	}
}

// bearer returns the key of an Authorization header's Bearer credentials.
func bearer(header string) (string, error) {
	if header == "" {
		return "", &httpError{Status: http.StatusUnauthorized, Code: "unauthorized",
			Msg: "no API key: send Authorization: Bearer KEY (create one with 'megasend apikey add NAME')"}
	}
	scheme, key, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", &httpError{Status: http.StatusUnauthorized, Code: "unauthorized",
			Msg: "the Authorization header is not Bearer KEY"}
	}
	return strings.TrimSpace(key), nil
}

// findBatch returns the batch called name if it belongs to the request's
// account. Another account's batch is not found, exactly as a batch that
// does not exist: a key learns nothing of the batches it may not see.
func (s *Server) findBatch(ctx context.Context, name string) (store.Batch, error) {
	b, err := s.svc.Find(ctx, name)
	if err != nil {
		return b, err
	}
	if b.Account != accountOf(ctx) {
		return store.Batch{}, &campaign.Error{Code: campaign.NotFound, Field: "batch", Msg: fmt.Sprintf("no batch %q", name)}
	}
	return b, nil
}
