package campaign

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/megasend/megasend/sender"
	"github.com/megasend/megasend/wechat/wechattest"
)

// countingSender counts the sends that pass through it to next.
type countingSender struct {
	next sender.Client
	n    atomic.Int64
}

func (c *countingSender) SendTemplateBody(ctx context.Context, body []byte) (int64, error) {
	c.n.Add(1)
	return c.next.SendTemplateBody(ctx, body)
}

func (c *countingSender) SendCustomBody(ctx context.Context, body []byte) error {
	c.n.Add(1)
	return c.next.SendCustomBody(ctx, body)
}

func (c *countingSender) SendSubscribeBody(ctx context.Context, body []byte) error {
	c.n.Add(1)
	return c.next.SendSubscribeBody(ctx, body)
}

// TestRun_Send: with RunOptions.Send, every message goes through it (serve
// wraps the account's client so, to measure its sends); the preflight
// still asks Client.
func TestRun_Send(t *testing.T) {
	f := newFixture(t)
	srv := wechattest.NewServer(wechattest.Options{})
	t.Cleanup(srv.Close)
	c := f.client(srv)
	wrapped := &countingSender{next: c}
	r := f.svc.NewRunner("a", RunOptions{Client: c, Send: wrapped, Concurrency: 2})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := r.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	defer func() { cancel(); wg.Wait() }()
	f.submit("b", 7, time.Time{})
	r.Wake()
	f.await("b", "done", isDone)
	if n, d := wrapped.n.Load(), delivered(t, srv); n != 7 || d != 7 {
		t.Errorf("%d sends through RunOptions.Send, %d delivered; want 7 and 7", n, d)
	}
}
