package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Runner is what the account's gauges read of the runner that sends its
// batches: *campaign.Runner implements it.
type Runner interface {
	// Pace returns the messages per second the account may send now; 0:
	// unlimited.
	Pace() float64
	// QuotaUntil returns when the account's spent daily quota resets;
	// zero when it is not spent.
	QuotaUntil() time.Time
}

// accountCollector reads one account's gauges at each scrape.
type accountCollector struct {
	runner                      Runner
	quota                       *Quota // nil: no daily remainder shown
	pace, spentUntil, remaining *prometheus.Desc
}

func newAccountCollector(account string, r Runner, q *Quota) *accountCollector {
	labels := prometheus.Labels{"account": account}
	return &accountCollector{
		runner: r, quota: q,
		pace: prometheus.NewDesc(namespace+"_pace_messages_per_second",
			"Messages per second the account's sending is allowed now: the configured rate, or less while WeChat asks to slow down; 0 means unlimited.",
			nil, labels),
		spentUntil: prometheus.NewDesc(namespace+"_quota_spent_until_seconds",
			"When the account's spent daily quota (45009) resets and sending resumes, as unix time; 0 while the quota is not spent.",
			nil, labels),
		remaining: prometheus.NewDesc(namespace+"_quota_remaining",
			"Template sends left in the account's daily quota, as WeChat's quota/get answered it at most a minute or so ago; absent while unknown.",
			nil, labels),
	}
}

// Describe implements prometheus.Collector.
func (c *accountCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.pace
	ch <- c.spentUntil
	ch <- c.remaining
}

// Collect implements prometheus.Collector.
func (c *accountCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.pace, prometheus.GaugeValue, c.runner.Pace())
	var until float64
	if t := c.runner.QuotaUntil(); !t.IsZero() {
		until = float64(t.Unix())
	}
	ch <- prometheus.MustNewConstMetric(c.spentUntil, prometheus.GaugeValue, until)
	if c.quota == nil {
		return
	}
	if q, ok := c.quota.Remaining(); ok {
		ch <- prometheus.MustNewConstMetric(c.remaining, prometheus.GaugeValue, float64(q))
	}
}
