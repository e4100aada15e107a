package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/megasend/megasend/campaign"
	"github.com/megasend/megasend/wechat"
	"github.com/megasend/megasend/wechat/wechattest"
)

// BenchmarkPriority measures how soon a single message pushed with POST
// /v1/messages reaches WeChat while a large batch holds the account's
// rate: a 200,000-recipient batch runs at rate 500 against the simulator
// answering in 50 ms, and a message is pushed once a second. It reports the
// p50 and p99 of the time from each 202 to the simulator accepting the
// message, and the batch's rate meanwhile (issue 17's target: p99 ≤ 1 s).
// One iteration is the whole scenario, about 30 s after the upload.
//
//	go test -run '^$' -bench BenchmarkPriority -benchtime 1x ./server/
func BenchmarkPriority(b *testing.B) {
	const (
		recipients = 200_000
		rate       = 500
		samples    = 30
	)
	for range b.N {
		seen := &arrivals{want: "oPrio", at: map[string]time.Time{}}
		f := newFixture(b, fixtureOptions{wx: wechattest.Options{Latency: 50 * time.Millisecond, Deliveries: seen}})
		c, err := wechat.New(wechat.Config{AppID: wechattest.DefaultAppID, AppSecret: wechattest.DefaultAppSecret,
			BaseURL: f.wx.URL, MaxConns: 64, Cache: f.db})
		if err != nil {
			b.Fatal(err)
		}
		r := f.svc.NewRunner("a", campaign.RunOptions{Client: c, Concurrency: 32, Rate: rate})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()

		w := f.do("POST", "/v1/batches?name=big&template=order", f.keyA, "text/csv", usersCSV(recipients))
		want(b, w, http.StatusCreated)
		f.awaitSent("big", 2*rate) // running at its pace
		sentBefore, start := f.sentOf("big"), time.Now()

		var lat []time.Duration
		tick := time.NewTicker(time.Second)
		for i := range samples {
			<-tick.C
			id := fmt.Sprintf("oPrio%023d", i)
			w := f.do("POST", "/v1/messages", f.keyA, mediaJSON, messageBody(id, "p", ""))
			want(b, w, http.StatusAccepted)
			accepted := time.Now()
			at := seen.await(b, id)
			lat = append(lat, at.Sub(accepted))
		}
		tick.Stop()
		batchRate := float64(f.sentOf("big")-sentBefore) / time.Since(start).Seconds()
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
		b.ReportMetric(float64(lat[(len(lat)*99+99)/100-1].Milliseconds()), "p99-ms")
		b.ReportMetric(batchRate, "batch-msg/s")
		b.ReportMetric(0, "ns/op")
	}
}

// awaitSent waits until batch name has sent n.
func (f *fixture) awaitSent(name string, n int64) {
	f.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for f.sentOf(name) < n {
		if time.Now().After(deadline) {
			f.t.Fatalf("batch %s never sent %d", name, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sentOf is how many batch name has sent.
func (f *fixture) sentOf(name string) int64 {
	f.t.Helper()
	b, err := f.svc.Find(context.Background(), name)
	if err != nil {
		f.t.Fatal(err)
	}
	c, err := f.svc.Counts(context.Background(), b)
	if err != nil {
		f.t.Fatal(err)
	}
	return c.Sent
}

// arrivals is the simulator's deliveries writer: it notes when each
// message to an openid starting with want was accepted.
type arrivals struct {
	want string
	mu   sync.Mutex
	at   map[string]time.Time
}

func (a *arrivals) Write(p []byte) (int, error) {
	if !bytes.Contains(p, []byte(a.want)) {
		return len(p), nil
	}
	var d wechattest.Delivery
	if err := json.Unmarshal(p, &d); err == nil && strings.HasPrefix(d.OpenID, a.want) {
		a.mu.Lock()
		a.at[d.OpenID] = d.Time
		a.mu.Unlock()
	}
	return len(p), nil
}

// await returns when the message to openid was accepted.
func (a *arrivals) await(tb testing.TB, openid string) time.Time {
	deadline := time.Now().Add(time.Minute)
	for {
		a.mu.Lock()
		at, ok := a.at[openid]
		a.mu.Unlock()
		if ok {
			return at
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s never delivered", openid)
		}
		time.Sleep(time.Millisecond)
	}
}
