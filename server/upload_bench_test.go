package server

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

// BenchmarkUpload_PeakHeap shows that an upload is streamed: the peak heap
// while a batch of 200,000 recipients is received, spooled and imported is
// about that of 20,000 (ratio near 1; a server that buffered the body, or
// decoded a JSON array whole, would show about 10). Bodies are generated
// as they are read, so the benchmark holds none either.
//
//	go test ./server -run XXX -bench Upload_PeakHeap -benchtime 1x
func BenchmarkUpload_PeakHeap(b *testing.B) {
	for _, format := range []string{"json", "csv"} {
		b.Run(format, func(b *testing.B) {
			f := newFixture(b, fixtureOptions{maxBody: 1 << 30})
			var small, large float64
			for b.Loop() {
				small = peakHeap(b, f, format, 20_000)
				large = peakHeap(b, f, format, 200_000)
			}
			b.ReportMetric(small/(1<<20), "peak-MiB-20k")
			b.ReportMetric(large/(1<<20), "peak-MiB-200k")
			b.ReportMetric(large/small, "peak-ratio-10x-rows")
		})
	}
}

var benchBatch int

// peakHeap uploads a batch of n recipients in format and returns the
// highest heap (live objects) seen while it was handled.
func peakHeap(b *testing.B, f *fixture, format string, n int) float64 {
	b.Helper()
	benchBatch++
	name := fmt.Sprintf("bench-%d", benchBatch)
	pr, pw := io.Pipe()
	go func() {
		w := pw
		if format == "json" {
			fmt.Fprintf(w, `{"name":%q,"template":"order","recipients":[`, name)
		} else {
			io.WriteString(w, "openid,name\n")
		}
		for i := range n {
			switch {
			case format == "csv":
				fmt.Fprintf(w, "%s,name %d\n", benchOpenID(i), i)
			case i > 0:
				fmt.Fprintf(w, `,{"openid":%q,"name":"name %d"}`, benchOpenID(i), i)
			default:
				fmt.Fprintf(w, `{"openid":%q,"name":"name %d"}`, benchOpenID(i), i)
			}
		}
		if format == "json" {
			io.WriteString(w, "]}")
		}
		w.Close()
	}()
	path, ctype := "/v1/batches", "application/json"
	if format == "csv" {
		path, ctype = "/v1/batches?template=order&name="+name, "text/csv"
	}
	req := httptest.NewRequest("POST", path, pr)
	req.Header.Set("Authorization", "Bearer "+f.keyA)
	req.Header.Set("Content-Type", ctype)

	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var (
		peak uint64
		stop = make(chan struct{})
		wg   sync.WaitGroup
	)
	wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, req)
	close(stop)
	wg.Wait()
	if w.Code != http.StatusCreated {
		b.Fatalf("upload: %d %s", w.Code, w.Body)
	}
	return float64(peak)
}

// benchOpenID is the i-th distinct well-formed openid.
func benchOpenID(i int) string { return fmt.Sprintf("oBench%022d", i) }
