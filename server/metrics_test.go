package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/megasend/megasend/apikey"
	"github.com/megasend/megasend/campaign"
	"github.com/megasend/megasend/metrics"
	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/wechat"
	"github.com/megasend/megasend/wechat/wechattest"
)

// TestMetrics_Loopback: /metrics answers loopback clients (127.0.0.0/8,
// ::1, IPv4 loopback mapped into IPv6) and refuses every other one with a
// JSON 403, and a request a proxy forwarded too; opened, it answers
// anyone; without metrics it is not found. No key is asked either way.
func TestMetrics_Loopback(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	stub := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("megasend_up 1\n")) })
	serve := func(public bool) *Server {
		s, err := New(Config{Service: f.svc, Keys: apikey.NewKeys(f.db), DB: f.db, Metrics: stub, MetricsPublic: public})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	private, public := serve(false), serve(true)
	for _, c := range []struct {
		name, remote, forwarded string
		srv                     *Server
		want                    int
	}{
		{"IPv4Loopback", "127.0.0.1:51000", "", private, 200},
		{"IPv4LoopbackNet", "127.8.9.10:51000", "", private, 200},
		{"IPv6Loopback", "[::1]:51000", "", private, 200},
		{"IPv4MappedLoopback", "[::ffff:127.0.0.1]:51000", "", private, 200},
		{"Remote", "192.0.2.7:51000", "", private, 403},
		{"RemoteIPv6", "[2001:db8::7]:51000", "", private, 403},
		{"Unspecified", "0.0.0.0:51000", "", private, 403},
		{"Malformed", "localhost", "", private, 403},
		{"ForwardedByLocalProxy", "127.0.0.1:51000", "X-Forwarded-For: 192.0.2.7", private, 403},
		{"ForwardedRFC7239", "127.0.0.1:51000", "Forwarded: for=192.0.2.7", private, 403},
		{"RemotePublic", "192.0.2.7:51000", "", public, 200},
		{"ForwardedPublic", "127.0.0.1:51000", "X-Forwarded-For: 192.0.2.7", public, 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/metrics", nil)
			req.RemoteAddr = c.remote
			if k, v, ok := strings.Cut(c.forwarded, ": "); ok {
				req.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			c.srv.ServeHTTP(w, req)
			want(t, w, c.want)
			if c.want == 200 && w.Body.String() != "megasend_up 1\n" {
				t.Errorf("body %q", w.Body)
			}
			if c.want == 403 {
				if e := apiError(t, w); e.Code != "forbidden" || !strings.Contains(e.Message, "--metrics-public") {
					t.Errorf("error %+v", e)
				}
			}
		})
	}
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.RemoteAddr = "127.0.0.1:51000"
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, req) // the fixture's server has no metrics
	want(t, w, http.StatusNotFound)
	apiError(t, w)
}

// TestMetrics_AfterBatch scrapes a server wired as serve wires it (the
// account's client wrapped by the metrics, its runner and quota watched)
// before and after a batch ran against the sandbox with faults injected,
// and parses the answer as Prometheus does: the sent and failed counts,
// the errors by errcode and class, and one observed send time per request
// the sandbox answered.
func TestMetrics_AfterBatch(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	c, err := wechat.New(wechat.Config{AppID: wechattest.DefaultAppID, AppSecret: wechattest.DefaultAppSecret,
		BaseURL: f.wx.URL, MaxConns: 4, Cache: f.db})
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New(context.Background(), f.db, nil)
	r := f.svc.NewRunner("a", campaign.RunOptions{Client: c, Send: m.Sends("a", c), Concurrency: 4, Rate: 500})
	quota := metrics.NewQuota(c, time.Second, "a", nil)
	if err := m.Watch("a", r, quota); err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Service: f.svc, Keys: apikey.NewKeys(f.db), DB: f.db, Metrics: m.Handler(),
		Accounts: map[string]Account{"a": {}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := r.Run(ctx); err != nil {
			t.Errorf("runner: %v", err)
		}
	})
	wg.Go(func() { quota.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()

	before := scrapeServer(t, srv)
	if n := sampleCount(before, "megasend_send_duration_seconds", "account", "a"); n != 0 {
		t.Errorf("%d sends timed before any batch", n)
	}
	if v, ok := gauge(before, "megasend_queue_depth", "account", "a"); !ok || v != 0 {
		t.Errorf("queue_depth before any batch: %v (found %v), want 0", v, ok)
	}

	// Two answers asking to slow down (retried, then sent) and three
	// recipients WeChat refuses (failed) among 25.
	f.wx.FailNext(2, 45011)
	f.wx.FailNext(3, 43004)
	f.srv = srv
	want(t, f.do("POST", "/v1/batches", f.keyA, "application/json", jsonBatch("m1", 25, "")), http.StatusCreated)
	r.Wake()
	f.await("m1", "done", func(d batchDoc) bool { return d.Batch.Status == store.StatusDone })
	// The pace goes back to the configured rate once the runner has left
	// the batch, a moment after it reads done.
	f.await("m1", "left by the runner", func(batchDoc) bool { return r.Running() == "" })

	after := scrapeServer(t, srv)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"megasend_messages", []string{"account", "a", "source", "batch", "kind", "template", "state", "sent"}, 22},
		{"megasend_messages", []string{"account", "a", "source", "batch", "kind", "template", "state", "failed"}, 3},
		{"megasend_send_errors_total", []string{"account", "a", "errcode", "45011", "class", "rate"}, 2},
		{"megasend_send_errors_total", []string{"account", "a", "errcode", "43004", "class", "recipient"}, 3},
		{"megasend_queue_depth", []string{"account", "a"}, 0},
		{"megasend_pace_messages_per_second", []string{"account", "a"}, 500},
		{"megasend_quota_spent_until_seconds", []string{"account", "a"}, 0},
	} {
		if got, ok := gauge(after, c.name, c.labels...); !ok || got != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	st := f.wx.Stats()
	if n := sampleCount(after, "megasend_send_duration_seconds", "account", "a"); n != 27 || n != st.Requests {
		t.Errorf("%d sends timed; the sandbox answered %d (rejected %v), want 27", n, st.Requests, st.Rejected)
	}

	// The daily quota, as the sandbox's quota/get says once the poller
	// has asked after the batch: 100,000 less the 22 accepted.
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, ok := gauge(scrapeServer(t, srv), "megasend_quota_remaining", "account", "a")
		if ok && v == 100000-22 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("quota_remaining %v (found %v), want %d", v, ok, 100000-22)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// scrapeServer GETs /metrics from s as a loopback client and parses it.
func scrapeServer(t *testing.T, s *Server) map[string]*dto.MetricFamily {
	t.Helper()
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.RemoteAddr = "127.0.0.1:51000"
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	want(t, w, http.StatusOK)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(w.Body)
	if err != nil {
		t.Fatalf("/metrics: %v\n%s", err, w.Body)
	}
	return fams
}

// metric is family name's metric with exactly labels (name, value pairs).
func metric(fams map[string]*dto.MetricFamily, name string, labels ...string) *dto.Metric {
	for _, m := range fams[name].GetMetric() {
		if len(m.GetLabel()) != len(labels)/2 {
			continue
		}
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		match := true
		for i := 0; i < len(labels); i += 2 {
			match = match && got[labels[i]] == labels[i+1]
		}
		if match {
			return m
		}
	}
	return nil
}

// gauge is the value of a gauge or counter, and false if there is none.
func gauge(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	m := metric(fams, name, labels...)
	switch {
	case m == nil:
		return 0, false
	case m.Gauge != nil:
		return m.Gauge.GetValue(), true
	case m.Counter != nil:
		return m.Counter.GetValue(), true
	}
	return 0, false
}

// sampleCount is a histogram's count of observations, -1 if it is absent.
func sampleCount(fams map[string]*dto.MetricFamily, name string, labels ...string) int64 {
	m := metric(fams, name, labels...)
	if m == nil || m.Histogram == nil {
		return -1
	}
	return int64(m.Histogram.GetSampleCount())
}
