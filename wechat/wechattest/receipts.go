package wechattest

// Delivery receipts. When Options.CallbackURL is set, every accepted
// template message (a deduplicated resend is not a new one: WeChat
// delivers once) gets a TEMPLATESENDJOBFINISH receipt posted to it a
// moment later, as WeChat posts them to an account's server: signed with
// the callback token, encrypted in safe mode, and tried up to three times
// in all when not answered 200 with "success" or an empty body.
//
// The send path only puts the receipt on a bounded queue, without
// waiting: a full queue drops the receipt and counts it, and never holds
// up a send. A few workers post from the queue; a receipt waiting to be
// retried waits on a timer, not in a worker, so one failing receiver
// does not stall the rest. Close stops the workers and counts what was
// still pending as dropped. Scheduling runs on real time, whatever
// Options.Now says; timestamps and CreateTime come from Options.Now.

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Receipt posting defaults and WeChat's constants.
const (
	defaultReceiptDelay = 200 * time.Millisecond
	defaultReceiptRetry = 3 * time.Second
	defaultReceiptQueue = 10000
	// receiptTries is WeChat's: three tries in all.
	receiptTries = 3
	// receiptTimeout is how long WeChat waits for an answer to a push.
	receiptTimeout = 5 * time.Second
	// receiptWorkers bounds the receipts in flight at once.
	receiptWorkers = 8
)

// receiptJob is one receipt to post.
type receiptJob struct {
	openID     string
	msgID      int64
	createTime int64
	status     string
	due        time.Time // real time; zero means at once
	tries      int
}

// receiptPoster posts receipts in the background. Its configuration is
// read-only after newReceiptPoster; its counters are atomic, so that
// neither the send path nor Stats waits for a post.
type receiptPoster struct {
	target     url.URL    // the callback URL without its query
	base       url.Values // the callback URL's own query, kept on every post
	token      string
	cipher     *callbackCipher // nil in plain mode
	originalID string
	client     *http.Client
	delay      time.Duration
	retry      time.Duration
	limit      int64
	now        func() time.Time

	ctx    context.Context
	cancel context.CancelFunc
	queue  chan receiptJob // capacity limit; never full while pending <= limit
	wg     sync.WaitGroup
	once   sync.Once

	pending                                   atomic.Int64 // queued, waiting to retry, or being posted
	queued, posted, answered, failed, dropped atomic.Int64
}

// newReceiptPoster starts the workers for opts, whose callback options
// Validate has accepted, or returns nil if no CallbackURL is set.
func newReceiptPoster(opts Options) *receiptPoster {
	if opts.CallbackURL == "" {
		return nil
	}
	u, _ := url.Parse(opts.CallbackURL) // Validate parsed it
	p := &receiptPoster{
		base:       u.Query(),
		token:      opts.CallbackToken,
		originalID: originalID(opts.AppID),
		client:     opts.CallbackClient,
		delay:      orDefault(opts.ReceiptDelay, defaultReceiptDelay),
		retry:      orDefault(opts.ReceiptRetryDelay, defaultReceiptRetry),
		limit:      int64(orDefault(opts.ReceiptQueue, defaultReceiptQueue)),
		now:        opts.Now,
	}
	u.RawQuery = ""
	p.target = *u
	if opts.CallbackAESKey != "" {
		p.cipher, _ = newCallbackCipher(opts.CallbackAESKey, opts.AppID) // Validate checked it
	}
	if p.client == nil {
		p.client = &http.Client{Timeout: receiptTimeout}
	}
	p.queue = make(chan receiptJob, p.limit)
	p.ctx, p.cancel = context.WithCancel(context.Background())
	for range receiptWorkers {
		p.wg.Add(1)
		go p.work()
	}
	return p
}

// enqueue schedules j's first try a delay from now. It never blocks: over
// the limit, or once closed, the receipt is dropped and counted.
func (p *receiptPoster) enqueue(j receiptJob) {
	if p.ctx.Err() != nil {
		p.dropped.Add(1)
		return
	}
	if p.pending.Add(1) > p.limit {
		p.pending.Add(-1)
		p.dropped.Add(1)
		return
	}
	p.queued.Add(1)
	j.due = time.Now().Add(p.delay)
	p.queue <- j // room is reserved: the queue holds at most pending jobs
}

// work posts queued receipts until the poster closes.
func (p *receiptPoster) work() {
	defer p.wg.Done()
	for {
		select {
		case <-p.ctx.Done():
			return
		case j := <-p.queue:
			if !p.sleepUntil(j.due) {
				return
			}
			p.try(j)
		}
	}
}

// sleepUntil waits for t, or returns false when the poster closes first.
func (p *receiptPoster) sleepUntil(t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return p.ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-p.ctx.Done():
		return false
	}
}

// try posts j once and settles it: answered, failed for good, or put back
// on the queue after the retry delay.
func (p *receiptPoster) try(j receiptJob) {
	j.tries++
	p.posted.Add(1)
	ok := p.post(j)
	switch {
	case ok:
		p.answered.Add(1)
		p.pending.Add(-1)
	case p.ctx.Err() != nil:
		// Closing: close counts it with the rest still pending.
	case j.tries >= receiptTries:
		p.failed.Add(1)
		p.pending.Add(-1)
	default:
		j.due = time.Time{}
		time.AfterFunc(p.retry, func() {
			if p.ctx.Err() == nil {
				p.queue <- j // room is reserved: j is still counted in pending
			}
		})
	}
}

// post sends one try of j and reports whether the receiver took it: HTTP
// 200 with "success" or an empty body, within WeChat's 5 seconds.
func (p *receiptPoster) post(j receiptJob) bool {
	xml := receiptXML(p.originalID, j.openID, j.createTime, j.msgID, j.status)
	nonce := strconv.FormatUint(uint64(rand.Uint32()), 10)
	q, body, err := receiptRequest(p.base, p.token, p.cipher, p.originalID, j.openID, xml, p.now().Unix(), nonce)
	if err != nil {
		return false
	}
	u := p.target
	u.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(p.ctx, receiptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "text/xml")
	resp, err := p.client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 512))
	if err != nil {
		return false
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // so the connection can be reused
	a := strings.TrimSpace(string(answer))
	return resp.StatusCode == http.StatusOK && (a == "" || a == "success")
}

// close stops the workers, waits for them, and counts every receipt not
// yet settled as dropped.
func (p *receiptPoster) close() {
	p.once.Do(func() {
		p.cancel()
		p.wg.Wait()
		p.dropped.Add(p.pending.Swap(0))
	})
}

// receiptStatus is the Status WeChat would report for a message to openID.
func (s *Sim) receiptStatus(openID string) string {
	switch {
	case s.blocked[openID]:
		return statusUserBlock
	case s.systemFailed[openID]:
		return statusSystemFailed
	}
	return statusSuccess
}

// OriginalID returns the account's original id (gh_…), the ToUserName of
// every receipt. The sandbox makes it up from the app id, so it is stable.
func (s *Sim) OriginalID() string { return originalID(s.opts.AppID) }
