package sender

import (
	"container/heap"
	"time"

	"github.com/megasend/megasend/store"
)

// Retries. A recipient whose send failed transiently does not keep a
// worker while it waits: the worker hands it back to the dispatcher with
// the time before which it must not be tried again, and takes the next one.
// Under a steady share of -1 answers, sleeping workers were most of what
// held a batch back; under a long burst, they were all of it.
//
// The transient budget is time, not a count of attempts: a recipient is
// retried, with backoff, for Config.RetryFor after its first transient
// error (and at least Config.MaxAttempts times). Then it is set aside and
// tried once more at the end of the run, when a burst has had every chance
// to pass, before it is recorded as failed. Refused connections keep the
// count: MaxAttempts of them for one recipient pause the batch, since
// nothing gets through to WeChat at all.

// maxBackoff caps the delay between two tries of one recipient: after a
// burst of errors ends, the recipients it hit are tried again within a few
// seconds, not minutes.
const maxBackoff = 4 * time.Second

// verdict is what a worker's attempt leaves to be done with its job.
type verdict int

const (
	verdictDone  verdict = iota // a final state is recorded
	verdictRetry                // try again from job.due on
	verdictLater                // the budget is spent: once more at the end of the run
	verdictHold                 // the run is stopping: hand it back as the ledger records it
)

// job is one recipient on its way through a run, with what its attempts in
// this run found out.
type job struct {
	r         store.Recipient
	attempt   int       // transient errors so far, refused connections included
	rateTries int       // 45011 answers so far
	unsure    bool      // an attempt may have been delivered
	first     time.Time // first attempt of the current send: the dedup window's start
	since     time.Time // first transient error in this run: the budget's start
	late      bool      // the end-of-run pass
	refused   bool      // the last attempt could not connect
	lastErr   error     // the last attempt's error
	due       time.Time // not to be tried before
	verdict   verdict
	claimed   bool // the frequency cap let it through (Capper.Claim)
	delivered bool // sent, or may have been (unknown)
}

// newJob starts a recipient read from the ledger. A row with a first
// attempt time was left inflight by a stopped run: it may have been
// delivered, so it is resent only inside the dedup window.
func newJob(r store.Recipient) *job {
	return &job{r: r, first: r.FirstAttemptAt, unsure: !r.FirstAttemptAt.IsZero()}
}

// backoff is the delay before try n+1 after n failures: Backoff doubled
// each time, up to maxBackoff.
func backoff(first time.Duration, n int) time.Duration {
	d := first << min(max(n-1, 0), 16)
	return min(d, max(maxBackoff, first))
}

// retryHeap orders the jobs waiting to be retried by their due time.
type retryHeap []*job

func (h retryHeap) Len() int           { return len(h) }
func (h retryHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h retryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *retryHeap) Push(x any)        { *h = append(*h, x.(*job)) }
func (h *retryHeap) Pop() any {
	old := *h
	j := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return j
}

func (h *retryHeap) push(j *job) { heap.Push(h, j) }
func (h *retryHeap) pop() *job   { return heap.Pop(h).(*job) }

// peek returns the job due first, or nil.
func (h retryHeap) peek() *job {
	if len(h) == 0 {
		return nil
	}
	return h[0]
}
