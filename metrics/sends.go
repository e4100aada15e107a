package metrics

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/megasend/megasend/wechat"
)

// Sender sends one rendered message of each kind: sender.Client, which
// *wechat.Client implements.
type Sender interface {
	SendTemplateBody(ctx context.Context, body []byte) (msgid int64, err error)
	SendCustomBody(ctx context.Context, body []byte) error
	SendSubscribeBody(ctx context.Context, body []byte) error
}

// sendBuckets are the bounds of send_duration_seconds: WeChat answers in
// tens of milliseconds when well, a send waits for a token fetch or a
// slow answer for seconds, and a request times out after 15 s (the
// default timeout) or 30 s.
var sendBuckets = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30}

// sendMetrics are the families Sends feeds.
type sendMetrics struct {
	errors  *prometheus.CounterVec
	seconds *prometheus.HistogramVec
}

func newSendMetrics() sendMetrics {
	return sendMetrics{
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "send_errors_total",
			Help: "Sends that failed, by account, WeChat's errcode (-1 also for a send that got no answer; 0 for an error not WeChat's) and its class (transient, token, rate, quota, recipient, fatal, none).",
		}, []string{"account", "errcode", "class"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "send_duration_seconds",
			Help:    "How long each send took, answered or not, by account: its count is the number of sends tried.",
			Buckets: sendBuckets,
		}, []string{"account"}),
	}
}

// Sends returns next measured: each send's time goes into
// send_duration_seconds and each failure into send_errors_total, under
// account. Wrap the account's one client with it, so that every send of
// the account is counted, whatever asked for it.
func (m *Metrics) Sends(account string, next Sender) Sender {
	return &measuredSender{next: next, account: account, errors: m.sends.errors,
		seconds: m.sends.seconds.WithLabelValues(account)}
}

// measuredSender is the Sender Sends returns.
type measuredSender struct {
	next    Sender
	account string
	errors  *prometheus.CounterVec
	seconds prometheus.Observer
}

// SendTemplateBody sends through next and measures the send.
func (s *measuredSender) SendTemplateBody(ctx context.Context, body []byte) (int64, error) {
	start := time.Now()
	msgid, err := s.next.SendTemplateBody(ctx, body)
	s.measure(start, err)
	return msgid, err
}

// SendCustomBody sends through next and measures the send.
func (s *measuredSender) SendCustomBody(ctx context.Context, body []byte) error {
	start := time.Now()
	err := s.next.SendCustomBody(ctx, body)
	s.measure(start, err)
	return err
}

// SendSubscribeBody sends through next and measures the send.
func (s *measuredSender) SendSubscribeBody(ctx context.Context, body []byte) error {
	start := time.Now()
	err := s.next.SendSubscribeBody(ctx, body)
	s.measure(start, err)
	return err
}

// measure records a send that began at start and ended with err. The
// error's class is its endpoint's (wechat.ClassOf reads the op).
func (s *measuredSender) measure(start time.Time, err error) {
	s.seconds.Observe(time.Since(start).Seconds())
	if err != nil {
		s.errors.WithLabelValues(s.account, strconv.Itoa(wechat.Errcode(err)), wechat.ClassOf(err).String()).Inc()
	}
}
