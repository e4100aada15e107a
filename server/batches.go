package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/megasend/megasend/campaign"
	"github.com/megasend/megasend/policy"
	"github.com/megasend/megasend/store"
)

// batchNamePattern is what a batch created through the API may be called:
// it is a path segment of every batch route, so nothing in it needs
// escaping.
var batchNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

// batchDoc is the answer for one batch: the report's JSON (report --format
// json's document, receipts included) and what the service waits for
// before it sends the batch.
type batchDoc struct {
	*campaign.Report
	Schedule scheduleDoc `json:"schedule"`
	// Warnings are what the import found worth saying about the values
	// (create only).
	Warnings []problemDoc `json:"warnings,omitempty"`
}

// scheduleDoc is a batch's place in the service's schedule.
type scheduleDoc struct {
	// State is "scheduled" (waiting for not_before), "held" (until resumed:
	// hold says why), "queued" (due, waiting for the account's runner),
	// "running", "done", or "unscheduled" (a batch the service was never
	// given, such as one the CLI created: resume hands it over).
	State     string     `json:"state"`
	NotBefore *time.Time `json:"not_before"`
	Hold      string     `json:"hold"`
}

// batchDoc builds the answer for batch name.
func (s *Server) batchDoc(ctx context.Context, name string) (*batchDoc, error) {
	rep, err := s.svc.Report(ctx, name)
	if err != nil {
		return nil, err
	}
	b, err := s.svc.Find(ctx, name)
	if err != nil {
		return nil, err
	}
	sched, given, err := s.svc.Schedule(ctx, b)
	if err != nil {
		return nil, err
	}
	doc := &batchDoc{Report: rep, Schedule: scheduleDoc{Hold: sched.Hold}}
	if !sched.NotBefore.IsZero() {
		doc.Schedule.NotBefore = &sched.NotBefore
	}
	switch {
	case b.Status == store.StatusDone:
		doc.Schedule.State = "done"
	case !given:
		doc.Schedule.State = "unscheduled"
	case sched.Hold != "":
		doc.Schedule.State = "held"
	case b.Status == store.StatusRunning && !rep.Batch.Abandoned:
		doc.Schedule.State = "running"
	case sched.NotBefore.After(s.now()):
		doc.Schedule.State = "scheduled"
	default:
		doc.Schedule.State = "queued"
	}
	return doc, nil
}

// handleCreateBatch creates a batch from a JSON, CSV or JSONL body and
// hands it to the account's runner: 201 with the batch, 200 if the same
// name and content exist already, 409 for the name with other content, 422
// with the problems for input that cannot be sent. A refused request
// records nothing.
func (s *Server) handleCreateBatch(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	u, err := s.readUpload(w, r)
	if err != nil {
		return err
	}
	defer u.remove()
	switch {
	case u.Name == "":
		return invalid("name", "a batch needs a name: the same name and content again is the same batch, never a second send")
	case !batchNamePattern.MatchString(u.Name):
		return invalid("name", fmt.Sprintf("batch name %q: use 1 to 128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit", u.Name))
	case u.Template == "":
		return invalid("template", "a batch needs a template: the key of a stored template ('megasend template add')")
	case u.hasSet && u.Audience == "":
		return invalid("set", `"set" gives the variables an "audience" shares; recipients carry their own`)
	case u.json && u.rows < 0 && u.Audience == "":
		return invalid("recipients", "a batch needs recipients: [{\"openid\":...,\"var\":...},...], or an audience: \"audience\":\"followers\"")
	case u.json && u.rows == 0:
		return invalid("recipients", "no recipients: the array is empty")
	}
	account := accountOf(ctx)
	// The name is the batch's identity across accounts: another account's
	// batch of this name is neither shown nor continued.
	if b, err := s.svc.Find(ctx, u.Name); err == nil && b.Account != account {
		return &campaign.Error{Code: campaign.Conflict, Field: "name", Msg: fmt.Sprintf("batch name %q is taken", u.Name)}
	} else if err != nil && campaign.ErrorCode(err) != campaign.NotFound {
		return err
	}
	t, err := s.svc.Template(ctx, u.Template)
	if campaign.ErrorCode(err) == campaign.NotFound {
		return invalid("template", fmt.Sprintf("no template %q; store it first with 'megasend template add'", u.Template))
	}
	if err != nil {
		return err
	}
	spec := campaign.Spec{
		Name: u.Name, Template: t, TemplateRef: u.Template, Account: account,
		Source: campaign.Source{Name: u.Source, Path: "-", Hash: u.hash, Open: u.open},
		Input:  campaign.Input{Format: u.Format, Encoding: u.Encoding, OpenIDs: s.accounts[account].OpenIDs},
	}
	if u.Fallback != "" {
		spec.FallbackRef = u.Fallback
		spec.Fallback, err = s.svc.Template(ctx, u.Fallback)
		if campaign.ErrorCode(err) == campaign.NotFound {
			return invalid("fallback", fmt.Sprintf("no template %q; store it first with 'megasend template add'", u.Fallback))
		}
		if err != nil {
			return err
		}
	}
	if spec.Policy, err = u.policy(s.accounts[account].TimeZone); err != nil {
		return err
	}
	if u.Audience != "" {
		if spec.Audience, err = s.audience(account, u, spec.Source); err != nil {
			return err
		}
	}
	b, imp, err := s.svc.Submit(ctx, spec, u.SendAt)
	if err != nil {
		return err
	}
	doc, err := s.batchDoc(ctx, b.Name)
	if err != nil {
		return err
	}
	if imp != nil && imp.Warnings != nil {
		for _, q := range imp.Warnings.Sorted() {
			doc.Warnings = append(doc.Warnings, problemDoc{File: q.File, Line: q.Line, Field: q.Field, Problem: q.Msg})
		}
	}
	status := http.StatusOK
	if b.Created {
		status = http.StatusCreated
		w.Header().Set("Location", "/v1/batches/"+url.PathEscape(b.Name))
	}
	return writeJSON(w, status, doc)
}

// listDoc is the answer of GET /v1/batches.
type listDoc struct {
	Batches []campaign.ListItem `json:"batches"`
}

// handleListBatches lists the account's batches, newest first, with their
// counts.
func (s *Server) handleListBatches(w http.ResponseWriter, r *http.Request) error {
	all, err := s.svc.List(r.Context())
	if err != nil {
		return err
	}
	account := accountOf(r.Context())
	doc := listDoc{Batches: []campaign.ListItem{}}
	for _, b := range all {
		if b.Account == account {
			doc.Batches = append(doc.Batches, b)
		}
	}
	return writeJSON(w, http.StatusOK, doc)
}

// handleGetBatch answers one batch: the report, receipts and schedule.
func (s *Server) handleGetBatch(w http.ResponseWriter, r *http.Request) error {
	b, err := s.findBatch(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	doc, err := s.batchDoc(r.Context(), b.Name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, doc)
}

// handleRecipients streams a batch's recipients as JSONL, one report row
// per line, in line order: all of them, or those in the states of
// ?state=pending,failed. One row is in memory at a time.
func (s *Server) handleRecipients(w http.ResponseWriter, r *http.Request) error {
	var states []string
	for _, v := range r.URL.Query()["state"] {
		for _, st := range strings.Split(v, ",") {
			if st = strings.TrimSpace(st); st != "" {
				states = append(states, st)
			}
		}
	}
	for _, st := range states {
		if !slices.Contains(campaign.RecipientStates(), st) {
			return badRequest("state", fmt.Sprintf("%q is not a recipient state; want one or more of %s",
				st, strings.Join(campaign.RecipientStates(), ", ")))
		}
	}
	b, err := s.findBatch(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", mediaJSONL+"; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return s.svc.Rows(r.Context(), b, states, func(row campaign.Row) error { return enc.Encode(row) })
}

// handlePause stops the batch if it is being sent (in-flight sends finish
// and are recorded) and holds it until it is resumed; the answer is the
// batch.
func (s *Server) handlePause(w http.ResponseWriter, r *http.Request) error {
	return s.act(w, r, s.svc.Pause)
}

// handleResume hands a held or paused batch (or one the CLI created) to
// the account's runner; the answer is the batch.
func (s *Server) handleResume(w http.ResponseWriter, r *http.Request) error {
	return s.act(w, r, s.svc.Continue)
}

// handleCancel stops a batch for good: what it has still to send is
// skipped ("cancelled"), what was sent stays sent; the answer is the batch.
// A batch being sent stops once its in-flight sends are recorded.
func (s *Server) handleCancel(w http.ResponseWriter, r *http.Request) error {
	return s.act(w, r, s.svc.Cancel)
}

// act applies do to the request's batch and answers the batch.
func (s *Server) act(w http.ResponseWriter, r *http.Request, do func(context.Context, string) error) error {
	if err := s.noBody(w, r); err != nil {
		return err
	}
	b, err := s.findBatch(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	if err := do(r.Context(), b.Name); err != nil {
		return err
	}
	doc, err := s.batchDoc(r.Context(), b.Name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, doc)
}

// retryRequest is the optional body of POST .../retry.
type retryRequest struct {
	// Errcodes, if any, requeue only the failures with one of them.
	Errcodes []int `json:"errcodes"`
	// Unknown also requeues the recipients whose outcome is unknown (they
	// may be delivered twice).
	Unknown bool `json:"unknown"`
}

// handleRetry requeues a batch's failed recipients (those with the given
// errcodes; with unknown, also those whose outcome is unknown) and hands
// the batch to the runner: {"requeued":N}.
func (s *Server) handleRetry(w http.ResponseWriter, r *http.Request) error {
	var req retryRequest
	if err := s.decodeOptional(w, r, &req); err != nil {
		return err
	}
	b, err := s.findBatch(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	sel := campaign.Selection{Failed: len(req.Errcodes) > 0 || !req.Unknown, Codes: req.Errcodes, Unknown: req.Unknown}
	n, err := s.svc.Retry(r.Context(), b.Name, sel)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]int64{"requeued": n})
}

// noBody refuses a body on a route that takes none.
func (s *Server) noBody(w http.ResponseWriter, r *http.Request) error {
	n, err := r.Body.Read(make([]byte, 1))
	if n > 0 {
		return badRequest("", "this route takes no body")
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return readError(err)
	}
	return nil
}

// decodeOptional decodes a small JSON body into v, strictly (unknown
// fields are 400); an empty body leaves v as it is.
func (s *Server) decodeOptional(w http.ResponseWriter, r *http.Request, v any) error {
	const maxSmallBody = 64 << 10
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSmallBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		if strings.HasPrefix(err.Error(), "json: unknown field") {
			return badRequest("", err.Error())
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return badRequest(te.Field, fmt.Sprintf("%s: want %s, got %s", te.Field, te.Type, te.Value))
		}
		return jsonError(err)
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != mediaJSON {
		return &httpError{Status: http.StatusBadRequest, Code: "unsupported_media_type", Field: "Content-Type",
			Msg: "a body here is JSON: send Content-Type: " + mediaJSON}
	}
	if dec.More() {
		return badRequest("", "malformed JSON: data after the object")
	}
	return nil
}

// policy returns the batch's own policies, read in the account's time zone
// tz; nil when it asks for none of its own.
func (u *upload) policy(tz string) (*campaign.Policy, error) {
	if u.QuietHours == "" && u.Cap == "" {
		return nil, nil
	}
	p := &campaign.Policy{}
	if u.QuietHours != "" {
		q, err := policy.ParseQuietHours(u.QuietHours, tz)
		if err != nil {
			return nil, invalid("quiet_hours", err.Error())
		}
		p.QuietHours = &q
	}
	if u.Cap != "" {
		c, err := policy.ParseCap(u.Cap)
		if err != nil {
			return nil, invalid("cap", err.Error())
		}
		p.Cap = &c
	}
	return p, nil
}
