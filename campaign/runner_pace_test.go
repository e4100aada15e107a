package campaign

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/megasend/megasend/sender"
	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/wechat/wechattest"
)

// TestRunner_Pace: the runner reports the configured rate, the slower
// pace the engine sets while WeChat answers 45011, and the configured rate
// again once the batch is sent; the caller's OnEvent still hears every
// event.
func TestRunner_Pace(t *testing.T) {
	f := newFixture(t)
	srv := wechattest.NewServer(wechattest.Options{})
	t.Cleanup(srv.Close)
	const rate = 200
	var (
		mu     sync.Mutex
		paces  []float64 // the slower paces the engine set
		agreed = true    // Pace said the same when each was set
	)
	var r *Runner
	r = f.svc.NewRunner("a", RunOptions{Client: f.client(srv), Concurrency: 2, Rate: rate,
		OnEvent: func(ev sender.Event) {
			if ev.Kind != sender.EventPace || ev.Limit == 0 {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			paces = append(paces, ev.Limit)
			agreed = agreed && r.Pace() == ev.Limit
		}})
	if got := r.Pace(); got != rate {
		t.Fatalf("Pace() before any run = %v, want %v", got, rate)
	}
	srv.FailNext(3, 45011)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := r.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	defer func() { cancel(); wg.Wait() }()
	f.submit("b", 20, time.Time{})
	r.Wake()
	f.await("b", "done", isDone)
	// The runner gives the limiter back its configured rate once the run
	// has returned, a moment after the batch reads done.
	f.await("b", "left by the runner", func(store.Batch, store.Counts) bool { return r.Running() == "" })

	mu.Lock()
	defer mu.Unlock()
	if len(paces) == 0 || paces[0] >= rate {
		t.Fatalf("the engine set the paces %v after three 45011s, want a slower one first", paces)
	}
	if !agreed {
		t.Errorf("Pace() differed from a pace the engine had just set (%v)", paces)
	}
	if got := r.Pace(); got != rate {
		t.Errorf("Pace() after the batch = %v, want the configured %v", got, rate)
	}
}
