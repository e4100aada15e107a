package metrics

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/megasend/megasend/wechat"
)

// QuotaSource answers how much of the account's daily template/send quota
// is left: *wechat.Client does, with WeChat's quota/get.
type QuotaSource interface {
	TemplateSendQuota(ctx context.Context) (wechat.Quota, error)
}

// DefaultQuotaEvery is how often serve asks WeChat for the daily quota:
// quota/get has a daily limit of its own, which WeChat does not document;
// once a minute is 1,440 calls a day.
const DefaultQuotaEvery = time.Minute

// Quota polls an account's daily quota in the background (Run), for the
// quota_remaining gauge. A poll that fails is logged and changes nothing;
// an answer older than three polls is no longer shown.
type Quota struct {
	src   QuotaSource
	every time.Duration
	log   *slog.Logger

	mu      sync.Mutex
	last    wechat.Quota
	at      time.Time // of the last answer; zero: none yet
	failing bool      // the last poll failed: repeats are logged at debug
}

// NewQuota returns the poller of src's quota, every every (at least a
// second; DefaultQuotaEvery in serve). account names it in the log.
func NewQuota(src QuotaSource, every time.Duration, account string, log *slog.Logger) *Quota {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Quota{src: src, every: max(every, time.Second), log: log.With("account", account)}
}

// Run polls at once and then every interval until ctx is done.
func (q *Quota) Run(ctx context.Context) {
	t := time.NewTicker(q.every)
	defer t.Stop()
	for {
		q.poll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// poll asks once and keeps the answer.
func (q *Quota) poll(ctx context.Context) {
	asked, cancel := context.WithTimeout(ctx, q.every)
	v, err := q.src.TemplateSendQuota(asked)
	cancel()
	if err != nil && ctx.Err() != nil {
		return // stopping
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if err != nil {
		level := slog.LevelWarn
		if q.failing {
			level = slog.LevelDebug
		}
		q.failing = true
		q.log.Log(ctx, level, "cannot read the daily quota for the metrics; trying again", "every", q.every, "err", err)
		return
	}
	if q.failing {
		q.log.Info("daily quota read again")
	}
	q.last, q.at, q.failing = v, time.Now(), false
}

// Remaining returns the template sends left today as last answered, and
// false while no answer came or the last is older than three polls.
func (q *Quota) Remaining() (int64, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.at.IsZero() || time.Since(q.at) > 3*q.every {
		return 0, false
	}
	return q.last.Remain, true
}
