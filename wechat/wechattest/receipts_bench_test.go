package wechattest

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkServeSend_Receipts measures what receipts cost the send path:
// the template/send handler of a simulator posting receipts against one
// that does not, interleaved send by send in the same run (alternating
// which goes first), so that the machine's noise falls on both. Every
// send is accepted (no dedup, no quota), so every one queues a receipt;
// the receipts are due in an hour, so the posting itself (other
// goroutines, other cores) stays out of the measurement, which is the
// point: a send only queues. "ratio" is with ÷ without.
func BenchmarkServeSend_Receipts(b *testing.B) {
	common := Options{Seed: 1, DedupWindow: -1, Quota: math.MaxInt32}
	without := New(common)
	with := common
	with.CallbackURL, with.CallbackToken = "http://127.0.0.1:9/wechat/callback", "benchToken42"
	with.ReceiptDelay, with.ReceiptQueue = time.Hour, 1<<18
	withSim := New(with)
	defer withSim.Close()

	body := renderedBody(b)
	sims := [2]*Sim{without, withSim}
	reqs := [2]*http.Request{}
	for i, s := range sims {
		reqs[i] = httptest.NewRequest(http.MethodPost, "/cgi-bin/message/template/send?access_token="+benchToken(b, s), nil)
	}
	w := &benchWriter{h: make(http.Header)}
	serve := func(i int) time.Duration {
		reqs[i].Body = io.NopCloser(bytes.NewReader(body))
		clear(w.h)
		w.buf.Reset()
		start := time.Now()
		sims[i].ServeHTTP(w, reqs[i])
		return time.Since(start)
	}
	var spent [2]time.Duration
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		first := n % 2
		spent[first] += serve(first)
		spent[1-first] += serve(1 - first)
		n++
	}
	var got struct {
		Errcode int `json:"errcode"`
	}
	if err := json.Unmarshal(w.buf.Bytes(), &got); err != nil || got.Errcode != 0 {
		b.Fatalf("last answer %s (%v), want errcode 0", w.buf.Bytes(), err)
	}
	st := withSim.Stats()
	if st.ReceiptsQueued+st.ReceiptsDropped != int64(n) {
		b.Fatalf("%d sends, %d receipts queued and %d dropped", n, st.ReceiptsQueued, st.ReceiptsDropped)
	}
	b.ReportMetric(float64(spent[0].Nanoseconds())/float64(n), "ns/send-without")
	b.ReportMetric(float64(spent[1].Nanoseconds())/float64(n), "ns/send-with")
	b.ReportMetric(float64(spent[1])/float64(spent[0]), "ratio")
}
