package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/megasend/megasend/store"
)

// scrapeTimeout bounds one scrape: the ledger's reads, and the answer.
const scrapeTimeout = 10 * time.Second

// Ledger is what a scrape reads of the ledger. *store.DB implements it;
// each method is one snapshot whose cost does not grow with the messages
// sent (store/tallies.go, BENCHMARKS.md).
type Ledger interface {
	// StateCounts returns the messages in each state by account, source
	// and kind.
	StateCounts(ctx context.Context) ([]store.StateCount, error)
	// QueueDepths returns, by account, the messages the service has yet
	// to send.
	QueueDepths(ctx context.Context) (map[string]int64, error)
	// ReceiptTotals returns the receipts recorded by account and status.
	ReceiptTotals(ctx context.Context) ([]store.ReceiptTotal, error)
}

var (
	messagesDesc = prometheus.NewDesc(namespace+"_messages",
		"Messages in the ledger, by account, source (batch), kind (template) and state (pending, inflight, sent, failed, unknown, skipped); read at each scrape.",
		[]string{"account", "source", "kind", "state"}, nil)
	queueDesc = prometheus.NewDesc(namespace+"_queue_depth",
		"Messages the service has yet to send for the account: pending or in flight in the batches it runs that no person holds, due now or later; read at each scrape.",
		[]string{"account"}, nil)
	receiptsDesc = prometheus.NewDesc(namespace+"_receipts_total",
		"Delivery receipts (TEMPLATESENDJOBFINISH) recorded, by account and status (success, user_block, system_failed); read at each scrape.",
		[]string{"account", "status"}, nil)
)

// ledgerCollector reads the ledger's tallies at each scrape.
type ledgerCollector struct {
	ctx      context.Context
	ledger   Ledger
	accounts func() []string // watched: their queue is shown even when empty
}

// Describe implements prometheus.Collector.
func (c *ledgerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- messagesDesc
	ch <- queueDesc
	ch <- receiptsDesc
}

// Collect implements prometheus.Collector. A family whose read fails is
// an invalid metric: the scrape fails (500) and the error is logged by
// the handler, rather than the family silently missing.
func (c *ledgerCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(c.ctx, scrapeTimeout)
	defer cancel()

	if counts, err := c.ledger.StateCounts(ctx); err != nil {
		ch <- prometheus.NewInvalidMetric(messagesDesc, err)
	} else {
		for _, s := range counts {
			ch <- prometheus.MustNewConstMetric(messagesDesc, prometheus.GaugeValue, float64(s.N),
				s.Account, s.Source, s.Kind, s.State)
		}
	}

	if depths, err := c.ledger.QueueDepths(ctx); err != nil {
		ch <- prometheus.NewInvalidMetric(queueDesc, err)
	} else {
		if depths == nil {
			depths = map[string]int64{}
		}
		for _, account := range c.accounts() {
			if _, ok := depths[account]; !ok {
				depths[account] = 0 // a queue empty is a value, not an absence
			}
		}
		for account, n := range depths {
			ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(n), account)
		}
	}

	if totals, err := c.ledger.ReceiptTotals(ctx); err != nil {
		ch <- prometheus.NewInvalidMetric(receiptsDesc, err)
	} else {
		for _, r := range totals {
			ch <- prometheus.MustNewConstMetric(receiptsDesc, prometheus.CounterValue, float64(r.N), r.Account, r.Status)
		}
	}
}
