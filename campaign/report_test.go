package campaign

import (
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/megasend/megasend/policy"
	"github.com/megasend/megasend/sender"
	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/wechat"
)

// sec is t0 plus n seconds.
func sec(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }

func TestService_Report(t *testing.T) {
	type want struct {
		status           string
		counts           Counts
		failures         []Failure // Class, Meaning and Advice checked; Errmsg too
		firstFailedLines []int64
		notShown         int64
		last             time.Time
		duration         time.Duration
		finished         bool
		abandoned        bool
		lockPID          string // "" for no lock
		resumable        bool
		newTemplate      bool
	}
	tests := []struct {
		name  string
		users int
		setup func(f *ledgerFixture, b store.Batch)
		want  want
	}{
		{
			// 22 failed and one unknown of 25: the report carries the
			// first 20 and says how many more there are.
			name: "Done", users: 25,
			setup: func(f *ledgerFixture, b store.Batch) {
				var outs []store.Outcome
				for line := int64(2); line <= 26; line++ {
					switch {
					case line <= 23:
						outs = append(outs, failed(line, store.StateFailed, 43004, "require subscribe rid: 1", sec(int(line))))
					case line == 24:
						outs = append(outs, failed(line, store.StateUnknown, -1, "no answer\nafter 3 tries", sec(int(line))))
					default:
						outs = append(outs, sent(line, sec(int(line))))
					}
				}
				f.send(b, outs...)
				f.now = sec(100)
				f.setStatus(b, store.StatusDone, "")
			},
			want: want{
				status: store.StatusDone, counts: Counts{Total: 25, Sent: 2, Failed: 22, Unknown: 1},
				failures: []Failure{
					{State: "failed", Errcode: 43004, Kind: "template", Class: "recipient", Count: 22, Meaning: "recipient does not follow the account",
						Advice: "drop the recipient or ask them to follow", Errmsg: "require subscribe rid: 1"},
					{State: "unknown", Errcode: -1, Kind: "template", Class: "transient", Count: 1, Meaning: "outcome unknown: no answer after 3 tries",
						Advice: "may have been delivered; resend only if a duplicate is acceptable: megasend retry 'done batch' --unknown",
						Errmsg: "no answer\nafter 3 tries"},
				},
				firstFailedLines: []int64{2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21},
				notShown:         3, last: sec(100), duration: 100 * time.Second, finished: true,
			},
		},
		{
			// WeChat refused the template_id: only a resume with another
			// template can finish the batch.
			name: "PausedTemplateRefused", users: 5,
			setup: func(f *ledgerFixture, b store.Batch) {
				f.send(b, sent(2, sec(2)), failed(3, store.StateFailed, 40037, "invalid template_id", sec(3)))
				f.now = sec(10)
				err := &wechat.APIError{Op: "message/template/send", Code: 40037, Msg: "invalid template_id rid: 2", Class: wechat.ClassFatal}
				f.setStatus(b, store.StatusPaused, pauseReason(sender.Result{Stop: sender.StopFatal, Err: err}, b.Name, noticeTemplate(t), policy.QuietHours{}))
			},
			want: want{
				status: store.StatusPaused, counts: Counts{Total: 5, Sent: 1, Failed: 1, Pending: 3},
				failures: []Failure{{State: "failed", Errcode: 40037, Kind: "template", Class: "fatal", Count: 1, Meaning: "invalid template_id",
					Advice: "the template_id is not one of this account's templates (see megasend template pull); fix it, then finish the batch with megasend campaign --resume NAME --template FIXED",
					Errmsg: "invalid template_id"}},
				firstFailedLines: []int64{3}, last: sec(10), duration: 10 * time.Second, resumable: true, newTemplate: true,
			},
		},
		{
			name: "PausedInterrupted", users: 5,
			setup: func(f *ledgerFixture, b store.Batch) {
				f.send(b, sent(2, sec(2)))
				f.now = sec(4)
				f.setStatus(b, store.StatusPaused, pauseReason(sender.Result{Stop: sender.StopInterrupted}, b.Name, noticeTemplate(t), policy.QuietHours{}))
			},
			want: want{
				status: store.StatusPaused, counts: Counts{Total: 5, Sent: 1, Pending: 4},
				last: sec(4), duration: 4 * time.Second, resumable: true,
			},
		},
		{
			// Killed before its first heartbeat: the batch's row says
			// running since t0; its ledger knows of sends until 7 s later,
			// one of them still in flight.
			name: "Abandoned", users: 6,
			setup: func(f *ledgerFixture, b store.Batch) {
				f.send(b, sent(2, sec(2)), sent(3, sec(3)), failed(4, store.StateFailed, 43004, "x", sec(4)),
					store.Outcome{Line: 5, State: store.StateInflight, At: sec(7)})
				f.holdBy(b, deadOwner)
			},
			want: want{
				status: store.StatusRunning, counts: Counts{Total: 6, Sent: 2, Failed: 1, Inflight: 1, Pending: 2},
				failures: []Failure{{State: "failed", Errcode: 43004, Kind: "template", Class: "recipient", Count: 1, Meaning: "recipient does not follow the account",
					Advice: "drop the recipient or ask them to follow", Errmsg: "x"}},
				firstFailedLines: []int64{4}, last: sec(7), duration: 7 * time.Second,
				abandoned: true, lockPID: "99999999", resumable: true,
			},
		},
		{
			// Held by a live process: not abandoned, and not for a resume.
			name: "RunningElsewhere", users: 3,
			setup: func(f *ledgerFixture, b store.Batch) {
				f.send(b, sent(2, sec(2)))
				f.now = sec(5)
				f.holdBy(b, liveOwner)
			},
			want: want{
				status: store.StatusRunning, counts: Counts{Total: 3, Sent: 1, Pending: 2},
				last: sec(5), duration: 5 * time.Second, lockPID: strings.Split(liveOwner, "@")[0],
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newLedgerFixture(t)
			name := map[bool]string{true: "done batch", false: "b"}[tt.name == "Done"]
			b := f.create(name, "users.csv", csvUsers(tt.users))
			tt.setup(f, b)

			r, err := f.svc.Report(t.Context(), name)
			if err != nil {
				t.Fatal(err)
			}
			w, got := tt.want, r.Batch
			if got.Name != name || got.Status != w.status || got.Template != "notice" || got.TemplateID != "TID-notice" ||
				got.Account != "default" || got.Total != int64(tt.users) || !got.CreatedAt.Equal(t0) {
				t.Errorf("batch %+v", got)
			}
			if r.Counts != w.counts {
				t.Errorf("counts %+v, want %+v", r.Counts, w.counts)
			}
			if !reflect.DeepEqual(r.Failures, append([]Failure{}, w.failures...)) {
				t.Errorf("failures %+v\nwant %+v", r.Failures, w.failures)
			}
			var lines []int64
			for _, row := range r.FailedRows {
				lines = append(lines, row.Line)
				if row.Errcode == nil || !slices.Contains(FailedStates(), row.State) {
					t.Errorf("failed row %+v", row)
				}
			}
			if !slices.Equal(lines, w.firstFailedLines) || r.FailedNotShown() != w.notShown {
				t.Errorf("failed rows %v, %d not shown; want %v, %d", lines, r.FailedNotShown(), w.firstFailedLines, w.notShown)
			}
			if !got.LastActivity.Equal(w.last) || got.Duration != w.duration || got.DurationSeconds != w.duration.Seconds() {
				t.Errorf("last activity %v, duration %v (%gs); want %v, %v", got.LastActivity, got.Duration, got.DurationSeconds, w.last, w.duration)
			}
			if (got.FinishedAt != nil) != w.finished || got.Abandoned != w.abandoned {
				t.Errorf("finished at %v, abandoned %v; want finished %v, abandoned %v", got.FinishedAt, got.Abandoned, w.finished, w.abandoned)
			}
			switch {
			case w.lockPID == "" && got.Lock != nil:
				t.Errorf("lock %+v, want none", got.Lock)
			case w.lockPID != "" && (got.Lock == nil || got.Lock.PID != w.lockPID || got.Lock.Host != testHost):
				t.Errorf("lock %+v, want pid %s on %s", got.Lock, w.lockPID, testHost)
			}
			if r.Resumable() != w.resumable || r.NeedsNewTemplate() != w.newTemplate {
				t.Errorf("resumable %v, needs a new template %v; want %v, %v", r.Resumable(), r.NeedsNewTemplate(), w.resumable, w.newTemplate)
			}
		})
	}
}

// The report's JSON is report --format json's document and the service's
// answer: its names and their order, msgid as a string, errcode null
// where it means nothing, and empty lists as [] rather than null.
func TestReport_JSON(t *testing.T) {
	f := newLedgerFixture(t)
	b := f.create("b", "users.csv", "openid,name,note\n"+openid(0)+",a,<b>&\n"+openid(1)+",c,\n")
	f.send(b, failed(2, store.StateFailed, 43004, "require subscribe", sec(2)), sent(3, sec(3)))
	r, err := f.svc.Report(t.Context(), "b")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(doc, &top); err != nil {
		t.Fatal(err)
	}
	if len(top) != 7 || !strings.HasPrefix(string(doc), `{"batch":{"name":"b","status":"ready","abandoned":false,"pause_reason":"","template":"notice","template_id":"TID-notice","kind":"template","fallback":"","source":`) {
		t.Errorf("document %s", doc)
	}
	for _, want := range []string{
		`"counts":{"total":2,"sent":1,"failed":1,"unknown":0,"pending":0,"inflight":0,"retried_late":0,"skipped":0}`,
		`"finished_at":null,"duration_seconds":3}`,
		`"skipped":0},"sent_by_kind":{"template":1},"receipts":{"success":0,"user_block":0,"system_failed":0,"awaiting":1},"skipped_reasons":{},"failures":`,
		`"failed_rows":[{"line":2,"openid":"` + openid(0) + `","state":"failed","attempts":1,"errcode":43004,"errmsg":"require subscribe","msgid":null,"kind":"template","vars":{"name":"a","note":"\u003cb\u003e\u0026"}}]}`,
	} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("document lacks %s:\n%s", want, doc)
		}
	}

	var rows []Row
	if err := f.svc.Rows(t.Context(), b, []string{store.StateSent}, func(r Row) error {
		rows = append(rows, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	line, _ := json.Marshal(rows)
	if want := `[{"line":3,"openid":"` + openid(1) + `","state":"sent","attempts":1,"errcode":null,"errmsg":"","msgid":"3557254367693782080","kind":"template","vars":{"name":"c","note":""}}]`; string(line) != want {
		t.Errorf("rows %s\nwant %s", line, want)
	}

	f.create("empty", "none.csv", "openid,name\n"+openid(5)+",x\n")
	r, err = f.svc.Report(t.Context(), "empty")
	if err != nil {
		t.Fatal(err)
	}
	if doc, _ := json.Marshal(r); !strings.HasSuffix(string(doc), `"failures":[],"failed_rows":[]}`) {
		t.Errorf("document of a batch without failures: %s", doc)
	}
}

// A ledger whose counts its rows do not bear out makes no report, and no
// list that would read that batch whole; the error says which batch.
func TestReport_DamagedLedger(t *testing.T) {
	f := newLedgerFixture(t)
	b := f.create("b", "users.csv", csvUsers(5))
	f.send(b, sent(2, sec(2)))
	f.damage(b)

	r, err := f.svc.Report(t.Context(), "b")
	if !errors.Is(err, store.ErrCorrupt) || r != nil || !strings.HasPrefix(err.Error(), "report b: audit batch: ") {
		t.Errorf("Report: %v, %v; want a corrupt ledger refused", r, err)
	}
	if _, err := f.svc.Audited(t.Context(), "b"); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("Audited: %v; want a corrupt ledger refused", err)
	}
	// The list reads whole only the batches whose process is gone.
	if _, err := f.svc.List(t.Context()); err != nil {
		t.Errorf("List of a batch not abandoned: %v", err)
	}
	f.holdBy(b, deadOwner)
	if _, err := f.svc.List(t.Context()); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("List: %v; want a corrupt ledger refused", err)
	}
}

func TestReport_NotFound(t *testing.T) {
	f := newLedgerFixture(t)
	if _, err := f.svc.Report(t.Context(), "nope"); ErrorCode(err) != NotFound || !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Report: %v (%s); want NotFound", err, ErrorCode(err))
	}
	if _, err := f.svc.Audited(t.Context(), "nope"); ErrorCode(err) != NotFound {
		t.Errorf("Audited: %v; want NotFound", err)
	}
}

func TestService_List(t *testing.T) {
	f := newLedgerFixture(t)
	if list, err := f.svc.List(t.Context()); err != nil || list == nil || len(list) != 0 {
		t.Fatalf("List of no batches: %#v, %v; want an empty list", list, err)
	}
	older := f.create("older", "a.csv", csvUsers(4))
	f.send(older, sent(2, sec(2)), failed(3, store.StateFailed, 43004, "x", sec(3)), sent(4, sec(4)), sent(5, sec(5)))
	f.now = sec(6)
	f.setStatus(older, store.StatusDone, "")
	f.now = sec(60)
	killed := f.create("killed", "b.csv", csvUsers(3))
	f.send(killed, sent(2, sec(61)), store.Outcome{Line: 3, State: store.StateInflight, At: sec(75)})
	f.holdBy(killed, deadOwner) // at sec(60): the row says nothing of the sends

	list, err := f.svc.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "killed" || list[1].Name != "older" {
		t.Fatalf("list %+v; want killed, then older", list)
	}
	k, o := list[0], list[1]
	if !k.Abandoned || k.Status != store.StatusRunning || !k.LastActivity.Equal(sec(75)) || k.Duration != 15*time.Second ||
		k.Counts != (Counts{Total: 3, Sent: 1, Inflight: 1, Pending: 1}) {
		t.Errorf("killed: %+v", k)
	}
	if o.Abandoned || !o.LastActivity.Equal(sec(6)) || o.FinishedAt == nil || o.Counts != (Counts{Total: 4, Sent: 3, Failed: 1}) {
		t.Errorf("older: %+v", o)
	}
	doc, _ := json.Marshal(list[1])
	if !strings.HasPrefix(string(doc), `{"name":"older","status":"done",`) ||
		!strings.HasSuffix(string(doc), `"duration_seconds":6,"counts":{"total":4,"sent":3,"failed":1,"unknown":0,"pending":0,"inflight":0,"retried_late":0,"skipped":0}}`) {
		t.Errorf("list item %s", doc)
	}
}

// Rows streams the recipients in line order, in the states asked for;
// VarColumns names their variables in the order they first appear.
func TestService_RowsAndVarColumns(t *testing.T) {
	f := newLedgerFixture(t)
	b := f.create("j", "users.jsonl", `{"openid":"`+openid(0)+`","name":"a","city":"x"}
{"openid":"`+openid(1)+`","name":"b"}
{"openid":"`+openid(2)+`","zone":"z","name":"c"}
`)
	f.send(b, failed(1, store.StateFailed, 43004, "x", sec(1)), sent(2, sec(2)), failed(3, store.StateUnknown, -1, "y", sec(3)))
	tests := []struct {
		name   string
		states []string
		lines  []int64
		cols   []string
	}{
		{"All", nil, []int64{1, 2, 3}, []string{"name", "city", "zone"}},
		{"Failed", FailedStates(), []int64{1, 3}, []string{"name", "city", "zone"}},
		{"Sent", []string{store.StateSent}, []int64{2}, []string{"name"}},
		{"None", []string{store.StatePending}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var lines []int64
			err := f.svc.Rows(t.Context(), b, tt.states, func(r Row) error {
				lines = append(lines, r.Line)
				return nil
			})
			if err != nil || !slices.Equal(lines, tt.lines) {
				t.Errorf("Rows: lines %v, %v; want %v", lines, err, tt.lines)
			}
			cols, err := f.svc.VarColumns(t.Context(), b, tt.states)
			if err != nil || !slices.Equal(cols, tt.cols) {
				t.Errorf("VarColumns: %q, %v; want %q", cols, err, tt.cols)
			}
		})
	}
	stop := errors.New("stop")
	if err := f.svc.Rows(t.Context(), b, nil, func(Row) error { return stop }); err != stop {
		t.Errorf("Rows returned %v; want the callback's error", err)
	}
	if err := f.svc.Rows(t.Context(), b, []string{"done"}, func(Row) error { return nil }); ErrorCode(err) != Invalid {
		t.Errorf("Rows in state done: %v; want Invalid", err)
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		name            string
		g               store.FailureGroup
		meaning, advice string
	}{
		{"Known", store.FailureGroup{State: "failed", Errcode: 43004, Errmsg: "require subscribe rid: x"},
			"recipient does not follow the account", "drop the recipient or ask them to follow"},
		{"BatchNamed", store.FailureGroup{State: "failed", Errcode: 43117},
			"sending to this openid too frequently", "retry later: megasend retry 'my batch' --errcode 43117"},
		{"UnknownCode", store.FailureGroup{State: "failed", Errcode: 99999, Errmsg: "something\nnew"}, "something new", ""},
		{"UnknownOutcome", store.FailureGroup{State: "unknown", Errcode: -1, Errmsg: "no answer"},
			"outcome unknown: no answer", "may have been delivered; resend only if a duplicate is acceptable: megasend retry 'my batch' --unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			meaning, advice := Describe(tt.g, "my batch")
			if meaning != tt.meaning || advice != tt.advice {
				t.Errorf("got %q, %q; want %q, %q", meaning, advice, tt.meaning, tt.advice)
			}
		})
	}
}

// benchRows is how many recipients the report benchmarks read.
const benchRows = 20_000

// benchBatch is a batch of benchRows recipients, a tenth of them failed.
func benchBatch(b *testing.B) (*ledgerFixture, store.Batch) {
	b.Helper()
	f := newLedgerFixture(b)
	sb := f.create("bench", "users.csv", csvUsers(benchRows))
	var outs []store.Outcome
	for line := int64(2); line < benchRows+2; line++ {
		if line%10 == 0 {
			outs = append(outs, failed(line, store.StateFailed, 43004, "require subscribe", sec(1)))
		} else {
			outs = append(outs, sent(line, sec(1)))
		}
	}
	f.send(sb, outs...)
	return f, sb
}

// BenchmarkRows measures what the lifecycle adds to reading the rows
// (Rows, whose Row the JSONL and CSV writers and the service take) against
// the ledger's own iteration (store.DB.Recipients), the baseline, in the
// same run. It reports ns per row; the two's ratio is the cost of Row.
func BenchmarkRows(b *testing.B) {
	f, sb := benchBatch(b)
	ctx := b.Context()
	b.Run("Store", func(b *testing.B) {
		for b.Loop() {
			if err := f.db.Recipients(ctx, sb.ID, nil, func(store.Recipient) error { return nil }); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchRows), "ns/row")
	})
	b.Run("Service", func(b *testing.B) {
		for b.Loop() {
			if err := f.svc.Rows(ctx, sb, nil, func(Row) error { return nil }); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchRows), "ns/row")
	})
	// What report --format jsonl does with each row, for scale.
	b.Run("ServiceJSONL", func(b *testing.B) {
		enc := json.NewEncoder(io.Discard)
		for b.Loop() {
			if err := f.svc.Rows(ctx, sb, nil, func(r Row) error { return enc.Encode(r) }); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchRows), "ns/row")
	})
}

// A delivery receipt recorded for a sent message's msgid moves it from
// awaiting to its status in the report; a receipt for a message of another
// account counts for nothing.
func TestReport_Receipts(t *testing.T) {
	f := newLedgerFixture(t)
	b := f.create("b", "users.csv", "openid,name,note\n"+openid(0)+",a,x\n"+openid(1)+",c,y\n"+openid(2)+",d,z\n")
	f.send(b, sent(2, sec(2)), sent(3, sec(3)), failed(4, store.StateFailed, 43004, "require subscribe", sec(4)))
	ctx := t.Context()
	for _, r := range []struct {
		account string
		msgid   int64
		status  string
	}{
		{"default", sent(2, t0).MsgID, store.ReceiptUserBlock},
		{"other", sent(3, t0).MsgID, store.ReceiptSuccess},
	} {
		if _, err := f.db.RecordReceipt(ctx, r.account, r.msgid, r.status, t0); err != nil {
			t.Fatal(err)
		}
	}
	r, err := f.svc.Report(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	if want := (Receipts{UserBlock: 1, Awaiting: 1}); r.Receipts != want {
		t.Errorf("receipts %+v, want %+v", r.Receipts, want)
	}
}

// A report walks a batch's recipients for its first failed rows only when
// the audit counted a failure: the answer to an upload of a million rows
// would otherwise read them all again (0.4 s). The walk reads the
// recipients_now view and nothing else of the report does, so without the
// view a report of a batch with no failure still succeeds, and one with a
// failure does not.
func TestReport_NoFailureNoWalk(t *testing.T) {
	f := newLedgerFixture(t)
	b := f.create("b", "users.csv", csvUsers(5))
	f.send(b, sent(2, sec(2)))
	if _, err := f.db.SQL().Exec(`DROP VIEW recipients_now`); err != nil {
		t.Fatal(err)
	}
	r, err := f.svc.Report(t.Context(), "b")
	if err != nil {
		t.Fatalf("Report with no failure: %v", err)
	}
	if r.Counts.Sent != 1 || r.Counts.Pending != 4 || len(r.FailedRows) != 0 {
		t.Errorf("Report: counts %+v, failed rows %v", r.Counts, r.FailedRows)
	}
	f.send(b, failed(3, store.StateFailed, 40003, "invalid openid", sec(3)))
	if _, err := f.svc.Report(t.Context(), "b"); err == nil || !strings.Contains(err.Error(), "recipients_now") {
		t.Errorf("Report with a failure and no recipients_now view: %v; want the walk to fail", err)
	}
}
