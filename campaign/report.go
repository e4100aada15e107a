package campaign

// The data behind every report format: the batch, its counts, its failures
// grouped by errcode with what each means, and its rows. It is built here
// once; the command line lays it out as a table, JSON, CSV or JSONL, and
// the HTTP service answers with the same JSON.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/megasend/megasend/recipient"
	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/wechat"
)

// FirstFailed is how many failed rows a Report carries; the failed export
// has them all.
const FirstFailed = 20

// FailedStates are the states of the recipients the failure groups, the
// failed export and retry are about.
func FailedStates() []string { return []string{store.StateFailed, store.StateUnknown} }

// RecipientStates are the states a recipient can be in, in its order.
func RecipientStates() []string {
	return []string{store.StatePending, store.StateInflight, store.StateSent, store.StateFailed, store.StateUnknown, store.StateSkipped}
}

// Counts are a batch's recipients by state, for machines.
type Counts struct {
	Total    int64 `json:"total"`
	Sent     int64 `json:"sent"`
	Failed   int64 `json:"failed"`
	Unknown  int64 `json:"unknown"`
	Pending  int64 `json:"pending"`
	Inflight int64 `json:"inflight"`
	// RetriedLate is not a state: recipients tried once more at the end of a run.
	RetriedLate int64 `json:"retried_late"`
	Skipped     int64 `json:"skipped"`
}

func newCounts(c store.Counts) Counts {
	return Counts{Total: c.Total(), Sent: c.Sent, Failed: c.Failed, Unknown: c.Unknown,
		Pending: c.Pending, Inflight: c.Inflight, Skipped: c.Skipped, RetriedLate: c.RetriedLate}
}

// BatchInfo describes a batch: a report's and the list's.
type BatchInfo struct {
	Name            string     `json:"name"`
	Status          string     `json:"status"`
	Abandoned       bool       `json:"abandoned"` // its sending process is gone: resume it
	PauseReason     string     `json:"pause_reason"`
	Template        string     `json:"template"`
	TemplateID      string     `json:"template_id"`
	Kind            string     `json:"kind"`     // of the template: template, custom or subscribe
	Fallback        string     `json:"fallback"` // campaign --fallback's template, or ""
	Source          string     `json:"source"`   // a path, or "-" for stdin
	Account         string     `json:"account"`
	Total           int64      `json:"total"`
	CreatedAt       time.Time  `json:"created_at"`
	LastActivity    time.Time  `json:"last_activity"`
	FinishedAt      *time.Time `json:"finished_at"`
	DurationSeconds float64    `json:"duration_seconds"`

	// Duration is DurationSeconds as it was measured: from creation to the
	// end, or to the last activity of a batch not finished.
	Duration time.Duration `json:"-"`
	// Lock is the process holding the batch, or that held it when it died
	// (Abandoned); nil if none does.
	Lock *Lock `json:"-"`
}

// Lock is the process that holds a batch's lock.
type Lock struct {
	PID, Host string
	Since     time.Time
}

// newBatchInfo describes b, last active at last (see lastActivity).
func newBatchInfo(b store.Batch, abandoned bool, last time.Time) BatchInfo {
	d := batchDuration(b, last)
	i := BatchInfo{
		Name: b.Name, Status: b.Status, Abandoned: abandoned, PauseReason: b.PauseReason, Template: b.TemplateRef,
		TemplateID: TemplateID(b), Kind: b.TemplateKind, Fallback: b.FallbackRef,
		Source: DescribeSource(b.SourcePath), Account: b.Account, Total: b.Total, CreatedAt: b.CreatedAt,
		LastActivity: last, DurationSeconds: d.Seconds(), Duration: d,
	}
	if !b.FinishedAt.IsZero() {
		i.FinishedAt = &b.FinishedAt
	}
	if b.LockOwner != "" {
		pid, host, _ := strings.Cut(b.LockOwner, "@")
		i.Lock = &Lock{PID: pid, Host: host, Since: b.LockSince}
	}
	return i
}

// lastActivity is when batch b last changed: the last write to its row (a
// status, a heartbeat while sending) or the latest attempt or outcome its
// ledger recorded, whichever is later. A run killed before its first
// heartbeat wrote only the second.
func lastActivity(b store.Batch, audit store.Audit) time.Time {
	if audit.LastActivity.After(b.UpdatedAt) {
		return audit.LastActivity
	}
	return b.UpdatedAt
}

// batchDuration is the wall time from creation to the end, or to the last
// activity of a batch not finished.
func batchDuration(b store.Batch, last time.Time) time.Duration {
	end := b.FinishedAt
	if end.IsZero() {
		end = last
	}
	return max(end.Sub(b.CreatedAt), 0)
}

// Failure is one failure group with what it means and what to do.
type Failure struct {
	State   string `json:"state"`
	Errcode int    `json:"errcode"`
	Kind    string `json:"kind"` // of the message that failed: template, custom or subscribe
	Class   string `json:"class"`
	Count   int64  `json:"count"`
	Meaning string `json:"meaning"`
	Advice  string `json:"advice"`
	Errmsg  string `json:"errmsg"` // one example
}

// Describe says what a failure group's errcode means, from its kind's
// endpoint (45015 from custom/send: outside the 48-hour window), and what
// to do about it in batch name; codes megasend does not know fall back to
// WeChat's errmsg.
func Describe(g store.FailureGroup, name string) (meaning, advice string) {
	if g.State == store.StateUnknown {
		return "outcome unknown: " + oneLine(g.Errmsg),
			"may have been delivered; resend only if a duplicate is acceptable: megasend retry " + ShellQuote(name) + " --unknown"
	}
	meaning, advice = wechat.DescribeKind(groupKind(g), g.Errcode)
	if meaning == "" {
		meaning = oneLine(g.Errmsg)
	}
	return meaning, strings.ReplaceAll(advice, "megasend retry NAME", "megasend retry "+ShellQuote(name))
}

// groupKind is g's kind; a group read before kinds is a template message's.
func groupKind(g store.FailureGroup) wechat.Kind {
	if g.Kind == "" {
		return wechat.KindTemplate
	}
	return wechat.Kind(g.Kind)
}

// oneLine folds s's runs of white space, new lines included, into spaces.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// Row is one recipient as the ledger has it now.
type Row struct {
	Line     int64   `json:"line"`
	OpenID   string  `json:"openid"`
	State    string  `json:"state"`
	Attempts int     `json:"attempts"`
	Errcode  *int    `json:"errcode"` // nil where it means nothing (see newRow)
	Errmsg   string  `json:"errmsg"`
	MsgID    *string `json:"msgid"` // a string: msgids pass 2^53, where JavaScript and jq round numbers
	// Kind is the kind of message the row is sent with: the batch's, or
	// its fallback's (template) once a customer-service message could not
	// reach it. Only template messages have a msgid.
	Kind string          `json:"kind"`
	Vars json.RawMessage `json:"vars"` // in input order, as the ledger keeps them
}

// newRow is r as a Row. Failed and unknown rows always have an errcode (0
// included); others only the last error of an attempt that was released.
func newRow(r store.Recipient) Row {
	j := Row{Line: r.Line, OpenID: r.OpenID, State: r.State, Attempts: r.Attempts, Errmsg: r.Errmsg, Kind: r.Kind, Vars: json.RawMessage(r.Vars)}
	if r.State == store.StateFailed || r.State == store.StateUnknown || r.Errcode != 0 {
		j.Errcode = &r.Errcode
	}
	if r.MsgID != 0 {
		id := strconv.FormatInt(r.MsgID, 10)
		j.MsgID = &id
	}
	if len(j.Vars) == 0 {
		j.Vars = json.RawMessage(`{}`)
	}
	return j
}

// Report is what happened to a batch. Encoded as JSON it is report
// --format json's document and the service's answer for one batch.
type Report struct {
	Batch  BatchInfo `json:"batch"`
	Counts Counts    `json:"counts"`
	// SentByKind counts the sent recipients by the kind of message that
	// reached them: {"custom": 700, "template": 200} for a batch with a
	// fallback.
	SentByKind map[string]int64 `json:"sent_by_kind"`
	// Receipts say what WeChat's delivery receipts made of the sent
	// messages, beside the counts.
	Receipts Receipts `json:"receipts"`
	// SkippedReasons count the skipped recipients by why:
	// "duplicate_openid" (a repeat in the input), "cancelled" (the batch was
	// cancelled before they were sent), "capped" (a frequency cap held them
	// back: the account had sent them as many messages as it allows).
	SkippedReasons map[string]int64 `json:"skipped_reasons"`
	Failures       []Failure        `json:"failures"`
	// FailedRows are the first FirstFailed failed and unknown rows, in
	// line order.
	FailedRows []Row `json:"failed_rows"`
}

// Receipts are a batch's sent messages by their delivery receipt
// (TEMPLATESENDJOBFINISH, which WeChat pushes to the account's callback
// URL). Awaiting counts those with none yet: for an account whose callback
// URL is not set, every sent message.
type Receipts struct {
	Success      int64 `json:"success"`
	UserBlock    int64 `json:"user_block"`
	SystemFailed int64 `json:"system_failed"`
	Awaiting     int64 `json:"awaiting"`
}

// Resumable reports whether a resume has recipients to send and may take
// the batch: none is running it, or its process is gone.
func (r *Report) Resumable() bool {
	return r.Counts.Pending+r.Counts.Inflight > 0 && (r.Batch.Status != store.StatusRunning || r.Batch.Abandoned)
}

// NeedsNewTemplate reports whether the batch stopped on a batch-fatal
// error only another template cures (40037, 43116): a resume with its own
// template would be refused again. Its pause reason carries that advice
// (see pauseReason and NeedsNewTemplate).
func (r *Report) NeedsNewTemplate() bool {
	return r.Resumable() && r.Batch.Status == store.StatusPaused && strings.Contains(r.Batch.PauseReason, "--template FIXED")
}

// FailedNotShown is how many failed and unknown rows FailedRows leaves out.
func (r *Report) FailedNotShown() int64 {
	return max(r.Counts.Failed+r.Counts.Unknown-FirstFailed, 0)
}

// Audited returns the batch called name once an audit of its ledger has
// proved it whole (see Report). Errors: NotFound; a *store.CorruptError.
func (s *Service) Audited(ctx context.Context, name string) (store.Batch, error) {
	b, _, err := s.audited(ctx, name)
	return b, err
}

// audited is Audited with the audit.
func (s *Service) audited(ctx context.Context, name string) (store.Batch, store.Audit, error) {
	b, err := s.Find(ctx, name)
	if err != nil {
		return b, store.Audit{}, err
	}
	// A report from a ledger that cannot be read whole, or whose counts its
	// rows do not bear out, would say "done" of a batch that may not be.
	audit, err := s.db.Audit(ctx, b.ID)
	if err != nil {
		return b, audit, fmt.Errorf("report %s: %w", b.Name, err)
	}
	return b, audit, nil
}

// Report returns what happened to batch name, from its ledger, once an
// audit has proved the ledger whole: counts by state, failures grouped by
// errcode with what they mean, and the first failed rows. Errors:
// NotFound; a *store.CorruptError, and no report, for a damaged ledger.
func (s *Service) Report(ctx context.Context, name string) (*Report, error) {
	b, audit, err := s.audited(ctx, name)
	if err != nil {
		return nil, err
	}
	groups, err := s.db.FailureGroups(ctx, b.ID)
	if err != nil {
		return nil, err
	}
	rc, err := s.db.ReceiptCounts(ctx, b.ID)
	if err != nil {
		return nil, err
	}
	skipped, err := s.db.SkippedReasons(ctx, b.ID)
	if err != nil {
		return nil, err
	}
	r := &Report{
		Batch:    newBatchInfo(b, s.db.Abandoned(b, s.owner), lastActivity(b, audit)),
		Counts:   newCounts(audit.Counts),
		Receipts: Receipts{Success: rc.Success, UserBlock: rc.UserBlock, SystemFailed: rc.SystemFailed, Awaiting: rc.Awaiting},
		Failures: []Failure{}, FailedRows: []Row{}, SkippedReasons: skipped,
		SentByKind: map[string]int64{},
	}
	switch {
	case b.FallbackRef != "":
		if r.SentByKind, err = s.db.SentByKind(ctx, b.ID); err != nil {
			return nil, err
		}
	case audit.Counts.Sent > 0:
		r.SentByKind[b.TemplateKind] = audit.Counts.Sent // one kind: no need to read the rows
	}
	for _, g := range groups {
		meaning, advice := Describe(g, b.Name)
		r.Failures = append(r.Failures, Failure{State: g.State, Errcode: g.Errcode, Kind: string(groupKind(g)),
			Class: wechat.ClassifyKind(groupKind(g), g.Errcode).String(),
			Count: g.Count, Meaning: meaning, Advice: advice, Errmsg: g.Errmsg})
	}
	// The first failed rows are found by a walk over the batch's recipients
	// in line order: 0.4 s for a million. A batch whose audit counted no
	// failure has none to find; such is every batch just created, whose
	// report is the answer to its upload (POST /v1/batches).
	if audit.Counts.Failed+audit.Counts.Unknown == 0 {
		return r, nil
	}
	n := FirstFailed
	err = s.db.Recipients(ctx, b.ID, FailedStates(), func(rc store.Recipient) error {
		if n == 0 {
			return store.SkipRest
		}
		n--
		r.FailedRows = append(r.FailedRows, newRow(rc))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// ListItem is one batch of List: what it is and its counts.
type ListItem struct {
	BatchInfo
	Counts Counts `json:"counts"`
}

// List returns every batch, newest first, with its counts. Only an
// abandoned batch's ledger is read whole (store.DB.Audit), for its last
// activity: a killed run may have sent for seconds after the last write to
// its batch's row; the others' rows say nothing newer.
func (s *Service) List(ctx context.Context) ([]ListItem, error) {
	batches, err := s.db.Batches(ctx)
	if err != nil {
		return nil, err
	}
	counts, err := s.db.CountsByBatch(ctx)
	if err != nil {
		return nil, err
	}
	list := make([]ListItem, 0, len(batches))
	for _, b := range batches {
		abandoned, last := s.db.Abandoned(b, s.owner), b.UpdatedAt
		if abandoned {
			audit, err := s.db.Audit(ctx, b.ID)
			if err != nil {
				return nil, err
			}
			last = lastActivity(b, audit)
		}
		list = append(list, ListItem{BatchInfo: newBatchInfo(b, abandoned, last), Counts: newCounts(counts[b.ID])})
	}
	return list, nil
}

// Rows calls fn for every recipient of batch b in one of states (all if
// none), in line order. It streams: one row is in memory at a time, from
// one read snapshot. Errors: Invalid for a state no recipient has; fn's.
func (s *Service) Rows(ctx context.Context, b store.Batch, states []string, fn func(Row) error) error {
	if err := checkStates(states); err != nil {
		return err
	}
	return s.db.Recipients(ctx, b.ID, states, func(r store.Recipient) error { return fn(newRow(r)) })
}

// checkStates refuses a state no recipient can be in.
func checkStates(states []string) error {
	all := RecipientStates()
	for _, st := range states {
		if !slices.Contains(all, st) {
			return &Error{Code: Invalid, Field: "state",
				Msg: fmt.Sprintf("%q is not a recipient state; want one or more of %s", st, strings.Join(all, ", "))}
		}
	}
	return nil
}

// VarColumns returns the names of the variables of batch b's recipients in
// one of states (all if none), in the order they first appear: the header
// of a CSV source, the union of the keys of a JSONL one. It reads the rows
// once, one at a time.
func (s *Service) VarColumns(ctx context.Context, b store.Batch, states []string) ([]string, error) {
	if err := checkStates(states); err != nil {
		return nil, err
	}
	var cols []string
	seen := map[string]bool{}
	var vars []recipient.Var
	err := s.db.Recipients(ctx, b.ID, states, func(r store.Recipient) error {
		var err error
		if vars, err = recipient.ParseVarsJSON(r.Vars, vars[:0]); err != nil {
			return fmt.Errorf("line %d: %w", r.Line, err)
		}
		for _, v := range vars {
			if !seen[v.Name] {
				seen[v.Name] = true
				cols = append(cols, v.Name)
			}
		}
		return nil
	})
	return cols, err
}
