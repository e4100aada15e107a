package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/megasend/megasend/campaign"
	"github.com/megasend/megasend/store"
)

// batchRow is one batch as the list shows it and its live JSON carries:
// every number already written as the page shows it, so that the script
// only puts text in place.
type batchRow struct {
	Name     string  `json:"name"`
	State    string  `json:"state"`
	Tone     string  `json:"tone"` // ok, busy, warn, bad: the state's colour
	Total    string  `json:"total"`
	Sent     string  `json:"sent"`
	Failed   string  `json:"failed"`
	Unknown  string  `json:"unknown"`
	Pending  string  `json:"pending"`
	Done     int64   `json:"done"`
	Of       int64   `json:"of"`
	Percent  string  `json:"percent"`
	Rate     string  `json:"rate"`
	Started  string  `json:"started"`
	ETA      string  `json:"eta"`
	Finished bool    `json:"finished"`
	pace     float64 // recipients per second
}

// newBatchRow describes b with counts c, its pace measured at now.
func (h *Handler) newBatchRow(b campaign.BatchInfo, c campaign.Counts, now time.Time) batchRow {
	done := c.Sent + c.Failed + c.Unknown
	left := c.Pending + c.Inflight
	row := batchRow{Name: b.Name, Total: num(c.Total), Sent: num(c.Sent), Failed: num(c.Failed), Unknown: num(c.Unknown),
		Pending: num(left), Done: done + c.Skipped, Of: c.Total, Started: when(b.CreatedAt),
		Finished: b.Status == store.StatusDone}
	row.State, row.Tone = stateOf(b, c)
	row.Percent = "–"
	if c.Total > 0 {
		row.Percent = fmt.Sprintf("%.1f%%", 100*float64(row.Done)/float64(c.Total))
	}
	row.Rate, row.ETA = "–", "–"
	switch {
	case b.Status == store.StatusRunning && !b.Abandoned:
		row.pace = h.pace.add(b.Name, now, done)
		if row.pace > 0 {
			row.Rate = rate(row.pace)
			row.ETA = span(time.Duration(float64(left) / row.pace * float64(time.Second)))
		}
	case b.Status == store.StatusDone && b.DurationSeconds > 0 && done > 0:
		row.Rate = rate(float64(done) / b.DurationSeconds) // over the whole run
		row.ETA = "done"
	}
	return row
}

// stateOf is a batch's state in a word or two, and its tone.
func stateOf(b campaign.BatchInfo, c campaign.Counts) (string, string) {
	switch {
	case b.Status == store.StatusDone && c.Failed+c.Unknown > 0:
		return "done", "warn"
	case b.Status == store.StatusDone:
		return "done", "ok"
	case b.Abandoned:
		return "stopped (process gone)", "bad"
	case b.Status == store.StatusRunning:
		return "running", "busy"
	case b.Status == store.StatusPaused:
		return "paused", "warn"
	}
	return b.Status, "idle"
}

// listView is the batches page's data.
type listView struct {
	page
	Batches []batchRow
}

// page is what every signed-in page has.
type page struct {
	Title   string
	Account string
	KeyName string
	CSRF    string
}

func pageOf(r *http.Request, title string) page {
	s := sessionOf(r.Context())
	return page{Title: title, Account: s.account, KeyName: s.keyName, CSRF: s.csrf}
}

// accountBatches returns the rows of the session's account's batches,
// newest first.
func (h *Handler) accountBatches(r *http.Request) ([]batchRow, error) {
	all, err := h.svc.List(r.Context())
	if err != nil {
		return nil, err
	}
	account, now := sessionOf(r.Context()).account, h.now()
	rows := []batchRow{}
	for _, b := range all {
		if b.Account != account {
			continue
		}
		rows = append(rows, h.newBatchRow(b.BatchInfo, b.Counts, now))
	}
	return rows, nil
}

// handleBatches is the batches page.
func (h *Handler) handleBatches(w http.ResponseWriter, r *http.Request) {
	rows, err := h.accountBatches(r)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "batches.html", listView{page: pageOf(r, "Batches"), Batches: rows})
}

// handleBatchesLive is the batches page's live JSON.
func (h *Handler) handleBatchesLive(w http.ResponseWriter, r *http.Request) {
	rows, err := h.accountBatches(r)
	if err != nil {
		h.log.Error("web: list batches", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"batches": rows})
}

// findBatch returns the request's batch if it belongs to the session's
// account; another account's is not found, as one that does not exist.
func (h *Handler) findBatch(r *http.Request) (store.Batch, bool, error) {
	b, err := h.svc.Find(r.Context(), r.PathValue("name"))
	if campaign.ErrorCode(err) == campaign.NotFound {
		return b, false, nil
	}
	if err != nil {
		return b, false, err
	}
	return b, b.Account == sessionOf(r.Context()).account, nil
}

// chartPoints is how many points the pace chart has at most.
const chartPoints = 120

// batchView is a batch page's data.
type batchView struct {
	page
	Row    batchRow
	Report *campaign.Report
	Chart  chart
	Can    actions
	// Shape is the page's shape (see batchLive): the script draws the
	// page again when its live JSON says another.
	Shape   string
	Notice  string // what the last action did
	Problem string // why it could not
	// FailedNotShown is how many failed rows the table leaves out.
	FailedNotShown int64
}

// actions are the buttons a batch's state allows.
type actions struct{ Pause, Resume, Cancel, Retry, Export bool }

// batchLive is a batch page's live JSON.
type batchLive struct {
	batchRow
	Inflight string            `json:"inflight"`
	Skipped  string            `json:"skipped"`
	Receipts map[string]string `json:"receipts"`
	Failures map[string]string `json:"failures"` // count by "state:errcode"
	Chart    chart             `json:"chart"`
	// Shape changes when the page must be drawn again rather than
	// updated in place: the state, the buttons, a new failure group.
	Shape string `json:"shape"`
}

// batchData reads what a batch page shows.
func (h *Handler) batchData(r *http.Request, b store.Batch) (*campaign.Report, batchRow, chart, error) {
	rep, err := h.svc.Report(r.Context(), b.Name)
	if err != nil {
		return nil, batchRow{}, chart{}, err
	}
	tp, err := h.svc.Throughput(r.Context(), b, chartPoints)
	if err != nil {
		return nil, batchRow{}, chart{}, err
	}
	return rep, h.newBatchRow(rep.Batch, rep.Counts, h.now()), newChart(tp), nil
}

// can says which buttons a batch's report allows.
func can(rep *campaign.Report) actions {
	open := rep.Batch.Status != store.StatusDone
	return actions{
		Pause:  open && rep.Batch.Status != store.StatusPaused,
		Resume: rep.Resumable() || (open && rep.Batch.Status == store.StatusPaused),
		Cancel: open,
		Retry:  rep.Counts.Failed+rep.Counts.Unknown > 0,
		Export: rep.Counts.Failed+rep.Counts.Unknown > 0,
	}
}

// shape is what, changed, makes the page draw itself again.
func shape(row batchRow, a actions, rep *campaign.Report) string {
	s := fmt.Sprintf("%s|%v", row.State, a)
	for _, f := range rep.Failures {
		s += fmt.Sprintf("|%s:%d", f.State, f.Errcode)
	}
	return s
}

// handleBatch is a batch's page.
func (h *Handler) handleBatch(w http.ResponseWriter, r *http.Request) {
	h.showBatch(w, r, http.StatusOK, r.URL.Query().Get("done"), "")
}

// showBatch renders the request's batch page with status and a notice or
// problem from an action.
func (h *Handler) showBatch(w http.ResponseWriter, r *http.Request, status int, notice, problem string) {
	b, ok, err := h.findBatch(r)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	if !ok {
		h.fail(w, r, http.StatusNotFound, fmt.Sprintf("No batch %q in account %s.", r.PathValue("name"), sessionOf(r.Context()).account))
		return
	}
	rep, row, ch, err := h.batchData(r, b)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	h.render(w, r, status, "batch.html", batchView{page: pageOf(r, "Batch "+b.Name), Row: row, Report: rep, Chart: ch,
		Can: can(rep), Shape: shape(row, can(rep), rep), Notice: noticeOf(notice), Problem: problem, FailedNotShown: rep.FailedNotShown()})
}

// handleBatchLive is a batch page's live JSON.
func (h *Handler) handleBatchLive(w http.ResponseWriter, r *http.Request) {
	b, ok, err := h.findBatch(r)
	if err == nil && !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such batch"})
		return
	}
	var (
		rep *campaign.Report
		row batchRow
		ch  chart
	)
	if err == nil {
		rep, row, ch, err = h.batchData(r, b)
	}
	if err != nil {
		h.log.Error("web: batch", "batch", b.Name, "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
		return
	}
	live := batchLive{batchRow: row, Inflight: num(rep.Counts.Inflight), Skipped: num(rep.Counts.Skipped), Chart: ch,
		Receipts: map[string]string{"success": num(rep.Receipts.Success), "user_block": num(rep.Receipts.UserBlock),
			"system_failed": num(rep.Receipts.SystemFailed), "awaiting": num(rep.Receipts.Awaiting)},
		Failures: map[string]string{}, Shape: shape(row, can(rep), rep)}
	for _, f := range rep.Failures {
		live.Failures[fmt.Sprintf("%s:%d", f.State, f.Errcode)] = num(f.Count)
	}
	writeJSON(w, http.StatusOK, live)
}

// notices are what a batch page says after an action, by the done=
// parameter the action's redirect carries.
var notices = map[string]string{
	"pause":  "Pausing: sends in flight finish and are recorded; nothing more is sent until you resume.",
	"resume": "Resumed: the batch is handed to the account's runner.",
	"cancel": "Cancelled: the recipients not yet sent are skipped.",
	"retry":  "Requeued the failures; the batch is handed to the account's runner.",
}

func noticeOf(done string) string { return notices[done] }

// handleAction presses one of a batch's buttons: pause, resume, cancel or
// retry (the failed recipients; with unknown=1 also the unknown ones).
func (h *Handler) handleAction(w http.ResponseWriter, r *http.Request) {
	b, ok, err := h.findBatch(r)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	if !ok {
		h.fail(w, r, http.StatusNotFound, fmt.Sprintf("No batch %q in account %s.", r.PathValue("name"), sessionOf(r.Context()).account))
		return
	}
	ctx, action := r.Context(), r.PathValue("action")
	switch action {
	case "pause":
		err = h.svc.Pause(ctx, b.Name)
	case "resume":
		err = h.svc.Continue(ctx, b.Name)
	case "cancel":
		err = h.svc.Cancel(ctx, b.Name)
	case "retry":
		unknown := r.PostFormValue("unknown") == "1"
		_, err = h.svc.Retry(ctx, b.Name, campaign.Selection{Failed: true, Unknown: unknown})
	default:
		h.fail(w, r, http.StatusNotFound, fmt.Sprintf("There is no %q button.", action))
		return
	}
	switch code := campaign.ErrorCode(err); {
	case err == nil:
		h.log.Info("web: batch action", "batch", b.Name, "action", action, "account", b.Account)
		http.Redirect(w, r, "/batches/"+pathEscape(b.Name)+"?done="+action, http.StatusSeeOther)
	case code != campaign.Internal && code != "":
		// The lifecycle's refusal (done already, another process has it)
		// is for the person who pressed the button.
		h.showBatch(w, r, http.StatusConflict, "", err.Error())
	default:
		h.internal(w, r, err)
	}
}

// handleExport downloads a batch's failed and unknown recipients as a CSV
// that a new batch reads back (campaign.ExportFailed): UTF-8, as the
// CLI's export writes by default.
func (h *Handler) handleExport(w http.ResponseWriter, r *http.Request) {
	b, ok, err := h.findBatch(r)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	if !ok {
		h.fail(w, r, http.StatusNotFound, fmt.Sprintf("No batch %q in account %s.", r.PathValue("name"), sessionOf(r.Context()).account))
		return
	}
	// Written whole before it is sent: an error half way must not leave a
	// truncated file that looks complete.
	o := exportOptions
	o.BOM = r.URL.Query().Get("excel") == "1"
	var buf bytes.Buffer
	if _, err := h.svc.ExportFailed(r.Context(), b, &buf, exportFormat, o); err != nil {
		if code := campaign.ErrorCode(err); code != campaign.Internal && code != "" {
			h.fail(w, r, http.StatusUnprocessableEntity, err.Error())
			return
		}
		h.internal(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-failed.csv"`, fileSafe(b.Name)))
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Write(buf.Bytes())
}

// messageView is a message's page.
type messageView struct {
	page
	Msg campaign.Message
}

// handleFindMessage goes from the list page's "message id" box to the
// message's page.
func (h *Handler) handleFindMessage(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.URL.Query().Get("id"), 10, 64)
	if err != nil || id <= 0 {
		h.fail(w, r, http.StatusBadRequest, "A message id is a positive number, as POST /v1/messages answered.")
		return
	}
	http.Redirect(w, r, "/messages/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}

// handleMessage is a single message's trace (GET /v1/messages/{id}'s
// data): its states over time, attempts, errcode, msgid and receipt.
func (h *Handler) handleMessage(w http.ResponseWriter, r *http.Request) {
	account := sessionOf(r.Context()).account
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.fail(w, r, http.StatusNotFound, "No such message.")
		return
	}
	m, err := h.svc.Trace(r.Context(), account, id)
	switch code := campaign.ErrorCode(err); {
	case code == campaign.NotFound:
		h.fail(w, r, http.StatusNotFound, fmt.Sprintf("No message %d in account %s.", id, account))
		return
	case err != nil:
		h.internal(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "message.html", messageView{page: pageOf(r, fmt.Sprintf("Message %d", id)), Msg: m})
}

// render writes page name with data; a template that fails is an internal
// error, written before anything of the page is sent.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	if err := h.pages.ExecuteTemplate(&buf, name, data); err != nil {
		h.log.Error("web: render", "page", name, "err", err)
		http.Error(w, "internal error; the server's log has the details", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// errorView is the page of a refusal.
type errorView struct {
	page
	Status  int
	Message string
}

// fail answers a page that says msg with status.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	v := errorView{Status: status, Message: msg, page: page{Title: http.StatusText(status)}}
	if s := sessionOf(r.Context()); s != nil {
		v.page = pageOf(r, http.StatusText(status))
	}
	h.render(w, r, status, "error.html", v)
}

// internal logs err and answers 500 without its details.
func (h *Handler) internal(w http.ResponseWriter, r *http.Request, err error) {
	h.log.Error("web: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	h.fail(w, r, http.StatusInternalServerError, "Internal error; the server's log has the details.")
}

// writeJSON writes v as a JSON answer with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// rate is a pace as the page writes it.
func rate(perSecond float64) string {
	if perSecond < 10 {
		return fmt.Sprintf("%.1f/s", perSecond)
	}
	return fmt.Sprintf("%.0f/s", math.Round(perSecond))
}
