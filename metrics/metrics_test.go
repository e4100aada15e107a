package metrics

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/wechat"
)

// What serve hands the metrics.
var (
	_ Ledger      = (*store.DB)(nil)
	_ Sender      = (*wechat.Client)(nil)
	_ QuotaSource = (*wechat.Client)(nil)
)

// fakeLedger answers a scrape with fixed tallies, or err.
type fakeLedger struct {
	states   []store.StateCount
	depths   map[string]int64
	receipts []store.ReceiptTotal
	err      error
}

func (l *fakeLedger) StateCounts(context.Context) ([]store.StateCount, error) { return l.states, l.err }
func (l *fakeLedger) QueueDepths(context.Context) (map[string]int64, error)   { return l.depths, l.err }
func (l *fakeLedger) ReceiptTotals(context.Context) ([]store.ReceiptTotal, error) {
	return l.receipts, l.err
}

// fakeRunner has a fixed pace and spent quota.
type fakeRunner struct {
	pace  float64
	until time.Time
}

func (r fakeRunner) Pace() float64         { return r.pace }
func (r fakeRunner) QuotaUntil() time.Time { return r.until }

// fakeQuota answers quota/get with q, or err.
type fakeQuota struct {
	mu    sync.Mutex
	q     wechat.Quota
	err   error
	calls int
}

func (f *fakeQuota) TemplateSendQuota(context.Context) (wechat.Quota, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return f.q, f.err
}

// scriptedSender answers each send with the next of its errors (nil: a
// msgid).
type scriptedSender struct {
	mu   sync.Mutex
	errs []error
}

func (s *scriptedSender) SendCustomBody(ctx context.Context, b []byte) error {
	_, err := s.SendTemplateBody(ctx, b)
	return err
}

func (s *scriptedSender) SendSubscribeBody(ctx context.Context, b []byte) error {
	_, err := s.SendTemplateBody(ctx, b)
	return err
}

func (s *scriptedSender) SendTemplateBody(context.Context, []byte) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.errs[0]
	s.errs = s.errs[1:]
	if err != nil {
		return 0, err
	}
	return 42, nil
}

// scrape GETs h's metrics and parses the text format.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("scrape: %d %s", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q, want the text format", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(w.Body)
	if err != nil {
		t.Fatalf("scrape: %v\n%s", err, w.Body)
	}
	return fams
}

// value is the value of family name's metric with exactly labels (name,
// value pairs), and false if there is none.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
	for _, m := range f.Metric {
		if len(m.Label) != len(labels)/2 {
			continue
		}
		match := true
		for i := 0; i < len(labels); i += 2 {
			found := false
			for _, l := range m.Label {
				if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
					found = true
				}
			}
			match = match && found
		}
		if !match {
			continue
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

// TestSends: every send is timed, every failure counted by errcode and
// class, under the account; a success counts no error.
func TestSends(t *testing.T) {
	m := New(context.Background(), &fakeLedger{}, nil)
	next := &scriptedSender{errs: []error{
		nil,
		&wechat.APIError{Op: "message/template/send", Code: 45011, Class: wechat.ClassRate},
		&wechat.RequestError{Op: "message/template/send", Err: errors.New("connection reset"), Sent: true},
		&wechat.APIError{Op: "message/template/send", Code: 43004, Class: wechat.ClassRecipient},
		&wechat.APIError{Op: "message/template/send", Code: 45011, Class: wechat.ClassRate},
		errors.New("token command failed"),
		nil,
	}}
	s := m.Sends("main", next)
	var ok int
	for range 7 {
		if id, err := s.SendTemplateBody(context.Background(), []byte(`{}`)); err == nil && id == 42 {
			ok++
		}
	}
	if ok != 2 {
		t.Fatalf("%d sends answered with their msgid through the decorator, want 2", ok)
	}
	want := `
# HELP megasend_send_errors_total Sends that failed, by account, WeChat's errcode (-1 also for a send that got no answer; 0 for an error not WeChat's) and its class (transient, token, rate, quota, recipient, fatal, none).
# TYPE megasend_send_errors_total counter
megasend_send_errors_total{account="main",class="none",errcode="0"} 1
megasend_send_errors_total{account="main",class="rate",errcode="45011"} 2
megasend_send_errors_total{account="main",class="recipient",errcode="43004"} 1
megasend_send_errors_total{account="main",class="transient",errcode="-1"} 1
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "megasend_send_errors_total"); err != nil {
		t.Error(err)
	}
	fams := scrape(t, m.Handler())
	if n, _ := value(fams, "megasend_send_duration_seconds", "account", "main"); n != 7 {
		t.Errorf("send_duration_seconds counts %v sends, want 7", n)
	}
	bounds := fams["megasend_send_duration_seconds"].Metric[0].Histogram.Bucket
	if lo, hi := bounds[0].GetUpperBound(), bounds[len(bounds)-2].GetUpperBound(); lo != 0.01 || hi != 30 {
		t.Errorf("buckets from %v s to %v s, want 0.01 to 30", lo, hi)
	}
}

// TestCollect: a scrape shows the ledger's tallies, the watched account's
// pace and quota, and an empty queue for a watched account the ledger has
// none of; the Go runtime's and the process's families beside them.
func TestCollect(t *testing.T) {
	ledger := &fakeLedger{
		states: []store.StateCount{
			{Account: "main", Source: store.SourceBatch, Kind: store.KindTemplate, State: store.StateSent, N: 1000},
			{Account: "main", Source: store.SourceBatch, Kind: store.KindTemplate, State: store.StatePending, N: 20},
			{Account: "old", Source: store.SourceBatch, Kind: store.KindTemplate, State: store.StateFailed, N: 3},
		},
		depths:   map[string]int64{"main": 20},
		receipts: []store.ReceiptTotal{{Account: "main", Status: store.ReceiptSuccess, N: 990}, {Account: "main", Status: store.ReceiptUserBlock, N: 7}},
	}
	m := New(context.Background(), ledger, nil)
	reset := time.Date(2026, 12, 6, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	q := NewQuota(&fakeQuota{q: wechat.Quota{DailyLimit: 100000, Used: 1007, Remain: 98993}}, time.Minute, "main", nil)
	q.poll(context.Background())
	if err := m.Watch("main", fakeRunner{pace: 250, until: reset}, q); err != nil {
		t.Fatal(err)
	}
	if err := m.Watch("idle", fakeRunner{}, nil); err != nil {
		t.Fatal(err)
	}
	if err := m.Watch("main", fakeRunner{}, nil); err == nil {
		t.Error("an account watched twice")
	}
	fams := scrape(t, m.Handler())
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"megasend_messages", []string{"account", "main", "source", "batch", "kind", "template", "state", "sent"}, 1000},
		{"megasend_messages", []string{"account", "main", "source", "batch", "kind", "template", "state", "pending"}, 20},
		{"megasend_messages", []string{"account", "old", "source", "batch", "kind", "template", "state", "failed"}, 3},
		{"megasend_queue_depth", []string{"account", "main"}, 20},
		{"megasend_queue_depth", []string{"account", "idle"}, 0},
		{"megasend_receipts_total", []string{"account", "main", "status", "success"}, 990},
		{"megasend_receipts_total", []string{"account", "main", "status", "user_block"}, 7},
		{"megasend_pace_messages_per_second", []string{"account", "main"}, 250},
		{"megasend_pace_messages_per_second", []string{"account", "idle"}, 0},
		{"megasend_quota_spent_until_seconds", []string{"account", "main"}, float64(reset.Unix())},
		{"megasend_quota_spent_until_seconds", []string{"account", "idle"}, 0},
		{"megasend_quota_remaining", []string{"account", "main"}, 98993},
	} {
		if got, ok := value(fams, c.name, c.labels...); !ok || got != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	if _, ok := value(fams, "megasend_quota_remaining", "account", "idle"); ok {
		t.Error("quota_remaining shown for an account that polls none")
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if fams[name] == nil {
			t.Errorf("no %s", name)
		}
	}
	if typ := fams["megasend_receipts_total"].GetType(); typ != dto.MetricType_COUNTER {
		t.Errorf("receipts_total is a %v", typ)
	}
}

// TestCollect_LedgerFails: a scrape that cannot read the ledger is a 500,
// which Prometheus records as the target down, and the cause is logged.
func TestCollect_LedgerFails(t *testing.T) {
	var log bytes.Buffer
	m := New(context.Background(), &fakeLedger{err: errors.New("database is locked")}, slog.New(slog.NewTextHandler(&log, nil)))
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != http.StatusInternalServerError {
		t.Errorf("status %d, want 500", w.Code)
	}
	if !strings.Contains(log.String(), "database is locked") {
		t.Errorf("log: %s", log.String())
	}
}

// TestQuota: the remainder is shown once WeChat answered, kept through a
// failed poll (logged once at warning level, not at every minute), and
// dropped once the last answer is older than three polls.
func TestQuota(t *testing.T) {
	var log bytes.Buffer
	src := &fakeQuota{err: &wechat.RequestError{Op: "openapi/quota/get", Err: errors.New("connection refused")}}
	q := NewQuota(src, time.Minute, "main", slog.New(slog.NewTextHandler(&log, nil)))
	ctx := context.Background()
	q.poll(ctx)
	if _, ok := q.Remaining(); ok {
		t.Error("a remainder before any answer")
	}
	src.mu.Lock()
	src.q, src.err = wechat.Quota{DailyLimit: 100, Used: 40, Remain: 60}, nil
	src.mu.Unlock()
	q.poll(ctx)
	if n, ok := q.Remaining(); !ok || n != 60 {
		t.Errorf("Remaining() = %d, %v, want 60", n, ok)
	}
	src.mu.Lock()
	src.err = &wechat.APIError{Op: "openapi/quota/get", Code: -1, Class: wechat.ClassTransient}
	src.mu.Unlock()
	q.poll(ctx)
	q.poll(ctx)
	if n, ok := q.Remaining(); !ok || n != 60 {
		t.Errorf("after a failed poll: Remaining() = %d, %v, want the last answer, 60", n, ok)
	}
	if w := strings.Count(log.String(), "level=WARN"); w != 2 {
		t.Errorf("%d warnings for two runs of failures, want 2:\n%s", w, log.String())
	}
	q.mu.Lock()
	q.at = time.Now().Add(-3*time.Minute - time.Second)
	q.mu.Unlock()
	if _, ok := q.Remaining(); ok {
		t.Error("a remainder more than three polls old is shown")
	}
}

// TestQuota_Run: Run asks at once, then every interval, and returns when
// its context is done.
func TestQuota_Run(t *testing.T) {
	src := &fakeQuota{q: wechat.Quota{Remain: 5}}
	q := NewQuota(src, time.Second, "main", nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { q.Run(ctx); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		src.mu.Lock()
		calls := src.calls
		src.mu.Unlock()
		if calls >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d polls in 10 s at one a second", calls)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if n, ok := q.Remaining(); !ok || n != 5 {
		t.Errorf("Remaining() = %d, %v", n, ok)
	}
}
