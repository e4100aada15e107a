package metrics

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/megasend/megasend/wechat"
)

// nopSender answers every send at once, every tenth with a 45011.
type nopSender struct{ n int }

var errRate = &wechat.APIError{Op: "message/template/send", Code: 45011, Class: wechat.ClassRate}

func (s *nopSender) SendTemplateBody(context.Context, []byte) (int64, error) {
	s.n++
	if s.n%10 == 0 {
		return 0, errRate
	}
	return 1, nil
}

func (s *nopSender) SendCustomBody(context.Context, []byte) error    { return nil }
func (s *nopSender) SendSubscribeBody(context.Context, []byte) error { return nil }

// BenchmarkSends is what the decorator adds to a send: the same sends,
// answered at once (a tenth of them 45011), through Sends and straight to
// the sender, in turn in one loop. A real send takes a round trip to
// WeChat, milliseconds.
func BenchmarkSends(b *testing.B) {
	m := New(context.Background(), &fakeLedger{}, nil)
	bare := &nopSender{}
	measured := m.Sends("main", &nopSender{})
	ctx, body := context.Background(), []byte(`{}`)
	var through, straight time.Duration
	for b.Loop() {
		start := time.Now()
		if _, err := measured.SendTemplateBody(ctx, body); err != nil && !errors.Is(err, errRate) {
			b.Fatal(err)
		}
		through += time.Since(start)
		start = time.Now()
		if _, err := bare.SendTemplateBody(ctx, body); err != nil && !errors.Is(err, errRate) {
			b.Fatal(err)
		}
		straight += time.Since(start)
	}
	b.ReportMetric(float64(through.Nanoseconds()-straight.Nanoseconds())/float64(b.N), "ns-added/send")
}
