// Package metrics is what `megasend serve` shows Prometheus at /metrics,
// in its text format: the names, help texts and labels of megasend's
// metric families, the collectors that read them, and the decorator that
// measures the account's sends. Each serve has its own registry (New), no
// package-level state: two servers in one process (as in tests) count
// apart.
//
// The families, all prefixed megasend_ (labels in braces):
//
//	messages{account,source,kind,state}          gauge: messages in the ledger by state, read at each scrape
//	queue_depth{account}                          gauge: messages the service has yet to send, read at each scrape
//	receipts_total{account,status}                counter: delivery receipts recorded, read at each scrape
//	send_errors_total{account,errcode,class}      counter: sends that failed, by WeChat's errcode and its class
//	send_duration_seconds{account}                histogram: how long each send took, answered or not
//	pace_messages_per_second{account}             gauge: the rate the account's sending is allowed now; 0: unlimited
//	quota_spent_until_seconds{account}            gauge: when the spent daily quota resets (unix time); 0: not spent
//	quota_remaining{account}                      gauge: template sends left today, as WeChat's quota/get says
//
// with the Go runtime's go_* and the process's process_* beside them.
// Labels: account is the configuration's name for it; source is where a
// message came from (batch); kind is its kind (template); state is a
// recipient state (pending, inflight, sent, failed, unknown, skipped);
// status is a receipt's (success, user_block, system_failed); errcode is
// WeChat's (-1 also for a send that got no answer, 0 for an error that is
// not WeChat's); class is the errcode's class (PRODUCT.md's table).
package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// namespace prefixes every family of megasend's own.
const namespace = "megasend"

// Metrics is one serve's registry and what feeds it. Its methods are safe
// for concurrent use.
type Metrics struct {
	reg   *prometheus.Registry
	sends sendMetrics
	log   *slog.Logger

	mu      sync.Mutex
	watched []string // the accounts this process sends for, by Watch
}

// New returns the metrics of a serve over ledger, which is read at each
// scrape, within ctx (a Collector is given none of its own) and at most
// scrapeTimeout. log receives the errors of scrapes; nil discards.
func New(ctx context.Context, ledger Ledger, log *slog.Logger) *Metrics {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{reg: prometheus.NewRegistry(), sends: newSendMetrics(), log: log}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.sends.errors, m.sends.seconds,
		&ledgerCollector{ctx: ctx, ledger: ledger, accounts: m.accounts},
	)
	return m
}

// Registry is the registry behind Handler, for tests and for whatever
// else a caller wants to export with megasend's metrics.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in Prometheus' exposition formats (text, by
// default). A scrape that cannot read the ledger is answered 500, so that
// Prometheus marks the target down, and logged.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      errorLog{m.log},
		ErrorHandling: promhttp.HTTPErrorOnError,
		Timeout:       scrapeTimeout,
	})
}

// Watch adds the gauges of account's sending: its runner's pace and
// spent quota, and quota's daily remainder (nil: none). It fails if the
// account is watched already.
func (m *Metrics) Watch(account string, r Runner, quota *Quota) error {
	if err := m.reg.Register(newAccountCollector(account, r, quota)); err != nil {
		return fmt.Errorf("metrics of account %s: %w", account, err)
	}
	m.mu.Lock()
	m.watched = append(m.watched, account)
	m.mu.Unlock()
	return nil
}

// accounts returns the accounts watched.
func (m *Metrics) accounts() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.watched...)
}

// errorLog hands promhttp's errors to the log.
type errorLog struct{ log *slog.Logger }

func (l errorLog) Println(v ...any) { l.log.Error("metrics scrape", "err", fmt.Sprint(v...)) }
