package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestServe_Metrics scrapes the real binary's /metrics as Prometheus (or
// curl) would, after a batch ran against a sandbox process with faults
// injected: every family is there and parses, the counts are the batch's;
// a request a proxy forwarded is refused until metrics_public = true.
func TestServe_Metrics(t *testing.T) {
	bin := megasendBinary(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "m.db")
	sandbox := startSandbox(t, bin)
	cfg := filepath.Join(dir, "megasend.toml")
	const account = "[accounts.main]\nrate = 200\nconcurrency = 4\n"
	if err := os.WriteFile(cfg, []byte(account), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(campaignEnv(sandbox, db), "MEGASEND_CONFIG="+cfg)
	key := serveKey(t, bin, env, "prom")
	port := freePort(t)
	sp := startServe(t, bin, env, port, key)

	// Two recipients WeChat refuses (43004) among the twenty.
	resp, err := http.Post(sandbox.url+"/sandbox/fail?code=43004&n=2", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	users, err := os.ReadFile("testdata/users.csv")
	if err != nil {
		t.Fatal(err)
	}
	sp.mustCall(t, 201, "POST", "/v1/batches?name=m&template=order_paid", "text/csv", string(users))
	sp.await(t, "m", "done", isServedDone)

	fams, status := scrapeURL(t, sp.base+"/metrics", "")
	if status != 200 {
		t.Fatalf("GET /metrics from loopback: %d\n%s", status, sp.logText())
	}
	for _, name := range []string{"megasend_messages", "megasend_queue_depth", "megasend_send_errors_total",
		"megasend_send_duration_seconds", "megasend_pace_messages_per_second", "megasend_quota_spent_until_seconds",
		"megasend_quota_remaining", "go_goroutines", "process_resident_memory_bytes"} {
		if fams[name] == nil {
			t.Errorf("no family %s", name)
		}
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"megasend_messages", map[string]string{"account": "main", "source": "batch", "kind": "template", "state": "sent"}, 18},
		{"megasend_messages", map[string]string{"account": "main", "source": "batch", "kind": "template", "state": "failed"}, 2},
		{"megasend_send_errors_total", map[string]string{"account": "main", "errcode": "43004", "class": "recipient"}, 2},
		{"megasend_send_duration_seconds", map[string]string{"account": "main"}, 20},
		{"megasend_queue_depth", map[string]string{"account": "main"}, 0},
		{"megasend_pace_messages_per_second", map[string]string{"account": "main"}, 200},
	} {
		if got, ok := familyValue(fams[c.name], c.labels); !ok || got != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}

	// Through a proxy on the same host: not a loopback client.
	if _, status := scrapeURL(t, sp.base+"/metrics", "203.0.113.9"); status != 403 {
		t.Errorf("GET /metrics forwarded by a proxy: %d, want 403", status)
	}
	if err := sp.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("serve on SIGTERM: %v", err)
	}
	if err := os.WriteFile(cfg, []byte("metrics_public = true\n"+account), 0o600); err != nil {
		t.Fatal(err)
	}
	sp = startServe(t, bin, env, port, key)
	if _, status := scrapeURL(t, sp.base+"/metrics", "203.0.113.9"); status != 200 {
		t.Errorf("GET /metrics forwarded, with metrics_public = true: %d, want 200", status)
	}
	if err := sp.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("serve on SIGTERM: %v", err)
	}
}

// scrapeURL GETs url, as forwarded for forwardedFor if it is not "", and
// parses a 200's body as Prometheus does; it returns the status.
func scrapeURL(t *testing.T, url, forwardedFor string) (map[string]*dto.MetricFamily, int) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		var e struct{ Error struct{ Code string } }
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Error.Code == "" {
			t.Errorf("%s: %d without a JSON error (%v)", url, resp.StatusCode, err)
		}
		return nil, resp.StatusCode
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	return fams, resp.StatusCode
}

// familyValue is the value of f's metric with exactly labels: a gauge's or
// counter's value, a histogram's count.
func familyValue(f *dto.MetricFamily, labels map[string]string) (float64, bool) {
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		match := true
		for _, l := range m.GetLabel() {
			match = match && labels[l.GetName()] == l.GetValue()
		}
		switch {
		case !match:
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}
