package sender_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/megasend/megasend/sender"
	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/template"
	"github.com/megasend/megasend/wechat"
	"github.com/megasend/megasend/wechat/wechattest"
)

// The engine's real dependencies: the SQLite ledger, the WeChat client and
// the simulated WeChat API on loopback.
var (
	_ sender.Client  = (*wechat.Client)(nil)
	_ sender.Source  = (*store.DB)(nil)
	_ sender.Journal = (*store.Ledger)(nil)
)

const owner = "1@bench"

func loadTemplate(tb testing.TB) *template.Template {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "templates", "order_paid.json"))
	if err != nil {
		tb.Fatal(err)
	}
	t, err := template.ParseFile("order_paid.json", data)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// importBatch creates a batch of n recipients in a fresh database.
func importBatch(tb testing.TB, t *template.Template, n int) (*store.DB, store.Batch) {
	tb.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(tb.TempDir(), "megasend.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	b, err := db.CreateBatch(ctx, store.NewBatch{Name: "bench", TemplateRef: t.Key, TemplateBody: t.Body()}, owner)
	if err != nil {
		tb.Fatal(err)
	}
	im, err := db.NewImporter(ctx, b)
	if err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		vars := fmt.Sprintf(`{"name":"用户%d","product":"巧克力","amount":"39.80","paid_at":"2024年3月1日","order_no":"SO%d"}`, i, i)
		if err := im.Add(ctx, int64(i+2), fmt.Sprintf("o%027d", i), vars); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := im.Finish(ctx); err != nil {
		tb.Fatal(err)
	}
	return db, b
}

func newClient(tb testing.TB, srv *wechattest.Server, db *store.DB, conns int) *wechat.Client {
	tb.Helper()
	c, err := wechat.New(wechat.Config{AppID: wechattest.DefaultAppID, AppSecret: wechattest.DefaultAppSecret,
		BaseURL: srv.URL, MaxConns: conns, Cache: db})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// run sends the whole batch and returns the result and the ledger's counts.
func run(tb testing.TB, db *store.DB, b store.Batch, t *template.Template, c *wechat.Client, cfg sender.Config) (sender.Result, store.Counts) {
	tb.Helper()
	ctx := context.Background()
	ledger := db.OpenLedger(ctx, b.ID, owner)
	cfg.BatchID = b.ID
	res := sender.New(cfg, c, db, ledger, sender.TemplateRenderer{T: t}).Run(ctx)
	if err := ledger.Close(); err != nil {
		tb.Fatal(err)
	}
	counts, err := db.Counts(ctx, b.ID)
	if err != nil {
		tb.Fatal(err)
	}
	return res, counts
}

// The whole path: 2,000 recipients, a token revoked mid-run, every one
// delivered exactly once and recorded sent with WeChat's msgid.
func TestEngine_Integration(t *testing.T) {
	tmpl := loadTemplate(t)
	db, b := importBatch(t, tmpl, 2000)
	srv := wechattest.NewServer(wechattest.Options{Latency: time.Millisecond, LatencyMax: 3 * time.Millisecond})
	t.Cleanup(srv.Close)
	srv.RevokeAt(500)
	res, counts := run(t, db, b, tmpl, newClient(t, srv, db, 32), sender.Config{Concurrency: 32})
	if res.Stop != sender.StopNone || counts.Sent != 2000 || counts.Total() != 2000 {
		t.Fatalf("stop %v (%v), counts %+v; want 2000 sent", res.Stop, res.Err, counts)
	}
	seen := map[string]bool{}
	for _, d := range srv.Deliveries() {
		if seen[d.OpenID] {
			t.Fatalf("%s delivered twice", d.OpenID)
		}
		seen[d.OpenID] = true
	}
	if len(seen) != 2000 {
		t.Fatalf("%d delivered, want 2000", len(seen))
	}
	var msgid int64
	if err := db.SQL().QueryRow(`SELECT msgid FROM sends WHERE batch_id = ? AND line = 2`, b.ID).Scan(&msgid); err != nil {
		t.Fatal(err)
	}
	if msgid < 1<<53 {
		t.Errorf("msgid %d lost precision or was not recorded", msgid)
	}
}

// BenchmarkEngine_ZeroLatency measures megasend's own cost per message: the
// simulator answers at once, so what remains is rendering, the client, the
// durable inflight and outcome writes, and the simulator's own work.
func BenchmarkEngine_ZeroLatency(b *testing.B) {
	tmpl := loadTemplate(b)
	db, batch := importBatch(b, tmpl, b.N)
	srv := wechattest.NewServer(wechattest.Options{Quota: 1 << 30})
	b.Cleanup(srv.Close)
	c := newClient(b, srv, db, 64)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	res, counts := run(b, db, batch, tmpl, c, sender.Config{Concurrency: 64})
	b.StopTimer()
	if res.Stop != sender.StopNone || counts.Sent != int64(b.N) {
		b.Fatalf("stop %v, counts %+v", res.Stop, counts)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

// BenchmarkEngine_Latency100ms measures how well concurrency turns into
// throughput when WeChat takes 100 ms: the ideal is concurrency/latency.
func BenchmarkEngine_Latency100ms(b *testing.B) {
	const conc, n = 200, 4000
	tmpl := loadTemplate(b)
	for range b.N {
		b.StopTimer()
		db, batch := importBatch(b, tmpl, n)
		srv := wechattest.NewServer(wechattest.Options{Latency: 100 * time.Millisecond})
		c := newClient(b, srv, db, conc)
		b.StartTimer()
		start := time.Now()
		res, counts := run(b, db, batch, tmpl, c, sender.Config{Concurrency: conc})
		took := time.Since(start)
		srv.Close()
		if res.Stop != sender.StopNone || counts.Sent != n {
			b.Fatalf("stop %v, counts %+v", res.Stop, counts)
		}
		rate := n / took.Seconds()
		b.ReportMetric(rate, "msgs/s")
		b.ReportMetric(rate/(conc/0.1), "of-ideal")
	}
}
